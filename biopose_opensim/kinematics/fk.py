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
  rotation folded in) and ``V_i = a a^T + cos(t_i) (I - a a^T) + sin(t_i) [a]_x``. Expanding the product,
  the local transform ``[R_PC | p_PC]`` is a constant (12, 3^d) matrix times the 3^d monomials of
  ``(1, cos t_1, sin t_1) x ... x (1, cos t_d, sin t_d)``: its translation column carries ``-R_PC o_CM`` and
  the constant part of ``p_PC``. Joints with the same ``d`` share one batched matrix product.
- Joints are processed level by level (every joint whose parent is placed); within a level they are ordered by
  their parent's position, so a level's parents are a broadcast of one transform, a slice, or (rarely) a gather.
- Markers and joint centres are points fixed on bodies: per body, one small matrix product of a constant
  ``(3 points, 12)`` matrix with the body's ``[R | p]`` rows gives all its points.
- Everything is batch-last, ``(structure..., N)``, so that every operation runs over contiguous rows of the
  batch (tiny 3x3 products are written out as element-wise products; bmm on millions of 3x3 matrices is far
  slower on CPU). Outputs are returned as batch-first views of that storage.
"""
from __future__ import annotations

from typing import Mapping

import torch

from . import functions as fn
from .plan import (  # noqa: F401  (re-exported: the plan is part of this module's interface)
    GROUND_PARENT,
    ONE_PARENT,
    PARENT_INDEX,
    PARENT_RANGE,
    TENSOR_NAMES,
    FKPlan,
    compile_plan,
)


# --------------------------------------------------------------------------------------------------------------
# batched maths, batch-last: every tensor below is (structure..., N)
# --------------------------------------------------------------------------------------------------------------
# Slices of large tensors are avoided where a tensor is used piecewise: the backward of ``t[a:b]`` allocates a
# zero tensor of t's full size per slice, while ``unbind`` / ``split`` give all pieces one ``stack`` / ``cat``.
def _mv(a: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """(n, 3, 3, N) @ (n, 3, N) -> (n, 3, N); either side may have N = 1."""
    a0, a1, a2 = a.unbind(2)
    v0, v1, v2 = v[:, :, None].unbind(1)
    return torch.addcmul(torch.addcmul(a0 * v0, a1, v1), a2, v2)


def _compose(x_cols: tuple[torch.Tensor, ...], m: torch.Tensor) -> torch.Tensor:
    """``X[:, :, :3] @ m`` for ``X``'s columns ``x_cols`` ((n, 3, N) each, first three used) and ``m``
    (n, 3, C, N) -> (n, 3, C, N). ``X`` may have n = 1 (one transform for every row of ``m``)."""
    m0, m1, m2 = m[:, None].unbind(2)  # (n, 1, C, N) each
    out = x_cols[0][:, :, None] * m0
    out.addcmul_(x_cols[1][:, :, None], m1)
    return out.addcmul_(x_cols[2][:, :, None], m2)


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


def axis_values(
    q_rows: torch.Tensor, s_rows: torch.Tensor | None, c: Mapping[str, torch.Tensor], plan: FKPlan
) -> torch.Tensor:
    """(n_independent, N) coordinates (and (n_bodies, 3, N) scale factors or ``None``) -> (n_rows, N) the
    joints' driven axis values: rotation angles by group and axis, then translation values (unscaled)."""
    if s_rows is not None:
        s_rows = torch.cat([s_rows, torch.ones_like(s_rows[:1])], dim=0)  # ground row
    return _axis_values(_extended_rows(q_rows, c, plan.coupler_waves, s_rows), c)


