"""Read an OpenSim ``.osim`` model into frozen dataclasses: the kinematic tree the FK layer is built from.

The model is loaded by OpenSim itself (through :func:`biopose_opensim.osim.model.load_model`), which upgrades
older file formats (e.g. gait2392, nimblephysics' Rajagopal2015) and resolves every socket path; the tree is
then read through the OpenSim API, once, at construction time (never inside ``forward``).

What is read:

- bodies (``BodySet`` order); ground is body index ``-1``;
- joints (``JointSet`` order) with their parent and child frames. A frame is a body or a chain of
  ``PhysicalOffsetFrame``\\ s on a body; it is stored as its base body, its rotation in that body, and the matrix
  ``A`` with ``origin_in_body = A @ s_body``, where ``s_body`` are the body's 3 scale factors (OpenSim's
  ``Model::scale`` multiplies each offset's translation element-wise by its base body's factors, so a chain of
  offsets is linear, not proportional, in ``s``);
- each joint as six transform axes (3 rotations applied in sequence, then 3 translations in the parent frame),
  each a function of one coordinate: ``CustomJoint`` (its ``SpatialTransform``), ``PinJoint``, ``SliderJoint``,
  ``UniversalJoint``, ``GimbalJoint``, ``BallJoint``, ``FreeJoint``, ``PlanarJoint`` and ``WeldJoint``;
- coordinates (``CoordinateSet`` order) as :class:`~biopose_opensim.osim.model.CoordinateInfo`\\ s;
- markers (``MarkerSet`` order), optionally replaced or extended by a MarkerSet file exactly as OpenSim's
  ``Model::updateMarkerSet`` does (through :func:`biopose_opensim.osim.model.load_model`);
- ``CoordinateCouplerConstraint``\\ s: ``dependent = scale_factor * f(independent)``.

Anything else that changes kinematics (another enforced constraint type, another joint type, a function type
not in :mod:`.functions`, a transform axis driven by several coordinates) raises
:class:`~biopose_opensim.errors.UnsupportedModelError` naming the element and the file.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputFileError, UnsupportedModelError
from ..osim import import_opensim
from ..osim.model import CoordinateInfo, coordinate_infos, load_model
from . import functions as fn
from .rotations import body_xyz_matrix_np

log = logging.getLogger(__name__)

GROUND = -1


@dataclass(frozen=True)
class FrameSpec:
    """A frame fixed on a body.

    Attributes:
        path: OpenSim component path of the frame (e.g. ``/jointset/hip_r/pelvis_offset``).
        body: index of its base body in :attr:`ModelTree.body_names`, :data:`GROUND` for ground.
        rotation: (3, 3) orientation of the frame in the base body (frame -> body).
        origin_matrix: (3, 3) ``A`` with the frame origin in the base body ``= A @ s_body`` (metres); the
            unscaled origin is ``A @ [1, 1, 1]``.
    """

    path: str
    body: int
    rotation: np.ndarray
    origin_matrix: np.ndarray

    @property
    def origin(self) -> np.ndarray:
        return self.origin_matrix.sum(axis=1)


@dataclass(frozen=True)
class TransformAxisSpec:
    """One of a joint's six transform axes.

    Attributes:
        axis: (3,) unit axis in the joint's parent frame.
        coordinate: the coordinate driving it, or ``None`` for a constant axis.
        function: the axis value (radians or metres) as a function of the coordinate.
        scale_axis: for a translation that OpenSim's ``CustomJoint`` scaling rescales, ``|axis|`` (element-wise,
            axis as written in the file) whose dot product with the parent body's scale factors multiplies the
            value; ``None`` if never rescaled.
    """

    axis: np.ndarray
    coordinate: str | None
    function: fn.PiecewisePolynomial
    scale_axis: np.ndarray | None = None


@dataclass(frozen=True)
class JointSpec:
    """A joint: ``X_ground_child = X_ground_parent * X_parent_F * X_FM(q) * inverse(X_child_M)``.

    Attributes:
        name, kind: joint name and OpenSim class (``CustomJoint``, ``PinJoint``, ...).
        parent_frame, child_frame: the joint frames F (on the parent body) and M (on the child body).
        coordinates: the joint's coordinate names, in the joint's order.
        rotations: the three rotation axes, applied in order (``R_FM = R1 @ R2 @ R3``).
        translations: the three translation axes (``p_FM = sum_i value_i * axis_i``, in F).
    """

    name: str
    kind: str
    parent_frame: FrameSpec
    child_frame: FrameSpec
    coordinates: tuple[str, ...]
    rotations: tuple[TransformAxisSpec, TransformAxisSpec, TransformAxisSpec]
    translations: tuple[TransformAxisSpec, TransformAxisSpec, TransformAxisSpec]

    @property
    def parent_body(self) -> int:
        return self.parent_frame.body

    @property
    def child_body(self) -> int:
        return self.child_frame.body


@dataclass(frozen=True)
class MarkerSpec:
    """A marker: position in its base body ``= point_matrix @ s_body``.

    Attributes:
        frame: the OpenSim path of the marker's parent frame.
        body: base body index (:data:`GROUND` for ground).
        point_matrix: (3, 3) with the position in the base body ``= point_matrix @ s_body`` (metres).
    """

    name: str
    frame: str
    body: int
    point_matrix: np.ndarray

    @property
    def location_in_body(self) -> np.ndarray:
        return self.point_matrix.sum(axis=1)


@dataclass(frozen=True)
class CouplerSpec:
    """``CoordinateCouplerConstraint``: ``dependent = scale_factor * function(independent)``.

    Attributes:
        scale_body: when the dependent coordinate is translational, OpenSim's scaling multiplies
            ``scale_factor`` by the x factor of the body its joint's parent frame sits on (and refuses
            non-uniform factors for that body); that body's index, else ``None``.
    """

    name: str
    dependent: str
    independent: str
    function: fn.PiecewisePolynomial
    scale_factor: float
    scale_body: int | None = None


@dataclass(frozen=True)
class ModelTree:
    """Everything the FK layer needs from one ``.osim`` model.

    Attributes:
        path: the model file.
        name: the model's name.
        body_names: bodies in ``BodySet`` order (ground excluded).
        joints: joints in ``JointSet`` order.
        coordinates: all coordinates in ``CoordinateSet`` order (the model's and ``.mot`` files' order).
        markers: markers in ``MarkerSet`` order.
        couplers: enforced coordinate couplers.
        marker_set_file: the MarkerSet file merged into the model's markers, if any.
    """

    path: Path
    name: str
    body_names: tuple[str, ...]
    joints: tuple[JointSpec, ...]
    coordinates: tuple[CoordinateInfo, ...]
    markers: tuple[MarkerSpec, ...]
    couplers: tuple[CouplerSpec, ...]
    marker_set_file: Path | None = None
    _index: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def coordinate_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.coordinates)

    @property
    def dependent_coordinate_names(self) -> tuple[str, ...]:
        return tuple(c.dependent for c in self.couplers)

    @property
    def independent_coordinates(self) -> tuple[CoordinateInfo, ...]:
        dep = set(self.dependent_coordinate_names)
        return tuple(c for c in self.coordinates if c.name not in dep)

    @property
    def joint_names(self) -> tuple[str, ...]:
        return tuple(j.name for j in self.joints)

    @property
    def marker_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.markers)


# ----------------------------------------------------------------------------------------------------------
# reading helpers
# ----------------------------------------------------------------------------------------------------------
def _vec3(v) -> np.ndarray:
    return np.array([v.get(i) for i in range(3)], dtype=np.float64)


def _array(a) -> np.ndarray:
    return np.array([a.get(i) for i in range(a.getSize())], dtype=np.float64)


def _vector(v) -> np.ndarray:
    return np.array([v.get(i) for i in range(v.size())], dtype=np.float64)


def read_function(osim, f, where: str, path: Path) -> fn.PiecewisePolynomial:
    """Convert an OpenSim ``Function`` into a :class:`~.functions.PiecewisePolynomial` (or raise)."""
    kind = f.getConcreteClassName()
    if kind == "Constant":
        return fn.constant(osim.Constant.safeDownCast(f).getValue())
    if kind == "LinearFunction":
        c = _array(osim.LinearFunction.safeDownCast(f).getCoefficients())
        return fn.linear(c[0], c[1])
    if kind in ("SimmSpline", "NaturalCubicSpline"):
        sp = osim.SimmSpline.safeDownCast(f)
        return fn.simm_spline(_array(sp.getX()), _array(sp.getY()))
    if kind == "PiecewiseLinearFunction":
        pl = osim.PiecewiseLinearFunction.safeDownCast(f)
        n = pl.getSize()
        x = np.array([pl.getX(i) for i in range(n)])
        y = np.array([pl.getY(i) for i in range(n)])
        return fn.piecewise_linear(x, y)
    if kind == "PolynomialFunction":
        return fn.polynomial(_vector(osim.PolynomialFunction.safeDownCast(f).getCoefficients()))
    if kind == "MultiplierFunction":
        mf = osim.MultiplierFunction.safeDownCast(f)
        inner = read_function(osim, mf.getFunction(), where, path)
        return inner.scaled(mf.getScale())
    raise UnsupportedModelError(
        f"{path}: {where} uses a {kind}; supported functions are Constant, LinearFunction, PolynomialFunction, "
        "SimmSpline/NaturalCubicSpline, PiecewiseLinearFunction and MultiplierFunction"
    )


def _is_identity_linear(osim, f) -> bool:
    """True for ``LinearFunction(1, 0)``, the one translation function OpenSim's scaling leaves alone."""
    if f.getConcreteClassName() != "LinearFunction":
        return False
    c = _array(osim.LinearFunction.safeDownCast(f).getCoefficients())
    return c.size >= 2 and c[0] == 1.0 and c[1] == 0.0


