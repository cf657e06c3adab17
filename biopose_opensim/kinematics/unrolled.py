"""The FK of one model unrolled into a straight-line per-frame program (a ``torch.fx`` graph), for ``torch.compile``.

The batched maths of :mod:`.fk` spends its time moving (structure, N) arrays through memory, one operation at a
time. Written per frame instead, FK is a few thousand scalar multiply-adds, most of whose factors are constants
of the model (zero terms are dropped when the program is built). Every value is a batch row of shape (N,), so a
compiler can fuse the whole program into a few loops over the batch, keeping intermediate values in registers.
Run eagerly, the program would be thousands of tiny operations: it is only meant to be compiled
(:meth:`~.layer.OsimFK.compile`).

The program computes what :func:`.fk.forward_kinematics` computes, from the same plan: the same monomials, local
transforms, level products and points, starting from the joints' axis values (coupled coordinates and spline
lookups done by the batched code, :func:`.fk.axis_values`) or, with ``lookups``, from the coordinates (the
lookups done in the program as selections on the same breakpoints: faster, but a bigger kernel). Inputs and outputs are batch-last and contiguous (strided per-row loads would keep
the compiler from vectorizing):

- inputs ``values`` (n_rows, N) from :func:`.fk.axis_values` and, for a scaled model, ``s_rows``
  (n_bodies, 3, N);
- outputs ``(T_rows, points)``: (n_bodies * 16, N) body transforms (``BodySet`` order, 4x4 row-major) and
  (3 * n_points, N) markers then joint centres;
- two graphs: values -> world transforms (12 per joint) -> outputs (see :func:`build_program`).
"""
from __future__ import annotations

import math
import operator
from typing import Mapping, Union

import numpy as np
import torch
from torch import fx

from . import fk as fkmath
from .plan import GROUND_PARENT, FKPlan

Value = Union[float, fx.Node]  # a constant of the model or a batch row (N,)


class _Program:
    """Emits ``torch.fx`` nodes, folding constants: products with 0 vanish, with 1 are skipped."""

    def __init__(self) -> None:
        self.graph = fx.Graph()

    def op(self, fn, *args, **kwargs) -> fx.Node:
        return self.graph.call_function(fn, args, kwargs)

    def add(self, a: Value, b: Value) -> Value:
        if isinstance(a, float) and isinstance(b, float):
            return a + b
        if isinstance(a, float):
            a, b = b, a
        if isinstance(b, float) and b == 0.0:
            return a
        return self.op(operator.add, a, b)

    def mul(self, a: Value, b: Value) -> Value:
        if isinstance(a, float) and isinstance(b, float):
            return a * b
        if isinstance(a, float):
            a, b = b, a
        if isinstance(b, float):
            if b == 0.0:
                return 0.0
            if b == 1.0:
                return a
        return self.op(operator.mul, a, b)

    def fma(self, acc: Value, a: Value, b: Value) -> Value:
        """``acc + a * b``, one node when one factor is a constant."""
        if isinstance(a, float):
            a, b = b, a
        if isinstance(b, float) and not isinstance(a, float) and not isinstance(acc, float) and b not in (0.0, 1.0):
            return self.op(torch.add, acc, a, alpha=b)
        return self.add(acc, self.mul(a, b))

    def dot(self, coefficients, values) -> Value:
        acc: Value = 0.0
        for w, v in zip(coefficients, values):
            if w != 0.0:
                acc = self.fma(acc, v, float(w))
        return acc

    def row(self, value: Value, like: fx.Node) -> fx.Node:
        """A constant as a batch row (for the stacked outputs)."""
        return self.op(torch.full_like, like, value) if isinstance(value, float) else value


def _piecewise(pg: _Program, x: fx.Node, masks: list[fx.Node], table: np.ndarray) -> Value:
    """One packed piecewise polynomial: ``table`` (D + 2, K + 1) rows ``[origin, c_0 .. c_D]``; ``masks[i]`` is
    ``x >= break_i`` for the finite breakpoints, so the last true mask picks the interval, as searchsorted does."""
    sel: list[Value] = []
    for row in table:
        v: Value = float(row[0])
        for i, m in enumerate(masks):
            if isinstance(v, float) and float(row[i + 1]) == v:
                continue  # the same coefficient on both sides of this breakpoint
            v = pg.op(torch.where, m, float(row[i + 1]), pg.row(v, x))
        sel.append(v)
    dx = pg.add(x, -sel[0]) if isinstance(sel[0], float) else pg.op(operator.sub, x, sel[0])
    out = sel[-1]
    for j in range(len(table) - 3, -1, -1):
        out = pg.add(sel[1 + j], pg.mul(out, dx))
    return out


