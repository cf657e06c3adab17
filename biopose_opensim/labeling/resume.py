"""Resume and clean failure for one subject's outputs: what a failed or interrupted run leaves, and when a rerun
may continue it.

Rules (one-subject mode and dataset mode alike):

* A subject's scaling is recorded in ``<out>/.prepared.pkl`` with a fingerprint of what it depends on (static
  trial, subject values, settings and the files they name, the output folder). A rerun with the same fingerprint
  reuses it and skips finished trials; a rerun with another fingerprint is refused (``--overwrite`` recomputes).
* Scaling that fails or is interrupted removes the scaling outputs it may have written (and the state file), so
  the folder holds no partial scaling.
* IK of a trial that fails or is interrupted removes that trial's outputs; the trials finished before it stay.
"""
from __future__ import annotations

import hashlib
import json
import logging
import pickle
from pathlib import Path
from typing import Any, Iterable, Sequence

from .. import __version__
from ..atomic import atomic_write_bytes
from ..io import MarkerData
from .config import LabelConfig
from .outputs import SubjectPaths, TrialPaths, claim_output_dir, safe_name, shown_names
from .static import check_window
from .results import PreparedSubject, SubjectSpec, TrialResult
from .subject import label_trial, prepare_subject

log = logging.getLogger(__name__)

#: Name of the file, in a subject's output folder, recording its scaling for a rerun.
STATE_FILE = ".prepared.pkl"


