"""Exceptions a user can act on.

Every error raised for bad input derives from :class:`BioposeError`; command-line entry points catch it,
log its message and exit with a non-zero status. Messages name the file, line, marker or coordinate at fault
and what was expected.
"""
from __future__ import annotations

from pathlib import Path


class BioposeError(Exception):
    """Base class of all errors caused by the user's input or environment."""

    exit_code = 2


class InputFileError(BioposeError):
    """A file is missing, unreadable or malformed.

    Args:
        path: the file at fault.
        message: what is wrong and what was expected.
        line: 1-based line number in ``path`` where the problem was found, if known.
    """

    def __init__(self, path: str | Path, message: str, line: int | None = None):
        self.path = Path(path)
        self.line = line
        where = f"{self.path}" + (f", line {line}" if line is not None else "")
        super().__init__(f"{where}: {message}")


class MarkerMismatchError(BioposeError):
    """Marker names in a trial do not match the model's markers."""


class CoordinateMismatchError(BioposeError):
    """Coordinate names in a motion do not match the model's coordinates."""


class OutputExistsError(BioposeError):
    """An output folder already holds results and overwriting was not requested."""


class ConfigError(BioposeError):
    """A configuration value or command-line option is invalid."""


class UnsupportedModelError(BioposeError):
    """An .osim model uses an element this package does not support."""
