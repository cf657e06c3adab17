"""OpenSim's one-argument functions as piecewise polynomials, evaluated in batched torch.

Every function this package supports (``Constant``, ``LinearFunction``, ``PolynomialFunction``,
``SimmSpline`` / ``NaturalCubicSpline``, ``PiecewiseLinearFunction``, ``MultiplierFunction`` of any of these) is
the same object here: sorted breakpoints ``x_0 < ... < x_{n-1}`` cut the real line into ``n + 1`` intervals,
and on interval ``k`` the value is a polynomial in ``dx = x - o_k`` with coefficients ``c_k0 + c_k1 dx + ...``.

- ``SimmSpline`` (and OpenSim's ``NaturalCubicSpline``, which OpenSim 4.x reads as a ``SimmSpline``) is the
  Forsythe-Malcolm-Moler cubic spline: its end conditions match the third derivative at each end to that of
  the cubic through the first (last) four knots; with 3 knots the tridiagonal system is solved with zero end
  terms and with 2 knots it is the straight line. Inside ``[x_0, x_{n-1}]`` the value on
  ``[x_k, x_{k+1}]`` is ``y_k + dx (b_k + dx (c_k + dx d_k))``, ``dx = x - x_k``; outside, it continues as the
  straight line through the end point with the end slope ``b_0`` or ``b_{n-1}``, exactly as OpenSim evaluates
  it. The derivative is therefore finite everywhere (no clamping, no division at evaluation time).
- ``PiecewiseLinearFunction`` is linear between knots and extrapolated with the first (last) segment's slope.
- ``PolynomialFunction`` (coefficients from the highest order down) is one global interval.
- ``MultiplierFunction`` multiplies the coefficients of the function it wraps by its scale.

:class:`PiecewisePolynomialTable` packs many such functions, padded to common sizes, so that one call evaluates
all of them on a batch: ``values[..., i] = f_i(x[..., i])``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

#: OpenSim clamps spline knot spacings below this value to it (avoids a division by zero).
_TINY = 1.0e-20


@dataclass(frozen=True)
class PiecewisePolynomial:
    """One real function of one variable, as interval-wise polynomials.

    Attributes:
        breaks: (n,) sorted breakpoints; ``n = 0`` means a single global polynomial.
        origins: (n + 1,) the origin ``o_k`` of each interval's local variable ``dx = x - o_k``.
        coefficients: (n + 1, D + 1) coefficients of ``dx**0 ... dx**D`` on each interval.
        kind: the OpenSim function it came from (for messages and reports).
    """

    breaks: np.ndarray
    origins: np.ndarray
    coefficients: np.ndarray
    kind: str = ""

    @property
    def degree(self) -> int:
        return self.coefficients.shape[1] - 1

    @property
    def is_constant(self) -> bool:
        return bool(np.all(self.coefficients[:, 1:] == 0.0)) and np.unique(self.coefficients[:, 0]).size == 1

    def scaled(self, factor: float) -> "PiecewisePolynomial":
        """``factor * f`` (what a ``MultiplierFunction`` does)."""
        return PiecewisePolynomial(self.breaks, self.origins, self.coefficients * factor, self.kind)

    def __call__(self, x: np.ndarray | float) -> np.ndarray:
        """Evaluate in numpy (float64); the reference for the batched torch evaluator."""
        x = np.asarray(x, dtype=np.float64)
        k = np.searchsorted(self.breaks, x, side="right")
        dx = x - self.origins[k]
        coef = self.coefficients[k]
        out = coef[..., -1]
        for j in range(self.degree - 1, -1, -1):
            out = out * dx + coef[..., j]
        return out


def constant(value: float) -> PiecewisePolynomial:
    return PiecewisePolynomial(np.zeros(0), np.zeros(1), np.array([[float(value)]]), "Constant")


def linear(slope: float, intercept: float) -> PiecewisePolynomial:
    return PiecewisePolynomial(np.zeros(0), np.zeros(1), np.array([[float(intercept), float(slope)]]), "LinearFunction")


def polynomial(coefficients_high_to_low: Sequence[float]) -> PiecewisePolynomial:
    """OpenSim ``PolynomialFunction``: ``coefficients`` from the highest order down to the constant term."""
    c = np.asarray(coefficients_high_to_low, dtype=np.float64)[::-1].copy()
    if c.size == 0:
        c = np.zeros(1)
    return PiecewisePolynomial(np.zeros(0), np.zeros(1), c[None, :], "PolynomialFunction")


def _check_knots(x: np.ndarray, y: np.ndarray, kind: str) -> None:
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"{kind}: x and y must be 1-D of equal length, got {x.shape} and {y.shape}")
    if x.size < 2:
        raise ValueError(f"{kind}: needs at least 2 points, got {x.size}")
    if np.any(np.diff(x) <= 0):
        raise ValueError(f"{kind}: x must be strictly increasing, got {x.tolist()}")


def fmm_spline_coefficients(x: Sequence[float], y: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients ``b, c, d`` (each (n,)) of OpenSim's ``SimmSpline`` through the knots ``(x, y)``.

    The cubic on ``[x_k, x_{k+1}]`` is ``y_k + b_k dx + c_k dx^2 + d_k dx^3``; ``b[n-1]`` is the slope at the
    last knot (used to extrapolate). Forsythe, Malcolm & Moler (1977), *Computer Methods for Mathematical
    Computations*, routine SPLINE: a tridiagonal system for the second-derivative terms whose end rows equate
    the end third derivatives to those of the interpolating cubics through the four end knots.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    _check_knots(x, y, "SimmSpline")
    n = x.size
    h = np.maximum(_TINY, np.diff(x))  # interval widths, (n-1,)
    slope = np.diff(y) / h  # divided differences, (n-1,)
    if n == 2:
        return np.full(2, slope[0]), np.zeros(2), np.zeros(2)

    # Tridiagonal system  diag[i] s_i + h[i] s_{i+1} + h[i-1] s_{i-1} = rhs[i]  in the unknowns s (n,),
    # where s is one third of each knot's curvature term (c_k = 3 s_k below).
    diag = np.empty(n)
    rhs = np.empty(n)
    diag[1:-1] = 2.0 * (h[:-1] + h[1:])
    rhs[1:-1] = slope[1:] - slope[:-1]
    diag[0] = -h[0]
    diag[-1] = -h[-1]
    rhs[0] = rhs[-1] = 0.0
    if n > 3:
        # Third divided differences through the first and last four knots.
        left = rhs[2] / max(_TINY, x[3] - x[1]) - rhs[1] / max(_TINY, x[2] - x[0])
        right = rhs[-2] / max(_TINY, x[-1] - x[-3]) - rhs[-3] / max(_TINY, x[-2] - x[-4])
        rhs[0] = left * h[0] ** 2 / max(_TINY, x[3] - x[0])
        rhs[-1] = -right * h[-1] ** 2 / max(_TINY, x[-1] - x[-4])
    # Thomas algorithm; the super-diagonal of row i is h[i], the sub-diagonal of row i+1 is h[i] too.
    for i in range(1, n):
        ratio = h[i - 1] / diag[i - 1]
        diag[i] -= ratio * h[i - 1]
        rhs[i] -= ratio * rhs[i - 1]
    s = np.empty(n)
    s[-1] = rhs[-1] / diag[-1]
    for i in range(n - 2, -1, -1):
        s[i] = (rhs[i] - h[i] * s[i + 1]) / diag[i]

    b = np.empty(n)
    c = np.empty(n)
    d = np.empty(n)
    b[:-1] = slope - h * (s[1:] + 2.0 * s[:-1])
    b[-1] = slope[-1] + h[-1] * (s[-2] + 2.0 * s[-1])
    d[:-1] = (s[1:] - s[:-1]) / h
    d[-1] = d[-2]
    c[:] = 3.0 * s
    return b, c, d


def simm_spline(x: Sequence[float], y: Sequence[float]) -> PiecewisePolynomial:
    """OpenSim ``SimmSpline`` / ``NaturalCubicSpline`` through ``(x, y)``, with OpenSim's linear extrapolation."""
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    b, c, d = fmm_spline_coefficients(xa, ya)
    n = xa.size
    coef = np.zeros((n + 1, 4))
    coef[0, :2] = (ya[0], b[0])  # below the first knot: tangent line at x_0
    coef[1:n, 0] = ya[:-1]
    coef[1:n, 1] = b[:-1]
    coef[1:n, 2] = c[:-1]
    coef[1:n, 3] = d[:-1]
    coef[n, :2] = (ya[-1], b[-1])  # from the last knot on: tangent line at x_{n-1}
    origins = np.concatenate([xa[:1], xa])  # interval 0 uses x_0, interval k >= 1 uses x_{k-1}
    return PiecewisePolynomial(xa.copy(), origins, coef, "SimmSpline")