def _axis(axis, coordinate: str | None, function: fn.PiecewisePolynomial | None = None, scale_axis=None):
    a = np.asarray(axis, dtype=np.float64)
    return TransformAxisSpec(
        a / np.linalg.norm(a),
        coordinate,
        function if function is not None else (fn.linear(1.0, 0.0) if coordinate else fn.constant(0.0)),
        scale_axis,
    )


_E = np.eye(3)


def _fixed_axes(rot: list[tuple[int, str | None]], trans: list[tuple[int, str | None]]):
    """Transform axes of a built-in joint type: (axis index, coordinate) for each rotation / translation."""
    rots = [_axis(_E[i], c) for i, c in rot]
    used = {i for i, _ in rot}
    # Pad with the remaining unit axes (constant zero), as identity rotations after the driven ones.
    rots += [_axis(_E[i], None) for i in range(3) if i not in used][: 3 - len(rots)]
    trs = [_axis(_E[i], c) for i, c in trans]
    used = {i for i, _ in trans}
    trs += [_axis(_E[i], None) for i in range(3) if i not in used][: 3 - len(trs)]
    return tuple(rots), tuple(trs)


def _builtin_joint_axes(kind: str, coords: list[str]):
    """Axes of OpenSim's built-in joints (Simbody mobilizers; rotations are body-fixed sequences)."""
    if kind == "WeldJoint":
        return _fixed_axes([], [])
    if kind == "PinJoint":
        return _fixed_axes([(2, coords[0])], [])
    if kind == "SliderJoint":
        return _fixed_axes([], [(0, coords[0])])
    if kind == "UniversalJoint":
        return _fixed_axes([(0, coords[0]), (1, coords[1])], [])
    if kind in ("GimbalJoint", "BallJoint"):
        return _fixed_axes([(0, coords[0]), (1, coords[1]), (2, coords[2])], [])
    if kind == "FreeJoint":
        return _fixed_axes([(0, coords[0]), (1, coords[1]), (2, coords[2])], [(0, coords[3]), (1, coords[4]), (2, coords[5])])
    if kind == "PlanarJoint":
        return _fixed_axes([(2, coords[0])], [(0, coords[1]), (1, coords[2])])
    return None


