"""Gap filling for marker trajectories: :func:`fill_gaps` and its :class:`GapReport`.

A *gap* is a run of consecutive frames in which a marker is missing (NaN). Interior gaps no longer than
``max_gap`` seconds are interpolated; longer gaps, and gaps touching the first or last frame, stay NaN
(OpenSim's inverse kinematics leaves a marker that is missing in a frame out of that frame's fit).

Interpolation: a cubic spline (``scipy.interpolate.CubicSpline``, not-a-knot) through up to
``_CONTEXT`` valid frames on each side of the gap; when fewer than two valid frames lie on either side the gap is
filled linearly between its two bounding frames. Using only nearby frames keeps each fill local: a spline over the
whole trial would let far-away noise and other gaps shape the fill.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import CubicSpline

from .markerdata import MarkerData

log = logging.getLogger(__name__)

#: Valid frames used on each side of a gap for the cubic spline.
_CONTEXT = 4


@dataclass(frozen=True, eq=False)
class GapReport:
    """What :func:`fill_gaps` did, per marker.

    Attributes:
        filled: marker -> ``[(t_start, t_end), ...]`` gaps interpolated; times (s) of the first and last
            missing frame of each gap.
        unfilled: marker -> gaps left NaN (longer than ``max_gap``, or at the start or end of the trial).
        max_gap: the longest gap (s) that was allowed to be filled.
    """

    filled: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    unfilled: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    max_gap: float = 0.1

    @property
    def n_filled(self) -> int:
        """Number of gaps filled, over all markers."""
        return sum(len(v) for v in self.filled.values())

    @property
    def n_unfilled(self) -> int:
        """Number of gaps left NaN, over all markers."""
        return sum(len(v) for v in self.unfilled.values())

    def to_dict(self) -> dict:
        """A JSON-ready dict: ``{"max_gap": s, "filled": {marker: [[t0, t1], ...]}, "unfilled": {...}}``."""
        return {
            "max_gap": float(self.max_gap),
            "filled": {m: [[float(a), float(b)] for a, b in gaps] for m, gaps in self.filled.items()},
            "unfilled": {m: [[float(a), float(b)] for a, b in gaps] for m, gaps in self.unfilled.items()},
        }


def nan_runs(missing: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True in a boolean ``(T,)`` array, as ``[(start, stop), ...]`` with ``stop`` exclusive."""
    m = np.concatenate([[False], np.asarray(missing, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(m.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[0::2], edges[1::2])]


def _fill_one(times: np.ndarray, track: np.ndarray, valid: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Values ``(stop - start, 3)`` for the interior gap ``[start, stop)`` of ``track`` ``(T, 3)``."""
    before = []
    i = start - 1
    while i >= 0 and valid[i] and len(before) < _CONTEXT:
        before.append(i)
        i -= 1
    after = []
    i = stop
    while i < len(track) and valid[i] and len(after) < _CONTEXT:
        after.append(i)
        i += 1
    t_gap = times[start:stop]
    if len(before) >= 2 and len(after) >= 2:
        knots = np.array(before[::-1] + after)
        spline = CubicSpline(times[knots], track[knots], axis=0, bc_type="not-a-knot")
        return spline(t_gap)
    a, b = start - 1, stop
    w = ((t_gap - times[a]) / (times[b] - times[a]))[:, None]
    return (1.0 - w) * track[a] + w * track[b]


def fill_gaps(data: MarkerData, max_gap: float = 0.1) -> tuple[MarkerData, GapReport]:
    """Interpolate interior gaps of at most ``max_gap`` seconds; leave the rest NaN.

    A gap of ``n`` missing frames lasts ``n / data.rate`` seconds (the time its frames cover); it is filled
    when that is ``<= max_gap`` (with a tolerance of 1e-9 s). Leading and trailing gaps are never extrapolated.

    Args:
        data: marker trajectories ``(T, M, 3)`` metres with NaN where missing.
        max_gap: longest gap to fill, seconds (``>= 0``).

    Returns:
        A new :class:`MarkerData` (the input is not modified) and a :class:`GapReport`.
    """
    if not max_gap >= 0:
        raise ValueError(f"max_gap must be >= 0 seconds, got {max_gap}")
    positions = data.positions.copy()
    missing = np.isnan(positions).any(axis=2)  # (T, M)
    times = data.times
    T = data.n_frames
    filled: dict[str, list[tuple[float, float]]] = {}
    unfilled: dict[str, list[tuple[float, float]]] = {}
    for m in np.flatnonzero(missing.any(axis=0)):
        name = data.marker_names[m]
        valid = ~missing[:, m]
        for start, stop in nan_runs(missing[:, m]):
            span = (float(times[start]), float(times[stop - 1]))
            interior = start > 0 and stop < T
            if interior and (stop - start) / data.rate <= max_gap + 1e-9:
                positions[start:stop, m] = _fill_one(times, positions[:, m], valid, start, stop)
                filled.setdefault(name, []).append(span)
            else:
                unfilled.setdefault(name, []).append(span)
    report = GapReport(filled=filled, unfilled=unfilled, max_gap=float(max_gap))
    if report.n_filled or report.n_unfilled:
        log.info(
            "%s: filled %d gap(s) <= %g s; %d gap(s) left missing",
            data.source or "markers", report.n_filled, max_gap, report.n_unfilled,
        )
    return data.with_positions(positions), report
