"""Scaled models: the layer given per-body factors ``s`` versus the model scaled by OpenSim's ModelScaler.

OpenSim side: ``ModelScaler`` (the ScaleTool's scaling step) with scaling order ``manualScale`` and one
``Scale`` per body holding random factors in [0.8, 1.2] per axis; the scaled model is printed, reloaded and
posed as in ``test_fk_parity.py``. Layer side: the *generic* model's layer called with the same factors.
Tolerance: 1e-6 m (float64) on every marker, body origin and joint centre, 100 poses per model.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from opensim_reference import (
    PARITY_MODELS,
    PROJECT_DIR,
    load_opensim_model,
    opensim_poses,
    scale_with_model_scaler,
)
from synthetic_model import build_synthetic_model

from biopose_opensim.kinematics import OsimFK, random_poses

N_POSES = 100
MODELS = {**PARITY_MODELS, "synthetic": (None, None)}


def _err(a, b) -> float:
    return float(np.linalg.norm(a - b, axis=-1).max())


@pytest.fixture(scope="module")
def scaled_cases(tmp_path_factory):
    """name -> (generic path, marker set, factors, OpenSim-scaled model path)."""
    d = tmp_path_factory.mktemp("scaled")
    out = {}
    for i, (name, (model, markers)) in enumerate(MODELS.items()):
        path = build_synthetic_model(d / "synthetic.osim") if model is None else PROJECT_DIR / model
        marker_set = PROJECT_DIR / markers if markers else None
        fk = OsimFK.from_osim(path, dtype=torch.float64, marker_set=marker_set)
        s = np.random.default_rng(100 + i).uniform(0.8, 1.2, size=(fk.n_bodies, 3))
        if name == "synthetic":
            # b9's coordinate is translational and coupled: OpenSim scales that coupler by its joint parent's
            # factor and refuses non-uniform factors there, so b8 (that parent) gets one factor on all axes.
            s[fk.body_names.index("b8")] = 1.13
        model_obj = load_opensim_model(path, marker_set)
        scaled = scale_with_model_scaler(model_obj, fk.body_names, s, d / f"{name}_scaled.osim")
        out[name] = (fk, s, scaled, model_obj)
    return out


@pytest.mark.parametrize("name", list(MODELS))
def test_scaled_parity_with_model_scaler(name, scaled_cases):
    fk, s, scaled_path, _ = scaled_cases[name]
    q = random_poses(fk, N_POSES, np.random.default_rng(5))
    ref = opensim_poses(load_opensim_model(scaled_path), q, fk.coordinate_names, fk.dependent_coordinate_names)
    res = fk(torch.tensor(q), torch.tensor(s))
    err = {
        "markers": _err(res.markers.numpy(), ref.markers),
        "bodies": _err(res.body_origins.numpy(), ref.body_origins),
        "joint_centers": _err(res.joint_centers.numpy(), ref.joint_centers),
    }
    print(f"\n{name} scaled by ModelScaler: {N_POSES} poses, float64 max error {err}")
    assert max(err.values()) < 1e-6, err

    # The scaled .osim that OpenSim wrote (MultiplierFunctions around scaled translation functions) read back
    # by the layer without s gives the same answer.
    fk_scaled = OsimFK.from_osim(scaled_path, dtype=torch.float64)
    assert _err(fk_scaled(torch.tensor(q)).markers.numpy(), ref.markers) < 1e-6


def test_translation_function_scaling_is_needed(scaled_cases):
    """Sensitivity check: without scaling the joint translation functions by the parent body's factors (what
    CustomJoint scaling does), the scaled Rajagopal knee is off by more than 0.1 mm, so the test above would
    catch a layer that scaled only the frames and markers."""
    fk, s, scaled_path, _ = scaled_cases["RajagopalLaiUhlrich2023"]
    q = random_poses(fk, 20, np.random.default_rng(6))
    ref = opensim_poses(load_opensim_model(scaled_path), q, fk.coordinate_names, fk.dependent_coordinate_names)
    fk.trans_scaled.zero_()
    try:
        wrong = fk(torch.tensor(q), torch.tensor(s))
    finally:
        fk.trans_scaled.copy_(torch.as_tensor(fk.plan.arrays["trans_scaled"]))
    assert _err(wrong.markers.numpy(), ref.markers) > 1e-4


def test_unit_factors_equal_the_generic_model(scaled_cases):
    fk = scaled_cases["RajagopalLaiUhlrich2023"][0]
    q = torch.tensor(random_poses(fk, 10, np.random.default_rng(8)))
    a = fk(q).markers
    b = fk(q, torch.ones(fk.n_bodies, 3, dtype=torch.float64)).markers
    assert torch.allclose(a, b, atol=1e-12, rtol=0)


def test_scale_broadcasts_over_batch(scaled_cases):
    fk, s, _, _ = scaled_cases["Rajagopal2016"]
    q = torch.tensor(random_poses(fk, 6, np.random.default_rng(9))).reshape(2, 3, -1)
    st = torch.tensor(s)
    per_row = fk(q, st.expand(2, 3, -1, -1)).markers
    shared = fk(q, st).markers
    assert torch.allclose(per_row, shared, atol=1e-12, rtol=0)
