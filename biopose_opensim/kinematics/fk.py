"""Pure batched forward kinematics of an OpenSim model: constants compiled from a :class:`~.tree.ModelTree`,
then torch maths on any leading batch shape.

Per joint (``F`` = joint parent frame on body ``P``, ``M`` = joint child frame on body ``C``; all rotations
map child-frame vectors into parent-frame vectors)::

    R_FM(q)  = R(a_1, f_1(q)) @ R(a_2, f_2(q)) @ R(a_3, f_3(q))            # body-fixed sequence
    p_FM(q)  = sum_i  f_{3+i}(q) * k_i(s_P) * a_{3+i}                      # in F
    R_PC     = R_PF @ R_FM @ R_CM^T
    p_PC     = o_PF(s_P) + R_PF @ p_FM - R_PC @ o_CM(s_C)
    X_GC     = X_GP @ X_PC

with ``o_PF(s_P) = A_PF @ s_P`` (see :class:`~.tree.FrameSpec`) and the translation scale ``k_i = |a_raw| . s_P`` for
the translation functions OpenSim's ``CustomJoint`` scaling touches (``k_i = 1`` otherwise, and always when
``s`` is ``None``).

How the work is laid out (all decided once, in :func:`compile_plan`):

- Only the rotation axes driven by a coordinate cost anything per frame. A joint with ``d`` such axes is
  ``R_PC = K_0 V_1 K_1 ... V_d K_d`` with constant ``K_i`` (parent-frame rotation, constant axes, child-frame
  rotation folded in) and ``V_i = a a^T + cos(t) (I - a a^T) + sin(t) [a]_x``. Each "stage" ``V_i K_i`` is
  therefore ``A + cos(t) B + sin(t) C`` with constant 3x4 matrices; the fourth column carries
  ``-K_d o_CM`` on the last stage (and, for one-axis joints, the whole constant translation), so the stages
  produce the 3x4 transform ``[R_PC | p_PC]`` directly. Joints are sorted by ``d`` so that stage ``i`` is one
  batched operation over the joints that have at least ``i`` axes.
- Joints are processed level by level (every joint whose parent is placed); within a level they are ordered by
  their parent's position, so a level's parents are a broadcast of one transform, a slice, or (rarely) a gather.
- Markers and joint centres are points fixed on bodies: per body, one small matrix product of a constant
  ``(3 points, 12)`` matrix with the body's ``[R | p]`` rows gives all its points.
- Everything is batch-last, ``(structure..., N)``, so that every operation runs over contiguous rows of the
  batch (tiny 3x3 products are written out as element-wise products; bmm on millions of 3x3 matrices is far
  slower on CPU). Outputs are returned as batch-first views of that storage.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import torch

from . import functions as fn
from .rotations import axis_angle_matrix_np
from .tree import GROUND, ModelTree

# Names of the tensor constants of a plan (registered as buffers by the layer).
TENSOR_NAMES = (
    "coupler_src", "coupler_scale", "coupler_scale_body", "coupler_breaks", "coupler_origins",
    "coupler_coefficients", "full_perm",
    "lin_coord", "lin_slope", "lin_intercept", "pw_coord", "pw_breaks", "pw_origins", "pw_coefficients",
    "value_perm",
    "stage1", "stage2", "stage3", "fixed_local",
    "trans_bias", "trans_var_matrix", "trans_all_matrix", "trans_const_value", "trans_row_slot",
    "trans_row_parent", "trans_row_scale_axis", "trans_scaled",
    "parent_body", "child_body", "pf_origin_matrix", "cm_origin_matrix", "parent_local",
    "point_matrix", "point_matrix_diag", "point_matrix_full", "point_ground", "point_order", "bottom_row",
)

# Level kinds: how a level's parent transforms are taken from the previous level.
GROUND_PARENT, ONE_PARENT, PARENT_RANGE, PARENT_INDEX = 0, 1, 2, 3


@dataclass(frozen=True)
class FKPlan:
    """Constants of one model's FK, as numpy arrays (float64 / int64 / bool), plus the static structure.

    Joints are stored in processing order (by tree level; within a level by the parent's position). Every
    per-joint array (``trans_scaled``, ``parent_body``, ...) is in that order.

    Attributes:
        arrays: the constants, named as in :data:`TENSOR_NAMES`.
        coupler_waves: ``(start, stop)`` rows of the coupler arrays per dependency wave.
        levels: per tree level ``(start, stop, kind, a, b)``: its processing-order joints and where their
            parents are in the previous level (``kind`` one of ``GROUND_PARENT``, ``ONE_PARENT`` (``a``),
            ``PARENT_RANGE`` (``a:b``), ``PARENT_INDEX`` (``parent_local[start:stop]``)).
        stage_sizes: ``(n1, n2, n3)`` joints with at least 1, 2, 3 coordinate-driven rotation axes.
        n_fixed: joints without any (constant rotation).
        local_runs: ``(source, start, stop)`` pieces that concatenate to the joints' local transforms in
            processing order; ``source`` is the stage output (3, 2, 1) or 0 for ``fixed_local``.
        n_trans_var: coordinate-driven translation rows (the last rows of the evaluated axis values).
        has_trans_bias: whether any multi-axis joint has a constant translation to add.
        point_groups: per body carrying points ``(joint, level, local, row_start, row_stop, full)``: the body's
            processing-order joint, its place in its level, its rows of the point matrices and whether the
            scaled case needs the full (non-diagonal) point matrices.
        n_points: markers + joint centres; ``n_markers`` the markers.
        body_places: ``(level, local)`` of each body in ``BodySet`` order.
        n_bodies: bodies (ground excluded).
        n_independent: independent coordinates.
    """

    arrays: Mapping[str, np.ndarray]
    coupler_waves: tuple[tuple[int, int], ...]
    levels: tuple[tuple[int, int, int, int, int], ...]
    stage_sizes: tuple[int, int, int]
    n_fixed: int
    local_runs: tuple[tuple[int, int, int], ...]
    n_trans_var: int
    has_trans_bias: bool
    point_groups: tuple[tuple[int, int, int, int, int, bool], ...]
    n_points: int
    n_markers: int
    body_places: tuple[tuple[int, int], ...]
    n_bodies: int
    n_independent: int

    def tensors(self, dtype: torch.dtype = torch.float64, device=None) -> dict[str, torch.Tensor]:
        out = {}
        for name in TENSOR_NAMES:
            a = self.arrays[name]
            if a.dtype.kind in "iub":
                out[name] = torch.as_tensor(a, device=device)
            else:
                out[name] = torch.as_tensor(a, dtype=dtype, device=device)
        return out


def _topological_joints(tree: ModelTree) -> list[list[int]]:
    """Joint indices per tree level; within a level ordered by the parent joint's place in the level above."""
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
    levels: list[list[int]] = []
    for lv in range(max(depth.values(), default=-1) + 1):
        members = [k for k in range(len(tree.joints)) if depth[k] == lv]
        if lv:
            place = {k: i for i, k in enumerate(levels[-1])}
            members.sort(key=lambda k: (place[by_child[tree.joints[k].parent_body]], k))
        levels.append(members)
    return levels


def _is_driven(ax) -> bool:
    f = ax.function
    return ax.coordinate is not None and not (f.is_constant and f.breaks.size == 0)


def _skew(a: np.ndarray) -> np.ndarray:
    return np.array([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]])


