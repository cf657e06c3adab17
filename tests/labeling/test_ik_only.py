"""IK only on a model that is already scaled: ``label`` without a static trial (real OpenSim IK runs).

Reference: the Gait2392 tutorial's model scaled by OpenSim (``reference/subject01_simbody.osim``) and OpenSim's
IK of ``subject01_walk1.trc`` on it with the tutorial's IK setup (``reference/subject01_walk1_ik.mot``).

Tolerances (rotational coordinates, against OpenSim's reference IK, 121 frames 0.5-2.5 s):

* with the lab's IK setup as it is (accuracy 1e-5): mean absolute difference below 0.1 deg on every coordinate
  (measured: at most 0.021 deg, lumbar_rotation; the largest single-frame difference is 0.115 deg, the solver's
  accuracy, not the model);
* with ``--accuracy 1e-8``: every frame within 0.1 deg on every coordinate (measured: at most 0.027 deg,
  knee_angle_l);
* pelvis translations: every frame within 0.1 mm (measured: at most 0.049 mm at accuracy 1e-5).
"""
from __future__ import annotations

import json
import logging
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from biopose_opensim.io import read_coordinates
from biopose_opensim.label import main
from biopose_opensim.labeling.dataset import label_dataset
from biopose_opensim.labeling.config import LabelConfig
from biopose_opensim.datasets import read_labels

#: mean absolute difference to OpenSim's reference IK per rotational coordinate, deg (lab setup, accuracy 1e-5)
MEAN_TOL_DEG = 0.1
#: largest single-frame difference per rotational coordinate, deg, at accuracy 1e-8
MAX_TOL_DEG = 0.1


def _argv(d: Path, out: Path, *extra: str) -> list[str]:
    return ["--model", str(d / "reference" / "subject01_simbody.osim"), "--trials", str(d / "subject01_walk1.trc"),
            "--ik-setup", str(d / "subject01_Setup_IK.xml"), "--out", str(out), *extra]


