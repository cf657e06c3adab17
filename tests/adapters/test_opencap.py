"""OpenCap sessions: discovery, bad layouts, and a session labelled into the dataset format.

The session is built from the Rajagopal (2016) walking data in ``tests/data/rajagopal_walk`` laid out as
OpenCap lays out a download (MarkerData/, OpenSimData/Model/, sessionMetadata.yaml); its model is the
default model carrying that data set's marker set, as an OpenCap model carries OpenCap's markers.
"""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from biopose_opensim.adapters import read_opencap_session
from biopose_opensim.adapters.__main__ import main
from biopose_opensim.errors import InputFileError
from biopose_opensim.osim import import_opensim
from biopose_opensim.datasets import Dataset


def _session(root, data_dir, default_model, with_model=True, mot=None):
    md = root / "MarkerData"
    md.mkdir(parents=True)
    shutil.copy(data_dir / "rajagopal_walk" / "ExpData" / "static_walk_1.trc", md / "neutral.trc")
    shutil.copy(data_dir / "rajagopal_walk" / "ExpData" / "motion_capture_walk.trc", md / "walking1.trc")
    (root / "sessionMetadata.yaml").write_text("subjectID: subj_07\nmass_kg: 85.07\nheight_m: 1.829\n"
                                               "gender_mf: m\nopenSimModel: LaiUhlrich2022\n")
    if with_model:
        osim = import_opensim()
        model = osim.Model(str(default_model))
        model.updMarkerSet().clearAndDestroy()
        ms = osim.MarkerSet(str(data_dir / "rajagopal_walk" / "Scale" / "markerset_walk_preScale.xml"))
        for i in range(ms.getSize()):
            model.addMarker(ms.get(i).clone())
        model.finalizeConnections()
        (root / "OpenSimData" / "Model").mkdir(parents=True)
        model.printToXML(str(root / "OpenSimData" / "Model" / "LaiUhlrich2022_scaled.osim"))
    if mot is not None:
        (root / "OpenSimData" / "Kinematics").mkdir(parents=True, exist_ok=True)
        shutil.copy(mot, root / "OpenSimData" / "Kinematics" / "walking1.mot")
    return root


def test_discovery(tmp_path, data_dir, default_model):
    s = read_opencap_session(_session(tmp_path / "OpenCapData_x", data_dir, default_model, with_model=False))
    assert s.name == "subj_07" and s.mass == pytest.approx(85.07) and s.height == pytest.approx(1.829)
    assert s.sex == "male" and s.static.name == "neutral.trc" and s.model is None
    assert [t.name for t in s.trials] == ["walking1"] and s.trials[0].mot is None


def test_bad_sessions_are_explained(tmp_path, data_dir, default_model):
    with pytest.raises(InputFileError, match="expected a MarkerData/ folder"):
        read_opencap_session(tmp_path)
    root = _session(tmp_path / "s", data_dir, default_model, with_model=False)
    (root / "MarkerData" / "neutral.trc").rename(root / "MarkerData" / "pose.trc")
    with pytest.raises(InputFileError, match=r"no static trial \(named 'neutral'.*trials: pose, walking1"):
        read_opencap_session(root)
    (root / "sessionMetadata.yaml").write_text("mass_kg: -3\n")
    with pytest.raises(InputFileError, match="mass_kg must be positive"):
        read_opencap_session(root, static="pose")


@pytest.mark.slow
def test_session_labelled_into_dataset(tmp_path, data_dir, default_model):
    sessions = tmp_path / "sessions"
    _session(sessions / "OpenCapData_a", data_dir, default_model)
    out = tmp_path / "ds"
    rc = main(["opencap", "--out", str(out), "--workers", "1", "--no-progress", str(sessions / "OpenCapData_a")])
    assert rc == 0
    m = json.loads((out / "manifest.json").read_text())
    assert [s["name"] for s in m["subjects"]] == ["subj_07"]
    sub = m["subjects"][0]
    assert sub["mass"] == pytest.approx(85.07) and sub["height"] == pytest.approx(1.829) and sub["sex"] == "male"
    assert m["totals"]["trials"] == 1 and m["totals"]["frames"] == 238
    assert {"R.ASIS", "L.PSIS", "R.Knee", "L.Ankle"} <= set(m["bony_markers"])
    d = Dataset.open(out).load()
    names = list(m["coordinate_names"])
    knee = np.degrees(d["q"][:, names.index("knee_angle_r")])
    assert 45.0 < np.ptp(knee) < 80.0  # a walking knee: swing flexion of roughly 60 degrees
    # the data set's marker set keeps its thigh and upper-arm clusters fixed (37 fixed markers), so IK leaves
    # about 27 mm RMS, as label's own run of this subject reports (docs/label.md); tolerance 30 mm
    assert m["card_summary"]["ik_rms_median_mm"] < 30.0
    assert np.isnan(d["q_source"]).all()  # this session carries no OpenCap kinematics
    assert (out / "opencap_markers.xml").is_file()
