"""Model description and marker-set replacement on real OpenSim models."""
from __future__ import annotations

import pytest

from biopose_opensim.errors import InputFileError, MarkerMismatchError
from biopose_opensim.osim import load_model, model_info, read_markerset, read_model_info, replace_markers


def test_default_model_info(default_model):
    info = read_model_info(default_model)
    assert len(info.coordinates) == 39 and len(info.bodies) == 22 and len(info.markers) == 66
    assert info.root_coordinates == ("pelvis_tilt", "pelvis_list", "pelvis_rotation", "pelvis_tx", "pelvis_ty",
                                     "pelvis_tz")
    knee = info.coordinate("knee_angle_r")
    assert knee.rotational and knee.joint == "walker_knee_r" and not knee.dependent
    assert info.coordinate("knee_angle_r_beta").dependent  # driven by the patellofemoral coupler
    assert info.coordinate("pelvis_tx").motion_type == "translational"
    assert info.coordinate("mtp_angle_r").locked
    assert info.marker("RASI").body == "pelvis"
    assert info.body("tibia_r").parent == "femur_r"
    assert set(info.neighbours("femur_r")) == {"pelvis", "tibia_r", "patella_r"}
    assert abs(info.total_mass - sum(b.mass for b in info.bodies)) < 1e-9
    # default pose: pelvis origin at its default height, markers in ground at plausible heights
    assert info.body_origins_in_ground[0][1] == pytest.approx(info.coordinate("pelvis_ty").default_value)
    heights = [p[1] for p in info.markers_in_ground]
    assert 0.0 < min(heights) < 0.1 and 1.3 < max(heights) < 1.7
    with pytest.raises(KeyError, match="closest: RASI"):
        info.marker("RASIS")


def test_missing_and_bad_model(tmp_path):
    with pytest.raises(InputFileError, match="model file not found"):
        load_model(tmp_path / "none.osim")
    bad = tmp_path / "bad.osim"
    bad.write_text("<OpenSimDocument><Model><BodySet><objects><Body name=")
    with pytest.raises(InputFileError, match="OpenSim cannot read this model"):
        load_model(bad)


def test_replace_markers(gait2392_dir):
    model = load_model(gait2392_dir / "gait2392_simbody.osim")
    assert model.getNumMarkers() == 0
    names = replace_markers(model, gait2392_dir / "gait2392_Scale_MarkerSet.xml")
    model.initSystem()
    info = model_info(model)
    assert len(names) == 39 and info.marker_names == names
    assert info.marker("R.ASIS").body == "pelvis"
    set_info = {m.name: m for m in read_markerset(gait2392_dir / "gait2392_Scale_MarkerSet.xml")}
    assert info.marker("R.Heel").location == pytest.approx(set_info["R.Heel"].location)


def test_replace_markers_keeps_others_when_asked(default_model, rajagopal_walk_dir):
    model = load_model(default_model)
    replace_markers(model, rajagopal_walk_dir / "Scale" / "markerset_walk_preScale.xml", keep_existing=True)
    model.initSystem()
    names = set(model_info(model).marker_names)
    assert {"RASI", "R.ASIS", "R_HJC"} <= names and len(names) == 66 + 65


def test_marker_on_unknown_body(tmp_path, gait2392_dir, default_model):
    # the gait2392 marker set names bodies the default model has; rename one to a body it lacks
    text = (gait2392_dir / "gait2392_Scale_MarkerSet.xml").read_text()
    text = text.replace("<body> pelvis </body>", "<body> pelvs </body>", 1)
    bad = tmp_path / "markers.xml"
    bad.write_text(text)
    model = load_model(default_model)
    with pytest.raises(MarkerMismatchError, match=r"pelvs.*model has pelvis"):
        replace_markers(model, bad)
