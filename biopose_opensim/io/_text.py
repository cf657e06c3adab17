"""Helpers shared by the text readers (TRC, MOT/STO): reading lines and parsing numeric tables.

Numeric tables are parsed in one vectorised ``numpy`` conversion; only when that fails is the table scanned
field by field to name the exact line and column at fault.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..errors import InputFileError

#: Field strings read as a missing value (besides the empty field).
_MISSING = {"", "nan", "-nan", "+nan", "na", "n/a", "null"}


def read_lines(path: str | Path, what: str) -> tuple[Path, list[str]]:
    """Return ``path`` and its lines (line endings stripped).

    Raises:
        InputFileError: the file is missing, is a folder, cannot be read, or is empty.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, f"{what} file not found")
    if path.is_dir():
        raise InputFileError(path, f"expected a {what} file, found a folder")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(path, f"cannot read {what} file ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # headers of old files may hold Windows paths in a local code page
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise InputFileError(path, f"{what} file is empty")
    return path, lines


def split_fields(line: str) -> list[str]:
    """Split a data line on tabs (keeping empty fields), or on any whitespace when it holds no tab."""
    if "\t" in line:
        return line.split("\t")
    return line.split()


def parse_table(
    path: Path,
    rows: Sequence[list[str]],
    line_numbers: Sequence[int],
    n_cols: int,
    describe_column: Callable[[int], str],
) -> np.ndarray:
    """Convert rows of string fields to a ``(len(rows), n_cols)`` float64 array.

    Rows shorter than ``n_cols`` are padded with NaN; empty fields and ``NaN`` spellings become NaN.
    The caller has already rejected rows longer than ``n_cols``.

    Raises:
        InputFileError: a field is not a number; the message names the line and ``describe_column(col)``.
    """
    if not rows:
        return np.empty((0, n_cols), dtype=np.float64)
    if all(len(fields) == n_cols for fields in rows):
        try:  # fast path: complete rows, no empty fields (Python's float() reads nan/NaN and spaces itself)
            return _reject_inf(path, np.array(rows, dtype=np.float64), line_numbers, describe_column)
        except ValueError:
            pass
    padded = []
    for fields in rows:
        cleaned = [f if f.strip().lower() not in _MISSING else "nan" for f in fields]
        if len(cleaned) < n_cols:
            cleaned.extend(["nan"] * (n_cols - len(cleaned)))
        padded.append(cleaned)
    try:
        table = np.array(padded, dtype=np.float64)
    except ValueError:
        pass
    else:
        return _reject_inf(path, table, line_numbers, describe_column)
    # Slow path, only to name the offending field.
    for fields, line_no in zip(padded, line_numbers):
        for col, field in enumerate(fields):
            try:
                float(field)
            except ValueError:
                raise InputFileError(
                    path, f"{describe_column(col)}: expected a number, found {field.strip()!r}", line=line_no
                ) from None
    raise InputFileError(path, "could not parse the numeric data")  # pragma: no cover - unreachable


def _reject_inf(path: Path, table: np.ndarray, line_numbers: Sequence[int], describe_column) -> np.ndarray:
    if np.isinf(table).any():
        r, c = (int(v[0]) for v in np.nonzero(np.isinf(table)))
        raise InputFileError(path, f"{describe_column(c)}: expected a finite number or NaN, found {table[r, c]}",
                             line=line_numbers[r])
    return table


def trim_trailing_empty(fields: list[str], keep: int) -> list[str]:
    """Drop empty fields at the end of ``fields`` beyond the first ``keep`` (trailing tabs are common)."""
    end = len(fields)
    while end > keep and not fields[end - 1].strip():
        end -= 1
    return fields[:end]


def check_increasing(path: Path, times: np.ndarray, line_numbers: Sequence[int], label: str) -> None:
    """Raise if ``times`` is not strictly increasing (OpenSim's tables reject such files too).

    Raises:
        InputFileError: naming the first line whose time is not after the previous row's.
    """
    bad = np.flatnonzero(np.diff(times) <= 0)
    if bad.size:
        k = int(bad[0]) + 1
        raise InputFileError(
            path,
            f"{label} {times[k]:.9g} is not after the previous row's {times[k - 1]:.9g}; "
            f"times must increase strictly",
            line=line_numbers[k],
        )
