"""Run OpenSim's InverseKinematicsTool from a setup file and return joint angles and per-marker errors.

OpenSim's own marker-error file holds only the per-frame total, RMS and maximum; this wrapper also asks for the
model marker locations and compares them with the experimental markers OpenSim tracked (read with OpenSim's
TRC reader and converted with the TRC header's units, as ``MarkersReference`` does) to give the error of every
marker in every frame.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputFileError
from ._opensim import import_opensim
from ._run import OpenSimToolError, run_tool
from .model import MotionType, coordinate_infos, load_model
from .setups import read_ik_setup
from .tables import coordinate_columns, in_degrees, read_table, table_matrix, table_times

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class IKResult:
    """Outcome of an InverseKinematicsTool run.

    Attributes:
        times: (T,) s.
        q: (T, C) coordinate values, rad (angles) or m (translations), model coordinate order.
        rotational: (C,) True for angles: rotational coordinates, and coupled ones that drive a rotation axis (a
            coupled coordinate only on translation axes, e.g. a pelvis translation wrapped in a
            ``MultiplierFunction`` by OpenSim 3 scaling, is a length).
        marker_names: (M,) markers tracked by IK (applied task with weight > 0, present in model and data).
        marker_weights: (M,) their IK weights.
        model_markers: (T, M, 3) m, ground frame: model marker positions at the IK solution.
        experimental_markers: (T, M, 3) m, ground frame; NaN where the marker is missing.
        marker_errors: (T, M) m, distance model-experimental; NaN where missing.
        rms_error, max_error: (T,) m over the markers present in each frame (unweighted).
    """

    setup_file: Path
    motion_file: Path
    times: np.ndarray
    coordinate_names: tuple[str, ...]
    rotational: tuple[bool, ...]
    q: np.ndarray
    marker_names: tuple[str, ...]
    marker_weights: np.ndarray
    model_markers: np.ndarray
    experimental_markers: np.ndarray
    marker_errors: np.ndarray
    rms_error: np.ndarray
    max_error: np.ndarray
    accuracy: float
    seconds: float
    opensim_files: tuple[Path, ...] = field(default=())

    @property
    def n_frames(self) -> int:
        return int(self.times.shape[0])

    def marker_rms(self) -> np.ndarray:
        """(M,) RMS error over frames of each marker, m (NaN for a marker never present)."""
        with np.errstate(invalid="ignore"):
            sq = np.nanmean(self.marker_errors**2, axis=0) if self.n_frames else np.full(len(self.marker_names), np.nan)
        return np.sqrt(sq)


def run_ik(setup_file: str | Path, model_file: str | Path | None = None) -> IKResult:
    """Run the InverseKinematicsTool of ``setup_file``; outputs land where the setup says (relative to it).

    Args:
        model_file: model to use instead of the setup's ``model_file``.

    Raises:
        InputFileError: setup, model or marker file missing or unreadable.
        OpenSimToolError: OpenSim failed.
    """
    osim = import_opensim()
    setup_file = Path(setup_file).resolve()
    setup = read_ik_setup(setup_file)
    model_path = Path(model_file) if model_file is not None else setup.model_file
    if model_path is None:
        raise InputFileError(setup_file, "no model_file given (expected the scaled .osim)")
    if setup.marker_file is None or not setup.marker_file.is_file():
        raise InputFileError(setup.marker_file or setup_file, "marker file of the IK setup not found")
    if not setup.output_motion_file:
        raise ValueError(f"{setup_file}: output_motion_file must be set")

    model = load_model(model_path)  # kept referenced for the whole run
    tool = osim.InverseKinematicsTool(str(setup_file))
    tool.setModel(model)
    tool.set_report_marker_locations(True)
    tool.set_report_errors(True)
    t0 = time.perf_counter()
    run_tool(tool.run, "InverseKinematicsTool", setup_file)
    seconds = time.perf_counter() - t0

    folder = setup_file.parent
    motion_file = folder / setup.output_motion_file
    results_dir = folder / (setup.results_directory or ".")
    locations_file = results_dir / f"{tool.getName()}_ik_model_marker_locations.sto"
    errors_file = results_dir / f"{tool.getName()}_ik_marker_errors.sto"
    for produced in (motion_file, locations_file):
        if not produced.is_file():
            raise OpenSimToolError(f"{setup_file}: OpenSim InverseKinematicsTool did not write {produced.name}")

    coord_names, rotational, degrees = coordinate_units(model)
    times, q = read_coordinates_table(motion_file, coord_names, degrees)

    weights = {t.name: t.weight for t in setup.marker_tasks if t.apply and t.weight > 0}
    model_marker_names = {model.getMarkerSet().get(i).getName() for i in range(model.getMarkerSet().getSize())}
    exp_times, exp_names, exp = read_trc_table(setup.marker_file, model.getLengthUnits())
    names = tuple(n for n in exp_names if n in weights and n in model_marker_names)
    model_markers = _read_locations(locations_file, names, times)
    idx = _match_times(exp_times, times, setup.marker_file)
    exp_sel = exp[idx][:, [exp_names.index(n) for n in names]] if names else np.zeros((len(times), 0, 3))
    errors = np.linalg.norm(model_markers - exp_sel, axis=-1)
    with np.errstate(invalid="ignore"), _quiet_nan_warnings():
        rms = np.sqrt(np.nanmean(errors**2, axis=1))
        mx = np.nanmax(errors, axis=1)
    return IKResult(
        setup_file=setup_file, motion_file=motion_file, times=times, coordinate_names=coord_names,
        rotational=rotational, q=q, marker_names=names, marker_weights=np.array([weights[n] for n in names]),
        model_markers=model_markers, experimental_markers=exp_sel, marker_errors=errors, rms_error=rms,
        max_error=mx, accuracy=float(tool.get_accuracy()), seconds=seconds,
        opensim_files=tuple(p for p in (errors_file, locations_file) if p.is_file()),
    )


# ------------------------------------------------------------------------------------------------ readers
def read_coordinates_table(path: str | Path, coordinate_names, rotational) -> tuple[np.ndarray, np.ndarray]:
    # ``rotational``: the columns converted from degrees when the file is inDegrees (for OpenSim's own output: the
    # coordinates of motion type Rotational, see :func:`coordinate_units`)
    """Times (T,) and coordinates (T, C) in rad/m from an OpenSim .mot/.sto (degrees converted if inDegrees).

    Columns are matched by coordinate name or by state path (``/jointset/j/<name>/value``).

    Raises:
        InputFileError: unreadable file, or a coordinate missing from it.
    """
    path = Path(path)
    table = read_table(path, "motion file")
    by_name = coordinate_columns(table)
    missing = [c for c in coordinate_names if c not in by_name]
    if missing:
        raise InputFileError(path, f"missing coordinate column(s) {', '.join(missing)}")
    times = table_times(table)
    q = table_matrix(table)[:, [by_name[c] for c in coordinate_names]].copy()
    if in_degrees(table):
        rot = np.asarray(rotational, dtype=bool)
        q[:, rot] = np.deg2rad(q[:, rot])
    return times, q


def read_trc_table(path: str | Path, to_units=None) -> tuple[np.ndarray, list[str], np.ndarray]:
    """OpenSim's own reading of a TRC: times (T,), names, positions (T, M, 3) converted to ``to_units``
    (an ``opensim.Units``; metres when None) from the header's units; NaN where missing."""
    osim = import_opensim()
    path = Path(path)
    table = read_table(path, "TRC file", vec3=True)
    units = table.getTableMetaDataAsString("Units") if table.hasTableMetaDataKey("Units") else "m"
    target = to_units if to_units is not None else osim.Units("m")
    factor = osim.Units(units).convertTo(target)
    if not math.isfinite(factor):
        raise InputFileError(path, f"unknown units {units!r} in the TRC header (expected mm, cm or m)")
    data = table_matrix(table.flatten()).reshape(table.getNumRows(), table.getNumColumns(), 3) * factor
    return table_times(table), list(table.getColumnLabels()), data


