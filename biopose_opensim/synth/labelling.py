"""Label subjects with ``label`` (OpenSim ScaleTool + IK) and derive per-frame label masks.

Three kinds of task, each a module-level function so the shared runner can ship it to a worker process
or a Dask worker: :func:`scale_task` (once per subject), :func:`ik_task` (once per trial: IK, then the
bony-landmark masks written to ``masks/<trial>.npz``), :func:`finish_task` (the subject's report).
"""
from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from ..atomic import atomic_path
from ..datasets.labels import TrialLabels
from ..labeling import LabelConfig, PreparedSubject, SubjectSpec, finish_subject
from ..labeling.results import TrialSummary
from ..labeling.resume import label_trial_cleanly, prepare_cleanly
from .jobs import SubjectJob, TrialJob
from .masks import coordinate_masks, plan_masks

log = logging.getLogger(__name__)


def masks_path(out_dir: Path, trial: str) -> Path:
    return Path(out_dir) / "masks" / f"{trial}.npz"


def scale_task(job: SubjectJob, config: LabelConfig, overwrite: bool) -> PreparedSubject:
    """ScaleTool on the subject's static trial (label's :func:`prepare_subject`)."""
    spec = SubjectSpec(name=job.name, static=job.static_trc, trials=tuple(t.trc for t in job.trials),
                       mass=job.mass, height=job.height, sex=job.sex)
    return prepare_cleanly(spec, config, job.out_dir, overwrite=overwrite, record=False)


@functools.lru_cache(maxsize=8)
def _plan(model_path: str, bony: tuple[str, ...]):
    return plan_masks(model_path, bony)


def ik_task(prepared: PreparedSubject, trial: TrialJob, bony: tuple[str, ...], threshold: float,
            overwrite: bool) -> TrialSummary:
    """IK on one trial (label's :func:`label_trial`), then its masks (``masks/<trial>.npz``).

    ``masks/<trial>.npz`` holds ``q_mask`` (T, C) bool, ``marker_error`` (T, M) m for every trial marker
    (NaN for markers IK did not track) and the ``threshold`` (m).
    """
    result = label_trial_cleanly(prepared, trial.trc, overwrite=overwrite)
    labels = TrialLabels.load(result.labels)
    names = tuple(labels.marker_names)
    T = len(labels.times)
    err = np.full((T, len(names)), np.nan)
    col = {n: i for i, n in enumerate(names)}
    tracked = tuple(labels.tracked_markers)
    errors = np.asarray(labels.marker_errors, dtype=float)
    for k, n in enumerate(tracked):
        if n in col:
            err[:, col[n]] = errors[:, k]
    plan = _plan(str(prepared.scaled_model), tuple(bony))
    if tuple(labels.coordinate_names) != plan.coordinate_names:
        raise RuntimeError(f"{result.labels}: coordinates differ from the scaled model's")
    q_mask = coordinate_masks(plan, err, names, threshold)
    path = masks_path(prepared.out_dir, result.name)
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, q_mask=q_mask, marker_error=err.astype(np.float32), threshold=threshold)
    with np.errstate(invalid="ignore"):
        rms = np.sqrt(np.nanmean(errors ** 2, axis=1))
    return TrialSummary(prepared.name, result.name, Path(trial.trc), result.status, rms_error=float(result.rms_error),
                        max_error=float(result.max_error), n_frames=T, seconds=float(result.seconds),
                        ik_mot=Path(result.ik_mot), labels=Path(result.labels), masks=path,
                        rms_median=float(np.nanmedian(rms)), masked_fraction=float(1.0 - q_mask.mean()), result=result)


def finish_task(prepared: PreparedSubject, summaries: Sequence[TrialSummary]) -> object:
    """The subject's ``report.md`` (label's :func:`finish_subject`)."""
    return finish_subject(prepared, [s.result for s in summaries])
