"""What an OpenSim model contains, as frozen dataclasses: coordinates, bodies, joints, markers, constraints.

These are the one description of a model's parts; :mod:`biopose_opensim.osim.model` reads them from the real
OpenSim model (and re-exports them). Units follow the model (metres and radians for every model this package
ships). Marker locations are in the frame of the body that carries the marker.
"""
from __future__ import annotations

import difflib
import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np


class MotionType(enum.IntEnum):
    """OpenSim's ``Coordinate::MotionType`` (same values): how a coordinate moves its joint.

    A member also compares equal to OpenSim's spelling of it in ``.osim`` files (``"rotational"``,
    ``"translational"``, ``"coupled"``; case-insensitive).
    """

    ROTATIONAL = 1
    TRANSLATIONAL = 2
    COUPLED = 3

    @classmethod
    def of(cls, code: int) -> "MotionType":
        """The member for OpenSim's ``getMotionType()`` code; an undefined one (0, before the model's
        connections are made) reads as rotational."""
        return cls(code) if code in (1, 2, 3) else cls.ROTATIONAL

    @property
    def label(self) -> str:
        """OpenSim's spelling in ``.osim`` files: ``rotational``, ``translational`` or ``coupled``."""
        return self.name.lower()

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            return self.label == other.lower()
        return int(self) == other

    def __ne__(self, other) -> bool:
        return not self == other

    __hash__ = int.__hash__


@dataclass(frozen=True)
class CoordinateInfo:
    """One generalized coordinate. ``range`` and ``default_value`` in rad (rotational) or m (translational).

    Attributes:
        name, joint: the coordinate and the joint it belongs to, as named in the model.
        motion_type: OpenSim's motion type.
        range: (min, max) rad or m.
        default_value: rad or m.
        locked: locked by default in the model file.
        clamped: clamped to ``range`` by default.
        dependent: driven by an enforced coordinate coupler constraint (e.g. ``knee_angle_r_beta``).
    """

    name: str
    joint: str
    motion_type: MotionType
    range: tuple[float, float]
    default_value: float
    locked: bool
    clamped: bool
    dependent: bool

    @property
    def rotational(self) -> bool:
        """True for angles (written in degrees in .mot files); coupled coordinates count as angles."""
        return self.motion_type != MotionType.TRANSLATIONAL


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
