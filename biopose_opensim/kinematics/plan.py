"""Compile an OpenSim model tree into the dense constants and static structure of the batched FK
(:mod:`.fk`) and of its unrolled per-frame program (:mod:`.unrolled`). See :mod:`.fk` for the maths.
"""
from __future__ import annotations

import itertools
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
    "lin_coord", "lin_slope", "lin_intercept", "pw_coord", "pw_table", "pw_search_coord", "pw_search_breaks",
    "pw_row_search", "value_perm",
    "rot_matrix1", "rot_matrix2", "rot_matrix3", "rot_matrix1_rot", "rot_matrix2_rot", "rot_matrix3_rot",
    "fixed_local", "trans_var_matrix", "trans_all_matrix", "trans_const_value", "trans_row_slot",
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
        rot_groups: ``(d, first_row, n)`` per driven-axis count ``d`` = 1, 2, 3: the ``n`` joints with ``d``
            coordinate-driven rotation axes; their angles are rows ``first_row + i * n + r`` of the evaluated axis
            values (axis ``i``, joint ``r`` of the group).
        n_fixed: joints without any (constant rotation).
        local_runs: ``(d, start, stop)`` pieces (rows of group ``d``; ``d = 0`` for ``fixed_local``) that
            concatenate to the joints' local transforms in processing order.
        n_trans_var: coordinate-driven translation rows (the last rows of the evaluated axis values).
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
    rot_groups: tuple[tuple[int, int, int], ...]
    n_fixed: int
    local_runs: tuple[tuple[int, int, int], ...]
    n_trans_var: int
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


def _joint_rotation_factors(jt) -> tuple[list, list[np.ndarray]]:
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
    """Split the evaluated axis values into a linear and a piecewise group; ``value_perm`` restores ``rows``.

    Piecewise rows that share their argument and breakpoints (e.g. the knee's splines, all sampled at the same
    knee angles) share one interval search."""
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
    a["pw_table"] = np.concatenate([ptab.origins[:, None, :], ptab.coefficients.transpose(0, 2, 1)], axis=1)
    searches: dict[tuple, int] = {}
    for (_, col, _), brk in zip(pw, ptab.breaks):
        searches.setdefault((col, brk.tobytes()), len(searches))
    a["pw_search_coord"] = np.array([key[0] for key in searches], dtype=np.int64)
    a["pw_search_breaks"] = np.array([np.frombuffer(key[1]) for key in searches]).reshape(len(searches), ptab.breaks.shape[1])
    a["pw_row_search"] = np.array([searches[(col, brk.tobytes())] for (_, col, _), brk in zip(pw, ptab.breaks)],
                                  dtype=np.int64)
    a["value_perm"] = np.argsort(np.array([r[0] for r in lin] + [r[0] for r in pw], dtype=np.int64)).astype(np.int64)


