"""Checks shared by the Ctrl-C tests of label and synth."""
from __future__ import annotations


def assert_one_interrupt_message(rc: int, output: str) -> None:
    """Exit status 130, no traceback, exactly one error line and it says the run was interrupted."""
    assert rc == 130, output[-3000:]
    assert "Traceback" not in output and "SystemError" not in output, output[-3000:]
    errors = [line for line in output.splitlines() if line.startswith(("ERROR", "CRITICAL"))]
    assert len(errors) == 1 and "interrupted (Ctrl-C)" in errors[0], errors


def default_sigint() -> None:
    """``preexec_fn`` for a child that must react to Ctrl-C as in a terminal: a test run started in the background
    (``cmd &`` in a non-interactive shell) ignores SIGINT, children inherit that, and Python then installs no
    KeyboardInterrupt handler."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