def _joint_rotation_stages(jt) -> tuple[list, list[np.ndarray]]:
    """The joint's coordinate-driven rotation axes and the constant factors ``K_0 .. K_d`` around them."""
    driven = []
    ks = [jt.parent_frame.rotation.copy()]
    for ax in jt.rotations:
        if _is_driven(ax):
            driven.append(ax)
            ks.append(np.eye(3))
        else:
            ks[-1] = ks[-1] @ axis_angle_matrix_np(ax.axis, float(ax.function(0.0)))
    ks[-1] = ks[-1] @ jt.child_frame.rotation.T
    return driven, ks


def _coupler_rows(tree: ModelTree, a: dict) -> tuple[list[str], tuple]:
    """Coupler constants; returns the extended coordinate order (independent, then dependents by wave)."""
    ext = [c.name for c in tree.independent_coordinates]
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
    a["full_perm"] = np.array([ext.index(n) for n in tree.coordinate_names], dtype=np.int64)
    return ext, tuple(waves)


def _value_rows(rows: list[tuple[int, fn.PiecewisePolynomial]], a: dict) -> None:
    """Split the evaluated axis values into a linear and a piecewise group; ``value_perm`` restores ``rows``."""
    lin, pw = [], []
    for i, (col, f) in enumerate(rows):
        if f.breaks.size == 0 and f.degree <= 1:
            c = f.coefficients[0]
            lin.append((i, col, c[1] if c.size > 1 else 0.0, c[0]))
        else:
            pw.append((i, col, f))
    a["lin_coord"] = np.array([r[1] for r in lin], dtype=np.int64)
    a["lin_slope"] = np.array([r[2] for r in lin], dtype=np.float64)
    a["lin_intercept"] = np.array([r[3] for r in lin], dtype=np.float64)
    ptab = fn.PiecewisePolynomialTable([r[2] for r in pw])
    a["pw_coord"] = np.array([r[1] for r in pw], dtype=np.int64)
    a["pw_breaks"], a["pw_origins"], a["pw_coefficients"] = ptab.breaks, ptab.origins, ptab.coefficients
    a["value_perm"] = np.argsort(np.array([r[0] for r in lin] + [r[0] for r in pw], dtype=np.int64)).astype(np.int64)


