"""Pure batched forward kinematics of an OpenSim model: constants compiled from a :class:`~.tree.ModelTree`,
then torch maths on any leading batch shape.

Per joint (``F`` = joint parent frame on body ``P``, ``M`` = joint child frame on body ``C``; all rotations
map child-frame vectors into parent-frame vectors)::

    R_FM(q)  = R(a_1, f_1(q)) @ R(a_2, f_2(q)) @ R(a_3, f_3(q))            # body-fixed sequence
    p_FM(q)  = sum_i  f_{3+i}(q) * k_i(s_P) * a_{3+i}                      # in F
    R_PC     = R_PF @ R_FM @ R_CM^T
    p_PC     = o_PF(s_P) + R_PF @ (p_FM - R_FM @ R_CM^T @ o_CM(s_C))
    X_GC     = X_GP @ X_PC

with ``o_PF(s_P) = A_PF @ s_P`` (see :class:`~.tree.FrameSpec`) and the translation scale ``k_i = |a_raw| . s_P`` for
the translation functions OpenSim's ``CustomJoint`` scaling touches (``k_i = 1`` otherwise, and always when
``s`` is ``None``). Joints are processed level by level (all joints whose parents are already placed at once),
so a forward pass is a handful of batched tensor operations, with no Python loop over the batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import torch

from . import functions as fn
from .rotations import axis_angle_to_matrix_rows
from .tree import GROUND, ModelTree

# Names of the tensor constants of a plan (registered as buffers by the layer).
TENSOR_NAMES = (
    "coupler_src", "coupler_scale", "coupler_scale_body", "coupler_breaks", "coupler_origins",
    "coupler_coefficients", "full_perm",
    "lin_coord", "lin_slope", "lin_intercept", "pw_coord", "pw_breaks", "pw_origins", "pw_coefficients",
    "const_value", "axis_perm", "rot_skew", "rot_outer", "trans_axes", "trans_scale_axes", "trans_scaled",
    "parent_body", "child_body", "pf_rotation", "pf_origin_matrix", "cm_rotation_t", "cm_origin_matrix",
    "parent_slot", "body_slot", "joint_slot", "marker_slot", "marker_body", "marker_matrix",
)


@dataclass(frozen=True)
class FKPlan:
    """Constants of one model's FK, as numpy arrays (float64 / int64), plus static loop structure.

    Joints are stored in processing order (sorted by tree depth); the body placed by processing joint ``j`` has
    slot ``j + 1`` in the internal world-transform array, whose slot 0 is the ground.
    """

    arrays: Mapping[str, np.ndarray]
    coupler_waves: tuple[tuple[int, int], ...]  # (start, stop) rows of the coupler arrays per dependency wave
    levels: tuple[tuple[int, int], ...]  # (start, stop) processing-order joints per tree level
    n_independent: int
    n_bodies: int

    def tensors(self, dtype: torch.dtype = torch.float64, device=None) -> dict[str, torch.Tensor]:
        out = {}
        for name in TENSOR_NAMES:
            a = self.arrays[name]
            if a.dtype.kind in "iub":
                out[name] = torch.as_tensor(a, device=device)
            else:
                out[name] = torch.as_tensor(a, dtype=dtype, device=device)
        return out


def _topological_joints(tree: ModelTree) -> tuple[list[int], list[int]]:
    """Joint indices sorted by depth (parents first) and each joint's depth."""
    by_child = {j.child_body: k for k, j in enumerate(tree.joints)}
    depth: dict[int, int] = {}

    def d(k: int, seen: tuple = ()) -> int:
        if k in depth:
            return depth[k]
        if k in seen:
            raise ValueError(f"{tree.path}: joint {tree.joints[k].name} is part of a kinematic loop")
        parent = tree.joints[k].parent_body
        depth[k] = 0 if parent == GROUND else d(by_child[parent], seen + (k,)) + 1
        return depth[k]

    for k in range(len(tree.joints)):
        d(k)
    order = sorted(range(len(tree.joints)), key=lambda k: (depth[k], k))
    return order, [depth[k] for k in order]


