"""TRC marker files (the OpenSim / Motion Analysis text format): :func:`read_trc` and :func:`write_trc`.

Layout of a TRC file (fields separated by tabs)::

    PathFileType  4  (X/Y/Z)  <file name>                      line 1
    DataRate  CameraRate  NumFrames  NumMarkers  Units  ...     line 2: header keys
    100  100  238  41  mm  ...                                  line 3: header values
    Frame#  Time  R.ASIS  <blank>  <blank>  L.ASIS  ...         line 4: a marker name every third column
    <blank>  <blank>  X1  Y1  Z1  X2  Y2  Z2  ...               line 5: coordinate labels
    <optional blank line>
    1  0.000  608.66  1072.71  157.44  ...                      data: Frame#, Time, then X Y Z per marker

Positions are converted to metres on reading. Missing values (empty fields, ``NaN``, rows cut short) become NaN.
We write ``NaN`` for missing values: OpenSim 4.6's ``TRCFileAdapter`` reads ``NaN`` but rejects empty fields.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from ..atomic import atomic_open
from ..errors import InputFileError
from ._text import check_increasing, parse_table, read_lines, split_fields, trim_trailing_empty
from .markerdata import UNIT_SCALE, MarkerData, normalize_units

log = logging.getLogger(__name__)

_AXES = "XYZ"
_COORD_LABEL = re.compile(r"^([XYZ])(\d+)$", re.IGNORECASE)
#: Decimals written per unit: every choice resolves 1e-9 m (round-off <= 5e-10 m).
_DECIMALS = {"mm": 6, "cm": 7, "m": 9}


def _header_values(path: Path, lines: list[str]) -> dict[str, str]:
    """Parse lines 2 and 3 (header keys and values) into a dict."""
    if len(lines) < 3 or "datarate" not in lines[1].lower():
        raise InputFileError(
            path,
            "expected the header-keys line 'DataRate CameraRate NumFrames NumMarkers Units OrigDataRate ...'",
            line=2,
        )
    keys = lines[1].split()
    values = lines[2].split()
    if len(values) != len(keys):
        # Empty values keep their place only when the fields are tab-aligned with the keys.
        tab_values = [v.strip() for v in lines[2].split("\t")]
        tab_keys = [k.strip() for k in lines[1].split("\t")]
        if len(tab_values) == len(tab_keys):
            keys, values = tab_keys, tab_values
        else:
            raise InputFileError(
                path,
                f"expected {len(keys)} header values for {' '.join(keys)}, found {len(values)}",
                line=3,
            )
    return {k: v for k, v in zip(keys, values) if k}


def _marker_names(path: Path, lines: list[str], num_markers: int | None) -> tuple[list[str], int]:
    """Parse lines 4 and 5 (names and X1/Y1/Z1 labels); return the names and the number of marker columns."""
    if len(lines) < 4 or not lines[3].strip().lower().startswith("frame#"):
        raise InputFileError(path, "expected the marker-name line starting with 'Frame#<tab>Time'", line=4)
    if len(lines) < 5 or not lines[4].split() or not all(_COORD_LABEL.match(t) for t in lines[4].split()):
        raise InputFileError(path, "expected the coordinate-label line 'X1 Y1 Z1 X2 Y2 Z2 ...'", line=5)
    labels = lines[4].split()
    if len(labels) % 3 != 0 or any(lab.upper() != f"{_AXES[i % 3]}{i // 3 + 1}" for i, lab in enumerate(labels)):
        raise InputFileError(
            path, "coordinate labels must run X1 Y1 Z1 X2 Y2 Z2 ... in order, three per marker", line=5
        )
    n_xyz = len(labels) // 3

    fields = [f.strip() for f in lines[3].split("\t")]
    if len(fields) < 2 or fields[1].lower() != "time":
        raise InputFileError(path, "expected the marker-name line to start with 'Frame#<tab>Time'", line=4)
    cells = fields[2:]
    off_grid = [i for i, c in enumerate(cells) if c and i % 3 != 0]
    if off_grid:
        # Some writers separate names by a single tab: accept that only when it is unambiguous.
        names = [c for c in cells if c]
        if len(names) != n_xyz:
            raise InputFileError(
                path,
                f"marker names must sit every third column (Frame#, Time, name, blank, blank, ...); "
                f"found {cells[off_grid[0]]!r} in column {off_grid[0] + 3}",
                line=4,
            )
        log.debug("%s: marker names are not tab-aligned with their X/Y/Z columns; read them in order", path)
    else:
        slots = cells[0::3]
        while slots and not slots[-1]:
            slots.pop()
        for k, name in enumerate(slots):
            if not name:
                raise InputFileError(
                    path, f"marker {k + 1} (column {3 * k + 3}) has no name; every marker needs a name", line=4
                )
        names = slots
    if len(names) != n_xyz:
        raise InputFileError(
            path,
            f"{len(names)} marker names on line 4 but {n_xyz} X/Y/Z triplets on line 5; they must match",
            line=4,
        )
    seen: dict[str, int] = {}
    for k, name in enumerate(names):
        if name in seen:
            raise InputFileError(
                path,
                f"marker {name!r} appears twice (markers {seen[name] + 1} and {k + 1}); marker names must be unique",
                line=4,
            )
        seen[name] = k
    if num_markers is not None and num_markers != len(names):
        log.warning(
            "%s: header says NumMarkers=%d but the file names %d markers; using the %d named markers",
            path, num_markers, len(names), len(names),
        )
    return names, n_xyz


def _header_number(path: Path, header: dict[str, str], key: str, kind: type, required: bool):
    if key not in header or header[key] == "":
        if required:
            raise InputFileError(path, f"header has no {key} value (expected a number on line 3)", line=3)
        return None
    text = header[key]
    try:
        value = kind(float(text)) if kind is int else float(text)
    except ValueError:
        raise InputFileError(path, f"header {key} must be a number, found {text!r}", line=3) from None
    return value


def read_trc(path: str | Path) -> MarkerData:
    """Read a TRC marker file.

    Args:
        path: the ``.trc`` file.

    Returns:
        :class:`MarkerData` with positions ``(T, M, 3)`` in metres (converted from the header's ``Units``),
        the file's times, frame numbers and ``DataRate``; NaN for missing values.

    Raises:
        InputFileError: the file is missing or unreadable, a header line is missing or malformed, the units are
            unknown, a marker name is blank or repeated, a data row has more columns than ``2 + 3 * markers``,
            a value is not a number, or times do not increase strictly. The message names the file, the line and
            the column or marker.
    """
    path, lines = read_lines(path, "TRC")
    if not lines[0].strip().lower().startswith("pathfiletype"):
        raise InputFileError(path, "expected the first line to start with 'PathFileType' (a TRC header)", line=1)
    header = _header_values(path, lines)
    rate = _header_number(path, header, "DataRate", float, required=True)
    if not (np.isfinite(rate) and rate > 0):
        raise InputFileError(path, f"DataRate must be a positive number of Hz, found {header['DataRate']!r}", line=3)
    units_text = header.get("Units", "")
    if not units_text:
        raise InputFileError(path, "header has no Units value (expected mm, cm or m)", line=3)
    units = normalize_units(units_text)
    if units is None:
        raise InputFileError(path, f"unknown Units {units_text!r}; expected mm, cm or m", line=3)
    num_frames = _header_number(path, header, "NumFrames", int, required=False)
    num_markers = _header_number(path, header, "NumMarkers", int, required=False)
    names, n_markers = _marker_names(path, lines, num_markers)

    n_cols = 2 + 3 * n_markers
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    for i in range(5, len(lines)):
        line = lines[i]
        if not line.strip():
            continue
        fields = trim_trailing_empty(split_fields(line), keep=2)
        if len(fields) > n_cols:
            raise InputFileError(
                path,
                f"row has {len(fields)} columns but {n_markers} markers allow at most {n_cols} "
                f"(Frame#, Time and X/Y/Z per marker)",
                line=i + 1,
            )
        rows.append(fields)
        line_numbers.append(i + 1)
    if not rows:
        raise InputFileError(path, "no data rows after the header (expected Frame#, Time, X/Y/Z per marker)")

    def describe(col: int) -> str:
        if col == 0:
            return "column 1 (Frame#)"
        if col == 1:
            return "column 2 (Time)"
        k, axis = divmod(col - 2, 3)
        return f"column {col + 1} (marker {names[k]!r}, {_AXES[axis]})"

    table = parse_table(path, rows, line_numbers, n_cols, describe)
    for col, what in ((0, "Frame#"), (1, "Time")):
        bad = np.flatnonzero(~np.isfinite(table[:, col]))
        if bad.size:
            raise InputFileError(path, f"{what} is missing (column {col + 1}); every row needs one", line=line_numbers[bad[0]])
    check_increasing(path, table[:, 1], line_numbers, "Time")
    frames = table[:, 0]
    if np.any(frames != np.round(frames)):
        bad = int(np.flatnonzero(frames != np.round(frames))[0])
        raise InputFileError(path, f"Frame# must be an integer, found {rows[bad][0].strip()!r}", line=line_numbers[bad])
    if num_frames is not None and num_frames != len(rows):
        log.warning("%s: header says NumFrames=%d but %d data rows were read; using the data", path, num_frames, len(rows))

    positions = table[:, 2:].reshape(len(rows), n_markers, 3) * UNIT_SCALE[units]
    # A marker is missing as a whole: a partly blank triplet is treated as missing in all three coordinates.
    positions[np.isnan(positions).any(axis=2)] = np.nan
    data = MarkerData(
        marker_names=tuple(names),
        positions=positions,
        times=table[:, 1].copy(),
        rate=rate,
        frame_numbers=frames.astype(np.int64),
        source_units=units,
        source=path,
    )
    log.debug("read %s: %d frames, %d markers, %s at %g Hz", path, data.n_frames, data.n_markers, units, rate)
    return data


def _check_name(name: str) -> None:
    if not name or name != name.strip() or any(c in name for c in "\t\r\n"):
        raise ValueError(f"marker name {name!r} cannot be written to a TRC file (empty, tab, newline or edge spaces)")


def write_trc(path: str | Path, data: MarkerData, units: str = "mm") -> Path:
    """Write ``data`` to a TRC file, atomically; the file loads in OpenSim's ``TRCFileAdapter``.

    Args:
        path: target ``.trc`` file (its folder is created); an existing file is replaced only once the new
            one is complete.
        data: marker trajectories in metres.
        units: ``"mm"`` (default), ``"cm"`` or ``"m"``; values are written with 6, 7 or 9 decimals
            respectively, i.e. a resolution of 1e-9 m. Missing values are written as ``NaN``.

    Returns:
        The path written.
    """
    unit = normalize_units(units)
    if unit is None:
        raise ValueError(f"units must be mm, cm or m; got {units!r}")
    if data.n_frames == 0:
        raise ValueError("cannot write a TRC file with no frames")
    if data.n_markers == 0:
        raise ValueError("cannot write a TRC file with no markers")
    for name in data.marker_names:
        _check_name(name)
    if np.isinf(data.positions).any() or not np.isfinite(data.times).all():
        raise ValueError("positions must be finite or NaN, and times finite")
    if np.any(np.diff(data.times) <= 0):
        raise ValueError("times must increase strictly (OpenSim rejects TRC files whose times do not)")
    path = Path(path)
    scale = 1.0 / UNIT_SCALE[unit]
    dec = _DECIMALS[unit]
    T, M = data.n_frames, data.n_markers
    rate = f"{data.rate:g}" if float(f"{data.rate:g}") == data.rate else repr(data.rate)
    first_frame = int(data.frame_numbers[0])

    header = [
        f"PathFileType\t4\t(X/Y/Z)\t{path.name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
        f"{rate}\t{rate}\t{T}\t{M}\t{unit}\t{rate}\t{first_frame}\t{T}",
        "Frame#\tTime\t" + "\t".join(f"{n}\t\t" for n in data.marker_names),
        "\t\t" + "\t".join(f"X{k}\tY{k}\tZ{k}" for k in range(1, M + 1)),
        "",
    ]
    values = data.positions.reshape(T, 3 * M) * scale
    # Format as one block: numpy's savetxt-style formatting is much faster than per-value Python formatting.
    value_fmt = "\t".join([f"%.{dec}f"] * (3 * M))
    with atomic_open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(header) + "\n")
        for t in range(T):
            row = value_fmt % tuple(values[t])
            fh.write(f"{int(data.frame_numbers[t])}\t{data.times[t]:.9f}\t{row.replace('nan', 'NaN')}\n")
    log.debug("wrote %s: %d frames, %d markers in %s", path, T, M, unit)
    return path