def compile_plan(tree: ModelTree) -> FKPlan:
    """Turn a parsed model into the constants and static structure of :func:`forward_kinematics`."""
    a: dict[str, np.ndarray] = {}
    nb = len(tree.body_names)
    ext, waves = _coupler_rows(tree, a)
    col = {name: i for i, name in enumerate(ext)}
    gidx = lambda b: nb if b == GROUND else b  # noqa: E731  (s is padded with a ground row of ones at nb)

    # --- processing order and levels --------------------------------------------------------------------
    level_members = _topological_joints(tree)
    order = [k for lv in level_members for k in lv]
    joints = [tree.joints[k] for k in order]
    nj = len(joints)
    proc_of = {k: i for i, k in enumerate(order)}
    place = {}  # processing index -> (level, local)
    levels, parent_local, start = [], [], 0
    by_child = {j.child_body: k for k, j in enumerate(tree.joints)}
    for lv, members in enumerate(level_members):
        for i, k in enumerate(members):
            place[proc_of[k]] = (lv, i)
        stop = start + len(members)
        if lv == 0:
            levels.append((start, stop, GROUND_PARENT, 0, 0))
            parent_local += [0] * len(members)
        else:
            par = [place[proc_of[by_child[tree.joints[k].parent_body]]][1] for k in members]
            parent_local += par
            if len(set(par)) == 1:
                levels.append((start, stop, ONE_PARENT, par[0], par[0] + 1))
            elif par == list(range(par[0], par[0] + len(par))):
                levels.append((start, stop, PARENT_RANGE, par[0], par[-1] + 1))
            else:
                levels.append((start, stop, PARENT_INDEX, 0, 0))
        start = stop
    a["parent_local"] = np.array(parent_local, dtype=np.int64)

    # --- rotations: stages A + cos B + sin C, joints sorted by driven-axis count ------------------------
    stages = [_joint_rotation_stages(jt) for jt in joints]
    n_driven = [len(s[0]) for s in stages]
    rot_order = sorted(range(nj), key=lambda j: (-n_driven[j], j))
    sizes = tuple(sum(1 for d in n_driven if d >= i) for i in (1, 2, 3))
    row_in_source = {}
    for r, j in enumerate(rot_order):
        row_in_source[j] = r - sizes[0] if n_driven[j] == 0 else r
    runs: list[list[int]] = []
    for j in range(nj):
        src, r = n_driven[j], row_in_source[j]
        if runs and runs[-1][0] == src and runs[-1][2] == r:
            runs[-1][2] = r + 1
        else:
            runs.append([src, r, r + 1])

    o_pf = [jt.parent_frame.origin_matrix.sum(1) for jt in joints]
    o_cm = [jt.child_frame.origin_matrix.sum(1) for jt in joints]
    t0 = []
    for j, jt in enumerate(joints):
        p_fm = sum((float(ax.function(0.0)) * ax.axis for ax in jt.translations if not _is_driven(ax)), np.zeros(3))
        t0.append(o_pf[j] + jt.parent_frame.rotation @ p_fm)

    stage = [np.zeros((n, 3, 3, 4)) for n in sizes]  # [A, B, C] per joint, 3x4 each
    fixed = np.zeros((nj - sizes[0], 3, 4))
    value_rows: list[tuple[int, fn.PiecewisePolynomial]] = [[] for _ in range(3)]
    for r, j in enumerate(rot_order):
        driven, ks = stages[j]
        d = len(driven)
        if d == 0:
            fixed[r - sizes[0], :, :3] = ks[0]
            fixed[r - sizes[0], :, 3] = t0[j] - ks[0] @ o_cm[j]
            continue
        for i, ax in enumerate(driven):
            u = np.asarray(ax.axis, dtype=np.float64)
            outer = np.outer(u, u)
            right = np.zeros((3, 4))
            right[:, :3] = ks[i + 1]
            if i == d - 1:  # last stage: carry -K_d o_CM, so the product ends as [R_PC | -R_PC o_CM]
                right[:, 3] = -ks[i + 1] @ o_cm[j]
            left = ks[0] if i == 0 else np.eye(3)
            stage[i][r] = [left @ outer @ right, left @ (np.eye(3) - outer) @ right, left @ _skew(u) @ right]
            value_rows[i].append((col[ax.coordinate], ax.function))
        if d == 1:
            stage[0][r, 0, :, 3] += t0[j]
    a["stage1"], a["stage2"], a["stage3"] = stage
    a["fixed_local"] = fixed

    # --- translations ---------------------------------------------------------------------------------
    var_rows, const_rows = [], []  # (joint, axis index, TransformAxisSpec)
    for j, jt in enumerate(joints):
        for i, ax in enumerate(jt.translations):
            if _is_driven(ax):
                var_rows.append((j, i, ax))
            elif float(ax.function(0.0)) != 0.0:
                const_rows.append((j, i, ax))
    bias = np.zeros((nj, 3))
    for j in range(nj):
        if n_driven[j] >= 2:
            bias[j] = t0[j]
    a["trans_bias"] = bias.reshape(nj * 3, 1)
    all_rows = var_rows + const_rows
    u_all = np.zeros((nj * 3, len(all_rows)))
    for c, (j, i, ax) in enumerate(all_rows):
        u_all[3 * j : 3 * j + 3, c] = joints[j].parent_frame.rotation @ ax.axis
    a["trans_all_matrix"] = u_all
    a["trans_var_matrix"] = u_all[:, : len(var_rows)].copy()
    a["trans_const_value"] = np.array([float(ax.function(0.0)) for _, _, ax in const_rows], dtype=np.float64)
    a["trans_row_slot"] = np.array([3 * j + i for j, i, _ in all_rows], dtype=np.int64)
    a["trans_row_parent"] = np.array([gidx(joints[j].parent_body) for j, _, _ in all_rows], dtype=np.int64)
    a["trans_row_scale_axis"] = np.array(
        [ax.scale_axis if ax.scale_axis is not None else np.zeros(3) for _, _, ax in all_rows], dtype=np.float64
    ).reshape(len(all_rows), 3)
    a["trans_scaled"] = np.array([[ax.scale_axis is not None for ax in jt.translations] for jt in joints]).reshape(nj, 3)
    rows = value_rows[0] + value_rows[1] + value_rows[2] + [(col[ax.coordinate], ax.function) for _, _, ax in var_rows]
    _value_rows(rows, a)

    # --- frames -----------------------------------------------------------------------------------------
    a["parent_body"] = np.array([gidx(jt.parent_body) for jt in joints], dtype=np.int64)
    a["child_body"] = np.array([jt.child_body for jt in joints], dtype=np.int64)
    a["pf_origin_matrix"] = np.array([jt.parent_frame.origin_matrix for jt in joints]).reshape(nj, 3, 3)
    a["cm_origin_matrix"] = np.array([jt.child_frame.origin_matrix for jt in joints]).reshape(nj, 3, 3)
    proc_of_body = {jt.child_body: j for j, jt in enumerate(joints)}
    body_places = tuple(place[proc_of_body[b]] for b in range(nb))
    a["bottom_row"] = np.array([0.0, 0.0, 0.0, 1.0]).reshape(1, 4, 1)

    # --- points: markers (MarkerSet order) then joint centres (JointSet order) ----------------------------
    points = [(m.body, m.point_matrix) for m in tree.markers] + [
        (jt.child_body, jt.child_frame.origin_matrix) for jt in tree.joints
    ]
    by_joint: dict[int, list[int]] = {}
    ground_points = []
    for p, (body, _) in enumerate(points):
        if body == GROUND:
            ground_points.append(p)
        else:
            by_joint.setdefault(proc_of_body[body], []).append(p)
    sorted_points, groups = [], []
    for j in sorted(by_joint):
        members = by_joint[j]
        full = any(np.count_nonzero(points[p][1] - np.diag(np.diag(points[p][1]))) for p in members)
        groups.append((j, *place[j], 3 * len(sorted_points), 3 * (len(sorted_points) + len(members)), full))
        sorted_points += members
    n_body_points = len(sorted_points)
    w = np.zeros((3 * n_body_points, 12))
    w_diag = np.zeros((3 * n_body_points, 9))
    w_full = np.zeros((3 * n_body_points, 27))
    for r, p in enumerate(sorted_points):
        m = points[p][1]
        for i in range(3):
            w[3 * r + i, 4 * i : 4 * i + 3] = m.sum(1)
            w[3 * r + i, 4 * i + 3] = 1.0
            w_diag[3 * r + i, 3 * i : 3 * i + 3] = np.diag(m)
            w_full[3 * r + i, 9 * i : 9 * i + 9] = m.reshape(9)
    a["point_matrix"], a["point_matrix_diag"], a["point_matrix_full"] = w, w_diag, w_full
    a["point_ground"] = np.array([points[p][1].sum(1) for p in ground_points]).reshape(-1, 1)
    sorted_points += ground_points
    row_of = {p: r for r, p in enumerate(sorted_points)}
    a["point_order"] = np.array([3 * row_of[p] + i for p in range(len(points)) for i in range(3)], dtype=np.int64)

    return FKPlan(
        arrays=a,
        coupler_waves=waves,
        levels=tuple(levels),
        stage_sizes=sizes,
        n_fixed=nj - sizes[0],
        local_runs=tuple(tuple(r) for r in runs),
        n_trans_var=len(var_rows),
        has_trans_bias=bool(np.any(bias)),
        point_groups=tuple(groups),
        n_points=len(points),
        n_markers=len(tree.markers),
        body_places=body_places,
        n_bodies=nb,
        n_independent=len(tree.independent_coordinates),
    )


