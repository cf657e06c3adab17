"""Readers of AMASS (SMPL-H) and BEDLAM (SMPL-X) sequence files, and their alignment to OpenSim axes."""
from __future__ import annotations

import numpy as np
import pytest
from helpers.smpl_sequences import walking_poses, write_amass
from scipy.spatial.transform import Rotation

from biopose_opensim.adapters import read_amass, read_bedlam
from biopose_opensim.errors import InputFileError


def test_read_amass_layout(tmp_path):
    path, _ = write_amass(tmp_path / "walk_01_poses.npz", T=12, fps=120.0, betas=np.arange(16) / 10)
    seq = read_amass(path)
    assert seq.model_type == "smplh" and seq.gender == "female" and seq.fps == 120.0 and seq.up_axis == "z"
    assert seq.body_pose.shape == (12, 63) and seq.left_hand_pose.shape == (12, 45)
    assert seq.betas.shape == (16,) and seq.n_frames == 12
    sub = seq.subsample(60.0)
    assert sub.fps == 60.0 and sub.n_frames == 6


@pytest.mark.parametrize("change, message", [
    ({"poses": np.zeros((5, 72))}, r"'poses' has shape \(5, 72\); expected \(T, 156\)"),
    ({"trans": np.zeros((4, 3))}, r"'trans' has 4 frames but 'poses' has 5"),
    ({"gender": np.array("robot")}, r"gender 'robot'"),
    ({"mocap_framerate": np.array(0.0)}, r"'mocap_framerate' must be positive"),
    ({"poses": np.full((5, 156), np.nan)}, r"'poses' contains NaN"),
])
def test_read_amass_rejects_bad_files(tmp_path, change, message):
    good = {"poses": np.zeros((5, 156)), "trans": np.zeros((5, 3)), "betas": np.zeros(16),
            "mocap_framerate": np.array(120.0), "gender": np.array("male")}
    path = tmp_path / "bad.npz"
    np.savez(path, **{**good, **change})
    with pytest.raises(InputFileError, match=message):
        read_amass(path)
    np.savez(path, **{k: v for k, v in good.items() if k != "betas"})
    with pytest.raises(InputFileError, match=r"bad\.npz: key 'betas' missing"):
        read_amass(path)


def test_read_bedlam_layout(tmp_path):
    poses, _, _ = walking_poses(10, 30.0, 162)
    path = tmp_path / "motion_seq.npz"
    np.savez(path, poses=poses, trans=np.zeros((10, 3)), betas=np.zeros(11), gender=np.array("neutral"),
             motion_info=np.array(["a", "b", "c"]))
    seq = read_bedlam(path)
    assert seq.model_type == "smplx" and seq.fps == 30.0 and seq.up_axis == "y" and seq.gender == "neutral"
    assert seq.jaw_pose.shape == (10, 3) and seq.right_hand_pose.shape == (10, 45)
    np.testing.assert_array_equal(seq.body_pose, poses[:, 3:66])
    with pytest.raises(InputFileError, match=r"expected \(T, 165\)"):
        np.savez(path, poses=np.zeros((3, 156)), trans=np.zeros((3, 3)), betas=np.zeros(10))
        read_bedlam(path)


@pytest.mark.parametrize("heading", [0.0, 90.0, 150.0, -120.0])
def test_alignment_faces_plus_x_with_y_up(tmp_path, heading):
    path, _ = write_amass(tmp_path / "w.npz", T=5, heading_deg=heading)
    j0 = np.array([0.0, 0.96, 0.0])
    seq = read_amass(path).aligned(j0)
    assert seq.up_axis == "y"
    R0 = Rotation.from_rotvec(seq.global_orient[0])
    np.testing.assert_allclose(R0.apply([0.0, 0.0, 1.0]), [1.0, 0.0, 0.0], atol=1e-9)  # facing OpenSim +x
    np.testing.assert_allclose(R0.apply([0.0, 1.0, 0.0]), [0.0, 1.0, 0.0], atol=1e-9)  # upright
    pelvis = seq.trans + j0
    np.testing.assert_allclose(pelvis[0, [0, 2]], 0.0, atol=1e-12)
    # walking forward = +x in the aligned world
    assert pelvis[-1, 0] > pelvis[0, 0] + 0.1 and abs(pelvis[-1, 2]) < 1e-9


def test_bedlam_cli_requires_a_marker_set(tmp_path, capsys):
    """No SMPL-X virtual-marker set ships: the help says --marker-set is required and the command refuses
    without it (argparse's usage error, exit 2) before anything is written."""
    from biopose_opensim.adapters.__main__ import build_parser, main

    bedlam = build_parser()._subparsers._group_actions[0].choices["bedlam"]
    help_text = " ".join(bedlam.format_help().split())
    assert "required: no SMPL-X set ships" in help_text and "default" not in help_text.split("--marker-set")[-1]
    out = tmp_path / "ds"
    with pytest.raises(SystemExit) as exc:
        main(["bedlam", "--out", str(out), "--smplx-dir", str(tmp_path), str(tmp_path / "seq.npz")])
    assert exc.value.code == 2
    assert "the following arguments are required: --marker-set" in capsys.readouterr().err
    assert not out.exists()
