"""Import ``opensim`` once, quietly.

OpenSim logs geometry-file warnings for every model it loads and writes ``opensim.log`` into the working
directory; both are switched off here (warnings of level ``error`` and above still reach the console).
"""
from __future__ import annotations

import functools
import logging
import os

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
