"""AMASS (SMPL-H) and BEDLAM (SMPL-X) sequences -> labelled dataset, with synthetic model files on disk.

The synthetic body is crude (cylinders skinned to joints), so the check on the labels is that they follow
the motion that was recorded: the IK left-hip flexion correlates with the sequence's hip flexion
(Pearson r > 0.9) and its range is within 35 % of the recorded range.
"""
from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from helpers.smpl_sequences import walking_poses, write_amass

from biopose_opensim.adapters.__main__ import main
from biopose_opensim.datasets import Dataset

pytestmark = pytest.mark.slow


def test_amass_sequences_become_a_labelled_dataset(tmp_path, smpl_models, smpl_marker_sets):
    movi = tmp_path / "BMLmovi" / "Subject_1_F_MoSh"
    movi.mkdir(parents=True)
    betas = np.r_[0.5, -0.3, np.zeros(14)]
    _, hip = write_amass(movi / "Subject_1_F_1_poses.npz", T=45, fps=30.0, betas=betas, heading_deg=150.0)
    write_amass(movi / "Subject_1_F_2_poses.npz", T=30, fps=30.0, betas=betas, heading_deg=-40.0)
    other = tmp_path / "BMLmovi" / "Subject_2_M_MoSh"
    other.mkdir()
    write_amass(other / "Subject_2_M_1_poses.npz", T=30, fps=30.0, betas=np.r_[-1.0, np.zeros(15)], gender="male")
    out = tmp_path / "movi_ds"
    rc = main(["amass", "--out", str(out), "--smplh-dir", str(smpl_models), "--fps", "30",
               "--marker-set", str(smpl_marker_sets["smplh"]), "--workers", "2", "--no-progress",
               str(tmp_path / "BMLmovi")])
    assert rc == 0
    m = json.loads((out / "manifest.json").read_text())
    assert sorted(s["name"] for s in m["subjects"]) == ["Subject_1_F_MoSh", "Subject_2_M_MoSh"]
    assert {s["source"] for s in m["subjects"]} == {"amass"}
    assert m["totals"]["trials"] == 3 and m["totals"]["frames"] == 45 + 30 + 30
    owner = {s: k for k, v in m["splits"].items() for s in v}
    assert len(set(owner.values())) == 2  # two subjects, two splits
    trial = next(t for t in m["trials"] if t["name"] == "Subject_1_F_1_poses")
    assert trial["activity"] == "Subject_F"
    ds = Dataset.open(out)
    d = ds.load(owner["Subject_1_F_MoSh"])
    sel = d["trial"] == list(d["trial_names"]).index("Subject_1_F_1_poses")
    q = d["q"][sel]
    names = list(m["coordinate_names"])
    hip_ik = np.degrees(q[:, names.index("hip_flexion_l")])
    r = np.corrcoef(hip_ik, hip)[0, 1]
    assert r > 0.9, r
    assert abs(np.ptp(hip_ik) / np.ptp(hip) - 1.0) < 0.35, (np.ptp(hip_ik), np.ptp(hip))
    # the subject faces +x: pelvis rotation stays well inside its +-90 deg range
    assert np.abs(np.degrees(q[:, names.index("pelvis_rotation")])).max() < 45.0
    subj = out / "subjects" / "Subject_1_F_MoSh"
    for f in ("Subject_1_F_MoSh_static.trc", "Subject_1_F_1_poses_ik.mot", "Subject_1_F_1_poses_marker_errors.sto",
              "Subject_1_F_MoSh_scaled.osim"):
        assert (subj / f).is_file(), f


def test_bedlam_sequence_becomes_a_labelled_dataset(tmp_path, smpl_models, smpl_marker_sets):
    seq_dir = tmp_path / "bedlam" / "rp_subject_001" / "motion_seq"
    seq_dir.mkdir(parents=True)
    T = 30
    poses, hip, t = walking_poses(T, 30.0, 162)
    # BEDLAM is y up; the subject faces +z (SMPL's own forward) and walks that way
    trans = np.stack([np.zeros(T), np.zeros(T), 1.1 * t], axis=1)
    np.savez(seq_dir / "motion_seq.npz", poses=poses, trans=trans, betas=np.zeros(11), gender=np.array("neutral"))
    out = tmp_path / "bedlam_ds"
    rc = main(["bedlam", "--out", str(out), "--smplx-dir", str(smpl_models), "--fps", "30",
               "--marker-set", str(smpl_marker_sets["smplx"]), "--workers", "1", "--no-progress",
               str(seq_dir / "motion_seq.npz")])
    assert rc == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["totals"]["subjects"] == 1 and m["totals"]["frames"] == T
    d = Dataset.open(out).load()
    hip_ik = np.degrees(d["q"][:, list(m["coordinate_names"]).index("hip_flexion_l")])
    assert np.corrcoef(hip_ik, hip)[0, 1] > 0.9


def test_missing_smpl_files_are_named(tmp_path, caplog):
    movi = tmp_path / "seqs"
    movi.mkdir()
    write_amass(movi / "a.npz", T=5)
    empty = tmp_path / "no_models"
    empty.mkdir()
    with caplog.at_level(logging.ERROR):
        rc = main(["amass", "--out", str(tmp_path / "o"), "--smplh-dir", str(empty), "--no-progress", str(movi)])
    msg = "\n".join(r.getMessage() for r in caplog.records)
    assert rc == 2 and "no SMPLH female model file; expected one of SMPLH_FEMALE.npz" in msg
    assert not (tmp_path / "o").exists()
