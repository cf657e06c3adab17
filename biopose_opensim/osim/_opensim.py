"""Import ``opensim`` once, quietly; read an OpenSim file with its failure as an ``InputFileError``.

OpenSim logs geometry-file warnings for every model it loads and writes ``opensim.log`` into the working
directory; both are switched off here (warnings of level ``error`` and above still reach the console).
"""
from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

from ..errors import InputFileError

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=None)
def import_opensim(level: str | None = None):
    """Return the ``opensim`` module, configured: no ``opensim.log`` file, log level ``error``.

    ``BIOPOSE_OPENSIM_LOG`` (e.g. ``info``) overrides the level for debugging.
    """
    import opensim

    try:
        opensim.Logger.removeFileSink()
    except Exception:  # pragma: no cover - older OpenSim without a file sink API
        log.debug("could not remove OpenSim's file sink")
    opensim.Logger.setLevelString(level or os.environ.get("BIOPOSE_OPENSIM_LOG", "error"))
    return opensim


def read_file(factory, path: Path, what: str):
    """``factory(str(path))`` (an OpenSim class reading a file); OpenSim's failure becomes an
    :class:`~biopose_opensim.errors.InputFileError` naming ``path`` and ``what`` ("model", "marker set", ...)."""
    try:
        return factory(str(path))
    except RuntimeError as exc:
        raise InputFileError(path, f"OpenSim cannot read this {what}: {first_line(exc)}") from None


def first_line(exc: BaseException) -> str:
    """The first meaningful line of an OpenSim exception's message."""
    text = str(exc).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("std::exception"):
            return line
    return text.splitlines()[0] if text else type(exc).__name__