def compile_plan(tree: ModelTree) -> FKPlan:
    """Turn a parsed model into the dense constants of :func:`forward_kinematics`."""
    a: dict[str, np.ndarray] = {}
    all_names = tree.coordinate_names
    indep = [c.name for c in tree.independent_coordinates]

    # --- coupled coordinates: waves of couplers whose inputs are already known ---------------------------
    ext = list(indep)  # columns of the extended vector: independent coordinates, then dependents by wave
    pending = list(tree.couplers)
    waves, rows_src, rows_scale, rows_fun, rows_body = [], [], [], [], []
    nb = len(tree.body_names)
    while pending:
        ready = [c for c in pending if c.independent in ext]
        if not ready:
            raise ValueError(f"{tree.path}: coordinate couplers {[c.name for c in pending]} form a cycle")
        start = len(rows_src)
        for c in ready:
            rows_src.append(ext.index(c.independent))
            rows_scale.append(c.scale_factor)
            rows_body.append(nb if c.scale_body is None else c.scale_body)  # nb = the ground row of ones
            rows_fun.append(c.function)
        ext += [c.dependent for c in ready]
        waves.append((start, len(rows_src)))
        pending = [c for c in pending if c not in ready]
    ctab = fn.PiecewisePolynomialTable(rows_fun)
    a["coupler_src"] = np.array(rows_src, dtype=np.int64)
    a["coupler_scale"] = np.array(rows_scale, dtype=np.float64)
    a["coupler_scale_body"] = np.array(rows_body, dtype=np.int64)
    a["coupler_breaks"], a["coupler_origins"], a["coupler_coefficients"] = ctab.breaks, ctab.origins, ctab.coefficients
    a["full_perm"] = np.array([ext.index(n) for n in all_names], dtype=np.int64)
    coord_pos = {n: i for i, n in enumerate(all_names)}

    # --- joints in processing order ----------------------------------------------------------------------
    order, depth = _topological_joints(tree)
    joints = [tree.joints[k] for k in order]
    nj = len(joints)
    levels = []
    for lv in sorted(set(depth)):
        idx = [i for i, d in enumerate(depth) if d == lv]
        levels.append((idx[0], idx[-1] + 1))

    # --- the 6 * nj transform-axis values: linear, piecewise and constant groups -------------------------
    lin, pw, const = [], [], []
    for j, jt in enumerate(joints):
        for i, ax in enumerate(jt.rotations + jt.translations):
            slot = 6 * j + i
            f = ax.function
            if ax.coordinate is None or (f.is_constant and f.breaks.size == 0):
                const.append((slot, float(f(0.0))))
            elif f.breaks.size == 0 and f.degree <= 1:
                c = f.coefficients[0]
                lin.append((slot, coord_pos[ax.coordinate], c[1] if c.size > 1 else 0.0, c[0]))
            else:
                pw.append((slot, coord_pos[ax.coordinate], f))
    a["lin_coord"] = np.array([r[1] for r in lin], dtype=np.int64)
    a["lin_slope"] = np.array([r[2] for r in lin], dtype=np.float64)
    a["lin_intercept"] = np.array([r[3] for r in lin], dtype=np.float64)
    ptab = fn.PiecewisePolynomialTable([r[2] for r in pw])
    a["pw_coord"] = np.array([r[1] for r in pw], dtype=np.int64)
    a["pw_breaks"], a["pw_origins"], a["pw_coefficients"] = ptab.breaks, ptab.origins, ptab.coefficients
    a["const_value"] = np.array([r[1] for r in const], dtype=np.float64)
    concat_slots = [r[0] for r in lin] + [r[0] for r in pw] + [r[0] for r in const]
    a["axis_perm"] = np.argsort(np.array(concat_slots, dtype=np.int64)).astype(np.int64)

    rot_axes = np.array([[ax.axis for ax in jt.rotations] for jt in joints]).reshape(nj, 3, 3)
    k = np.zeros((nj, 3, 3, 3))
    k[..., 0, 1], k[..., 0, 2] = -rot_axes[..., 2], rot_axes[..., 1]
    k[..., 1, 0], k[..., 1, 2] = rot_axes[..., 2], -rot_axes[..., 0]
    k[..., 2, 0], k[..., 2, 1] = -rot_axes[..., 1], rot_axes[..., 0]
    a["rot_skew"] = k
    a["rot_outer"] = rot_axes[..., :, None] * rot_axes[..., None, :]
    a["trans_axes"] = np.array([[ax.axis for ax in jt.translations] for jt in joints]).reshape(nj, 3, 3)
    a["trans_scale_axes"] = np.array(
        [[ax.scale_axis if ax.scale_axis is not None else np.zeros(3) for ax in jt.translations] for jt in joints]
    ).reshape(nj, 3, 3)
    a["trans_scaled"] = np.array([[ax.scale_axis is not None for ax in jt.translations] for jt in joints]).reshape(nj, 3)

    # --- frames and body slots ---------------------------------------------------------------------------
    slot_of_body = {jt.child_body: j + 1 for j, jt in enumerate(joints)}
    slot_of_body[GROUND] = 0
    # Scale factors are gathered from s padded with a ground row of ones at index nb.
    gidx = lambda b: nb if b == GROUND else b  # noqa: E731
    a["parent_body"] = np.array([gidx(jt.parent_body) for jt in joints], dtype=np.int64)
    a["child_body"] = np.array([jt.child_body for jt in joints], dtype=np.int64)
    a["pf_rotation"] = np.array([jt.parent_frame.rotation for jt in joints]).reshape(nj, 3, 3)
    a["pf_origin_matrix"] = np.array([jt.parent_frame.origin_matrix for jt in joints]).reshape(nj, 3, 3)
    a["cm_rotation_t"] = np.array([jt.child_frame.rotation.T for jt in joints]).reshape(nj, 3, 3)
    a["cm_origin_matrix"] = np.array([jt.child_frame.origin_matrix for jt in joints]).reshape(nj, 3, 3)
    a["parent_slot"] = np.array([slot_of_body[jt.parent_body] for jt in joints], dtype=np.int64)
    a["body_slot"] = np.array([slot_of_body[b] for b in range(nb)], dtype=np.int64)
    # Joint centres in JointSet order: processing index of each joint.
    a["joint_slot"] = np.array([order.index(k) for k in range(nj)], dtype=np.int64)
    a["marker_slot"] = np.array([slot_of_body[m.body] for m in tree.markers], dtype=np.int64)
    a["marker_body"] = np.array([gidx(m.body) for m in tree.markers], dtype=np.int64)
    a["marker_matrix"] = np.array([m.point_matrix for m in tree.markers]).reshape(len(tree.markers), 3, 3)
    return FKPlan(a, tuple(waves), tuple(levels), len(indep), nb)


