"""The MQ-HMR camera: perspective with a fixed focal length (5000 px), rotation identity, translation only.

Frames: the camera frame is OpenCV's (x right, y down, z forward, metres). The network predicts
``pred_cam = (s, tx, ty)`` per crop; the translation of the body's root in the camera frame is
``t = (tx, ty, 2 f / (S s))`` for a crop of side ``S`` pixels (HMR 2.0's convention: ``s`` is the body's scale
in normalised crop units, so the depth follows from the focal length). Points project to *normalised crop
coordinates* ``u = f (X + t) / (Z + t_z) / S`` in [-0.5, 0.5] (the crop centre at 0), which is how 2D
keypoints are compared (:func:`biopose_opensim.hmr.crop.normalise_keypoints`).
"""
from __future__ import annotations

import torch

#: Added to the scale before dividing (keeps the depth finite while the camera head starts at s = 0).
_EPS = 1e-9


def cam_translation(pred_cam: torch.Tensor, focal: float, crop: int) -> torch.Tensor:
    """``(..., 3)`` camera-frame root translation (metres) from ``pred_cam (..., 3) = (s, tx, ty)``."""
    s, tx, ty = pred_cam.unbind(-1)
    return torch.stack([tx, ty, 2.0 * focal / (crop * s + _EPS)], dim=-1)


def project_normalised(points: torch.Tensor, translation: torch.Tensor, focal: float, crop: int) -> torch.Tensor:
    """Normalised crop coordinates ``(..., J, 2)`` of root-relative points ``(..., J, 3)`` (metres, camera axes)
    placed at ``translation (..., 3)``; ``focal`` in pixels, ``crop`` the crop side in pixels."""
    p = points + translation.unsqueeze(-2)
    z = p[..., 2:3].clamp_min(1e-6)
    return (focal / crop) * p[..., :2] / z


def project_pixels(points: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Pixel coordinates ``(..., J, 2)`` of camera-frame points ``(..., J, 3)`` through intrinsics ``K (..., 3, 3)``."""
    p = points @ K.transpose(-1, -2)
    return p[..., :2] / p[..., 2:3].clamp_min(1e-9)
