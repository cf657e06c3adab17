"""The coordinate space of an OpenSim model: names, ranges, motion types and coupled coordinates.

Generated motions live in this space: ``q`` is ``(T, C)`` with one column per model coordinate, in the
model's order, radians for rotational coordinates and metres for translational ones. Coupled
coordinates (e.g. the patellofemoral ``knee_angle_r_beta`` of the Rajagopal models) are never driven
directly; :meth:`CoordinateSpace.apply_couplers` fills them from their independent coordinate through
the model's own coupling function, sampled once from OpenSim.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CoordinateMismatchError, InputFileError
from ..osim import import_opensim

log = logging.getLogger(__name__)

#: Motion types as OpenSim's ``Coordinate::MotionType`` enumerates them.
ROTATIONAL, TRANSLATIONAL, COUPLED = 1, 2, 3


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


@dataclass(frozen=True, eq=False)
class CoordinateSpace:
    """Coordinates of one OpenSim model, in model order.

    Attributes:
        model_path: the ``.osim`` file these were read from.
        names: (C,) coordinate names.
        lower, upper: (C,) range limits (radians or metres); coupled coordinates carry OpenSim's own range.
        default: (C,) default values.
        motion_type: (C,) OpenSim motion type (1 rotational, 2 translational, 3 coupled).
        locked: (C,) coordinates locked in the model (they stay at their default).
        couplers: coupled coordinates with their tabulated coupling functions.
    """

    model_path: Path
    names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    default: np.ndarray
    motion_type: np.ndarray
    locked: np.ndarray
    couplers: tuple[CoupledCoordinate, ...] = field(default=())

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_osim(cls, path: str | Path) -> "CoordinateSpace":
        """Read the coordinate set of ``path`` with OpenSim."""
        path = Path(path)
        if not path.is_file():
            raise InputFileError(path, "OpenSim model not found; expected an existing .osim file")
        osim = import_opensim()
        try:
            model = osim.Model(str(path))
            state = model.initSystem()
        except Exception as exc:  # OpenSim raises its own exception types
            raise InputFileError(path, f"OpenSim could not load the model: {exc}") from exc
        cs = model.getCoordinateSet()
        names, lower, upper, default, mtype, locked = [], [], [], [], [], []
        for i in range(cs.getSize()):
            c = cs.get(i)
            names.append(c.getName())
            lower.append(c.getRangeMin())
            upper.append(c.getRangeMax())
            default.append(c.getDefaultValue())
            mtype.append(int(c.getMotionType()))
            locked.append(bool(c.get_locked()))
        couplers = tuple(_read_couplers(osim, model, state, names))
        return cls(
            model_path=path,
            names=tuple(names),
            lower=np.array(lower),
            upper=np.array(upper),
            default=np.array(default),
            motion_type=np.array(mtype, dtype=int),
            locked=np.array(locked, dtype=bool),
            couplers=couplers,
        )

    # ------------------------------------------------------------------ queries
    @property
    def size(self) -> int:
        return len(self.names)

    @property
    def rotational(self) -> np.ndarray:
        """(C,) bool: coordinates written in degrees in a ``.mot`` (OpenSim's ``Rotational`` motion type)."""
        return self.motion_type == ROTATIONAL

    @property
    def dependent(self) -> np.ndarray:
        """(C,) bool: coordinates filled by a coupler."""
        dep = np.zeros(self.size, dtype=bool)
        for cp in self.couplers:
            dep[self.index(cp.dependent)] = True
        return dep

    def index(self, name: str) -> int:
        """Column of coordinate ``name``; raises :class:`CoordinateMismatchError` listing valid names."""
        try:
            return self.names.index(name)
        except ValueError:
            raise CoordinateMismatchError(
                f"{self.model_path}: no coordinate named {name!r}; the model's coordinates are "
                f"{', '.join(self.names)}"
            ) from None

    def neutral(self, n_frames: int) -> np.ndarray:
        """(T, C) every frame at the model's default values."""
        return np.tile(self.default, (n_frames, 1))

    # ------------------------------------------------------------------ operations
    def apply_couplers(self, q: np.ndarray) -> np.ndarray:
        """Return ``q`` (…, C) with coupled coordinates recomputed from their independent ones."""
        q = np.array(q, dtype=float, copy=True)
        for cp in self.couplers:
            q[..., self.index(cp.dependent)] = cp(q[..., self.index(cp.independent)])
        return q

    def clip(self, q: np.ndarray, margin: float = 1e-6) -> np.ndarray:
        """Return ``q`` (…, C) clipped into the ranges (``margin`` inside each limit), locked at default."""
        q = np.clip(q, self.lower + margin, self.upper - margin)
        q[..., self.locked] = self.default[self.locked]
        return self.apply_couplers(q)

    def out_of_range(self, q: np.ndarray, tol: float = 1e-9) -> list[str]:
        """Names of the independent coordinates whose values leave their range anywhere in ``q``."""
        q = np.asarray(q)
        bad = (q < self.lower - tol) | (q > self.upper + tol)
        bad = bad.reshape(-1, self.size).any(axis=0) & ~self.dependent
        return [n for n, b in zip(self.names, bad) if b]


def _read_couplers(osim, model, state, names: list[str]) -> list[CoupledCoordinate]:
    """Tabulate every single-input ``CoordinateCouplerConstraint`` of ``model`` over its input's range."""
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
        x = np.linspace(coord.getRangeMin(), coord.getRangeMax(), 721)
        func = con.getFunction()
        scale = osim.PropertyHelper.getValueDouble(con.getPropertyByName("scale_factor"))
        arg = osim.Vector(1, 0.0)
        y = np.empty_like(x)
        for k, xv in enumerate(x):
            arg.set(0, float(xv))
            y[k] = scale * func.calcValue(arg)
        out.append(CoupledCoordinate(dependent=dep_name, independent=ind_name, x=x, y=y))
    return out
