"""Rajagopal walking data: a lab's Scale and IK setups used as templates with another model file, and the
shipped sample subject.

Tolerance: scale factors within 2% of those OpenSim applied with the same setup (``scaleSet_applied_walk.xml``)
for every body. The IK runs on 0-0.5 s of the walk to keep the test short; its marker RMS is reported.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from biopose_opensim.errors import InputFileError
from biopose_opensim.labeling import LabelConfig, SubjectSpec, label_subject
from biopose_opensim.labeling.labels import read_labels
from biopose_opensim.labeling.sample import sample_subject
from biopose_opensim.osim import read_scale_factors


@pytest.fixture(scope="module")
def lab_setups(tmp_path_factory, data_dir, rajagopal_walk_dir):
    out = tmp_path_factory.mktemp("rajagopal") / "out"
    cfg = LabelConfig(model=data_dir / "models" / "Rajagopal2016.osim",
                      scale_setup=rajagopal_walk_dir / "Scale" / "scale_setup_walk_scaleOnly.xml",
                      ik_setup=rajagopal_walk_dir / "IK" / "ik_setup_walk.xml", time_range=(0.0, 0.5))
    spec = SubjectSpec("walk", rajagopal_walk_dir / "ExpData" / "static_walk_1.trc",
                       (rajagopal_walk_dir / "ExpData" / "motion_capture_walk.trc",))
    return label_subject(spec, cfg, out, progress=False)


def test_scale_factors_match_opensim(lab_setups, rajagopal_walk_dir):
    ref = dict(read_scale_factors(rajagopal_walk_dir / "Scale" / "scaleSet_applied_walk.xml"))
    ours = json.loads(lab_setups.scale_factors_json.read_text())["scale_factors"]
    assert len(ours) == 22
    worst = max(abs(o / r - 1) for body, f in ours.items() for o, r in zip(f, ref[body]))
    assert worst < 0.02, f"largest relative difference {worst:.4f}"
    assert ours["pelvis"] == pytest.approx([1.2446, 1.0017, 1.1974], abs=2e-3)  # measured, not manual


def test_ik_rms_reported(lab_setups):
    trial = lab_setups.trials[0]
    assert trial.status == "done" and trial.n_frames == 51
    assert 0.005 < trial.rms_error < 0.05  # skin markers on a scaled model: centimetre level
    report = lab_setups.report.read_text()
    assert f"{1000 * trial.rms_error:.1f}" in report and "scale_setup_walk_scaleOnly.xml" in report
    lab = read_labels(trial.labels)
    # the IK setup disables some tasks (e.g. R.Biceps): they are not tracked
    assert "R.Biceps" not in lab["tracked_markers"] and "R.ASIS" in lab["tracked_markers"]
    assert lab["accuracy"] == 1e-5  # the setup's accuracy


def test_missing_setup_model_needs_model_flag(tmp_path, rajagopal_walk_dir):
    cfg = LabelConfig(scale_setup=rajagopal_walk_dir / "Scale" / "scale_setup_walk_scaleOnly.xml")
    spec = SubjectSpec("w", rajagopal_walk_dir / "ExpData" / "static_walk_1.trc",
                       (rajagopal_walk_dir / "ExpData" / "motion_capture_walk.trc",))
    with pytest.raises(InputFileError, match=r"model_file .*generic_unscaled.osim not found; give the generic model "
                                             r"with --model"):
        label_subject(spec, cfg, tmp_path / "out", progress=False)
    assert not (tmp_path / "out" / "w_scaled.osim").exists()


def test_sample_subject_short(tmp_path):
    """The shipped sample with the default model (IK on 0.2 s; the full run is the CI's main job)."""
    spec, overrides = sample_subject()
    assert spec.mass == pytest.approx(85.0668) and spec.height == pytest.approx(1.829)
    assert overrides["markers"].name == "markers.xml" and len(spec.trials) == 1
    cfg = LabelConfig(time_range=(0.0, 0.2)).with_overrides(**overrides)
    result = label_subject(spec, cfg, tmp_path / "sample", progress=False)
    trial = result.trials[0]
    assert trial.n_frames == 21 and np.isfinite(trial.rms_error) and trial.rms_error < 0.05
    scale = json.loads(result.scale_factors_json.read_text())
    assert scale["generic_model"].endswith("RajagopalLaiUhlrich2023.osim")
    assert scale["total_mass_kg"] == pytest.approx(85.0668)
    assert 0.9 < scale["scale_factors"]["femur_r"][0] < 1.2  # a 1.83 m subject on a 1.7 m model
    assert {m["source"] for m in scale["measurements"]} == {"default"}
