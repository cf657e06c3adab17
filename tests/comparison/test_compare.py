"""``python -m biopose_opensim.compare`` end to end on the shipped virtual-marker sample, with real OpenSim (label:
ScaleTool + InverseKinematicsTool at accuracy 1e-6) and the shipped NeurIK checkpoint.

Tolerances: the marker RMS of comparison.json against the mean of the ``marker_error_RMS`` column of each method's
OpenSim marker-error file: 1e-6 mm (the same numbers, written with 9+ digits); a comparison reusing the label
output against the first one: 1e-9 deg / mm (same labels, same network on the same CPU). Sanity bounds for the
sample: NeurIK within 15 deg MAE of OpenSim IK (the checkpoint's test-split MAE is about 2.3 deg), OpenSim IK's
marker RMS under 10 mm (virtual markers without noise), NeurIK's under 50 mm.
"""
from __future__ import annotations

import json
import logging
import math

import numpy as np
import pytest

from biopose_opensim.comparison import SAMPLE_DIR
from biopose_opensim.compare import main
from biopose_opensim.io import MarkerData, read_trc, write_trc

KEYS = ("mae_angle_deg", "mpblpe_mm", "mae_body_mm", "opensim_marker_rms_mm", "neurik_marker_rms_mm",
        "opensim_seconds", "neurik_seconds", "speedup", "per_coordinate", "loading_seconds")


def _sto_rms_mean(path) -> float:
    """Mean of the marker_error_RMS column of an OpenSim marker-error .sto (m)."""
    lines = path.read_text().splitlines()
    start = lines.index("endheader") + 1
    header = lines[start].split("\t")
    col = header.index("marker_error_RMS")
    return float(np.mean([float(row.split("\t")[col]) for row in lines[start + 1:] if row.strip()]))


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "out"
    rc = main(["--sample", "--out", str(out), "--no-progress"])
    assert rc == 0
    return out, json.loads((out / "comparison.json").read_text())


def test_sample_comparison_figures(first):
    out, d = first
    for key in KEYS:
        assert key in d, key
    assert d["n_frames"] == 75 and d["opensim_accuracy"] == pytest.approx(1e-6)
    assert math.isfinite(d["mae_angle_deg"]) and 0 < d["mae_angle_deg"] < 15
    assert 0 < d["mpblpe_mm"] < 100 and 0 <= d["mae_body_mm"] < 50
    assert 0 < d["opensim_marker_rms_mm"] < 10 and 0 < d["neurik_marker_rms_mm"] < 50
    assert d["opensim_seconds"] > 0 and d["neurik_seconds"] > 0
    assert d["speedup"] == pytest.approx(d["opensim_seconds"] / d["neurik_seconds"]) and d["speedup"] > 1
    assert d["label_reused"] is False and (out / "opensim" / "s000_scaled.osim").is_file()
    assert len(d["bony_markers"]) == 41
    per = d["per_coordinate"]
    assert "knee_angle_r" in per and per["knee_angle_r"]["unit"] == "deg"
    # a walk: the knee curves of both methods move together
    assert per["knee_angle_r"]["pearson_r"] > 0.9
    for c in per.values():
        assert c["rmse"] >= c["mae"] - 1e-12
    # the figures are the OpenSim marker-error files' own numbers
    assert d["opensim_marker_rms_mm"] == pytest.approx(1000 * _sto_rms_mean(out / "opensim" / "walk_marker_errors.sto"),
                                                       abs=1e-6)
    assert d["neurik_marker_rms_mm"] == pytest.approx(
        1000 * _sto_rms_mean(out / "neurik" / "walk_neurik_marker_errors.sto"), abs=1e-6)


def test_report_files(first):
    out, _ = first
    for name in ("report.md", "compare_angles.png", "compare_coordinate_errors.png", "compare_marker_errors.png",
                 "neurik/walk_neurik.mot"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    report = (out / "report.md").read_text()
    assert "## Timing" in report and "Speed-up" in report and "![angles](compare_angles.png)" in report
    assert (out / "compare_angles.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_label_dir_is_reused_and_out_refused_without_overwrite(first, tmp_path, caplog):
    out1, d1 = first
    out = tmp_path / "reuse"
    argv = ["--sample", "--label-dir", str(out1 / "opensim"), "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    d = json.loads((out / "comparison.json").read_text())
    assert d["label_reused"] is True and d["label_seconds"] is None
    assert not (out / "opensim").exists()  # label did not run
    for key in ("mae_angle_deg", "mpblpe_mm", "mae_body_mm", "opensim_marker_rms_mm", "neurik_marker_rms_mm"):
        assert d[key] == pytest.approx(d1[key], abs=1e-9), key
    before = (out / "comparison.json").read_bytes()
    with caplog.at_level(logging.ERROR):
        assert main(argv) == 2
    assert "already holds a comparison (comparison.json); pass --overwrite" in caplog.text
    assert (out / "comparison.json").read_bytes() == before
    assert main(argv + ["--overwrite"]) == 0


def _refused(argv, caplog, match):
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        rc = main(argv + ["--no-progress"])
    assert rc == 2
    assert match in caplog.text, caplog.text


def test_bad_inputs(tmp_path, caplog):
    walk, static = SAMPLE_DIR / "walk.trc", SAMPLE_DIR / "s000_static.trc"
    out = tmp_path / "out"
    _refused(["--trc", str(walk), "--static", str(tmp_path / "absent_static.trc"), "--out", str(out)], caplog,
             "absent_static.trc: --static: marker file not found")
    _refused(["--trc", str(walk), "--out", str(out)], caplog, "give --trc TRIAL.trc and --static STATIC.trc")
    data = read_trc(walk)
    keep = [i for i, n in enumerate(data.marker_names) if n not in ("C7", "LASI")]
    lacking = write_trc(tmp_path / "lacking.trc", MarkerData([data.marker_names[i] for i in keep],
                                                             data.positions[:, keep], data.times, data.rate,
                                                             data.frame_numbers, source_units="m"))
    _refused(["--trc", str(lacking), "--static", str(static), "--out", str(out)], caplog,
             "lacking.trc: lacks 2 marker(s) the network needs: C7, LASI")
    _refused(["--trc", str(walk), "--static", str(static), "--label-dir", str(tmp_path), "--out", str(out)], caplog,
             "--label-dir holds no labels of trial 'walk'")
    assert not out.exists()  # refused before OpenSim ran or anything was written