def _world_program(plan: FKPlan, scaled: bool, lookups: bool) -> fx.GraphModule:
    """``(values[, s_rows]) -> world`` (12 * NJ, N), or with ``lookups`` ``(q_rows[, s_rows]) -> world`` (the
    coupled coordinates and spline lookups done in the program): each joint's child body -> ground
    ``[R | p]``, processing order, row-major 3x4."""
    a = plan.arrays
    pg = _Program()
    first_in = pg.graph.placeholder("q_rows" if lookups else "values")
    s_in = pg.graph.placeholder("s_rows") if scaled else None
    nb = plan.n_bodies

    def scale(body: int) -> list[Value]:  # a body's 3 factors; the ground (index nb) and the unscaled model: 1
        if s_in is None or body == nb:
            return [1.0, 1.0, 1.0]
        return [pg.op(operator.getitem, s_in, (body, k)) for k in range(3)]

    n_rows = sum(d * size for d, _, size in plan.rot_groups) + plan.n_trans_var
    if not lookups:
        values: list[Value] = [pg.op(operator.getitem, first_in, r) for r in range(n_rows)]
    else:
        q = [pg.op(operator.getitem, first_in, k) for k in range(plan.n_independent)]
        # coordinates: independent, then dependents by wave
        ext: list[Value] = list(q)
        for start, stop in plan.coupler_waves:
            for r in range(start, stop):
                x = ext[int(a["coupler_src"][r])]
                brk = a["coupler_breaks"][r]
                masks = [pg.op(operator.ge, x, float(b)) for b in brk if math.isfinite(b)]
                table = np.concatenate([a["coupler_origins"][r][None], a["coupler_coefficients"][r].T], axis=0)
                val = pg.mul(_piecewise(pg, x, masks, table), float(a["coupler_scale"][r]))
                ext.append(pg.mul(val, scale(int(a["coupler_scale_body"][r]))[0]))

        # axis values: linear, then piecewise, then back to the plan's row order
        values = [
            pg.fma(float(c0), ext[int(col)], float(c1))
            for col, c1, c0 in zip(a["lin_coord"], a["lin_slope"], a["lin_intercept"])
        ]
        search_masks = [
            [pg.op(operator.ge, ext[int(col)], float(b)) for b in brk if math.isfinite(b)]
            for col, brk in zip(a["pw_search_coord"], a["pw_search_breaks"])
        ]
        for r, col in enumerate(a["pw_coord"]):
            values.append(_piecewise(pg, ext[int(col)], search_masks[int(a["pw_row_search"][r])], a["pw_table"][r]))
        values = [values[int(i)] for i in a["value_perm"]]
    n_rot = sum(d * size for d, _, size in plan.rot_groups)
    trig = [(1.0, pg.op(torch.cos, v), pg.op(torch.sin, v)) for v in values[:n_rot]]
    trans = values[n_rot:]

    # --- local transforms [R | p] (12 values each, row-major 3x4), processing order ---------------------------
    by_group: dict[tuple[int, int], list[Value]] = {}
    for d, first, size in plan.rot_groups:
        k = a[f"rot_matrix{d}" if not scaled else f"rot_matrix{d}_rot"]
        for r in range(size):
            mono: list[Value] = [1.0]
            for i in range(d):
                mono = [pg.mul(m, u) for m in mono for u in trig[first + i * size + r]]
            entries = [pg.dot(k[r, e], mono) for e in range(k.shape[1])]
            if scaled:  # 3x3 -> 3x4 with a translation column filled below
                entries = [x for i in range(3) for x in entries[3 * i : 3 * i + 3] + [0.0]]
            by_group[(d, r)] = entries
    for r, m in enumerate(a["fixed_local"]):
        fixed = m.copy()
        if scaled:
            fixed[:, 3] = 0.0
        by_group[(0, r)] = [float(v) for v in fixed.reshape(12)]
    local = [list(by_group[(src, r)]) for src, r0, r1 in plan.local_runs for r in range(r0, r1)]
    nj = len(local)

    if not scaled:
        for j in range(nj):
            for i in range(3):
                local[j][4 * i + 3] = pg.add(local[j][4 * i + 3], pg.dot(a["trans_var_matrix"][3 * j + i], trans))
    else:
        amounts: list[Value] = list(trans) + [float(v) for v in a["trans_const_value"]]
        slots = a["trans_scaled"].reshape(-1)
        for r, (slot, parent) in enumerate(zip(a["trans_row_slot"], a["trans_row_parent"])):
            if slots[int(slot)]:
                k = pg.dot(a["trans_row_scale_axis"][r], scale(int(parent)))
                amounts[r] = pg.mul(amounts[r], k)
        for j in range(nj):
            s_par, s_ch = scale(int(a["parent_body"][j])), scale(int(a["child_body"][j]))
            o_cm = [pg.dot(a["cm_origin_matrix"][j, i], s_ch) for i in range(3)]
            for i in range(3):
                t = pg.dot(a["pf_origin_matrix"][j, i], s_par)
                t = pg.add(t, pg.dot(a["trans_all_matrix"][3 * j + i], amounts))
                for c in range(3):
                    t = pg.add(t, pg.mul(pg.mul(local[j][4 * i + c], o_cm[c]), -1.0))
                local[j][4 * i + 3] = t

    # --- world transforms, level by level -------------------------------------------------------------------
    world: list[list[Value]] = [None] * nj  # type: ignore[list-item]
    level_start = [start for start, *_ in plan.levels]
    for lv, (start, stop, kind, _, _) in enumerate(plan.levels):
        for j in range(start, stop):
            if kind == GROUND_PARENT:
                world[j] = local[j]
                continue
            par = world[level_start[lv - 1] + int(a["parent_local"][j])]
            x = []
            for i in range(3):
                for c in range(4):
                    acc: Value = par[4 * i + 3] if c == 3 else 0.0
                    for k in range(3):
                        acc = pg.add(acc, pg.mul(par[4 * i + k], local[j][4 * k + c]))
                    x.append(acc)
            world[j] = x

    ref = values[0] if n_rows else pg.op(torch.sum, first_in, 0)  # a zero row when nothing is driven
    pg.graph.output(pg.op(torch.stack, [pg.row(v, ref) for x in world for v in x]))
    pg.graph.eliminate_dead_code()
    return fx.GraphModule(torch.nn.Module(), pg.graph, class_name="UnrolledWorld")


