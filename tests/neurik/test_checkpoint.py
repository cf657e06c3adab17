"""Checkpoints: the shipped one loads for its model and marker set and is refused for others; evaluation runs
from the command line and its angle error equals an independent computation."""
from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from biopose_opensim.errors import InputFileError
from biopose_opensim.neurik import DEFAULT_CHECKPOINT, NeurIKSystem, default_checkpoint
from biopose_opensim.neurik.checkpoint import CheckpointMismatchError, read_checkpoint
from biopose_opensim.neurik.data import load_split


def test_shipped_checkpoint_loads_and_records_its_identity():
    path = default_checkpoint()
    assert path.stat().st_size < 30e6
    system, ckpt = NeurIKSystem.from_checkpoint(path)
    meta = ckpt.meta
    assert meta["identity"]["osim_model"]["file"] == "RajagopalLaiUhlrich2023.osim"
    assert meta["identity"]["marker_set"]["file"] == "anny_d3ke_rajagopal2023_markers.xml"
    assert len(meta["identity"]["marker_names"]) == 142 and len(meta["data"]) == 1
    assert {"settings", "overall"} <= set(meta["evaluation"][0])
    assert len(system.marker_names) == 142
    # a standing subject facing +x: pelvis height and level pelvis come out as such
    fk = system.fk
    q = fk.default_q(40).clone()
    q[:, fk.coordinate_names.index("pelvis_ty")] = 0.93
    with torch.no_grad():
        mk = fk(q, system.out_map.scale_mean.expand(40, -1, -1)).markers[:, system.marker_index]
    qp, sp = system.predict_trial(mk)
    lo, hi = fk.coordinate_ranges.T
    assert ((qp >= lo) & (qp <= hi)).all()
    assert abs(float(qp[:, fk.coordinate_names.index("pelvis_ty")].mean()) - 0.93) < 0.05


def test_checkpoint_for_another_marker_set_is_refused(tmp_path):
    src = default_checkpoint()
    stem = tmp_path / "other"
    shutil.copy(src, stem.with_suffix(".safetensors"))
    meta = json.loads(src.with_suffix(".json").read_text())
    meta["identity"]["marker_names"] = meta["identity"]["marker_names"][:-2] + ["XTRA1", "XTRA2"]
    meta["identity"]["marker_set"]["names_sha256"] = "0" * 64
    stem.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointMismatchError, match="marker set .* differs"):
        NeurIKSystem.from_checkpoint(stem.with_suffix(".json"))
    meta = json.loads(src.with_suffix(".json").read_text())
    meta["identity"]["osim_model"]["sha256"] = "f" * 64
    stem.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointMismatchError, match="OpenSim model RajagopalLaiUhlrich2023.osim"):
        NeurIKSystem.from_checkpoint(stem)


def test_bad_checkpoint_files(tmp_path):
    with pytest.raises(InputFileError, match="checkpoint file not found"):
        read_checkpoint(tmp_path / "missing.safetensors")
    (tmp_path / "x.safetensors").write_bytes(b"not weights")
    (tmp_path / "x.json").write_text('{"format": "something else"}')
    with pytest.raises(InputFileError, match="not a NeurIK checkpoint"):
        read_checkpoint(tmp_path / "x.json")
    assert DEFAULT_CHECKPOINT.with_suffix(".json").is_file()


def test_evaluate_cli_matches_an_independent_computation(fk_dataset, tmp_path):
    """``python -m biopose_opensim.evaluate`` on the shipped checkpoint: exit 0, the reports, and an
    ``mae_angle_deg`` equal (1e-6 deg) to a plain numpy computation from ``predict_trial``."""
    out = tmp_path / "eval"
    r = subprocess.run([sys.executable, "-m", "biopose_opensim.evaluate", "--data", str(fk_dataset), "--split",
                        "test", "--out", str(out), "--no-progress"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    got = json.loads((out / "metrics.json").read_text())
    assert {"metrics.json", "metrics.md", "coordinate_errors.png"} <= {p.name for p in out.iterdir()}
    system, _ = NeurIKSystem.from_checkpoint(default_checkpoint())
    fk = system.fk
    d = load_split([fk_dataset], "test", system.marker_names, fk.coordinate_names, fk.body_names)
    keep = (fk.rotational & ~fk.locked).numpy()
    errs = []
    for t in range(len(d.trial_names)):
        sel = (d.trial == t).numpy()
        q, _ = system.predict_trial(d.markers[sel])
        diff = q.numpy() - d.q[sel].numpy()
        errs.append(np.abs(np.arctan2(np.sin(diff), np.cos(diff)))[:, keep])
    want = math.degrees(float(np.concatenate(errs).mean()))
    assert got["overall"]["mae_angle_deg"] == pytest.approx(want, abs=1e-6)
    assert got["overall"]["frames"] == d.n_frames
    again = subprocess.run([sys.executable, "-m", "biopose_opensim.evaluate", "--data", str(fk_dataset), "--split",
                            "test", "--out", str(out), "--no-progress"], capture_output=True, text=True, timeout=600)
    assert again.returncode == 2 and "already holds an evaluation" in again.stderr
    assert json.loads((out / "metrics.json").read_text()) == got
    r = subprocess.run([sys.executable, "-m", "biopose_opensim.evaluate", "--data", str(tmp_path / "none"),
                        "--out", str(tmp_path / "e2"), "--no-progress"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "dataset folder does not exist" in r.stderr and "Traceback" not in r.stderr
