"""OpenSim Scale and IK setup files as frozen dataclasses: read a lab's setup, change it, write it back.

Reading and writing go through the OpenSim API (``ScaleTool``, ``InverseKinematicsTool``), so any setup version
OpenSim reads is accepted and every file written is an ordinary setup the OpenSim GUI or ``opensim-cmd`` runs.

Paths: in the dataclasses every path is absolute. In a setup file they are relative to the file's folder
(OpenSim prefixes a ScaleTool's paths with the setup's folder, so absolute paths would break there);
:func:`read_scale_setup` / :func:`read_ik_setup` resolve them and the writers relativize them again.
Subject height is metres here and millimetres in a ScaleTool file (OpenSim's convention, informational only).
"""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import atomic_path
from ..errors import InputFileError
from ._opensim import import_opensim, read_file

_UNASSIGNED = ("", "Unassigned")
VALUE_TYPES = ("default_value", "manual_value", "from_file")


@dataclass(frozen=True)
class MarkerTask:
    """IK marker task: ``weight`` of the squared marker distance (m^2) in the IK objective."""

    name: str
    weight: float
    apply: bool = True


@dataclass(frozen=True)
class CoordinateTask:
    """IK coordinate task. ``value`` (rad or m) is used when ``value_type`` is "manual_value"."""

    name: str
    weight: float
    apply: bool = True
    value_type: str = "default_value"  # "default_value", "manual_value" or "from_file"
    value: float = 0.0


@dataclass(frozen=True)
class Measurement:
    """Measurement-based scaling: the mean ratio experimental/model distance of ``marker_pairs`` scales each
    body of ``body_scales`` along its axes ("X Y Z", "X", ...)."""

    name: str
    marker_pairs: tuple[tuple[str, str], ...]
    body_scales: tuple[tuple[str, str], ...]  # (body, axes)
    apply: bool = True

    @property
    def marker_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for pair in self.marker_pairs for n in pair))


@dataclass(frozen=True)
class ManualScale:
    body: str
    factors: tuple[float, float, float]
    apply: bool = True


@dataclass(frozen=True)
class ScaleSetup:
    """Everything a ScaleTool setup holds. Paths absolute; ``time_range`` in s; ``mass`` kg; ``height`` m."""

    name: str = "subject"
    model_file: Path | None = None
    marker_set_file: Path | None = None
    mass: float | None = None
    height: float | None = None
    age: float | None = None
    # ModelScaler
    scaler_apply: bool = True
    scaling_order: tuple[str, ...] = ("measurements",)
    measurements: tuple[Measurement, ...] = ()
    manual_scales: tuple[ManualScale, ...] = ()
    marker_file: Path | None = None
    time_range: tuple[float, float] | None = None
    preserve_mass_distribution: bool = True
    output_scale_file: str | None = None
    output_scaled_only_model_file: str | None = None
    # MarkerPlacer
    placer_apply: bool = True
    marker_tasks: tuple[MarkerTask, ...] = ()
    coordinate_tasks: tuple[CoordinateTask, ...] = ()
    placer_marker_file: Path | None = None
    placer_time_range: tuple[float, float] | None = None
    coordinate_file: Path | None = None
    max_marker_movement: float = -1.0
    output_model_file: str | None = None
    output_motion_file: str | None = None
    output_marker_file: str | None = None
    #: the file this setup was read from, if any
    source: Path | None = field(default=None, compare=False)

    def replace(self, **changes) -> "ScaleSetup":
        return dataclasses.replace(self, **changes)

    @property
    def measurement_markers(self) -> tuple[str, ...]:
        """Markers used by applied measurements (when "measurements" is in the scaling order)."""
        if not self.scaler_apply or "measurements" not in self.scaling_order:
            return ()
        names = (n for m in self.measurements if m.apply for n in m.marker_names)
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class IKSetup:
    """Everything an InverseKinematicsTool setup holds. Paths absolute; ``time_range`` in s."""

    name: str = "ik"
    model_file: Path | None = None
    marker_file: Path | None = None
    coordinate_file: Path | None = None
    time_range: tuple[float, float] | None = None
    accuracy: float = 1e-5
    constraint_weight: float = math.inf
    marker_tasks: tuple[MarkerTask, ...] = ()
    coordinate_tasks: tuple[CoordinateTask, ...] = ()
    output_motion_file: str | None = None
    results_directory: str | None = None
    report_errors: bool = True
    report_marker_locations: bool = False
    source: Path | None = field(default=None, compare=False)

    def replace(self, **changes) -> "IKSetup":
        return dataclasses.replace(self, **changes)

    @property
    def tracked_markers(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.marker_tasks if t.apply and t.weight > 0)


