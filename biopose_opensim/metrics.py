"""Accuracy metrics of predicted OpenSim kinematics against labels (the BioPose paper's Table 2), pure maths.

- ``mae_angle_deg``: mean absolute error of the independent, unlocked rotational coordinates, degrees,
  wrapping-aware, over frames whose label is trusted (``q_mask``).
- ``mpblpe_mm``: mean Euclidean distance of bony landmarks (model markers through FK) after aligning a common
  root (each pose's root-body origin subtracted), millimetres.
- ``mae_body_mm``: absolute error of each body's scale factor along the body's longest axis, converted to a
  length with that body's extent along the axis (unscaled model), millimetres; the root body counts all three
  axes. Bodies shorter than 1 cm along every axis are left out.
- pelvis (root) translation error, millimetres.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def angle_abs_errors(q_pred: torch.Tensor, q_true: torch.Tensor, rotational: torch.Tensor) -> torch.Tensor:
    """(..., C) absolute errors: wrapped radians for rotational coordinates, metres otherwise."""
    d = q_pred - q_true
    return torch.where(rotational, torch.atan2(torch.sin(d), torch.cos(d)), d).abs()


@dataclass(frozen=True)
class SegmentAxes:
    """Per body the axis the scale error is measured along and the body's extent along it.

    Attributes:
        axis: (NB,) 0/1/2 for x/y/z, or -1 for all three (the root body).
        length: (NB, 3) metres, extent of the body's joints and markers along each body axis (unscaled model).
        used: (NB,) bool, body long enough to count (>= 1 cm along some axis).
    """

    axis: np.ndarray
    length: np.ndarray
    used: np.ndarray


def segment_axes(fk) -> SegmentAxes:
    """Longest axis and extent of every body of an :class:`~biopose_opensim.kinematics.OsimFK` layer, from its
    joints (parent and child side) and markers at the default pose."""
    with torch.no_grad():
        res = fk(fk.default_q(1).to(fk.default_values.dtype))
    T = res.body_transforms[0].double().cpu().numpy()  # (NB, 4, 4)
    jc = res.joint_centers[0].double().cpu().numpy()
    mk = res.markers[0].double().cpu().numpy()
    NB = T.shape[0]
    pts: list[list[np.ndarray]] = [[np.zeros(3)] for _ in range(NB)]
    for j, joint in enumerate(fk.tree.joints):
        for b in (joint.parent_frame.body, joint.child_frame.body):
            if 0 <= b < NB:
                pts[b].append(T[b, :3, :3].T @ (jc[j] - T[b, :3, 3]))
    for m, spec in enumerate(fk.tree.markers):
        b = spec.body
        if 0 <= b < NB:
            pts[b].append(T[b, :3, :3].T @ (mk[m] - T[b, :3, 3]))
    length = np.stack([np.ptp(np.stack(p), axis=0) for p in pts])
    axis = length.argmax(axis=1)
    axis[0] = -1
    return SegmentAxes(axis=axis, length=length, used=length.max(axis=1) >= 0.01)


def body_scale_errors_mm(s_pred: np.ndarray, s_true: np.ndarray, axes: SegmentAxes) -> np.ndarray:
    """(..., NB) mm: per body, |scale error| along its axis times its extent (root body: mean over 3 axes);
    NaN for unused bodies."""
    err = np.abs(np.asarray(s_pred, float) - np.asarray(s_true, float)) * axes.length * 1000.0  # (..., NB, 3)
    out = err[..., np.arange(err.shape[-2]), np.maximum(axes.axis, 0)]
    out[..., axes.axis < 0] = err[..., axes.axis < 0, :].mean(-1)
    out[..., ~axes.used] = np.nan
    return out


def root_aligned_distances_mm(points_pred: torch.Tensor, points_true: torch.Tensor, root_pred: torch.Tensor,
                              root_true: torch.Tensor) -> torch.Tensor:
    """(..., K) mm: distances between (..., K, 3) points after subtracting each pose's root (..., 3)."""
    return ((points_pred - root_pred[..., None, :]) - (points_true - root_true[..., None, :])).norm(dim=-1) * 1000.0
