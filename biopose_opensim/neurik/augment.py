"""Training augmentation of windows of ground-frame markers and their labels (pure batched maths).

Rotation about the vertical and horizontal translation move markers and the labelled root together (the root
coordinates are recomputed from the moved root, so the FK layer reproduces the moved labels exactly); subject
scaling scales the markers about the point on the floor under the root, the bone scales and the root
translation together (again exact under the FK layer's scaling semantics). Noise and dropout (occlusion) change
the input markers only. See :class:`~.config.AugmentConfig`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .config import AugmentConfig
from .frames import RootJoint, rot_y


@dataclass
class Window:
    """A batch of windows.

    Attributes:
        markers: (B, T, M, 3) metres, ground frame (values where ``present`` is False are ignored).
        present: (B, T, M) bool.
        q: (B, T, C) labels, radians / metres; q_mask: (B, T, C) bool.
        s: (B, T, NB, 3) scale-factor labels.
    """

    markers: torch.Tensor
    present: torch.Tensor
    q: torch.Tensor
    q_mask: torch.Tensor
    s: torch.Tensor


def augment(w: Window, cfg: AugmentConfig, root: RootJoint, root_idx: torch.Tensor,
            generator: torch.Generator | None = None) -> Window:
    """A randomly augmented copy of ``w`` (one draw per window)."""
    B, T, M, _ = w.markers.shape
    dev, dt = w.markers.device, w.markers.dtype

    def rand(*shape):  # drawn on the CPU so that a seed gives the same draws on every device
        return torch.rand(*shape, generator=generator, dtype=dt).to(dev)

    def randn(*shape):
        return torch.randn(*shape, generator=generator, dtype=dt).to(dev)

    markers = torch.where(w.present[..., None], w.markers, torch.zeros_like(w.markers))
    q, s = w.q.clone(), w.s.clone()
    rot, trans = root.matrix(q)  # (B, T, 3, 3), (B, T, 3)
    # subject scaling about the floor point under the window's mean root
    if cfg.scaling > 0:
        k = 1.0 + cfg.scaling * (2 * rand(B) - 1)
        pres = w.present[..., root_idx].to(dt)
        centre = (markers[..., root_idx, :] * pres[..., None]).sum((1, 2)) / pres.sum((1, 2)).clamp_min(1)[..., None]
        centre = centre * torch.tensor([1.0, 0.0, 1.0], device=dev, dtype=dt)
        kk = k[:, None, None, None]
        markers = centre[:, None, None] + kk * (markers - centre[:, None, None])
        trans = centre[:, None] + k[:, None, None] * (trans - centre[:, None])
        s = s * k[:, None, None, None]
    if cfg.rotation:
        r = rot_y(2 * torch.pi * rand(B))[:, None]  # (B, 1, 3, 3)
        markers = torch.einsum("btij,btmj->btmi", r.expand(B, T, 3, 3), markers)
        rot = r @ rot
        trans = torch.einsum("btij,btj->bti", r.expand(B, T, 3, 3), trans)
    if cfg.translation_m > 0:
        d = cfg.translation_m * (2 * rand(B, 3) - 1) * torch.tensor([1.0, 0.0, 1.0], device=dev, dtype=dt)
        markers = markers + d[:, None, None]
        trans = trans + d[:, None]
    angles, tq = root.coordinates(rot, trans)
    q[..., list(root.rot_index)] = angles
    q[..., list(root.trans_index)] = tq
    if cfg.noise_mm > 0:
        sigma = cfg.noise_mm / 1000.0 * rand(B)
        markers = markers + sigma[:, None, None, None] * randn(B, T, M, 3)
    present = w.present.clone()
    if cfg.dropout > 0 and cfg.dropout_fraction > 0:
        occluded = rand(B) < cfg.dropout
        drop = (rand(B, M) < cfg.dropout_fraction) & occluded[:, None]  # which markers
        start = (rand(B) * T).long()
        length = 1 + (rand(B) * T).long()
        t = torch.arange(T, device=dev)
        in_run = (t[None] >= start[:, None]) & (t[None] < (start + length)[:, None])  # (B, T)
        present = present & ~(in_run[:, :, None] & drop[:, None, :])
    return Window(markers=markers, present=present, q=q, q_mask=w.q_mask, s=s)
