"""The one description of a model's coordinates (CoordinateInfo, MotionType) and its array view, on real models."""
from __future__ import annotations

import numpy as np
import pytest

from biopose_opensim.errors import CoordinateMismatchError, InputFileError, MarkerMismatchError
from biopose_opensim.osim import CoordinateSpace, MotionType, import_opensim, load_model, read_model_info
from biopose_opensim.osim.markerset import MarkerFrameError


def test_motion_type_is_opensims():
    osim = import_opensim()
    assert MotionType.ROTATIONAL == osim.Coordinate.Rotational == 1
    assert MotionType.TRANSLATIONAL == osim.Coordinate.Translational == 2
    assert MotionType.COUPLED == osim.Coordinate.Coupled == 3
    assert MotionType.COUPLED == "Coupled" and MotionType.COUPLED != "rotational"


def test_space_matches_the_descriptions(default_model):
    info = read_model_info(default_model)
    space = CoordinateSpace.from_osim(default_model)
    same = CoordinateSpace.from_osim(load_model(default_model))  # an opensim.Model gives the same view
    assert space.names == info.coordinate_names == same.names and space.size == 39
    for space_ in (space, same):
        assert np.array_equal(space_.lower, [c.range[0] for c in info.coordinates])
        assert np.array_equal(space_.default, [c.default_value for c in info.coordinates])
        assert np.array_equal(space_.locked, [c.locked for c in info.coordinates])
    beta = space.index("knee_angle_r_beta")
    assert info.coordinates[beta].motion_type == MotionType.COUPLED and space.motion_type[beta] == 3
    assert not space.rotational[beta] and space.dependent[beta]
    assert set(space.coupled) == {c.name for c in info.coordinates if c.dependent} == {"knee_angle_r_beta",
                                                                                          "knee_angle_l_beta"}
    assert space.root_translations == ("pelvis_tx", "pelvis_ty", "pelvis_tz")
    q = space.neutral(3)
    q[:, space.index("knee_angle_r")] = 1.0
    q = space.apply_couplers(q)
    assert q[0, beta] == pytest.approx(space.couplers[0](np.array([1.0]))[0]) and q[0, beta] != 0.0
    with pytest.raises(CoordinateMismatchError, match="'knee_r' is not in the model.*knee_angle_r"):
        space.index("knee_r")


def test_load_model_merges_markers(default_model, rajagopal_walk_dir, tmp_path):
    markers = rajagopal_walk_dir / "Scale" / "markerset_walk_preScale.xml"
    kept = load_model(default_model, markers=markers, keep_existing=True)
    only = load_model(default_model, markers=markers)
    assert kept.getMarkerSet().getSize() == 66 + 65 and only.getMarkerSet().getSize() == 65
    bad = tmp_path / "bad.xml"
    bad.write_text(markers.read_text().replace("<body>pelvis</body>", "<body>pelvs</body>", 1))
    with pytest.raises(MarkerFrameError, match=r"bad\.xml.*on '/bodyset/pelvs' \(model has pelvis") as err:
        load_model(default_model, markers=bad)
    assert isinstance(err.value, InputFileError) and isinstance(err.value, MarkerMismatchError)
