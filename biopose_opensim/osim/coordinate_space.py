"""The coordinates of an OpenSim model as arrays: names, ranges, defaults, motion types and coupled coordinates.

Motions live in this space: ``q`` is ``(T, C)`` (or ``(..., C)``) with one column per model coordinate, in the
model's order, radians for rotational coordinates and metres for translational ones. Coupled coordinates
(e.g. the patellofemoral ``knee_angle_r_beta`` of the Rajagopal models) are never driven directly;
:meth:`CoordinateSpace.apply_couplers` fills them from their independent coordinate through the model's own
coupling function, sampled once from OpenSim. The facts are the :class:`~.info.CoordinateInfo`\\ s and
:class:`~.info.CoupledCoordinate`\\ s read by :mod:`.model`; this module is their array view, with the
operations generated, retargeted and read motions need.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import CoordinateMismatchError
from .info import CoordinateInfo, CoupledCoordinate, MotionType
from .model import coordinate_infos, coupler_functions, joint_infos, load_model

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class CoordinateSpace:
    """Coordinates of one OpenSim model, in model order.

    Attributes:
        model_path: the ``.osim`` file these were read from (``None`` when unknown).
        names: (C,) coordinate names.
        lower, upper: (C,) range limits (radians or metres); coupled coordinates carry OpenSim's own range.
        default: (C,) default values (radians or metres).
        motion_type: (C,) int, OpenSim's motion type (:class:`~.info.MotionType`: 1 rotational,
            2 translational, 3 coupled).
        locked: (C,) bool, coordinates locked in the model (they stay at their default).
        root_translations: the translational coordinates of the joints between ground and the model.
        couplers: the model's single-input coupled coordinates with their tabulated coupling functions
            (``knee_angle_r_beta`` follows ``knee_angle_r``).
    """

    model_path: Path | None
    names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    default: np.ndarray
    motion_type: np.ndarray
    locked: np.ndarray
    root_translations: tuple[str, ...] = ()
    couplers: tuple[CoupledCoordinate, ...] = field(default=())

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_infos(cls, coordinates: Sequence[CoordinateInfo], couplers: Sequence[CoupledCoordinate] = (),
                   root_joints: Sequence[str] = (), model_path: str | Path | None = None) -> "CoordinateSpace":
        """The array view of ``coordinates`` (model order); ``root_joints``: the joints whose parent is ground."""
        roots = set(root_joints)
        return cls(
            model_path=Path(model_path) if model_path is not None else None,
            names=tuple(c.name for c in coordinates),
            lower=np.array([c.range[0] for c in coordinates], dtype=np.float64),
            upper=np.array([c.range[1] for c in coordinates], dtype=np.float64),
            default=np.array([c.default_value for c in coordinates], dtype=np.float64),
            motion_type=np.array([int(c.motion_type) for c in coordinates], dtype=int),
            locked=np.array([c.locked for c in coordinates], dtype=bool),
            root_translations=tuple(c.name for c in coordinates
                                    if c.motion_type == MotionType.TRANSLATIONAL and c.joint in roots),
            couplers=tuple(couplers),
        )

    @classmethod
    def from_osim(cls, model) -> "CoordinateSpace":
        """Read the coordinate set of ``model`` (an ``.osim`` path or an ``opensim.Model``) with OpenSim.

        Raises:
            InputFileError: a model path that is missing or that OpenSim cannot load.
        """
        path = None
        if not hasattr(model, "getCoordinateSet"):
            path = Path(model)
            model = load_model(path)
        elif model.getDocumentFileName():
            path = Path(model.getDocumentFileName())
        roots = [j.name for j in joint_infos(model) if j.parent == "ground"]
        return cls.from_infos(coordinate_infos(model), coupler_functions(model), roots, path)

    # ------------------------------------------------------------------ queries
    @property
    def size(self) -> int:
        return len(self.names)

    @property
    def rotational(self) -> np.ndarray:
        """(C,) bool: coordinates written in degrees in a ``.mot`` (OpenSim's ``Rotational`` motion type;
        coupled coordinates are not)."""
        return self.motion_type == MotionType.ROTATIONAL

    @property
    def coupled(self) -> tuple[str, ...]:
        """Names of the coordinates that follow a coupler."""
        return tuple(cp.dependent for cp in self.couplers)

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
            where = self.model_path if self.model_path is not None else "model"
            raise CoordinateMismatchError(
                f"{where}: coordinate {name!r} is not in the model; its coordinates are {', '.join(self.names)}"
            ) from None

    def neutral(self, n_frames: int) -> np.ndarray:
        """(T, C) every frame at the model's default values."""
        return np.tile(self.default, (n_frames, 1))

    # ------------------------------------------------------------------ operations
    def apply_couplers(self, q: np.ndarray) -> np.ndarray:
        """Return ``q`` (…, C) (a float64 copy) with coupled coordinates recomputed from their independent ones."""
        q = np.array(q, dtype=np.float64, copy=True)
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
