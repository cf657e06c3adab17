"""Run independent, picklable tasks serially, on a local process pool, or on a Dask cluster.

Labeling and synthesis are embarrassingly parallel: every task is a top-level function plus its
arguments, and the result of one task never feeds another within a batch. :func:`run_tasks` runs such a
batch and returns one :class:`TaskOutcome` per task, in the order given, whatever happened to the others:
an exception inside a task, a result that cannot be pickled, or a worker process that dies (e.g. a
segmentation fault inside OpenSim) fails that task alone.

Back-ends:

* ``workers=1`` (and no scheduler): serial, in this process, no pickling; for debugging.
* ``workers=N`` (default: the number of CPU cores): a local pool of ``N`` processes started with the
  ``spawn`` method (OpenSim and ``fork`` do not mix: a forked child inherits the parent's OpenSim state).
  At most ``N`` tasks are in flight, so when a worker process dies the suspects are known; each suspect is
  then re-run alone in a fresh process, and only the one that kills its process again is failed.
* ``scheduler="tcp://HOST:PORT"``, a ``distributed.Client`` or a ``distributed.LocalCluster``: Dask
  distributed. The cluster's workers must be able to import the task functions (install this package on
  them). A client or cluster passed in is left open; one created here is closed.

Ctrl-C (SIGINT) is not a task failure: :class:`KeyboardInterrupt` stops the batch and propagates to the caller.
Local worker processes ignore SIGINT outside OpenSim tools; on an interrupt the parent passes SIGINT on to them,
queued tasks are cancelled, a task inside an OpenSim tool stops when the tool returns (see
:func:`biopose_opensim.osim._run.deferred_interrupt`) and the others finish what they are writing, so no
partial output is left. Dask tasks not yet finished are cancelled.
"""
from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import pickle
import signal
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from tqdm.auto import tqdm

from .errors import ConfigError

log = logging.getLogger(__name__)

#: Number of traceback frames (innermost) kept in :attr:`TaskFailure.traceback`.
TRACEBACK_FRAMES = 6


@dataclass(frozen=True)
class Task:
    """One unit of work: ``func(*args, **kwargs)``.

    Attributes:
        key: unique name of the task within its batch (e.g. ``"subject01/walk1"``); used in logs,
            progress and results.
        func: a module-level function (picklable by reference).
        args: positional arguments, picklable.
        kwargs: keyword arguments, picklable.
    """

    key: str
    func: Callable[..., Any]
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskFailure:
    """Why a task failed.

    Attributes:
        type: qualified name of the exception class (``"biopose_opensim.errors.InputFileError"``), or
            ``"WorkerDied"`` when the process running the task ended abnormally.
        message: the exception's message.
        traceback: the innermost frames of the traceback, formatted (empty when not available).
    """

    type: str
    message: str
    traceback: str = ""

    def __str__(self) -> str:
        return f"{self.type}: {self.message}"


@dataclass(frozen=True)
class TaskOutcome:
    """What became of one task.

    Attributes:
        key: the task's key.
        ok: True when the function returned.
        value: its return value (None when it failed).
        error: the failure (None when ok).
        seconds: wall-clock time of the call in the worker, seconds (0 when it never returned).
    """

    key: str
    ok: bool
    value: Any = None
    error: TaskFailure | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class RunResult:
    """Outcomes of a batch, in the order the tasks were given.

    Attributes:
        outcomes: one per task.
        backend: ``"serial"``, ``"processes"`` or ``"dask"``.
        workers: number of worker processes used (Dask: workers the cluster had at the start).
        seconds: wall-clock time of the whole batch, seconds.
    """

    outcomes: tuple[TaskOutcome, ...]
    backend: str
    workers: int
    seconds: float

    @property
    def n_ok(self) -> int:
        return sum(o.ok for o in self.outcomes)

    @property
    def n_failed(self) -> int:
        return sum(not o.ok for o in self.outcomes)

    @property
    def failed(self) -> tuple[TaskOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)

    def by_key(self) -> dict[str, TaskOutcome]:
        return {o.key: o for o in self.outcomes}


