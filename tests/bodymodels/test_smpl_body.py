"""SMPL-family loading through smplx from user files (synthetic test models), clear errors, D3KE markers."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from synthetic_smpl import write_smpl_model

from biopose_opensim.bodymodels.base import SMPL_JOINT_NAMES, SMPL_TO_OPENSIM, SMPLH_JOINT_NAMES
from biopose_opensim.bodymodels.smpl import SMPL_DIR_ENV, SMPLBodyModel, SMPLPose, find_model_file
from biopose_opensim.errors import ConfigError, MarkerMismatchError
from biopose_opensim.markers.d3ke import D3KE_JOINTS, D3KE_SMPL_VERTICES
from biopose_opensim.markers.sets import load_marker_set
from biopose_opensim.markers.virtual import compute_virtual_markers


def test_missing_model_dir_names_files_and_env_var(monkeypatch):
    monkeypatch.delenv(SMPL_DIR_ENV, raising=False)
    with pytest.raises(ConfigError) as err:
        SMPLBodyModel(model_type="smpl")
    msg = str(err.value)
    assert SMPL_DIR_ENV in msg and "--smpl-model-dir" in msg
    assert "SMPL_NEUTRAL.pkl" in msg and "SMPL_NEUTRAL.npz" in msg


def test_folder_without_files_lists_what_was_searched(tmp_path, monkeypatch):
    monkeypatch.setenv(SMPL_DIR_ENV, str(tmp_path))
    with pytest.raises(ConfigError) as err:
        SMPLBodyModel(model_type="smplx", gender="female")
    msg = str(err.value)
    assert "SMPLX_FEMALE.npz" in msg and "SMPLX_FEMALE.pkl" in msg
    assert str(tmp_path) in msg and str(tmp_path / "smplx") in msg and SMPL_DIR_ENV in msg


def test_bad_type_and_gender_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown SMPL model type 'smpl2'"):
        find_model_file(tmp_path, "smpl2")
    with pytest.raises(ConfigError, match="unknown SMPL gender 'other'"):
        find_model_file(tmp_path, "smpl", "other")


def test_unreadable_file_is_a_config_error(tmp_path):
    (tmp_path / "SMPL_NEUTRAL.pkl").write_bytes(b"not a pickle")
    with pytest.raises(ConfigError, match="SMPL_NEUTRAL.pkl"):
        SMPLBodyModel(tmp_path)


def test_smpl_loads_from_env_var_and_poses(smpl_dir, monkeypatch):
    monkeypatch.setenv(SMPL_DIR_ENV, str(smpl_dir))
    bm = SMPLBodyModel(model_type="smpl")
    assert bm.path == smpl_dir / "SMPL_NEUTRAL.pkl"
    assert bm.n_vertices == 300 and bm.joint_names == SMPL_JOINT_NAMES
    rest = bm.rest()
    assert rest.vertices.shape == (1, 300, 3) and rest.joints.shape == (1, 24, 3)
    # rest joints are the joint regressor applied to the template (betas 0)
    expected = bm.model.J_regressor @ bm.model.v_template
    assert torch.allclose(rest.joints[0], expected, atol=1e-10)
    # bending the left knee (body joint 4 -> body_pose slot 3) moves only vertices skinned to the left shank/foot
    body_pose = torch.zeros(1, 69, dtype=torch.float64)
    body_pose[0, 3 * 3] = 1.0
    posed = bm.forward(None, SMPLPose(body_pose=body_pose))
    moved = (posed.vertices[0] - rest.vertices[0]).norm(dim=-1) > 1e-9
    subtree = {4, 7, 10}  # left knee, ankle, foot
    w = bm.model.lbs_weights.numpy()
    on_subtree = w[:, sorted(subtree)].sum(1) > 0
    assert np.array_equal(moved.numpy(), on_subtree)
    # frames: native y up; OpenSim y up, x forward = SMPL z
    os_out = posed.in_opensim_frame()
    assert torch.allclose(os_out.vertices[0], posed.vertices[0] @ torch.as_tensor(SMPL_TO_OPENSIM).T)


def test_smpl_shape_and_translation(smpl_dir):
    bm = SMPLBodyModel(smpl_dir, model_type="smpl")
    betas = torch.zeros(2, bm.num_betas, dtype=torch.float64)
    betas[1, 0] = 2.0
    out = bm.forward(betas, SMPLPose(transl=torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])))
    assert out.vertices.shape == (2, 300, 3)
    shaped = bm.model.v_template + (bm.model.shapedirs[..., 0] * 2.0)
    assert torch.allclose(out.vertices[1] - torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64), shaped, atol=1e-9)


def test_smplh_gives_the_142_d3ke_markers(smpl_dir):
    bm = SMPLBodyModel(smpl_dir, model_type="smplh")
    assert bm.path == smpl_dir / "smplh" / "SMPLH_NEUTRAL.npz"
    assert bm.n_vertices == 6890 and bm.joint_names == SMPLH_JOINT_NAMES
    ms = load_marker_set("smpl_d3ke")
    ms.check_body_model(bm.n_vertices, bm.joint_names, "SMPL-H")
    body_pose = torch.zeros(1, 63, dtype=torch.float64)
    body_pose[0, 0] = 0.5  # left hip
    out = bm.forward(None, SMPLPose(body_pose=body_pose)).in_opensim_frame()
    markers = compute_virtual_markers(ms, out.vertices, out.joints, out.joint_names)[0]
    assert markers.shape == (142, 3)
    for name, vid in D3KE_SMPL_VERTICES.items():
        assert torch.equal(markers[ms.index(name)], out.vertices[0, vid])
    for name, joint in D3KE_JOINTS.items():
        assert torch.equal(markers[ms.index(name)], out.joint(joint)[0])
    lowest = out.vertices[0, :, 1].min()
    assert torch.isclose(markers[ms.index("Virtual_Ground_LHEE"), 1], lowest)
    assert torch.allclose(markers[ms.index("Virtual_Ground_LHEE"), [0, 2]], markers[ms.index("LHEE"), [0, 2]])


def test_plain_smpl_lacks_the_hand_joints_of_d3ke(smpl_dir):
    bm = SMPLBodyModel(smpl_dir, model_type="smpl", gender="male")
    assert bm.n_vertices == 6890
    ms = load_marker_set("smpl_d3ke")
    with pytest.raises(MarkerMismatchError, match="left_index1"):
        ms.check_body_model(bm.n_vertices, bm.joint_names, "SMPL")


def test_smplx_jaw_pose_and_amass_layout(tmp_path):
    write_smpl_model(tmp_path / "smplx" / "SMPLX_NEUTRAL.npz", "smplx")
    bm = SMPLBodyModel(tmp_path, model_type="smplx")
    assert bm.n_joints == 55 and bm.joint_names[22] == "jaw"
    jaw = torch.zeros(1, 3, dtype=torch.float64)
    jaw[0, 0] = 0.5
    rest, posed = bm.rest(), bm.forward(None, SMPLPose(jaw_pose=jaw))
    moved = (posed.vertices[0] - rest.vertices[0]).norm(dim=-1) > 1e-9
    assert np.array_equal(moved.numpy(), bm.model.lbs_weights.numpy()[:, 22] > 0)
    # AMASS's SMPL+H release layout: <dir>/<gender>/model.npz
    amass = write_smpl_model(tmp_path / "amass" / "female" / "model.npz", "smplh", n_vertices=400)
    assert find_model_file(tmp_path / "amass", "smplh", "female") == amass
    with pytest.raises(ConfigError, match="--smplh-dir"):
        find_model_file(tmp_path / "amass", "smplh", "male", option="--smplh-dir")