def _axis_values(ext: torch.Tensor, c: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """(n_coordinates, N) -> (n_rows, N): driven rotation angles by group and axis, then driven translation values."""
    parts = []
    if c["lin_coord"].numel():
        x = ext.index_select(0, c["lin_coord"])
        parts.append(torch.addcmul(c["lin_intercept"][:, None], x, c["lin_slope"][:, None]))
    if c["pw_coord"].numel():
        x = ext.index_select(0, c["pw_coord"])
        k = fn.interval_index(ext.index_select(0, c["pw_search_coord"]), c["pw_search_breaks"])
        if c["pw_search_coord"].shape[0] != x.shape[0]:
            k = k.index_select(0, c["pw_row_search"])
        parts.append(fn.evaluate_intervals(x, k, c["pw_table"]))
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
    n_rot = sum(d * size for d, _, size in plan.rot_groups)
    angle, trans = values.split([n_rot, values.shape[0] - n_rot])
    unscaled = s_rows is None  # scaled: the translation column is computed below instead of folded in
    cols = 4 if unscaled else 3
    out: dict[int, torch.Tensor] = {}
    if n_rot:
        angle = angle[:, None, :]
        one = angle.new_ones(1, 1, 1).expand(n_rot, 1, n)
        u = torch.cat([one, torch.cos(angle), torch.sin(angle)], dim=1)  # (n_rot, 3, N): 1, cos, sin
        sizes = [size for d, _, size in plan.rot_groups for _ in range(d)]
        parts = iter(u.split(sizes))
        for d, _, size in plan.rot_groups:
            group = [next(parts) for _ in range(d)]
            if size == 0:
                continue
            mono = group[0]
            for ui in group[1:]:
                mono = (mono[:, :, None, :] * ui[:, None, :, :]).reshape(size, -1, n)
            k = c[f"rot_matrix{d}"] if unscaled else c[f"rot_matrix{d}_rot"]
            out[d] = torch.bmm(k, mono).view(size, 3, cols, n)
    if plan.n_fixed:
        out[0] = c["fixed_local"][..., :cols, None].expand(-1, -1, -1, n)
    # Each source's runs partition its rows in order, so one split per source gives every piece.
    split = {src: iter(out[src].split([b - a for s_, a, b in plan.local_runs if s_ == src])) for src in out}
    pieces = [next(split[src]) for src, _, _ in plan.local_runs]
    local = pieces[0] if len(pieces) == 1 else torch.cat(pieces, dim=0)
    if len(pieces) == 1 and plan.local_runs[0][0] == 0:
        local = local.clone()  # an expanded constant: give it its own storage before the in-place update
    nj = local.shape[0]

    if unscaled:
        if plan.n_trans_var:
            local[:, :, 3].add_(torch.mm(c["trans_var_matrix"], trans).view(nj, 3, n))
        return local, None

    s_parent = s_rows.index_select(0, c["parent_body"])
    s_child = s_rows.index_select(0, c["child_body"])
    o_cm = _mv(c["cm_origin_matrix"][..., None], s_child)
    t = _mv(c["pf_origin_matrix"][..., None], s_parent) - _mv(local, o_cm)
    if c["trans_row_slot"].numel():
        amount = trans
        if c["trans_const_value"].numel():
            amount = torch.cat([amount, c["trans_const_value"][:, None].expand(-1, n)], dim=0)
        k = (c["trans_row_scale_axis"][..., None] * s_rows.index_select(0, c["trans_row_parent"])).sum(1)
        scaled = c["trans_scaled"].reshape(-1).index_select(0, c["trans_row_slot"])[:, None]
        amount = amount * torch.where(scaled, k, torch.ones_like(k))
        t = t + torch.mm(c["trans_all_matrix"], amount).view(nj, 3, n)
    return torch.cat([local, t[:, :, None]], dim=2), s_child


def world_transforms(
    local: torch.Tensor, c: Mapping[str, torch.Tensor], plan: FKPlan
) -> tuple[list[torch.Tensor], list[tuple[torch.Tensor, ...]]]:
    """Body -> ground ``[R | p]`` per tree level, processing order.

    Returns:
        A list of (n_level, 3, 4, N) tensors, and the same split into each body's (3, 4, N).
    """
    world: list[torch.Tensor] = []
    bodies: list[tuple[torch.Tensor, ...]] = []
    locals_ = local.split([stop - start for start, stop, *_ in plan.levels])
    for (start, stop, kind, a, b), x_loc in zip(plan.levels, locals_):
        if kind == GROUND_PARENT:
            x = x_loc
        else:
            above = world[-1]
            if kind == ONE_PARENT:
                par = bodies[-1][a][None]
            elif kind == PARENT_RANGE and b - a == above.shape[0]:
                par = above
            elif kind == PARENT_RANGE:
                par = torch.stack(bodies[-1][a:b])
            else:
                par = above.index_select(0, c["parent_local"][start:stop])
            cols = par.unbind(2)
            x = _compose(cols, x_loc)
            x[:, :, 3].add_(cols[3])
        world.append(x)
        bodies.append(x.unbind(0))
    return world, bodies


def body_transforms(bodies: list[tuple[torch.Tensor, ...]], c: Mapping[str, torch.Tensor], plan: FKPlan) -> torch.Tensor:
    """(NB, 4, 4, N) homogeneous body -> ground transforms, ``BodySet`` order."""
    n = bodies[0][0].shape[-1]
    bottom = c["bottom_row"].expand(1, 4, n)
    pieces = []
    for lv, i in plan.body_places:
        pieces += [bodies[lv][i], bottom]
    return torch.cat(pieces, dim=0).view(plan.n_bodies, 4, 4, n)


def body_points(
    bodies: list[tuple[torch.Tensor, ...]], s_child: torch.Tensor | None, c: Mapping[str, torch.Tensor], plan: FKPlan
) -> torch.Tensor:
    """(n_points, 3, N) markers (``MarkerSet`` order) then joint centres (``JointSet`` order), in ground.

    Per body ``b`` carrying points, ``points_b = W_b @ [R_b | p_b]`` with constant ``W_b`` (unscaled), or
    ``W_b @ (R_b (x) s_b) + p_b`` with the point matrices ``A`` (position ``A @ s_b``) in ``W_b``: only their
    diagonals when every ``A`` on the body is diagonal (``R_b`` with its columns scaled by ``s_b``)."""
    n = bodies[0][0].shape[-1]
    s_per_joint = None if s_child is None else s_child.unbind(0)
    rows = []
    for j, lv, i, r0, r1, full in plan.point_groups:
        x = bodies[lv][i]  # (3, 4, N)
        if s_per_joint is None:
            rows.append(torch.mm(c["point_matrix"][r0:r1], x.reshape(12, n)))
            continue
        sb = s_per_joint[j]
        rot, p = x.split([3, 1], dim=1)
        if full:
            feat = (rot[:, :, None, :] * sb[None, None]).reshape(27, n)
            out = torch.mm(c["point_matrix_full"][r0:r1], feat)
        else:
            feat = (rot * sb[None]).reshape(9, n)
            out = torch.mm(c["point_matrix_diag"][r0:r1], feat)
        rows.append(out.view(-1, 3, n).add_(p[None, :, 0]).view(-1, n))
    if c["point_ground"].numel():
        rows.append(c["point_ground"].expand(-1, n))
    if not rows:
        return bodies[0][0].new_zeros(0, 3, n)
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
    world, bodies = world_transforms(local, c, plan)
    transforms = body_transforms(bodies, c, plan)
    markers, centres = body_points(bodies, s_child, c, plan).split(
        [plan.n_markers, plan.n_points - plan.n_markers]
    )

    def out(x: torch.Tensor) -> torch.Tensor:  # (K, ..., N) -> (*lead, K, ...)
        return x.movedim(-1, 0).reshape(*lead, *x.shape[:-1])

    return out(transforms), out(centres), out(markers)