# ----------------------------------------------------------------------------------------------- reading
def read_scale_setup(path: str | Path) -> ScaleSetup:
    """Read a ScaleTool setup XML (any version OpenSim reads); relative paths resolved against its folder.

    Raises:
        InputFileError: missing file, or not a ScaleTool setup.
    """
    path = Path(path)
    tool = _open_setup(path, "ScaleTool", "Scale setup")
    base = path.resolve().parent
    gmm = tool.getGenericModelMaker()
    ms = tool.getModelScaler()
    mp = tool.getMarkerPlacer()

    measurements = []
    mset = ms.getMeasurementSet()
    for i in range(mset.getSize()):
        m = mset.get(i)
        pairs = tuple((m.getMarkerPair(k).getMarkerName(0), m.getMarkerPair(k).getMarkerName(1))
                      for k in range(m.getNumMarkerPairs()))
        bss = m.getBodyScaleSet()
        bodies = []
        for k in range(bss.getSize()):
            axes = bss.get(k).getAxisNames()
            bodies.append((bss.get(k).getName(), " ".join(axes.get(a) for a in range(axes.getSize()))))
        measurements.append(Measurement(m.getName(), pairs, tuple(bodies), bool(m.getApply())))
    manual = []
    sset = ms.getScaleSet()
    for i in range(sset.getSize()):
        s = sset.get(i)
        v = s.getScaleFactors()
        manual.append(ManualScale(s.getSegmentName(), (v.get(0), v.get(1), v.get(2)), bool(s.getApply())))
    order = ms.getScalingOrder()
    marker_tasks, coord_tasks = _read_tasks(mp.getIKTaskSet())
    height = tool.getSubjectHeight()
    return ScaleSetup(
        name=tool.getName() or "subject",
        model_file=_abs(base, gmm.getModelFileName()),
        marker_set_file=_abs(base, gmm.getMarkerSetFileName()),
        mass=tool.getSubjectMass() if tool.getSubjectMass() > 0 else None,
        height=_height_m(height),
        age=tool.getSubjectAge() if tool.getSubjectAge() > 0 else None,
        scaler_apply=bool(ms.getApply()) and not tool.isDefaultModelScaler(),
        scaling_order=tuple(order.get(i) for i in range(order.getSize())),
        measurements=tuple(measurements),
        manual_scales=tuple(manual),
        marker_file=_abs(base, ms.getMarkerFileName()),
        time_range=_range(ms.getTimeRange()),
        preserve_mass_distribution=bool(ms.getPreserveMassDist()),
        output_scale_file=_name(ms.getOutputScaleFileName()),
        output_scaled_only_model_file=_name(ms.getOutputModelFileName()),
        placer_apply=bool(mp.getApply()) and not tool.isDefaultMarkerPlacer(),
        marker_tasks=marker_tasks,
        coordinate_tasks=coord_tasks,
        placer_marker_file=_abs(base, mp.getMarkerFileName()),
        placer_time_range=_range(mp.getTimeRange()),
        coordinate_file=_abs(base, mp.getCoordinateFileName()),
        max_marker_movement=float(mp.getMaxMarkerMovement()),
        output_model_file=_name(mp.getOutputModelFileName()),
        output_motion_file=_name(mp.getOutputMotionFileName()),
        output_marker_file=_name(mp.getOutputMarkerFileName()),
        source=path,
    )


def read_ik_setup(path: str | Path) -> IKSetup:
    """Read an InverseKinematicsTool setup XML; relative paths resolved against its folder.

    Raises:
        InputFileError: missing file, or not an IK setup.
    """
    path = Path(path)
    tool = _open_setup(path, "InverseKinematicsTool", "IK setup")
    base = path.resolve().parent
    marker_tasks, coord_tasks = _read_tasks(tool.get_IKTaskSet())
    tr = None
    try:
        start, end = tool.get_time_range(0), tool.get_time_range(1)
        if math.isfinite(start) and math.isfinite(end) and end > start:
            tr = (float(start), float(end))
    except (RuntimeError, IndexError):
        tr = None
    return IKSetup(
        name=tool.getName() or "ik",
        model_file=_abs(base, tool.get_model_file()),
        marker_file=_abs(base, tool.get_marker_file()),
        coordinate_file=_abs(base, tool.get_coordinate_file()),
        time_range=tr,
        accuracy=float(tool.get_accuracy()),
        constraint_weight=float(tool.get_constraint_weight()),
        marker_tasks=marker_tasks,
        coordinate_tasks=coord_tasks,
        output_motion_file=_name(tool.get_output_motion_file()),
        results_directory=_name(tool.get_results_directory()),
        report_errors=bool(tool.get_report_errors()),
        report_marker_locations=bool(tool.get_report_marker_locations()),
        source=path,
    )


