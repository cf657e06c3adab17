"""Overlay of the tracked body on the clip: the mesh (semi-transparent) and the 2D keypoints on every frame.

Written as ``<clip>_overlay.mp4`` and a few PNG stills, so a user sees at once whether the person was tracked.
Keypoints are drawn as dots (green: confident, orange: below 0.5); frames without a detection say so.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
from PIL import Image, ImageDraw

from ..atomic import atomic_path
from .frames import Frames, write_video
from .markers import MeshSequence
from .tracks import KeypointTrack

MESH_COLOUR = np.array([0.55, 0.75, 0.95])
MESH_OPACITY = 0.6


def overlay_frames(frames: Frames, mesh: MeshSequence, K: np.ndarray, track: KeypointTrack | None,
                   filled: np.ndarray) -> Iterator[np.ndarray]:
    """``(H, W, 3)`` uint8 overlay images, one per frame."""
    from ..render.gl import render_frames

    W, H = frames.size
    colours = np.tile(MESH_COLOUR, (mesh.vertices.shape[1], 1))
    for t in range(frames.n_frames):
        img = frames.get(t)
        verts = mesh.vertices[t:t + 1].astype(np.float64)
        if (verts[..., 2] > 1e-3).all():
            drawn = render_frames(verts, mesh.faces, K, (W, H), colours, img)[0]
            img = np.round(MESH_OPACITY * drawn + (1 - MESH_OPACITY) * img).astype(np.uint8)
        pil = Image.fromarray(img)
        draw = ImageDraw.Draw(pil)
        if track is not None and track.detected[t]:
            r = max(2, round(min(W, H) / 160))
            for (x, y), c in zip(track.xy[t], track.confidence[t]):
                if c > 0:
                    draw.ellipse([x - r, y - r, x + r, y + r], fill=(60, 220, 60) if c >= 0.5 else (255, 160, 0))
        if filled[t]:
            draw.text((6, 6), "no person detected", fill=(255, 60, 60))
        yield np.asarray(pil)


def write_overlay(path: Path, frames: Frames, mesh: MeshSequence, K: np.ndarray, track: KeypointTrack | None,
                  filled: np.ndarray, stills: Sequence[int] = ()) -> tuple[Path, list[Path]]:
    """Write the overlay video and PNG stills of frames ``stills`` (``<stem>_frame<k>.png``) beside it."""
    pngs: list[Path] = []
    keep = set(int(k) for k in stills)

    def frames_and_stills():
        for t, img in enumerate(overlay_frames(frames, mesh, K, track, filled)):
            if t in keep:
                png = path.with_name(f"{path.stem}_frame{t:04d}.png")
                with atomic_path(png) as tmp:
                    Image.fromarray(img).save(tmp, format="PNG")
                pngs.append(png)
            yield img

    write_video(path, frames_and_stills(), frames.fps)
    return path, pngs
