"""Shared plumbing for the command-line modules: common options, logging set-up and error-to-exit-code handling.

Command-line modules only parse arguments and call one library function; they wrap that call in
:func:`run_cli` so that a :class:`~biopose_opensim.errors.BioposeError` becomes a clear one-line message
and a non-zero exit status instead of a traceback. Options every command spells the same way (``--workers`` /
``--scheduler``, ``--overwrite``, ``--no-progress``, ``-v``) are added by the ``add_*_arguments`` helpers.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Callable

from .errors import BioposeError

log = logging.getLogger(__name__)


def add_parallel_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--workers N`` (local worker processes) and ``--scheduler tcp://HOST:PORT`` (a Dask cluster instead)."""
    parser.add_argument("--workers", type=int, help="local worker processes (default: CPU cores)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                        help="Dask distributed scheduler address (instead of local workers)")


def add_overwrite_argument(parser: argparse.ArgumentParser | argparse._ArgumentGroup, what: str) -> None:
    """``--overwrite``: replace ``what`` (e.g. "results already in --out") instead of refusing."""
    parser.add_argument("--overwrite", action="store_true", help=f"replace {what}")


def add_verbosity_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup,
                            progress: bool = False) -> None:
    """``-v/--verbose`` (repeatable: DEBUG on the console) and, with ``progress``, ``--no-progress``."""
    if progress:
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more console output")


def setup_logging(verbosity: int = 0, log_file: str | Path | None = None) -> None:
    """Log to the console (INFO, or DEBUG with ``verbosity >= 1``) and optionally to ``log_file``."""
    level = logging.DEBUG if verbosity >= 1 else logging.INFO
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    for handler in list(root.handlers):
        if getattr(handler, "_biopose", False):
            root.removeHandler(handler)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(level)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    console._biopose = True  # type: ignore[attr-defined]
    root.addHandler(console)
    if log_file is not None:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(log_file, encoding="utf-8")
        fh.setLevel(logging.DEBUG)
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        fh._biopose = True  # type: ignore[attr-defined]
        root.addHandler(fh)


def run_cli(func: Callable[[], int | None]) -> int:
    """Run ``func``; turn a :class:`BioposeError` into a logged message and its exit code."""
    try:
        rc = func()
    except BioposeError as exc:
        log.error("%s", exc)
        return exc.exit_code
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130
    return int(rc or 0)