def _monomial_matrices(driven, ks, o_cm: np.ndarray, t0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[R_PC | p_PC]`` of a joint with ``d`` driven rotation axes as (12, 3^d) and ``R_PC`` as (9, 3^d)
    matrices over the monomials of ``(1, cos t_i, sin t_i)``, ``i = 1..d`` (first axis slowest)."""
    d = len(driven)
    terms = []
    for ax in driven:
        u = np.asarray(ax.axis, dtype=np.float64)
        outer = np.outer(u, u)
        terms.append((outer, np.eye(3) - outer, _skew(u)))
    full = np.zeros((12, 3**d))
    rot = np.zeros((9, 3**d))
    for m, idx in enumerate(itertools.product(range(3), repeat=d)):
        r = ks[0]
        for i, choice in enumerate(idx):
            r = r @ terms[i][choice] @ ks[i + 1]
        x = np.zeros((3, 4))
        x[:, :3] = r
        x[:, 3] = -r @ o_cm + (t0 if m == 0 else 0.0)  # monomial 0 is the constant 1
        full[:, m] = x.reshape(12)
        rot[:, m] = r.reshape(9)
    return full, rot


def _levels(tree: ModelTree, a: dict) -> tuple[list[int], dict, list[tuple]]:
    """Processing order of the joints (level by level from ground), each processed joint's (level, local index),
    and the levels' parent patterns; writes ``parent_local``."""
    level_members = _topological_joints(tree)
    order = [k for lv in level_members for k in lv]
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
    return order, place, levels


def _rotations(joints: list, col: dict, a: dict) -> tuple[dict, list, list, list]:
    """Per driven-axis count d, one (12, 3^d) matrix per joint over the trig monomials; fixed joints' local
    transforms. Returns the joints by driven count, the runs of equal count, the rows of coordinate functions
    and the rotation groups."""
    nj = len(joints)
    factors = [_joint_rotation_factors(jt) for jt in joints]
    n_driven = [len(f[0]) for f in factors]
    by_count = {d: [j for j in range(nj) if n_driven[j] == d] for d in range(4)}
    row_in_group = {j: r for d in range(4) for r, j in enumerate(by_count[d])}
    runs: list[list[int]] = []
    for j in range(nj):
        src, r = n_driven[j], row_in_group[j]
        if runs and runs[-1][0] == src and runs[-1][2] == r:
            runs[-1][2] = r + 1
        else:
            runs.append([src, r, r + 1])

    o_cm = [jt.child_frame.origin_matrix.sum(1) for jt in joints]
    t0 = []
    for j, jt in enumerate(joints):
        p_fm = sum((float(ax.function(0.0)) * ax.axis for ax in jt.translations if not _is_driven(ax)), np.zeros(3))
        t0.append(jt.parent_frame.origin_matrix.sum(1) + jt.parent_frame.rotation @ p_fm)

    value_rows: list[tuple[int, fn.PiecewisePolynomial]] = []
    rot_groups = []
    for d in (1, 2, 3):
        group = by_count[d]
        rot_groups.append((d, len(value_rows), len(group)))
        for i in range(d):
            value_rows += [(col[factors[j][0][i].coordinate], factors[j][0][i].function) for j in group]
        mats = [_monomial_matrices(*factors[j], o_cm[j], t0[j]) for j in group]
        a[f"rot_matrix{d}"] = np.array([m[0] for m in mats]).reshape(len(group), 12, 3**d)
        a[f"rot_matrix{d}_rot"] = np.array([m[1] for m in mats]).reshape(len(group), 9, 3**d)
    fixed = np.zeros((len(by_count[0]), 3, 4))
    for r, j in enumerate(by_count[0]):
        fixed[r, :, :3] = factors[j][1][0]
        fixed[r, :, 3] = t0[j] - factors[j][1][0] @ o_cm[j]
    a["fixed_local"] = fixed
    return by_count, runs, value_rows, rot_groups


def _translations(joints: list, col: dict, gidx, value_rows: list, a: dict) -> int:
    """Translation axes (driven ones first, then constant ones) and every coordinate-function row; returns the
    number of driven translation rows."""
    nj = len(joints)
    var_rows, const_rows = [], []  # (joint, axis index, TransformAxisSpec)
    for j, jt in enumerate(joints):
        for i, ax in enumerate(jt.translations):
            if _is_driven(ax):
                var_rows.append((j, i, ax))
            elif float(ax.function(0.0)) != 0.0:
                const_rows.append((j, i, ax))
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
    _value_rows(value_rows + [(col[ax.coordinate], ax.function) for _, _, ax in var_rows], a)
    return len(var_rows)


def _points(tree: ModelTree, proc_of_body: dict, place: dict, a: dict) -> tuple[list, int]:
    """Markers (MarkerSet order) then joint centres (JointSet order), grouped by the joint that carries them;
    returns the point groups and the number of points."""
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
    return groups, len(points)


def compile_plan(tree: ModelTree) -> FKPlan:
    """Turn a parsed model into the constants and static structure of :func:`forward_kinematics`."""
    a: dict[str, np.ndarray] = {}
    nb = len(tree.body_names)
    ext, waves = _coupler_rows(tree, a)
    col = {name: i for i, name in enumerate(ext)}
    gidx = lambda b: nb if b == GROUND else b  # noqa: E731  (s is padded with a ground row of ones at nb)
    order, place, levels = _levels(tree, a)
    joints = [tree.joints[k] for k in order]
    by_count, runs, value_rows, rot_groups = _rotations(joints, col, a)
    n_trans_var = _translations(joints, col, gidx, value_rows, a)
    # frames
    a["parent_body"] = np.array([gidx(jt.parent_body) for jt in joints], dtype=np.int64)
    a["child_body"] = np.array([jt.child_body for jt in joints], dtype=np.int64)
    a["pf_origin_matrix"] = np.array([jt.parent_frame.origin_matrix for jt in joints]).reshape(len(joints), 3, 3)
    a["cm_origin_matrix"] = np.array([jt.child_frame.origin_matrix for jt in joints]).reshape(len(joints), 3, 3)
    proc_of_body = {jt.child_body: j for j, jt in enumerate(joints)}
    body_places = tuple(place[proc_of_body[b]] for b in range(nb))
    a["bottom_row"] = np.array([0.0, 0.0, 0.0, 1.0]).reshape(1, 4, 1)
    groups, n_points = _points(tree, proc_of_body, place, a)
    return FKPlan(
        arrays=a,
        coupler_waves=waves,
        levels=tuple(levels),
        rot_groups=tuple(rot_groups),
        n_fixed=len(by_count[0]),
        local_runs=tuple(tuple(r) for r in runs),
        n_trans_var=n_trans_var,
        point_groups=tuple(groups),
        n_points=n_points,
        n_markers=len(tree.markers),
        body_places=body_places,
        n_bodies=nb,
        n_independent=len(tree.independent_coordinates),
    )
