"""The unrolled per-frame program (:mod:`.unrolled`) as one C++ kernel, for CPU inference.

``torch.compile`` turns the program's two graphs into hundreds of separate loops over the batch (one per stacked
output row, a few dozen for the world transforms), each streaming its operands through memory, and its C++
wrapper spends most of a millisecond per call making a tensor for every output row. The kernel written here
runs the whole program, both graphs, on ``Vectorized::size()`` frames at a time (8 float32 / 4 float64 lanes
with AVX2), intermediate values in registers or on the stack. Frames go in tiles (64 float32 / 32 float64):
a tile's inputs are transposed into rows, its output rows are written into a thread-local buffer and then copied
out whole (each row of the outputs gets whole cache lines at a time), and the output rows are padded apart so
that they are not a multiple of 1 KiB apart (with N = 4096 they would otherwise share cache sets). Tiles are
shared among OpenMP threads (``torch.get_num_threads()``). The arithmetic is the program's, operation for
operation, with ATen's vector types (``at::vec``; sine and cosine by SLEEF, as inductor's kernels do).

Layout: inputs batch-first, as the layer gets them, ``q`` (N, n_coordinates) and ``s`` (N, n_bodies * 3)
(transposed a tile at a time inside the kernel); outputs batch-last, as :func:`.unrolled.run_program` returns
them as views, ``(n_bodies * 16, N)`` and ``(3 * n_points, N)``.

The kernel is compiled with inductor's C++ toolchain (:class:`torch._inductor.codecache.CppCodeCache`: the same
compiler, flags and on-disk cache) and called through ``ctypes``.
"""
from __future__ import annotations

import ctypes
import logging
import math
import operator
from dataclasses import dataclass

import torch
from torch import fx

log = logging.getLogger(__name__)

DTYPES = {torch.float32: "float", torch.float64: "double"}  # dtypes the kernel is written for: their C++ types


class UnsupportedProgram(ValueError):
    """The program holds an operation the C++ emitter does not know (callers fall back to torch.compile)."""


def _literal(value: float, ctype: str) -> str:
    if math.isnan(value):
        return f"std::numeric_limits<{ctype}>::quiet_NaN()"
    if math.isinf(value):
        return ("-" if value < 0 else "") + f"std::numeric_limits<{ctype}>::infinity()"
    return f"static_cast<{ctype}>({float(value)!r})"


class _Emitter:
    """C++ statements for fx nodes; every value a ``V`` (one vector of frames)."""

    def __init__(self, ctype: str) -> None:
        self.ctype = ctype
        self.lines: list[str] = []
        self.names: dict[fx.Node, str] = {}
        self.consts: dict[float | str, str] = {}
        self.count = 0

    def const(self, value: float) -> str:
        key = float(value)
        if math.isnan(key):
            key = "nan"  # NaN != NaN: one name for all of them
        if key not in self.consts:
            name = f"c{len(self.consts)}"
            self.consts[key] = name
            self.lines.append(f"const V {name}({_literal(float(value), self.ctype)});")
        return self.consts[key]

    def arg(self, a) -> str:
        if isinstance(a, fx.Node):
            return self.names[a]
        if isinstance(a, (bool, int, float)):
            return self.const(float(a))
        raise UnsupportedProgram(f"argument {a!r}")

    def define(self, node: fx.Node, expr: str) -> None:
        name = f"v{self.count}"
        self.count += 1
        self.lines.append(f"const V {name} = {expr};")
        self.names[node] = name

    def emit_graph(self, gm: fx.GraphModule, inputs: dict):
        """Emit the nodes of ``gm``; ``inputs`` maps a placeholder name to a function of a row index giving the
        C++ name of that row. Returns the output node's argument with nodes replaced by their C++ names."""
        placeholders: dict[fx.Node, str] = {}
        for node in gm.graph.nodes:
            if node.op == "placeholder":
                placeholders[node] = node.name
                continue
            if node.op == "output":
                return _map(node.args[0], lambda n: self.names[n])
            if node.op != "call_function":
                raise UnsupportedProgram(f"node {node.format_node()}")
            fn, args, kwargs = node.target, node.args, node.kwargs
            if fn is operator.getitem and args[0] in placeholders:
                src = placeholders[args[0]]
                index = args[1]
                if isinstance(index, tuple):  # s_rows[body, k]
                    index = 3 * index[0] + index[1]
                self.names[node] = inputs[src](int(index))
            elif fn is operator.add or (fn is torch.add and not kwargs):
                self.define(node, f"{self.arg(args[0])} + {self.arg(args[1])}")
            elif fn is torch.add:
                self.define(node, f"{self.arg(args[0])} + {self.arg(args[1])} * {self.arg(kwargs['alpha'])}")
            elif fn is operator.sub:
                self.define(node, f"{self.arg(args[0])} - {self.arg(args[1])}")
            elif fn is operator.mul:
                self.define(node, f"{self.arg(args[0])} * {self.arg(args[1])}")
            elif fn is operator.ge:
                self.define(node, f"{self.arg(args[0])} >= {self.arg(args[1])}")
            elif fn is torch.where:
                mask, yes, no = (self.arg(a) for a in args)
                self.define(node, f"V::blendv({no}, {yes}, {mask})")
            elif fn is torch.full_like:
                self.names[node] = self.const(float(args[1]))
            elif fn is torch.cos:
                self.define(node, f"{self.arg(args[0])}.cos()")
            elif fn is torch.sin:
                self.define(node, f"{self.arg(args[0])}.sin()")
            elif fn is torch.stack:
                self.names[node] = node.name  # only ever an output
                node.meta["rows"] = [self.arg(a) for a in args[0]]
            else:
                raise UnsupportedProgram(f"operation {node.format_node()}")
        raise UnsupportedProgram("graph without output")


