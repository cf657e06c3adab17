"""``--body-model smpl``: SMPL-H subjects retargeted from OpenSim kinematics, on synthetic SMPL-H files.

The synthetic SMPL-H body (tests/synthetic_smpl.py) is made of cylinders with the default model's
landmark names as virtual markers. Tolerance (measured here: legs and trunk 0.4-2.7 deg): labels of the
pelvis, hips, knees, ankles and lumbar joint recover the generating walk within 4 deg mean absolute error
each. The arms of this crude body are not checked (its forearm skin has no radius/ulna distinction).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from synthetic_smpl import landmark_marker_set, write_synthetic_model

from biopose_opensim.synth.__main__ import main
from biopose_opensim.datasets import Dataset

pytestmark = pytest.mark.slow

CHECKED = ("pelvis_tilt", "pelvis_list", "pelvis_rotation", "hip_flexion_r", "hip_adduction_r", "hip_flexion_l",
           "hip_adduction_l", "knee_angle_r", "knee_angle_l", "ankle_angle_r", "ankle_angle_l", "lumbar_extension",
           "lumbar_bending", "lumbar_rotation")


def test_smpl_subjects_walk(tmp_path):
    models = write_synthetic_model(tmp_path / "models", "smplh", genders=("female", "male"))
    mset = landmark_marker_set(tmp_path / "landmarks.yaml", "smplh")
    out = tmp_path / "ds"
    rc = main(["--out", str(out), "--subjects", "1", "--seed", "1", "--activities", "walk", "--duration", "1.0",
               "--fps", "30", "--body-model", "smpl", "--smpl-model-dir", str(models), "--marker-set", str(mset),
               "--workers", "1", "--no-progress"])
    assert rc == 0
    m = json.loads((out / "manifest.json").read_text())
    subject = m["subjects"][0]
    assert subject["body_model"] == "smpl" and len(subject["shape"]["betas"]) == 10
    assert 1.5 < subject["height"] < 2.0 and subject["mass"] > 0.0  # the synthetic skin is not closed: no volume
    assert m["card_summary"]["ik_rms_median_mm"] < 15.0
    d = Dataset.open(out).load()
    names = list(m["coordinate_names"])
    for c in CHECKED:
        j = names.index(c)
        err = np.abs(d["q"][:, j] - d["q_source"][:, j])[d["q_mask"][:, j]]
        assert np.degrees(err.mean()) < 4.0, (c, np.degrees(err.mean()))
