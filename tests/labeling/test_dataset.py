"""Dataset mode on a real 2-subject dataset (OpenSim gait2392 tutorial markers): a process-pool run, resume and
``--overwrite``, failure isolation with the exit status, and dataset discovery.

The Dask run and its comparison with a serial run are in ``test_dask.py``.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from biopose_opensim.errors import ConfigError, InputFileError
from biopose_opensim.io import read_mot, read_trc, write_trc
from biopose_opensim.labeling.config import LabelConfig
from biopose_opensim.labeling.dataset import label_dataset
from biopose_opensim.labeling.layout import detect_layout, discover


def build_dataset(root: Path, gait2392_dir: Path) -> Path:
    """Two subjects, both from the gait2392 tutorial: static trial plus short windows of the walking trial.

    subjA: walk_a (0.50-0.90 s); subjB: walk_b (0.90-1.30 s), walk_c (1.30-1.70 s). Times are kept so that the
    tutorial IK setup's time range (0.5-2.5 s), clipped to each trial, covers the whole trial.
    """
    walk = read_trc(gait2392_dir / "subject01_walk1.trc")
    trials = {"subjA": {"walk_a": (0.5, 0.9)}, "subjB": {"walk_b": (0.9, 1.3), "walk_c": (1.3, 1.7)}}
    for subject, windows in trials.items():
        folder = root / subject
        (folder / "trials").mkdir(parents=True)
        shutil.copy(gait2392_dir / "subject01_static.trc", folder / "static.trc")
        for name, (t0, t1) in windows.items():
            write_trc(folder / "trials" / f"{name}.trc", walk.window(t0, t1))
    (root / "subjA" / "subject.toml").write_text("mass = 72.6  # kg\n")
    (root / "subjB" / "subject.toml").write_text('mass = 80.0\nheight = 1.80\nsex = "male"\n')
    (root / "notes").mkdir()  # not a subject folder: ignored
    return root


def dataset_config(gait2392_dir: Path) -> LabelConfig:
    """The tutorial's generic model with its Scale and IK setups as templates."""
    return LabelConfig(model=gait2392_dir / "gait2392_simbody.osim",
                       scale_setup=gait2392_dir / "subject01_Setup_Scale.xml",
                       ik_setup=gait2392_dir / "subject01_Setup_IK.xml", plots=False)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, gait2392_dir) -> Path:
    return build_dataset(tmp_path_factory.mktemp("ds") / "root", gait2392_dir)


