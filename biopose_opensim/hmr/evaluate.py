"""MQ-HMR accuracy on a dataset split: MPJPE and PA-MPJPE (mm, root-relative 3D joints) and 2D error (px).

* MPJPE: mean Euclidean distance of the predicted and true joints, both relative to the pelvis (root), mm.
* PA-MPJPE: the same after a similarity Procrustes alignment (rotation, translation, scale) of each prediction
  onto its truth.
* 2D error: mean distance of the projected joints to the true 2D keypoints in crop pixels (confidence > 0 only).

The joints are the body model's (Anny: the 22 body joints of SMPL-H's 52 are scored; fingers are left out as HMR
benchmarks do).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import torch

from .body import AnnyLayer, SmplLayer
from .config import MQHMRConfig
from .model import MQHMR, HMROutput, body_outputs

#: Joints scored: the 22 body joints (indices into the 52 SMPL-H / first 22 of SMPL's 24).
BODY_JOINTS = tuple(range(22))


def procrustes_align(pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """``pred (B, J, 3)`` aligned to ``true`` by the best similarity transform (Umeyama), ``(B, J, 3)``."""
    mp, mt = pred.mean(1, keepdim=True), true.mean(1, keepdim=True)
    p, t = pred - mp, true - mt
    U, S, Vh = torch.linalg.svd(p.transpose(1, 2) @ t)
    d = torch.sign(torch.linalg.det(U @ Vh))
    D = torch.diag_embed(torch.stack([torch.ones_like(d), torch.ones_like(d), d], -1))
    R = U @ D @ Vh  # p @ R ~ t
    scale = (S * torch.diagonal(D, dim1=-2, dim2=-1)).sum(-1) / (p ** 2).sum((1, 2)).clamp_min(1e-12)
    return scale[:, None, None] * p @ R + mt


def joint_errors(out: HMROutput, keypoints_3d: torch.Tensor, keypoints_2d: torch.Tensor, crop: int,
                 joints=BODY_JOINTS) -> dict[str, torch.Tensor]:
    """Per-sample ``mpjpe_mm``, ``pa_mpjpe_mm`` and ``err2d_px`` ``(B,)``; targets as in :class:`~.losses.HMRTarget`."""
    idx = list(joints)
    p, t = out.joints[:, idx].double(), keypoints_3d[:, idx, :3].double()
    mpjpe = (p - t).norm(dim=-1).mean(-1) * 1000.0
    pa = (procrustes_align(p, t) - t).norm(dim=-1).mean(-1) * 1000.0
    c = keypoints_2d[:, idx, 2].double()
    d2 = (out.keypoints_2d[:, idx].double() - keypoints_2d[:, idx, :2].double()).norm(dim=-1) * crop
    err2d = (c * d2).sum(-1) / c.sum(-1).clamp_min(1e-9)
    return {"mpjpe_mm": mpjpe, "pa_mpjpe_mm": pa, "err2d_px": err2d}


@dataclass(frozen=True)
class HMRMetrics:
    """Mean errors over a split and the number of images."""

    n_images: int
    mpjpe_mm: float
    pa_mpjpe_mm: float
    err2d_px: float
    seconds_per_image: float

    def to_dict(self) -> dict:
        return asdict(self)


def batch_target(batch: dict, device) -> tuple[torch.Tensor, torch.Tensor]:
    """``(keypoints_2d, keypoints_3d)`` of a loader batch on ``device``."""
    return batch["keypoints_2d"].to(device), batch["keypoints_3d"].to(device)


@torch.no_grad()
def evaluate_loader(net: MQHMR, body: AnnyLayer | SmplLayer, config: MQHMRConfig, loader, device) -> HMRMetrics:
    """Mean MPJPE, PA-MPJPE and 2D error of ``net`` over ``loader``'s batches (no refinement)."""
    net.eval()
    sums = {"mpjpe_mm": 0.0, "pa_mpjpe_mm": 0.0, "err2d_px": 0.0}
    n, seconds = 0, 0.0
    for batch in loader:
        t0 = time.perf_counter()
        out = body_outputs(net(batch["image"].to(device)), body, config)
        seconds += time.perf_counter() - t0
        k2, k3 = batch_target(batch, device)
        errs = joint_errors(out, k3, k2, config.crop)
        for k in sums:
            sums[k] += float(errs[k].sum())
        n += len(errs["mpjpe_mm"])
    if n == 0:
        return HMRMetrics(0, float("nan"), float("nan"), float("nan"), float("nan"))
    return HMRMetrics(n, sums["mpjpe_mm"] / n, sums["pa_mpjpe_mm"] / n, sums["err2d_px"] / n, seconds / n)


def summary_table(rows: dict[str, HMRMetrics]) -> str:
    """Markdown table of named metric rows."""
    lines = ["| | images | MPJPE (mm) | PA-MPJPE (mm) | 2D error (px) |", "|---|---|---|---|---|"]
    for name, m in rows.items():
        lines.append(f"| {name} | {m.n_images} | {m.mpjpe_mm:.1f} | {m.pa_mpjpe_mm:.1f} | {m.err2d_px:.2f} |")
    return "\n".join(lines)
