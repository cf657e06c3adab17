"""Parity of the FK layer with OpenSim itself (in-process, real ``opensim``) at random poses.

OpenSim side (``opensim_reference.opensim_poses``): every independent coordinate is set with
``Coordinate.setValue(state, value, enforceConstraints=False)``, then ``Model.assemble(state)`` solves the
``CoordinateCouplerConstraint``\\ s for the dependent coordinates (assembly accuracy 1e-12), then
``realizePosition``; markers, body origins/rotations and joint child-frame origins are read in ground.
Poses: 200 per model, uniform within each coordinate's range, locked coordinates at their (locked) default.

Tolerances: 1e-6 m (float64 layer) and 1e-4 m (float32 layer) on every marker, body origin and joint centre;
1e-6 on body rotation matrix entries (float64).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from opensim_reference import PARITY_MODELS, PROJECT_DIR, load_opensim_model, opensim_poses
from synthetic_model import build_synthetic_model

from biopose_opensim.kinematics import OsimFK, random_poses

N_POSES = 200
MODELS = PARITY_MODELS


@pytest.fixture(scope="module")
def synthetic_paths(tmp_path_factory):
    d = tmp_path_factory.mktemp("synthetic")
    return {
        "synthetic": build_synthetic_model(d / "synthetic.osim"),
        "synthetic_ncs": build_synthetic_model(d / "synthetic_ncs.osim", natural_cubic_spline=True),
    }


def _paths(name, synthetic_paths):
    if name in synthetic_paths:
        return synthetic_paths[name], None
    model, markers = MODELS[name]
    return PROJECT_DIR / model, (PROJECT_DIR / markers if markers else None)


def _max_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b, axis=-1).max()) if a.size else 0.0


@pytest.mark.parametrize("name", [*MODELS, "synthetic", "synthetic_ncs"])
def test_parity_with_opensim(name, synthetic_paths):
    path, marker_set = _paths(name, synthetic_paths)
    fk64 = OsimFK.from_osim(path, dtype=torch.float64, marker_set=marker_set)
    fk32 = OsimFK.from_osim(path, dtype=torch.float32, marker_set=marker_set)
    q = random_poses(fk64, N_POSES, np.random.default_rng(2024))
    model = load_opensim_model(path, marker_set)
    ref = opensim_poses(model, q, fk64.coordinate_names, fk64.dependent_coordinate_names)

    assert fk64.marker_names == tuple(model.getMarkerSet().get(i).getName() for i in range(model.getMarkerSet().getSize()))
    assert fk64.body_names == tuple(model.getBodySet().get(i).getName() for i in range(model.getBodySet().getSize()))
    assert len(fk64.marker_names) > 0

    res = fk64(torch.tensor(q))
    err = {
        "markers": _max_err(res.markers.numpy(), ref.markers),
        "bodies": _max_err(res.body_origins.numpy(), ref.body_origins),
        "joint_centers": _max_err(res.joint_centers.numpy(), ref.joint_centers),
        "rotations": float(np.abs(res.body_rotations.numpy() - ref.body_rotations).max()),
    }
    res32 = fk32(torch.tensor(q, dtype=torch.float32))
    err32 = {
        "markers": _max_err(res32.markers.double().numpy(), ref.markers),
        "bodies": _max_err(res32.body_origins.double().numpy(), ref.body_origins),
        "joint_centers": _max_err(res32.joint_centers.double().numpy(), ref.joint_centers),
    }
    print(f"\n{name}: {N_POSES} poses, float64 max error {err}, float32 {err32}, "
          f"assembler drift of independent coordinates {ref.independent_drift:.1e}")
    assert ref.independent_drift < 1e-8
    assert err["markers"] < 1e-6 and err["bodies"] < 1e-6 and err["joint_centers"] < 1e-6, err
    assert err["rotations"] < 1e-6, err
    assert max(err32.values()) < 1e-4, err32

    if fk64.dependent_coordinate_names:
        qf = fk64.full_coordinates(torch.tensor(q)).numpy()
        dep = [fk64.all_coordinate_names.index(n) for n in fk64.dependent_coordinate_names]
        assert np.abs(qf[:, dep] - ref.dependent).max() < 1e-8


def test_knee_translation_splines_matter(synthetic_paths):
    """Guard against FK that ignores spline-coupled translations: over the knee's range, the Rajagopal knee's
    translation functions move the tibia by more than 5 mm, so the parity above could not hold without them."""
    path, _ = _paths("Rajagopal2016", synthetic_paths)
    fk = OsimFK.from_osim(path, dtype=torch.float64)
    knee = fk.tree.joints[fk.joint_names.index("walker_knee_r")]
    lo, hi = fk.coordinate_ranges[fk.coordinate_names.index("knee_angle_r")].tolist()
    x = np.linspace(lo, hi, 50)
    driven = [ax for ax in knee.translations if ax.coordinate == "knee_angle_r"]
    assert len(driven) >= 2 and {ax.function.kind for ax in driven} == {"SimmSpline"}
    p = sum(np.outer(ax.function(x), ax.axis) for ax in driven)
    assert np.linalg.norm(p - p[0], axis=1).max() > 5e-3


def test_batch_shapes_and_independence_of_rows(synthetic_paths):
    path, _ = _paths("RajagopalLaiUhlrich2023", synthetic_paths)
    fk = OsimFK.from_osim(path, dtype=torch.float64)
    q = torch.tensor(random_poses(fk, 12, np.random.default_rng(1))).reshape(3, 4, -1)
    res = fk(q)
    assert res.markers.shape == (3, 4, len(fk.marker_names), 3)
    assert res.body_transforms.shape == (3, 4, len(fk.body_names), 4, 4)
    assert res.joint_centers.shape == (3, 4, len(fk.joint_names), 3)
    single = fk(q[1, 2])
    assert torch.allclose(single.markers, res.markers[1, 2], atol=1e-12, rtol=0)
    assert torch.equal(res.body_transforms[..., 3, :], torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=torch.float64).expand(3, 4, len(fk.body_names), 4))
