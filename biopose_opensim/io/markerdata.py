"""Marker trajectories in memory: :class:`MarkerData`, and the length units of marker files.

Conventions: positions are float64 **metres** in the lab frame of the source file (OpenSim expects y up;
:func:`biopose_opensim.io.read_c3d` can rotate z-up data), shape ``(T, M, 3)``; a missing marker in a frame is
NaN in all three coordinates.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from ..errors import ConfigError, MarkerMismatchError

log = logging.getLogger(__name__)

#: Metres per unit, for the unit spellings accepted in marker files (case-insensitive).
_UNIT_ALIASES = {
    "mm": "mm", "millimeter": "mm", "millimeters": "mm", "millimetre": "mm", "millimetres": "mm",
    "cm": "cm", "centimeter": "cm", "centimeters": "cm", "centimetre": "cm", "centimetres": "cm",
    "m": "m", "meter": "m", "meters": "m", "metre": "m", "metres": "m",
}
UNIT_SCALE = {"mm": 1e-3, "cm": 1e-2, "m": 1.0}


def normalize_units(units: str) -> str | None:
    """Return ``"mm"``, ``"cm"`` or ``"m"`` for a unit spelling, or ``None`` if it is not a length unit we know."""
    return _UNIT_ALIASES.get(units.strip().lower())


def _describe(source: Path | None) -> str:
    return f" in {source}" if source is not None else ""


@dataclass(frozen=True, eq=False)
class MarkerData:
    """Marker trajectories of one trial.

    Attributes:
        marker_names: ``M`` unique marker names, in column order.
        positions: ``(T, M, 3)`` float64, metres, lab frame as in the source file; NaN where a marker is missing.
        times: ``(T,)`` seconds.
        rate: sampling rate in Hz (the file's ``DataRate``).
        frame_numbers: ``(T,)`` int frame numbers as in the file.
        source_units: length unit found in the source file (``"mm"``, ``"cm"`` or ``"m"``).
        source: the file these data were read from, if any.

    The arrays are not copied; treat them as read-only and derive new objects with :meth:`with_positions` etc.
    """

    marker_names: tuple[str, ...]
    positions: np.ndarray
    times: np.ndarray
    rate: float
    frame_numbers: np.ndarray
    source_units: str = "m"
    source: Path | None = field(default=None)

    def __post_init__(self) -> None:
        names = tuple(str(n) for n in self.marker_names)
        pos = np.asarray(self.positions, dtype=np.float64)
        times = np.asarray(self.times, dtype=np.float64).reshape(-1)
        frames = np.asarray(self.frame_numbers).reshape(-1).astype(np.int64, copy=False)
        if pos.ndim != 3 or pos.shape[2] != 3:
            raise ValueError(f"positions must have shape (T, M, 3), got {pos.shape}")
        if pos.shape[1] != len(names):
            raise ValueError(f"positions hold {pos.shape[1]} markers but {len(names)} marker names were given")
        if times.shape[0] != pos.shape[0] or frames.shape[0] != pos.shape[0]:
            raise ValueError(
                f"times {times.shape} and frame_numbers {frames.shape} must have one entry per frame ({pos.shape[0]})"
            )
        seen: dict[str, int] = {}
        for i, name in enumerate(names):
            if name in seen:
                raise MarkerMismatchError(
                    f"marker {name!r} appears twice (markers {seen[name] + 1} and {i + 1}){_describe(self.source)}; "
                    "marker names must be unique"
                )
            seen[name] = i
        if not (np.isfinite(self.rate) and self.rate > 0):
            raise ValueError(f"rate must be a positive number of Hz, got {self.rate}")
        units = normalize_units(self.source_units)
        if units is None:
            raise ValueError(f"source_units must be one of mm, cm, m; got {self.source_units!r}")
        object.__setattr__(self, "marker_names", names)
        object.__setattr__(self, "positions", pos)
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "frame_numbers", frames)
        object.__setattr__(self, "rate", float(self.rate))
        object.__setattr__(self, "source_units", units)
        if self.source is not None:
            object.__setattr__(self, "source", Path(self.source))

    # ------------------------------------------------------------------ sizes and lookup
    @property
    def n_frames(self) -> int:
        """Number of frames ``T``."""
        return int(self.positions.shape[0])

    @property
    def n_markers(self) -> int:
        """Number of markers ``M``."""
        return int(self.positions.shape[1])

    def index(self, name: str) -> int:
        """Column index of marker ``name``.

        Raises:
            MarkerMismatchError: no marker of that name.
        """
        try:
            return self.marker_names.index(name)
        except ValueError:
            raise MarkerMismatchError(
                f"marker {name!r} not found{_describe(self.source)}; markers present: {', '.join(self.marker_names)}"
            ) from None

    # ------------------------------------------------------------------ derived data
    def _replace(self, **changes) -> "MarkerData":
        values = {
            "marker_names": self.marker_names,
            "positions": self.positions,
            "times": self.times,
            "rate": self.rate,
            "frame_numbers": self.frame_numbers,
            "source_units": self.source_units,
            "source": self.source,
        }
        values.update(changes)
        return MarkerData(**values)

    def select(self, names: Iterable[str]) -> "MarkerData":
        """Only the markers ``names``, in that order.

        Raises:
            MarkerMismatchError: some names are absent; the message lists all of them.
        """
        names = tuple(names)
        lookup = {n: i for i, n in enumerate(self.marker_names)}
        missing = [n for n in names if n not in lookup]
        if missing:
            raise MarkerMismatchError(
                f"{len(missing)} marker(s) not found{_describe(self.source)}: {', '.join(missing)}; "
                f"markers present: {', '.join(self.marker_names)}"
            )
        idx = [lookup[n] for n in names]
        return self._replace(marker_names=names, positions=self.positions[:, idx, :])

    def window(self, t0: float, t1: float) -> "MarkerData":
        """Frames with ``t0 <= time <= t1`` (seconds; a tolerance of 1e-6 of a frame period on both ends).

        Raises:
            ConfigError: the window is empty or holds no frame (the message names the trial's time range).
        """
        if t1 < t0:
            raise ConfigError(f"time window end {t1:.6g} s is before its start {t0:.6g} s{_describe(self.source)}")
        eps = 1e-6 / self.rate
        keep = (self.times >= t0 - eps) & (self.times <= t1 + eps)
        if not keep.any():
            span = f"{self.times[0]:.6g}-{self.times[-1]:.6g} s" if self.n_frames else "no frames"
            raise ConfigError(
                f"no frame between {t0:.6g} s and {t1:.6g} s{_describe(self.source)} (trial covers {span})"
            )
        return self._replace(
            positions=self.positions[keep], times=self.times[keep], frame_numbers=self.frame_numbers[keep]
        )

    def rename(self, mapping: Mapping[str, str]) -> "MarkerData":
        """Rename markers by ``mapping`` (old -> new); names absent from the trial are ignored.

        Raises:
            MarkerMismatchError: two markers would end up with the same name.
        """
        absent = [k for k in mapping if k not in self.marker_names]
        if absent:
            log.debug("rename: %d name(s) not in the trial, ignored: %s", len(absent), ", ".join(absent))
        new = tuple(mapping.get(n, n) for n in self.marker_names)
        seen: dict[str, str] = {}
        for old, n in zip(self.marker_names, new):
            if n in seen:
                raise MarkerMismatchError(
                    f"renaming gives two markers the name {n!r} (from {seen[n]!r} and {old!r}){_describe(self.source)}"
                )
            seen[n] = old
        return self._replace(marker_names=new)

    def with_positions(self, positions: np.ndarray) -> "MarkerData":
        """Same names, times and metadata with new ``positions`` ``(T, M, 3)`` metres."""
        positions = np.asarray(positions, dtype=np.float64)
        if positions.shape != self.positions.shape:
            raise ValueError(f"positions must have shape {self.positions.shape}, got {positions.shape}")
        return self._replace(positions=positions)

    def rotated(self, R: np.ndarray) -> "MarkerData":
        """Positions rotated by ``R`` ``(3, 3)`` (a proper rotation): ``p' = R @ p`` for every marker and frame."""
        R = np.asarray(R, dtype=np.float64)
        if R.shape != (3, 3):
            raise ValueError(f"R must have shape (3, 3), got {R.shape}")
        if not np.allclose(R @ R.T, np.eye(3), atol=1e-9) or np.linalg.det(R) < 0:
            raise ValueError("R must be a proper rotation matrix (orthonormal, determinant +1)")
        return self._replace(positions=self.positions @ R.T)

    def missing_fraction(self) -> dict[str, float]:
        """Fraction of frames (0..1) in which each marker is missing (any coordinate NaN)."""
        if self.n_frames == 0:
            return {n: 0.0 for n in self.marker_names}
        missing = np.isnan(self.positions).any(axis=2).mean(axis=0)
        return {n: float(f) for n, f in zip(self.marker_names, missing)}

    def __repr__(self) -> str:
        src = f", source={str(self.source)!r}" if self.source is not None else ""
        return (
            f"MarkerData({self.n_frames} frames x {self.n_markers} markers at {self.rate:g} Hz, "
            f"source_units={self.source_units!r}{src})"
        )
