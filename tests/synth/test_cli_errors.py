"""Bad input to ``python -m biopose_opensim.synth``: one clear message naming what is wrong, exit status 2,
nothing built."""
from __future__ import annotations

import json
import logging

import pytest

from biopose_opensim.synth.__main__ import main


def _run(caplog, argv) -> tuple[int, str]:
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        rc = main([*argv, "--no-progress"])
    return rc, "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


def test_unknown_activity_lists_valid_ones(tmp_path, caplog):
    rc, msg = _run(caplog, ["--out", str(tmp_path / "d"), "--activities", "walk,cartwheel"])
    assert rc == 2
    assert "unknown activity 'cartwheel'; valid activities: walk, run, squat, sit_to_stand, drop_jump, lunge, " \
           "arm_raise, reach" in msg
    assert not (tmp_path / "d").exists()


def test_unknown_body_model_lists_valid_ones(tmp_path, caplog):
    rc, msg = _run(caplog, ["--out", str(tmp_path / "d"), "--body-model", "star"])
    assert rc == 2 and "unknown body model 'star'; valid body models: anny, smpl" in msg


def test_smpl_needs_the_users_model_files(tmp_path, caplog):
    rc, msg = _run(caplog, ["--out", str(tmp_path / "d"), "--body-model", "smpl"])
    assert rc == 2 and "--body-model smpl needs --smpl-model-dir" in msg
    empty = tmp_path / "models"
    empty.mkdir()
    rc, msg = _run(caplog, ["--out", str(tmp_path / "d"), "--body-model", "smpl", "--smpl-model-dir", str(empty)])
    assert rc == 2
    assert f"no SMPLH model file in {empty}" in msg and "SMPL_FEMALE.pkl" in msg and "licensed" in msg


def test_motion_with_foreign_coordinates_is_listed(tmp_path, caplog):
    bad = tmp_path / "robot.mot"
    bad.write_text("robot\nversion=1\nnRows=2\nnColumns=3\ninDegrees=yes\nendheader\n"
                   "time\thip_flexion_r\tgripper_open\n0\t1\t2\n0.1\t2\t3\n")
    rc, msg = _run(caplog, ["--out", str(tmp_path / "d"), "--motion", str(bad)])
    assert rc == 2 and "robot.mot: 1 column(s) do not match coordinates of RajagopalLaiUhlrich2023.osim: " \
                       "gripper_open" in msg
    rc, msg = _run(caplog, ["--out", str(tmp_path / "d2"), "--motion", str(tmp_path / "missing.mot")])
    assert rc == 2 and "missing.mot" in msg


def test_shape_parameters_out_of_range(tmp_path, caplog):
    shapes = tmp_path / "shapes.json"
    shapes.write_text(json.dumps([{"name": "giant", "sex": "male", "age": 30, "phenotype": {"height": 1.7}}]))
    rc, msg = _run(caplog, ["--out", str(tmp_path / "d"), "--shapes", str(shapes)])
    assert rc == 2 and "subject 'giant': phenotype height=1.7 is out of range [0, 1]" in msg


@pytest.mark.parametrize("flag, value, text", [
    ("--noise-mm", "-1", "--noise-mm must be >= 0"),
    ("--fps", "0", "fps must be a positive number"),
    ("--subjects", "0", "--subjects must be at least 1"),
    ("--workers", "0", "--workers must be at least 1"),
])
def test_bad_numbers(tmp_path, caplog, flag, value, text):
    rc, msg = _run(caplog, ["--out", str(tmp_path / "d"), flag, value])
    assert rc == 2 and text in msg


def test_foreign_output_folder_is_left_alone(tmp_path, caplog):
    out = tmp_path / "d"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    rc, msg = _run(caplog, ["--out", str(out), "--activities", "walk"])
    assert rc == 2 and "holds no synthetic dataset" in msg
    assert (out / "thesis.tex").read_text() == "precious" and sorted(p.name for p in out.iterdir()) == ["thesis.tex"]