# --------------------------------------------------------------------------------------------------------------
# batched maths, batch-last: every tensor below is (structure..., N)
# --------------------------------------------------------------------------------------------------------------
def _mv(a: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3, N) @ (..., 3, N) -> (..., 3, N); either side may have N = 1."""
    out = a[..., :, 0, :] * v[..., 0:1, :]
    out = torch.addcmul(out, a[..., :, 1, :], v[..., 1:2, :])
    return torch.addcmul(out, a[..., :, 2, :], v[..., 2:3, :])


def _compose(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Rotation part of ``x`` times ``m``: (n, 3, 4, N) x (n, 3, 4, N) -> (n, 3, 4, N), ``x[:, :, :3] @ m``.

    ``x`` may have n = 1 (one transform for every row of ``m``)."""
    out = x[:, :, 0:1] * m[:, 0:1]
    out.addcmul_(x[:, :, 1:2], m[:, 1:2])
    return out.addcmul_(x[:, :, 2:3], m[:, 2:3])


def _extended_rows(q: torch.Tensor, c: Mapping[str, torch.Tensor], waves, s_rows: torch.Tensor | None) -> torch.Tensor:
    """(n_independent, N) -> (n_coordinates, N): independent coordinates, then the dependent ones by wave."""
    ext = q
    for start, stop in waves:
        x = ext.index_select(0, c["coupler_src"][start:stop])
        val = fn.evaluate_piecewise_rows(
            x, c["coupler_breaks"][start:stop], c["coupler_origins"][start:stop], c["coupler_coefficients"][start:stop]
        )
        val = val * c["coupler_scale"][start:stop, None]
        if s_rows is not None:
            val = val * s_rows.index_select(0, c["coupler_scale_body"][start:stop])[:, 0, :]
        ext = torch.cat([ext, val], dim=0)
    return ext


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
    ext = _extended_rows(rows, c, waves, s_rows)
    return ext.index_select(0, c["full_perm"]).t().reshape(*lead, -1)