def _differences(labels: Path, reference: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Per rotational coordinate: (mean, max) absolute difference to the reference .mot over the IK frames, deg."""
    lab = read_labels(labels)
    rotational = dict(zip(lab["coordinate_names"], lab["rotational"]))
    t_ref, q_ref, names = read_coordinates(reference, rotational=rotational)
    mean, worst = {}, {}
    for j, name in enumerate(lab["coordinate_names"]):
        if rotational[name]:
            ref = np.interp(lab["times"], t_ref, q_ref[:, names.index(name)])
            diff = np.degrees(np.abs(lab["q"][:, j] - ref))
            mean[name], worst[name] = float(diff.mean()), float(diff.max())
    return mean, worst


@pytest.fixture(scope="module")
def ik_only(tmp_path_factory, gait2392_dir):
    out = tmp_path_factory.mktemp("ik_only") / "out"
    assert main(_argv(gait2392_dir, out)) == 0
    return out


def test_reproduces_opensim_reference_ik(ik_only, gait2392_dir):
    lab = read_labels(ik_only / "labels" / "subject01_walk1.npz")
    assert len(lab["times"]) == 121 and lab["accuracy"] == 1e-5  # the lab's IK setup: 0.5-2.5 s, 1e-5
    mean, _ = _differences(ik_only / "labels" / "subject01_walk1.npz",
                           gait2392_dir / "reference" / "subject01_walk1_ik.mot")
    assert len(mean) == 20
    assert max(mean.values()) < MEAN_TOL_DEG, mean
    # the pelvis translations: lengths (coupled through OpenSim 3's MultiplierFunction, written in m by OpenSim),
    # within 0.1 mm of the reference (measured: at most 0.049 mm, pelvis_ty)
    t_ref, q_ref, names = read_coordinates(gait2392_dir / "reference" / "subject01_walk1_ik.mot")
    for name in ("pelvis_tx", "pelvis_ty", "pelvis_tz"):
        j = lab["coordinate_names"].index(name)
        assert not lab["rotational"][j]
        ref = np.interp(lab["times"], t_ref, q_ref[:, names.index(name)])
        assert np.abs(lab["q"][:, j] - ref).max() < 1e-4, name


def test_at_high_accuracy_every_frame_within_tolerance(tmp_path, gait2392_dir):
    out = tmp_path / "out"
    assert main(_argv(gait2392_dir, out, "--accuracy", "1e-8")) == 0
    _, worst = _differences(out / "labels" / "subject01_walk1.npz",
                            gait2392_dir / "reference" / "subject01_walk1_ik.mot")
    assert len(worst) == 20
    assert max(worst.values()) < MAX_TOL_DEG, worst


def test_nothing_scaled_and_it_says_so(ik_only, gait2392_dir):
    out = ik_only
    assert not (out / "subject01_simbody_scaled.osim").exists() and not (out / "setup_scale.xml").exists()
    lab = read_labels(out / "labels" / "subject01_walk1.npz")
    assert lab["ik_only"] is True
    assert lab["s"].shape == (len(lab["body_names"]), 3) and np.all(lab["s"] == 1.0)
    doc = json.loads((out / "scale_factors.json").read_text())
    assert doc["ik_only"] is True and doc["scaled_model"] is None
    assert Path(doc["model"]) == (gait2392_dir / "reference" / "subject01_simbody.osim").resolve()
    assert all(f == [1.0, 1.0, 1.0] for f in doc["scale_factors"].values())
    report = (out / "report.md").read_text()
    assert "- IK only on the model as given (" in report and "- static trial: none (IK only)" in report
    assert "labels carry factors of 1" in report
    assert "IK only on the model as given" in (out / "label.log").read_text()
    # the trial's IK setup names the given model and reruns in OpenSim as it is
    setup = ET.parse(out / "subject01_walk1_setup_ik.xml").getroot()
    model_file = Path(setup.find(".//model_file").text.strip())  # absolute, or relative to the setup's folder
    assert (out / model_file).resolve() == (gait2392_dir / "reference" / "subject01_simbody.osim").resolve()


def test_rerun_resumes(ik_only, gait2392_dir, caplog):
    mot = ik_only / "subject01_walk1_ik.mot"
    before = mot.stat().st_mtime_ns
    with caplog.at_level(logging.INFO):
        assert main(_argv(gait2392_dir, ik_only)) == 0
    assert mot.stat().st_mtime_ns == before and "finished earlier, skipped" in caplog.text


@pytest.mark.parametrize("extra, message", [
    (("--markers", "gait2392_Scale_MarkerSet.xml"), "IK only uses the markers of the model as given"),
    (("--mass", "0"), "--mass must be a number in (0, 500) kg"),
])
def test_refused(tmp_path, gait2392_dir, caplog, extra, message):
    extra = tuple(str(gait2392_dir / e) if e.endswith(".xml") else e for e in extra)
    with caplog.at_level(logging.ERROR):
        assert main(_argv(gait2392_dir, tmp_path / "out", *extra)) == 2
    assert message in caplog.text
    assert not list((tmp_path / "out").glob("*_ik.mot"))


def test_without_model_is_refused(tmp_path, gait2392_dir, caplog):
    with caplog.at_level(logging.ERROR):
        rc = main(["--trials", str(gait2392_dir / "subject01_walk1.trc"), "--out", str(tmp_path / "out")])
    assert rc == 2
    assert "IK only (no --static) runs on the model as given: give the subject's scaled model with --model" \
        in caplog.text
    assert not (tmp_path / "out").exists()


def test_dataset_subject_without_static(tmp_path, gait2392_dir, ik_only):
    """A subject folder without a static trial: IK only on its model.osim, the same result as one-subject mode."""
    subject = tmp_path / "root" / "subj01"
    (subject / "trials").mkdir(parents=True)
    shutil.copy(gait2392_dir / "subject01_walk1.trc", subject / "trials" / "subject01_walk1.trc")
    shutil.copy(gait2392_dir / "reference" / "subject01_simbody.osim", subject / "model.osim")
    shutil.copy(gait2392_dir / "subject01_Setup_IK.xml", subject / "ik_setup.xml")
    out = tmp_path / "out"
    summary = label_dataset(tmp_path / "root", out, LabelConfig(), workers=1, progress=False)
    assert summary.exit_code == 0, summary
    data = json.loads((out / "summary.json").read_text())
    (sub,) = data["subjects"]
    assert sub["ik_only"] is True and sub["status"] == "done" and sub["trials"][0]["status"] == "done"
    assert "| subj01 | done (IK only) |" in (out / "report.md").read_text()
    lab = read_labels(out / "subj01" / "labels" / "subject01_walk1.npz")
    assert lab["ik_only"] is True and np.all(lab["s"] == 1.0)
    one = read_labels(ik_only / "labels" / "subject01_walk1.npz")
    np.testing.assert_allclose(lab["q"], one["q"], atol=1e-9)  # the same OpenSim IK on the same model
    assert not (out / "subj01" / "subj01_scaled.osim").exists()
