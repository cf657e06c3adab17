"""C3D motion-capture files, read through ``ezc3d``: :func:`read_c3d`.

Only marker trajectories are read: points listed in ``POINT:ANGLES``, ``POINT:FORCES``, ``POINT:MOMENTS``,
``POINT:POWERS`` or ``POINT:SCALARS`` (model outputs some systems store as points) are left out. Positions are
converted from ``POINT:UNITS`` to metres; a point with a negative residual (the C3D flag for "not seen") or a NaN
coordinate is missing (NaN).

OpenSim's ground has y up; most labs record z up. ``up_axis="z"`` rotates the data by -90 degrees about x,
``(x, y, z) -> (x, z, -y)``, so that the lab's z becomes y and the lab's x (usually the walking direction) stays x.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..errors import ConfigError, InputFileError
from .markerdata import UNIT_SCALE, MarkerData, normalize_units

log = logging.getLogger(__name__)

#: Rotation taking a z-up lab frame to OpenSim's y-up frame: (x, y, z) -> (x, z, -y).
Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

_NON_MARKER_GROUPS = ("ANGLES", "FORCES", "MOMENTS", "POWERS", "SCALARS", "REACTIONS")


def _param(params: dict, group: str, name: str):
    try:
        return params[group][name]["value"]
    except KeyError:
        return None


def _labels(params: dict) -> list[str]:
    """``POINT:LABELS`` followed by ``LABELS2``, ``LABELS3``... (C3D splits more than 255 labels)."""
    labels = list(_param(params, "POINT", "LABELS") or [])
    k = 2
    while (more := _param(params, "POINT", f"LABELS{k}")) is not None:
        labels.extend(more)
        k += 1
    return [str(lab).strip() for lab in labels]


def read_c3d(path: str | Path, up_axis: str = "y") -> MarkerData:
    """Read marker trajectories from a C3D file.

    Args:
        path: the ``.c3d`` file.
        up_axis: the lab's vertical axis, ``"y"`` (kept as is) or ``"z"`` (rotated to y up, see module doc).

    Returns:
        :class:`MarkerData`: positions ``(T, M, 3)`` metres, times from 0 s at ``POINT:RATE``, frame numbers
        from the file's first frame (1-based), ``source_units`` from ``POINT:UNITS``.

    Raises:
        ConfigError: ``up_axis`` is not ``"y"`` or ``"z"``.
        InputFileError: missing or unreadable file, no point rate, unknown units, blank or repeated labels.
    """
    up = up_axis.strip().lower()
    if up not in ("y", "z"):
        raise ConfigError(f"up_axis must be 'y' or 'z', got {up_axis!r}")
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "C3D file not found" if not path.exists() else "expected a C3D file")
    import ezc3d

    try:
        c3d = ezc3d.c3d(str(path))
    except Exception as exc:  # ezc3d raises plain RuntimeError/IOError for corrupt files
        raise InputFileError(path, f"cannot read as C3D ({exc})") from exc
    params = c3d["parameters"]
    rate_value = _param(params, "POINT", "RATE")
    rate = float(np.ravel(rate_value)[0]) if rate_value is not None and np.size(rate_value) else 0.0
    if not rate > 0:
        rate = float(c3d["header"]["points"].get("frame_rate", 0.0) or 0.0)
    if not rate > 0:
        raise InputFileError(path, "no POINT:RATE (point sampling rate) in the file")
    units_value = _param(params, "POINT", "UNITS")
    units_text = str(units_value[0]).strip() if units_value else "mm"
    if not units_value:
        log.warning("%s: no POINT:UNITS parameter; assuming mm", path)
    units = normalize_units(units_text)
    if units is None:
        raise InputFileError(path, f"unknown POINT:UNITS {units_text!r}; expected mm, cm or m")

    points = np.asarray(c3d["data"]["points"], dtype=np.float64)  # (4, M, T) in POINT:UNITS
    labels = _labels(params)
    n_points = points.shape[1]
    if len(labels) < n_points:
        raise InputFileError(path, f"{n_points} points but only {len(labels)} POINT:LABELS")
    labels = labels[:n_points]
    non_marker = set()
    for group in _NON_MARKER_GROUPS:
        non_marker.update(str(v).strip() for v in (_param(params, "POINT", group) or []))
    keep = [i for i, lab in enumerate(labels) if lab not in non_marker]
    if len(keep) < n_points:
        log.debug("%s: %d non-marker points left out", path, n_points - len(keep))
    names = [labels[i] for i in keep]
    seen: dict[str, int] = {}
    for i, name in zip(keep, names):
        if not name:
            raise InputFileError(path, f"point {i + 1} has a blank POINT:LABELS entry; every marker needs a name")
        if name in seen:
            raise InputFileError(
                path, f"marker {name!r} appears twice in POINT:LABELS (points {seen[name] + 1} and {i + 1})"
            )
        seen[name] = i

    positions = np.transpose(points[:3, keep, :], (2, 1, 0)) * UNIT_SCALE[units]  # (T, M, 3) metres
    residuals = c3d["data"].get("meta_points", {}).get("residuals")
    if residuals is not None and np.size(residuals):
        res = np.asarray(residuals, dtype=np.float64)[0][keep, :].T  # (T, M)
        positions[res < 0] = np.nan
    positions[np.isnan(positions).any(axis=2)] = np.nan
    if up == "z":
        positions = positions @ Z_UP_TO_Y_UP.T

    T = positions.shape[0]
    first = int(c3d["header"]["points"].get("first_frame", 0)) + 1
    data = MarkerData(
        marker_names=tuple(names),
        positions=positions,
        times=np.arange(T, dtype=np.float64) / rate,
        rate=rate,
        frame_numbers=np.arange(first, first + T, dtype=np.int64),
        source_units=units,
        source=path,
    )
    log.debug("read %s: %d frames, %d markers, %s at %g Hz", path, T, len(names), units, rate)
    return data
