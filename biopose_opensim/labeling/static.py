"""The static window of a static trial: given, taken from a Scale setup, or found automatically.

Automatic choice: among windows of ``length`` seconds whose every frame holds at least ``min_fraction`` of the
markers, the one with the smallest mean marker speed (m/s, averaged over the markers present in consecutive
frames). Scaling averages marker distances over the window and marker placement averages marker positions, so
the quietest stretch of the trial is the one to use.
"""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from ..errors import InputFileError
from ..io import MarkerData

log = logging.getLogger(__name__)


def marker_speed(data: MarkerData, markers: Sequence[str] | None = None) -> np.ndarray:
    """(T,) mean speed in m/s of the markers present in frames t-1 and t (frame 0 copies frame 1; NaN if none)."""
    pos = data.positions if markers is None else data.select(markers).positions
    if data.n_frames < 2:
        return np.zeros(data.n_frames)
    dt = np.diff(data.times)[:, None]
    step = np.linalg.norm(np.diff(pos, axis=0), axis=-1) / dt  # (T-1, M), NaN where missing
    with np.errstate(invalid="ignore"):
        present = np.isfinite(step)
        count = present.sum(axis=1)
        speed = np.where(count > 0, np.where(present, step, 0.0).sum(axis=1) / np.maximum(count, 1), np.nan)
    return np.concatenate([speed[:1], speed])


def find_static_window(
    data: MarkerData, length: float = 0.5, min_fraction: float = 0.9, markers: Sequence[str] | None = None
) -> tuple[float, float]:
    """(start, end) in s of the quietest window of ``length`` s (the whole trial if it is shorter).

    Args:
        data: the static trial.
        length: window length in s.
        min_fraction: fraction of ``markers`` (all markers when None) each frame of the window must hold.
        markers: the markers that matter (e.g. those the protocol uses).

    Raises:
        InputFileError: no window of that length has enough markers in every frame.
    """
    sel = data if markers is None else data.select(markers)
    present = np.isfinite(sel.positions).all(axis=-1).mean(axis=1) >= min_fraction - 1e-12  # (T,)
    n = max(1, min(data.n_frames, int(round(length * data.rate)) + 1))
    speed = marker_speed(sel)
    best, best_start = np.inf, None
    ok = present.astype(int)
    run = np.convolve(ok, np.ones(n, dtype=int), mode="valid")  # frames with enough markers per window
    for start in np.flatnonzero(run == n):
        value = float(np.nanmean(speed[start:start + n])) if np.isfinite(speed[start:start + n]).any() else np.inf
        if value < best:
            best, best_start = value, int(start)
    if best_start is None:
        raise InputFileError(
            data.source or "static trial",
            f"no {length:g} s window in which every frame has at least {min_fraction:.0%} of the "
            f"{sel.n_markers} markers; give the window with --static-window START END or fill the gaps",
        )
    window = (float(data.times[best_start]), float(data.times[best_start + n - 1]))
    log.info("static window %.3f-%.3f s found automatically (mean marker speed %.4f m/s)", *window, best)
    return window


def check_window(data: MarkerData, window: tuple[float, float], what: str = "static window") -> tuple[float, float]:
    """Clip ``window`` to the trial's time range; raise if it holds no frame.

    Raises:
        InputFileError: the window lies outside the trial (message gives both ranges).
    """
    start, end = float(window[0]), float(window[1])
    t0, t1 = float(data.times[0]), float(data.times[-1])
    half = 0.5 / data.rate
    inside = (data.times >= start - 1e-9) & (data.times <= end + 1e-9)
    if end < t0 - half or start > t1 + half or not inside.any():
        raise InputFileError(
            data.source or "trial",
            f"{what} {start:g}-{end:g} s does not exist in this trial, which covers {t0:g}-{t1:g} s",
        )
    clipped = (max(start, t0), min(end, t1))
    if clipped != (start, end):
        log.warning("%s: %s %g-%g s clipped to the trial's %g-%g s", data.source, what, start, end, *clipped)
    return clipped
