"""``python -m biopose_opensim.predict`` end to end with the shipped checkpoint and real OpenSim.

The trials are virtual markers of the checkpoint's own model and marker set, made by the FK layer at a moving pose
and the checkpoint's mean bone scales, written as real TRC files (mm). Tolerances: OpenSim's markers against the
FK layer's (float64) for the same q and scales, and the marker-error file against the FK layer's errors: 1e-5 m;
the .mot read back by OpenSim against the prediction: 1e-6 (printed with 12 digits); scale factors read back from
the ScaleSet OpenSim applied: 1e-9.
"""
from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest
import torch

from biopose_opensim.io import MarkerData, write_trc
from biopose_opensim.neurik import NeurIKSystem, default_checkpoint
from biopose_opensim.osim import import_opensim, read_scale_factors
from biopose_opensim.predict import main

N_FRAMES = 30
RATE = 30.0


def _markers(system, n_frames: int, phase: float = 0.0) -> np.ndarray:
    """(F, M, 3) m: the network's markers at a gait-like pose, mean scales."""
    fk = system.fk
    q = fk.default_q(n_frames).double()
    t = torch.arange(n_frames, dtype=torch.float64) / RATE + phase
    for name, amp in (("hip_flexion_r", 0.4), ("hip_flexion_l", -0.4), ("knee_angle_r", 0.5), ("knee_angle_l", 0.3),
                      ("arm_flex_r", 0.3), ("elbow_flex_l", 0.6)):
        i = fk.coordinate_names.index(name)
        q[:, i] = q[:, i] + amp * (0.5 + 0.5 * torch.sin(2 * torch.pi * t))
    q[:, fk.coordinate_names.index("pelvis_ty")] = 0.95
    q[:, fk.coordinate_names.index("pelvis_tx")] = 1.2 * t
    s = system.out_map.scale_mean.double().expand(n_frames, -1, -1)
    with torch.no_grad():
        m = fk.double()(q, s).markers[:, system.marker_index]
    fk.float()
    return m.numpy()


def _write(path, names, markers, start_time=0.0):
    n = markers.shape[0]
    data = MarkerData(names, markers, start_time + np.arange(n) / RATE, RATE, np.arange(1, n + 1), source_units="m")
    write_trc(path, data, units="mm")
    return path


@pytest.fixture(scope="module")
def system():
    return NeurIKSystem.from_checkpoint(default_checkpoint())[0]


@pytest.fixture(scope="module")
def run(system, tmp_path_factory):
    d = tmp_path_factory.mktemp("predict")
    names = system.marker_names
    walk = _markers(system, N_FRAMES)
    walk[5, names.index("LTOE")] = np.nan  # a marker missing in one frame: handled and flagged
    trials = d / "s01"
    trials.mkdir()
    _write(trials / "walk.trc", names, walk)
    _write(trials / "one.trc", names, _markers(system, 1, 0.3))  # a 1-frame trial
    static = _write(d / "s01_static.trc", names, _markers(system, 5)[:1].repeat(5, axis=0))
    out = d / "out"
    rc = main(["--trc", str(trials), "--static", str(static), "--out", str(out), "--no-progress"])
    assert rc == 0
    return d, out, walk, static


def test_outputs_and_summary(run):
    _, out, _, _ = run
    names = {p.name for p in out.iterdir()}
    assert {"walk_neurik.mot", "one_neurik.mot", "walk_neurik_marker_errors.sto", "s01_neurik_scaled.osim",
            "s01_neurik_scale_set.xml", "predict.json", "report.md", "walk_neurik_angles.png"} <= names
    assert not [n for n in names if n.startswith(".")]  # no staging left behind
    doc = json.loads((out / "predict.json").read_text())
    assert doc["subject"] == "s01" and doc["scale"]["source"] == "static" and doc["scale"]["frames"] == 5
    assert doc["checkpoint"]["osim_model"]["file"] == "RajagopalLaiUhlrich2023.osim"
    assert len(doc["checkpoint"]["weights_sha256"]) == 64
    trials = {t["trial"]: t for t in doc["trials"]}
    assert trials["walk"]["frames"] == N_FRAMES and trials["one"]["frames"] == 1
    assert trials["walk"]["frames_with_missing_markers"] == 1 and trials["walk"]["missing_frames"] == [5]
    assert trials["walk"]["markers_missing_somewhere"] == ["LTOE"]
    assert trials["walk"]["source_units"] == "mm"
    assert doc["timings"]["model_load_seconds"] > 0 and doc["timings"]["solve_seconds"] > 0
    assert doc["markers"]["measured"] < doc["markers"]["network"]  # ground projections are not measured
    assert all(n.startswith("Virtual_Ground") for n in doc["markers"]["not_measured"])
    report = (out / "report.md").read_text()
    assert "| walk | 30 |" in report and "![walk](walk_neurik_angles.png)" in report


