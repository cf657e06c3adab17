"""Gradients of the FK layer: ``torch.autograd.gradcheck`` (float64) in q and s, finite gradients at
range limits and at zero angles, dtype handling (CUDA: ``test_fk_cuda.py``)."""
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


#: Bodies whose scale factors move nothing: no marker on them and no joint below them (s scales the offsets of
#: the frames and markers a body carries).
SCALE_INERT_BODIES = {"patella_r", "patella_l", "toes_r", "toes_l", "hand_r", "hand_l"}


def test_gradients_finite_exactly_at_limits_and_zero(fk64):
    """At the range limits and at zero, a random weighting of every output (markers, joint centres, transforms)
    has a finite gradient in every coordinate and every scale factor; every coordinate's is nonzero at each pose
    (measured min 0.016), and the scale gradient is exactly zero for the bodies in SCALE_INERT_BODIES only
    (measured min 2.4e-4 elsewhere); thresholds 1e-3 and 1e-5."""
    lo, hi = fk64.coordinate_ranges.unbind(-1)
    q = torch.stack([lo, hi, torch.zeros_like(lo)]).requires_grad_(True)
    s = torch.ones(3, fk64.n_bodies, 3, dtype=torch.float64, requires_grad=True)
    res = fk64(q, s)
    rng = np.random.default_rng(7)
    outputs = (res.markers, res.joint_centers, res.body_transforms)
    loss = sum((o * torch.tensor(rng.normal(size=o.shape))).sum() for o in outputs)
    gq, gs = torch.autograd.grad(loss, (q, s))
    assert torch.isfinite(gq).all() and torch.isfinite(gs).all()
    weakest = gq.abs().min(dim=0).values  # (n_coords,) smallest over the three poses
    dead = [n for n, g in zip(fk64.coordinate_names, weakest.tolist()) if g < 1e-3]
    assert not dead, f"coordinates without gradient at a limit or at zero: {dead}"
    # The inert bodies, read from the tree: no marker and no joint whose parent frame sits on them.
    carriers = {j.parent_frame.body for j in fk64.tree.joints} | {m.body for m in fk64.tree.markers}
    assert {fk64.body_names[b] for b in range(fk64.n_bodies) if b not in carriers} == SCALE_INERT_BODIES
    per_body = gs.abs().amax(dim=-1).min(dim=0).values  # (n_bodies,) weakest factor, weakest pose
    zero = {n for n, g in zip(fk64.body_names, per_body.tolist()) if g == 0.0}
    assert zero == SCALE_INERT_BODIES
    assert all(g > 1e-5 for n, g in zip(fk64.body_names, gs.abs().amin(dim=(0, 2)).tolist())
               if n not in SCALE_INERT_BODIES)


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
    # back to float32: the constants round-trip exactly, so the results are those of the float32 layer
    back = fk32.to(torch.float32)(q.float()).markers
    assert back.dtype == torch.float32 and torch.equal(back, b)
