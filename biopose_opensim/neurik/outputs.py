"""From raw network outputs to OpenSim coordinates and bone scales, inside the model's bounds.

- Free (unlocked, non-root) coordinates: ``q = lo + (hi - lo) * sigmoid(raw)``, strictly inside the
  coordinate's range ``[lo, hi]`` from the ``.osim``.
- Locked coordinates: their locked (default) value.
- Root coordinates: the predicted canonical root rotation and translation restored into ground
  (:func:`.frames.restore_root`) and read as the root joint's coordinates (:class:`.frames.RootJoint`); with
  ``clamp_root`` (inference) each is clamped into its range where the model declares it ``clamped`` (as OpenSim's
  IK would), so every output coordinate lies inside its range.
- Scales: ``s = mean + amplitude * tanh(raw)`` per body and axis, ``mean`` / ``amplitude`` from the training
  labels (stored in the checkpoint).
"""
from __future__ import annotations

import torch
from torch import nn

from .frames import RootJoint, restore_root, rotation_6d_to_matrix
from .model import RawOutput


class OutputMap(nn.Module):
    """Bounds and placement of the outputs; all constants are (persistent) buffers saved with the network."""

    def __init__(self, fk, root: RootJoint, scale_mean: torch.Tensor, scale_amplitude: torch.Tensor):
        super().__init__()
        self.root = root
        C = fk.n_coordinates
        locked = fk.locked.clone().cpu()
        is_root = torch.zeros(C, dtype=torch.bool)
        is_root[list(root.index)] = True
        free = ~locked & ~is_root
        clamped = torch.tensor([c.clamped for c in fk.tree.independent_coordinates], dtype=torch.bool)
        self.register_buffer("ranges", fk.coordinate_ranges.detach().cpu().float().clone())
        self.register_buffer("defaults", fk.default_values.detach().cpu().float().clone())
        self.register_buffer("free_index", torch.nonzero(free).flatten())
        self.register_buffer("clamped", clamped)
        self.register_buffer("scale_mean", scale_mean.detach().cpu().float().clone())
        self.register_buffer("scale_amplitude", scale_amplitude.detach().cpu().float().clone())

    @property
    def n_free(self) -> int:
        return int(self.free_index.numel())

    def forward(self, raw: RawOutput, origin: torch.Tensor, heading: torch.Tensor,
                clamp_root: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw outputs of ``K`` frames with those frames' canonical origin (B, K, 3) and heading (B, K) ->
        ``q`` (B, K, C) (radians / metres, the layer's coordinate order) and ``s`` (B, K, n_bodies, 3)."""
        dtype = raw.coords.dtype
        lead = raw.coords.shape[:-1]
        q = self.defaults.to(dtype).expand(*lead, -1).clone()
        lo, hi = self.ranges[self.free_index, 0].to(dtype), self.ranges[self.free_index, 1].to(dtype)
        # the min/max only absorbs rounding when the sigmoid saturates in float32
        q[..., self.free_index] = torch.minimum(torch.maximum(lo + (hi - lo) * torch.sigmoid(raw.coords), lo), hi)
        rot_c = rotation_6d_to_matrix(raw.root_rot6d)
        rot, trans = restore_root(rot_c, raw.root_trans, origin.to(dtype), heading.to(dtype))
        angles, tq = self.root.coordinates(rot, trans)
        idx = list(self.root.rot_index) + list(self.root.trans_index)
        root_q = torch.cat([angles, tq], dim=-1)
        if clamp_root:
            r_lo, r_hi = self.ranges[idx, 0].to(dtype), self.ranges[idx, 1].to(dtype)
            cl = self.clamped[idx]
            root_q = torch.where(cl, torch.maximum(torch.minimum(root_q, r_hi), r_lo), root_q)
        q[..., idx] = root_q
        mean, amp = self.scale_mean.to(dtype), self.scale_amplitude.to(dtype)
        s = torch.minimum(torch.maximum(mean + amp * torch.tanh(raw.scales), mean - amp), mean + amp)
        return q, s
