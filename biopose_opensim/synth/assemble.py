"""From subject jobs to a dataset: label every subject (in parallel), then write shards, manifest and card.

Used by the synthetic generator and by the adapters alike, so every dataset has one format.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from tqdm.auto import tqdm

from ..activities import CoordinateSpace
from ..datasets.labels import TrialLabels
from ..distributed import Task
from ..io import read_coordinates
from ..labeling import LabelConfig
from .card import CardStats, write_card
from ..datasets import DatasetNames, ShardWriter, write_manifest
from .jobs import SubjectJob, TrialJob
from ..labeling.phases import run_phases
from ..labeling.results import TrialSummary
from .labelling import finish_task, ik_task, scale_task
from .masks import MASK_THRESHOLD
from ..datasets import LabelledTrial, SubjectRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatasetResult:
    """Outcome of a dataset build.

    Attributes:
        root: dataset folder.
        manifest: ``manifest.json``.
        card: ``dataset_card.md``.
        n_subjects, n_trials, n_frames: what made it into the shards.
        failures: ``(task key, message)`` for every subject or trial that failed.
        summary: the card's headline numbers (median IK RMS in mm, masked fraction, ...).
        seconds: wall-clock time of the build.
        phases: wall-clock seconds per phase (``generate``, ``scale``, ``ik``, ``reports``, ``shards``).
    """

    root: Path
    manifest: Path
    card: Path
    n_subjects: int
    n_trials: int
    n_frames: int
    failures: tuple[tuple[str, str], ...]
    summary: Mapping[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    phases: Mapping[str, float] = field(default_factory=dict)

    def log_outcome(self, logger: logging.Logger) -> int:
        """Log what was written and every failure to ``logger``; return the exit status (1 if anything failed)."""
        logger.info("wrote %s: %d subjects, %d trials, %d frames in %.0f s; median IK marker RMS %.2f mm; card %s",
                    self.root, self.n_subjects, self.n_trials, self.n_frames, self.seconds,
                    self.summary.get("ik_rms_median_mm") or float("nan"), self.card)
        for key, msg in self.failures:
            logger.error("%s failed: %s", key, msg)
        return 1 if self.failures else 0


def _rel(root: Path, p: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return str(p)


def collect_trial(root: Path, job: SubjectJob, trial: TrialJob, summary: TrialSummary) -> LabelledTrial:
    """Read one labelled trial back (labels, masks, generating motion) as a :class:`LabelledTrial`."""
    lab = TrialLabels.load(summary.labels)
    with np.load(summary.masks) as z:
        q_mask = z["q_mask"].astype(bool)
        marker_error = z["marker_error"].astype(np.float64)
    names = tuple(lab.coordinate_names)
    times = np.asarray(lab.times, dtype=float)
    q_source = None
    if trial.source_mot is not None and Path(trial.source_mot).is_file():
        rot = dict(zip(names, np.asarray(lab.rotational, dtype=bool)))
        st, sq, snames = read_coordinates(trial.source_mot, rot)
        q_source = np.full((len(times), len(names)), np.nan)
        for j, n in enumerate(names):
            if n in snames:
                q_source[:, j] = np.interp(times, st, sq[:, snames.index(n)])
    files = {
        "trc": _rel(root, trial.trc),
        "ik_mot": _rel(root, job.out_dir / f"{summary.name}_ik.mot"),
        "marker_errors": _rel(root, job.out_dir / f"{summary.name}_marker_errors.sto"),
        "labels": _rel(root, summary.labels),
        "masks": _rel(root, summary.masks),
    }
    if trial.source_mot is not None:
        files["source_mot"] = _rel(root, trial.source_mot)
    return LabelledTrial(
        subject=job.name, name=summary.name, activity=trial.activity, times=times,
        markers=np.asarray(lab.markers, dtype=float), q=np.asarray(lab.q, dtype=float), q_mask=q_mask,
        s=np.asarray(lab.s, dtype=float), marker_error=marker_error, q_source=q_source,
        rate=float(lab.rate), files=files)


def label_and_assemble(
    root: Path,
    jobs: Sequence[SubjectJob],
    label_config: LabelConfig,
    meta: Mapping[str, Any],
    bony: Sequence[str],
    workers: int | None = None,
    scheduler: Any = None,
    overwrite: bool = False,
    threshold: float = MASK_THRESHOLD,
    shard_frames: int = 20000,
    progress: bool = True,
    done: Mapping[str, Sequence[TrialSummary]] | None = None,
) -> DatasetResult:
    """Label ``jobs`` and write the dataset under ``root``.

    Args:
        root: dataset folder (subjects' folders are inside it).
        jobs: the subjects.
        label_config: label settings (model, virtual marker set, static pose, accuracy).
        meta: provenance recorded in the manifest and the card (command, seed, body model, ...).
        bony: the bony-landmark marker names that gate the masks.
        workers, scheduler: the shared runner's back-end.
        overwrite: passed to ``label`` (replace a subject's earlier outputs).
        threshold: mask threshold, metres.
        done: subjects already labelled in an earlier run (name -> summaries); they are not labelled again.
    """
    start = time.perf_counter()
    root = Path(root)
    failures: list[tuple[str, str]] = []
    phases: dict[str, float] = {}
    done = dict(done or {})
    todo = [j for j in jobs if j.name not in done]
    bony = tuple(bony)

    # 1.-3. scale (one task per subject), IK + masks (one task per trial), per-subject reports
    by_name = {j.name: j for j in todo}

    def ik(name: str, prepared) -> list[Task]:
        return [Task(f"{name}/{t.name}", ik_task, (prepared, t, bony, threshold, overwrite))
                for t in by_name[name].trials]

    def report(name: str, prepared, outcomes) -> Task | None:
        trials = [o.value for o in outcomes if o.ok]
        return Task(f"{name}/report", finish_task, (prepared, trials)) if trials else None

    ran = run_phases([j.name for j in todo],
                     {j.name: Task(f"{j.name}/scale", scale_task, (j, label_config, overwrite)) for j in todo},
                     ik, report, workers=workers, scheduler=scheduler, progress=progress)
    phases.update(ran.seconds)
    summaries: dict[str, list[TrialSummary]] = {k: list(v) for k, v in done.items()}
    for name, outcomes in ran.ik.items():
        ok = [o.value for o in outcomes if o.ok]
        if ok:
            summaries.setdefault(name, []).extend(ok)
    failures += [(o.key, str(o.error)) for o in (*ran.scale, *ran.ik_outcomes, *ran.reports) if not o.ok]
    for j in todo:
        if j.name in ran.prepared and j.name in summaries:
            _write_done(j, summaries[j.name])

    # 4. shards, manifest, card
    t_shards = time.perf_counter()
    space = CoordinateSpace.from_osim(label_config.model)
    writer: ShardWriter | None = None
    stats: CardStats | None = None
    records: list[SubjectRecord] = []
    names: DatasetNames | None = None
    for j in tqdm(jobs, desc="shards", unit="subject", disable=not progress, leave=False):
        subj = summaries.get(j.name, [])
        if not subj:
            continue
        by_name = {t.name: t for t in j.trials}
        for s in subj:
            trial = collect_trial(root, j, by_name.get(s.name) or _match_trial(j, s.name), s)
            if writer is None:
                lab = TrialLabels.load(s.labels)
                names = DatasetNames(tuple(lab.marker_names), tuple(lab.coordinate_names),
                                     tuple(lab.body_names), tuple(b for b in bony if b in lab.marker_names))
                writer = ShardWriter(root, names, shard_frames)
                order = [space.index(n) for n in names.coordinate_names]
                free = space.rotational & ~space.locked & ~space.dependent
                stats = CardStats(names.coordinate_names, space.lower[order], space.upper[order],
                                  space.rotational[order], compare=free[order])
            writer.add(trial, j.split)
            stats.add(trial)
        scaled = j.out_dir / f"{j.name}_scaled.osim"
        records.append(SubjectRecord(j.name, j.split, j.sex, j.age, j.height, j.mass, j.body_model, dict(j.shape),
                                     _rel(root, scaled), j.source))
    if writer is None:
        from ..errors import BioposeError

        raise BioposeError("no trial could be labelled; failures: "
                           + "; ".join(f"{k}: {m}" for k, m in failures[:5]))
    writer.close()
    mask_info = {"threshold": threshold, "bony_markers": list(names.bony_markers),
                 "unmasked": list(_unmasked(jobs, summaries, bony))}
    full_meta = {**dict(meta), "mask_threshold_m": threshold, "mask_unmasked_coordinates": mask_info["unmasked"],
                 "card_summary": stats.summary(), "failures": [list(f) for f in failures]}
    manifest = write_manifest(root, names, records, writer, full_meta)
    card = write_card(root, stats, records, meta, mask_info)
    phases["shards"] = time.perf_counter() - t_shards
    result = DatasetResult(root, manifest, card, len(records), len(writer.trials),
                           int(sum(t.n_frames for t in writer.trials)), tuple(failures), stats.summary(),
                           time.perf_counter() - start, phases)
    log.info("dataset %s: %d subjects, %d trials, %d frames, median IK RMS %.2f mm, %d failure(s)", root,
             result.n_subjects, result.n_trials, result.n_frames, result.summary.get("ik_rms_median_mm") or np.nan,
             len(failures))
    return result


def _match_trial(job: SubjectJob, name: str) -> TrialJob:
    from ..labeling.outputs import safe_name

    for t in job.trials:
        if safe_name(t.name) == name:
            return t
    raise KeyError(f"subject {job.name}: no trial named {name!r}")


def _unmasked(jobs, summaries, bony) -> tuple[str, ...]:
    from .labelling import _plan

    for j in jobs:
        if summaries.get(j.name):
            return _plan(str(j.out_dir / f"{j.name}_scaled.osim"), tuple(bony)).unmasked
    return ()


DONE_FILE = "synth_done.json"


def _write_done(job: SubjectJob, summaries: Sequence[TrialSummary]) -> None:
    from ..atomic import atomic_write_text

    data = {"subject": job.name, "trials": [
        {"name": s.name, "n_frames": s.n_frames, "rms_median": s.rms_median, "masked_fraction": s.masked_fraction,
         "labels": str(s.labels), "masks": str(s.masks)} for s in summaries]}
    atomic_write_text(job.out_dir / DONE_FILE, json.dumps(data, indent=1))


def read_done(job: SubjectJob) -> list[TrialSummary] | None:
    """Summaries of a subject finished in an earlier run (its outputs still present), else ``None``."""
    path = job.out_dir / DONE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        out = [TrialSummary(job.name, t["name"], None, "skipped", n_frames=int(t["n_frames"]),
                            rms_median=float(t["rms_median"]), masked_fraction=float(t["masked_fraction"]),
                            labels=Path(t["labels"]), masks=Path(t["masks"])) for t in data["trials"]]
    except (ValueError, KeyError, TypeError):
        return None
    if len(out) != len(job.trials) or not all(s.labels.is_file() and s.masks.is_file() for s in out):
        return None
    return out
