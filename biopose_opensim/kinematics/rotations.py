"""Rotation conventions of OpenSim/Simbody, in numpy (parse time) and batched torch (forward).

Conventions: rotation matrices map vectors from the rotated ("child") frame into the reference ("parent")
frame, ``v_parent = R @ v_child``. OpenSim frame orientations (``PhysicalOffsetFrame.orientation``) are
body-fixed X-Y-Z Euler angles in radians: ``R = Rx(a) @ Ry(b) @ Rz(c)``.
"""
from __future__ import annotations

import numpy as np
import torch


def axis_angle_matrix_np(axis: np.ndarray, angle: float) -> np.ndarray:
    """(3, 3) rotation by ``angle`` radians about the unit vector ``axis`` (Rodrigues)."""
    a = np.asarray(axis, dtype=np.float64)
    k = np.array([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]])
    c, s = np.cos(angle), np.sin(angle)
    return c * np.eye(3) + s * k + (1.0 - c) * np.outer(a, a)


def body_xyz_matrix_np(angles: np.ndarray) -> np.ndarray:
    """(3, 3) rotation from body-fixed X-Y-Z Euler angles (radians), OpenSim's frame orientation."""
    ax, ay, az = (float(v) for v in angles)
    e = np.eye(3)
    return axis_angle_matrix_np(e[0], ax) @ axis_angle_matrix_np(e[1], ay) @ axis_angle_matrix_np(e[2], az)


def axis_angle_to_matrix_rows(angle: torch.Tensor, axis_skew: torch.Tensor, axis_outer: torch.Tensor) -> torch.Tensor:
    """Rotations about fixed unit axes by batched angles (Rodrigues' formula), batch-last.

    ``R = a a^T + cos(t) (I - a a^T) + sin(t) [a]_x``; smooth in ``t`` everywhere (no division, no acos), so
    gradients are finite at zero and at any range limit.

    Args:
        angle: (..., N) radians (batch last).
        axis_skew: (..., 3, 3) cross-product matrices ``[a]_x`` of the unit axes.
        axis_outer: (..., 3, 3) outer products ``a a^T``.

    Returns:
        (..., 3, 3, N) rotation matrices.
    """
    t = angle[..., None, None, :]
    outer = axis_outer[..., None]
    eye = torch.eye(3, dtype=angle.dtype, device=angle.device)[..., None]
    rot = outer + torch.cos(t) * (eye - outer)
    return torch.addcmul(rot, torch.sin(t), axis_skew[..., None])
