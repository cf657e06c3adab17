"""Checks shared by the Ctrl-C tests of label and synth."""
from __future__ import annotations


def assert_one_interrupt_message(rc: int, output: str) -> None:
    """Exit status 130, no traceback, exactly one error line and it says the run was interrupted."""
    assert rc == 130, output[-3000:]
    assert "Traceback" not in output and "SystemError" not in output, output[-3000:]
    errors = [line for line in output.splitlines() if line.startswith(("ERROR", "CRITICAL"))]
    assert len(errors) == 1 and "interrupted (Ctrl-C)" in errors[0], errors
