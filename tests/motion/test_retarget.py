"""Retargeting by global segment orientation: calibration, exactness along a real motion, trial files."""
from __future__ import annotations

import numpy as np
import pytest

from biopose_opensim.bodymodels.base import OPENSIM_TO_ANNY
from biopose_opensim.io import read_coordinates, read_trc
from biopose_opensim.motion import (
    body_poses,
    mesh_motion,
    read_motion,
    retarget_poses,
    static_motion,
    write_synthetic_trials,
)
from biopose_opensim.motion.retarget import rotation_between, rotation_from_two_axes
from biopose_opensim.paths import default_model_path


def _angle(R):
    return np.degrees(np.arccos(np.clip((np.trace(R) - 1) / 2, -1, 1)))


def test_rotation_helpers():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=3), rng.normal(size=3)
    R = rotation_between(a, b)
    assert np.allclose(R @ (a / np.linalg.norm(a)), b / np.linalg.norm(b)) and np.isclose(np.linalg.det(R), 1)
    assert np.allclose(rotation_between(a, -a) @ a, -a)
    c, d = rng.normal(size=3), rng.normal(size=3)
    R2 = rotation_from_two_axes(a, c, b, d)
    assert np.allclose(R2 @ a / np.linalg.norm(a), b / np.linalg.norm(b))
    assert np.allclose(R2.T @ R2, np.eye(3))


def test_calibration_offsets(anny_body, calibration):
    O = {b: calibration.offsets[anny_body.bone_index(b)] for b in anny_body.bone_labels}
    assert np.allclose(O["root"], np.eye(3)) and np.allclose(O["spine04"], np.eye(3))
    assert 4 < _angle(O["upperleg01.L"]) < 10 and 4 < _angle(O["lowerleg01.R"]) < 10  # thighs/shanks ~7 deg
    assert 35 < _angle(O["upperarm01.L"]) < 55  # A-pose arms ~45 deg down
    assert np.allclose(O["upperarm01.L"], O["upperarm02.L"]) and np.allclose(O["wrist.R"], O["finger3-2.R"])
    assert 0 < _angle(O["spine02"]) < 20 and np.allclose(O["spine02"], O["head"])
    assert 0.9 < calibration.scale < 1.1


def test_static_pose_stands_on_the_floor_facing_forward(anny_body, calibration):
    model = default_model_path()
    static = static_motion(model, "zero", duration=0.0, rate=1.0)
    mesh = mesh_motion(anny_body, model, static, calibration=calibration)
    v, j, names = mesh.vertices[0], mesh.joints[0], mesh.joint_names
    assert abs(float(v[:, 1].min())) < 1e-6  # soles on y = 0
    head = j[names.index("head")]
    assert v[v[:, 1] > head[1], 0].max() > head[0] + 0.05  # face forward (+x)
    # arms hang beside the body, palms forward: thumb tip lateral to the little finger tip
    wrist, elbow, shoulder = j[names.index("right_wrist")], j[names.index("right_elbow")], j[names.index("right_shoulder")]
    assert elbow[1] < shoulder[1] - 0.2 and wrist[1] < elbow[1] - 0.2
    assert j[names.index("right_thumb3")][2] > j[names.index("right_pinky3")][2]


def test_bones_follow_opensim_bodies_exactly_along_normal_gait(anny_body, calibration, data_dir):
    """Every Anny bone's world rotation changes exactly as its OpenSim body's (1e-9), and the hip midpoint
    follows OpenSim's, scaled by k."""
    model = default_model_path()
    motion = read_motion(data_dir / "motions" / "normal.mot", model, "gait2392")
    poses = body_poses(model, motion)
    pose = retarget_poses(calibration, poses)
    R = pose.orientations.numpy()
    C = OPENSIM_TO_ANNY
    for b in ("upperleg02.L", "lowerleg01.R", "foot.L", "spine01", "upperarm01.R", "lowerarm02.L", "root"):
        i = anny_body.bone_index(b)
        body = calibration.bone_bodies[i]
        dA = R[:, i] @ R[0, i].T
        dO = poses.rotation(body) @ poses.rotation(body)[0].T
        assert np.allclose(dA, C @ dO @ C.T, atol=1e-9), b
    mesh = mesh_motion(anny_body, model, motion, calibration=calibration)
    names = mesh.joint_names
    hips = 0.5 * (mesh.joints[:, names.index("left_hip")] + mesh.joints[:, names.index("right_hip")])
    osim_hips = 0.5 * (poses.position("femur_l") + poses.position("femur_r"))
    assert np.allclose(hips, calibration.scale * osim_hips, atol=1e-9)
    # the knee flexes: shank axis angle to the thigh axis follows the knee coordinate (within the 7 deg rest offset)
    thigh = mesh.joints[:, names.index("left_knee")] - mesh.joints[:, names.index("left_hip")]
    shank = mesh.joints[:, names.index("left_ankle")] - mesh.joints[:, names.index("left_knee")]
    cos = np.einsum("ti,ti->t", thigh, shank) / np.linalg.norm(thigh, axis=1) / np.linalg.norm(shank, axis=1)
    flex = np.degrees(np.arccos(cos))
    assert np.corrcoef(flex, np.degrees(motion.column("knee_angle_l")))[0, 1] > 0.99


def test_synthetic_trial_files(anny_body, anny_set, data_dir, tmp_path):
    model = default_model_path()
    motion = read_motion(data_dir / "motions" / "normal.mot", model, "gait2392").frames(slice(0, 10))
    files = write_synthetic_trials(tmp_path, anny_body, model, [motion], anny_set)
    static = read_trc(files.static_trc)
    trial = read_trc(files.trials[0])
    assert static.marker_names == anny_set.names == trial.marker_names
    assert trial.n_frames == 10 and static.source_units == "mm" and np.isfinite(trial.positions).all()
    assert static.times[-1] >= 0.5  # covers the setup templates' 0-0.5 s static window
    assert np.allclose(static.positions, static.positions[:1], atol=1e-9)  # a still pose
    ground = [anny_set.index(n) for n in anny_set.names if n.startswith("Virtual_Ground")]
    assert np.allclose(static.positions[:, ground, 1], 0.0, atol=1e-6)  # the static stands on y = 0
    t, q, names = read_coordinates(files.static_pose_mot)
    assert q.shape[0] == 1 and abs(q[0, names.index("knee_angle_r")]) < 1e-12
    assert "pelvis_ty" not in names and "pelvis_tilt" in names  # root translations stay free
    t, q, names = read_coordinates(files.truth[0])
    assert np.allclose(q[:, names.index("knee_angle_l")], motion.column("knee_angle_l"), atol=1e-9)