class _Reader:
    """Walks a loaded OpenSim model; one instance per :func:`load_model_tree` call."""

    def __init__(self, osim, model, path: Path):
        self.osim = osim
        self.model = model
        self.path = path
        bodies = model.getBodySet()
        self.body_names = tuple(bodies.get(i).getName() for i in range(bodies.getSize()))
        self.body_index = {f"/bodyset/{n}": i for i, n in enumerate(self.body_names)}

    def frame(self, frame) -> FrameSpec:
        """Resolve a PhysicalFrame into (base body, rotation, origin matrix) following its offset chain."""
        osim = self.osim
        path = frame.getAbsolutePathString()
        links = []  # from the frame down to its base
        f = frame
        while True:
            pof = osim.PhysicalOffsetFrame.safeDownCast(f)
            if pof is None:
                break
            links.append((_vec3(pof.get_translation()), body_xyz_matrix_np(_vec3(pof.get_orientation()))))
            f = pof.getParentFrame()
        base = f.getAbsolutePathString()
        if base == "/ground":
            body = GROUND
        elif base in self.body_index:
            body = self.body_index[base]
        else:
            raise UnsupportedModelError(
                f"{self.path}: frame {path} has base frame {base} ({f.getConcreteClassName()}); "
                "expected a Body or the Ground"
            )
        rot = np.eye(3)
        mat = np.zeros((3, 3))
        for t, r in reversed(links):  # base first: origin += R_so_far @ diag(t) @ s
            mat = mat + rot @ np.diag(t)
            rot = rot @ r
        return FrameSpec(path, body, rot, mat)

    def joint(self, j) -> JointSpec:
        osim = self.osim
        name, kind = j.getName(), j.getConcreteClassName()
        coords = [j.get_coordinates(i).getName() for i in range(j.numCoordinates())]
        parent, child = self.frame(j.getParentFrame()), self.frame(j.getChildFrame())
        if child.body == GROUND:
            raise UnsupportedModelError(f"{self.path}: joint {name} has the ground as its child frame")
        if kind == "CustomJoint":
            st = osim.CustomJoint.safeDownCast(j).getSpatialTransform()
            axes = []
            for i in range(6):
                ta = st.getTransformAxis(i)
                names = ta.getCoordinateNamesInArray()
                cnames = [names.get(k) for k in range(names.getSize())]
                where = f"joint {name} axis {ta.getName()}"
                if len(cnames) > 1:
                    raise UnsupportedModelError(
                        f"{self.path}: {where} is driven by several coordinates {cnames}; "
                        "only one coordinate per transform axis is supported"
                    )
                f = ta.getFunction()
                func = read_function(osim, f, where, self.path)
                raw = _vec3(ta.getAxis())
                # Model::scale -> CustomJoint::extendScale -> SpatialTransform::scale: every translation
                # function except LinearFunction(1, 0) is multiplied by (|axis| . s_parent_body), with |axis|
                # the element-wise absolute value of the axis as written (measured against OpenSim 4.6's
                # ModelScaler: a (0, -1, 0) axis gets +s_y, an oblique unit axis gets the sum of |a_i| s_i).
                # The parent body is the joint parent frame's base body; a ground parent is never scaled.
                scale_axis = None
                if i >= 3 and not _is_identity_linear(osim, f) and parent.body != GROUND:
                    scale_axis = np.abs(raw)
                if not cnames and not func.is_constant:
                    raise UnsupportedModelError(f"{self.path}: {where} has a non-constant function but no coordinate")
                axes.append(_axis(raw, cnames[0] if cnames else None, func, scale_axis))
            rotations, translations = tuple(axes[:3]), tuple(axes[3:])
        else:
            built = _builtin_joint_axes(kind, coords)
            if built is None:
                raise UnsupportedModelError(
                    f"{self.path}: joint {name} is a {kind}; supported joints are CustomJoint, PinJoint, "
                    "SliderJoint, UniversalJoint, GimbalJoint, BallJoint, FreeJoint, PlanarJoint and WeldJoint"
                )
            rotations, translations = built
        return JointSpec(name, kind, parent, child, tuple(coords), rotations, translations)

    def marker(self, m) -> MarkerSpec:
        frame = self.frame(m.getParentFrame())
        loc = _vec3(m.get_location())
        return MarkerSpec(m.getName(), frame.path, frame.body, frame.origin_matrix + frame.rotation @ np.diag(loc))

    def couplers(self) -> list[CouplerSpec]:
        osim = self.osim
        out = []
        cset = self.model.getCoordinateSet()
        cs = self.model.getConstraintSet()
        for i in range(cs.getSize()):
            c = cs.get(i)
            kind = c.getConcreteClassName()
            if not c.get_isEnforced():
                continue
            if kind != "CoordinateCouplerConstraint":
                raise UnsupportedModelError(
                    f"{self.path}: constraint {c.getName()} is an enforced {kind}; only "
                    "CoordinateCouplerConstraint is supported (disable it with isEnforced=false)"
                )
            cc = osim.CoordinateCouplerConstraint.safeDownCast(c)
            ind = cc.getIndependentCoordinateNames()
            ind = [ind.get(k) for k in range(ind.getSize())]
            where = f"CoordinateCouplerConstraint {c.getName()}"
            if len(ind) != 1:
                raise UnsupportedModelError(
                    f"{self.path}: {where} couples {len(ind)} independent coordinates {ind}; exactly one is supported"
                )
            func = read_function(osim, cc.getFunction(), where, self.path)
            dep = cset.get(cc.getDependentCoordinateName())
            scale_body = None
            if int(dep.getMotionType()) == 2:  # translational: CoordinateCouplerConstraint::extendScale
                base = self.frame(dep.getJoint().getParentFrame()).body
                scale_body = None if base == GROUND else base
            factor = float(osim.PropertyHelper.getValueDouble(cc.getPropertyByName("scale_factor")))
            out.append(CouplerSpec(c.getName(), dep.getName(), ind[0], func, factor, scale_body))
        return out


