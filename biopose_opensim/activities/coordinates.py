"""The coordinate space of an OpenSim model: names, ranges, motion types and coupled coordinates.

Generated motions live in this space: ``q`` is ``(T, C)`` with one column per model coordinate, in the
model's order, radians for rotational coordinates and metres for translational ones. Coupled
coordinates (e.g. the patellofemoral ``knee_angle_r_beta`` of the Rajagopal models) are never driven
directly; :meth:`CoordinateSpace.apply_couplers` fills them from their independent coordinate through
the model's own coupling function, sampled once from OpenSim. The model's facts are read by
:mod:`biopose_opensim.osim.model`; this module is an array view of them with the operations motions need.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CoordinateMismatchError
from ..osim.model import CoupledCoordinate, coordinate_infos, coupler_functions, load_model

log = logging.getLogger(__name__)

#: Motion types as OpenSim's ``Coordinate::MotionType`` enumerates them.
ROTATIONAL, TRANSLATIONAL, COUPLED = 1, 2, 3
_MOTION_CODES = {"rotational": ROTATIONAL, "translational": TRANSLATIONAL, "coupled": COUPLED}


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
        """Read the coordinate set of ``path`` with OpenSim (:mod:`biopose_opensim.osim.model`).

        Raises:
            InputFileError: the model is missing or OpenSim cannot load it.
        """
        path = Path(path)
        model = load_model(path)
        coords = coordinate_infos(model)
        return cls(
            model_path=path,
            names=tuple(c.name for c in coords),
            lower=np.array([c.range[0] for c in coords]),
            upper=np.array([c.range[1] for c in coords]),
            default=np.array([c.default_value for c in coords]),
            motion_type=np.array([_MOTION_CODES[c.motion_type] for c in coords], dtype=int),
            locked=np.array([c.locked for c in coords], dtype=bool),
            couplers=coupler_functions(model),
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