# ----------------------------------------------------------------------------------------------- writing
def build_scale_tool(setup: ScaleSetup, folder: str | Path):
    """An ``opensim.ScaleTool`` for ``setup`` whose paths are relative to ``folder`` (where it will be written)."""
    osim = import_opensim()
    folder = Path(folder)
    tool = osim.ScaleTool()
    tool.setName(setup.name)
    tool.setSubjectMass(setup.mass if setup.mass is not None else -1.0)
    tool.setSubjectHeight(setup.height * 1000.0 if setup.height is not None else -1.0)
    tool.setSubjectAge(setup.age if setup.age is not None else -1.0)
    gmm = tool.getGenericModelMaker()
    gmm.setModelFileName(_rel(folder, setup.model_file))
    gmm.setMarkerSetFileName(_rel(folder, setup.marker_set_file))

    ms = tool.getModelScaler()
    ms.setApply(setup.scaler_apply)
    order = osim.ArrayStr()
    for item in setup.scaling_order:
        order.append(item)
    ms.setScalingOrder(order)
    mset = ms.getMeasurementSet()
    for m in setup.measurements:
        om = osim.Measurement()
        om.setName(m.name)
        om.setApply(m.apply)
        for a, b in m.marker_pairs:
            om.getMarkerPairSet().cloneAndAppend(osim.MarkerPair(a, b))
        for body, axes in m.body_scales:
            bs = osim.BodyScale()
            bs.setName(body)
            arr = osim.ArrayStr()
            for ax in axes.split():
                arr.append(ax)
            bs.setAxisNames(arr)
            om.getBodyScaleSet().cloneAndAppend(bs)
        mset.cloneAndAppend(om)
    sset = ms.getScaleSet()
    for s in setup.manual_scales:
        sc = osim.Scale()
        sc.setSegmentName(s.body)
        sc.setScaleFactors(osim.Vec3(*s.factors))
        sc.setApply(s.apply)
        sset.cloneAndAppend(sc)
    ms.setMarkerFileName(_rel(folder, setup.marker_file))
    if setup.time_range is not None:
        ms.setTimeRange(_array(setup.time_range))
    ms.setPreserveMassDist(setup.preserve_mass_distribution)
    ms.setOutputScaleFileName(setup.output_scale_file or "")
    ms.setOutputModelFileName(setup.output_scaled_only_model_file or "")

    mp = tool.getMarkerPlacer()
    mp.setApply(setup.placer_apply)
    _write_tasks(mp.getIKTaskSet(), setup.marker_tasks, setup.coordinate_tasks)
    mp.setMarkerFileName(_rel(folder, setup.placer_marker_file or setup.marker_file))
    placer_range = setup.placer_time_range or setup.time_range
    if placer_range is not None:
        mp.setTimeRange(_array(placer_range))
    mp.setCoordinateFileName(_rel(folder, setup.coordinate_file))
    mp.setMaxMarkerMovement(setup.max_marker_movement)
    mp.setOutputModelFileName(setup.output_model_file or "")
    mp.setOutputMotionFileName(setup.output_motion_file or "")
    mp.setOutputMarkerFileName(setup.output_marker_file or "")
    return tool


def write_scale_setup(setup: ScaleSetup, path: str | Path) -> Path:
    """Write ``setup`` (atomically) as a ScaleTool setup XML with paths relative to the file's folder."""
    return _print_tool(build_scale_tool, setup, path)


def build_ik_tool(setup: IKSetup, folder: str | Path):
    """An ``opensim.InverseKinematicsTool`` for ``setup`` whose paths are relative to ``folder``."""
    osim = import_opensim()
    folder = Path(folder)
    tool = osim.InverseKinematicsTool()
    tool.setName(setup.name)
    tool.set_model_file(_rel(folder, setup.model_file))
    tool.set_marker_file(_rel(folder, setup.marker_file))
    tool.set_coordinate_file(_rel(folder, setup.coordinate_file))
    if setup.time_range is not None:
        tool.set_time_range(0, setup.time_range[0])
        tool.set_time_range(1, setup.time_range[1])
    tool.set_accuracy(setup.accuracy)
    tool.set_constraint_weight(setup.constraint_weight)
    _write_tasks(tool.upd_IKTaskSet(), setup.marker_tasks, setup.coordinate_tasks)
    tool.set_output_motion_file(setup.output_motion_file or "")
    tool.set_results_directory(setup.results_directory or ".")
    tool.set_report_errors(setup.report_errors)
    tool.set_report_marker_locations(setup.report_marker_locations)
    return tool