def _output_program(plan: FKPlan, scaled: bool) -> fx.GraphModule:
    """``(world[, s_rows]) -> (T_rows, points)`` (see the module docstring)."""
    a = plan.arrays
    pg = _Program()
    world_in = pg.graph.placeholder("world")
    s_in = pg.graph.placeholder("s_rows") if scaled else None
    nb = plan.n_bodies

    def scale(body: int) -> list[Value]:
        if s_in is None or body == nb:
            return [1.0, 1.0, 1.0]
        return [pg.op(operator.getitem, s_in, (body, k)) for k in range(3)]

    nj = len(a["parent_local"])
    world = [[pg.op(operator.getitem, world_in, 12 * j + e) for e in range(12)] for j in range(nj)]
    level_start = [start for start, *_ in plan.levels]

    # --- points and outputs -----------------------------------------------------------------------------------
    rows: list[Value] = []
    for j, lv, i, r0, r1, _full in plan.point_groups:
        x = world[level_start[lv] + i]
        if not scaled:
            rows += [pg.dot(a["point_matrix"][r], x) for r in range(r0, r1)]
            continue
        sb = scale(int(a["child_body"][j]))
        for r in range(r0, r1, 3):
            m = a["point_matrix_full"][r, :9].reshape(3, 3)  # the point's A: position = A @ s_body
            local_p = [pg.dot(m[k], sb) for k in range(3)]
            for c in range(3):
                acc = x[4 * c + 3]
                for k in range(3):
                    acc = pg.add(acc, pg.mul(x[4 * c + k], local_p[k]))
                rows.append(acc)
    rows += [float(v) for v in a["point_ground"].reshape(-1)]
    points = [rows[int(i)] for i in a["point_order"]]
    bottom = [0.0, 0.0, 0.0, 1.0]
    transforms = [v for lv, i in plan.body_places for v in world[level_start[lv] + i] + bottom]
    ref = world[0][0]
    out_t = pg.op(torch.stack, [pg.row(v, ref) for v in transforms])
    out_p = pg.op(torch.stack, [pg.row(v, ref) for v in points])  # joint centres: never empty
    pg.graph.output((out_t, out_p))
    pg.graph.eliminate_dead_code()
    return fx.GraphModule(torch.nn.Module(), pg.graph, class_name="UnrolledOutputs")


