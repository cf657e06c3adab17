"""Reading models: structure of the default model, the public layer API, and errors for unsupported input."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from opensim_reference import PROJECT_DIR

from biopose_opensim.errors import InputFileError, MarkerMismatchError, UnsupportedModelError
from biopose_opensim.kinematics import BONY_LANDMARKS, OsimFK, load_model_tree, random_poses
from biopose_opensim.osim import import_opensim

DEFAULT = PROJECT_DIR / "osim_models" / "RajagopalLaiUhlrich2023.osim"
GAIT = PROJECT_DIR / "tests" / "data" / "gait2392_tutorial"


@pytest.fixture(scope="module")
def fk():
    return OsimFK.from_osim(DEFAULT, dtype=torch.float64)


def test_default_model_structure(fk):
    osim = import_opensim()
    model = osim.Model(str(DEFAULT))
    model.initSystem()
    cs = model.getCoordinateSet()
    all_names = tuple(cs.get(i).getName() for i in range(cs.getSize()))
    assert fk.all_coordinate_names == all_names
    assert fk.dependent_coordinate_names == ("knee_angle_r_beta", "knee_angle_l_beta")
    assert fk.coordinate_names == tuple(n for n in all_names if not n.endswith("_beta"))
    assert fk.n_coordinates == 37 and fk.n_bodies == 22 and len(fk.marker_names) == 66
    assert fk.joint_names[0] == "ground_pelvis" and len(fk.joint_names) == 22
    locked = {n for n, lk in zip(fk.coordinate_names, fk.locked.tolist()) if lk}
    assert locked == {"subtalar_angle_r", "mtp_angle_r", "subtalar_angle_l", "mtp_angle_l",
                      "wrist_flex_r", "wrist_dev_r", "wrist_flex_l", "wrist_dev_l"}
    rot = dict(zip(fk.coordinate_names, fk.rotational.tolist()))
    assert rot["knee_angle_r"] and not rot["pelvis_tx"]
    assert fk.coordinate_ranges.shape == (37, 2)
    assert torch.all(fk.coordinate_ranges[:, 0] <= fk.coordinate_ranges[:, 1])
    kinds = {j.name: j.kind for j in fk.tree.joints}
    assert kinds["walker_knee_r"] == "CustomJoint" and kinds["radius_hand_r"] == "UniversalJoint"


def test_full_and_independent_coordinates_round_trip(fk):
    q = torch.tensor(random_poses(fk, 5, np.random.default_rng(0)))
    full = fk.full_coordinates(q)
    assert full.shape == (5, len(fk.all_coordinate_names))
    assert torch.equal(fk.independent_from_full(full), q)
    beta = full[:, fk.all_coordinate_names.index("knee_angle_r_beta")]
    assert torch.allclose(beta, q[:, fk.coordinate_names.index("knee_angle_r")])  # LinearFunction(1, 0) coupler


def test_joint_centers_are_child_frame_origins(fk):
    q = torch.tensor(random_poses(fk, 3, np.random.default_rng(1)))
    res = fk(q)
    hip = fk.joint_names.index("hip_r")
    femur = fk.body_names.index("femur_r")
    # The hip's child frame sits at the femur origin in this model.
    assert torch.allclose(res.joint_centers[:, hip], res.body_origins[:, femur], atol=1e-12)
    # Markers on the femur sit at origin + R @ location, with the location read through the OpenSim API:
    # RHJC (the hip joint centre marker, location 0 0 0) exactly at the hip joint centre, RLFC 0.41 m below it.
    osim = import_opensim()
    model = osim.Model(str(DEFAULT))
    for name in ("RHJC", "RLFC"):
        marker = model.getMarkerSet().get(name)
        assert marker.getParentFrameName().endswith("femur_r")
        loc = marker.get_location()
        loc = torch.tensor([loc.get(0), loc.get(1), loc.get(2)], dtype=torch.float64)
        expected = res.body_origins[:, femur] + res.body_rotations[:, femur] @ loc
        got = res.markers[:, fk.marker_names.index(name)]
        assert (got - expected).norm(dim=-1).max() < 1e-12, name
    assert (res.markers[:, fk.marker_names.index("RHJC")] - res.joint_centers[:, hip]).norm(dim=-1).max() < 1e-12
    knee_to_hip = (res.markers[:, fk.marker_names.index("RLFC")] - res.joint_centers[:, hip]).norm(dim=-1)
    assert torch.allclose(knee_to_hip, torch.full_like(knee_to_hip, (0.404 ** 2 + 0.05 ** 2) ** 0.5), atol=1e-12)


def test_landmarks(fk):
    assert set(fk.landmark_names) <= set(BONY_LANDMARKS)
    assert {"RASI", "LPSI", "C7", "RLMAL", "RLFC", "RLEL", "LACR"} <= set(fk.landmark_names)
    idx = fk.landmark_indices()
    assert [fk.marker_names[i] for i in idx.tolist()] == list(fk.landmark_names)
    assert fk.landmark_indices(["C7", "RASI"]).tolist() == [fk.marker_names.index("C7"), fk.marker_names.index("RASI")]
    with pytest.raises(MarkerMismatchError, match="NOPE"):
        fk.landmark_indices(["C7", "NOPE"])


def test_default_q_and_shape_errors(fk):
    q0 = fk.default_q(4)
    assert q0.shape == (4, fk.n_coordinates)
    assert q0[0, fk.coordinate_names.index("pelvis_ty")].item() == pytest.approx(0.94)
    with pytest.raises(ValueError, match="37 independent coordinates"):
        fk(torch.zeros(2, 39, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"s must be \(\.\.\., 22, 3\)"):
        fk(q0, torch.ones(4, 20, 3, dtype=torch.float64))


def test_marker_set_replaces_and_adds(tmp_path):
    fk = OsimFK.from_osim(GAIT / "gait2392_simbody.osim", marker_set=GAIT / "gait2392_Scale_MarkerSet.xml")
    assert len(fk.marker_names) == 39 and "Sternum" in fk.marker_names
    bad = tmp_path / "bad_markers.xml"
    text = (GAIT / "gait2392_Scale_MarkerSet.xml").read_text()
    bad.write_text(text.replace("<body> torso </body>", "<body> no_such_body </body>", 1))
    with pytest.raises(InputFileError, match=r"marker Sternum .*no_such_body"):
        OsimFK.from_osim(GAIT / "gait2392_simbody.osim", marker_set=bad)


def test_missing_file():
    with pytest.raises(InputFileError, match="model file not found"):
        load_model_tree(PROJECT_DIR / "nope.osim")


def _one_joint_model(tmp_path, joint_factory, name="m.osim", extra=None):
    osim = import_opensim()
    model = osim.Model()
    body = osim.Body("b", 1.0, osim.Vec3(0), osim.Inertia(0.1, 0.1, 0.1))
    model.addBody(body)
    model.addJoint(joint_factory(osim, model.getGround(), body))
    if extra is not None:
        extra(osim, model, body)
    model.finalizeConnections()
    path = tmp_path / name
    model.printToXML(str(path))
    return path


def test_unsupported_joint_type(tmp_path):
    path = _one_joint_model(
        tmp_path,
        lambda osim, g, b: osim.EllipsoidJoint("shoulder", g, osim.Vec3(0), osim.Vec3(0), b, osim.Vec3(0),
                                               osim.Vec3(0), osim.Vec3(0.1, 0.2, 0.3)),
    )
    with pytest.raises(UnsupportedModelError, match=r"m\.osim: joint shoulder is a EllipsoidJoint"):
        load_model_tree(path)


def test_unsupported_function(tmp_path):
    def custom(osim, g, b):
        st = osim.SpatialTransform()
        ax = st.updTransformAxis(0)
        names = osim.ArrayStr()
        names.append("c")
        ax.setCoordinateNames(names)
        ax.set_function(osim.StepFunction(0.0, 1.0, 0.0, 0.5))
        return osim.CustomJoint("cj", g, osim.Vec3(0), osim.Vec3(0), b, osim.Vec3(0), osim.Vec3(0), st)

    path = _one_joint_model(tmp_path, custom)
    with pytest.raises(UnsupportedModelError, match=r"joint cj axis rotation1 uses a StepFunction"):
        load_model_tree(path)


def test_unsupported_enforced_constraint(tmp_path):
    def add_point_constraint(osim, model, body):
        model.addConstraint(osim.PointConstraint(model.getGround(), osim.Vec3(0), body, osim.Vec3(0)))

    path = _one_joint_model(
        tmp_path,
        lambda osim, g, b: osim.FreeJoint("free", g, b),
        extra=add_point_constraint,
    )
    with pytest.raises(UnsupportedModelError, match=r"enforced PointConstraint"):
        load_model_tree(path)
