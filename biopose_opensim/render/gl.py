"""Headless mesh rendering with ``pyrender`` on EGL (Mesa's software EGL works without a display or GPU).

``PYOPENGL_PLATFORM`` must be set before PyOpenGL is first imported; importing this module sets it to ``egl``
unless the environment already names a platform (e.g. ``osmesa``).

Frames and units: vertices are in the **camera frame** (OpenCV: x right, y down, z forward), metres; ``K`` is a
pinhole intrinsic matrix in pixels, whose image coordinates have their origin at the top-left corner of the
top-left pixel (x right, y down), so a point projects to ``u = fx x / z + cx``, ``v = fy y / z + cy``.
"""
from __future__ import annotations

import os

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import logging  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Sequence  # noqa: E402

import numpy as np  # noqa: E402

log = logging.getLogger(__name__)

#: OpenCV camera axes -> OpenGL camera axes (x right, y up, z backward).
CV_TO_GL = np.diag([1.0, -1.0, -1.0])


@dataclass(frozen=True)
class Lighting:
    """Scene lighting.

    Attributes:
        direction: ``(3,)`` unit vector, camera frame (OpenCV), the direction the directional light travels.
        intensity: directional light intensity (pyrender units, about 1-5).
        ambient: ``(3,)`` ambient light colour, each in [0, 1].
        colour: ``(3,)`` directional light colour, each in [0, 1].
    """

    direction: np.ndarray
    intensity: float
    ambient: np.ndarray
    colour: tuple[float, float, float] = (1.0, 1.0, 1.0)


