"""Dataset mode of ``label``: every subject of a dataset, on a local process pool or a Dask cluster.

Two phases over a dataset found by :mod:`.layout` (BML-MoVi files are first converted by :mod:`.movi`):

1. scale every subject (:func:`.subject.prepare_subject`), in parallel over subjects;
2. IK every trial (:func:`.subject.label_trial`), in parallel over trials, the unit of parallelism;

then each subject's report (:func:`.subject.finish_subject`) (the fan-out of :mod:`.phases`), and for the dataset ``OUT/summary.json`` (per subject,
per trial: status ``done``/``skipped``/``failed``, reason, marker RMS, seconds) and ``OUT/report.md``.

Resume: a subject scaled by an earlier run with the same inputs and settings is not scaled again (its
:class:`.subject.PreparedSubject` is kept in ``OUT/<subject>/.prepared.pkl`` with a fingerprint of the static
trial, the subject's values and the settings), and finished trials are skipped, unless ``overwrite``. If the
inputs or settings of a scaled subject changed, that subject fails with a reason asking for ``--overwrite``:
existing results are never replaced silently.

IK only: a subject folder without a static trial is not scaled; IK runs on its own model as given (``model.osim``
in the folder or ``[label] model`` in ``subject.toml``; the dataset-wide model is the generic one), its labels carry scale factors of 1 and ``summary.json`` marks it
``"ik_only": true``.

Failures: one failing subject or trial never stops the batch; it is listed with its reason, and
:attr:`DatasetSummary.exit_code` is 1 when anything failed. A failed scaling or trial removes what it wrote
(:mod:`.resume`). Invalid subject folders are listed on the console with their reasons.

Ctrl-C (SIGINT) is not a failure: it stops the run (:class:`KeyboardInterrupt` propagates; no summary is
written), the scalings and trials finished so far stay, the unfinished ones leave nothing, and the same command
resumes.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text, check_output_dir
from ..distributed import Task, TaskOutcome, default_workers, open_dask_client, run_tasks
from ..errors import ConfigError
from . import movi as _movi
from .config import LabelConfig
from .layout import LAYOUTS, DatasetLayout, InvalidSubject, SubjectEntry, detect_layout, discover
from .outputs import SubjectPaths
from . import resume as _resume
from .phases import run_phases
from .results import PreparedSubject, SubjectSpec, TrialResult, TrialSummary
from .subject import finish_subject

log = logging.getLogger(__name__)

SUMMARY_FORMAT = "biopose_opensim.label.dataset/1"
STATE_FILE = _resume.STATE_FILE
MOVI_DIR = "_movi"
#: length (s) of the stillest stretch of a MoVi capture written as its static trial
MOVI_STATIC_SECONDS = 2.0
_CHANGED = ("the static trial, subject values or settings changed since this subject was scaled; rerun with "
            "--overwrite to recompute it")


@dataclass(frozen=True)
class SubjectSummary:
    """One subject of a dataset run. ``status``: ``"done"`` (scaled in this run), ``"skipped"`` (scaled earlier,
    reused) or ``"failed"`` (``reason`` says why; its trials are failed too). ``static_rms`` in m."""

    name: str
    status: str
    reason: str | None
    seconds: float
    out_dir: Path
    scaled_model: Path | None
    static_rms: float | None
    trials: tuple[TrialSummary, ...]
    report: Path | None = None
    #: True: no static trial, IK only on the subject's model as given (labels carry scale factors of 1)
    ik_only: bool = False


@dataclass(frozen=True)
class DatasetSummary:
    """Result of :func:`label_dataset`; also written as ``summary_json`` and ``report``."""

    root: Path
    out: Path
    layout: str
    backend: str
    workers: int
    seconds: float
    subjects: tuple[SubjectSummary, ...]
    summary_json: Path
    report: Path

    def counts(self) -> dict[str, dict[str, int]]:
        """``{"subjects": {status: n}, "trials": {status: n}}`` for statuses done, skipped, failed."""
        subj = {s: 0 for s in ("done", "skipped", "failed")}
        trials = dict(subj)
        for s in self.subjects:
            subj[s.status] += 1
            for t in s.trials:
                trials[t.status] += 1
        return {"subjects": subj, "trials": trials}

    @property
    def n_failed(self) -> int:
        """Failed subjects, plus failed trials and failed reports of subjects that were scaled."""
        n = 0
        for s in self.subjects:
            if s.status == "failed":
                n += 1
            else:
                n += sum(t.status == "failed" for t in s.trials) + (s.reason is not None)
        return n

    @property
    def exit_code(self) -> int:
        """0 when nothing failed, else 1."""
        return 0 if self.n_failed == 0 else 1


def label_dataset(root: Path, out: Path, config: LabelConfig, workers: int | None = None,
                  scheduler: Any = None, overwrite: bool = False, layout: str = "auto",
                  progress: bool = True) -> DatasetSummary:
    """Label every subject of the dataset at ``root`` into ``out/<subject>/``; write ``summary.json``, ``report.md``.

    Args:
        root: dataset folder ("folders" layout, or BML-MoVi ``F_v3d_Subject_N.mat`` files).
        out: output folder.
        config: settings for every subject (a subject's ``subject.toml`` / XML files override them).
        workers: local worker processes (default: CPU cores; 1 = serial, in this process).
        scheduler: Dask scheduler address ``tcp://HOST:PORT``, a ``distributed.Client`` or a cluster.
        overwrite: recompute everything instead of resuming.
        layout: "auto", "folders" or "movi".
        progress: tqdm progress bars.

    Raises:
        InputFileError: ``root`` missing or holding no subjects.
        ConfigError: bad layout, workers or scheduler.
    """
    start = time.perf_counter()
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    root, out = Path(root), Path(out)
    if layout not in LAYOUTS:
        raise ConfigError(f"--layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if layout == "auto":
        layout = detect_layout(root)
    check_output_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    client, owned = _open_client(scheduler)
    run = dict(workers=workers, scheduler=client, progress=progress)
    backend, n_workers = _backend(workers, client)
    try:
        if layout == "movi":
            found = _convert_movi(root, out, run, overwrite)
        else:
            found = discover(root, "folders")
        log.info("dataset %s (%s): %d subjects, %d trials, %d invalid subject(s)", root, layout, len(found.subjects),
                 sum(len(s.trials) for s in found.subjects), len(found.invalid))
        for bad in found.invalid:
            log.warning("invalid subject %s (%s): %s", bad.name, bad.folder, bad.reason)
        prepared, subj_state, trial_out, reports = _phases(found.subjects, config, out, overwrite, run)
    finally:
        if owned:
            client.close()

    subjects = _summaries(found, out, prepared, subj_state, trial_out, reports)
    summary = DatasetSummary(root, out, layout, backend, n_workers, time.perf_counter() - start, subjects,
                             out / "summary.json", out / "report.md")
    atomic_write_text(summary.summary_json, json.dumps(_summary_dict(summary, started, overwrite), indent=2) + "\n")
    atomic_write_text(summary.report, _report_md(summary, started))
    c = summary.counts()
    log.info("dataset done in %.1f s: subjects %s; trials %s; summary %s", summary.seconds, c["subjects"],
             c["trials"], summary.summary_json)
    return summary


# ---------------------------------------------------------------------------------------------- phases
def _open_client(scheduler: Any):
    """One Dask client for all phases (None for the local back-ends)."""
    if scheduler is None:
        return None, False
    return open_dask_client(scheduler)


def _backend(workers: int | None, client: Any) -> tuple[str, int]:
    """Back-end name and worker count, as :func:`run_tasks` resolves them for a batch of many tasks."""
    if client is not None:
        return "dask", len(client.scheduler_info().get("workers", {}))
    n = workers or default_workers()
    return ("serial" if n == 1 else "processes"), n


def _convert_movi(root: Path, out: Path, run: dict, overwrite: bool) -> DatasetLayout:
    files = _movi.find_movi_files(root)
    if not files:
        raise ConfigError(f"--layout movi: no F_v3d_Subject_N.mat files in {root}")
    names_file = root / _movi.MARKER_NAMES_FILE
    names = _movi.read_marker_names(names_file) if names_file.is_file() else None
    dest = out / MOVI_DIR
    tasks = [Task(p.stem, _movi.convert_movi_subject, (p, dest, names, MOVI_STATIC_SECONDS, overwrite)) for p in files]
    result = run_tasks(tasks, desc="convert MoVi", **run)
    invalid = [InvalidSubject(o.key.replace("F_v3d_", ""), p, f"MoVi conversion failed: {o.error}")
               for p, o in zip(files, result.outcomes) if not o.ok]
    found = discover(dest, "folders") if any(o.ok for o in result.outcomes) else DatasetLayout(dest, "folders", ())
    return DatasetLayout(root, "movi", found.subjects, tuple(invalid) + found.invalid)


def _fingerprint(entry: SubjectEntry, config: LabelConfig, out_dir: Path) -> str:
    """Hash of what a subject's scaling depends on (:func:`.resume.fingerprint`)."""
    return _resume.fingerprint(_spec(entry), config, out_dir)


def _spec(e: SubjectEntry) -> SubjectSpec:
    return SubjectSpec(e.name, e.static, e.trials, e.mass, e.height, e.sex)


def _phases(entries, config, out, overwrite, run):
    """Scale, IK and report the subjects (:func:`.phases.run_phases`); a subject scaled by an earlier run with the
    same fingerprint is reused, one scaled with another fingerprint fails (``_CHANGED``).

    Returns the prepared subjects, per subject (status, reason, seconds) of its scaling, the IK outcomes by
    ``subject/trial`` key and the reports by subject (a task outcome, or the path of a report kept as it was).
    """
    reused: dict[str, PreparedSubject] = {}
    state: dict[str, tuple[str, str | None, float]] = {}
    tasks: dict[str, Task] = {}
    for e in entries:
        cfg = e.config(config)
        fp = _fingerprint(e, cfg, out / e.name)
        old = None if overwrite else _resume.load_state(out / e.name)
        if old is not None and old[0] == fp and Path(old[1].scaled_model).is_file():
            reused[e.name] = old[1]
            state[e.name] = ("skipped", None, 0.0)
            continue
        if old is not None and old[0] != fp:
            state[e.name] = ("failed", _CHANGED, 0.0)
            continue
        tasks[e.name] = Task(e.name, _resume.prepare_cleanly, (_spec(e), cfg, out / e.name, overwrite, fp))
    trials = {e.name: e.trials for e in entries}
    kept: dict[str, Path] = {}

    def write_config() -> None:
        if not any(st[1] == _CHANGED for st in state.values()):  # else the file would not match the results
            atomic_write_text(out / "label_config.toml", config.to_toml())

    def ik(name: str, p: PreparedSubject) -> list[Task]:
        return [Task(f"{name}/{t.stem}", _resume.label_trial_cleanly, (p, t, overwrite)) for t in trials[name]]

    def report(name: str, p: PreparedSubject, outcomes) -> Task | None:
        """The subject's report; one whose scaling and trials were all reused keeps its report."""
        path = SubjectPaths(p.out_dir, p.name).report
        unchanged = name in reused and all(o.ok and o.value.status == "skipped" for o in outcomes)
        if unchanged and not overwrite and path.is_file():
            kept[name] = path
            return None
        results = [o.value for o in outcomes if o.ok]
        return Task(name, finish_subject, (p, results)) if results else None

    # longest trials first (file size ~ frames x markers): shortens the tail of a parallel batch
    done = run_phases([e.name for e in entries], tasks, ik, report, reused=reused, after_scale=write_config,
                      ik_order=lambda task: -_size(task.args[1]), **run)
    for o in done.scale:
        state[o.key] = ("done", None, o.seconds) if o.ok else ("failed", str(o.error), o.seconds)
    trial_out = {o.key: o for o in done.ik_outcomes}
    reports: dict[str, TaskOutcome | Path] = {**{o.key: o for o in done.reports}, **kept}
    return dict(done.prepared), state, trial_out, reports


def _size(path: Path) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


# ---------------------------------------------------------------------------------------------- summary
def _summaries(found: DatasetLayout, out: Path, prepared, subj_state, trial_out, reports) -> tuple[SubjectSummary, ...]:
    rows: list[SubjectSummary] = []
    for e in found.subjects:
        status, reason, secs = subj_state[e.name]
        trials = []
        for t in e.trials:
            o = trial_out.get(f"{e.name}/{t.stem}")
            if o is None:
                trials.append(TrialSummary(e.name, t.stem, t, "failed", reason=f"subject not scaled: {reason}"))
            elif not o.ok:
                trials.append(TrialSummary(e.name, t.stem, t, "failed", reason=str(o.error), seconds=o.seconds))
            else:
                r: TrialResult = o.value
                trials.append(TrialSummary(
                    e.name, t.stem, t, r.status, rms_error=float(r.rms_error), max_error=float(r.max_error),
                    n_frames=int(r.n_frames), seconds=o.seconds, ik_mot=Path(r.ik_mot), labels=Path(r.labels)))
        rep = reports.get(e.name)
        report_path = None
        if isinstance(rep, Path):
            report_path = rep
        elif rep is not None and rep.ok:
            report_path = Path(rep.value.report)
        elif rep is not None and status != "failed":
            reason = f"report failed: {rep.error}"
        p = prepared.get(e.name)
        rows.append(SubjectSummary(e.name, status, reason, secs, out / e.name, Path(p.scaled_model) if p else None,
                                   p.static_rms if p else None, tuple(trials), report_path, e.static is None))
    for bad in found.invalid:
        rows.append(SubjectSummary(bad.name, "failed", bad.reason, 0.0, out / bad.name, None, None, ()))
    return tuple(sorted(rows, key=lambda s: s.name))


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _rel(p: Path | None, base: Path) -> str | None:
    if p is None:
        return None
    try:
        return str(Path(p).resolve().relative_to(base.resolve()))
    except ValueError:
        return str(p)


def _summary_dict(s: DatasetSummary, started: str, overwrite: bool) -> dict[str, Any]:
    return {
        "format": SUMMARY_FORMAT,
        "root": str(s.root), "out": str(s.out), "layout": s.layout, "backend": s.backend, "workers": s.workers,
        "overwrite": overwrite, "started": started, "seconds": round(s.seconds, 3),
        "counts": s.counts(), "exit_code": s.exit_code,
        "subjects": [{
            "name": sub.name, "status": sub.status, "reason": sub.reason, "seconds": round(sub.seconds, 3),
            "ik_only": sub.ik_only,
            "scaled_model": _rel(sub.scaled_model, s.out), "static_rms_m": _num(sub.static_rms),
            "report": _rel(sub.report, s.out),
            "trials": [{
                "name": t.name, "file": str(t.file), "status": t.status, "reason": t.reason,
                "marker_rms_m": _num(t.rms_error), "marker_max_m": _num(t.max_error), "frames": t.n_frames,
                "seconds": round(t.seconds, 3), "ik_mot": _rel(t.ik_mot, s.out),
            } for t in sub.trials],
        } for sub in s.subjects],
    }


def _mm(x: float | None) -> str:
    return "" if x is None or not math.isfinite(x) else f"{1000 * x:.1f}"


def _report_md(s: DatasetSummary, started: str) -> str:
    c = s.counts()
    lines = [
        "# Dataset labelling report",
        "",
        f"- dataset: `{s.root}` ({s.layout} layout)",
        f"- started {started}, {s.seconds:.1f} s, {s.backend} back-end, {s.workers} worker(s)",
        f"- subjects: {c['subjects']['done']} scaled, {c['subjects']['skipped']} reused, "
        f"{c['subjects']['failed']} failed",
        f"- trials: {c['trials']['done']} labelled, {c['trials']['skipped']} skipped (finished earlier), "
        f"{c['trials']['failed']} failed",
        "- settings: `label_config.toml`; machine-readable results: `summary.json`",
        "",
        "| subject | status | trials done / skipped / failed | frames | marker RMS mean (mm) | marker max (mm) "
        "| static RMS (mm) | report |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for sub in s.subjects:
        ok = [t for t in sub.trials if t.status != "failed"]
        n = {k: sum(t.status == k for t in sub.trials) for k in ("done", "skipped", "failed")}
        frames = sum(t.n_frames for t in ok)
        rms = (sum((t.rms_error or 0.0) * t.n_frames for t in ok) / frames) if frames else None
        mx = max((t.max_error for t in ok if t.max_error is not None), default=None)
        rep = f"[report]({_rel(sub.report, s.out)})" if sub.report else ""
        status = f"{sub.status} (IK only)" if sub.ik_only else sub.status
        lines.append(f"| {sub.name} | {status} | {n['done']} / {n['skipped']} / {n['failed']} | {frames} "
                     f"| {_mm(rms)} | {_mm(mx)} | {_mm(sub.static_rms)} | {rep} |")
    failures = [(sub.name, None, sub.reason) for sub in s.subjects if sub.status == "failed"]
    failures += [(sub.name, t.name, t.reason) for sub in s.subjects if sub.status != "failed"
                 for t in sub.trials if t.status == "failed"]
    failures += [(sub.name, None, sub.reason) for sub in s.subjects if sub.status != "failed" and sub.reason]
    lines += ["", "## Failures", ""]
    if failures:
        lines += [f"- **{name}{'/' + trial if trial else ''}**: {reason}" for name, trial, reason in failures]
        lines += ["", "The run's exit status is 1 because of these failures."]
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"
