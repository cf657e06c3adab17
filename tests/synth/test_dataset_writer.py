"""Dataset writer: shards keep whole trials of one split, the manifest indexes them, the card summarises them."""
from __future__ import annotations

import json

import numpy as np
import pytest

from biopose_opensim.synth.card import CardStats, write_card
from biopose_opensim.datasets import Dataset, DatasetNames, ShardWriter, iter_trials, write_manifest
from biopose_opensim.datasets import LabelledTrial, SubjectRecord

NAMES = DatasetNames(marker_names=("A", "B", "C"), coordinate_names=("hip", "knee", "pelvis_ty"),
                     body_names=("pelvis", "femur"), bony_markers=("A",))


def _trial(subject: str, name: str, T: int, seed: int, activity: str = "walk") -> LabelledTrial:
    rng = np.random.default_rng(seed)
    q = rng.uniform(-0.5, 0.5, size=(T, 3))
    err = rng.uniform(0.0, 0.012, size=(T, 3))
    err[0, 2] = np.nan
    markers = rng.normal(size=(T, 3, 3))
    markers[0, 2] = np.nan
    return LabelledTrial(subject=subject, name=name, activity=activity, times=np.arange(T) / 60.0, markers=markers,
                         q=q, q_mask=err < 0.01, s=np.full((2, 3), 1.0 + seed / 10), marker_error=err,
                         q_source=q + 0.01, rate=60.0, files={"trc": f"subjects/{subject}/{name}.trc"})


def test_shards_manifest_and_card(tmp_path):
    writer = ShardWriter(tmp_path, NAMES, shard_frames=100)
    stats = CardStats(NAMES.coordinate_names, np.array([-1.0, -1.0, 0.0]), np.array([1.0, 1.0, 2.0]),
                      np.array([True, True, False]))
    plan = {"s0": "train", "s1": "train", "s2": "test"}
    trials = [_trial("s0", "walk_1", 70, 0), _trial("s0", "squat_1", 50, 1, "squat"),
              _trial("s1", "walk_1", 40, 2), _trial("s2", "walk_1", 30, 3)]
    for t in trials:
        writer.add(t, plan[t.subject])
        stats.add(t)
    writer.close()
    subjects = [SubjectRecord(s, sp, "female", 30.0, 1.7, 65.0, "anny", {"height": 0.5}, f"subjects/{s}/x.osim")
                for s, sp in plan.items()]
    manifest = write_manifest(tmp_path, NAMES, subjects, writer, {"seed": 0, "fps": 60.0})
    card = write_card(tmp_path, stats, subjects, {"fps": 60.0, "name": "unit"}, {"threshold": 0.01,
                                                                                  "bony_markers": ["A"]})
    m = json.loads(manifest.read_text())
    assert m["splits"] == {"train": ["s0", "s1"], "val": [], "test": ["s2"]}
    assert m["totals"]["frames"] == 190 and m["totals"]["frames_per_split"] == {"train": 160, "val": 0, "test": 30}
    # train: 70 + 50 frames fill the first shard (>= 100), 40 go to a second; test: one shard
    assert [(s["split"], s["n_frames"], s["n_trials"]) for s in m["shards"]] == \
        [("train", 120, 2), ("train", 40, 1), ("test", 30, 1)]

    ds = Dataset.open(tmp_path)
    train = ds.load("train")
    assert train["markers"].shape == (160, 3, 3) and train["markers"].dtype == np.float32
    assert train["q"].shape == (160, 3) and train["s"].shape == (160, 2, 3)
    assert train["marker_mask"].shape == (160, 3) and not train["marker_mask"][0, 2]
    assert list(train["trial_subjects"]) == ["s0", "s0", "s1"]
    np.testing.assert_allclose(train["q"][:70], trials[0].q.astype(np.float32))
    np.testing.assert_array_equal(train["q_mask"][70:120], trials[1].q_mask)
    # every trial is whole inside one shard, frames in order
    for t in m["trials"]:
        with np.load(tmp_path / t["shard"]) as z:
            (idx,) = np.flatnonzero((z["trial_names"] == t["name"]) & (z["trial_subjects"] == t["subject"]))
            sel = z["trial"] == idx
            assert sel.sum() == t["n_frames"] and np.array_equal(z["frame"][sel], np.arange(t["n_frames"]))
    got = {(s, n): a["q"].shape[0] for s, n, a in iter_trials(ds)}
    assert got == {("s0", "walk_1"): 70, ("s0", "squat_1"): 50, ("s1", "walk_1"): 40, ("s2", "walk_1"): 30}

    text = card.read_text()
    assert "| 3 | 2 | 0 | 1 | 4 | 190 |" in text
    assert "| squat | 1 | 50 |" in text and "| walk | 3 | 140 |" in text
    assert (tmp_path / "card" / "coordinate_coverage.png").stat().st_size > 1000
    assert (tmp_path / "card" / "ik_rms.png").stat().st_size > 1000
    med = np.nanmedian(np.concatenate([t.frame_rms() for t in trials])) * 1e3
    assert f"median **{med:.2f} mm**" in text
    # label vs source: constant 0.01 rad offset = 0.57 deg wherever unmasked
    assert "| hip | 0.57° | 0.57° |" in text


def test_shape_mismatch_is_refused(tmp_path):
    writer = ShardWriter(tmp_path, NAMES)
    bad = _trial("s0", "x", 10, 0)
    bad = LabelledTrial(**{**bad.__dict__, "q": np.zeros((10, 4))})
    with pytest.raises(ValueError, match=r"s0/x: q has shape \(10, 4\), expected \(10, 3\)"):
        writer.add(bad, "train")
