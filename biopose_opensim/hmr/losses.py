"""MQ-HMR training loss ``L_body + L_3D + L_2D`` (weights in :class:`~.config.LossConfig`).

* ``L_body = w_pose * sum ||R - R_gt||^2 + w_shape * sum (beta - beta_gt)^2`` over samples that have body
  parameters (rotation matrices in the camera frame; Anny phenotypes or SMPL betas);
* ``L_3D = w_3d * sum c |J - J_gt|`` over root-relative joints, metres (``c`` the keypoint confidence);
* ``L_2D = w_2d * sum c |j - j_gt|`` over 2D joints in normalised crop coordinates ([-0.5, 0.5]).

Each sum runs over a sample's elements and is averaged over the batch (HMR 2.0's reduction).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .config import LossConfig
from .model import HMROutput


@dataclass(frozen=True, eq=False)
class HMRTarget:
    """Training targets of a batch.

    Attributes:
        keypoints_2d: ``(B, J, 3)`` normalised crop x, y and confidence (joints of the body model).
        keypoints_3d: ``(B, J, 4)`` root-relative camera-frame metres and confidence.
        rotations: ``(B, P, 3, 3)`` body rotations (camera frame), or None.
        shape: ``(B, S)`` shape parameters, or None.
        has_params: ``(B,)`` bool, whether the sample's body parameters are known.
    """

    keypoints_2d: torch.Tensor
    keypoints_3d: torch.Tensor
    rotations: torch.Tensor | None = None
    shape: torch.Tensor | None = None
    has_params: torch.Tensor | None = None


@dataclass(frozen=True, eq=False)
class LossTerms:
    """The weighted loss and its unweighted parts (per-sample sums averaged over the batch)."""

    total: torch.Tensor
    pose: torch.Tensor
    shape: torch.Tensor
    kp3d: torch.Tensor
    kp2d: torch.Tensor

    def items(self) -> dict[str, float]:
        return {k: float(getattr(self, k).detach()) for k in ("total", "pose", "shape", "kp3d", "kp2d")}


def hmr_loss(out: HMROutput, target: HMRTarget, weights: LossConfig) -> LossTerms:
    """The loss of predictions ``out`` against ``target``."""
    B = out.joints.shape[0]
    c3 = target.keypoints_3d[..., 3:]
    kp3d = (c3 * (out.joints - target.keypoints_3d[..., :3]).abs()).sum() / B
    c2 = target.keypoints_2d[..., 2:]
    kp2d = (c2 * (out.keypoints_2d - target.keypoints_2d[..., :2]).abs()).sum() / B
    zero = out.joints.new_zeros(())
    pose = shape = zero
    if target.rotations is not None and target.shape is not None:
        has = (target.has_params if target.has_params is not None
               else torch.ones(B, dtype=torch.bool, device=out.joints.device)).to(out.joints.dtype)
        pose = (has[:, None, None, None] * (out.params.rotations - target.rotations) ** 2).sum() / B
        shape = (has[:, None] * (out.params.shape - target.shape) ** 2).sum() / B
    total = weights.pose * pose + weights.shape * shape + weights.kp3d * kp3d + weights.kp2d * kp2d
    return LossTerms(total=total, pose=pose, shape=shape, kp3d=kp3d, kp2d=kp2d)