def _read_locations(path: Path, names, times) -> np.ndarray:
    table = read_table(path, "marker locations file")
    labels = list(table.getColumnLabels())
    data = table_matrix(table)
    out = np.full((data.shape[0], len(names), 3), np.nan)
    for j, n in enumerate(names):
        for k, ax in enumerate(("_tx", "_ty", "_tz")):
            if n + ax in labels:
                out[:, j, k] = data[:, labels.index(n + ax)]
    if out.shape[0] != len(times):
        raise OpenSimToolError(f"{path}: {out.shape[0]} rows, expected {len(times)} IK frames")
    return out


def _match_times(source: np.ndarray, target: np.ndarray, path: Path) -> np.ndarray:
    """Index into ``source`` of the frame nearest each ``target`` time (IK frames are TRC frames)."""
    idx = np.clip(np.searchsorted(source, target), 0, len(source) - 1)
    prev = np.clip(idx - 1, 0, len(source) - 1)
    idx = np.where(np.abs(source[prev] - target) < np.abs(source[idx] - target), prev, idx)
    if len(source) > 1:
        dt = np.median(np.diff(source))
        if np.any(np.abs(source[idx] - target) > 0.5 * dt + 1e-9):
            raise OpenSimToolError(f"{path}: IK frame times do not match the marker frames")
    return idx


def coordinate_units(model) -> tuple[tuple[str, ...], tuple[bool, ...], tuple[bool, ...]]:
    """Coordinate names, angle flags and degree flags, model order.

    Degree flags follow OpenSim's writer (``SimbodyEngine::convertRadiansToDegrees``): only coordinates of motion
    type Rotational are written in degrees; Coupled ones (e.g. Rajagopal's ``knee_angle_r_beta``, or pelvis
    translations scaled by OpenSim 3) stay in rad or m. Angle flags: rotational, or coupled and driving a
    rotation axis of a CustomJoint (any coupled coordinate of another joint type counts as an angle).
    """
    coords = coordinate_infos(model)
    on_translation_only = _coupled_translations(model)
    angles = tuple(c.rotational and c.name not in on_translation_only for c in coords)
    degrees = tuple(c.motion_type == MotionType.ROTATIONAL for c in coords)
    return tuple(c.name for c in coords), angles, degrees


def _coupled_translations(model) -> set[str]:
    """Names of coupled coordinates that appear only on translation axes of CustomJoints (lengths, in m)."""
    osim = import_opensim()
    rotation, translation = set(), set()
    joints = model.getJointSet()
    for i in range(joints.getSize()):
        custom = osim.CustomJoint.safeDownCast(joints.get(i))
        if custom is None:
            continue
        st = custom.getSpatialTransform()
        for k in range(6):
            names = st.getTransformAxis(k).getCoordinateNamesInArray()
            (rotation if k < 3 else translation).update(names.get(j) for j in range(names.getSize()))
    return translation - rotation


class _quiet_nan_warnings:
    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)