def build_program(plan: FKPlan, scaled: bool, lookups: bool = False) -> tuple[fx.GraphModule, fx.GraphModule]:
    """The per-frame program of ``plan`` (see the module docstring) as two graphs, ``(values[, s_rows]) ->
    world`` and ``(world[, s_rows]) -> (T_rows, points)``: the C++ compiler copes with the halves more easily
    than with one kernel (GCC 12 fails with an internal error on the whole float64 full-body program).

    With ``lookups`` the first graph takes the independent coordinates ``q_rows`` (n_independent, N) instead of
    the axis values and does the coupled coordinates and spline lookups itself, as chains of selections on the
    same breakpoints (``x >= break``: the intervals ``searchsorted`` finds) and the same coefficients: faster,
    but a larger kernel (used for float32)."""
    return _world_program(plan, scaled, lookups), _output_program(plan, scaled)



def count_operations(program) -> int:
    """Number of operations in a program (for reports)."""
    return sum(1 for gm in program for n in gm.graph.nodes if n.op == "call_function")

def run_program(
    program, q: torch.Tensor, s: torch.Tensor | None, c: Mapping[str, torch.Tensor], plan: FKPlan
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Call a (compiled) program on batch-first inputs; the outputs of :func:`.fk.forward_kinematics`.

    Args:
        program: ``build_program(plan, scaled=s is not None, lookups)``, usually each half compiled, or that
            program as one kernel (:class:`.native.NativeProgram`).
        q: (..., n_independent); s: (..., n_bodies, 3) or ``None``; same leading shape.
        c: the plan's tensors (for the axis values, computed by the batched code).

    Returns:
        ``T`` (..., NB, 4, 4), ``joint_centers`` (..., NJ, 3), ``markers`` (..., M, 3): views of batch-last
        storage, as the batched path returns them.
    """
    lead = q.shape[:-1]
    if getattr(program, "batch_first", False):  # one C++ kernel (:class:`.native.NativeProgram`)
        t_rows, p_rows = program(q.reshape(-1, q.shape[-1]), None if s is None else s.reshape(-1, 3 * s.shape[-2]))
    else:
        s_rows = None if s is None else s.reshape(-1, *s.shape[-2:]).permute(1, 2, 0).contiguous()
        first, second = program
        q_rows = q.reshape(-1, q.shape[-1]).t()
        if _takes_coordinates(first):
            inputs = q_rows.contiguous()
        else:
            inputs = fkmath.axis_values(q_rows, s_rows, c, plan)
        extra = () if s_rows is None else (s_rows,)
        t_rows, p_rows = second(first(inputs, *extra), *extra)
    n = t_rows.shape[-1]
    transforms = t_rows.view(plan.n_bodies, 4, 4, n)
    markers, centres = p_rows.view(plan.n_points, 3, n).split([plan.n_markers, plan.n_points - plan.n_markers])

    def out(x: torch.Tensor) -> torch.Tensor:  # (K, ..., N) -> (*lead, K, ...)
        return x.movedim(-1, 0).reshape(*lead, *x.shape[:-1])

    return out(transforms), out(centres), out(markers)


def _takes_coordinates(part) -> bool:
    gm = getattr(part, "_orig_mod", part)  # torch.compile keeps the wrapped module here
    return next(iter(gm.graph.nodes)).name == "q_rows"
