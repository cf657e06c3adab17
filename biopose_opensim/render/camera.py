"""Camera sampling around a subject, projection and the square person crop.

Frames: the subject lives in OpenSim's ground frame (metres; x forward, y up, z right); a camera maps ground
points to its own frame (OpenCV: x right, y down, z forward) by ``p_cam = R (p_ground - centre)``. Image
coordinates are pixels with the origin at the top-left corner of the top-left pixel (x right, y down).

A camera is placed on a sphere around the subject's pelvis: ``distance`` from it, ``elevation`` above the
horizontal plane through it, ``azimuth`` about the vertical measured from the subject's facing direction
(0 = in front, 90 = on the subject's right), looking at the pelvis. Its focal length is drawn in full-frame
millimetres and turned into pixels for a virtual frame ``frame_px`` wide on a ``sensor_mm`` wide sensor; the
camera is then turned a little so that the pelvis lands off-centre in that frame, by up to ``offcentre`` of the
half-frame in x and y, as people do in real footage. The stored image is a square crop around the person (see
:func:`person_crop`), rendered directly through the crop's intrinsics.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import ConfigError
from ..motion.retarget import rotation_between

UP = np.array([0.0, 1.0, 0.0])


@dataclass(frozen=True)
class CameraRanges:
    """Uniform sampling ranges of the camera (see the module docstring)."""

    distance_m: tuple[float, float] = (2.5, 7.0)
    elevation_deg: tuple[float, float] = (-10.0, 35.0)
    azimuth_deg: tuple[float, float] = (0.0, 360.0)
    focal_mm: tuple[float, float] = (35.0, 85.0)
    sensor_mm: float = 36.0
    frame_px: tuple[int, int] = (1920, 1080)
    offcentre: float = 0.3

    def __post_init__(self) -> None:
        for name in ("distance_m", "elevation_deg", "azimuth_deg", "focal_mm"):
            lo, hi = getattr(self, name)
            if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
                raise ConfigError(f"camera range {name} must be MIN,MAX with MIN <= MAX, got {lo},{hi}")
        if self.distance_m[0] < 1.5:
            raise ConfigError(f"camera distance must be at least 1.5 m (the whole body in front of the camera), "
                              f"got {self.distance_m[0]}")
        if not (-80.0 <= self.elevation_deg[0] and self.elevation_deg[1] <= 80.0):
            raise ConfigError(f"camera elevation must lie within [-80, 80] deg, got {self.elevation_deg}")
        if self.focal_mm[0] <= 0:
            raise ConfigError(f"focal length must be positive, got {self.focal_mm}")
        if not 0.0 <= self.offcentre <= 0.9:
            raise ConfigError(f"off-centre fraction must lie in [0, 0.9], got {self.offcentre}")

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Camera:
    """One sampled camera.

    Attributes:
        R: ``(3, 3)`` rotation ground -> camera (rows: camera x, y, z axes in ground coordinates).
        centre: ``(3,)`` camera centre, ground frame, metres.
        K: ``(3, 3)`` intrinsics of the virtual full frame, px (principal point at the frame centre).
        distance_m, elevation_deg, azimuth_deg, focal_mm, focal_px: the sampled values.
    """

    R: np.ndarray
    centre: np.ndarray
    K: np.ndarray
    distance_m: float
    elevation_deg: float
    azimuth_deg: float
    focal_mm: float
    focal_px: float

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """Ground-frame points ``(..., 3)`` -> camera frame ``(..., 3)``, metres."""
        return (np.asarray(points, float) - self.centre) @ self.R.T


def project(points: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Pinhole projection of camera-frame points ``(..., 3)`` through ``K (3, 3)`` -> pixels ``(..., 2)``."""
    p = np.asarray(points, float) @ np.asarray(K, float).T
    return p[..., :2] / p[..., 2:3]


def look_at(centre: np.ndarray, target: np.ndarray, up: np.ndarray = UP) -> np.ndarray:
    """Rotation ground -> camera (OpenCV) of a camera at ``centre`` looking at ``target``, image y down ``-up``."""
    z = np.asarray(target, float) - np.asarray(centre, float)
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-9:
        raise ValueError("the camera looks straight along the up axis; its roll is undefined")
    x /= np.linalg.norm(x)
    return np.stack([x, np.cross(z, x), z])


def subject_frame(left_hip: np.ndarray, right_hip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal unit ``forward`` and ``right`` directions (ground) of a subject from its hip joints."""
    right = np.asarray(right_hip, float) - np.asarray(left_hip, float)
    right = right - (right @ UP) * UP
    right /= np.linalg.norm(right)
    return np.cross(UP, right), right


def sample_camera(rng: np.random.Generator, ranges: CameraRanges, pelvis: np.ndarray, left_hip: np.ndarray,
                  right_hip: np.ndarray) -> Camera:
    """Draw a camera around a subject whose pelvis and hip joints are given in the ground frame (metres)."""
    d = rng.uniform(*ranges.distance_m)
    el = rng.uniform(*ranges.elevation_deg)
    az = rng.uniform(*ranges.azimuth_deg)
    f_mm = rng.uniform(*ranges.focal_mm)
    off = rng.uniform(-ranges.offcentre, ranges.offcentre, size=2)
    forward, right = subject_frame(left_hip, right_hip)
    e, a = np.radians(el), np.radians(az)
    centre = np.asarray(pelvis, float) + d * (np.cos(e) * (np.cos(a) * forward + np.sin(a) * right) + np.sin(e) * UP)
    W, H = ranges.frame_px
    f_px = f_mm / ranges.sensor_mm * W
    # turn the camera so that the pelvis projects at (W/2, H/2) + off * (W/2, H/2)
    ray = np.array([off[0] * W / 2 / f_px, off[1] * H / 2 / f_px, 1.0])
    R = rotation_between(np.array([0.0, 0.0, 1.0]), ray) @ look_at(centre, pelvis)
    K = np.array([[f_px, 0.0, W / 2], [0.0, f_px, H / 2], [0.0, 0.0, 1.0]])
    return Camera(R=R, centre=centre, K=K, distance_m=float(d), elevation_deg=float(el), azimuth_deg=float(az),
                  focal_mm=float(f_mm), focal_px=float(f_px))


@dataclass(frozen=True)
class Crop:
    """A square crop of the full frame, resized to ``size`` x ``size`` px.

    Attributes:
        box: ``(x0, y0, side)`` of the crop in full-frame pixels.
        size: stored image side, px.
        K: ``(3, 3)`` intrinsics of the stored image, px.
    """

    box: tuple[float, float, float]
    size: int
    K: np.ndarray


def person_crop(vertices_cam: np.ndarray, K: np.ndarray, size: int, enlarge: float = 1.2) -> Crop:
    """The square box around the projected mesh's bounding box, ``enlarge`` times its longer side, same centre.

    Args:
        vertices_cam: ``(V, 3)`` camera frame, metres.
        K: ``(3, 3)`` full-frame intrinsics, px.
        size: stored image side, px.
        enlarge: box side over the longer side of the mesh's bounding box.
    """
    uv = project(vertices_cam, K)
    lo, hi = uv.min(axis=0), uv.max(axis=0)
    centre = 0.5 * (lo + hi)
    side = float(enlarge * (hi - lo).max())
    x0, y0 = centre - side / 2
    k = size / side
    Kc = np.array([[K[0, 0] * k, K[0, 1] * k, (K[0, 2] - x0) * k],
                   [0.0, K[1, 1] * k, (K[1, 2] - y0) * k],
                   [0.0, 0.0, 1.0]])
    return Crop(box=(float(x0), float(y0), side), size=int(size), K=Kc)
