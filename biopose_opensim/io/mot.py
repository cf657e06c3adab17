"""Motion files (``.mot`` / ``.sto``): :class:`MotionData`, reading, writing, and coordinates in SI units.

Two header styles are read, both ending with an ``endheader`` line followed by a tab-separated label row
(``time`` first) and the data rows:

* OpenSim 4 (``STOFileAdapter``): a name line, then ``key=value`` lines (``version=1``, ``nRows``, ``nColumns``,
  ``inDegrees=yes|no``, ...).
* Old SIMM / OpenSim 3 motion files: ``name ...``, ``datacolumns N``, ``datarows N``, ``range t0 t1``,
  ``otherdata 1`` (possibly after a few ``key=value`` lines). They carry no ``inDegrees``; as in OpenSim's
  ``Storage``, rotational values in them are taken to be in degrees.

An OpenSim 4 header without ``inDegrees`` is read as radians, again as OpenSim's ``Storage`` does.
We write OpenSim 4 headers; :func:`write_coordinates_mot` writes rotational coordinates in degrees with
``inDegrees=yes`` and translations in metres.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from ..atomic import atomic_open
from ..errors import CoordinateMismatchError, InputFileError
from ._text import check_increasing, parse_table, read_lines, split_fields, trim_trailing_empty

log = logging.getLogger(__name__)

_SIMM_KEYS = ("datacolumns", "datarows", "range", "otherdata", "name", "wrapobjects", "units")
_TRANSLATION_SUFFIXES = ("_tx", "_ty", "_tz")


@dataclass(frozen=True, eq=False)
class MotionData:
    """Columns of a ``.mot`` / ``.sto`` file.

    Attributes:
        column_labels: ``N`` data-column labels, excluding ``time``, in file order (duplicates are kept:
            old files repeat force labels).
        times: ``(T,)`` seconds.
        values: ``(T, N)`` float64 as stored in the file (degrees for rotational columns when ``in_degrees``).
        in_degrees: whether rotational columns are in degrees.
        name: the file's name line.
        source: the file these data were read from, if any.
    """

    column_labels: tuple[str, ...]
    times: np.ndarray
    values: np.ndarray
    in_degrees: bool
    name: str = "motion"
    source: Path | None = field(default=None)

    def __post_init__(self) -> None:
        labels = tuple(str(c) for c in self.column_labels)
        times = np.asarray(self.times, dtype=np.float64).reshape(-1)
        values = np.asarray(self.values, dtype=np.float64)
        if values.ndim == 1 and len(labels) == 1:
            values = values[:, None]
        if values.ndim != 2 or values.shape != (times.shape[0], len(labels)):
            raise ValueError(
                f"values must have shape (T, N) = ({times.shape[0]}, {len(labels)}), got {values.shape}"
            )
        object.__setattr__(self, "column_labels", labels)
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "in_degrees", bool(self.in_degrees))
        if self.source is not None:
            object.__setattr__(self, "source", Path(self.source))

    @property
    def n_frames(self) -> int:
        """Number of rows ``T``."""
        return int(self.times.shape[0])

    def _where(self) -> str:
        return f" in {self.source}" if self.source is not None else ""

    def column(self, name: str) -> np.ndarray:
        """Values ``(T,)`` of the column labelled ``name``.

        Raises:
            CoordinateMismatchError: no such column, or the label appears more than once.
        """
        idx = [i for i, c in enumerate(self.column_labels) if c == name]
        if not idx:
            raise CoordinateMismatchError(
                f"column {name!r} not found{self._where()}; columns present: {', '.join(self.column_labels)}"
            )
        if len(idx) > 1:
            raise CoordinateMismatchError(f"column {name!r} appears {len(idx)} times{self._where()}; it is ambiguous")
        return self.values[:, idx[0]]

    def select(self, labels: Iterable[str]) -> "MotionData":
        """Only the columns ``labels``, in that order.

        Raises:
            CoordinateMismatchError: some labels are absent (all are named) or ambiguous.
        """
        labels = tuple(labels)
        missing = [c for c in labels if c not in self.column_labels]
        if missing:
            raise CoordinateMismatchError(
                f"{len(missing)} column(s) not found{self._where()}: {', '.join(missing)}; "
                f"columns present: {', '.join(self.column_labels)}"
            )
        cols = np.stack([self.column(c) for c in labels], axis=1) if labels else np.empty((self.n_frames, 0))
        return MotionData(labels, self.times, cols, self.in_degrees, self.name, self.source)

    def __repr__(self) -> str:
        src = f", source={str(self.source)!r}" if self.source is not None else ""
        return (
            f"MotionData({self.name!r}: {self.n_frames} rows x {len(self.column_labels)} columns, "
            f"in_degrees={self.in_degrees}{src})"
        )


def _parse_header(path: Path, header: list[str]) -> tuple[str, bool | None, bool, int | None]:
    """Return (name, inDegrees or None, SIMM-style?, declared number of rows or None)."""
    name = ""
    in_degrees: bool | None = None
    simm = False
    n_rows: int | None = None
    for i, raw in enumerate(header):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "=" in line:
            key, _, value = (s.strip() for s in line.partition("="))
            low = key.lower()
            if low == "indegrees":
                if value.lower() not in ("yes", "no"):
                    raise InputFileError(path, f"inDegrees must be 'yes' or 'no', found {value!r}", line=i + 1)
                in_degrees = value.lower() == "yes"
            elif low == "nrows":
                try:
                    n_rows = int(value)
                except ValueError:
                    raise InputFileError(path, f"nRows must be an integer, found {value!r}", line=i + 1) from None
            continue
        key, _, rest = line.partition(" ")
        low = key.lower()
        if low in _SIMM_KEYS and (rest.strip() or low == "name"):
            simm = simm or low in ("datacolumns", "datarows", "range")
            if low == "name" and not name:
                name = rest.strip()
            elif low == "datarows":
                try:
                    n_rows = int(rest.split()[0])
                except (ValueError, IndexError):
                    raise InputFileError(path, f"datarows must be an integer, found {rest.strip()!r}", line=i + 1) from None
            continue
        if not name:
            name = line
    return name or path.stem, in_degrees, simm, n_rows


def read_mot(path: str | Path) -> MotionData:
    """Read a ``.mot`` or ``.sto`` file (OpenSim 4 or old SIMM header).

    Returns:
        :class:`MotionData` with values as stored; ``in_degrees`` from ``inDegrees=``, or ``True`` for a SIMM
        header without it, or ``False`` for an OpenSim 4 header without it.

    Raises:
        InputFileError: missing/unreadable file, no ``endheader`` line, no ``time`` label, a row whose number of
            values differs from the labels', a non-numeric value, or times that do not increase strictly (the
            message names the file, line and column).
    """
    path, lines = read_lines(path, "motion")
    end = next((i for i, line in enumerate(lines) if line.strip().lower() == "endheader"), None)
    if end is None:
        raise InputFileError(path, "no 'endheader' line: expected a header ending with 'endheader', then column labels")
    name, in_degrees, simm, declared_rows = _parse_header(path, lines[:end])
    label_idx = next((i for i in range(end + 1, len(lines)) if lines[i].strip()), None)
    if label_idx is None:
        raise InputFileError(path, "expected a line of column labels after 'endheader'", line=end + 2)
    labels = [c.strip() for c in trim_trailing_empty(split_fields(lines[label_idx].strip("\r\n")), keep=1)]
    if not labels or labels[0].lower() != "time":
        raise InputFileError(
            path, f"expected the first column label to be 'time', found {labels[0] if labels else ''!r}", line=label_idx + 1
        )
    for k, lab in enumerate(labels):
        if not lab:
            raise InputFileError(path, f"column {k + 1} has no label", line=label_idx + 1)
    data_labels = labels[1:]
    n_cols = len(labels)

    rows: list[list[str]] = []
    line_numbers: list[int] = []
    for i in range(label_idx + 1, len(lines)):
        line = lines[i]
        if not line.strip():
            continue
        fields = trim_trailing_empty(split_fields(line.strip(" ")), keep=1)
        if len(fields) == n_cols + 1 and not fields[0].strip():
            fields = fields[1:]  # a row starting with a tab
        if len(fields) != n_cols:
            raise InputFileError(
                path, f"row has {len(fields)} values but there are {n_cols} column labels (time + {n_cols - 1})",
                line=i + 1,
            )
        rows.append(fields)
        line_numbers.append(i + 1)

    def describe(col: int) -> str:
        return f"column {col + 1} ({labels[col]!r})"

    table = parse_table(path, rows, line_numbers, n_cols, describe)
    bad = np.flatnonzero(~np.isfinite(table[:, 0]))
    if bad.size:
        raise InputFileError(path, "time is missing or not finite", line=line_numbers[bad[0]])
    check_increasing(path, table[:, 0], line_numbers, "time")
    if declared_rows is not None and declared_rows != len(rows):
        log.warning("%s: header declares %d rows but %d were read; using the data", path, declared_rows, len(rows))
    dupes = sorted({c for c in data_labels if data_labels.count(c) > 1})
    if dupes:
        log.debug("%s: repeated column labels: %s", path, ", ".join(dupes))
    if in_degrees is None:
        in_degrees = simm
        log.debug("%s: no inDegrees in header; assuming %s", path, "degrees (SIMM header)" if simm else "radians")
    return MotionData(
        column_labels=tuple(data_labels),
        times=table[:, 0].copy(),
        values=table[:, 1:].copy(),
        in_degrees=in_degrees,
        name=name,
        source=path,
    )


def _check_label(label: str) -> None:
    if not label or label != label.strip() or any(c in label for c in "\t\r\n"):
        raise ValueError(f"column label {label!r} cannot be written (empty, tab, newline or edge spaces)")


def write_mot(path: str | Path, data: MotionData) -> Path:
    """Write ``data`` as an OpenSim 4 ``.mot``/``.sto`` file, atomically.

    The header holds the name, ``version=1``, ``nRows``, ``nColumns`` (time included), ``inDegrees`` and
    ``endheader``; values are written with 12 significant digits, missing values as ``NaN``. The file loads in
    ``opensim.TimeSeriesTable`` and, when it holds no NaN, in the legacy ``opensim.Storage`` (which stops reading
    at the first NaN; a warning is logged then).

    Returns:
        The path written.
    """
    path = Path(path)
    for label in data.column_labels:
        _check_label(label)
    name = (data.name or path.stem).replace("\n", " ").replace("\r", " ").strip() or path.stem
    if "=" in name or name.lower() == "endheader":
        raise ValueError(f"motion name {name!r} cannot be written as a header line")
    if np.isinf(data.values).any() or not np.isfinite(data.times).all():
        raise ValueError("motion values must be finite or NaN, and times finite")
    if np.any(np.diff(data.times) <= 0):
        raise ValueError("times must increase strictly (OpenSim rejects motion files whose times do not)")
    T, N = data.values.shape
    if np.isnan(data.values).any():
        log.warning(
            "%s: %d missing (NaN) value(s) written; opensim.TimeSeriesTable reads them, but tools using the legacy "
            "opensim.Storage reader stop at the first NaN row", path, int(np.isnan(data.values).sum()),
        )
    header = [
        name,
        "version=1",
        f"nRows={T}",
        f"nColumns={N + 1}",
        f"inDegrees={'yes' if data.in_degrees else 'no'}",
        "endheader",
        "\t".join(("time",) + data.column_labels),
    ]
    fmt = "\t".join(["%.12g"] * (N + 1))
    block = np.concatenate([data.times[:, None], data.values], axis=1)
    with atomic_open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(header) + "\n")
        for row in block:
            fh.write((fmt % tuple(row)).replace("nan", "NaN") + "\n")
    log.debug("wrote %s: %d rows x %d columns, inDegrees=%s", path, T, N, data.in_degrees)
    return path


def write_coordinates_mot(
    path: str | Path,
    times: np.ndarray,
    q: np.ndarray,
    coordinate_names: Sequence[str],
    rotational: Sequence[bool] | np.ndarray | Mapping[str, bool],
    name: str = "Coordinates",
) -> Path:
    """Write generalized coordinates as an OpenSim ``.mot``: rotational columns in degrees, ``inDegrees=yes``.

    Args:
        path: target file (written atomically).
        times: ``(T,)`` seconds.
        q: ``(T, N)`` coordinate values, radians for rotational and metres for translational coordinates.
        coordinate_names: ``N`` names, exactly as in the ``.osim``.
        rotational: ``(N,)`` bool, True where the coordinate is rotational (converted to degrees); or a mapping
            name -> bool holding every name.
        name: the file's name line.

    Returns:
        The path written.
    """
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    q = np.asarray(q, dtype=np.float64)
    names = tuple(coordinate_names)
    if isinstance(rotational, Mapping):
        absent = [n for n in names if n not in rotational]
        if absent:
            raise CoordinateMismatchError(f"rotational flags missing for coordinate(s): {', '.join(absent)}")
        rotational = [rotational[n] for n in names]
    rot = np.asarray(rotational, dtype=bool).reshape(-1)
    if q.ndim != 2 or q.shape != (times.shape[0], len(names)):
        raise ValueError(f"q must have shape (T, N) = ({times.shape[0]}, {len(names)}), got {q.shape}")
    if rot.shape != (len(names),):
        raise ValueError(f"rotational must have one flag per coordinate ({len(names)}), got shape {rot.shape}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise CoordinateMismatchError(f"coordinate names repeated: {', '.join(dupes)}")
    values = np.where(rot[None, :], np.degrees(q), q)
    return write_mot(path, MotionData(names, times, values, in_degrees=True, name=name))


def read_coordinates(
    path: str | Path, rotational: Mapping[str, bool] | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Read generalized coordinates from a ``.mot``/``.sto`` and return them in radians and metres.

    Args:
        path: the motion file.
        rotational: coordinate name -> True if rotational. When the file is in degrees, rotational columns are
            converted to radians. Columns absent from the mapping (and every column when it is ``None``) are
            converted unless their name ends in ``_tx``, ``_ty`` or ``_tz``; a warning lists such columns when a
            mapping was given.

    Returns:
        ``(times (T,) s, q (T, N) radians/metres, names (N,))`` in file order.
    """
    motion = read_mot(path)
    names = motion.column_labels
    q = motion.values.copy()
    if motion.in_degrees:
        if rotational is None:
            rot = [not n.endswith(_TRANSLATION_SUFFIXES) for n in names]
        else:
            unknown = [n for n in names if n not in rotational]
            if unknown:
                log.warning(
                    "%s: %d column(s) not in the model's coordinates, converted by name (…_tx/_ty/_tz kept): %s",
                    motion.source, len(unknown), ", ".join(unknown[:10]) + (" …" if len(unknown) > 10 else ""),
                )
            rot = [bool(rotational[n]) if n in rotational else not n.endswith(_TRANSLATION_SUFFIXES) for n in names]
        rot_arr = np.asarray(rot, dtype=bool)
        q[:, rot_arr] = np.radians(q[:, rot_arr])
    return motion.times.copy(), q, names
