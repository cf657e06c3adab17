"""The Scale -> IK -> report fan-out of a batch of subjects, shared by ``label --dataset`` and ``synth`` (and the
dataset adapters, through ``synth``).

Three batches of independent tasks on one back-end (:func:`biopose_opensim.distributed.run_tasks`), each fed by
the one before: every subject's scaling (one task per subject), every trial's IK (one task per trial, the unit of
parallelism), every subject's report. What a task does, and what a caller reuses from an earlier run, is the
caller's: it gives the tasks, or functions that make them from a phase's results.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from ..distributed import Task, TaskOutcome, run_tasks


@dataclass(frozen=True)
class PhaseResults:
    """Outcomes of :func:`run_phases`.

    Attributes:
        prepared: subject -> its scaled subject (reused, or scaled in this run), for the subjects that have one.
        scale: outcomes of the scaling tasks that ran, in task order.
        ik: subject -> outcomes of its IK tasks, in task order.
        ik_outcomes: every IK outcome, in the order the tasks were given.
        reports: outcomes of the report tasks that ran, in task order.
        seconds: wall-clock time of each phase that ran tasks (``"scale"``, ``"ik"``, ``"reports"``), s.
    """

    prepared: Mapping[str, Any]
    scale: tuple[TaskOutcome, ...]
    ik: Mapping[str, tuple[TaskOutcome, ...]]
    ik_outcomes: tuple[TaskOutcome, ...]
    reports: tuple[TaskOutcome, ...]
    seconds: Mapping[str, float] = field(default_factory=dict)


def run_phases(
    subjects: Sequence[str],
    scale: Mapping[str, Task],
    ik: Callable[[str, Any], Sequence[Task]],
    report: Callable[[str, Any, Sequence[TaskOutcome]], Task | None],
    reused: Mapping[str, Any] | None = None,
    after_scale: Callable[[], None] | None = None,
    ik_order: Callable[[Task], Any] | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
) -> PhaseResults:
    """Scale, IK and report a batch of subjects.

    Args:
        subjects: the subjects' names, in the order their IK tasks are made.
        scale: subject -> its scaling task (whose value is the scaled subject); subjects in ``reused`` have none.
        ik: (subject, scaled subject) -> the subject's IK tasks.
        report: (subject, scaled subject, its IK outcomes) -> its report task, or None for no report.
        reused: subject -> a scaled subject from an earlier run (not scaled again).
        after_scale: called once the scaling phase is over, before any IK.
        ik_order: sort key of the IK tasks (e.g. longest trials first); None keeps the order made.
        workers, scheduler, progress: the back-end of :func:`~biopose_opensim.distributed.run_tasks`.
    """
    run = dict(workers=workers, scheduler=scheduler, progress=progress)
    seconds: dict[str, float] = {}
    prepared: dict[str, Any] = dict(reused or {})
    scaled = run_tasks(list(scale.values()), desc="scale", **run) if scale else None
    if scaled is not None:
        seconds["scale"] = scaled.seconds
        for name, o in zip(scale, scaled.outcomes):
            if o.ok:
                prepared[name] = o.value
    if after_scale is not None:
        after_scale()
    owner: dict[str, str] = {}
    ik_tasks: list[Task] = []
    for name in subjects:
        if name in prepared:
            for task in ik(name, prepared[name]):
                owner[task.key] = name
                ik_tasks.append(task)
    if ik_order is not None:
        ik_tasks.sort(key=ik_order)
    solved = run_tasks(ik_tasks, desc="IK", **run) if ik_tasks else None
    by_subject: dict[str, list[TaskOutcome]] = {}
    if solved is not None:
        seconds["ik"] = solved.seconds
        for o in solved.outcomes:
            by_subject.setdefault(owner[o.key], []).append(o)
    report_tasks = [t for t in (report(n, p, by_subject.get(n, [])) for n, p in prepared.items()) if t is not None]
    reported = run_tasks(report_tasks, desc="reports", **run) if report_tasks else None
    if reported is not None:
        seconds["reports"] = reported.seconds
    return PhaseResults(prepared, scaled.outcomes if scaled else (), {k: tuple(v) for k, v in by_subject.items()},
                        solved.outcomes if solved else (), reported.outcomes if reported else (), seconds)