def test_mot_is_read_by_opensim_with_the_model_coordinates(run, system):
    _, out, _, _ = run
    osim = import_opensim()
    table = osim.TimeSeriesTable(str(out / "walk_neurik.mot"))
    assert list(table.getColumnLabels()) == list(system.fk.all_coordinate_names)
    assert table.getTableMetaDataAsString("inDegrees") == "yes"
    times = np.array(table.getIndependentColumn())
    np.testing.assert_allclose(times, np.arange(N_FRAMES) / RATE, atol=1e-9)
    model = osim.Model(str(out / "s01_neurik_scaled.osim"))
    model.initSystem()
    knee = np.array(table.getDependentColumn("knee_angle_r").to_numpy())
    assert knee.max() > 10  # degrees, not radians
    assert model.getCoordinateSet().get("knee_angle_r").getMotionType() == 1  # Rotational
    one = osim.TimeSeriesTable(str(out / "one_neurik.mot"))
    assert one.getNumRows() == 1


def test_scaled_model_loads_and_carries_the_predicted_factors(run, system):
    d, out, _, static = run
    osim = import_opensim()
    model = osim.Model(str(out / "s01_neurik_scaled.osim"))
    model.initSystem()
    ms = model.getMarkerSet()
    assert all(ms.contains(n) for n in system.marker_names)
    from biopose_opensim.prediction import read_trial

    st = read_trial(static, system.marker_names)
    _, s = system.predict_trial(torch.as_tensor(st.markers, dtype=torch.float32))
    expected = np.median(s.double().numpy(), axis=0)
    factors = dict(read_scale_factors(out / "s01_neurik_scale_set.xml", list(system.fk.body_names)))
    got = np.array([factors[b] for b in system.fk.body_names])
    np.testing.assert_allclose(got, expected, rtol=5e-6)  # OpenSim prints the ScaleSet with 6 significant digits
    doc = json.loads((out / "predict.json").read_text())
    factors = np.array([doc["scale"]["factors"][b] for b in system.fk.body_names])
    np.testing.assert_allclose(factors, expected, atol=1e-7)
    assert np.ptp(factors) > 1e-2  # not all ones
    # the scaled .osim itself: its geometry (read without scales) is the generic model's with those factors
    from biopose_opensim.kinematics import OsimFK

    scaled = OsimFK.from_osim(out / "s01_neurik_scaled.osim", dtype=torch.float64)
    generic = OsimFK.from_osim(system.config.model_path(), dtype=torch.float64,
                               marker_set=system.config.marker_set_path())
    q = torch.as_tensor(np.random.default_rng(0).uniform(-0.3, 0.3, (4, generic.n_coordinates)))
    idx = [scaled.marker_names.index(n) for n in generic.marker_names]
    a = scaled(q).markers[:, idx].numpy()
    b = generic(q, torch.as_tensor(factors).expand(4, -1, -1)).markers.numpy()
    assert np.abs(a - b).max() < 1e-6


def test_marker_errors_agree_with_the_fk_layer(run, system):
    _, out, walk, _ = run
    osim = import_opensim()
    doc = json.loads((out / "predict.json").read_text())
    table = osim.TimeSeriesTable(str(out / "walk_neurik_marker_errors.sto"))
    labels = list(table.getColumnLabels())
    assert labels[:3] == ["total_squared_error", "marker_error_RMS", "marker_error_max"]
    measured = labels[3:]
    assert len(measured) == doc["markers"]["measured"]
    errors = np.column_stack([table.getDependentColumn(n).to_numpy() for n in measured])
    # the FK layer (float64) at the predicted independent q (read back from the .mot) and the subject's scales
    mot = osim.TimeSeriesTable(str(out / "walk_neurik.mot"))
    fk = system.fk
    full = np.column_stack([mot.getDependentColumn(n).to_numpy() for n in fk.all_coordinate_names])
    model = osim.Model(str(out / "s01_neurik_scaled.osim"))
    model.initSystem()
    degrees = [model.getCoordinateSet().get(n).getMotionType() == 1 for n in fk.all_coordinate_names]
    full = np.where(degrees, np.radians(full), full)
    q = torch.as_tensor(full[:, [fk.all_coordinate_names.index(n) for n in fk.coordinate_names]])
    s = torch.as_tensor([doc["scale"]["factors"][b] for b in fk.body_names], dtype=torch.float64)
    with torch.no_grad():
        fk64 = fk.double()
        m = fk64(q, s.expand(len(q), -1, -1)).markers.numpy()
        fk.float()
    idx = [fk.marker_names.index(n) for n in measured]
    trc = walk[:, [system.marker_names.index(n) for n in measured]]
    expected = np.linalg.norm(m[:, idx] - trc, axis=-1)
    assert np.isnan(errors[5, measured.index("LTOE")]) and np.isnan(expected[5, measured.index("LTOE")])
    diff = np.nanmax(np.abs(errors - expected))
    assert diff < 1e-5, diff
    rms = table.getDependentColumn("marker_error_RMS").to_numpy()
    np.testing.assert_allclose(rms, np.sqrt(np.nanmean(expected**2, axis=1)), atol=1e-5)
    assert all(t["opensim_vs_fk_max_m"] < 1e-5 for t in doc["trials"])