def _map(x, fn):
    if isinstance(x, (tuple, list)):
        return type(x)(_map(v, fn) for v in x)
    return fn(x) if isinstance(x, fx.Node) else x


def _stack_rows(gm: fx.GraphModule, out) -> list[str]:
    for node in gm.graph.nodes:
        if node.op == "call_function" and node.target is torch.stack and node.name == out:
            return node.meta["rows"]
    raise UnsupportedProgram("outputs are not stacked rows")


@dataclass(frozen=True)
class KernelSource:
    """C++ source of one program and its interface."""

    source: str
    n_inputs: int
    n_scales: int
    n_t_rows: int
    n_p_rows: int


def program_source(program, dtype: torch.dtype, n_inputs: int, n_scales: int = 0, tile: int | None = None) -> KernelSource:
    """C++ source of ``program`` (``(first, second)`` from :func:`.unrolled.build_program`, with spline lookups)
    for ``dtype``; ``n_inputs`` coordinates, ``n_scales`` scale factors per frame (3 per body; 0: unscaled);
    ``tile`` frames per tile (default: see below)."""
    first, second = program
    ctype = DTYPES[dtype]
    em = _Emitter(ctype)
    scaled = len([n for n in first.graph.nodes if n.op == "placeholder"]) == 2
    loads: dict[str, str] = {}

    def loader(ptr: str):
        def load(i: int) -> str:
            key = f"{ptr}{i}"
            if key not in loads:
                loads[key] = f"l_{ptr}{i}"
                em.lines.append(f"const V l_{ptr}{i} = load({ptr} + {i} * n);")
            return loads[key]
        return load

    first_name = next(n.name for n in first.graph.nodes if n.op == "placeholder")
    world_out = em.emit_graph(first, {first_name: loader("in"), "s_rows": loader("s")})
    world = _stack_rows(first, world_out.name if isinstance(world_out, fx.Node) else world_out)
    world_ph = next(n.name for n in second.graph.nodes if n.op == "placeholder")
    em.names = {}  # nodes of the second graph
    outs = em.emit_graph(second, {world_ph: lambda i: world[i], "s_rows": loader("s")})
    t_rows = _stack_rows(second, outs[0])
    p_rows = _stack_rows(second, outs[1])
    stores = [f"store({v}, out_t + {i} * m);" for i, v in enumerate(t_rows)]
    stores += [f"store({v}, out_p + {i} * m);" for i, v in enumerate(p_rows)]
    body = "\n    ".join(em.lines + stores)
    n_t, n_p, n_s = len(t_rows), len(p_rows), n_scales
    if scaled != bool(n_s):
        raise ValueError(f"n_scales={n_s} for a{' scaled' if scaled else 'n unscaled'} program")
    if tile is None:  # frames per tile: rows of 256 bytes (the fastest of 64 to 256 measured), tiles <= 512 KiB
        fit = (512 * 1024 // ((n_inputs + n_s + n_t + n_p) * dtype.itemsize)) // 16 * 16
        tile = max(16, min(256 // dtype.itemsize, fit))
    source = f"""
#include <ATen/cpu/vec/vec.h>
#include <ATen/cpu/vec/functional.h>
#include <cstdint>
#include <limits>
#include <omp.h>
using T = {ctype};
using V = at::vec::Vectorized<T>;
constexpr int64_t TILE = {tile};
constexpr int64_t NI = {n_inputs}, NS = {n_s}, NT = {n_t}, NP = {n_p};

static inline void block(const T* __restrict__ in, const T* __restrict__ s, T* __restrict__ out_t,
                         T* __restrict__ out_p) {{
    constexpr int64_t n = TILE, m = TILE;
    auto load = [](const T* p) {{ return V::loadu(p); }};
    auto store = [](const V& v, T* p) {{ v.store(p); }};
    {body}
}}

// A tile of up to TILE frames: its inputs transposed into rows of TILE frames, the program run on TILE /
// V::size() vectors of frames, writing rows of TILE frames into a thread-local buffer (cache- and TLB-friendly),
// then each row copied out whole.
static inline void tile(const T* in, const T* s, T* out_t, T* out_p, int64_t ld, int64_t x, int64_t count) {{
    alignas(64) T buf_in[NI * TILE];
    alignas(64) T buf_s[(NS ? NS : 1) * TILE];
    alignas(64) T buf_t[NT * TILE];
    alignas(64) T buf_p[NP * TILE];
    for (int64_t j = 0; j < TILE; ++j) {{
        const int64_t f = j < count ? x + j : x;  // a short tile repeats its first frame
        for (int64_t k = 0; k < NI; ++k) buf_in[k * TILE + j] = in[f * NI + k];
        if (NS) for (int64_t k = 0; k < NS; ++k) buf_s[k * TILE + j] = s[f * NS + k];
    }}
    for (int64_t j = 0; j < TILE; j += V::size()) block(buf_in + j, buf_s + j, buf_t + j, buf_p + j);
    if (count == TILE) {{
        for (int64_t r = 0; r < NT; ++r)
            for (int64_t j = 0; j < TILE; j += V::size()) V::loadu(buf_t + r * TILE + j).store(out_t + r * ld + x + j);
        for (int64_t r = 0; r < NP; ++r)
            for (int64_t j = 0; j < TILE; j += V::size()) V::loadu(buf_p + r * TILE + j).store(out_p + r * ld + x + j);
    }} else {{
        for (int64_t r = 0; r < NT; ++r) for (int64_t j = 0; j < count; ++j) out_t[r * ld + x + j] = buf_t[r * TILE + j];
        for (int64_t r = 0; r < NP; ++r) for (int64_t j = 0; j < count; ++j) out_p[r * ld + x + j] = buf_p[r * TILE + j];
    }}
}}

// in (n, NI) and s (n, NS) batch-first; out_t (NT, n) and out_p (NP, n) batch-last, rows ld apart.
extern "C" void fk_program(const T* in, const T* s, T* out_t, T* out_p, int64_t n, int64_t ld, int64_t threads) {{
    const int64_t tiles = (n + TILE - 1) / TILE;
    #pragma omp parallel for schedule(static) num_threads(threads) if(threads > 1 && tiles > 1)
    for (int64_t b = 0; b < tiles; ++b) {{
        const int64_t x = b * TILE;
        tile(in, s, out_t, out_p, ld, x, n - x < TILE ? n - x : TILE);
    }}
}}
"""
    return KernelSource(source, n_inputs, n_s, n_t, n_p)


class NativeProgram:
    """A program compiled to one C++ kernel: ``program(q[, s]) -> (T_rows, points)``.

    ``q`` (N, n_inputs) coordinates and ``s`` (N, n_scales) scale factors are batch-first (as the layer gets
    them); ``T_rows`` (n_bodies * 16, N) and ``points`` (3 * n_points, N) are batch-last, as the compiled graphs
    return them (see :mod:`.unrolled`)."""

    batch_first = True  # inputs as given to the layer (see :func:`.unrolled.run_program`)
    takes_coordinates = True

    def __init__(self, program, dtype: torch.dtype, n_inputs: int, n_scales: int = 0) -> None:
        from torch._inductor.codecache import CppCodeCache

        self.kernel = program_source(program, dtype, n_inputs, n_scales)
        self.dtype = dtype
        lib = CppCodeCache.load(self.kernel.source, needs_vec_isa=True)
        self._lib = lib  # keeps the library loaded
        self._fn = lib.fk_program
        self._fn.restype = None
        self._fn.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_int64] * 3

    def __call__(self, q: torch.Tensor, s: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        k = self.kernel
        n = q.shape[0]
        if q.dtype != self.dtype or q.device.type != "cpu" or q.shape[1:] != (k.n_inputs,):
            raise ValueError(f"q must be (N, {k.n_inputs}) {self.dtype} on the CPU, got "
                             f"{tuple(q.shape)} {q.dtype} on {q.device}")
        if bool(k.n_scales) != (s is not None) or (s is not None and tuple(s.shape) != (n, k.n_scales)):
            raise ValueError(f"s must be ({n}, {k.n_scales}) for this program, got "
                             f"{None if s is None else tuple(s.shape)}")
        q = q.contiguous()
        s = None if s is None else s.to(self.dtype).contiguous()
        ld = row_stride(n, self.dtype.itemsize)
        out_t = torch.empty(k.n_t_rows, ld, dtype=self.dtype)[:, :n]
        out_p = torch.empty(k.n_p_rows, ld, dtype=self.dtype)[:, :n]
        if n:
            self._fn(q.data_ptr(), None if s is None else s.data_ptr(), out_t.data_ptr(), out_p.data_ptr(), n, ld,
                     torch.get_num_threads())
        return out_t, out_p


def row_stride(n: int, itemsize: int) -> int:
    """Elements between output rows of ``n`` frames: ``n`` rounded up to 64 bytes, plus 64 bytes where rows
    would otherwise be a multiple of 1 KiB apart (with N = 4096, every row of a tile would fall in the same
    cache sets: the writes of hundreds of rows then evict each other)."""
    line = 64 // itemsize
    ld = -(-n // line) * line
    return ld + line if (ld * itemsize) % 1024 == 0 else ld
