"""Procedural backgrounds (nothing downloaded): gradients, value noise, stripes and rectangles.

Each background is a base layer (a linear gradient between two colours, or multi-octave value noise tinted
between two colours), optionally overlaid with stripes or a clutter of rectangles, plus a faint pixel noise.
"""
from __future__ import annotations

import colorsys

import numpy as np

KINDS = ("gradient", "noise")
OVERLAYS = ("none", "stripes", "rectangles")


def _colour(rng: np.random.Generator) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.0, 0.8), rng.uniform(0.1, 1.0)))


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    return (x + 0.5) / size, (y + 0.5) / size


def _upsample(coarse: np.ndarray, size: int) -> np.ndarray:
    """Bilinear upsampling of a ``(g, g)`` grid to ``(size, size)``."""
    g = coarse.shape[0]
    t = np.linspace(0.0, g - 1.0, size)
    i0 = np.minimum(np.floor(t).astype(int), g - 2)
    w = t - i0
    rows = coarse[i0] * (1 - w)[:, None] + coarse[i0 + 1] * w[:, None]
    return rows[:, i0] * (1 - w)[None, :] + rows[:, i0 + 1] * w[None, :]


def value_noise(rng: np.random.Generator, size: int, octaves: int = 4) -> np.ndarray:
    """``(size, size)`` smooth noise in [0, 1] (octaves of bilinearly upsampled random grids)."""
    out = np.zeros((size, size))
    amp, total = 1.0, 0.0
    g = int(rng.integers(2, 6))
    for _ in range(octaves):
        out += amp * _upsample(rng.uniform(size=(g + 1, g + 1)), size)
        total += amp
        amp *= 0.5
        g *= 2
    out /= total
    return (out - out.min()) / max(np.ptp(out), 1e-9)


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A random ``(size, size, 3)`` uint8 RGB background."""
    x, y = _grid(size)
    c0, c1 = _colour(rng), _colour(rng)
    kind = KINDS[rng.integers(len(KINDS))]
    if kind == "gradient":
        a = rng.uniform(0, 2 * np.pi)
        t = (np.cos(a) * (x - 0.5) + np.sin(a) * (y - 0.5)) / np.sqrt(0.5) + 0.5
    else:
        t = value_noise(rng, size)
    img = c0 * (1 - t[..., None]) + c1 * t[..., None]
    overlay = OVERLAYS[rng.integers(len(OVERLAYS))]
    if overlay == "stripes":
        a = rng.uniform(0, np.pi)
        period = rng.uniform(0.03, 0.3)
        phase = (np.cos(a) * x + np.sin(a) * y) / period + rng.uniform()
        mask = (phase % 1.0) < rng.uniform(0.2, 0.8)
        img = np.where(mask[..., None], 0.6 * _colour(rng) + 0.4 * img, img)
    elif overlay == "rectangles":
        for _ in range(int(rng.integers(3, 16))):
            x0, y0 = rng.uniform(-0.2, 1.0, size=2)
            w, h = rng.uniform(0.05, 0.6, size=2)
            inside = (x >= x0) & (x < x0 + w) & (y >= y0) & (y < y0 + h)
            img = np.where(inside[..., None], _colour(rng), img)
    img = img + rng.normal(0.0, rng.uniform(0.0, 0.03), size=img.shape)
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)