def load_model_tree(path: str | Path, marker_set: str | Path | None = None) -> ModelTree:
    """Read ``path`` (any OpenSim model version) into a :class:`ModelTree`.

    Args:
        path: the ``.osim`` file.
        marker_set: optional OpenSim MarkerSet XML; markers with a model marker's name replace it, the others
            are added (OpenSim's ``Model::updateMarkerSet``, as used by the ScaleTool).

    Raises:
        InputFileError: a file is missing or OpenSim cannot read it, or a marker names an unknown frame.
        UnsupportedModelError: the model uses an element the FK layer does not support.
    """
    osim = import_opensim()
    path = Path(path)
    # markers of the set replace the model's markers of the same name, the others are added
    model = load_model(path, markers=marker_set, keep_existing=True)
    reader = _Reader(osim, model, path)

    joints = tuple(reader.joint(model.getJointSet().get(i)) for i in range(model.getJointSet().getSize()))
    coords = coordinate_infos(model)
    mset = model.getMarkerSet()
    markers = tuple(reader.marker(mset.get(i)) for i in range(mset.getSize()))
    couplers = tuple(reader.couplers())

    children = [j.child_body for j in joints]
    missing = [reader.body_names[b] for b in range(len(reader.body_names)) if b not in children]
    if missing:
        raise UnsupportedModelError(f"{path}: bodies {missing} are not the child of any joint")
    dup = sorted({reader.body_names[b] for b in children if children.count(b) > 1})
    if dup:
        raise UnsupportedModelError(f"{path}: bodies {dup} are the child of several joints (closed loops)")
    known = {c.name for c in coords}
    for cp in couplers:
        for nm in (cp.dependent, cp.independent):
            if nm not in known:
                raise InputFileError(path, f"CoordinateCouplerConstraint {cp.name} names unknown coordinate {nm}")
    tree = ModelTree(
        path=path,
        name=model.getName(),
        body_names=reader.body_names,
        joints=joints,
        coordinates=coords,
        markers=markers,
        couplers=couplers,
        marker_set_file=Path(marker_set) if marker_set is not None else None,
    )
    log.debug("read %s: %d bodies, %d joints, %d coordinates, %d markers", path, len(tree.body_names),
              len(joints), len(coords), len(markers))
    return tree
