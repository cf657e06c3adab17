"""Per-frame label masks from bony-landmark residuals, as D3KE did: a coordinate is masked in a frame
when a bony landmark it moves is more than 2 cm from its model counterpart after IK.

Which markers are bony is the marker vocabulary's answer (:mod:`biopose_opensim.markers.vocabulary`): the
markers a virtual-marker set puts in its ``bony`` group (``bony_markers_of_set``); for marker data without
groups, the known bony names (``bony_markers``).

Which markers a coordinate moves: the bony markers on the child body of the coordinate's joint; when that
body carries none (talus, patella, toes), those of the nearest descendant bodies that do. Coupled
coordinates share the mask of their independent coordinate; coordinates with no bony marker in reach (and
locked coordinates) are never masked and are reported as such.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..osim import import_opensim
from ..osim.model import load_model

log = logging.getLogger(__name__)

#: Default mask threshold: bony-landmark residual above this (m) masks the coordinates that move it.
MASK_THRESHOLD = 0.02


@dataclass(frozen=True)
class MaskPlan:
    """Bony markers moved by each coordinate of a model.

    Attributes:
        coordinate_names: (C,) model coordinates in model order.
        markers_per_coordinate: for each coordinate, the bony marker names that gate it (may be empty).
        unmasked: coordinates never masked (locked, or no bony marker in reach).
    """

    coordinate_names: tuple[str, ...]
    markers_per_coordinate: tuple[tuple[str, ...], ...]
    unmasked: tuple[str, ...]

    def to_dict(self) -> dict:
        return {c: list(m) for c, m in zip(self.coordinate_names, self.markers_per_coordinate)}


def plan_masks(model_path: str | Path, bony: Sequence[str]) -> MaskPlan:
    """Work out, from the model's joint tree and marker set, which bony markers gate each coordinate.

    Raises:
        InputFileError: the model is missing or OpenSim cannot read it (the message names the file).
    """
    osim = import_opensim()
    model = load_model(model_path)
    bony = set(bony)
    markers_on: dict[str, list[str]] = {}
    ms = model.getMarkerSet()
    for i in range(ms.getSize()):
        mk = ms.get(i)
        if mk.getName() in bony:
            markers_on.setdefault(mk.getParentFrame().findBaseFrame().getName(), []).append(mk.getName())
    children: dict[str, list[str]] = {}
    joint_child: dict[str, str] = {}
    js = model.getJointSet()
    for i in range(js.getSize()):
        j = js.get(i)
        parent = j.getParentFrame().findBaseFrame().getName()
        child = j.getChildFrame().findBaseFrame().getName()
        children.setdefault(parent, []).append(child)
        joint_child[j.getName()] = child

    def gate(body: str) -> list[str]:
        level = [body]
        while level:
            found = [m for b in level for m in markers_on.get(b, [])]
            if found:
                return found
            level = [c for b in level for c in children.get(b, [])]
        return []

    cs = model.getCoordinateSet()
    names, per, unmasked = [], [], []
    couplers: dict[str, str] = {}
    cons = model.getConstraintSet()
    for i in range(cons.getSize()):
        con = osim.CoordinateCouplerConstraint.safeDownCast(cons.get(i))
        if con is not None and con.getIndependentCoordinateNames().getSize() == 1:
            couplers[con.getDependentCoordinateName()] = con.getIndependentCoordinateNames().get(0)
    by_name: dict[str, tuple[str, ...]] = {}
    for i in range(cs.getSize()):
        c = cs.get(i)
        names.append(c.getName())
        if c.get_locked():
            by_name[c.getName()] = ()
            continue
        by_name[c.getName()] = tuple(gate(joint_child[c.getJoint().getName()]))
    for n in names:
        m = by_name[couplers[n]] if n in couplers else by_name[n]
        per.append(m)
        if not m:
            unmasked.append(n)
    return MaskPlan(tuple(names), tuple(per), tuple(unmasked))


def coordinate_masks(plan: MaskPlan, marker_error: np.ndarray, marker_names: Sequence[str],
                     threshold: float = MASK_THRESHOLD) -> np.ndarray:
    """(T, C) bool, True where the label is valid: every present gating marker is within ``threshold``.

    Args:
        marker_error: (T, M) metres, NaN where the marker is missing or not in the model.
        marker_names: (M,) names of ``marker_error``'s columns.
    """
    col = {n: i for i, n in enumerate(marker_names)}
    T = marker_error.shape[0]
    out = np.ones((T, len(plan.coordinate_names)), dtype=bool)
    with np.errstate(invalid="ignore"):
        bad = marker_error > threshold  # NaN compares False: a missing marker never masks
    for c, gates in enumerate(plan.markers_per_coordinate):
        idx = [col[m] for m in gates if m in col]
        if idx:
            out[:, c] = ~bad[:, idx].any(axis=1)
    return out
