"""Label one subject: OpenSim ScaleTool on the static trial, then InverseKinematicsTool per trial.

The work is split in three steps so that a dataset runner can spread trials over processes or a Dask cluster:
:func:`prepare_subject` (scale, once per subject), :func:`label_trial` (IK, once per trial, independent),
:func:`finish_subject` (report). :func:`.one_subject.label_subject` runs the three serially. Every output is written
atomically; OpenSim's own outputs are produced in a staging folder inside the output folder and moved into
place when complete.
"""
from __future__ import annotations

import contextlib
import json
import logging
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from ..atomic import atomic_write_text
from ..datasets.labels import TrialLabels
from ..errors import ConfigError, InputFileError
from ..io import MotionData, write_mot
from ..osim.ik import run_ik
from ..osim.scale import run_scale
from ..osim.setups import read_ik_setup, write_ik_setup, write_scale_setup
from .config import LabelConfig, check_subject_value
from .posing import restore_defaults, static_pose_estimate, write_posed_model
from .results import PreparedSubject, SubjectResult, SubjectSpec, TrialResult
from .outputs import SubjectPaths, move_into_place, refuse_existing, safe_name, staging_dir
from .plausibility import check_scale_factors, check_span
from .report import write_report
from .resolve import marker_positions, resolve_ik_only, resolve_setups
from .static import check_window
from .trials import check_shared_markers, clean_trial, read_markers, write_clean_trc

log = logging.getLogger(__name__)

#: number of worst markers listed per trial
N_WORST = 3