def default_workers() -> int:
    """Number of CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def describe_exception(exc: BaseException) -> TaskFailure:
    """Turn an exception into a picklable :class:`TaskFailure` (type, message, innermost frames)."""
    cls = type(exc)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    frames = traceback.extract_tb(exc.__traceback__)[-TRACEBACK_FRAMES:]
    tb = "".join(traceback.format_list(frames)) if frames else ""
    return TaskFailure(type=name, message=str(exc) or repr(exc), traceback=tb)


def run_task(task: Task) -> TaskOutcome:
    """Call ``task`` and return its outcome; never raises for an exception inside the task.

    This is what every back-end runs in the worker. The value is checked for picklability there, so
    that an unpicklable result fails its own task with a clear message rather than the transport.
    """
    start = time.perf_counter()
    try:
        value = task.func(*task.args, **dict(task.kwargs))
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none stops the batch
        return TaskOutcome(task.key, False, None, describe_exception(exc), time.perf_counter() - start)
    return TaskOutcome(task.key, True, value, None, time.perf_counter() - start)


def _run_task_checked(task: Task) -> TaskOutcome:
    """:func:`run_task`, then make sure the outcome survives pickling (for process back-ends)."""
    outcome = run_task(task)
    if outcome.ok:
        try:
            pickle.dumps(outcome.value)
        except Exception as exc:  # noqa: BLE001
            failure = TaskFailure(
                type="UnpicklableResult",
                message=f"task {task.key!r} returned a {type(outcome.value).__name__} that cannot be sent "
                f"back from the worker: {exc}",
            )
            return TaskOutcome(task.key, False, None, failure, outcome.seconds)
    return outcome


def run_tasks(
    tasks: Sequence[Task],
    workers: int | None = None,
    scheduler: Any = None,
    desc: str = "tasks",
    progress: bool = True,
) -> RunResult:
    """Run ``tasks`` and return every outcome, in the order of ``tasks``.

    Args:
        tasks: the batch; keys must be unique.
        workers: local worker processes (default: CPU cores; 1 = serial in this process). Ignored when
            ``scheduler`` is given.
        scheduler: ``None`` (local), a Dask scheduler address ``"tcp://HOST:PORT"``, a
            ``distributed.Client`` or a ``distributed.LocalCluster``.
        desc: label of the progress bar and of log messages.
        progress: show a tqdm progress bar.

    Raises:
        ConfigError: duplicate task keys, ``workers < 1``, or a scheduler that cannot be reached.
    """
    tasks = list(tasks)
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        raise ConfigError(f"task keys must be unique; repeated: {', '.join(dupes)}")
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    start = time.perf_counter()
    if not tasks:
        return RunResult((), "serial", 0, 0.0)
    if scheduler is not None:
        outcomes, n_workers, backend = _run_dask(tasks, scheduler, desc, progress)
    else:
        n_workers = min(workers or default_workers(), max(1, len(tasks)))
        if n_workers == 1:
            outcomes, backend = _run_serial(tasks, desc, progress), "serial"
        else:
            outcomes, backend = _run_pool(tasks, n_workers, desc, progress), "processes"
    ordered = tuple(outcomes[k] for k in keys)
    result = RunResult(ordered, backend, n_workers, time.perf_counter() - start)
    for o in result.failed:
        log.warning("%s: %s failed: %s", desc, o.key, o.error)
    log.info("%s: %d ok, %d failed in %.1f s (%s, %d workers)", desc, result.n_ok, result.n_failed,
             result.seconds, backend, n_workers)
    return result


def _bar(total: int, desc: str, progress: bool):
    return tqdm(total=total, desc=desc, unit="task", disable=not progress or total == 0, leave=False)


def _run_serial(tasks: list[Task], desc: str, progress: bool) -> dict[str, TaskOutcome]:
    out: dict[str, TaskOutcome] = {}
    with _bar(len(tasks), desc, progress) as bar:
        for task in tasks:
            out[task.key] = run_task(task)
            bar.update(1)
    return out


def _worker_died(task: Task, exc: BaseException) -> TaskOutcome:
    failure = TaskFailure(
        type="WorkerDied",
        message=f"the worker process running {task.key!r} ended abnormally (e.g. a crash inside OpenSim): {exc}",
    )
    return TaskOutcome(task.key, False, None, failure, 0.0)


def _ignore_sigint() -> None:
    """Worker-process initializer: Ctrl-C in the terminal reaches every process of the group; the parent decides
    (see :func:`_interrupt_workers`), so a worker ignores SIGINT outside OpenSim tools."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _new_pool(n: int) -> cf.ProcessPoolExecutor:
    return cf.ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=_ignore_sigint)