def _axis_values(ext: torch.Tensor, c: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """(n_coordinates, N) -> (n_rows, N): driven rotation angles by stage, then driven translation values."""
    parts = []
    if c["lin_coord"].numel():
        x = ext.index_select(0, c["lin_coord"])
        parts.append(torch.addcmul(c["lin_intercept"][:, None], x, c["lin_slope"][:, None]))
    if c["pw_coord"].numel():
        x = ext.index_select(0, c["pw_coord"])
        parts.append(fn.evaluate_piecewise_rows(x, c["pw_breaks"], c["pw_origins"], c["pw_coefficients"]))
    if not parts:
        return ext.new_zeros(0, ext.shape[-1])
    values = parts[0] if len(parts) == 1 else torch.cat(parts, dim=0)
    return values.index_select(0, c["value_perm"])


def local_transforms(
    values: torch.Tensor, s_rows: torch.Tensor | None, c: Mapping[str, torch.Tensor], plan: FKPlan
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Each joint's child body in its parent body, ``[R_PC | p_PC]``, processing order.

    Args:
        values: (n_rows, N) from :func:`_axis_values`.
        s_rows: (n_bodies + 1, 3, N) scale factors with a ground row of ones, or ``None`` (unscaled).

    Returns:
        (NJ, 3, 4, N) local transforms, and the child bodies' scale factors (NJ, 3, N) (``None`` unscaled).
    """
    n = values.shape[-1]
    n1, n2, n3 = plan.stage_sizes
    n_rot = n1 + n2 + n3
    cols = 4 if s_rows is None else 3  # scaled: the translation column is computed below instead of folded in
    cos, sin = torch.cos(values[:n_rot]), torch.sin(values[:n_rot])
    out: dict[int, torch.Tensor] = {}
    prev = None
    for i, size in enumerate(plan.stage_sizes):
        if size == 0:
            break
        k = c[f"stage{i + 1}"][..., :cols]  # (size, 3 [A, B, C], 3, cols)
        off = (0, n1, n1 + n2)[i]
        cs = cos[off : off + size, None, None, :]
        sn = sin[off : off + size, None, None, :]
        m = torch.addcmul(k[:, 0, :, :, None], k[:, 1, :, :, None], cs).addcmul_(k[:, 2, :, :, None], sn)
        prev = m if i == 0 else _compose(prev[:size], m)
        out[i + 1] = prev
    if plan.n_fixed:
        out[0] = c["fixed_local"][..., :cols, None].expand(-1, -1, -1, n)
    pieces = [out[src][a:b] for src, a, b in plan.local_runs]
    local = pieces[0] if len(pieces) == 1 else torch.cat(pieces, dim=0)
    if len(pieces) == 1 and plan.local_runs[0][0] == 0:
        local = local.clone()  # an expanded constant: give it its own storage before the in-place updates
    nj = local.shape[0]

    if s_rows is None:
        if plan.n_trans_var:
            t = torch.addmm(c["trans_bias"], c["trans_var_matrix"], values[n_rot:])
            local[:, :, 3].add_(t.view(nj, 3, n))
        elif plan.has_trans_bias:
            local[:, :, 3].add_(c["trans_bias"].view(nj, 3, 1))
        return local, None

    s_parent = s_rows.index_select(0, c["parent_body"])
    s_child = s_rows.index_select(0, c["child_body"])
    o_cm = _mv(c["cm_origin_matrix"][..., None], s_child)
    t = _mv(c["pf_origin_matrix"][..., None], s_parent) - _mv(local, o_cm)
    if c["trans_row_slot"].numel():
        amount = values[n_rot:]
        if c["trans_const_value"].numel():
            amount = torch.cat([amount, c["trans_const_value"][:, None].expand(-1, n)], dim=0)
        k = (c["trans_row_scale_axis"][..., None] * s_rows.index_select(0, c["trans_row_parent"])).sum(1)
        scaled = c["trans_scaled"].reshape(-1).index_select(0, c["trans_row_slot"])[:, None]
        amount = amount * torch.where(scaled, k, torch.ones_like(k))
        t = t + (c["trans_all_matrix"] @ amount).view(nj, 3, n)
    return torch.cat([local, t[:, :, None]], dim=2), s_child


def world_transforms(local: torch.Tensor, c: Mapping[str, torch.Tensor], plan: FKPlan) -> list[torch.Tensor]:
    """Body -> ground ``[R | p]`` per tree level: a list of (n_level, 3, 4, N), processing order."""
    world: list[torch.Tensor] = []
    for start, stop, kind, a, b in plan.levels:
        x_loc = local[start:stop]
        if kind == GROUND_PARENT:
            world.append(x_loc)
            continue
        above = world[-1]
        if kind == ONE_PARENT or kind == PARENT_RANGE:
            par = above[a:b]
        else:
            par = above.index_select(0, c["parent_local"][start:stop])
        x = _compose(par, x_loc)
        x[:, :, 3].add_(par[:, :, 3])
        world.append(x)
    return world


def body_transforms(world: list[torch.Tensor], c: Mapping[str, torch.Tensor], plan: FKPlan) -> torch.Tensor:
    """(NB, 4, 4, N) homogeneous body -> ground transforms, ``BodySet`` order."""
    n = world[0].shape[-1]
    bottom = c["bottom_row"].expand(1, 4, n)
    pieces = []
    for lv, i in plan.body_places:
        pieces += [world[lv][i], bottom]
    return torch.cat(pieces, dim=0).view(plan.n_bodies, 4, 4, n)


def body_points(
    world: list[torch.Tensor], s_child: torch.Tensor | None, c: Mapping[str, torch.Tensor], plan: FKPlan
) -> torch.Tensor:
    """(n_points, 3, N) markers (``MarkerSet`` order) then joint centres (``JointSet`` order), in ground.

    Per body ``b`` carrying points, ``points_b = W_b @ [R_b | p_b]`` with constant ``W_b`` (unscaled), or
    ``W_b @ (R_b (x) s_b) + p_b`` with the point matrices ``A`` (position ``A @ s_b``) in ``W_b``: only their
    diagonals when every ``A`` on the body is diagonal (``R_b`` with its columns scaled by ``s_b``)."""
    n = world[0].shape[-1]
    rows = []
    for j, lv, i, r0, r1, full in plan.point_groups:
        x = world[lv][i]  # (3, 4, N)
        if s_child is None:
            rows.append(torch.mm(c["point_matrix"][r0:r1], x.reshape(12, n)))
            continue
        sb = s_child[j]
        if full:
            feat = (x[:, :3, None, :] * sb[None, None]).reshape(27, n)
            out = torch.mm(c["point_matrix_full"][r0:r1], feat)
        else:
            feat = (x[:, :3, :] * sb[None]).reshape(9, n)
            out = torch.mm(c["point_matrix_diag"][r0:r1], feat)
        rows.append(out.view(-1, 3, n).add_(x[None, :, 3]).view(-1, n))
    if c["point_ground"].numel():
        rows.append(c["point_ground"].expand(-1, n))
    if not rows:
        return world[0].new_zeros(0, 3, n)
    flat = rows[0] if len(rows) == 1 else torch.cat(rows, dim=0)
    return flat.index_select(0, c["point_order"]).view(plan.n_points, 3, n)


def forward_kinematics(
    q: torch.Tensor, s: torch.Tensor | None, c: Mapping[str, torch.Tensor], plan: FKPlan
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Body transforms, joint centres and markers.

    Args:
        q: (..., n_independent) independent coordinates, radians / metres.
        s: (..., n_bodies, 3) per-body scale factors (OpenSim ScaleTool semantics) or ``None`` for the unscaled
            model; same leading shape as ``q``.
        c: plan tensors (same dtype and device as ``q``).

    Returns:
        ``T`` (..., NB, 4, 4): body frame -> ground, in ``BodySet`` order;
        ``joint_centers`` (..., NJ, 3): each joint's child-frame origin in ground, ``JointSet`` order;
        ``markers`` (..., M, 3): marker positions in ground, ``MarkerSet`` order. Metres. All three are views
        of batch-last storage (not contiguous).
    """
    lead = q.shape[:-1]
    q_rows = q.reshape(-1, q.shape[-1]).t()
    s_rows = None
    if s is not None:
        s_rows = s.reshape(-1, *s.shape[-2:]).permute(1, 2, 0)  # (NB, 3, N)
        s_rows = torch.cat([s_rows, torch.ones_like(s_rows[:1])], dim=0)  # ground row
    ext = _extended_rows(q_rows, c, plan.coupler_waves, s_rows)
    local, s_child = local_transforms(_axis_values(ext, c), s_rows, c, plan)
    world = world_transforms(local, c, plan)
    transforms = body_transforms(world, c, plan)
    points = body_points(world, s_child, c, plan)

    def out(x: torch.Tensor) -> torch.Tensor:  # (K, ..., N) -> (*lead, K, ...)
        return x.movedim(-1, 0).reshape(*lead, *x.shape[:-1])

    m = plan.n_markers
    return out(transforms), out(points[m:]), out(points[:m])
