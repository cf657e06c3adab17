"""Rotation conventions of OpenSim/Simbody, in numpy (used when a model is parsed).

Conventions: rotation matrices map vectors from the rotated ("child") frame into the reference ("parent")
frame, ``v_parent = R @ v_child``. OpenSim frame orientations (``PhysicalOffsetFrame.orientation``) are
body-fixed X-Y-Z Euler angles in radians: ``R = Rx(a) @ Ry(b) @ Rz(c)``.
"""
from __future__ import annotations

import numpy as np


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
