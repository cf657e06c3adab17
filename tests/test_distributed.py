"""The generic task runner: serial and process-pool back-ends, failure capture and isolation.

The Dask back-end is exercised against a real ``LocalCluster`` in ``tests/labeling/test_dask.py``.
"""
from __future__ import annotations

import os
import time

import pytest

from biopose_opensim.distributed import Task, default_workers, run_tasks, tasks_from
from biopose_opensim.errors import ConfigError, InputFileError


# Task functions must be module-level so that spawned workers can import them.
def _square_and_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def _fail_with_input_error(name: str) -> None:
    raise InputFileError(name, "expected a TRC header on line 1", line=1)


def _divide(a: float, b: float) -> float:
    return a / b


def _die(code: int) -> None:
    os._exit(code)  # the worker process ends abruptly, as in a crash inside native code


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _unpicklable() -> object:
    return lambda: None


def _mixed_tasks() -> list[Task]:
    return [
        Task("a", _square_and_pid, (2,)),
        Task("bad-file", _fail_with_input_error, ("trial.trc",)),
        Task("b", _square_and_pid, (3,)),
        Task("zero", _divide, (1.0, 0.0)),
        Task("c", _square_and_pid, (4,)),
    ]


def _check_mixed(result) -> None:
    assert [o.key for o in result.outcomes] == ["a", "bad-file", "b", "zero", "c"]
    by_key = result.by_key()
    assert [by_key[k].value[0] for k in ("a", "b", "c")] == [4, 9, 16]
    assert result.n_ok == 3 and result.n_failed == 2
    err = by_key["bad-file"].error
    assert err.type == "biopose_opensim.errors.InputFileError"
    assert err.message == "trial.trc, line 1: expected a TRC header on line 1"
    assert "_fail_with_input_error" in err.traceback
    assert by_key["zero"].error.type == "ZeroDivisionError"
    assert "_divide" in by_key["zero"].error.traceback
    assert by_key["zero"].value is None and by_key["zero"].ok is False


def test_serial_runs_in_process_and_captures_failures():
    result = run_tasks(_mixed_tasks(), workers=1, progress=False)
    assert result.backend == "serial" and result.workers == 1
    _check_mixed(result)
    assert {result.by_key()[k].value[1] for k in "abc"} == {os.getpid()}


def test_process_pool_runs_in_other_processes_and_captures_failures():
    result = run_tasks(_mixed_tasks(), workers=2, progress=False)
    assert result.backend == "processes" and result.workers == 2
    _check_mixed(result)
    pids = {result.by_key()[k].value[1] for k in "abc"}
    assert os.getpid() not in pids


def test_outcome_seconds_are_the_call_time_in_the_worker():
    """``TaskOutcome.seconds`` times the call itself: a call that sleeps 0.3 s reports at least 0.3 s (a lower
    bound time.sleep guarantees, not a speed check), and no outcome exceeds the batch's own time."""
    for workers in (1, 2):
        result = run_tasks([Task("sleep", _sleep, (0.3,)), Task("zero", _divide, (1.0, 0.0))], workers=workers,
                           progress=False)
        by_key = result.by_key()
        assert by_key["sleep"].seconds >= 0.3
        assert by_key["zero"].seconds > 0.0  # a failed call is timed too (0 only when it never returned)
        assert all(o.seconds <= result.seconds for o in result.outcomes)


def test_dead_worker_fails_only_its_own_task():
    tasks = [Task(f"ok{i}", _square_and_pid, (i,)) for i in range(3)]
    tasks.insert(1, Task("crash", _die, (7,)))
    result = run_tasks(tasks, workers=2, progress=False)
    by_key = result.by_key()
    assert by_key["crash"].ok is False
    assert by_key["crash"].error.type == "WorkerDied"
    assert by_key["crash"].seconds == 0.0  # it never returned
    assert "crash" in by_key["crash"].error.message
    assert [by_key[f"ok{i}"].value[0] for i in range(3)] == [0, 1, 4]
    assert result.n_failed == 1


def test_unpicklable_result_fails_its_task_with_a_reason():
    result = run_tasks([Task("fn", _unpicklable), Task("sq", _square_and_pid, (5,))], workers=2, progress=False)
    by_key = result.by_key()
    assert by_key["fn"].error.type == "UnpicklableResult"
    assert "cannot be sent back" in by_key["fn"].error.message
    assert by_key["sq"].value[0] == 25


def test_bad_arguments_are_rejected():
    with pytest.raises(ConfigError, match="unique; repeated: x"):
        run_tasks([Task("x", _square_and_pid, (1,)), Task("x", _square_and_pid, (2,))], workers=1)
    with pytest.raises(ConfigError, match="at least 1, got 0"):
        run_tasks([Task("x", _square_and_pid, (1,))], workers=0)
    with pytest.raises(ConfigError, match="tcp://HOST:PORT"):
        run_tasks([Task("x", _square_and_pid, (1,))], scheduler="localhost:8786")


def test_helpers():
    assert default_workers() >= 1
    tasks = tasks_from(_divide, [("half", (1.0,)), ("third", (1.0,))], b=4.0)
    assert [t.key for t in tasks] == ["half", "third"]
    result = run_tasks(tasks, workers=1, progress=False)
    assert [o.value for o in result.outcomes] == [0.25, 0.25]
    assert run_tasks([], workers=2, progress=False).outcomes == ()