def piecewise_linear(x: Sequence[float], y: Sequence[float]) -> PiecewisePolynomial:
    """OpenSim ``PiecewiseLinearFunction``, extrapolated with the end segments' slopes."""
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    _check_knots(xa, ya, "PiecewiseLinearFunction")
    n = xa.size
    slopes = np.diff(ya) / np.diff(xa)
    coef = np.zeros((n + 1, 2))
    coef[0] = (ya[0], slopes[0])
    coef[1:n, 0] = ya[:-1]
    coef[1:n, 1] = slopes
    coef[n] = (ya[-1], slopes[-1])
    origins = np.concatenate([xa[:1], xa])
    return PiecewisePolynomial(xa.copy(), origins, coef, "PiecewiseLinearFunction")


class PiecewisePolynomialTable:
    """Many :class:`PiecewisePolynomial` padded into dense arrays for one batched evaluation.

    Attributes (numpy, float64; :meth:`tensors` gives them as torch tensors):
        breaks: (F, K) breakpoints, padded with ``+inf`` (so padding is never selected).
        origins: (F, K + 1) interval origins.
        coefficients: (F, K + 1, D + 1) coefficients, padded with zeros.
    """

    def __init__(self, functions: Sequence[PiecewisePolynomial]):
        self.functions = tuple(functions)
        nf = len(self.functions)
        k = max([f.breaks.size for f in self.functions], default=0)
        deg = max([f.degree for f in self.functions], default=0)
        self.breaks = np.full((nf, k), np.inf)
        self.origins = np.zeros((nf, k + 1))
        self.coefficients = np.zeros((nf, k + 1, deg + 1))
        for i, f in enumerate(self.functions):
            n = f.breaks.size
            self.breaks[i, :n] = f.breaks
            self.origins[i, : n + 1] = f.origins
            self.coefficients[i, : n + 1, : f.degree + 1] = f.coefficients

    def __len__(self) -> int:
        return len(self.functions)

    def tensors(self, dtype: torch.dtype = torch.float64) -> dict[str, torch.Tensor]:
        """The packed arrays as tensors; breaks stay float64 so interval selection is dtype-independent."""
        return {
            "breaks": torch.as_tensor(self.breaks, dtype=torch.float64),
            "origins": torch.as_tensor(self.origins, dtype=dtype),
            "coefficients": torch.as_tensor(self.coefficients, dtype=dtype),
        }


