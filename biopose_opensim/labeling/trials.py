"""Marker trials as OpenSim gets them: read (TRC or C3D), markers renamed to the model's names, short gaps
filled, checked against the model, and written as a TRC beside the outputs.

Units: the cleaned TRC keeps the source file's units in its header; OpenSim's ``MarkersReference`` converts to the
model's units itself (converting here as well would convert twice).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from ..errors import InputFileError, MarkerMismatchError
from ..io import GapReport, MarkerData, fill_gaps, read_c3d, read_trc, write_trc
from ..osim.model import closest_names

log = logging.getLogger(__name__)

TRIAL_SUFFIXES = (".trc", ".c3d")


def read_markers(path: str | Path, up_axis: str = "y") -> MarkerData:
    """Read a marker trial: ``.trc`` (y up, as OpenSim expects) or ``.c3d`` (``up_axis`` rotated to y up).

    Raises:
        InputFileError: missing file, unknown suffix, or a malformed file (from the io readers).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TRIAL_SUFFIXES:
        raise InputFileError(path, f"unknown marker file type {path.suffix!r}; expected .trc or .c3d")
    if not path.is_file():
        raise InputFileError(path, "marker file not found")
    if suffix == ".c3d":
        return read_c3d(path, up_axis=up_axis)
    return read_trc(path)


def rename_markers(data: MarkerData, renames: Mapping[str, str]) -> MarkerData:
    """``data`` with markers renamed (names not in ``renames`` kept)."""
    use = {k: v for k, v in renames.items() if k in data.marker_names}
    if not use:
        return data
    return data.rename(use)


@dataclass(frozen=True, eq=False)
class CleanTrial:
    """A trial ready for OpenSim: ``data`` renamed and gap-filled, and what was done to it."""

    data: MarkerData
    gaps: GapReport
    renamed: tuple[tuple[str, str], ...]
    #: trial markers the model does not have (OpenSim ignores them)
    unused: tuple[str, ...]


def clean_trial(data: MarkerData, renames: Mapping[str, str], max_gap: float, model_names: Iterable[str]) -> CleanTrial:
    """Rename to model names, fill gaps up to ``max_gap`` s, list markers the model lacks."""
    renamed = tuple((k, v) for k, v in renames.items() if k in data.marker_names)
    data = rename_markers(data, dict(renamed))
    filled, gaps = fill_gaps(data, max_gap=max_gap)
    if gaps.n_filled:
        log.info("%s: %d gap(s) up to %g s interpolated", data.source, gaps.n_filled, max_gap)
    if gaps.n_unfilled:
        worst = sorted(((b - a, m) for m, runs in gaps.unfilled.items() for a, b in runs), reverse=True)[:3]
        log.warning("%s: %d gap(s) longer than %g s (or at the ends) left to OpenSim's per-frame skip; longest: %s",
                    data.source, gaps.n_unfilled, max_gap, ", ".join(f"{m} {d:.2f} s" for d, m in worst))
    model = set(model_names)
    unused = tuple(n for n in filled.marker_names if n not in model)
    return CleanTrial(filled, gaps, renamed, unused)


def check_markers_in_model(names: Sequence[str], model_names: Sequence[str], where: str, needed_by: str) -> None:
    """Raise if any of ``names`` is not a model marker; the message lists the closest model names.

    Raises:
        MarkerMismatchError
    """
    model = set(model_names)
    missing = [n for n in dict.fromkeys(names) if n not in model]
    if missing:
        raise MarkerMismatchError(f"{where}: {len(missing)} marker(s) needed by {needed_by} are not in the model: "
                                  + with_closest(missing, model_names))


def check_shared_markers(data: MarkerData, tracked: Sequence[str], model_names: Sequence[str],
                         min_shared: int) -> tuple[str, ...]:
    """Markers of ``data`` that IK tracks (in ``tracked`` and in the model) and hold data in some frame.

    Raises:
        MarkerMismatchError: fewer than ``min_shared``; the message lists the trial's markers and the closest
            model names.
    """
    model = set(model_names)
    tracked_set = set(tracked)
    present = np.isfinite(data.positions).all(axis=-1).any(axis=0)
    shared = tuple(n for n, ok in zip(data.marker_names, present) if ok and n in model and n in tracked_set)
    if len(shared) < min_shared:
        others = [n for n in data.marker_names if n not in model]
        raise MarkerMismatchError(
            f"{data.source}: only {len(shared)} marker(s) shared with the model and tracked by IK "
            f"({', '.join(shared) or 'none'}); at least {min_shared} needed. "
            + (f"Trial markers the model lacks: {with_closest(others, model_names)}" if others else "")
        )
    return shared


def write_clean_trc(path: Path, data: MarkerData) -> Path:
    """Write the cleaned trial as TRC in its source units (atomic)."""
    return write_trc(path, data, units=data.source_units)


def with_closest(names: Sequence[str], candidates: Sequence[str], limit: int = 12) -> str:
    """"a (closest: b, c); d ..." for error messages."""
    parts = []
    for n in list(names)[:limit]:
        close = closest_names(n, list(candidates))
        parts.append(f"{n} (closest: {', '.join(close)})" if close else n)
    more = f" ... and {len(names) - limit} more" if len(names) > limit else ""
    return "; ".join(parts) + more
