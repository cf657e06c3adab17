"""Resolve one subject's ScaleTool and IK setups from the configuration, a lab's setup templates and the protocol.

Precedence, for every setting: explicit configuration (command line, TOML) > subject values (mass, height) >
the lab's setup template > the automatic choice. A lab's setup is used as a template: its measurements, manual
scales, scaling order, marker and coordinate tasks, time ranges, accuracy and constraint weight are kept, its
paths are resolved relative to the setup file, and the model, marker set, static trial and outputs are replaced
by this subject's. Without templates, the protocol of :mod:`biopose_opensim.markers.protocol` is used.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ConfigError, CoordinateMismatchError, InputFileError, MarkerMismatchError
from ..io import MarkerData, read_coordinates
from ..markers.protocol import Protocol, build_protocol, rename_measurements, rename_tasks
from ..markers.vocabulary import VIRTUAL, body_hint, classify_marker, marker_renames
from ..osim.markerset import add_markers, replace_markers, write_markerset
from ..osim.model import ModelInfo, closest_names, load_model, model_info
from ..osim.setups import CoordinateTask, IKSetup, ScaleSetup, read_ik_setup, read_scale_setup
from ..paths import default_model_path
from .config import DEFAULT_ACCURACY, LabelConfig
from .outputs import SubjectPaths
from .static import check_window, find_static_window
from .trials import (
    CleanTrial,
    check_markers_in_model,
    check_shared_markers,
    clean_trial,
    read_markers,
    with_closest,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class SubjectSetups:
    """Everything needed to run Scale and IK for one subject (paths absolute)."""

    scale: ScaleSetup
    ik_template: IKSetup
    model_file: Path
    markers_file: Path | None
    model: ModelInfo
    static: CleanTrial
    renames: dict[str, str]
    window: tuple[float, float]
    window_source: str  # "configuration", "Scale setup" or "automatic"
    accuracy: float
    constraint_weight: float
    mass: float | None
    height: float | None
    protocol: Protocol | None
    notes: tuple[str, ...]
    #: static-trial markers added to the model at a provisional place (body origin) before marker placement
    added_markers: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class IKOnlySetups:
    """IK only on a model as given (already scaled, markers placed): the IK template and what it was built from."""

    ik_template: IKSetup
    model_file: Path
    model: ModelInfo
    renames: dict[str, str]
    accuracy: float
    constraint_weight: float
    notes: tuple[str, ...]


#: settings that only steer scaling and marker placement, unused by IK only
SCALING_SETTINGS = ("scale_setup", "static_pose", "static_window")


def resolve_setups(name: str, static_path: Path, mass: float | None, height: float | None,
                   config: LabelConfig, paths: SubjectPaths) -> SubjectSetups:
    """Build the subject's Scale setup and IK template; validate marker names and windows.

    Raises:
        InputFileError, MarkerMismatchError, CoordinateMismatchError, ConfigError: bad inputs.
    """
    notes: list[str] = []
    scale_tpl = read_scale_setup(config.scale_setup) if config.scale_setup is not None else None
    ik_tpl = read_ik_setup(config.ik_setup) if config.ik_setup is not None else None

    model_file = _model_file(config, scale_tpl)
    markers_file = config.markers
    if markers_file is None and scale_tpl is not None and scale_tpl.marker_set_file is not None:
        markers_file = scale_tpl.marker_set_file
        if not markers_file.is_file():
            raise InputFileError(scale_tpl.source, f"marker_set_file {markers_file} not found (give --markers)")
    model = load_model(model_file)
    if markers_file is not None:
        replace_markers(model, markers_file, keep_existing=True)  # OpenSim GenericModelMaker semantics
    info = model_info(model, model_file)
    if not info.markers:
        raise InputFileError(model_file, "the model has no markers; give a marker set with --markers")

    raw_static = read_markers(static_path, config.up_axis)
    renames = marker_renames(raw_static.marker_names, info.marker_names) if config.marker_aliases else {}
    static = clean_trial(raw_static, renames, config.max_gap, info.marker_names)
    if static.renamed:
        notes.append("trial markers renamed to the model's names: "
                     + ", ".join(f"{a} -> {b}" for a, b in static.renamed))

    added: list[tuple[str, str, tuple[float, float, float]]] = []
    if scale_tpl is None and config.add_trial_markers:
        model_names = set(info.marker_names)
        for n in static.data.marker_names:
            body = body_hint(n, info.body_names) if n not in model_names and classify_marker(n) != VIRTUAL else None
            if body is not None:
                added.append((n, body, (0.0, 0.0, 0.0)))
        if added:
            add_markers(model, added)
            info = model_info(model, model_file)
            markers_file = write_markerset(model, paths.markers_xml)
            notes.append("static-trial markers added to the model and placed by marker placement: "
                         + ", ".join(f"{n} ({b})" for n, b, _ in added))
    unused_static = [n for n in static.data.marker_names if n not in set(info.marker_names)]
    if unused_static:
        notes.append("static-trial markers the model lacks (unused): " + ", ".join(unused_static))

    protocol = None
    if scale_tpl is None or ik_tpl is None:
        protocol = build_protocol(info, static.data.marker_names, info.marker_names, added=[n for n, _, _ in added])
        if protocol.unscaled_bodies and scale_tpl is None:
            notes.append("bodies left unscaled (no measurement): " + ", ".join(protocol.unscaled_bodies))

    # ---------------------------------------------------------------- Scale setup
    if scale_tpl is not None:
        # a lab's setup names the lab's markers: follow the trial's renames onto the model's names
        base = scale_tpl.replace(measurements=rename_measurements(scale_tpl.measurements, renames),
                                 marker_tasks=rename_tasks(scale_tpl.marker_tasks, renames))
    else:
        base = ScaleSetup(measurements=protocol.measurements, marker_tasks=protocol.placer_tasks,
                          scaling_order=("measurements",))
    needed = base.measurement_markers
    check_markers_in_model(needed, info.marker_names, str(base.source or "the scaling protocol"),
                           "the scale measurements")
    _check_in_trial(needed, static.data, "the scale measurements")
    placer_names = [t.name for t in base.marker_tasks if t.apply and t.weight > 0]
    min_shared = int(config.min_shared_markers)
    check_shared_markers(static.data, placer_names + _untasked(static.data, base), info.marker_names, min_shared)

    if config.static_window is not None:
        window, source = check_window(static.data, config.static_window), "configuration"
    elif scale_tpl is not None and scale_tpl.time_range is not None:
        window, source = check_window(static.data, scale_tpl.time_range, "Scale setup time range"), "Scale setup"
    else:
        used = [n for n in static.data.marker_names if n in set(info.marker_names)]
        window = find_static_window(static.data, config.static_window_length, config.static_min_markers, used)
        source = "automatic"
    _check_window_has_data(static.data, needed, window)
    placer_window = window
    if config.static_window is None and scale_tpl is not None and scale_tpl.placer_time_range is not None:
        placer_window = check_window(static.data, scale_tpl.placer_time_range, "marker placement time range")

    coord_tasks = list(base.coordinate_tasks)
    coordinate_file = base.coordinate_file
    if config.static_pose is not None:
        pose_tasks = static_pose_tasks(config.static_pose, info, window, config.static_pose_weight)
        replaced = {t.name for t in pose_tasks}
        coord_tasks = [t for t in coord_tasks if t.name not in replaced] + list(pose_tasks)
        notes.append(f"static pose prescribed ({config.static_pose}) on {len(pose_tasks)} coordinates, "
                     f"weight {config.static_pose_weight:g}")
    _check_coordinates([t.name for t in coord_tasks if t.apply], info, str(base.source or "static pose"))

    subject_mass = mass if mass is not None else config.mass if config.mass is not None else base.mass
    subject_height = height if height is not None else config.height if config.height is not None else base.height
    cleaned_static = paths.cleaned_static(static_path)
    scale = base.replace(
        name=name, model_file=model_file.resolve(), marker_set_file=markers_file.resolve() if markers_file else None,
        mass=subject_mass, height=subject_height, marker_file=cleaned_static, placer_marker_file=cleaned_static,
        time_range=window, placer_time_range=placer_window, coordinate_tasks=tuple(coord_tasks),
        coordinate_file=coordinate_file, output_scale_file=paths.scale_set.name,
        output_scaled_only_model_file=None if base.placer_apply else paths.scaled_model.name,
        output_model_file=paths.scaled_model.name if base.placer_apply else None,
        output_motion_file=paths.static_pose.name if base.placer_apply else None, output_marker_file=None,
    )

    # ---------------------------------------------------------------- IK template
    ik_template, accuracy, cweight = _ik_template(name, ik_tpl, protocol, renames, info, static.data, config,
                                                  paths.scaled_model, notes)
    return SubjectSetups(
        scale=scale, ik_template=ik_template, model_file=model_file, markers_file=markers_file, model=info,
        static=static, renames=renames, window=window, window_source=source, accuracy=accuracy,
        constraint_weight=cweight, mass=subject_mass, height=subject_height, protocol=protocol, notes=tuple(notes),
        added_markers=tuple(n for n, _, _ in added),
    )


def resolve_ik_only(name: str, first_trial: MarkerData, config: LabelConfig) -> IKOnlySetups:
    """The IK template for IK only on ``config.model`` as given: no scaling, no marker placement.

    The model must already be the subject's (scaled, markers placed); its own markers are used. The IK tasks
    come from ``config.ik_setup`` (a lab's template) or the automatic protocol; marker renames are found from
    ``first_trial``'s names (raw, as read).

    Raises:
        ConfigError: no model given, or ``markers`` set (it would replace the model's placed markers).
        InputFileError, MarkerMismatchError, CoordinateMismatchError: bad model or IK setup.
    """
    if config.model is None:
        raise ConfigError(f"subject {name}: IK only (no static trial) runs on the subject's scaled model as given; "
                          "give it with --model (dataset: model.osim in the subject folder or [label] model), or "
                          "give a static trial to scale the generic model")
    if config.markers is not None:
        raise ConfigError(f"subject {name}: IK only uses the markers of the model as given ({config.model}); "
                          f"a marker set ({config.markers}) would replace them with unplaced ones. Drop --markers "
                          "(markers), or give a static trial to scale and place them")
    notes: list[str] = [f"IK only on the model as given ({config.model}): no scaling and no marker placement; "
                        "labels carry scale factors of 1"]
    unused = [k for k in SCALING_SETTINGS if getattr(config, k) is not None]
    if unused:
        notes.append("scaling settings not used (IK only): " + ", ".join(unused))
    ik_tpl = read_ik_setup(config.ik_setup) if config.ik_setup is not None else None
    model_file = Path(config.model)
    info = model_info(load_model(model_file), model_file)
    if not info.markers:
        raise InputFileError(model_file, "the model has no markers; IK only needs the subject's model with its "
                                         "placed markers")
    renames = marker_renames(first_trial.marker_names, info.marker_names) if config.marker_aliases else {}
    data = first_trial.rename({k: v for k, v in renames.items() if k in first_trial.marker_names}) if renames \
        else first_trial
    protocol = build_protocol(info, (), data.marker_names) if ik_tpl is None else None
    template, accuracy, cweight = _ik_template(name, ik_tpl, protocol, renames, info, data, config,
                                               model_file.resolve(), notes)
    return IKOnlySetups(ik_template=template, model_file=model_file, model=info, renames=renames,
                        accuracy=accuracy, constraint_weight=cweight, notes=tuple(notes))


def reference_markers(config: LabelConfig, ik_only: bool) -> dict[str, tuple[float, float, float]]:
    """Model marker positions (m, ground, default pose) that trials are checked against before any OpenSim
    tool runs: the model as given (``ik_only``) or the generic model with its marker set.

    Raises:
        InputFileError: the model or marker set cannot be read.
    """
    scale_tpl = read_scale_setup(config.scale_setup) if config.scale_setup is not None and not ik_only else None
    model_file = Path(config.model) if ik_only else _model_file(config, scale_tpl)
    markers_file = None if ik_only else (config.markers if config.markers is not None else
                                         scale_tpl.marker_set_file if scale_tpl is not None else None)
    model = load_model(model_file)
    if markers_file is not None and Path(markers_file).is_file():
        replace_markers(model, markers_file, keep_existing=True)
    return marker_positions(model_info(model, model_file))


def marker_positions(info: ModelInfo, leave_out=()) -> dict[str, tuple[float, float, float]]:
    """name -> (x, y, z) m of the model's markers in its default pose (``leave_out``: names to skip)."""
    skip = set(leave_out)
    return {m.name: tuple(float(v) for v in xyz) for m, xyz in zip(info.markers, info.markers_in_ground)
            if m.name not in skip}


def _ik_template(name: str, ik_tpl: IKSetup | None, protocol: Protocol | None, renames: dict[str, str],
                 info: ModelInfo, data: MarkerData, config: LabelConfig, model_file: Path, notes: list[str]
                 ) -> tuple[IKSetup, float, float]:
    """The subject's IK template (a lab's setup with renamed tasks, else the protocol's), its accuracy and
    constraint weight (configuration > setup > defaults)."""
    if ik_tpl is not None:
        ik_base = ik_tpl.replace(marker_tasks=rename_tasks(ik_tpl.marker_tasks, renames))
        _check_ik_tasks(ik_base, info, data, notes)
    else:
        ik_base = IKSetup(marker_tasks=protocol.ik_tasks)
    _check_coordinates([t.name for t in ik_base.coordinate_tasks if t.apply], info, str(ik_base.source or "IK"))
    accuracy = config.accuracy if config.accuracy is not None else (
        ik_tpl.accuracy if ik_tpl is not None else DEFAULT_ACCURACY)
    cweight = config.constraint_weight if config.constraint_weight is not None else (
        ik_tpl.constraint_weight if ik_tpl is not None else math.inf)
    ik_time = config.time_range if config.time_range is not None else ik_base.time_range
    template = ik_base.replace(
        name=name, model_file=model_file, marker_file=None, time_range=ik_time, accuracy=accuracy,
        constraint_weight=cweight, output_motion_file=None, results_directory=".", report_errors=True,
        report_marker_locations=True,
    )
    return template, accuracy, cweight


def static_pose_tasks(static_pose: str, model: ModelInfo, window: tuple[float, float],
                      weight: float) -> tuple[CoordinateTask, ...]:
    """IK coordinate tasks prescribing the static pose during marker placement.

    ``"zero"``: every coordinate at 0 except the root joint's (the root stays free), dependent and locked ones.
    A ``.mot``/``.sto`` file: every model coordinate found in it at the static window's mid time (the file's
    only row if it has one), root included.

    Raises:
        InputFileError: unreadable file, or its times do not cover the static window.
        CoordinateMismatchError: the file holds none of the model's coordinates.
    """
    skip = {c.name for c in model.coordinates if c.dependent or c.locked}
    if static_pose == "zero":
        root = set(model.root_coordinates)
        return tuple(CoordinateTask(c.name, weight, True, "manual_value", 0.0) for c in model.coordinates
                     if c.name not in skip and c.name not in root)
    path = Path(static_pose)
    rotational = {c.name: c.rotational for c in model.coordinates}
    times, q, names = read_coordinates(path, rotational=rotational)
    known = [n for n in names if n in rotational]
    if not known:
        close = closest_names(names[0], list(rotational)) if names else []
        raise CoordinateMismatchError(
            f"{path}: none of its columns ({', '.join(names[:8])}) is a coordinate of the model"
            + (f"; closest: {', '.join(close)}" if close else ""))
    mid = 0.5 * (window[0] + window[1])
    if len(times) == 1:
        row = q[0]
    elif times[0] - 1e-9 <= mid <= times[-1] + 1e-9:
        row = np.array([np.interp(mid, times, q[:, j]) for j in range(q.shape[1])])
    else:
        raise InputFileError(path, f"covers {times[0]:g}-{times[-1]:g} s but the static window is "
                                   f"{window[0]:g}-{window[1]:g} s")
    values = dict(zip(names, row))
    return tuple(CoordinateTask(c.name, weight, True, "manual_value", float(values[c.name]))
                 for c in model.coordinates if c.name in values and c.name not in skip)


def _model_file(config: LabelConfig, scale_tpl: ScaleSetup | None) -> Path:
    if config.model is not None:
        return Path(config.model)
    if scale_tpl is not None and scale_tpl.model_file is not None:
        if not scale_tpl.model_file.is_file():
            raise InputFileError(scale_tpl.source, f"model_file {scale_tpl.model_file} not found; give the generic "
                                                   "model with --model")
        return scale_tpl.model_file
    return default_model_path()


def _untasked(static: MarkerData, setup: ScaleSetup) -> list[str]:
    """Static markers without a MarkerPlacer task (OpenSim's MarkerPlacer tracks them with weight 1)."""
    tasked = {t.name for t in setup.marker_tasks}
    return [n for n in static.marker_names if n not in tasked]


def _check_in_trial(names: Sequence[str], data: MarkerData, needed_by: str) -> None:
    missing = [n for n in dict.fromkeys(names) if n not in data.marker_names]
    if missing:
        raise MarkerMismatchError(f"{data.source}: {len(missing)} marker(s) needed by {needed_by} are not in the "
                                  "static trial: " + with_closest(missing, data.marker_names))


def _check_window_has_data(data: MarkerData, names: Sequence[str], window: tuple[float, float]) -> None:
    if not names:
        return
    inside = (data.times >= window[0] - 1e-9) & (data.times <= window[1] + 1e-9)
    sel = data.select(list(dict.fromkeys(names))).positions[inside]
    empty = [n for n, ok in zip(dict.fromkeys(names), np.isfinite(sel).all(axis=-1).all(axis=0)) if not ok]
    if empty:
        raise MarkerMismatchError(
            f"{data.source}: marker(s) {', '.join(empty)} used for scaling are missing in frames of the static "
            f"window {window[0]:g}-{window[1]:g} s (OpenSim would average NaN); choose another --static-window "
            "or raise --max-gap")


def _check_ik_tasks(setup: IKSetup, model: ModelInfo, static: MarkerData, notes: list[str]) -> None:
    """IK tasks on markers the model lacks: an error when the trial data has them, a note otherwise."""
    model_names = set(model.marker_names)
    wanted = [t.name for t in setup.marker_tasks if t.apply and t.weight > 0 and t.name not in model_names]
    in_data = [n for n in wanted if n in static.marker_names]
    if in_data:
        check_markers_in_model(in_data, model.marker_names, str(setup.source), "the IK tasks")
    if wanted:
        notes.append(f"IK tasks for markers absent from model and data (ignored): {', '.join(wanted)}")


def _check_coordinates(names: Sequence[str], model: ModelInfo, where: str) -> None:
    known = set(model.coordinate_names)
    bad = [n for n in names if n not in known]
    if bad:
        parts = []
        for n in bad:
            close = closest_names(n, list(known))
            parts.append(f"{n}" + (f" (closest: {', '.join(close)})" if close else ""))
        raise CoordinateMismatchError(f"{where}: coordinate task(s) for coordinates the model lacks: "
                                      + "; ".join(parts))