# --------------------------------------------------------------------------------------------------------------
# batched maths, batch-last: every tensor below is (structure..., N) so that each operation runs over contiguous
# rows of the batch (tiny 3x3 products are written out as element-wise products; bmm on millions of 3x3
# matrices is far slower on CPU).
# --------------------------------------------------------------------------------------------------------------
def _mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3, N) @ (..., 3, 3, N) -> (..., 3, 3, N); either side may have N = 1 (a constant)."""
    out = a[..., :, 0:1, :] * b[..., 0:1, :, :]
    out = torch.addcmul(out, a[..., :, 1:2, :], b[..., 1:2, :, :])
    return torch.addcmul(out, a[..., :, 2:3, :], b[..., 2:3, :, :])


def _mv(a: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3, N) @ (..., 3, N) -> (..., 3, N); either side may have N = 1."""
    out = a[..., :, 0, :] * v[..., 0:1, :]
    out = torch.addcmul(out, a[..., :, 1, :], v[..., 1:2, :])
    return torch.addcmul(out, a[..., :, 2, :], v[..., 2:3, :])


def _full_rows(q: torch.Tensor, c: Mapping[str, torch.Tensor], waves, s_rows: torch.Tensor | None) -> torch.Tensor:
    """(n_independent, N) -> (n_coordinates, N); ``s_rows`` is (n_bodies + 1, 3, N) or ``None``."""
    ext = q
    for start, stop in waves:
        x = ext[c["coupler_src"][start:stop]]
        val = fn.evaluate_piecewise_rows(
            x, c["coupler_breaks"][start:stop], c["coupler_origins"][start:stop], c["coupler_coefficients"][start:stop]
        )
        val = val * c["coupler_scale"][start:stop, None]
        if s_rows is not None:
            val = val * s_rows[c["coupler_scale_body"][start:stop], 0, :]
        ext = torch.cat([ext, val], dim=0)
    return ext[c["full_perm"]]


