"""The curve primitives activities are built from: sample times, periodic and keyframe curves, smooth noise.

Activities return a :class:`~biopose_opensim.motion.coordinates.CoordinateMotion`; these build its ``q``
``(T, C)``: one column per coordinate of the model (model order), radians for rotational coordinates and metres
for translational ones, sampled at ``times`` (seconds).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from scipy.interpolate import CubicSpline, PchipInterpolator


def frame_times(duration: float, fps: float) -> np.ndarray:
    """(T,) sample times ``0, 1/fps, …`` covering ``duration`` seconds (at least 2 frames)."""
    n = max(2, int(round(duration * fps)) + 1)
    return np.arange(n) / fps


def periodic_curve(keys: Sequence[tuple[float, float]], phase: np.ndarray) -> np.ndarray:
    """A smooth periodic curve through ``keys`` = [(phase in [0, 1), value), …], evaluated at ``phase``.

    The curve is a periodic cubic spline; ``phase`` may be any real (it is wrapped into [0, 1)).
    """
    ph = np.array([k[0] for k in keys], dtype=float)
    val = np.array([k[1] for k in keys], dtype=float)
    order = np.argsort(ph)
    ph, val = ph[order], val[order]
    ph = np.append(ph, ph[0] + 1.0)
    val = np.append(val, val[0])
    spline = CubicSpline(ph, val, bc_type="periodic")
    x = ph[0] + np.mod(np.asarray(phase, dtype=float) - ph[0], 1.0)
    return spline(x)


def keyframe_curve(keys: Sequence[tuple[float, float]], t: np.ndarray) -> np.ndarray:
    """A monotone-between-keys curve (PCHIP, no overshoot) through ``keys`` = [(time, value), …].

    Outside the first/last key the value is held constant.
    """
    kt = np.array([k[0] for k in keys], dtype=float)
    kv = np.array([k[1] for k in keys], dtype=float)
    interp = PchipInterpolator(kt, kv, extrapolate=False)
    out = interp(np.clip(np.asarray(t, dtype=float), kt[0], kt[-1]))
    return out


class CurveBuilder:
    """Accumulates named coordinate curves (degrees or metres) and turns them into a ``(T, C)`` array.

    Coordinates never set stay at the model default; rotational values are given in degrees for
    readability and converted to radians by :meth:`to_q`.
    """

    def __init__(self, coordinate_names: Sequence[str], rotational: np.ndarray, default: np.ndarray, n: int):
        self._names = tuple(coordinate_names)
        self._rot = np.asarray(rotational, dtype=bool)
        self._q = np.tile(np.asarray(default, dtype=float), (n, 1))
        self._set: set[str] = set()

    def has(self, name: str) -> bool:
        return name in self._names

    def set(self, name: str, values: np.ndarray | float) -> None:
        """Set coordinate ``name`` (degrees if rotational, else metres); unknown names are ignored."""
        if name not in self._names:
            return
        j = self._names.index(name)
        v = np.broadcast_to(np.asarray(values, dtype=float), self._q[:, j].shape)
        self._q[:, j] = np.deg2rad(v) if self._rot[j] else v
        self._set.add(name)

    def add(self, name: str, values: np.ndarray | float) -> None:
        """Add to coordinate ``name`` (degrees if rotational, else metres)."""
        if name not in self._names:
            return
        j = self._names.index(name)
        v = np.asarray(values, dtype=float)
        self._q[:, j] += np.deg2rad(v) if self._rot[j] else v
        self._set.add(name)

    def to_q(self) -> np.ndarray:
        """(T, C) radians / metres."""
        return self._q.copy()

    def set_many(self, values: Mapping[str, np.ndarray | float]) -> None:
        for k, v in values.items():
            self.set(k, v)


def smooth_noise(t: np.ndarray, rng: np.random.Generator, amplitude: float, n_columns: int,
                 f_min: float = 0.15, f_max: float = 0.8) -> np.ndarray:
    """(T, n_columns) smooth random deviations: three sinusoids per column, peak ≈ ``amplitude``.

    Frequencies are drawn in [``f_min``, ``f_max``] Hz, so the deviations look like natural variability
    rather than sensor noise.
    """
    t = np.asarray(t, dtype=float)[:, None, None]
    freq = rng.uniform(f_min, f_max, size=(1, n_columns, 3))
    phase = rng.uniform(0.0, 2.0 * np.pi, size=(1, n_columns, 3))
    weight = rng.uniform(0.3, 1.0, size=(1, n_columns, 3))
    weight = weight / weight.sum(axis=2, keepdims=True)
    return amplitude * (weight * np.sin(2.0 * np.pi * freq * t + phase)).sum(axis=2)