def interval_index(x: torch.Tensor, breaks: torch.Tensor) -> torch.Tensor:
    """(F, N) arguments, (F, K) sorted breakpoints padded with ``+inf`` -> (F, N) interval indices in ``0..K``.

    The search runs on detached float64 values, so the chosen interval does not depend on the dtype."""
    if breaks.shape[1] == 0:
        return torch.zeros(x.shape, dtype=torch.long, device=x.device)
    return torch.searchsorted(breaks, x.detach().to(breaks.dtype).contiguous(), right=True)


def interval_table(origins: torch.Tensor, coefficients: torch.Tensor) -> torch.Tensor:
    """(F, K + 1) origins and (F, K + 1, D + 1) coefficients -> (F, D + 2, K + 1): ``[origin, c_0 .. c_D]`` rows,
    the layout :func:`evaluate_intervals` gathers from in one operation."""
    return torch.cat([origins[:, None, :], coefficients.transpose(1, 2)], dim=1).contiguous()


def evaluate_intervals(x: torch.Tensor, k: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """``out[i, n] = f_i(x[i, n])`` on known intervals ``k`` (from :func:`interval_index`).

    Args:
        x: (F, N) arguments; k: (F, N) interval indices; table: (F, D + 2, K + 1) from :func:`interval_table`.

    Returns:
        (F, N) values (Horner's scheme in ``dx = x - origin``), differentiable in ``x``.
    """
    sel = torch.gather(table, 2, k[:, None, :].expand(-1, table.shape[1], -1))  # (F, D + 2, N)
    dx = x - sel[:, 0]
    out = sel[:, -1]
    for j in range(table.shape[1] - 3, -1, -1):
        out = torch.addcmul(sel[:, 1 + j], out, dx)
    return out


def evaluate_piecewise_rows(
    x: torch.Tensor, breaks: torch.Tensor, origins: torch.Tensor, coefficients: torch.Tensor
) -> torch.Tensor:
    """Evaluate F packed piecewise polynomials on rows: ``out[i, n] = f_i(x[i, n])``.

    Batch-last layout (``x`` is (F, N)) so that every operation runs over contiguous batch rows.

    Args:
        x: (F, N) arguments.
        breaks: (F, K) sorted breakpoints padded with ``+inf``.
        origins: (F, K + 1) interval origins.
        coefficients: (F, K + 1, D + 1) interval coefficients (lowest order first).

    Returns:
        (F, N) values, differentiable in ``x`` (the interval index is piecewise constant).
    """
    if x.shape[0] == 0:
        return x
    return evaluate_intervals(x, interval_index(x, breaks), interval_table(origins, coefficients))


def evaluate_piecewise(
    x: torch.Tensor, breaks: torch.Tensor, origins: torch.Tensor, coefficients: torch.Tensor
) -> torch.Tensor:
    """Evaluate F packed piecewise polynomials, each on its own input column.

    Args:
        x: (..., F) arguments, ``x[..., i]`` for function ``i``.
        breaks: (F, K) sorted breakpoints padded with ``+inf`` (any floating dtype).
        origins: (F, K + 1) interval origins.
        coefficients: (F, K + 1, D + 1) interval coefficients (lowest order first).

    Returns:
        (..., F) values, differentiable in ``x``.
    """
    nf = x.shape[-1]
    rows = x.reshape(-1, nf).t()
    return evaluate_piecewise_rows(rows, breaks, origins, coefficients).t().reshape(x.shape)
