"""Load OpenSim models (:func:`load_model`, the one way this package opens a ``.osim``) and describe them as the
frozen dataclasses of :mod:`.info` (coordinates, bodies, joints, markers, constraints; re-exported here).

Everything here is read from the real OpenSim model through the ``opensim`` API. Units follow the model
(metres and radians for every model this package ships). Marker locations are in the frame of the body that
carries the marker. :func:`model_info` describes a whole model; :func:`coordinate_infos`,
:func:`joint_infos`, :func:`constraint_infos` and :func:`coupler_functions` read one part each without
building the model's system, for :class:`~.coordinate_space.CoordinateSpace` and the FK layer's model tree.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..errors import InputFileError
from ._opensim import first_line, import_opensim, read_file
from .info import (  # noqa: F401 (the descriptions, re-exported: read here, defined in .info)
    BodyInfo,
    ConstraintInfo,
    CoordinateInfo,
    CoupledCoordinate,
    JointInfo,
    MarkerInfo,
    ModelInfo,
    MotionType,
    closest_names,
)
from .markerset import replace_markers

log = logging.getLogger(__name__)


def load_model(path: str | Path, markers: str | Path | None = None, keep_existing: bool = False):
    """Load an ``.osim`` model (any OpenSim file version) and build its system; the one way this package opens
    a model.

    Args:
        markers: a MarkerSet XML whose markers replace the model's (:func:`~.markerset.replace_markers`).
        keep_existing: keep the model's other markers (markers of the same name are replaced, the others
            appended: OpenSim's ``Model::updateMarkerSet``, as the ScaleTool's GenericModelMaker does).

    Returns the ``opensim.Model``; keep a reference to it while any OpenSim tool uses it.

    Raises:
        InputFileError: the model (or marker set) is missing or OpenSim cannot read or build it; the message
            names the file.
        MarkerFrameError: a marker of ``markers`` is attached to a frame the model lacks.
    """
    osim = import_opensim()
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "model file not found (expected an OpenSim .osim file)")
    model = read_file(osim.Model, path, "model")
    if markers is not None:
        replace_markers(model, markers, keep_existing=keep_existing)
    try:
        model.initSystem()
    except RuntimeError as exc:
        raise InputFileError(path, f"OpenSim cannot build this model: {first_line(exc)}") from None
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
            motion_type=MotionType.of(int(c.getMotionType())),
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


def marker_locations_in_ground(model, markers: Sequence[MarkerInfo], coordinates: Mapping[str, float] | None = None
                               ) -> np.ndarray:
    """``(M, 3)`` ground positions (m) of ``markers`` on ``model`` (path or Model) at its default pose (or
    ``coordinates``).

    The markers need not belong to the model; each is placed on its body. ``coordinates`` overrides coordinate
    values (radians/metres).
    """
    osim = import_opensim()
    if not hasattr(model, "getBodySet"):
        model = load_model(model)
    state = model.initSystem()
    for name, value in (coordinates or {}).items():
        model.getCoordinateSet().get(name).setValue(state, float(value), False)
    model.realizePosition(state)
    out = np.empty((len(markers), 3))
    for i, m in enumerate(markers):
        body = model.getBodySet().get(m.body)
        p = body.findStationLocationInGround(state, osim.Vec3(*m.location))
        out[i] = [p.get(0), p.get(1), p.get(2)]
    return out


def _base_name(frame) -> str:
    base = frame.findBaseFrame()
    return base.getName()


def _document_path(model) -> Path | None:
    name = model.getDocumentFileName()
    return Path(name) if name else None
