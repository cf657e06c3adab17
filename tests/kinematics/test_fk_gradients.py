"""Gradients of the FK layer: ``torch.autograd.gradcheck`` (float64) in q and s, finite gradients at
range limits and at zero angles, dtype and device handling."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from opensim_reference import PROJECT_DIR

from biopose_opensim.kinematics import OsimFK, random_poses

DEFAULT = PROJECT_DIR / "osim_models" / "RajagopalLaiUhlrich2023.osim"


@pytest.fixture(scope="module")
def fk64():
    return OsimFK.from_osim(DEFAULT, dtype=torch.float64)


def _outputs(fk, q, s):
    r = fk(q, s)
    return r.markers, r.joint_centers, r.body_transforms


def test_gradcheck_q_and_s(fk64):
    q = torch.tensor(random_poses(fk64, 2, np.random.default_rng(0)), requires_grad=True)
    s = torch.tensor(np.random.default_rng(1).uniform(0.8, 1.2, (2, fk64.n_bodies, 3)), requires_grad=True)
    assert torch.autograd.gradcheck(lambda q, s: _outputs(fk64, q, s), (q, s), eps=1e-6, atol=1e-6, rtol=1e-5)


def test_gradcheck_at_range_limits_and_zero(fk64):
    lo, hi = fk64.coordinate_ranges.unbind(-1)
    zero = torch.zeros(fk64.n_coordinates, dtype=torch.float64)
    for q0 in (lo, hi, zero):
        # Exactly at the limits (where the knee splines end) and at zero: the central differences straddle the
        # end knots, which works because OpenSim's extrapolation continues each spline with its end slope.
        q = q0.clone().unsqueeze(0).requires_grad_(True)
        assert torch.autograd.gradcheck(lambda q: fk64(q).markers, (q,), eps=1e-6, atol=1e-6, rtol=1e-5)


def test_gradients_finite_exactly_at_limits_and_zero(fk64):
    lo, hi = fk64.coordinate_ranges.unbind(-1)
    q = torch.stack([lo, hi, torch.zeros_like(lo)]).requires_grad_(True)
    s = torch.ones(3, fk64.n_bodies, 3, dtype=torch.float64, requires_grad=True)
    res = fk64(q, s)
    loss = res.markers.square().sum() + res.joint_centers.square().sum() + res.body_transforms.square().sum()
    gq, gs = torch.autograd.grad(loss, (q, s))
    assert torch.isfinite(gq).all() and torch.isfinite(gs).all()
    # every coordinate moves something (no dead inputs), except those only moving nothing at these poses
    assert (gq.abs().sum(0) > 0).sum() >= fk64.n_coordinates - 2


def test_knee_gradient_flows_through_the_coupled_patella(fk64):
    """knee_angle_r drives the patella through the coupler (knee_angle_r_beta): d(patella)/d(knee) != 0."""
    q = torch.tensor(random_poses(fk64, 1, np.random.default_rng(3)), requires_grad=True)
    patella = fk64.body_names.index("patella_r")
    (g,) = torch.autograd.grad(fk64(q).body_origins[0, patella].sum(), q)
    assert g[0, fk64.coordinate_names.index("knee_angle_r")].abs() > 1e-4


def test_float32_close_to_float64_and_to_converts(fk64):
    fk32 = OsimFK.from_osim(DEFAULT, dtype=torch.float32)
    q = torch.tensor(random_poses(fk64, 16, np.random.default_rng(4)))
    a = fk64(q).markers
    b = fk32(q.float()).markers
    assert b.dtype == torch.float32
    assert (a - b.double()).norm(dim=-1).max() < 1e-4
    again = fk32.to(torch.float64)(q).markers
    assert again.dtype == torch.float64 and torch.allclose(again, a, atol=1e-6, rtol=0)
    fk32.to(torch.float32)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_matches_cpu(fk64):
    fk = OsimFK.from_osim(DEFAULT, dtype=torch.float64).to("cuda")
    q = torch.tensor(random_poses(fk64, 64, np.random.default_rng(5)))
    s = torch.tensor(np.random.default_rng(6).uniform(0.8, 1.2, (64, fk64.n_bodies, 3)))
    cpu = fk64(q, s)
    gpu = fk(q.cuda(), s.cuda())
    assert gpu.markers.device.type == "cuda"
    assert torch.allclose(gpu.markers.cpu(), cpu.markers, atol=1e-9, rtol=0)
