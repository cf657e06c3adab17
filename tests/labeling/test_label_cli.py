"""``python -m biopose_opensim.label``: end to end in-process and in a subprocess, exit codes, refusal to
overwrite, and clear one-line messages for bad input (file, line, marker or window named; nothing lost)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from biopose_opensim.io import read_trc, write_trc
from biopose_opensim.label import main

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def short_walk(tmp_path_factory, gait2392_dir) -> Path:
    """0.5-0.8 s of the tutorial walk: enough for IK, quick to run."""
    path = tmp_path_factory.mktemp("walk") / "walk.trc"
    write_trc(path, read_trc(gait2392_dir / "subject01_walk1.trc").window(0.5, 0.8))
    return path


def _args(gait2392_dir, trial, out, *extra):
    return ["--model", str(gait2392_dir / "gait2392_simbody.osim"),
            "--markers", str(gait2392_dir / "gait2392_Scale_MarkerSet.xml"),
            "--static", str(gait2392_dir / "subject01_static.trc"), "--trials", str(trial),
            "--out", str(out), "--subject", "s01", "--mass", "72.6", *extra]


def test_end_to_end_refuse_and_overwrite(tmp_path, gait2392_dir, short_walk, caplog, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = Path("results") / "out"  # relative, as typed on a command line (regression: setups must still resolve)
    assert main(_args(gait2392_dir, short_walk, out)) == 0
    model, report = out / "s01_scaled.osim", out / "report.md"
    assert model.is_file() and report.is_file() and (out / "walk_ik.mot").is_file()
    assert "IK" in (out / "label.log").read_text()
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (model, report, out / "labels" / "walk.npz")}

    caplog.clear()
    assert main(_args(gait2392_dir, short_walk, out, "--static-window", "1", "2")) == 2
    assert "already holds results" in caplog.text and "--overwrite" in caplog.text
    for p, (data, mtime) in before.items():  # nothing lost, nothing touched
        assert p.read_bytes() == data and p.stat().st_mtime_ns == mtime

    assert main(_args(gait2392_dir, short_walk, out, "--overwrite", "--static-window", "1", "2")) == 0
    assert model.stat().st_mtime_ns > before[model][1]
    assert "1.000-2.000 s (configuration)" in report.read_text()
    assert not list(out.glob(".staging-*")) and not list(out.glob(".*.tmp"))


def test_subprocess_exit_codes(tmp_path, gait2392_dir):
    ok = subprocess.run([sys.executable, "-m", "biopose_opensim.label", "--help"], cwd=PROJECT,
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "--scale-setup" in ok.stdout and "--dataset" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "biopose_opensim.label", "--static", str(tmp_path / "nope.trc"),
                          "--trials", str(gait2392_dir / "subject01_walk1.trc"), "--out", str(tmp_path / "o")],
                         cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert "nope.trc: static trial not found" in bad.stderr and "Traceback" not in bad.stderr
    usage = subprocess.run([sys.executable, "-m", "biopose_opensim.label", "--out", str(tmp_path / "o")],
                           cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert usage.returncode == 2 and "give exactly one of --sample, --dataset ROOT" in usage.stderr


def _expect_error(args, caplog, *fragments):
    caplog.clear()
    assert main(args) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors, caplog.text
    for fragment in fragments:
        assert fragment in errors[-1], errors[-1]
    return errors[-1]


def test_malformed_and_unknown_units(tmp_path, gait2392_dir, caplog):
    lines = (gait2392_dir / "subject01_walk1.trc").read_text().splitlines()
    bad = list(lines)
    fields = bad[8].split("\t")
    fields[4] = "12.3abc"
    bad[8] = "\t".join(fields)
    trial = tmp_path / "bad_value.trc"
    trial.write_text("\n".join(bad) + "\n")
    _expect_error(_args(gait2392_dir, trial, tmp_path / "o1"), caplog, "bad_value.trc, line 9", "12.3abc")
    assert not (tmp_path / "o1" / "s01_scaled.osim").exists()  # checked before any scaling

    static = tmp_path / "static_units.trc"
    s = (gait2392_dir / "subject01_static.trc").read_text().splitlines()
    s[2] = s[2].replace("mm", "furlongs")
    static.write_text("\n".join(s) + "\n")
    args = _args(gait2392_dir, gait2392_dir / "subject01_walk1.trc", tmp_path / "o2")
    args[args.index("--static") + 1] = str(static)
    _expect_error(args, caplog, "static_units.trc, line 3", "unknown Units 'furlongs'")


def test_marker_names_the_model_lacks(tmp_path, gait2392_dir, short_walk, caplog):
    setup = (gait2392_dir / "subject01_Setup_Scale.xml").read_text()
    setup = setup.replace("<markers> R.ASIS R.Knee.Lat </markers>", "<markers> R.ASIS R.Knee.Latt </markers>")
    (tmp_path / "setup.xml").write_text(setup.replace("gait2392_simbody.osim",
                                                      str(gait2392_dir / "gait2392_simbody.osim"))
                                        .replace("gait2392_Scale_MarkerSet.xml",
                                                 str(gait2392_dir / "gait2392_Scale_MarkerSet.xml")))
    args = _args(gait2392_dir, short_walk, tmp_path / "o", "--scale-setup", str(tmp_path / "setup.xml"))
    _expect_error(args, caplog, "needed by the scale measurements are not in the model", "R.Knee.Latt",
                  "closest: R.Knee.Lat")


def test_too_few_shared_markers(tmp_path, gait2392_dir, caplog):
    walk = read_trc(gait2392_dir / "subject01_walk1.trc").window(0.5, 0.7)
    keep = ["R.ASIS", "L.ASIS", "V.Sacral", "R.Heel"]
    few = walk.select(keep + ["L.Heel"]).rename({"L.Heel": "LeftHeelMarker"})
    trial = tmp_path / "few.trc"
    write_trc(trial, few)
    msg = _expect_error(_args(gait2392_dir, trial, tmp_path / "o"), caplog,
                        "few.trc: only 4 marker(s) shared with the model", "at least 6 needed", "LeftHeelMarker")
    assert "R.ASIS" in msg


def test_static_window_outside_and_missing_files(tmp_path, gait2392_dir, short_walk, caplog):
    _expect_error(_args(gait2392_dir, short_walk, tmp_path / "o1", "--static-window", "10", "11"), caplog,
                  "subject01_static.trc", "static window 10-11 s does not exist in this trial")
    _expect_error(_args(gait2392_dir, tmp_path / "missing.trc", tmp_path / "o2"), caplog,
                  "missing.trc: trial not found")
    args = _args(gait2392_dir, short_walk, tmp_path / "o3")
    args[1] = str(tmp_path / "nomodel.osim")
    _expect_error(args, caplog, "nomodel.osim: model file not found")
    _expect_error(_args(gait2392_dir, short_walk, tmp_path / "o4", "--accuracy", "-1"), caplog,
                  "accuracy must be a positive number")
    _expect_error(_args(gait2392_dir, short_walk, tmp_path / "o5", "--mass", "-3"), caplog,
                  "--mass must be a number in (0, 500) kg, got -3.0")


def test_gappy_static_window(tmp_path, gait2392_dir, short_walk, caplog):
    static = read_trc(gait2392_dir / "subject01_static.trc")
    pos = static.positions.copy()
    k = static.marker_names.index("R.Knee.Lat")
    pos[60:120, k] = np.nan  # 1 s gap in a marker the scaling uses
    path = tmp_path / "static_gap.trc"
    write_trc(path, static.with_positions(pos))
    args = _args(gait2392_dir, short_walk, tmp_path / "o", "--static-window", "1", "2")
    args[args.index("--static") + 1] = str(path)
    _expect_error(args, caplog, "R.Knee.Lat", "missing in frames of the static window 1-2 s")
