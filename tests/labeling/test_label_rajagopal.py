"""Rajagopal walking data: a lab's Scale and IK setups used as templates with another model file, and the
shipped sample subject.

Tolerances (measured on this build): scale factors within 4.0e-6 relative of those OpenSim applied with the same
setup (``scaleSet_applied_walk.xml``) for every body; tolerance 1e-5 (``scale_factors.json`` keeps six
significant digits, so rounding alone reaches 5e-6).
The IK runs on 0-0.5 s of the walk to keep the test short: marker RMS 19.8 mm, tolerance +-1.5 mm.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from biopose_opensim.errors import InputFileError
from biopose_opensim.labeling import LabelConfig, SubjectSpec, label_subject
from biopose_opensim.datasets import read_labels
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
    assert worst < 1e-5, f"largest relative difference {worst:.2e}"
    # measured by the setup's marker pairs (not manual): OpenSim's file has 1.2446319 1.0016675 1.1973582
    assert ours["pelvis"] == pytest.approx([1.24463, 1.00167, 1.19736], abs=1e-5)


def test_ik_rms_reported(lab_setups):
    trial = lab_setups.trials[0]
    assert trial.status == "done" and trial.n_frames == 51
    assert trial.rms_error == pytest.approx(0.0198, abs=1.5e-3)  # measured 19.8 mm on 0-0.5 s
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
