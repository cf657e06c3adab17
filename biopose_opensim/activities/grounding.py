"""Put generated motions on the ground: pelvis height and horizontal position from foot contact.

Activities are written as joint angles; the pelvis translation that keeps the feet on the floor follows
from forward kinematics of the real OpenSim model. Foot points are the model's markers on its foot bodies
(``calcn*``, ``toes*``, ``foot*``) plus those bodies' origins. The floor is where the lowest foot point is
in the model's default pose, so a grounded motion touches the floor exactly as the default standing
model does. The pelvis translations of the supported models are expressed in the ground frame, so a
correction of ``pelvis_ty``/``pelvis_tx`` moves every point by the same amount.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import UnsupportedModelError
from ..osim import import_opensim
from ..osim.coordinate_space import CoordinateSpace
from ..osim.model import load_model

log = logging.getLogger(__name__)

FOOT_BODY_PREFIXES = ("calcn", "toes", "foot")


@dataclass(frozen=True, eq=False)
class FootPoints:
    """Foot points of a model, grouped by side.

    Attributes:
        names: (P,) point labels (``body:marker`` or ``body:origin``).
        side: (P,) ``"r"`` or ``"l"``.
        floor_y: height of the lowest foot point in the default pose, metres (ground frame, y up).
    """

    names: tuple[str, ...]
    side: tuple[str, ...]
    floor_y: float


class _FootFK:
    """OpenSim forward kinematics of a model's foot points (one model per process and path)."""

    def __init__(self, model_path: Path):
        osim = import_opensim()
        self._osim = osim
        self.model = load_model(model_path)
        self.state = self.model.initSystem()
        self.coords = [self.model.getCoordinateSet().get(i) for i in range(self.model.getCoordinateSet().getSize())]
        bodies = self.model.getBodySet()
        feet = [bodies.get(i) for i in range(bodies.getSize())
                if bodies.get(i).getName().lower().startswith(FOOT_BODY_PREFIXES)]
        if not feet:
            raise UnsupportedModelError(
                f"{model_path}: no foot bodies (names starting with {', '.join(FOOT_BODY_PREFIXES)}); "
                "grounding needs them")
        self.points: list[tuple[object, np.ndarray]] = []
        names, sides = [], []
        markers = self.model.getMarkerSet()
        foot_names = {b.getName() for b in feet}
        for b in feet:
            self.points.append((b, np.zeros(3)))
            names.append(f"{b.getName()}:origin")
            sides.append(_side_of(b.getName()))
        for i in range(markers.getSize()):
            mk = markers.get(i)
            body = mk.getParentFrame().findBaseFrame()
            if body.getName() in foot_names:
                loc = mk.get_location()
                frame = bodies.get(body.getName())
                self.points.append((frame, np.array([loc.get(0), loc.get(1), loc.get(2)])))
                names.append(f"{body.getName()}:{mk.getName()}")
                sides.append(_side_of(body.getName()))
        self.names, self.sides = tuple(names), tuple(sides)
        default = np.array([c.getDefaultValue() for c in self.coords])
        pts = self.positions(default[None, :])[0]
        self.floor_y = float(pts[:, 1].min())

    def positions(self, q: np.ndarray) -> np.ndarray:
        """(T, P, 3) foot points in ground for ``q`` (T, C) in model coordinate order."""
        osim, model, state = self._osim, self.model, self.state
        out = np.empty((q.shape[0], len(self.points), 3))
        vec = osim.Vec3
        for t in range(q.shape[0]):
            for c, v in zip(self.coords, q[t]):
                c.setValue(state, float(v), False)
            model.realizePosition(state)
            for k, (frame, local) in enumerate(self.points):
                p = frame.findStationLocationInGround(state, vec(*local))
                out[t, k] = (p.get(0), p.get(1), p.get(2))
        return out


def _side_of(body_name: str) -> str:
    """``"l"`` for bodies named ``*_l``, else ``"r"``."""
    return "l" if body_name.lower().endswith("_l") else "r"


@functools.lru_cache(maxsize=4)
def _foot_fk(model_path: str) -> _FootFK:
    return _FootFK(Path(model_path))


def foot_points(space: CoordinateSpace) -> FootPoints:
    """The foot points used for grounding ``space``'s model."""
    fk = _foot_fk(str(space.model_path))
    return FootPoints(names=fk.names, side=fk.sides, floor_y=fk.floor_y)


def foot_positions(space: CoordinateSpace, q: np.ndarray) -> np.ndarray:
    """(T, P, 3) metres, ground frame: foot points of ``q`` (T, C)."""
    return _foot_fk(str(space.model_path)).positions(np.asarray(q, dtype=float))


def ground(
    space: CoordinateSpace,
    q: np.ndarray,
    lift: np.ndarray | None = None,
    contacts: Sequence[tuple[int, int]] | None = None,
    displacements: Sequence[float] | None = None,
    anchor_side: str | Sequence[str | None] | None = None,
) -> np.ndarray:
    """Return ``q`` (T, C) with ``pelvis_ty`` (and optionally ``pelvis_tx``) set from foot contact.

    Args:
        space: coordinates of the model; must have ``pelvis_ty`` (and ``pelvis_tx`` for anchoring).
        q: (T, C) radians / metres.
        lift: (T,) metres added above the floor (a box, a flight phase); default 0.
        contacts: increasing frame intervals ``[start, stop)`` in which the anchor foot does not slide:
            ``pelvis_tx`` is set so that the anchor (mean x of the anchor side's foot points) keeps its
            ground position from ``start`` to ``stop``. Outside the intervals ``pelvis_tx`` moves linearly.
        displacements: pelvis travel (m) from the last frame of contact ``k`` to the first of ``k + 1``
            (default 0; ignored for back-to-back contacts, which join continuously).
        anchor_side: ``"r"``, ``"l"`` or ``None`` (both feet), one for all contacts or one per contact.

    With contacts, ``pelvis_tx`` is centred on 0 (its range is symmetric).
    """
    q = np.array(q, dtype=float, copy=True)
    fk = _foot_fk(str(space.model_path))
    j_ty = space.index("pelvis_ty")
    pts = fk.positions(q)
    q[:, j_ty] += fk.floor_y - pts[:, :, 1].min(axis=1)
    if lift is not None:
        q[:, j_ty] += np.asarray(lift, dtype=float)
    if contacts:
        j_tx = space.index("pelvis_tx")
        sides = list(anchor_side) if isinstance(anchor_side, (list, tuple)) else [anchor_side] * len(contacts)
        disp = list(displacements or [0.0] * (len(contacts) - 1))
        tx = np.full(q.shape[0], np.nan)
        for k, (a, b) in enumerate(contacts):
            sel = np.array([sides[k] is None or s == sides[k] for s in fk.sides])
            rel_x = pts[a:b, sel, 0].mean(axis=1) - q[a:b, j_tx]  # anchor x relative to the pelvis translation
            if k == 0:
                start = 0.0
            elif a == contacts[k - 1][1]:
                start = tx[a - 1]  # back to back: continuous
            else:
                start = tx[contacts[k - 1][1] - 1] + disp[k - 1]
            tx[a:b] = start + rel_x[0] - rel_x  # the anchor keeps its ground x during the contact
        idx = np.arange(q.shape[0])
        known = ~np.isnan(tx)
        tx[~known] = np.interp(idx[~known], idx[known], tx[known])
        q[:, j_tx] = tx - 0.5 * (tx.max() + tx.min())
    return q