def fingerprint(spec: SubjectSpec, config: LabelConfig, out_dir: Path) -> str:
    """Hash of what a subject's scaling depends on: static trial, subject values, settings and their files, and
    where its results are (a moved output folder is scaled again)."""

    def stamp(p: Any) -> Any:
        if isinstance(p, Path) and p.is_file():
            st = p.stat()
            return [str(p.resolve()), st.st_size, st.st_mtime_ns]
        return str(p) if isinstance(p, Path) else p

    cfg = {k: stamp(getattr(config, k)) for k in config.to_dict()}
    if isinstance(config.static_pose, str) and config.static_pose != "zero":
        cfg["static_pose"] = stamp(Path(config.static_pose))
    static = Path(spec.static) if spec.static is not None else None
    blob = json.dumps({"version": __version__, "out": str(Path(out_dir).resolve()), "static": stamp(static),
                       "mass": spec.mass, "height": spec.height, "sex": spec.sex, "config": cfg},
                      sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()


def load_state(out_dir: Path) -> tuple[str, PreparedSubject] | None:
    """The (fingerprint, prepared subject) recorded in ``out_dir``, or None (missing, stale or unreadable)."""
    path = Path(out_dir) / STATE_FILE
    try:
        fp, prepared = pickle.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a stale or foreign state file is ignored
        log.warning("%s: unreadable (%s); the subject will be scaled again", path, exc)
        return None
    return (fp, prepared) if isinstance(prepared, PreparedSubject) else None


def save_state(out_dir: Path, fp: str, prepared: PreparedSubject) -> None:
    atomic_write_bytes(Path(out_dir) / STATE_FILE, pickle.dumps((fp, prepared)))


def reusable(spec: SubjectSpec, config: LabelConfig, out_dir: Path, overwrite: bool) -> PreparedSubject | None:
    """One-subject mode's rule for an output folder: the earlier scaling to reuse, or None to scale.

    Raises:
        OutputExistsError: ``out_dir`` holds results that this run may not continue (other inputs or settings,
            or results without a record of their scaling) and ``overwrite`` is False. Nothing is changed.
    """
    out_dir = Path(out_dir).resolve()
    if overwrite:
        return None
    paths = SubjectPaths(out_dir, safe_name(spec.name))
    old = load_state(out_dir)
    if old is not None and not Path(old[1].scaled_model).is_file():
        old = None
    found = paths.existing_results()
    if old is not None:
        holds = f"already holds results ({shown_names(found)}) of another static trial, subject values or settings"
    else:
        holds = f"already holds results ({shown_names(found)})" if found else None
    same = old is not None and old[0] == fingerprint(spec, config, out_dir)
    if claim_output_dir(out_dir, overwrite, holds, resumable=same):
        log.info("%s: resuming the earlier run in %s (scaling reused, finished trials skipped)", paths.name, out_dir)
        return old[1]
    return None


def check_time_ranges(trials: Iterable[tuple[Path, MarkerData]], config: LabelConfig) -> None:
    """Check the IK time range (``config.time_range``, else the IK setup's) against every trial, before anything
    is scaled or written.

    Raises:
        InputFileError: a trial holds no frame in the time range (the message names the trial and both ranges).
    """
    window = config.time_range
    if window is None and config.ik_setup is not None and Path(config.ik_setup).is_file():
        from ..osim.setups import read_ik_setup

        window = read_ik_setup(config.ik_setup).time_range
    if window is None:
        return
    for _, data in trials:
        check_window(data, window, "IK time range")


def _scaling_outputs(paths: SubjectPaths, static: Path | None) -> list[Path]:
    out = [paths.scaled_model, paths.scale_set, paths.markers_xml, paths.generic_posed, paths.static_pose,
           paths.scale_factors_json, paths.setup_scale, paths.setup_ik, paths.out_dir / STATE_FILE]
    if static is not None:
        out.append(paths.cleaned_static(static))
    return out


def _trial_outputs(tp: TrialPaths) -> list[Path]:
    return [tp.ik_mot, tp.marker_errors, tp.labels, tp.setup_ik, tp.cleaned_trc, tp.plot]


def _stamp(files: Sequence[Path]) -> dict[Path, int | None]:
    out: dict[Path, int | None] = {}
    for f in files:
        try:
            out[f] = f.stat().st_mtime_ns
        except OSError:
            out[f] = None
    return out


def _remove_written(before: dict[Path, int | None], why: str) -> None:
    """Remove the files of ``before`` that were created or replaced since it was taken."""
    removed = []
    for f, stamp in _stamp(list(before)).items():
        if stamp is None or stamp == before[f]:
            continue
        try:
            f.unlink()
            removed.append(f.name)
        except OSError as exc:  # pragma: no cover - e.g. permissions changed during the run
            log.warning("could not remove %s: %s", f, exc)
    if removed:
        log.debug("%s: removed what it wrote (%s)", why, ", ".join(removed))


def prepare_cleanly(spec: SubjectSpec, config: LabelConfig, out_dir: Path, overwrite: bool = False,
                    fp: str | None = None, record: bool = True) -> PreparedSubject:
    """:func:`.subject.prepare_subject`, then, with ``record``, record the scaling for a rerun (``fp``: its
    fingerprint; computed when None). If scaling fails or is interrupted, the scaling outputs it wrote are
    removed before the exception goes on."""
    out_dir = Path(out_dir).resolve()
    paths = SubjectPaths(out_dir, safe_name(spec.name))
    before = _stamp(_scaling_outputs(paths, spec.static))
    try:
        prepared = prepare_subject(spec, config, out_dir, overwrite=overwrite)
        if record:
            save_state(out_dir, fp or fingerprint(spec, config, out_dir), prepared)
    except BaseException:
        _remove_written(before, f"{spec.name}: scaling did not finish")
        raise
    return prepared


def label_trial_cleanly(prepared: PreparedSubject, trial: Path, overwrite: bool = False) -> TrialResult:
    """:func:`.subject.label_trial`; if it fails or is interrupted, the trial outputs it wrote are removed."""
    tp = SubjectPaths(prepared.out_dir, prepared.name).trial(Path(trial))
    before = _stamp(_trial_outputs(tp))
    try:
        return label_trial(prepared, trial, overwrite=overwrite)
    except BaseException:
        _remove_written(before, f"{prepared.name}/{tp.name}: IK did not finish")
        raise
