"""Square person crops: box -> crop affine transform, image resampling, keypoint mapping, normalisation.

Pixel convention: continuous coordinates with the origin at the top-left *corner* of the top-left pixel, x right,
y down; pixel ``(i, j)`` (column, row) covers ``[i, i+1) x [j, j+1)`` and its centre is ``(i + 0.5, j + 0.5)``.
The project's image datasets store keypoints in this convention.

A person box is HMR's ``(center, scale)``: centre ``(2,)`` px and side ``scale * 200`` px. The crop of side ``S``
maps the box onto ``[0, S]^2``: ``p_crop = S / (200 * scale) * R(rot) (p - center) + S / 2``, where ``R(rot)``
turns the image content counter-clockwise on screen by ``rot`` degrees; a flip then mirrors ``x_crop -> S -
x_crop``. Normalised keypoints follow HMR 2.0: ``x_norm = x_px / S - 0.5`` in ``[-0.5, 0.5]`` over the crop.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

#: ImageNet channel means and standard deviations (RGB, images scaled to [0, 1]).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Box side in px per unit of ``scale`` (HMR convention).
BOX_UNIT_PX = 200.0


def crop_transform(center, scale: float, size: int, rot: float = 0.0, flip: bool = False) -> np.ndarray:
    """Affine transform from image px to crop px.

    Args:
        center: ``(2,)`` px, box centre in the image.
        scale: box side / 200 px.
        size: crop side ``S`` px.
        rot: degrees; the crop shows the image content turned counter-clockwise by ``rot``.
        flip: mirror the crop horizontally.

    Returns:
        ``(2, 3)`` float64 ``A`` with ``p_crop = A[:, :2] @ p + A[:, 2]``.
    """
    c = np.asarray(center, dtype=np.float64).reshape(2)
    if not scale > 0:
        raise ValueError(f"box scale must be positive, got {scale}")
    k = size / (BOX_UNIT_PX * float(scale))
    t = math.radians(rot)
    # Counter-clockwise on screen with y down: x' = x cos t + y sin t, y' = -x sin t + y cos t.
    R = np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])
    L = k * R
    A = np.concatenate([L, (size / 2.0 - L @ c)[:, None]], axis=1)
    if flip:
        A = np.array([[-1.0, 0.0, float(size)], [0.0, 1.0, 0.0]]) @ np.vstack([A, [0.0, 0.0, 1.0]])
    return A


def invert_transform(A: np.ndarray) -> np.ndarray:
    """Inverse of a ``(2, 3)`` affine transform."""
    M = np.vstack([np.asarray(A, dtype=np.float64), [0.0, 0.0, 1.0]])
    return np.linalg.inv(M)[:2]


def transform_points(points, transform):
    """Map points through a ``(2, 3)`` affine transform.

    Args:
        points: ``(..., 2)`` px (numpy array or torch tensor).
        transform: ``(2, 3)`` from :func:`crop_transform` (or its inverse).

    Returns:
        ``(..., 2)`` of the type and dtype of ``points``.
    """
    if isinstance(points, torch.Tensor):
        A = torch.as_tensor(np.asarray(transform), dtype=points.dtype, device=points.device)
        return points @ A[:, :2].T + A[:, 2]
    p = np.asarray(points)
    A = np.asarray(transform, dtype=np.float64)
    return (p @ A[:, :2].T + A[:, 2]).astype(p.dtype if p.dtype.kind == "f" else np.float64)


def crop_image(img: np.ndarray, center, scale: float, size: int, rot: float = 0.0, flip: bool = False) -> np.ndarray:
    """Resample the square crop of a person box.

    Bilinear sampling (``torch.nn.functional.grid_sample``), black outside the image. When the box is more than
    1.5x larger than the crop, the image is first shrunk with PIL's antialiasing resize so the crop does not alias.

    Args:
        img: ``(H, W, 3)`` uint8 RGB.
        center, scale, rot, flip: as :func:`crop_transform`.
        size: crop side ``S`` px.

    Returns:
        ``(S, S, 3)`` uint8 RGB.
    """
    img = np.asarray(img)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f"image must be (H, W, 3) uint8, got {img.shape} {img.dtype}")
    H, W = img.shape[:2]
    A = crop_transform(center, scale, size, rot, flip)
    shrink = BOX_UNIT_PX * float(scale) / size
    src_w, src_h = W, H
    if shrink > 1.5:
        src_w, src_h = max(1, round(W / shrink)), max(1, round(H / shrink))
        img = np.asarray(Image.fromarray(img).resize((src_w, src_h), Image.BILINEAR, reducing_gap=None))
    # crop px -> original px -> (resized) source px -> grid_sample's [-1, 1] (align_corners=False: pixel edges).
    inv = np.vstack([invert_transform(A), [0.0, 0.0, 1.0]])
    to_src = np.diag([src_w / W, src_h / H, 1.0])
    to_grid = np.array([[2.0 / src_w, 0.0, -1.0], [0.0, 2.0 / src_h, -1.0], [0.0, 0.0, 1.0]])
    G = (to_grid @ to_src @ inv)[:2]
    centres = np.arange(size, dtype=np.float64) + 0.5
    xx, yy = np.meshgrid(centres, centres)  # (S, S), rows = y
    pts = np.stack([xx, yy], axis=-1)
    grid = torch.as_tensor(pts @ G[:, :2].T + G[:, 2], dtype=torch.float32)[None]
    src = torch.from_numpy(np.array(img, dtype=np.uint8)).permute(2, 0, 1)[None].float()
    out = F.grid_sample(src, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()


def normalize_image(img: np.ndarray) -> torch.Tensor:
    """``(S, S, 3)`` uint8 RGB -> ``(3, S, S)`` float32, ImageNet-normalised (``(x / 255 - mean) / std``)."""
    x = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float() / 255.0
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    return (x - mean) / std


def denormalize_image(x: torch.Tensor) -> np.ndarray:
    """Inverse of :func:`normalize_image`: ``(3, S, S)`` -> ``(S, S, 3)`` uint8."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype).view(3, 1, 1)
    y = ((x.detach().cpu() * std + mean) * 255.0).round().clamp(0, 255)
    return y.to(torch.uint8).permute(1, 2, 0).numpy()


def normalize_keypoints(points, size: int):
    """Crop px ``(..., 2)`` -> normalised ``x / S - 0.5`` (``[-0.5, 0.5]`` over the crop)."""
    return points / size - 0.5


def denormalize_keypoints(points, size: int):
    """Normalised ``(..., 2)`` -> crop px ``(x + 0.5) * S``."""
    return (points + 0.5) * size