@pytest.fixture(scope="module")
def pool_run(dataset, gait2392_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "labels"
    return label_dataset(dataset, out, dataset_config(gait2392_dir), workers=2, progress=False), out


def _mots(out: Path) -> dict[str, Path]:
    return {p.relative_to(out).as_posix(): p for p in sorted(out.rglob("*_ik.mot"))}


def test_discovery_of_the_folders_layout(dataset, tmp_path):
    assert detect_layout(dataset) == "folders"
    found = discover(dataset)
    assert [s.name for s in found.subjects] == ["subjA", "subjB"] and found.invalid == ()
    a, b = found.subjects
    assert [p.name for p in b.trials] == ["walk_b.trc", "walk_c.trc"]
    assert (a.mass, a.height, a.sex) == (72.6, None, None)
    assert (b.mass, b.height, b.sex) == (80.0, 1.8, "male")
    bad = tmp_path / "bad"
    shutil.copytree(dataset, bad)
    (bad / "subjA" / "subject.toml").write_text("mass = 72.6\nweight = 70\n")
    (bad / "subjB" / "static.trc").unlink()
    (bad / "subjC" / "trials").mkdir(parents=True)
    shutil.copy(dataset / "subjA" / "static.trc", bad / "subjC" / "static.trc")
    shutil.copytree(dataset / "subjA", bad / "subjD")
    (bad / "subjD" / "subject.toml").write_text("height = 180\n")
    found = discover(bad)
    assert found.subjects == ()
    reasons = {s.name: s.reason for s in found.invalid}
    assert "unknown key(s) weight; expected mass (kg), height (m), sex, [label]" in reasons["subjA"]
    # no static trial and no model of its own (IK only needs the subject's model as given)
    assert "static.trc: no static trial (static.trc or static.c3d) to scale the model, and no model of this " \
           "subject's own for IK only (model.osim in the folder or [label] model in subject.toml)" in reasons["subjB"]
    assert reasons["subjC"].endswith("trials: no motion trials; expected trials/*.trc or trials/*.c3d")
    assert "height must be a number in (0, 3) m, got 180" in reasons["subjD"]
    with pytest.raises(InputFileError, match="no subject folders found"):
        discover(tmp_path / "bad" / "notes")
    with pytest.raises(InputFileError, match="dataset root is not a folder"):
        discover(tmp_path / "missing")
    with pytest.raises(ConfigError, match="--layout must be one of auto, folders, movi"):
        discover(dataset, "opencap")


def test_pool_run_labels_every_trial(pool_run, dataset):
    summary, out = pool_run
    assert summary.backend == "processes" and summary.workers == 2
    assert summary.exit_code == 0 and summary.n_failed == 0
    assert summary.counts() == {"subjects": {"done": 2, "skipped": 0, "failed": 0},
                                "trials": {"done": 3, "skipped": 0, "failed": 0}}
    data = json.loads((out / "summary.json").read_text())
    assert data["format"] == "biopose_opensim.label.dataset/1" and data["exit_code"] == 0
    assert [s["name"] for s in data["subjects"]] == ["subjA", "subjB"]
    for subj in data["subjects"]:
        assert subj["status"] == "done" and subj["reason"] is None
        assert (out / subj["scaled_model"]).is_file() and (out / subj["report"]).is_file()
        for t in subj["trials"]:
            assert t["status"] == "done" and t["reason"] is None
            assert t["frames"] == 25  # 0.4 s at 60 Hz, both ends included
            assert 0.0 < t["marker_rms_m"] < 0.03 and t["marker_rms_m"] <= t["marker_max_m"] < 0.1
            assert t["seconds"] > 0 and (out / t["ik_mot"]).is_file()
    assert sorted(_mots(out)) == ["subjA/walk_a_ik.mot", "subjB/walk_b_ik.mot", "subjB/walk_c_ik.mot"]
    report = (out / "report.md").read_text()
    assert "| subjA | done | 1 / 0 / 0 | 25 |" in report and "| subjB | done | 2 / 0 / 0 | 50 |" in report
    assert "## Failures\n\nNone." in report
    assert (out / "label_config.toml").is_file()


def test_resume_skips_finished_work_and_overwrite_recomputes(pool_run, dataset, gait2392_dir):
    summary, out = pool_run
    before = {k: (p.stat().st_mtime_ns, read_mot(p).values) for k, p in _mots(out).items()}
    reports = {p: p.stat().st_mtime_ns for p in out.glob("*/report.md")}
    assert len(reports) == 2
    config = dataset_config(gait2392_dir)

    again = label_dataset(dataset, out, config, workers=2, progress=False)
    assert again.exit_code == 0
    assert again.counts() == {"subjects": {"done": 0, "skipped": 2, "failed": 0},
                              "trials": {"done": 0, "skipped": 3, "failed": 0}}
    assert {k: p.stat().st_mtime_ns for k, p in _mots(out).items()} == {k: v[0] for k, v in before.items()}
    assert {p: p.stat().st_mtime_ns for p in reports} == reports  # nothing changed: reports kept
    assert [s.report for s in again.subjects] == [out / "subjA" / "report.md", out / "subjB" / "report.md"]
    data = json.loads((out / "summary.json").read_text())
    assert all(t["status"] == "skipped" and t["marker_rms_m"] > 0 for s in data["subjects"] for t in s["trials"])

    # changed settings are not applied silently over finished results
    changed = label_dataset(dataset, out, config.with_overrides(accuracy=1e-4), workers=1, progress=False)
    assert changed.exit_code == 1
    assert {s.status for s in changed.subjects} == {"failed"}
    assert "rerun with --overwrite" in changed.subjects[0].reason
    assert {k: p.stat().st_mtime_ns for k, p in _mots(out).items()} == {k: v[0] for k, v in before.items()}

    redo = label_dataset(dataset, out, config, workers=1, overwrite=True, progress=False)
    assert redo.counts() == {"subjects": {"done": 2, "skipped": 0, "failed": 0},
                             "trials": {"done": 3, "skipped": 0, "failed": 0}}
    for k, p in _mots(out).items():
        assert p.stat().st_mtime_ns != before[k][0]
        # same inputs, same settings: the recomputed angles match to the file's precision
        np.testing.assert_allclose(read_mot(p).values, before[k][1], rtol=0, atol=1e-6)


def test_a_corrupt_trial_and_a_broken_subject_fail_alone(dataset, gait2392_dir, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(dataset, root)
    (root / "subjB" / "trials" / "broken.trc").write_text("PathFileType\t4\t(X/Y/Z)\tbroken.trc\nnot a header\n")
    (root / "subjC" / "trials").mkdir(parents=True)
    shutil.copy(dataset / "subjB" / "trials" / "walk_b.trc", root / "subjC" / "trials")
    out = tmp_path / "out"
    from biopose_opensim.label import main

    config_toml = tmp_path / "label.toml"
    config_toml.write_text(dataset_config(gait2392_dir).to_toml())
    rc = main(["--dataset", str(root), "--out", str(out), "--workers", "1", "--config", str(config_toml)])
    assert rc == 1  # something failed: non-zero exit status
    data = json.loads((out / "summary.json").read_text())
    assert data["exit_code"] == 1
    assert data["counts"]["trials"] == {"done": 3, "skipped": 0, "failed": 1}
    subjects = {s["name"]: s for s in data["subjects"]}
    assert subjects["subjA"]["status"] == "done" and subjects["subjB"]["status"] == "done"
    trials = {t["name"]: t for t in subjects["subjB"]["trials"]}
    assert trials["walk_b"]["status"] == trials["walk_c"]["status"] == "done"
    assert trials["broken"]["status"] == "failed"
    assert "InputFileError" in trials["broken"]["reason"] and "broken.trc" in trials["broken"]["reason"]
    assert subjects["subjC"]["status"] == "failed" and "no static trial" in subjects["subjC"]["reason"]
    report = (out / "report.md").read_text()
    assert "- **subjB/broken**: biopose_opensim.errors.InputFileError" in report
    assert "- **subjC**:" in report and "exit status is 1" in report
    assert sorted(_mots(out)) == ["subjA/walk_a_ik.mot", "subjB/walk_b_ik.mot", "subjB/walk_c_ik.mot"]
