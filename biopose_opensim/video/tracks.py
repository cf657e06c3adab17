"""2D keypoints of one person over a clip: :class:`KeypointTrack`, saved as ``.npz``.

Image frame: pixels, x right, y down, origin at the top-left corner of the top-left pixel (pixel ``(i, j)``
covers ``[j, j + 1) x [i, i + 1)``). Frames are numbered from 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import keypoints as kp
from ..atomic import atomic_path
from ..errors import InputFileError

#: Format version written into saved tracks.
TRACK_FORMAT = 1


@dataclass(frozen=True, eq=False)
class KeypointTrack:
    """Keypoints of one person in every frame of a clip.

    Attributes:
        layout: a :mod:`biopose_opensim.keypoints` layout name (``K`` keypoints).
        xy: ``(T, K, 2)`` float64 pixel coordinates (image frame above); 0 where missing.
        confidence: ``(T, K)`` float64 in [0, 1]; 0 where a keypoint (or the person) is missing.
        detected: ``(T,)`` bool, a person was found in the frame (``confidence`` is all 0 where it is False).
        image_size: ``(W, H)`` pixels of the frames.
        world: ``(T, K, 3)`` float64 metres, the detector's 3D world landmarks (origin midway between the hips,
            detector's axes) where it gives them, else ``None``.
        source: where the keypoints came from (detector and version, or the file read).
    """

    layout: str
    xy: np.ndarray
    confidence: np.ndarray
    detected: np.ndarray
    image_size: tuple[int, int]
    world: np.ndarray | None = None
    source: str = ""

    def __post_init__(self) -> None:
        try:
            k = len(kp.layout(self.layout))
        except KeyError as exc:
            raise ValueError(str(exc.args[0])) from None
        xy = np.asarray(self.xy, dtype=np.float64)
        conf = np.asarray(self.confidence, dtype=np.float64)
        det = np.asarray(self.detected)
        if xy.ndim != 3 or xy.shape[1:] != (k, 2):
            raise ValueError(f"xy has shape {xy.shape}; layout {self.layout!r} needs (T, {k}, 2)")
        t = xy.shape[0]
        if conf.shape != (t, k):
            raise ValueError(f"confidence has shape {conf.shape}; xy {xy.shape} needs ({t}, {k})")
        if det.shape != (t,) or det.dtype != np.bool_:
            raise ValueError(f"detected must be a ({t},) bool array, got {det.dtype} {det.shape}")
        if not np.all(np.isfinite(xy)):
            raise ValueError("xy holds NaN or infinite values (use 0 with confidence 0 for missing keypoints)")
        if not np.all((conf >= 0) & (conf <= 1)):
            raise ValueError(f"confidence must lie in [0, 1]; found {np.nanmin(conf)} .. {np.nanmax(conf)}")
        if np.any(conf[~det] > 0):
            raise ValueError("confidence is non-zero in frames where detected is False")
        size = tuple(int(v) for v in self.image_size)
        if len(size) != 2 or min(size) <= 0:
            raise ValueError(f"image_size must be (W, H) positive pixels, got {self.image_size}")
        world = None
        if self.world is not None:
            world = np.asarray(self.world, dtype=np.float64)
            if world.shape != (t, k, 3):
                raise ValueError(f"world has shape {world.shape}; xy {xy.shape} needs ({t}, {k}, 3)")
        for name, value in (("xy", xy), ("confidence", conf), ("detected", det), ("world", world)):
            if value is not None:
                value = value.copy()
                value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "image_size", size)
        object.__setattr__(self, "source", str(self.source))

    @property
    def n_frames(self) -> int:
        """Number of frames ``T``."""
        return int(self.xy.shape[0])

    @property
    def names(self) -> tuple[str, ...]:
        """The ``K`` keypoint names of the layout."""
        return kp.layout(self.layout).names

    def gaps(self) -> list[tuple[int, int]]:
        """Runs of frames without a detection, as half-open ``(start, stop)`` frame ranges, in order."""
        missing = np.concatenate([[False], ~self.detected, [False]])
        edges = np.flatnonzero(np.diff(missing.astype(np.int8)))
        return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]

    def with_confidence(self) -> np.ndarray:
        """``(T, K, 3)`` ``(x, y, confidence)``, the input of :func:`biopose_opensim.keypoints.to_layout`."""
        return np.concatenate([self.xy, self.confidence[..., None]], axis=-1)

    def save(self, path: str | Path) -> None:
        """Write the track to ``path`` (``.npz``, atomically)."""
        arrays = dict(format=np.int64(TRACK_FORMAT), layout=np.array(self.layout), xy=self.xy,
                      confidence=self.confidence, detected=self.detected,
                      image_size=np.array(self.image_size, dtype=np.int64), source=np.array(self.source))
        if self.world is not None:
            arrays["world"] = self.world
        with atomic_path(path, suffix=".npz") as tmp:
            np.savez_compressed(tmp, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "KeypointTrack":
        """Read a track written by :meth:`save`.

        Raises:
            InputFileError: the file is missing, not an ``.npz`` track, or its arrays are inconsistent.
        """
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                fields = {name: data[name] for name in data.files}
        except (OSError, ValueError) as exc:
            raise InputFileError(path, f"not a readable keypoint track (.npz): {exc}") from None
        need = ("format", "layout", "xy", "confidence", "detected", "image_size", "source")
        missing = [n for n in need if n not in fields]
        if missing:
            raise InputFileError(path, f"not a keypoint track: arrays {missing} are missing")
        if int(fields["format"]) != TRACK_FORMAT:
            raise InputFileError(path, f"track format {int(fields['format'])}; this version reads {TRACK_FORMAT}")
        try:
            return cls(layout=str(fields["layout"]), xy=fields["xy"], confidence=fields["confidence"],
                       detected=fields["detected"], image_size=tuple(int(v) for v in fields["image_size"]),
                       world=fields.get("world"), source=str(fields["source"]))
        except ValueError as exc:
            raise InputFileError(path, f"inconsistent keypoint track: {exc}") from None
