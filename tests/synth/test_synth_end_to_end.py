"""End to end: ``python -m biopose_opensim.synth`` on 2 Anny subjects with one activity and one gait template.

Real Anny meshes, real OpenSim ScaleTool + IK (label), real shards. Tolerances (stated, measured on this
build: mean 2.5°, lower-limb sagittal ≤ 3.2°, median marker RMS ≈ 7 mm):
labels recover the generating motion within 4° mean absolute error over the free rotational coordinates
(unmasked frames) and within 5° for hip flexion, knee and ankle; the median IK marker RMS is ≤ 15 mm.
"""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from biopose_opensim.activities import CoordinateSpace
from biopose_opensim.io import read_coordinates, read_trc
from biopose_opensim.osim import import_opensim
from biopose_opensim.synth.__main__ import main
from biopose_opensim.synth.dataset import Dataset
from biopose_opensim.synth.masks import coordinate_masks, plan_masks

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("synth") / "ds"
    argv = ["--out", str(out), "--subjects", "2", "--seed", "3", "--activities", "squat",
            "--motion", str(data_dir / "motions" / "normal.mot"), "--duration", "1.0", "--fps", "30",
            "--workers", "2", "--no-progress"]
    rc = main(argv)
    return out, argv, rc


def test_build_succeeds_with_card_and_manifest(built):
    out, _, rc = built
    assert rc == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["totals"]["subjects"] == 2 and m["totals"]["trials"] == 4
    assert sorted({t["name"] for t in m["trials"]}) == ["normal", "squat"]  # from the activity and the file stem
    assert len(m["marker_names"]) == 142
    card = (out / "dataset_card.md").read_text()
    assert m["card_summary"]["ik_rms_median_mm"] <= 15.0, m["card_summary"]
    assert f"median **{m['card_summary']['ik_rms_median_mm']:.2f} mm**" in card
    assert (out / "card" / "coordinate_coverage.png").is_file() and (out / "card" / "ik_rms.png").is_file()
    # the template's mapping is recorded: gait2392 names, arms not given
    tpl = next(iter(m["motions"].values()))
    assert tpl["convention"] == "gait2392" and "arm_flex_r" in tpl["unmapped_model"]


def test_split_is_by_subject(built):
    out, _, _ = built
    m = json.loads((out / "manifest.json").read_text())
    owner = {s: split for split, subs in m["splits"].items() for s in subs}
    assert sorted(owner) == ["s000", "s001"] and set(owner.values()) == {"train", "test"}
    for t in m["trials"]:
        assert t["split"] == owner[t["subject"]] and t["shard"].startswith(f"shards/{t['split']}-")
    ds = Dataset.open(out)
    for split, subs in m["splits"].items():
        arrays = ds.load(split)
        if subs:
            assert set(arrays["trial_subjects"]) == set(subs)


def test_shards_masks_and_label_accuracy(built, default_model):
    out, _, _ = built
    m = json.loads((out / "manifest.json").read_text())
    ds = Dataset.open(out)
    d = ds.load()
    F, M, C, B = d["q"].shape[0], len(m["marker_names"]), len(m["coordinate_names"]), len(m["body_names"])
    assert d["markers"].shape == (F, M, 3) and d["q_mask"].shape == (F, C) and d["s"].shape == (F, B, 3)
    assert F == m["totals"]["frames"] and np.isfinite(d["q"]).all()
    space = CoordinateSpace.from_osim(default_model)
    assert tuple(m["coordinate_names"]) == space.names
    # masks: locked coordinates never masked; masks agree with the stored residuals and the bony plan
    assert d["q_mask"][:, space.locked].all()
    assert 0.0 <= 1.0 - d["q_mask"].mean() < 0.5
    subject = m["trials"][0]["subject"]
    plan = plan_masks(out / "subjects" / subject / f"{subject}_scaled.osim", tuple(m["bony_markers"]))
    first = d["trial"] == 0
    recomputed = coordinate_masks(plan, d["marker_error"][first].astype(float), list(m["marker_names"]), 0.02)
    np.testing.assert_array_equal(recomputed, d["q_mask"][first])
    # labels recover the generating motion
    free = space.rotational & ~space.locked & ~space.dependent
    err = np.abs(d["q"] - d["q_source"]).astype(float)
    err[~d["q_mask"]] = np.nan
    per_coord = np.degrees(np.nanmean(err[:, free], axis=0))
    assert np.nanmean(per_coord) < 4.0, dict(zip(np.array(space.names)[free], per_coord.round(2)))
    for name in ("hip_flexion_r", "knee_angle_r", "ankle_angle_r", "hip_flexion_l", "knee_angle_l"):
        j = space.index(name)
        assert np.degrees(np.nanmean(err[:, j])) < 5.0, name


def test_subject_folders_open_in_opensim(built):
    out, _, _ = built
    osim = import_opensim()
    for subject in ("s000", "s001"):
        d = out / "subjects" / subject
        for f in (f"{subject}_static.trc", "squat_ik.mot", "squat_marker_errors.sto", "normal_ik.mot",
                  "normal.trc", "squat_source.mot"):
            assert (d / f).is_file(), f
        model = osim.Model(str(d / f"{subject}_scaled.osim"))
        model.initSystem()
        table = osim.TimeSeriesTable(str(d / "squat_ik.mot"))
        assert table.getNumRows() == 31
        assert read_trc(d / "squat.trc").positions.shape == (31, 142, 3)
        times, q, names = read_coordinates(d / "squat_source.mot")
        assert q.shape == (31, len(names))


def test_rerun_refuses_then_resumes(built):
    out, argv, _ = built
    before = (out / "manifest.json").read_bytes()
    assert main(argv) == 2  # a dataset is there: nothing changes without --overwrite
    assert (out / "manifest.json").read_bytes() == before
    # an interrupted build (no manifest, no shards) resumes from the labelled subjects without labelling again
    (out / "manifest.json").unlink()
    shutil.rmtree(out / "shards")
    ik_mtime = (out / "subjects" / "s000" / "squat_ik.mot").stat().st_mtime_ns
    assert main(argv) == 0
    assert (out / "subjects" / "s000" / "squat_ik.mot").stat().st_mtime_ns == ik_mtime
    m = json.loads((out / "manifest.json").read_text())
    assert m["totals"]["trials"] == 4