def full_coordinates(
    q: torch.Tensor, c: Mapping[str, torch.Tensor], waves, s_pad: torch.Tensor | None = None
) -> torch.Tensor:
    """All model coordinates from the independent ones.

    Args:
        q: (..., n_independent) independent coordinates (radians / metres).
        c: plan tensors; ``waves``: the plan's ``coupler_waves``.
        s_pad: (..., n_bodies + 1, 3) scale factors with a ground row of ones, or ``None`` (unscaled model).

    Returns:
        (..., n_coordinates) in the model's ``CoordinateSet`` order; each dependent coordinate is
        ``scale_factor * f(independent)`` of its ``CoordinateCouplerConstraint`` (for a translational dependent
        coordinate of a scaled model, ``scale_factor`` is multiplied by the x factor of its joint's parent body,
        as OpenSim's scaling does).
    """
    lead = q.shape[:-1]
    rows = q.reshape(-1, q.shape[-1]).t()
    s_rows = None if s_pad is None else s_pad.reshape(-1, *s_pad.shape[-2:]).permute(1, 2, 0)
    return _full_rows(rows, c, waves, s_rows).t().reshape(*lead, -1)


def body_transforms(
    q_full: torch.Tensor, s: torch.Tensor | None, c: Mapping[str, torch.Tensor], levels
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """World rotations and origins of every body slot, batch-last.

    Args:
        q_full: (n_coordinates, N) all coordinates.
        s: (n_bodies + 1, 3, N) scale factors with a ground row of ones, or ``None`` (unscaled).
        c: plan tensors; ``levels``: the plan's ``levels``.

    Returns:
        ``R`` (n_slots, 3, 3, N) and ``p`` (n_slots, 3, N) of each slot (slot 0 = ground) in ground, metres;
        and the child-frame origins in the child bodies, (NJ, 3, N) or (NJ, 3, 1) when ``s`` is ``None``.
    """
    n = q_full.shape[-1]
    dtype, device = q_full.dtype, q_full.device
    nj = c["rot_skew"].shape[0]

    # Axis values: linear, piecewise and constant groups, then back to (joint, axis) order.
    parts = [torch.addcmul(c["lin_intercept"][:, None], q_full[c["lin_coord"]], c["lin_slope"][:, None])]
    if c["pw_coord"].numel():
        parts.append(
            fn.evaluate_piecewise_rows(q_full[c["pw_coord"]], c["pw_breaks"], c["pw_origins"], c["pw_coefficients"])
        )
    parts.append(c["const_value"][:, None].expand(-1, n))
    values = torch.cat(parts, dim=0)[c["axis_perm"]].reshape(nj, 6, n)

    rot = axis_angle_to_matrix_rows(values[:, :3, :], c["rot_skew"], c["rot_outer"])  # (NJ, 3, 3, 3, N)
    r_fm = _mm(_mm(rot[:, 0], rot[:, 1]), rot[:, 2])

    amount = values[:, 3:, :]  # (NJ, 3, N)
    if s is not None:
        s_parent = s[c["parent_body"]]  # (NJ, 3, N)
        k = (c["trans_scale_axes"][..., None] * s_parent[:, None, :, :]).sum(-2)  # (NJ, 3, N)
        amount = amount * torch.where(c["trans_scaled"][..., None], k, torch.ones_like(k))
        o_pf = _mv(c["pf_origin_matrix"][..., None], s_parent)
        o_cm = _mv(c["cm_origin_matrix"][..., None], s[c["child_body"]])
    else:
        o_pf = c["pf_origin_matrix"].sum(-1)[..., None]
        o_cm = c["cm_origin_matrix"].sum(-1)[..., None]
    p_fm = (amount[:, :, None, :] * c["trans_axes"][..., None]).sum(1)  # sum_i amount_i axis_i, (NJ, 3, N)

    r_fm_q = _mm(r_fm, c["cm_rotation_t"][..., None])  # R_FM R_CM^T
    pf_rot = c["pf_rotation"][..., None]
    r_loc = _mm(pf_rot, r_fm_q)
    t_loc = o_pf + _mv(pf_rot, p_fm - _mv(r_fm_q, o_cm))

    r_w = torch.empty(nj + 1, 3, 3, n, dtype=dtype, device=device)
    p_w = torch.empty(nj + 1, 3, n, dtype=dtype, device=device)
    r_w[0] = torch.eye(3, dtype=dtype, device=device)[..., None]
    p_w[0] = 0.0
    for start, stop in levels:
        par = c["parent_slot"][start:stop]
        r_par = r_w[par]
        r_w[start + 1 : stop + 1] = _mm(r_par, r_loc[start:stop])
        p_w[start + 1 : stop + 1] = p_w[par] + _mv(r_par, t_loc[start:stop])
    return r_w, p_w, o_cm


def forward_kinematics(
    q: torch.Tensor, s: torch.Tensor | None, c: Mapping[str, torch.Tensor], plan: FKPlan
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Body transforms, joint centres and markers.

    Args:
        q: (..., n_independent) independent coordinates, radians / metres.
        s: (..., n_bodies, 3) per-body scale factors (OpenSim ScaleTool semantics) or ``None`` for the unscaled
            model; same leading shape as ``q``.
        c: plan tensors (same dtype and device as ``q``).

    Returns:
        ``R`` (..., NB, 3, 3) and ``p`` (..., NB, 3): body frame -> ground, in ``BodySet`` order;
        ``joint_centers`` (..., NJ, 3): each joint's child-frame origin in ground, ``JointSet`` order;
        ``markers`` (..., M, 3): marker positions in ground, ``MarkerSet`` order. Metres.
    """
    lead = q.shape[:-1]
    q_rows = q.reshape(-1, q.shape[-1]).t()
    s_rows = None
    if s is not None:
        s_rows = s.reshape(-1, *s.shape[-2:]).permute(1, 2, 0)  # (NB, 3, N)
        s_rows = torch.cat([s_rows, torch.ones_like(s_rows[:1])], dim=0)  # ground row
    q_full = _full_rows(q_rows, c, plan.coupler_waves, s_rows)
    r_w, p_w, o_cm = body_transforms(q_full, s_rows, c, plan.levels)

    def out(x: torch.Tensor) -> torch.Tensor:  # (K, ..., N) -> (*lead, K, ...)
        return x.movedim(-1, 0).reshape(*lead, *x.shape[:-1])

    bs = c["body_slot"]
    r_body, p_body = out(r_w[bs]), out(p_w[bs])

    # Joint centres: child frame origin = child body origin + R_child @ o_CM.
    js = c["joint_slot"]
    jc = p_w[js + 1] + _mv(r_w[js + 1], o_cm[js])

    if c["marker_slot"].numel():
        mm = c["marker_matrix"][..., None]
        local = _mv(mm, s_rows[c["marker_body"]]) if s_rows is not None else mm.sum(-2)
        ms = c["marker_slot"]
        markers = p_w[ms] + _mv(r_w[ms], local)
    else:
        markers = q.new_zeros(0, 3, q_rows.shape[-1])
    return r_body, p_body, out(jc), out(markers)