def _interrupt_workers(pool: cf.ProcessPoolExecutor) -> None:
    """Pass SIGINT on to the pool's worker processes (a task inside an OpenSim tool then stops when the tool
    returns) and cancel the queued tasks."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGINT)
        except (OSError, ValueError):  # already gone
            pass
    pool.shutdown(wait=False, cancel_futures=True)


def _run_pool(tasks: list[Task], n_workers: int, desc: str, progress: bool) -> dict[str, TaskOutcome]:
    out: dict[str, TaskOutcome] = {}
    queue = list(reversed(tasks))  # pop() from the end keeps the given order
    with _bar(len(tasks), desc, progress) as bar:
        while queue:
            suspects = _drain_pool(queue, n_workers, out, bar)
            # The pool broke: every task in flight is a suspect. Re-run each alone in a fresh process so
            # that only the task that kills its process again is failed.
            for task in suspects:
                out[task.key] = _run_isolated(task)
                bar.update(1)
    return out


def _drain_pool(queue: list[Task], n_workers: int, out: dict[str, TaskOutcome], bar) -> list[Task]:
    """Run tasks from ``queue`` with at most ``n_workers`` in flight; return the in-flight tasks if the pool
    breaks (an empty list when the queue was drained)."""
    pool = _new_pool(n_workers)
    in_flight: dict[cf.Future, Task] = {}
    try:
        while queue or in_flight:
            while queue and len(in_flight) < n_workers:
                task = queue.pop()
                in_flight[pool.submit(_run_task_checked, task)] = task
            done, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
            broken = False
            for fut in done:
                task = in_flight.pop(fut)
                try:
                    out[task.key] = fut.result()
                except cf.process.BrokenProcessPool:
                    in_flight[fut] = task  # keep it among the suspects
                    broken = True
                    continue
                except Exception as exc:  # noqa: BLE001 - e.g. arguments that cannot be pickled
                    out[task.key] = TaskOutcome(task.key, False, None, describe_exception(exc), 0.0)
                bar.update(1)
            if broken:
                suspects = list(in_flight.values())
                log.warning("a worker process died; re-running %d task(s) one by one: %s", len(suspects),
                            ", ".join(t.key for t in suspects))
                return suspects
        return []
    except KeyboardInterrupt:
        _interrupt_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_isolated(task: Task) -> TaskOutcome:
    pool = _new_pool(1)
    try:
        return pool.submit(_run_task_checked, task).result()
    except KeyboardInterrupt:
        _interrupt_workers(pool)
        raise
    except cf.process.BrokenProcessPool as exc:
        return _worker_died(task, exc)
    except Exception as exc:  # noqa: BLE001
        return TaskOutcome(task.key, False, None, describe_exception(exc), 0.0)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def open_dask_client(scheduler: Any):
    """Return ``(client, owned)`` for a scheduler address, a Client or a cluster; close the client when ``owned``.

    Raises:
        ConfigError: a malformed or unreachable address, or an object that is none of these.
    """
    from distributed import Client

    if isinstance(scheduler, Client):
        return scheduler, False
    if isinstance(scheduler, str):
        if not scheduler.startswith(("tcp://", "tls://", "inproc://", "ws://", "wss://", "ucx://")):
            raise ConfigError(f"--scheduler must be a Dask scheduler address like tcp://HOST:PORT, got {scheduler!r}")
        try:
            return Client(scheduler, timeout="30s"), True
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    if hasattr(scheduler, "scheduler_address"):  # a LocalCluster or another deployed cluster
        return Client(scheduler), True
    raise ConfigError(f"scheduler must be an address, a distributed.Client or a cluster, "
                      f"got {type(scheduler).__name__}")


def _run_dask(tasks: list[Task], scheduler: Any, desc: str, progress: bool):
    from distributed import as_completed

    client, owned = open_dask_client(scheduler)
    try:
        n_workers = len(client.scheduler_info().get("workers", {}))
        out: dict[str, TaskOutcome] = {}
        futures = {}
        for task in tasks:
            fut = client.submit(_run_task_checked, task, key=f"{desc}-{task.key}-{id(task):x}", pure=False)
            futures[fut] = task
        try:
            with _bar(len(tasks), desc, progress) as bar:
                for fut in as_completed(futures):
                    task = futures[fut]
                    try:
                        out[task.key] = fut.result()
                    except Exception as exc:  # noqa: BLE001 - KilledWorker, transport errors, ...
                        out[task.key] = TaskOutcome(task.key, False, None, describe_exception(exc), 0.0)
                    bar.update(1)
                    fut.release()
        except KeyboardInterrupt:
            client.cancel([f for f in futures if not f.done()])
            raise
        return out, n_workers, "dask"
    finally:
        if owned:
            client.close()


def tasks_from(func: Callable[..., Any], items: Iterable[tuple[str, tuple]], **kwargs: Any) -> list[Task]:
    """Build tasks calling ``func(*args, **kwargs)`` for each ``(key, args)`` in ``items``."""
    return [Task(key, func, tuple(args), dict(kwargs)) for key, args in items]