# ------------------------------------------------------------------------------------------------- scale
def prepare_subject(
    spec: SubjectSpec, config: LabelConfig, out_dir: Path, overwrite: bool = False
) -> PreparedSubject:
    """Resolve the setups/protocol, write the setup XMLs used, scale the model (``<subject>_scaled.osim``).

    Without a static trial (``spec.static`` None) nothing is scaled: IK will run on ``config.model`` as given
    (:func:`prepare_ik_only`).

    Raises:
        OutputExistsError: ``out_dir`` holds results and ``overwrite`` is False (nothing is changed).
        BioposeError: bad inputs (missing files, malformed trials, marker names the model lacks, ...).
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir).resolve()
    name = safe_name(spec.name)
    paths = SubjectPaths(out_dir, name)
    refuse_existing(paths, overwrite)
    for key, value in (("mass", spec.mass), ("height", spec.height)):
        check_subject_value(key, value, f"subject {spec.name}")
    if spec.static is None:
        return prepare_ik_only(spec, config, out_dir, t0)
    if not Path(spec.static).is_file():
        raise InputFileError(spec.static, "static trial not found")
    setups = resolve_setups(name, Path(spec.static), spec.mass, spec.height, config, paths)
    for note in setups.notes:
        log.info("%s: %s", name, note)
    reference = marker_positions(setups.model, leave_out=setups.added_markers)
    static_span = check_span(setups.static.data, reference, "static trial")  # before OpenSim runs

    write_clean_trc(paths.cleaned_static(spec.static), setups.static.data)
    scale = setups.scale
    with staging_dir(out_dir) as stage:
        posed = None
        if _measure_in_static_pose(config, scale):
            pose = {t.name: t.value for t in scale.coordinate_tasks if t.apply and t.value_type == "manual_value"} \
                if config.static_pose is not None else static_pose_estimate(scale, stage)
            posed = write_posed_model(setups.model_file, setups.markers_file, pose, paths.generic_posed)
            scale = scale.replace(model_file=posed.resolve(), marker_set_file=None)
        stage_setup = stage / paths.setup_scale.name
        # the staging copy also writes the scaled model before marker placement, to measure the static fit
        write_scale_setup(scale.replace(output_scaled_only_model_file=".scaled_only.osim")
                          if scale.placer_apply else scale, stage_setup)
        result = run_scale(stage_setup)
        scale_check = check_scale_factors(result.scale_factors, Path(spec.static), setups.static.data.source_units)
        if posed is not None:
            restore_defaults(result.model_file, setups.model_file)
        move_into_place(result.model_file, paths.scaled_model)
        if result.scale_file is not None:
            move_into_place(result.scale_file, paths.scale_set)
        if result.static_pose_file is not None and result.static_pose_file.is_file():
            move_into_place(result.static_pose_file, paths.static_pose)
    write_scale_setup(scale, paths.setup_scale)
    write_ik_setup(setups.ik_template, paths.setup_ik)

    sources = _measurement_sources(setups)
    resolved = config.with_overrides(
        model=setups.model_file, markers=setups.markers_file, accuracy=setups.accuracy,
        constraint_weight=setups.constraint_weight, static_window=setups.window, mass=setups.mass,
        height=setups.height,
    )
    ik_markers = tuple(t.name for t in setups.ik_template.marker_tasks
                       if t.apply and t.weight > 0 and t.name in set(setups.model.marker_names))
    prepared = PreparedSubject(
        name=name, out_dir=out_dir, config=resolved, scaled_model=paths.scaled_model, setup_scale=paths.setup_scale,
        setup_ik=paths.setup_ik, scale_factors_json=paths.scale_factors_json, scale_factors=result.scale_factors,
        static_window=setups.window, static_window_source=setups.window_source, mass=setups.mass,
        height=setups.height, sex=spec.sex, accuracy=setups.accuracy, constraint_weight=setups.constraint_weight,
        marker_renames=tuple(setups.renames.items()), ik_markers=ik_markers, static_rms=result.placer_rms,
        static_max=result.placer_max, static_worst=result.placer_worst, static_pose=result.static_pose,
        static_marker_errors=result.static_marker_errors,
        measurements=tuple(m for m in setups.scale.measurements if m.apply) if "measurements" in
        setups.scale.scaling_order else (), measurement_sources=sources,
        model_markers=setups.model.marker_names, total_mass=result.total_mass, notes=setups.notes,
        seconds=time.perf_counter() - t0, model_marker_positions=tuple(reference.items()), static_span=static_span,
        scale_check=scale_check,
    )
    _write_scale_json(prepared, setups.model_file, setups.markers_file)
    log.info("%s: scaled in %.1f s (static window %.2f-%.2f s, %s; static fit RMS %s)", name, prepared.seconds,
             *setups.window, setups.window_source,
             f"{1000 * result.placer_rms:.1f} mm" if result.placer_rms is not None else "n/a")
    return prepared


def prepare_ik_only(spec: SubjectSpec, config: LabelConfig, out_dir: Path, t0: float | None = None
                    ) -> PreparedSubject:
    """IK only: the IK template for ``config.model`` as given (already scaled, markers placed); nothing is scaled.

    Writes ``setup_ik.xml`` and ``scale_factors.json`` (every factor 1, ``"ik_only": true``). The model stays
    where it is; IK setups name it by its absolute path.

    Raises:
        ConfigError: no model, or a marker set given; InputFileError etc.: bad model, IK setup or first trial.
    """
    t0 = time.perf_counter() if t0 is None else t0
    out_dir = Path(out_dir).resolve()
    name = safe_name(spec.name)
    paths = SubjectPaths(out_dir, name)
    if not spec.trials:
        raise ConfigError(f"subject {spec.name}: IK only needs at least one trial")
    setups = resolve_ik_only(name, read_markers(spec.trials[0], config.up_axis), config)
    for note in setups.notes:
        log.info("%s: %s", name, note)
    info = setups.model
    write_ik_setup(setups.ik_template, paths.setup_ik)
    resolved = config.with_overrides(accuracy=setups.accuracy, constraint_weight=setups.constraint_weight,
                                     mass=spec.mass, height=spec.height)
    names = set(info.marker_names)
    ik_markers = tuple(t.name for t in setups.ik_template.marker_tasks if t.apply and t.weight > 0 and t.name in names)
    prepared = PreparedSubject(
        name=name, out_dir=out_dir, config=resolved, scaled_model=setups.model_file.resolve(), setup_scale=None,
        setup_ik=paths.setup_ik, scale_factors_json=paths.scale_factors_json,
        scale_factors=tuple((b, (1.0, 1.0, 1.0)) for b in info.body_names), static_window=None,
        static_window_source="none (IK only)", mass=resolved.mass, height=resolved.height, sex=spec.sex,
        accuracy=setups.accuracy, constraint_weight=setups.constraint_weight,
        marker_renames=tuple(setups.renames.items()), ik_markers=ik_markers, static_rms=None, static_max=None,
        static_worst=None, static_marker_errors=(), static_pose=(), measurements=(), measurement_sources=(),
        model_markers=info.marker_names, total_mass=info.total_mass, notes=setups.notes,
        seconds=time.perf_counter() - t0, ik_only=True,
        model_marker_positions=tuple(marker_positions(info).items()),
    )
    _write_scale_json(prepared, setups.model_file.resolve(), None)
    return prepared


def _measure_in_static_pose(config: LabelConfig, scale) -> bool:
    """Only for protocol-built setups (a lab's Scale setup runs as OpenSim would) that measure and place."""
    return bool(config.measure_in_static_pose and config.scale_setup is None and scale.scaler_apply
                and scale.placer_apply and "measurements" in scale.scaling_order
                and any(m.apply for m in scale.measurements))


def _measurement_sources(setups) -> tuple[tuple[str, str], ...]:
    if setups.protocol is not None and setups.scale.source is None:
        return setups.protocol.measurement_sources
    return tuple((m.name, "setup") for m in setups.scale.measurements)


def _write_scale_json(p: PreparedSubject, model_file: Path, markers_file: Path | None) -> None:
    pose = dict(p.static_pose)
    rotational = {c for c, _ in p.static_pose if not c.endswith(("_tx", "_ty", "_tz"))}
    doc = {
        "subject": p.name,
        "ik_only": p.ik_only,
        "generic_model": None if p.ik_only else str(model_file),
        "model": str(model_file) if p.ik_only else None,
        "marker_set": str(markers_file) if markers_file else None,
        "scaled_model": None if p.ik_only else p.scaled_model.name,
        "mass_kg": p.mass,
        "height_m": p.height,
        "total_mass_kg": p.total_mass,
        "static_window_s": list(p.static_window) if p.static_window is not None else None,
        "static_window_source": p.static_window_source,
        "static_fit": {"rms_m": p.static_rms, "max_m": p.static_max, "worst_marker": p.static_worst},
        "scale_factors": {b: list(f) for b, f in p.scale_factors},
        "scale_factors_source": "none: IK only on the model as given (factors 1)" if p.ik_only else "OpenSim ScaleTool",
        "unit_plausibility": {
            "static_marker_span_m": p.static_span.subject_span if p.static_span else None,
            "model_marker_span_m": p.static_span.model_span if p.static_span else None,
            "span_ratio": p.static_span.ratio if p.static_span else None,
            "median_scale_factor": p.scale_check.median if p.scale_check else None,
        },
        "measurements": [
            {"name": m.name, "marker_pairs": [list(pr) for pr in m.marker_pairs],
             "bodies": [[b, ax] for b, ax in m.body_scales], "source": dict(p.measurement_sources).get(m.name)}
            for m in p.measurements
        ],
        "static_pose": {c: (float(np.degrees(v)) if c in rotational else float(v)) for c, v in pose.items()},
        "static_pose_units": "degrees for rotational coordinates, m for translations",
    }
    atomic_write_text(p.scale_factors_json, json.dumps(doc, indent=2) + "\n")


# ------------------------------------------------------------------------------------------------- IK
def label_trial(prepared: PreparedSubject, trial: Path, overwrite: bool = False) -> TrialResult:
    """IK for one trial: ``<trial>_ik.mot``, ``<trial>_marker_errors.sto``, ``labels/<trial>.npz``.

    Idempotent: a finished trial (outputs present and newer than its inputs) is skipped unless ``overwrite``.

    Raises:
        BioposeError: bad trial (missing, malformed, too few markers shared with the model, time range outside).
    """
    t0 = time.perf_counter()
    trial = Path(trial)
    paths = SubjectPaths(prepared.out_dir, prepared.name)
    tp = paths.trial(trial)
    if not overwrite and _finished(tp, trial, prepared):
        log.info("%s/%s: finished earlier, skipped", prepared.name, tp.name)
        return _result_from_labels(tp, trial, TrialLabels.load(tp.labels), "skipped", time.perf_counter() - t0)

    cfg = prepared.config
    raw = read_markers(trial, cfg.up_axis)
    clean = clean_trial(raw, dict(prepared.marker_renames), cfg.max_gap, prepared.model_markers)
    template = read_ik_setup(prepared.setup_ik)
    tracked = [t.name for t in template.marker_tasks if t.apply and t.weight > 0]
    check_shared_markers(clean.data, tracked, prepared.model_markers, int(cfg.min_shared_markers))
    data = clean.data
    span = check_span(data, dict(prepared.model_marker_positions), "trial")  # before OpenSim runs
    if template.time_range is not None:
        window = check_window(data, template.time_range, "IK time range")
    else:
        window = (float(data.times[0]), float(data.times[-1]))

    write_clean_trc(tp.cleaned_trc, data)
    setup = template.replace(name=tp.name, model_file=prepared.scaled_model, marker_file=tp.cleaned_trc.resolve(),
                             time_range=window)
    with staging_dir(prepared.out_dir) as stage:
        stage_setup = stage / tp.setup_ik.name
        write_ik_setup(setup.replace(output_motion_file=tp.ik_mot.name, results_directory="."), stage_setup)
        result = run_ik(stage_setup, prepared.scaled_model)
        write_marker_errors(tp.marker_errors, result)
        idx = np.searchsorted(data.times, result.times - 1e-9)
        idx = np.clip(idx, 0, data.n_frames - 1)
        labels = TrialLabels(
            times=result.times, rate=data.rate, marker_names=tuple(data.marker_names), markers=data.positions[idx],
            tracked_markers=tuple(result.marker_names), model_markers=result.model_markers,
            marker_errors=result.marker_errors, coordinate_names=tuple(result.coordinate_names),
            rotational=np.array(result.rotational), q=result.q,
            body_names=tuple(b for b, _ in prepared.scale_factors),
            s=np.array([f for _, f in prepared.scale_factors], dtype=float),
            subject=prepared.name, trial=tp.name, mass=_or_nan(prepared.mass), height=_or_nan(prepared.height),
            accuracy=result.accuracy, gaps=clean.gaps.to_dict(), unused_markers=tuple(clean.unused),
            time_range=window, ik_only=prepared.ik_only,
            marker_span=(span.subject_span, span.model_span) if span else (np.nan, np.nan),
        )
        labels.save(tp.labels)
        move_into_place(result.motion_file, tp.ik_mot)
    write_ik_setup(setup.replace(output_motion_file=tp.ik_mot.name, results_directory="."), tp.setup_ik)
    res = _result_from_labels(tp, trial, labels, "done", time.perf_counter() - t0)
    log.info("%s/%s: IK %d frames in %.1f s, marker RMS %.1f mm (max %.1f mm, worst %s)", prepared.name, tp.name,
             res.n_frames, res.seconds, 1000 * res.rms_error, 1000 * res.max_error,
             ", ".join(n for n, _ in res.worst_markers))
    return res


def _finished(tp, trial: Path, prepared: PreparedSubject) -> bool:
    outputs = (tp.ik_mot, tp.marker_errors, tp.labels)
    if not all(p.is_file() for p in outputs):
        return False
    inputs = [p for p in (trial, prepared.scaled_model, prepared.setup_ik) if p.is_file()]
    newest_input = max(p.stat().st_mtime_ns for p in inputs)
    return min(p.stat().st_mtime_ns for p in outputs) >= newest_input


def _or_nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _result_from_labels(tp, trial: Path, lab: TrialLabels, status: str, seconds: float) -> TrialResult:
    """The trial's result from its labels (marker errors in m)."""
    errors = np.asarray(lab.marker_errors, dtype=float)
    names = lab.tracked_markers
    with np.errstate(invalid="ignore"), _ignore_nan_warnings():
        per_frame = np.sqrt(np.nanmean(errors**2, axis=1)) if errors.size else np.full(len(errors), np.nan)
        per_marker = np.sqrt(np.nanmean(errors**2, axis=0)) if errors.size else np.zeros(0)
    finite = per_frame[np.isfinite(per_frame)]
    order = [i for i in np.argsort(-np.nan_to_num(per_marker, nan=-1.0)) if np.isfinite(per_marker[i])]
    gaps = lab.gaps or {}
    unfilled = tuple((m, float(a), float(b)) for m, runs in sorted(gaps.get("unfilled", {}).items()) for a, b in runs)
    tr = lab.time_range
    return TrialResult(
        name=tp.name, status=status, n_frames=lab.n_frames,
        rms_error=float(finite.mean()) if finite.size else float("nan"),
        max_error=float(np.nanmax(errors)) if np.isfinite(errors).any() else float("nan"),
        worst_markers=tuple((names[i], float(per_marker[i])) for i in order[:N_WORST]),
        ik_mot=tp.ik_mot, marker_errors=tp.marker_errors, labels=tp.labels, seconds=seconds, source=trial,
        rms_percentiles=tuple(float(v) for v in np.percentile(finite, (5, 50, 95))) if finite.size else
        (float("nan"),) * 3,
        time_range=(float(tr[0]), float(tr[1])) if tr is not None else None,
        gaps_filled=sum(len(v) for v in gaps.get("filled", {}).values()), gaps_unfilled=unfilled,
        unused_markers=lab.unused_markers, marker_span=tuple(float(v) for v in lab.marker_span),
    )


def write_marker_errors(path: Path, result) -> None:
    """OpenSim's per-frame columns (total_squared_error, marker_error_RMS, marker_error_max) then one column per
    tracked marker, all in m (squared error in m^2)."""
    errors = result.marker_errors
    total = np.nansum(errors**2, axis=1)
    values = np.column_stack([total, result.rms_error, result.max_error, errors])
    labels = ("total_squared_error", "marker_error_RMS", "marker_error_max") + tuple(result.marker_names)
    with _quiet_logger("biopose_opensim.io.mot"):
        write_mot(path, MotionData(labels, result.times, values, in_degrees=False, name="Model Marker Errors from IK"))


@contextlib.contextmanager
def _quiet_logger(name: str):
    """Missing markers are expected in marker-error files; keep the writer's NaN warning out of the console."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _ignore_nan_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


# ------------------------------------------------------------------------------------------------- report
def finish_subject(prepared: PreparedSubject, results: Sequence[TrialResult]) -> SubjectResult:
    """Write ``report.md`` with PNG plots and the resolved ``label_config.toml``."""
    t0 = time.perf_counter()
    paths = SubjectPaths(prepared.out_dir, prepared.name)
    atomic_write_text(paths.config_toml, prepared.config.to_toml())
    report = write_report(prepared, list(results), paths)
    return SubjectResult(
        name=prepared.name, out_dir=prepared.out_dir, scaled_model=prepared.scaled_model,
        scale_factors_json=prepared.scale_factors_json, trials=tuple(results), report=report,
        config_toml=paths.config_toml, seconds=prepared.seconds + sum(r.seconds for r in results)
        + time.perf_counter() - t0,
    )


def check_units_up_front(spec: SubjectSpec, config: LabelConfig, trials: Sequence[tuple[Path, object]]) -> None:
    """The unit plausibility check (:mod:`.plausibility`) of the static trial and every ``(path, MarkerData)``
    trial against the model's markers, before anything is scaled or written. Skipped when IK only has no model
    (:func:`prepare_ik_only` refuses that).

    Raises:
        InputFileError: a file's markers span implausibly much or little for its declared unit.
    """
    from ..markers.vocabulary import marker_renames
    from .resolve import reference_markers

    ik_only = spec.static is None
    if ik_only and config.model is None:
        return
    if not ik_only and not Path(spec.static).is_file():
        raise InputFileError(spec.static, "static trial not found")
    reference = reference_markers(config, ik_only)
    files = ([] if ik_only else [("static trial", read_markers(spec.static, config.up_axis))]) \
        + [("trial", data) for _, data in trials]
    for what, data in files:
        renames = marker_renames(data.marker_names, list(reference)) if config.marker_aliases else {}
        check_span(data.rename(renames) if renames else data, reference, what)
