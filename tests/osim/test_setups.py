"""Scale and IK setup files: a lab's setups read, written back, and read again unchanged."""
from __future__ import annotations

import math
import os

import pytest

from biopose_opensim.errors import InputFileError
from biopose_opensim.osim import read_ik_setup, read_scale_setup, write_ik_setup, write_scale_setup


def test_scale_setup_round_trip(tmp_path, rajagopal_walk_dir):
    src = rajagopal_walk_dir / "Scale" / "scale_setup_walk_scaleOnly.xml"
    s = read_scale_setup(src)
    # paths resolved against the setup's folder (the model file does not exist; it is still resolved)
    assert s.model_file == rajagopal_walk_dir / "generic_unscaled.osim"
    assert s.marker_file == rajagopal_walk_dir / "ExpData" / "static_walk_1.trc"
    assert s.marker_set_file == rajagopal_walk_dir / "Scale" / "markerset_walk_preScale.xml"
    assert s.scaling_order == ("manualScale", "measurements")
    assert s.time_range == (0.0, 0.3) and s.mass == pytest.approx(85.0668)
    assert s.height == pytest.approx(1.829)  # 1829 mm in the file
    assert [m.name for m in s.measurements][:3] == ["PelvisX", "PelvisY", "PelvisZ"]
    assert s.measurements[1].marker_pairs[0] == ("L.ASIS", "L_HJC")
    assert ("femur_r", (0.958, 0.958, 0.958), True) in [(m.body, m.factors, m.apply) for m in s.manual_scales]
    tasks = {t.name: t for t in s.marker_tasks}
    assert tasks["L.MT5Ground"].weight == 100 and tasks["R.TH1"].weight == 0

    out = tmp_path / "sub" / "setup_scale.xml"
    write_scale_setup(s, out)
    text = out.read_text()
    # relative to the written file: OpenSim prefixes ScaleTool paths with the setup's folder
    assert f"<marker_file>{os.path.relpath(s.marker_file, out.parent)}</marker_file>" in text
    again = read_scale_setup(out)
    assert again == s  # every field (source excluded)


def test_ik_setup_round_trip(tmp_path, rajagopal_walk_dir, gait2392_dir):
    ik = read_ik_setup(rajagopal_walk_dir / "IK" / "ik_setup_walk.xml")
    assert ik.time_range == (0.0, 2.37) and ik.accuracy == 1e-5 and math.isinf(ik.constraint_weight)
    assert ik.marker_file == rajagopal_walk_dir / "ExpData" / "motion_capture_walk.trc"
    weights = {t.name: (t.weight, t.apply) for t in ik.marker_tasks}
    assert weights["R.ASIS"] == (50, True) and weights["R.Biceps"] == (1, False)
    assert "R.Biceps" not in ik.tracked_markers
    write_ik_setup(ik, tmp_path / "ik.xml")
    assert read_ik_setup(tmp_path / "ik.xml") == ik

    g = read_ik_setup(gait2392_dir / "subject01_Setup_IK.xml")
    assert g.time_range == (0.5, 2.5)
    sub = {t.name: t for t in g.coordinate_tasks}
    assert sub["subtalar_angle_r"].value_type == "default_value" and sub["subtalar_angle_r"].weight == 1000


def test_setup_errors(tmp_path, gait2392_dir):
    with pytest.raises(InputFileError, match="setup file not found"):
        read_scale_setup(tmp_path / "missing.xml")
    with pytest.raises(InputFileError, match="expected an OpenSim <ScaleTool> setup"):
        read_scale_setup(gait2392_dir / "subject01_Setup_IK.xml")
    with pytest.raises(InputFileError, match="expected an OpenSim <InverseKinematicsTool> setup"):
        read_ik_setup(gait2392_dir / "subject01_Setup_Scale.xml")


def test_unset_time_range_reads_as_none(tmp_path, rajagopal_walk_dir):
    """OpenSim writes an unset time range as "-1 -1"; a template with it means "no window given"."""
    text = (rajagopal_walk_dir / "Scale" / "scale_setup_walk_scaleOnly.xml").read_text()
    text = text.replace("<time_range> 0 0.3</time_range>", "<time_range> -1 -1</time_range>")
    assert text.count("<time_range> -1 -1</time_range>") == 2
    path = tmp_path / "Scale" / "setup_unset_range.xml"
    path.parent.mkdir()
    path.write_text(text)
    s = read_scale_setup(path)
    assert s.time_range is None and s.placer_time_range is None
