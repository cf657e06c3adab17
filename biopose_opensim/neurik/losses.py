"""NeurIK training losses: ``L = lj*Lj + lm*Lm + ls*Ls + lq*Lq`` (pure maths over FK outputs).

- ``Lj``: mean Euclidean distance (m) between the joint centres of the predicted and the labelled pose, both
  through the FK layer with their own scales.
- ``Lm``: the same for the model's markers; a marker counts only where it was present in the input frame.
- ``Ls``: mean absolute scale-factor error.
- ``Lq``: mean absolute coordinate error, wrapping-aware for rotations (``atan2(sin d, cos d)``), in radians and
  metres, over the unlocked coordinates.

Frames whose labels are not trusted (any ``q_mask`` False for the frame) are left out of ``Lj`` and ``Lm``;
``Lq`` leaves out each untrusted coordinate alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .config import LossConfig


@dataclass
class LossTerms:
    """Loss terms (scalars): ``total`` and its parts ``joints``, ``markers``, ``scales``, ``coords``."""

    total: torch.Tensor
    joints: torch.Tensor
    markers: torch.Tensor
    scales: torch.Tensor
    coords: torch.Tensor

    def items(self) -> dict[str, float]:
        return {k: float(getattr(self, k).detach()) for k in ("total", "joints", "markers", "scales", "coords")}


def wrapped_difference(a: torch.Tensor, b: torch.Tensor, rotational: torch.Tensor) -> torch.Tensor:
    """``a - b`` (..., C), wrapped into (-pi, pi] where ``rotational`` (C,) is True."""
    d = a - b
    return torch.where(rotational, torch.atan2(torch.sin(d), torch.cos(d)), d)


def _masked_mean(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    w = w.to(x.dtype)
    return (x * w).sum() / w.sum().clamp_min(1.0)


def neurik_loss(cfg: LossConfig, fk, q_pred: torch.Tensor, s_pred: torch.Tensor, q_true: torch.Tensor,
                s_true: torch.Tensor, q_mask: torch.Tensor, marker_present: torch.Tensor,
                marker_index: torch.Tensor) -> LossTerms:
    """Losses over ``N`` output frames (any leading shape).

    Args:
        fk: the :class:`~biopose_opensim.kinematics.OsimFK` layer of the model.
        q_pred, q_true: (..., C) radians / metres; s_pred, s_true: (..., NB, 3).
        q_mask: (..., C) bool, label trusted; marker_present: (..., M) bool, marker present in the input frame.
        marker_index: (M,) the input markers among the FK layer's markers.
    """
    frame_ok = q_mask.all(-1)
    if cfg.joints or cfg.markers:
        pred = fk(q_pred, s_pred)
        with torch.no_grad():
            true = fk(q_true, s_true)
        joints = _masked_mean((pred.joint_centers - true.joint_centers).norm(dim=-1).mean(-1), frame_ok)
        mk_w = marker_present & frame_ok[..., None]
        d = (pred.markers[..., marker_index, :] - true.markers[..., marker_index, :]).norm(dim=-1)
        markers = _masked_mean(d, mk_w)
    else:  # no FK term (the MLP baseline): skip the FK layer
        joints = markers = q_pred.new_zeros(())
    scales = (s_pred - s_true).abs().mean()
    free = ~fk.locked
    dq = wrapped_difference(q_pred, q_true, fk.rotational).abs()
    coords = _masked_mean(dq, q_mask & free)
    total = cfg.joints * joints + cfg.markers * markers + cfg.scales * scales + cfg.coords * coords
    return LossTerms(total=total, joints=joints, markers=markers, scales=scales, coords=coords)
