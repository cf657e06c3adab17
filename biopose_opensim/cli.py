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
    """Log to the console (INFO, or DEBUG with ``verbosity >= 1``) and optionally to ``log_file``.

    The log file is only created once the run has written something into the log file's folder: a run refused
    before it changes anything (results present, bad input found up front) leaves that folder untouched. Until
    then records are kept in memory; :func:`run_cli` settles them when the run ends.
    """
    level = logging.DEBUG if verbosity >= 1 else logging.INFO
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    for handler in list(root.handlers):
        if getattr(handler, "_biopose", False):
            root.removeHandler(handler)
            handler.close()
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(level)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    console._biopose = True  # type: ignore[attr-defined]
    root.addHandler(console)
    if log_file is not None:
        fh = DeferredFileHandler(log_file)
        fh.setLevel(logging.DEBUG)
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        fh._biopose = True  # type: ignore[attr-defined]
        root.addHandler(fh)


def _folder_state(folder: Path) -> int | None:
    """The folder's modification time (ns), which changes whenever an entry is added, removed or renamed in it;
    None when it does not exist."""
    try:
        return folder.stat().st_mtime_ns
    except OSError:
        return None


class DeferredFileHandler(logging.Handler):
    """A log file that appears only once the run has changed the file's folder.

    Records are buffered while the folder is as it was when the handler was made; at the first record after the
    folder changed, the file is opened (appended to) with the buffer, and records go straight to it from then on.
    :meth:`settle` (called when the run ends) writes the buffer if the folder changed, else drops it.
    """

    def __init__(self, path: str | Path):
        super().__init__()
        self.path = Path(path)
        self._initial = _folder_state(self.path.parent)
        self._buffer: list[logging.LogRecord] = []
        self._stream = None

    def _folder_changed(self) -> bool:
        return _folder_state(self.path.parent) != self._initial

    def _open(self) -> None:
        self._stream = open(self.path, "a", encoding="utf-8")
        for record in self._buffer:
            self._stream.write(self.format(record) + "\n")
        self._buffer.clear()
        self._stream.flush()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self._stream is None:
                if not self._folder_changed():
                    self._buffer.append(record)
                    return
                self._open()
            self._stream.write(self.format(record) + "\n")
            self._stream.flush()
        except Exception:  # noqa: BLE001 - logging must never stop the run
            self.handleError(record)

    def settle(self) -> None:
        """Write the buffered records if the folder changed during the run; else drop them."""
        self.acquire()
        try:
            if self._stream is None and self._buffer and self._folder_changed() and self.path.parent.is_dir():
                self._open()
            self._buffer.clear()
        finally:
            self.release()

    def close(self) -> None:
        self.acquire()
        try:
            if self._stream is not None:
                self._stream.close()
                self._stream = None
        finally:
            self.release()
        super().close()


def settle_log_files() -> None:
    """Settle every :class:`DeferredFileHandler` (see there); called by :func:`run_cli` at the end of a run."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, DeferredFileHandler):
            handler.settle()


def run_cli(func: Callable[[], int | None]) -> int:
    """Run ``func``; turn its failure into one logged line and an exit status.

    Exit statuses: ``func``'s return value (0 by default); 2 for a :class:`BioposeError` (bad input, refused
    output folder; :attr:`BioposeError.exit_code`); 1 for an operating-system error (a file that cannot be
    written, a full disk); 130 for Ctrl-C (SIGINT), at any moment of the run.
    """
    try:
        rc = func()
    except BioposeError as exc:
        log.error("%s", exc)
        return exc.exit_code
    except KeyboardInterrupt:
        log.error("interrupted (Ctrl-C); the run stopped, leaving no partial files")
        return 130
    except OSError as exc:
        log.debug("operating-system error", exc_info=True)
        where = f"{exc.filename}: " if exc.filename else ""
        log.error("%s%s", where, exc.strerror or exc)
        return 1
    finally:
        settle_log_files()
    return int(rc or 0)
