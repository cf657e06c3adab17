"""The piecewise-polynomial functions against OpenSim's own Function objects (tolerance 1e-12)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from biopose_opensim.kinematics import functions as fn
from biopose_opensim.osim import import_opensim

TOL = 1e-12


def _osim_values(f, xs) -> np.ndarray:
    osim = import_opensim()
    return np.array([f.calcValue(osim.Vector(1, float(x))) for x in xs])


@pytest.mark.parametrize("n", [2, 3, 4, 5, 8, 21])
def test_simm_spline_matches_opensim_inside_and_outside_the_knots(n):
    osim = import_opensim()
    rng = np.random.default_rng(n)
    worst = 0.0
    for _ in range(4):
        x = np.sort(rng.uniform(-2.0, 2.0, n))
        x[1:] = np.maximum(x[1:], x[:-1] + 1e-3)  # strictly increasing
        y = rng.normal(size=n)
        ref = osim.SimmSpline()
        for a, b in zip(x, y):
            ref.addPoint(float(a), float(b))
        f = fn.simm_spline(x, y)
        xs = np.concatenate([rng.uniform(-4.0, 4.0, 300), x, [x[0] - 1.0, x[-1] + 1.0]])
        worst = max(worst, float(np.abs(f(xs) - _osim_values(ref, xs)).max()))
    assert worst < TOL, f"max |SimmSpline - OpenSim| = {worst:.3e}"


def test_piecewise_linear_and_polynomial_match_opensim():
    osim = import_opensim()
    x, y = [-1.0, 0.0, 0.5, 2.0], [0.3, -0.2, 0.9, 0.1]
    pl = osim.PiecewiseLinearFunction()
    for a, b in zip(x, y):
        pl.addPoint(a, b)
    coefs = [0.3, -1.2, 0.05, 2.0, -0.7]
    poly = osim.PolynomialFunction(osim.Vector(coefs))
    xs = np.linspace(-3.0, 4.0, 141)
    assert np.abs(fn.piecewise_linear(x, y)(xs) - _osim_values(pl, xs)).max() < TOL
    assert np.abs(fn.polynomial(coefs)(xs) - _osim_values(poly, xs)).max() < 1e-10


def test_multiplier_scales_the_wrapped_function():
    f = fn.simm_spline([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 0.0, 2.0])
    xs = np.linspace(-1.0, 4.0, 51)
    assert np.allclose(f.scaled(-2.5)(xs), -2.5 * f(xs), rtol=0, atol=TOL)


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_batched_torch_evaluation_equals_numpy(dtype, tol):
    funcs = [
        fn.simm_spline([-1.0, 0.0, 0.3, 1.0, 2.0], [0.1, -0.2, 0.4, 0.0, 0.3]),
        fn.linear(2.0, -0.5),
        fn.polynomial([1.0, 0.0, -2.0, 0.5]),
        fn.piecewise_linear([0.0, 1.0], [1.0, 3.0]),
        fn.constant(0.25),
        fn.simm_spline([0.0, 1.0], [0.0, 1.0]),
    ]
    table = fn.PiecewisePolynomialTable(funcs)
    t = {k: v.to(dtype) for k, v in table.tensors(dtype).items()}
    xs = np.random.default_rng(0).uniform(-3.0, 3.0, size=(7, 5, len(funcs)))
    out = fn.evaluate_piecewise(torch.tensor(xs, dtype=dtype), **t)
    assert out.shape == xs.shape
    ref = np.stack([f(xs[..., i]) for i, f in enumerate(funcs)], axis=-1)
    assert np.abs(out.double().numpy() - ref).max() < tol


def test_spline_gradient_is_finite_and_continuous_at_the_end_knots():
    f = fn.simm_spline([0.0, 0.5, 1.2, 2.0], [0.0, 0.3, -0.1, 0.4])
    table = fn.PiecewisePolynomialTable([f])
    t = table.tensors(torch.float64)
    eps = 1e-7
    for knot in (0.0, 2.0):
        x = torch.tensor([[knot - eps], [knot], [knot + eps]], dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(fn.evaluate_piecewise(x, **t).sum(), x)
        assert torch.isfinite(g).all()
        # OpenSim extrapolates with the end slope, so the derivative is continuous across the end knot.
        assert (g.max() - g.min()).item() < 1e-5


def test_knots_must_increase():
    with pytest.raises(ValueError, match="strictly increasing"):
        fn.simm_spline([0.0, 0.0, 1.0], [1.0, 2.0, 3.0])
