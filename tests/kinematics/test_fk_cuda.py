"""The FK layer on CUDA: values and gradients against the CPU float64 layer.

Runs only where ``torch.cuda.is_available()`` (the one legitimate skip: the CPU machines have no device).
Tolerances (stated; float64 on CUDA computes the same maths in another order, float32 rounds the constants
and the arithmetic): on the default full-body model (RajagopalLaiUhlrich2023) at 64 random poses with random bone
scales, CUDA float64 within 1e-9 m of CPU float64 for markers and joint centres and 1e-9 for transforms, CUDA
float32 within 1e-4 m (the CPU float32 layer's own tolerance, ``test_fk_gradients.py``). Gradients in q and s of a
random weighting of all outputs: CUDA float64 within 1e-8 (relative to the largest entry) of CPU float64; CUDA
float32 within 1e-3 relative. The compiled layer (``compile()``, ``torch.compile`` on CUDA), on the small
synthetic model of ``synthetic_model.py``, runs its program for calls without gradients (``last_path``) and
matches CPU float64 within the float32 value tolerance. The tolerances are bounds from the CPU float32/float64
checks, not yet measured on a device.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from opensim_reference import PROJECT_DIR
from synthetic_model import build_synthetic_model

from biopose_opensim.kinematics import OsimFK, random_poses

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")

DEFAULT = PROJECT_DIR / "osim_models" / "RajagopalLaiUhlrich2023.osim"
N = 64
VALUE_TOL = {torch.float64: 1e-9, torch.float32: 1e-4}
GRAD_RTOL = {torch.float64: 1e-8, torch.float32: 1e-3}


@pytest.fixture(scope="module")
def cpu64():
    return OsimFK.from_osim(DEFAULT, dtype=torch.float64)


@pytest.fixture(scope="module")
def inputs(cpu64):
    rng = np.random.default_rng(21)
    q = torch.tensor(random_poses(cpu64, N, rng))
    s = torch.tensor(rng.uniform(0.8, 1.2, (N, cpu64.n_bodies, 3)))
    return q, s


def _outputs(res):
    return res.markers, res.joint_centers, res.body_transforms


def _max_diff(got, ref) -> float:
    return max(float((g.detach().double().cpu() - r.detach()).abs().max()) for g, r in zip(got, ref))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_cuda_values_match_cpu_float64(cpu64, inputs, dtype):
    q, s = inputs
    fk = OsimFK.from_osim(DEFAULT, dtype=dtype).to("cuda")  # loaded on its own: float64 constants never rounded
    assert fk.default_values.device.type == "cuda" and fk.default_values.dtype == dtype
    with torch.no_grad():
        ref = _outputs(cpu64(q, s))
        got = _outputs(fk(q.to("cuda", dtype), s.to("cuda", dtype)))
        unscaled = _outputs(fk(q.to("cuda", dtype)))
        ref_unscaled = _outputs(cpu64(q))
    assert all(g.device.type == "cuda" and g.dtype == dtype for g in got)
    assert fk.last_path == "batched"
    err, err_unscaled = _max_diff(got, ref), _max_diff(unscaled, ref_unscaled)
    print(f"\nCUDA {dtype} vs CPU float64: max |diff| {err:.2e} (scaled), {err_unscaled:.2e} (unscaled)")
    assert err < VALUE_TOL[dtype] and err_unscaled < VALUE_TOL[dtype]
    # sensitive: other poses differ by centimetres
    assert _max_diff(got, _outputs(cpu64(q.flip(0), s))) > 1e-2


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_cuda_gradients_match_cpu_float64(cpu64, inputs, dtype):
    q, s = inputs
    fk = OsimFK.from_osim(DEFAULT, dtype=dtype).to("cuda")
    rng = np.random.default_rng(22)
    weights = [torch.tensor(rng.normal(size=o.shape)) for o in _outputs(cpu64(q, s))]

    def grads(layer, device, dt):
        qg = q.to(device, dt).requires_grad_(True)
        sg = s.to(device, dt).requires_grad_(True)
        loss = sum((o * w.to(device, dt)).sum() for o, w in zip(_outputs(layer(qg, sg)), weights))
        return [g.double().cpu() for g in torch.autograd.grad(loss, (qg, sg))]

    ref = grads(cpu64, "cpu", torch.float64)
    got = grads(fk, "cuda", dtype)
    for name, g, r in zip(("q", "s"), got, ref):
        assert torch.isfinite(g).all()
        rel = float((g - r).abs().max() / r.abs().max())
        print(f"\nCUDA {dtype} gradient in {name} vs CPU float64: max relative difference {rel:.2e}")
        assert rel < GRAD_RTOL[dtype], name


def test_compiled_layer_on_cuda(tmp_path):
    """The compiled layer on the small synthetic model (quick to compile): its program ran (``last_path``) and
    matches the CPU float64 layer."""
    path = build_synthetic_model(tmp_path / "synthetic.osim")
    ref_fk = OsimFK.from_osim(path, dtype=torch.float64)
    fk = OsimFK.from_osim(path, dtype=torch.float32, compile=True).to("cuda")
    rng = np.random.default_rng(23)
    q = torch.tensor(random_poses(ref_fk, N, rng))
    s = torch.tensor(rng.uniform(0.8, 1.2, (N, ref_fk.n_bodies, 3)))
    with torch.no_grad():
        got = _outputs(fk(q.to("cuda", torch.float32), s.to("cuda", torch.float32)))
        assert fk.last_path == "torch.compile"  # the compiled program ran, not the batched fallback
        ref = _outputs(ref_fk(q, s))
    assert got[0].device.type == "cuda"
    assert _max_diff(got, ref) < VALUE_TOL[torch.float32]