#: A neutral light from above and behind the camera.
DEFAULT_LIGHTING = Lighting(direction=np.array([0.3, 0.6, 0.74]) / np.linalg.norm([0.3, 0.6, 0.74]),
                            intensity=3.0, ambient=np.full(3, 0.35))


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals ``(V, 3)`` of a triangle mesh ``vertices (V, 3)``, ``faces (F, 3)``."""
    v0, v1, v2 = (vertices[faces[:, k]] for k in range(3))
    fn = np.cross(v1 - v0, v2 - v0)
    n = np.zeros_like(vertices)
    for k in range(3):
        for d in range(3):
            n[:, d] += np.bincount(faces[:, k], weights=fn[:, d], minlength=len(vertices))
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def _light_pose(direction: np.ndarray) -> np.ndarray:
    """4x4 pose (OpenGL camera frame) of a directional light travelling along ``direction`` (OpenCV frame)."""
    d = CV_TO_GL @ (np.asarray(direction, float) / np.linalg.norm(direction))
    z = -d  # pyrender's directional lights shine along their -z axis
    helper = np.array([0.0, 1.0, 0.0]) if abs(z[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    pose = np.eye(4)
    pose[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
    return pose


class MeshRenderer:
    """An offscreen renderer of one image size, reused across frames (one per process is enough).

    Args:
        width, height: image size, pixels.
    """

    def __init__(self, width: int, height: int):
        import pyrender

        self._pyrender = pyrender
        self.width, self.height = int(width), int(height)
        self._renderer = pyrender.OffscreenRenderer(self.width, self.height)

    def close(self) -> None:
        self._renderer.delete()

    def render(self, vertices: np.ndarray, faces: np.ndarray, K: np.ndarray, colours: np.ndarray,
               lighting: Lighting = DEFAULT_LIGHTING) -> tuple[np.ndarray, np.ndarray]:
        """Render one mesh.

        Args:
            vertices: ``(V, 3)`` camera frame (OpenCV), metres; every vertex in front of the camera.
            faces: ``(F, 3)`` vertex indices.
            K: ``(3, 3)`` intrinsics, px.
            colours: ``(V, 3)`` vertex colours (albedo) in [0, 1].
            lighting: the lights.

        Returns:
            ``rgb (H, W, 3)`` float32 in [0, 1] (black where nothing was drawn) and ``alpha (H, W)`` float32 in
            [0, 1] (mesh coverage, anti-aliased edges).
        """
        pr = self._pyrender
        vertices = np.asarray(vertices, np.float64)
        faces = np.asarray(faces, np.int64)
        normals = vertex_normals(vertices, faces)
        z = vertices[:, 2]
        prim = pr.Primitive(
            positions=(vertices @ CV_TO_GL).astype(np.float32), normals=(normals @ CV_TO_GL).astype(np.float32),
            color_0=np.concatenate([np.asarray(colours, np.float32), np.ones((len(vertices), 1), np.float32)], 1),
            indices=faces.astype(np.uint32), mode=4,
            material=pr.MetallicRoughnessMaterial(metallicFactor=0.0, roughnessFactor=0.85,
                                                  baseColorFactor=(1.0, 1.0, 1.0, 1.0)))
        scene = pr.Scene(bg_color=(0.0, 0.0, 0.0, 0.0), ambient_light=np.asarray(lighting.ambient, float))
        scene.add(pr.Mesh([prim]))
        cam = pr.IntrinsicsCamera(fx=float(K[0, 0]), fy=float(K[1, 1]), cx=float(K[0, 2]), cy=float(K[1, 2]),
                                  znear=max(0.01, 0.5 * float(z.min())), zfar=2.0 * float(z.max()) + 1.0)
        scene.add(cam, pose=np.eye(4))
        scene.add(pr.DirectionalLight(color=np.asarray(lighting.colour, float), intensity=float(lighting.intensity)),
                  pose=_light_pose(lighting.direction))
        rgba, _ = self._renderer.render(scene, flags=pr.RenderFlags.RGBA)
        rgba = rgba.astype(np.float32) / 255.0
        return rgba[..., :3], rgba[..., 3]


_RENDERERS: dict[tuple[int, int, int], MeshRenderer] = {}
#: Renderers whose EGL context stopped working: kept referenced, because deleting one terminates the process's
#: EGL display (pyrender calls eglTerminate), which would break every other renderer.
_RETIRED: list[MeshRenderer] = []


def get_renderer(width: int, height: int) -> MeshRenderer:
    """The process's :class:`MeshRenderer` for this size (created on first use).

    Renderers are per process: a worker forked from a process that rendered makes its own instead of using the
    parent's EGL context; one whose context can no longer be made current is replaced.
    """
    key = (os.getpid(), int(width), int(height))
    renderer = _RENDERERS.get(key)
    if renderer is not None:
        try:
            renderer._renderer._platform.make_current()
        except Exception as exc:  # noqa: BLE001 - any EGL failure: start a fresh context
            log.debug("EGL context of the %dx%d renderer lost (%s); creating a new one", width, height, exc)
            _RETIRED.append(_RENDERERS.pop(key))
            renderer = None
    if renderer is None:
        renderer = _RENDERERS[key] = MeshRenderer(int(width), int(height))
    return renderer


def composite(rgb: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """``rgb (H, W, 3)`` premultiplied-by-coverage render over ``background (H, W, 3)`` uint8 -> uint8."""
    a = alpha[..., None]
    out = rgb * 255.0 + (1.0 - a) * background.astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def render_frames(vertices: np.ndarray, faces: np.ndarray, K: np.ndarray, size: tuple[int, int],
                  colours: np.ndarray, background: np.ndarray,
                  lighting: Lighting | Sequence[Lighting] = DEFAULT_LIGHTING) -> np.ndarray:
    """Render a mesh sequence over a background: ``(T, H, W, 3)`` uint8 RGB images.

    Args:
        vertices: ``(T, V, 3)`` camera frame (OpenCV: x right, y down, z forward), metres.
        faces: ``(F, 3)`` vertex indices.
        K: ``(3, 3)`` intrinsics shared by every frame, or ``(T, 3, 3)`` one per frame, px.
        size: ``(W, H)`` image size, px.
        colours: ``(V, 3)`` vertex colours in [0, 1], or ``(T, V, 3)`` one set per frame.
        background: ``(H, W, 3)`` uint8 shared by every frame, or ``(T, H, W, 3)``.
        lighting: one :class:`Lighting` for every frame, or one per frame.
    """
    vertices = np.asarray(vertices)
    if vertices.ndim != 3 or vertices.shape[-1] != 3:
        raise ValueError(f"vertices must be (T, V, 3), got {vertices.shape}")
    T = len(vertices)
    W, H = int(size[0]), int(size[1])
    K = np.broadcast_to(np.asarray(K, float), (T, 3, 3))
    colours = np.broadcast_to(np.asarray(colours, float), (T, vertices.shape[1], 3))
    background = np.broadcast_to(np.asarray(background, np.uint8), (T, H, W, 3))
    lights = [lighting] * T if isinstance(lighting, Lighting) else list(lighting)
    if len(lights) != T:
        raise ValueError(f"{len(lights)} lightings for {T} frames")
    if (vertices[..., 2] <= 0).any():
        raise ValueError("every vertex must lie in front of the camera (z > 0)")
    renderer = get_renderer(W, H)
    out = np.empty((T, H, W, 3), np.uint8)
    for t in range(T):
        rgb, alpha = renderer.render(vertices[t], faces, K[t], colours[t], lights[t])
        out[t] = composite(rgb, alpha, background[t])
    return out
