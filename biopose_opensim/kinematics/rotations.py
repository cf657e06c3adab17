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


def skew(axis: torch.Tensor) -> torch.Tensor:
    """(..., 3) -> (..., 3, 3) cross-product matrices ``[a]_x`` with ``[a]_x v = a x v``."""
    zero = torch.zeros_like(axis[..., 0])
    x, y, z = axis.unbind(-1)
    return torch.stack(
        (
            torch.stack((zero, -z, y), -1),
            torch.stack((z, zero, -x), -1),
            torch.stack((-y, x, zero), -1),
        ),
        -2,
    )


def axis_angle_to_matrix(angle: torch.Tensor, axis_skew: torch.Tensor, axis_outer: torch.Tensor) -> torch.Tensor:
    """Rotations about fixed unit axes by batched angles (Rodrigues' formula).

    ``R = cos(t) I + sin(t) [a]_x + (1 - cos(t)) a a^T``; smooth in ``t`` everywhere (no division, no acos),
    so gradients are finite at zero and at any range limit.

    Args:
        angle: (..., A) radians.
        axis_skew: (A, 3, 3) cross-product matrices of the unit axes.
        axis_outer: (A, 3, 3) outer products ``a a^T``.

    Returns:
        (..., A, 3, 3) rotation matrices.
    """
    c = torch.cos(angle)[..., None, None]
    s = torch.sin(angle)[..., None, None]
    eye = torch.eye(3, dtype=angle.dtype, device=angle.device)
    # c I + s K + (1 - c) aa^T  ==  aa^T + c (I - aa^T) + s K
    return axis_outer + c * (eye - axis_outer) + s * axis_skew