def _refused(argv, out, caplog, match):
    before = sorted(p.name for p in out.iterdir()) if out.is_dir() else None
    with caplog.at_level(logging.ERROR):
        rc = main(argv + ["--out", str(out), "--no-progress", "--overwrite"])
    assert rc == 2
    assert match in caplog.text, caplog.text
    after = sorted(p.name for p in out.iterdir()) if out.is_dir() else None
    assert after == before  # nothing written, earlier outputs kept
    caplog.clear()


def test_bad_inputs_are_refused_with_a_clear_message(run, system, tmp_path, caplog):
    _, out, walk, _ = run
    names = list(system.marker_names)
    keep = [i for i, n in enumerate(names) if n not in ("LASI", "RKNE", "C7")]
    lacking = _write(tmp_path / "lacking.trc", [names[i] for i in keep], walk[:, keep])
    _refused(["--trc", str(lacking)], out, caplog, "lacks 3 marker(s) the network needs: C7, LASI, RKNE")
    blank = walk.copy()
    blank[3] = np.nan
    nan_trc = _write(tmp_path / "blank.trc", names, blank)
    _refused(["--trc", str(nan_trc)], out, caplog, "blank.trc: 1 frame(s) have none of the network's markers: frame 4")
    _refused(["--trc", str(tmp_path / "absent.trc")], out, caplog, "absent.trc: marker file not found")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    _refused(["--trc", str(lacking)], a_file, caplog, "is an existing file, not a folder")
    # a checkpoint of another OpenSim model
    src = default_checkpoint()
    stem = tmp_path / "other"
    shutil.copy(src, stem.with_suffix(".safetensors"))
    meta = json.loads(src.with_suffix(".json").read_text())
    meta["identity"]["osim_model"]["sha256"] = "f" * 64
    stem.with_suffix(".json").write_text(json.dumps(meta))
    good = _write(tmp_path / "good.trc", names, walk)
    _refused(["--trc", str(good), "--checkpoint", str(stem.with_suffix(".json"))], out, caplog,
             "OpenSim model RajagopalLaiUhlrich2023.osim")


def test_z_up_trials_are_rotated_and_upside_down_refused(tmp_path, system):
    """The shipped sample's walk written z up (a lab frame) reads back as the y-up original (1e-9 m); written with
    the head along -y it is refused naming the direction."""
    from biopose_opensim.errors import InputFileError
    from biopose_opensim.io import read_trc
    from biopose_opensim.paths import PACKAGE_DATA_DIR
    from biopose_opensim.prediction import read_trial

    src = PACKAGE_DATA_DIR / "neurik_sample" / "walk.trc"
    original = read_trial(src, system.marker_names)
    data = read_trc(src)
    for rot, name in ((np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]]), "zup"),
                      (np.array([[1.0, 0, 0], [0, -1, 0], [0, 0, -1]]), "down")):
        moved = MarkerData(marker_names=data.marker_names, times=data.times, positions=data.positions @ rot.T,
                           rate=data.rate, frame_numbers=data.frame_numbers)
        path = write_trc(tmp_path / f"{name}.trc", moved, units="m")
        if name == "zup":
            got = read_trial(path, system.marker_names)
            assert np.allclose(got.markers, original.markers, atol=1e-9, equal_nan=True)
        else:
            with pytest.raises(InputFileError, match="feet-to-head direction is -y"):
                read_trial(path, system.marker_names)


def test_an_earlier_prediction_is_kept_without_overwrite(run, caplog):
    """A folder that holds a prediction is refused (exit 2, files unchanged) unless --overwrite."""
    d, out, _, _ = run
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    with caplog.at_level(logging.ERROR):
        rc = main(["--trc", str(d / "s01" / "walk.trc"), "--out", str(out), "--no-progress"])
    assert rc == 2 and "already holds a prediction (predict.json)" in caplog.text
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
