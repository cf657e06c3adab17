"""Load OpenSim models and describe them as frozen dataclasses (coordinates, bodies, joints, markers, constraints).

Everything here is read from the real OpenSim model through the ``opensim`` API. Units follow the model
(metres and radians for every model this package ships). Marker locations are in the frame of the body that
carries the marker. :func:`model_info` describes a whole model; :func:`coordinate_infos`,
:func:`joint_infos`, :func:`constraint_infos` and :func:`coupler_functions` read one part each without
building the model's system, for the coordinate views of :mod:`biopose_opensim.activities` and
:mod:`biopose_opensim.motion`.
"""
from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import InputFileError
from ._opensim import import_opensim

log = logging.getLogger(__name__)

_MOTION_TYPES = {1: "rotational", 2: "translational", 3: "coupled"}


@dataclass(frozen=True)
class CoordinateInfo:
    """One generalized coordinate. ``range`` and ``default_value`` in rad (rotational) or m (translational)."""

    name: str
    joint: str
    motion_type: str  # "rotational", "translational" or "coupled"
    range: tuple[float, float]
    default_value: float
    locked: bool  # locked by default in the model file
    clamped: bool
    dependent: bool  # driven by a coordinate coupler constraint (e.g. knee_angle_r_beta)

    @property
    def rotational(self) -> bool:
        """True for angles (written in degrees in .mot files); coupled coordinates count as angles."""
        return self.motion_type != "translational"


@dataclass(frozen=True)
class BodyInfo:
    """One body: ``mass`` in kg; ``parent`` is the body (or "ground") across ``joint``."""

    name: str
    mass: float
    parent: str
    joint: str


@dataclass(frozen=True)
class JointInfo:
    name: str
    kind: str  # OpenSim class name, e.g. "CustomJoint"
    parent: str  # parent body name or "ground"
    child: str
    coordinates: tuple[str, ...]
    #: location of the joint centre in the parent body's frame, m
    location_in_parent: tuple[float, float, float]


@dataclass(frozen=True)
class MarkerInfo:
    """A model marker: ``location`` (x, y, z) in m in the frame of ``body``; ``fixed`` markers are not moved by
    OpenSim's MarkerPlacer."""

    name: str
    body: str
    location: tuple[float, float, float]
    fixed: bool = False


