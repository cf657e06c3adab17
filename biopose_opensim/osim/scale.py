"""Run OpenSim's ScaleTool (measurement-based and manual scaling, then marker placement) from a setup file.

The setup is an ordinary ScaleTool XML (see :mod:`biopose_opensim.osim.setups`); its outputs are written by
OpenSim next to it. :func:`run_scale` returns the per-body scale factors OpenSim applied (x, y, z, ScaleTool
semantics) and the static pose found by marker placement.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputFileError
from ._opensim import import_opensim, read_file
from ._run import OpenSimToolError, run_tool
from .model import MotionType, coordinate_infos
from .setups import read_scale_setup
from .tables import coordinate_columns, in_degrees, read_table, table_matrix

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScaleResult:
    """Outcome of a ScaleTool run. Scale factors are dimensionless (x, y, z) per body, in model body order."""

    setup_file: Path
    model_file: Path
    scale_factors: tuple[tuple[str, tuple[float, float, float]], ...]
    scale_file: Path | None
    #: MarkerPlacer's static pose: (coordinate, value in rad or m), or () when marker placement was off
    static_pose: tuple[tuple[str, float], ...]
    static_pose_file: Path | None
    total_mass: float
    seconds: float
    #: marker error of MarkerPlacer's static-pose fit before it moves the markers (m), and the worst marker,
    #: over the markers with a placement weight > 0 (from the scaled model before placement, when the setup
    #: writes it; else OpenSim's logged value over all markers)
    placer_rms: float | None = None
    placer_max: float | None = None
    placer_worst: str | None = None
    #: (marker, error m) of that fit, largest first
    static_marker_errors: tuple[tuple[str, float], ...] = ()

    def factors(self) -> dict[str, tuple[float, float, float]]:
        return dict(self.scale_factors)


def run_scale(setup_file: str | Path) -> ScaleResult:
    """Run the ScaleTool described by ``setup_file`` (outputs land beside it, as OpenSim writes them).

    The setup must name an output model (MarkerPlacer ``output_model_file``, or ModelScaler
    ``output_model_file`` when marker placement is off) and, when scaling is applied, an output scale file
    (ModelScaler ``output_scale_file``); without scaling every factor is 1.

    Raises:
        OpenSimToolError: OpenSim failed (message names the setup and OpenSim's error).
        InputFileError: the setup cannot be read.
    """
    osim = import_opensim()
    setup_file = Path(setup_file).resolve()
    setup = read_scale_setup(setup_file)
    folder = setup_file.parent
    if setup.scaler_apply and not setup.output_scale_file:
        raise ValueError(f"{setup_file}: output_scale_file must be set to read back the scale factors")
    out_model = setup.output_model_file if setup.placer_apply else setup.output_scaled_only_model_file
    if not out_model:
        raise ValueError(f"{setup_file}: an output model file must be set")
    t0 = time.perf_counter()
    tool = osim.ScaleTool(str(setup_file))
    messages: list[str] = []
    run_tool(tool.run, "ScaleTool", setup_file, messages)
    placer = _placer_error(messages)
    model_file = folder / out_model
    scale_file = folder / setup.output_scale_file if setup.scaler_apply else None
    for produced in (model_file, scale_file):
        if produced is not None and not produced.is_file():
            raise OpenSimToolError(f"{setup_file}: OpenSim ScaleTool did not write {produced.name}")

    model = osim.Model(str(model_file))
    state = model.initSystem()
    bodies = [b.getName() for b in model.getBodySet()]
    if scale_file is not None:
        factors = read_scale_factors(scale_file, bodies)
    else:
        factors = tuple((b, (1.0, 1.0, 1.0)) for b in bodies)
    pose: tuple[tuple[str, float], ...] = ()
    pose_file = None
    if setup.placer_apply and setup.output_motion_file:
        pose_file = folder / setup.output_motion_file
        if pose_file.is_file():
            pose = _read_static_pose(pose_file, model)
    fit: tuple[tuple[str, float], ...] = ()
    scaled_only = folder / setup.output_scaled_only_model_file if setup.output_scaled_only_model_file else None
    if pose and scaled_only is not None and scaled_only.is_file() and setup.placer_marker_file is not None:
        weights = {t.name: t.weight for t in setup.marker_tasks if t.apply}
        fit = static_fit_errors(scaled_only, dict(pose), setup.placer_marker_file,
                                setup.placer_time_range or setup.time_range, weights)
        if fit:
            errs = np.array([e for _, e in fit])
            placer = (float(np.sqrt(np.mean(errs**2))), float(errs.max()), fit[0][0])
    result = ScaleResult(
        setup_file=setup_file, model_file=model_file, scale_factors=factors, scale_file=scale_file,
        static_pose=pose, static_pose_file=pose_file, total_mass=float(model.getTotalMass(state)),
        seconds=time.perf_counter() - t0, placer_rms=placer[0], placer_max=placer[1], placer_worst=placer[2],
        static_marker_errors=fit,
    )
    log.debug("ScaleTool %s: %d bodies scaled in %.1f s", setup_file.name, len(factors), result.seconds)
    return result


def static_fit_errors(model_file: Path, pose: dict[str, float], trc: Path, window, weights: dict[str, float]
                      ) -> tuple[tuple[str, float], ...]:
    """Distance (m) between each weighted model marker and the static trial's mean marker position in ``window``,
    with the model in ``pose``: the static fit before MarkerPlacer moves the markers. Largest first.

    Markers absent from ``weights`` count with weight 1 (as in OpenSim's MarkerPlacer); weight 0 is left out.
    """
    from .ik import read_trc_table

    osim = import_opensim()
    model = osim.Model(str(model_file))
    state = model.initSystem()
    times, names, data = read_trc_table(trc, model.getLengthUnits())
    inside = (times >= window[0] - 1e-9) & (times <= window[1] + 1e-9) if window else np.ones(len(times), bool)
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(data[inside], axis=0) if inside.any() else np.full((len(names), 3), np.nan)
    cs = model.getCoordinateSet()
    for i in range(cs.getSize()):
        c = cs.get(i)
        if c.getName() in pose and not c.getLocked(state):
            c.setValue(state, pose[c.getName()], False)
    model.assemble(state)
    model.realizePosition(state)
    markers = model.getMarkerSet()
    out = []
    for j, name in enumerate(names):
        if not markers.contains(name) or weights.get(name, 1.0) <= 0 or not np.isfinite(mean[j]).all():
            continue
        p = markers.get(name).getLocationInGround(state)
        out.append((name, float(np.linalg.norm(np.array([p.get(0), p.get(1), p.get(2)]) - mean[j]))))
    return tuple(sorted(out, key=lambda x: -x[1]))


_PLACER_RE = re.compile(r"marker error: RMS = ([-+0-9.eE]+), max = ([-+0-9.eE]+) \((.*)\)")


def _placer_error(messages: list[str]) -> tuple[float | None, float | None, str | None]:
    """MarkerPlacer's logged static-fit error ("marker error: RMS = r, max = m (name)")."""
    for text in reversed(messages):
        hit = _PLACER_RE.search(text)
        if hit:
            return float(hit.group(1)), float(hit.group(2)), hit.group(3)
    return None, None, None


def read_scale_factors(path: str | Path, bodies=None) -> tuple[tuple[str, tuple[float, float, float]], ...]:
    """Per-body (x, y, z) factors from a ScaleSet XML (ModelScaler's ``output_scale_file``).

    Args:
        bodies: keep only these names, in this order (OpenSim also lists offset frames and ground).
    """
    osim = import_opensim()
    path = Path(path)
    sset = read_file(osim.ScaleSet, path, "ScaleSet")
    found: dict[str, tuple[float, float, float]] = {}
    for i in range(sset.getSize()):
        s = sset.get(i)
        v = s.getScaleFactors()
        found.setdefault(s.getSegmentName(), (float(v.get(0)), float(v.get(1)), float(v.get(2))))
    names = list(bodies) if bodies is not None else list(found)
    missing = [b for b in names if b not in found]
    if missing:
        raise InputFileError(path, f"no scale factors for bodies {', '.join(missing)}")
    return tuple((b, found[b]) for b in names)


def _read_static_pose(path: Path, model) -> tuple[tuple[str, float], ...]:
    """Coordinate values of MarkerPlacer's output (a states file: columns are coordinate value paths, rad/m)."""
    table = read_table(path, "static pose file")
    columns = coordinate_columns(table)
    row = table_matrix(table)[0]
    degrees = in_degrees(table)
    out = []
    for c in coordinate_infos(model):
        if c.name in columns:
            v = float(row[columns[c.name]])
            # OpenSim writes only coordinates of motion type Rotational in degrees (coupled ones stay in rad/m)
            out.append((c.name, v * np.pi / 180.0 if degrees and c.motion_type == MotionType.ROTATIONAL else v))
    return tuple(out)