def write_ik_setup(setup: IKSetup, path: str | Path) -> Path:
    """Write ``setup`` (atomically) as an InverseKinematicsTool setup XML with paths relative to its folder."""
    return _print_tool(build_ik_tool, setup, path)


# ----------------------------------------------------------------------------------------------- helpers
def _read_tasks(task_set) -> tuple[tuple[MarkerTask, ...], tuple[CoordinateTask, ...]]:
    osim = import_opensim()
    markers, coords = [], []
    for i in range(task_set.getSize()):
        t = task_set.get(i)
        mt = osim.IKMarkerTask.safeDownCast(t)
        if mt is not None:
            markers.append(MarkerTask(t.getName(), float(t.getWeight()), bool(t.getApply())))
            continue
        ct = osim.IKCoordinateTask.safeDownCast(t)
        if ct is not None:
            coords.append(CoordinateTask(ct.getName(), float(ct.getWeight()), bool(ct.getApply()),
                                         VALUE_TYPES[int(ct.getValueType())], float(ct.getValue())))
    return tuple(markers), tuple(coords)


def _write_tasks(task_set, markers, coords) -> None:
    osim = import_opensim()
    for t in markers:
        task = osim.IKMarkerTask()
        task.setName(t.name)
        task.setWeight(float(t.weight))
        task.setApply(bool(t.apply))
        task_set.cloneAndAppend(task)
    for t in coords:
        task = osim.IKCoordinateTask()
        task.setName(t.name)
        task.setWeight(float(t.weight))
        task.setApply(bool(t.apply))
        task.setValueType(VALUE_TYPES.index(t.value_type))
        task.setValue(float(t.value))
        task_set.cloneAndAppend(task)


def _open_setup(path: Path, root_element: str, what: str):
    """The OpenSim tool (``root_element``: its class name) read from the setup file ``path``."""
    _check_xml(path, root_element)
    return read_file(getattr(import_opensim(), root_element), path, what)


def _print_tool(build, setup, path: str | Path) -> Path:
    """Print the tool ``build(setup, folder)`` (paths relative to ``path``'s folder) to ``path`` atomically."""
    path = Path(path)
    tool = build(setup, path.parent)
    with atomic_path(path) as tmp:
        tool.printToXML(str(tmp))
    return path


def _check_xml(path: Path, root_element: str) -> None:
    if not path.is_file():
        raise InputFileError(path, f"setup file not found (expected an OpenSim {root_element} XML)")
    try:
        head = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputFileError(path, f"cannot read setup file: {exc.strerror}") from None
    if f"<{root_element}" not in head:
        found = "an XML file" if head.lstrip().startswith("<") else "not XML"
        raise InputFileError(path, f"expected an OpenSim <{root_element}> setup, found {found} without it")


def _abs(base: Path, value: str) -> Path | None:
    value = (value or "").strip()
    if value in _UNASSIGNED:
        return None
    p = Path(value)
    return p if p.is_absolute() else Path(os.path.normpath(base / p))


def _rel(folder: Path, value: Path | None) -> str:
    if value is None:
        return "Unassigned"
    # a relative path in the dataclass is relative to the working directory
    return os.path.relpath(Path(value).resolve(), Path(folder).resolve())


def _name(value: str) -> str | None:
    value = (value or "").strip()
    return None if value in _UNASSIGNED else value


def _range(arr) -> tuple[float, float] | None:
    if arr.getSize() < 2:
        return None
    start, end = float(arr.get(0)), float(arr.get(1))
    # OpenSim leaves an unset range as "-1 -1" (or any empty/negative span): treat it as "not given".
    if not (math.isfinite(start) and math.isfinite(end)) or end <= start or end < 0:
        return None
    return (start, end)


def _array(values):
    osim = import_opensim()
    arr = osim.ArrayDouble()
    for v in values:
        arr.append(float(v))
    return arr


def _height_m(value: float) -> float | None:
    """ScaleTool heights are in mm; values below 10 are taken as already in m."""
    if value is None or value <= 0:
        return None
    return value / 1000.0 if value > 10 else float(value)