@dataclass(frozen=True)
class ConstraintInfo:
    name: str
    kind: str  # OpenSim class name
    enforced: bool
    #: coordinates involved (independent first, dependent last for a CoordinateCouplerConstraint)
    coordinates: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class CoupledCoordinate:
    """A dependent coordinate ``q[dependent] = f(q[independent])``, with ``f`` tabulated.

    Attributes:
        dependent: name of the dependent coordinate.
        independent: name of the (single) independent coordinate.
        x: (K,) sample values of the independent coordinate, increasing.
        y: (K,) values of the dependent coordinate at ``x`` (OpenSim's function times its scale factor).
    """

    dependent: str
    independent: str
    x: np.ndarray
    y: np.ndarray

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Dependent values for independent ``values`` (any shape); linear inter/extrapolation."""
        values = np.asarray(values, dtype=float)
        out = np.interp(values, self.x, self.y)
        # np.interp clamps outside [x0, xK]; extrapolate linearly instead (couplers are smooth).
        lo, hi = values < self.x[0], values > self.x[-1]
        if lo.any():
            slope = (self.y[1] - self.y[0]) / (self.x[1] - self.x[0])
            out[lo] = self.y[0] + slope * (values[lo] - self.x[0])
        if hi.any():
            slope = (self.y[-1] - self.y[-2]) / (self.x[-1] - self.x[-2])
            out[hi] = self.y[-1] + slope * (values[hi] - self.x[-1])
        return out


@dataclass(frozen=True)
class ModelInfo:
    """What a model contains, in the order of the model file."""

    name: str
    path: Path | None
    length_units: str
    total_mass: float
    coordinates: tuple[CoordinateInfo, ...]
    bodies: tuple[BodyInfo, ...]
    joints: tuple[JointInfo, ...]
    markers: tuple[MarkerInfo, ...]
    constraints: tuple[ConstraintInfo, ...]
    #: (M, 3) marker positions in ground at the model's default pose, m, in ``markers`` order
    markers_in_ground: tuple[tuple[float, float, float], ...] = ()
    #: (B, 3) body-frame origins in ground at the default pose, m, in ``bodies`` order
    body_origins_in_ground: tuple[tuple[float, float, float], ...] = ()

    @property
    def coordinate_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.coordinates)

    @property
    def body_names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.bodies)

    @property
    def marker_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.markers)

    def coordinate(self, name: str) -> CoordinateInfo:
        return _lookup(self.coordinates, name, "coordinate", self.name)

    def body(self, name: str) -> BodyInfo:
        return _lookup(self.bodies, name, "body", self.name)

    def marker(self, name: str) -> MarkerInfo:
        return _lookup(self.markers, name, "marker", self.name)

    @property
    def root_coordinates(self) -> tuple[str, ...]:
        """Coordinates of the joint(s) connecting a body to ground (e.g. pelvis_tilt ... pelvis_tz)."""
        out: list[str] = []
        for j in self.joints:
            if j.parent == "ground":
                out.extend(j.coordinates)
        return tuple(out)

    def children(self, body: str) -> tuple[str, ...]:
        return tuple(b.name for b in self.bodies if b.parent == body)

    def neighbours(self, body: str) -> tuple[str, ...]:
        """Parent (unless ground) and children of ``body``."""
        parent = self.body(body).parent
        return ((parent,) if parent != "ground" else ()) + self.children(body)

    def markers_on(self, body: str) -> tuple[MarkerInfo, ...]:
        return tuple(m for m in self.markers if m.body == body)


def closest_names(name: str, candidates: Sequence[str], n: int = 3) -> list[str]:
    """The ``n`` names of ``candidates`` closest to ``name`` (difflib; case-insensitive)."""
    lowered = {c.lower(): c for c in candidates}
    return [lowered[c] for c in difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.5)]


def _lookup(items, name: str, what: str, model: str):
    for item in items:
        if item.name == name:
            return item
    close = closest_names(name, [i.name for i in items])
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise KeyError(f"model {model!r} has no {what} {name!r}{hint}")


def load_model(path: str | Path, markers: str | Path | None = None):
    """Load an ``.osim`` model (and build its system), optionally replacing its markers by a MarkerSet XML.

    Returns the ``opensim.Model``; keep a reference to it while any OpenSim tool uses it.

    Raises:
        InputFileError: the model (or marker set) is missing or OpenSim cannot read it.
    """
    osim = import_opensim()
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "model file not found (expected an OpenSim .osim file)")
    model = _read_file(osim.Model, path, "model")
    if markers is not None:
        from .markerset import replace_markers

        replace_markers(model, markers)
    try:
        model.initSystem()
    except RuntimeError as exc:
        raise InputFileError(path, f"OpenSim cannot build this model: {_first_line(exc)}") from None
    return model


def constraint_infos(model) -> tuple[ConstraintInfo, ...]:
    """The constraints of an ``opensim.Model``, in model order (its system need not be built)."""
    osim = import_opensim()
    out = []
    for c in model.getConstraintSet():
        coords: tuple[str, ...] = ()
        coupler = osim.CoordinateCouplerConstraint.safeDownCast(c)
        if coupler is not None:
            indep = coupler.getIndependentCoordinateNames()
            coords = tuple(indep.get(i) for i in range(indep.getSize())) + (coupler.getDependentCoordinateName(),)
        out.append(ConstraintInfo(c.getName(), c.getConcreteClassName(), bool(c.get_isEnforced()), coords))
    return tuple(out)


def coordinate_infos(model, constraints: Sequence[ConstraintInfo] | None = None) -> tuple[CoordinateInfo, ...]:
    """The coordinates of an ``opensim.Model``, in model order (its system need not be built).

    A coordinate is ``dependent`` when an enforced coupler constraint drives it (``constraints``: the model's,
    read when None).
    """
    if constraints is None:
        constraints = constraint_infos(model)
    # only coupler constraints list coordinates, their dependent one last
    dependent = {c.coordinates[-1] for c in constraints if c.enforced and c.coordinates}
    out = []
    for c in model.getCoordinateSet():
        out.append(CoordinateInfo(
            name=c.getName(), joint=c.getJoint().getName(),
            motion_type=_MOTION_TYPES.get(int(c.getMotionType()), "rotational"),
            range=(float(c.getRangeMin()), float(c.getRangeMax())), default_value=float(c.getDefaultValue()),
            locked=bool(c.getDefaultLocked()), clamped=bool(c.get_clamped()), dependent=c.getName() in dependent,
        ))
    return tuple(out)


def joint_infos(model) -> tuple[JointInfo, ...]:
    """The joints of an ``opensim.Model``, in model order (its system need not be built)."""
    out = []
    for j in model.getJointSet():
        loc = j.getParentFrame().findTransformInBaseFrame().p()
        out.append(JointInfo(
            name=j.getName(), kind=j.getConcreteClassName(), parent=_base_name(j.getParentFrame()),
            child=_base_name(j.getChildFrame()),
            coordinates=tuple(j.get_coordinates(i).getName() for i in range(j.numCoordinates())),
            location_in_parent=(loc.get(0), loc.get(1), loc.get(2)),
        ))
    return tuple(out)


def coupler_functions(model, samples: int = 721) -> tuple[CoupledCoordinate, ...]:
    """Every single-input ``CoordinateCouplerConstraint`` of ``model``, its function tabulated at ``samples``
    points over the independent coordinate's range (enforced or not; couplers with several inputs are skipped
    with a warning)."""
    osim = import_opensim()
    names = {c.getName() for c in model.getCoordinateSet()}
    out = []
    cset = model.getConstraintSet()
    for i in range(cset.getSize()):
        con = osim.CoordinateCouplerConstraint.safeDownCast(cset.get(i))
        if con is None:
            continue
        indep = con.getIndependentCoordinateNames()
        if indep.getSize() != 1:
            log.warning("%s: coupler %s has %d independent coordinates; its dependent coordinate is left as is",
                        model.getName(), con.getName(), indep.getSize())
            continue
        ind_name, dep_name = indep.get(0), con.getDependentCoordinateName()
        if ind_name not in names or dep_name not in names:
            continue
        coord = model.getCoordinateSet().get(ind_name)
        x = np.linspace(coord.getRangeMin(), coord.getRangeMax(), samples)
        func = con.getFunction()
        scale = osim.PropertyHelper.getValueDouble(con.getPropertyByName("scale_factor"))
        arg = osim.Vector(1, 0.0)
        y = np.empty_like(x)
        for k, xv in enumerate(x):
            arg.set(0, float(xv))
            y[k] = scale * func.calcValue(arg)
        out.append(CoupledCoordinate(dependent=dep_name, independent=ind_name, x=x, y=y))
    return tuple(out)


def model_info(model, path: str | Path | None = None) -> ModelInfo:
    """Describe an ``opensim.Model`` (its system is built if needed)."""
    state = model.initSystem()
    constraints = constraint_infos(model)
    coordinates = coordinate_infos(model, constraints)
    joints = joint_infos(model)
    parent_of = {j.child: (j.parent, j.name) for j in joints}

    bodies = []
    for b in model.getBodySet():
        parent, joint = parent_of.get(b.getName(), ("ground", ""))
        bodies.append(BodyInfo(name=b.getName(), mass=float(b.getMass()), parent=parent, joint=joint))

    markers = []
    for mk in model.getMarkerSet():
        loc = mk.get_location()
        markers.append(MarkerInfo(name=mk.getName(), body=_base_name(mk.getParentFrame()),
                                  location=(loc.get(0), loc.get(1), loc.get(2)), fixed=bool(mk.get_fixed())))

    model.realizePosition(state)
    markers_ground = tuple(_vec(mk.getLocationInGround(state)) for mk in model.getMarkerSet())
    origins_ground = tuple(_vec(b.getPositionInGround(state)) for b in model.getBodySet())
    return ModelInfo(
        name=model.getName(), path=Path(path) if path is not None else _document_path(model),
        length_units=model.getLengthUnits().getAbbreviation(), total_mass=float(model.getTotalMass(state)),
        coordinates=tuple(coordinates), bodies=tuple(bodies), joints=tuple(joints), markers=tuple(markers),
        constraints=tuple(constraints), markers_in_ground=markers_ground, body_origins_in_ground=origins_ground,
    )


def _vec(v) -> tuple[float, float, float]:
    return (float(v.get(0)), float(v.get(1)), float(v.get(2)))


def read_model_info(path: str | Path, markers: str | Path | None = None) -> ModelInfo:
    """:func:`load_model` then :func:`model_info`."""
    model = load_model(path, markers)
    return model_info(model, path)


def marker_positions_in_ground(model, names: Sequence[str] | None = None, state=None):
    """Ground positions (M, 3) in m of the model's markers in ``state`` (default pose when None)."""
    if state is None:
        state = model.initSystem()
    model.realizePosition(state)
    ms = model.getMarkerSet()
    names = list(names) if names is not None else [ms.get(i).getName() for i in range(ms.getSize())]
    out = np.empty((len(names), 3))
    for i, name in enumerate(names):
        p = ms.get(name).getLocationInGround(state)
        out[i] = (p.get(0), p.get(1), p.get(2))
    return out


def _base_name(frame) -> str:
    base = frame.findBaseFrame()
    return base.getName()


def _document_path(model) -> Path | None:
    name = model.getDocumentFileName()
    return Path(name) if name else None


def _read_file(factory, path: Path, what: str):
    """``factory(str(path))`` (an OpenSim class reading a file); OpenSim's failure becomes an
    :class:`InputFileError` naming ``path`` and ``what`` ("model", "marker set", "Scale setup", ...)."""
    try:
        return factory(str(path))
    except RuntimeError as exc:
        raise InputFileError(path, f"OpenSim cannot read this {what}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("std::exception"):
            return line
    return text.splitlines()[0] if text else type(exc).__name__
