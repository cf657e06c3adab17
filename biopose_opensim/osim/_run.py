"""Running OpenSim tools: failures as :class:`OpenSimToolError`, OpenSim's messages routed into Python logging.

OpenSim's console logger writes to the process's stdout (and prints model summaries whatever the log level).
While a tool runs, file descriptor 1 is pointed at ``os.devnull`` and OpenSim's messages (level ``info`` and
above) are captured by a log sink and forwarded to this module's logger at DEBUG (errors at WARNING), so they
land in the label log file rather than on the console.

Ctrl-C (SIGINT) while a tool runs: OpenSim's C++ loop cannot be left half-way, and Python's default handler would
raise ``KeyboardInterrupt`` inside the log sink that OpenSim calls, which OpenSim cannot propagate (every later
message then fails with a chained ``SystemError``). So while a tool runs in the main thread, SIGINT only records
the request and the sink goes quiet; :class:`KeyboardInterrupt` is raised as soon as the tool returns (for IK of
one trial: seconds), before anything the tool wrote is used.
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from ..errors import BioposeError
from ._opensim import first_line, import_opensim

log = logging.getLogger(__name__)
T = TypeVar("T")


class OpenSimToolError(BioposeError):
    """An OpenSim tool (ScaleTool, InverseKinematicsTool) failed on the given setup."""


def run_tool(func: Callable[[], T], what: str, setup: str | Path, messages_out: list[str] | None = None) -> T:
    """Call ``func`` (an OpenSim tool's run) with OpenSim's messages captured (appended to ``messages_out``).

    Raises:
        OpenSimToolError: the tool raised or returned False; the message names ``setup`` and OpenSim's error.
        KeyboardInterrupt: SIGINT arrived while the tool ran (raised once the tool has returned).
    """
    with deferred_interrupt() as interrupted, capture_opensim_log(stop=interrupted) as messages:
        try:
            result = func()
        except RuntimeError as exc:
            if interrupted.is_set():
                raise KeyboardInterrupt from None
            raise OpenSimToolError(f"{setup}: OpenSim {what} failed: {first_line(exc)}") from None
        finally:
            if messages_out is not None:
                messages_out.extend(messages)
    if result is False:
        errors = [m for m in messages if m.startswith(("[error]", "[critical]"))] or messages[-3:]
        detail = "; ".join(e.strip() for e in errors[-3:])
        raise OpenSimToolError(f"{setup}: OpenSim {what} failed" + (f": {detail}" if detail else ""))
    return result


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[threading.Event]:
    """Inside the block, SIGINT sets the yielded event instead of raising; on leaving the block the previous
    handler is restored and, if SIGINT arrived, :class:`KeyboardInterrupt` is raised (unless another exception
    is already on its way out). Outside the main thread (where Python cannot handle signals) nothing changes."""
    event = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield event
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:  # a handler not installed from Python: restore Python's default afterwards
        previous = signal.default_int_handler

    def _record(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
        event.set()

    signal.signal(signal.SIGINT, _record)
    try:
        yield event
    finally:
        signal.signal(signal.SIGINT, previous)
    if event.is_set():
        raise KeyboardInterrupt


@contextlib.contextmanager
def capture_opensim_log(level: str = "info", stop: threading.Event | None = None) -> Iterator[list[str]]:
    """Collect OpenSim's log messages (``level`` and above) in a list, forward them to Python logging, and keep
    OpenSim's console output off stdout. Once ``stop`` is set the sink ignores further messages. The OpenSim log
    level is restored afterwards."""
    osim = import_opensim()
    messages: list[str] = []

    class _Sink(osim.LogSink):
        def sinkImpl(self, msg: str) -> None:  # noqa: N802 - OpenSim's name
            if stop is not None and stop.is_set():
                return
            text = str(msg).rstrip()
            messages.append(text)
            log.log(logging.WARNING if text.startswith(("[error]", "[critical]")) else logging.DEBUG, "%s", text)

        def flushImpl(self) -> None:  # noqa: N802
            pass

    sink = _Sink()
    previous = osim.Logger.getLevelString()
    osim.Logger.addSink(sink)
    try:
        with quiet_stdout():
            osim.Logger.setLevelString(level)
            try:
                yield messages
            finally:
                osim.Logger.setLevelString(previous)
    finally:
        osim.Logger.removeSink(sink)


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Redirect the C-level stdout to ``os.devnull`` inside the block (no-op if fd 1 is unavailable)."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no real fd 1 (e.g. embedded)
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        try:
            sys.stdout.flush()
        except (OSError, ValueError):  # pragma: no cover
            pass
        os.dup2(saved, 1)
        os.close(saved)
