"""Virtual subjects: seeded spread of shapes, range checks, shape files, subject-wise splits."""
from __future__ import annotations

import json

import numpy as np
import pytest

from biopose_opensim.errors import ConfigError, InputFileError
from biopose_opensim.synth.subjects import (
    SubjectShape,
    anny_age_phenotype,
    load_shapes,
    sample_subjects,
    split_subjects,
    validate_shape,
)


def test_anny_subjects_are_seeded_and_spread():
    a = sample_subjects(12, seed=3)
    b = sample_subjects(12, seed=3)
    c = sample_subjects(12, seed=4)
    assert a == b and a != c
    assert {s.sex for s in a} == {"male", "female"}
    assert sum(s.sex == "female" for s in a) == 6  # alternating
    ages = np.array([s.age for s in a])
    assert ages.min() >= 18 and ages.max() <= 70 and np.ptp(ages) > 15
    heights = np.array([s.phenotype_dict()["height"] for s in a])
    weights = np.array([s.phenotype_dict()["weight"] for s in a])
    assert np.ptp(heights) > 0.1 and np.ptp(weights) > 0.2
    for s in a:
        validate_shape(s)
        g = s.phenotype_dict()["gender"]
        assert (g >= 0.85) if s.sex == "female" else (g <= 0.15)


def test_anny_age_uses_annys_calibration():
    # Anny's anchors: phenotype 0.77 is 18 years, 0.83 is 64 years
    assert anny_age_phenotype(18.0) == pytest.approx(0.77)
    assert anny_age_phenotype(64.0) == pytest.approx(0.83)


def test_smpl_subjects_have_bounded_betas():
    subs = sample_subjects(5, seed=0, body_model="smpl")
    for s in subs:
        assert len(s.betas) == 10 and max(abs(b) for b in s.betas) <= 2.5 and not s.phenotype


def test_bad_body_model_lists_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown body model 'star'; valid body models: anny, smpl"):
        sample_subjects(2, 0, body_model="star")


@pytest.mark.parametrize("shape, message", [
    (SubjectShape("s9", "anny", "female", 30.0, phenotype=(("height", 1.4),)), r"s9.*height=1.4 is out of range \[0, 1\]"),
    (SubjectShape("s9", "anny", "female", 30.0, phenotype=(("hair", 0.4),)), r"unknown Anny phenotype 'hair'"),
    (SubjectShape("s9", "smpl", "male", 30.0, betas=(0.0, 7.5)), r"betas\[1\]=7.5 is out of range"),
    (SubjectShape("s9", "anny", "robot", 30.0), r"sex 'robot'"),
    (SubjectShape("s9", "anny", "male", 150.0), r"age 150.0 years"),
])
def test_out_of_range_shapes_are_rejected(shape, message):
    with pytest.raises(ConfigError, match=message):
        validate_shape(shape)


def test_shape_file_round_trip_and_errors(tmp_path):
    good = tmp_path / "shapes.json"
    good.write_text(json.dumps([{"name": "tall", "sex": "male", "age": 40, "phenotype": {"height": 0.9}},
                                {"name": "short", "sex": "female", "age": 25, "phenotype": {"height": 0.1}}]))
    subs = load_shapes(good, "anny")
    assert [s.name for s in subs] == ["tall", "short"]
    assert subs[0].phenotype_dict()["height"] == 0.9 and subs[0].phenotype_dict()["weight"] == 0.5
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {name: a, sex: male, age: 30, phenotype: {weight: -0.2}}\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: subject 'a': phenotype weight=-0.2 is out of range"):
        load_shapes(bad, "anny")
    with pytest.raises(InputFileError, match="not found"):
        load_shapes(tmp_path / "missing.json", "anny")


@pytest.mark.parametrize("n", [1, 2, 3, 4, 10, 90])
def test_split_is_by_subject_and_covers_everyone(n):
    names = [f"s{i:03d}" for i in range(n)]
    split = split_subjects(names, seed=1)
    assert set(split) == set(names)
    counts = {k: sum(v == k for v in split.values()) for k in ("train", "val", "test")}
    assert counts["train"] >= 1
    if n >= 2:
        assert counts["test"] >= 1
    if n >= 3:
        assert counts["val"] >= 1
    if n == 90:
        assert counts == {"train": 62, "val": 14, "test": 14}  # 13.5 rounds to 14
    assert split == split_subjects(names, seed=1)
