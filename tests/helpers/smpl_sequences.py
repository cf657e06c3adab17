"""Synthetic SMPL-family motion sequences written to disk (AMASS layout), shared by the adapter tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def walking_poses(T: int, fps: float, n_joint_params: int, amp_deg: float = 25.0, phase: float = 0.0):
    """SMPL-family axis-angle poses (T, 3 + n_joint_params) of a walk-like motion, and the left hip flexion (deg).

    Body joints (SMPL axes: x left): hips flex by a negative rotation about x, knees by a positive one.
    """
    t = np.arange(T) / fps
    w = 2 * np.pi * 1.0 * t + phase
    poses = np.zeros((T, 3 + n_joint_params))
    hip_l = amp_deg * np.sin(w)
    hip_r = -amp_deg * np.sin(w)
    knee_l = 25.0 * (1 - np.cos(w))
    knee_r = 25.0 * (1 + np.cos(w))
    b = 3
    poses[:, b + 0] = -np.deg2rad(hip_l)   # left_hip (joint 1)
    poses[:, b + 3] = -np.deg2rad(hip_r)   # right_hip (joint 2)
    poses[:, b + 9] = np.deg2rad(knee_l)   # left_knee (joint 4)
    poses[:, b + 12] = np.deg2rad(knee_r)  # right_knee (joint 5)
    return poses, hip_l, t


def write_amass(path: Path, T: int = 40, fps: float = 30.0, betas=None, gender: str = "female",
                heading_deg: float = 150.0) -> tuple[Path, np.ndarray]:
    """An AMASS-layout SMPL-H fit: z-up world, subject facing ``heading_deg`` from world +x, walking forward."""
    from scipy.spatial.transform import Rotation

    poses, hip_l, t = walking_poses(T, fps, 153)
    up = Rotation.from_rotvec([np.pi / 2, 0.0, 0.0])  # SMPL y-up body -> z-up world
    # SMPL faces +z; after `up` it faces -y. Turn about world z so it faces heading_deg.
    turn = Rotation.from_rotvec([0.0, 0.0, np.deg2rad(heading_deg + 90.0)])
    root = turn * up
    poses[:, :3] = root.as_rotvec()
    fwd = root.apply([0.0, 0.0, 1.0])
    trans = np.stack([1.2 * t * fwd[0], 1.2 * t * fwd[1], np.full(T, 0.0)], axis=1)
    np.savez(path, poses=poses, trans=trans, betas=np.array(betas if betas is not None else np.zeros(16)),
             mocap_framerate=np.array(fps), gender=np.array(gender))
    return path, hip_l
