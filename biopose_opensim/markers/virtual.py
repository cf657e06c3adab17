"""Compute virtual markers from mesh vertices and joints (pure, batched torch).

Every non-ground marker of a :class:`~biopose_opensim.markers.sets.VirtualMarkerSet` is a fixed linear
combination of mesh vertices and joints (a vertex marker selects one vertex, a joint marker one joint, a midpoint
averages earlier markers), so the set compiles to one sparse-in-spirit matrix ``W`` of shape
``(M, S)`` over ``S`` selected points; ground projections then copy a marker and replace its vertical coordinate
by the ground level.

Frames: the markers are returned in the frame of the input vertices. ``up_axis`` names the vertical axis of that
frame: 1 for OpenSim's ground frame (y up, the default), 2 for Anny's native frame (z up).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..errors import MarkerMismatchError
from .sets import VirtualMarkerSet


@dataclass(frozen=True, eq=False)
class MarkerPlan:
    """A compiled marker set: which vertices/joints to read and how to combine them.

    Attributes:
        names: ``M`` marker names, in set order.
        vertex_ids: ``(Sv,)`` int64 mesh vertices read.
        joint_ids: ``(Sj,)`` int64 joints read (indices into the body model's joint list).
        weights: ``(M, Sv + Sj)`` float64 combination matrix (rows of ground markers copy their source).
        ground_rows: ``(G,)`` int64 rows whose vertical coordinate is replaced by the ground level.
    """

    names: tuple[str, ...]
    vertex_ids: torch.Tensor
    joint_ids: torch.Tensor
    weights: torch.Tensor
    ground_rows: torch.Tensor


def compile_marker_set(marker_set: VirtualMarkerSet, joint_names: Sequence[str] = ()) -> MarkerPlan:
    """Compile ``marker_set`` for a body model whose joints are ``joint_names``.

    Raises:
        MarkerMismatchError: a joint marker names a joint that is not in ``joint_names``.
    """
    joint_names = tuple(joint_names)
    vertex_ids = sorted({m.vertex for m in marker_set.markers if m.kind == "vertex"})
    needed_joints = [m.joint for m in marker_set.markers if m.kind == "joint"]
    missing = [j for j in needed_joints if j not in joint_names]
    if missing:
        raise MarkerMismatchError(
            f"virtual-marker set {marker_set.name!r} needs joint(s) {', '.join(missing[:8])}"
            f"{' ...' if len(missing) > 8 else ''} that the body model does not have "
            f"(its joints: {', '.join(joint_names) or 'none'})"
        )
    joint_ids = sorted({joint_names.index(j) for j in needed_joints})
    v_col = {v: i for i, v in enumerate(vertex_ids)}
    j_col = {j: len(vertex_ids) + i for i, j in enumerate(joint_ids)}
    S = len(vertex_ids) + len(joint_ids)
    rows: dict[str, np.ndarray] = {}
    ground: list[int] = []
    W = np.zeros((len(marker_set.markers), S))
    for r, m in enumerate(marker_set.markers):
        row = np.zeros(S)
        if m.kind == "vertex":
            row[v_col[m.vertex]] = 1.0
        elif m.kind == "joint":
            row[j_col[joint_names.index(m.joint)]] = 1.0
        elif m.kind == "midpoint":
            row = sum(rows[ref] for ref in m.of) / len(m.of)
        else:  # ground: a copy of its source; the vertical coordinate is replaced afterwards
            row = rows[m.of[0]].copy()
            ground.append(r)
        rows[m.name] = row
        W[r] = row
    return MarkerPlan(
        names=marker_set.names,
        vertex_ids=torch.as_tensor(vertex_ids, dtype=torch.int64),
        joint_ids=torch.as_tensor(joint_ids, dtype=torch.int64),
        weights=torch.as_tensor(W, dtype=torch.float64),
        ground_rows=torch.as_tensor(ground, dtype=torch.int64),
    )


def ground_level(vertices: torch.Tensor, up_axis: int = 1, mode: str | float = "sequence") -> torch.Tensor:
    """Ground level (vertical coordinate) for each frame of ``vertices`` ``(..., V, 3)``.

    Args:
        mode: ``"frame"``: the lowest vertex of each frame; ``"sequence"``: the lowest vertex over all frames of
            a sequence (axis -3 is time when ``vertices`` has 3 or more dims; for a single frame this equals
            ``"frame"``); a number: that fixed level in metres.

    Returns:
        ``(...)`` levels, broadcastable against the frame dims of ``vertices``.
    """
    up = vertices[..., up_axis]  # (..., V)
    if isinstance(mode, (int, float)) and not isinstance(mode, bool):
        return torch.full(up.shape[:-1], float(mode), dtype=vertices.dtype, device=vertices.device)
    if mode == "frame":
        return up.min(dim=-1).values
    if mode == "sequence":
        per_frame = up.min(dim=-1).values
        if per_frame.ndim == 0:
            return per_frame
        return per_frame.min(dim=-1, keepdim=True).values.expand_as(per_frame)
    raise ValueError(f"ground mode must be 'frame', 'sequence' or a number, got {mode!r}")


def apply_marker_plan(
    plan: MarkerPlan,
    vertices: torch.Tensor,
    joints: torch.Tensor | None = None,
    up_axis: int = 1,
    ground: str | float = "sequence",
) -> torch.Tensor:
    """Markers ``(..., M, 3)`` from ``vertices (..., V, 3)`` and ``joints (..., J, 3)`` (same frame and units)."""
    vertices = torch.as_tensor(vertices)
    parts = [vertices.index_select(-2, plan.vertex_ids.to(vertices.device))]
    if plan.joint_ids.numel():
        if joints is None:
            raise MarkerMismatchError("this marker set has joint markers; pass the body model's joints")
        joints = torch.as_tensor(joints, dtype=vertices.dtype, device=vertices.device)
        parts.append(joints.index_select(-2, plan.joint_ids.to(vertices.device)))
    points = torch.cat(parts, dim=-2)  # (..., S, 3)
    W = plan.weights.to(dtype=vertices.dtype, device=vertices.device)
    markers = torch.einsum("ms,...sd->...md", W, points)
    if plan.ground_rows.numel():
        level = ground_level(vertices, up_axis, ground)  # (...)
        rows = plan.ground_rows.to(vertices.device)
        markers = markers.clone()
        markers[..., rows, up_axis] = level[..., None].expand(*level.shape, rows.numel())
    return markers


def compute_virtual_markers(
    marker_set: VirtualMarkerSet,
    vertices: torch.Tensor,
    joints: torch.Tensor | None = None,
    joint_names: Sequence[str] = (),
    up_axis: int = 1,
    ground: str | float = "sequence",
) -> torch.Tensor:
    """Virtual markers ``(..., M, 3)`` in the frame of ``vertices`` (metres), in ``marker_set`` order.

    Args:
        marker_set: the set; its vertex ids must address ``vertices`` (checked).
        vertices: ``(..., V, 3)`` mesh vertices.
        joints: ``(..., J, 3)`` joints named by ``joint_names`` (needed when the set has joint markers).
        up_axis: vertical axis of the frame (1: OpenSim y up; 2: Anny native z up).
        ground: ground level for ground projections, see :func:`ground_level`.
    """
    vertices = torch.as_tensor(vertices)
    if vertices.shape[-2] != marker_set.n_vertices:
        raise MarkerMismatchError(
            f"virtual-marker set {marker_set.name!r} is defined on {marker_set.n_vertices} vertices, "
            f"but the mesh has {vertices.shape[-2]}"
        )
    plan = compile_marker_set(marker_set, joint_names)
    return apply_marker_plan(plan, vertices, joints, up_axis=up_axis, ground=ground)
