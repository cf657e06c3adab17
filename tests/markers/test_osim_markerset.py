"""The OpenSim side of the Anny D3KE set: MarkerSet XML in OpenSim, bodies, joint centres, setups, derivation."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from biopose_opensim.errors import InputFileError
from biopose_opensim.motion import MEASUREMENTS, assign_bodies
from biopose_opensim.osim import import_opensim
from biopose_opensim.osim.markerset import read_markerset, write_markers
from biopose_opensim.osim.model import MarkerInfo, marker_locations_in_ground
from biopose_opensim.paths import MARKER_SETS_DIR, PROJECT_DIR, default_model_path

MARKERS_XML = MARKER_SETS_DIR / "anny_d3ke_rajagopal2023_markers.xml"


def test_marker_set_loads_in_opensim_on_the_intended_bodies(anny_body, anny_set):
    osim = import_opensim()
    ms = osim.MarkerSet(str(MARKERS_XML))
    assert ms.getSize() == 142
    markers = read_markerset(MARKERS_XML)
    assert tuple(m.name for m in markers) == anny_set.names
    intended = assign_bodies(anny_set, anny_body)
    assert {m.name: m.body for m in markers} == {n: b.body for n, b in intended.items()}
    # spot checks of the skin -> body assignment
    expected = {"LASI": "pelvis", "C7": "torso", "LKNE": "femur_l", "RANK": "tibia_r", "LHEE": "calcn_l",
                "RTOE": "toes_r", "LHIPJ": "pelvis", "LKJC": "femur_l", "LAJC": "tibia_l", "RELC": "humerus_r",
                "LWRIST": "radius_l", "right_index2": "hand_r", "Virtual_Ground_LAJC": "calcn_l"}
    assert {k: intended[k].body for k in expected} == expected

    model = osim.Model(str(default_model_path()))
    model.set_MarkerSet(ms)
    model.finalizeConnections()
    state = model.initSystem()
    for i in range(model.getMarkerSet().getSize()):
        mk = model.getMarkerSet().get(i)
        assert mk.getParentFrame().getName() == intended[mk.getName()].body
    assert np.isfinite(model.getMarkerSet().get("LASI").getLocationInGround(state).get(1))


def test_joint_markers_sit_on_the_generic_joint_centres():
    """At the generic size and default pose, joint-centre markers coincide with OpenSim's joint centres (1e-5 m)."""
    osim = import_opensim()
    markers = read_markerset(MARKERS_XML)
    pos = dict(zip((m.name for m in markers), marker_locations_in_ground(default_model_path(), markers)))
    model = osim.Model(str(default_model_path()))
    state = model.initSystem()
    model.realizePosition(state)

    def origin(body):
        p = model.getBodySet().get(body).getPositionInGround(state)
        return np.array([p.get(0), p.get(1), p.get(2)])

    for marker, body in (("LHIPJ", "femur_l"), ("RHIPJ", "femur_r"), ("LKJC", "tibia_l"), ("RAJC", "talus_r"),
                         ("LFOOT", "toes_l"), ("RSHOULDER", "humerus_r"), ("LELC", "ulna_l"),
                         ("RWRIST", "hand_r")):
        assert np.linalg.norm(pos[marker] - origin(body)) < 1e-5, marker


def test_landmarks_near_the_models_own_anatomical_markers():
    """Placed from a different body (Anny), landmarks land within 7 cm of the model's own anatomical markers.

    Differences of 2-6 cm come from definitions (malleoli 3 cm above the ankle centre, big-toe tip vs. 2nd
    metatarsal) and from Anny's wider hip-joint spacing; a mirrored or wrong-body placement would be off by 10+ cm.
    """
    osim = import_opensim()
    markers = read_markerset(MARKERS_XML)
    pos = dict(zip((m.name for m in markers), marker_locations_in_ground(default_model_path(), markers)))
    model = osim.Model(str(default_model_path()))
    state = model.initSystem()
    own = model.getMarkerSet()
    pairs = {"RASI": "RASI", "LASI": "LASI", "RPSI": "RPSI", "LPSI": "LPSI", "C7": "C7", "CLAV": "CLAV",
             "RSHO": "RACR", "LSHO": "LACR", "RKNE": "RLFC", "LKNI": "LMFC", "RANK": "RLMAL", "LANI": "LMMAL",
             "RHEE": "RCAL", "LMT5": "LMT5", "RELB": "RLEL", "LELBIN": "LMEL", "RIWR": "RFAradius",
             "LOWR": "LFAulna", "RTOE": "RTOE"}
    for ours, theirs in pairs.items():
        p = own.get(theirs).getLocationInGround(state)
        d = np.linalg.norm(pos[ours] - np.array([p.get(0), p.get(1), p.get(2)]))
        assert d < 0.07, f"{ours} is {1000 * d:.0f} mm from the model's {theirs}"


def test_setups_load_in_opensim_with_the_yaml_weights(anny_set):
    osim = import_opensim()
    ik = osim.InverseKinematicsTool(str(MARKER_SETS_DIR / "anny_d3ke_rajagopal2023_Setup_IK.xml"))
    tasks = ik.get_IKTaskSet()
    weights = {tasks.get(i).getName(): (tasks.get(i).getWeight(), tasks.get(i).getApply())
               for i in range(tasks.getSize())}
    assert weights == {m.name: (m.weight, m.weight > 0) for m in anny_set.markers}
    scale = osim.ScaleTool(str(MARKER_SETS_DIR / "anny_d3ke_rajagopal2023_Setup_Scale.xml"))
    mset = scale.getModelScaler().getMeasurementSet()
    assert mset.getSize() == len(MEASUREMENTS)
    model = osim.Model(str(default_model_path()))
    bodies = {model.getBodySet().get(i).getName() for i in range(model.getBodySet().getSize())}
    for i in range(mset.getSize()):
        m = mset.get(i)
        for k in range(m.getNumMarkerPairs()):
            pair = m.getMarkerPair(k)
            assert pair.getMarkerName(0) in anny_set.names and pair.getMarkerName(1) in anny_set.names
        for k in range(m.getBodyScaleSet().getSize()):
            assert m.getBodyScaleSet().get(k).getName() in bodies
    placer = scale.getMarkerPlacer().getIKTaskSet()
    assert placer.getSize() == 142


def test_write_and_read_marker_set(tmp_path):
    markers = (MarkerInfo("A", "pelvis", (0.1, -0.2, 0.3)), MarkerInfo("B&C", "femur_r", (0.0, -0.4, 0.05), True))
    path = write_markers(tmp_path / "m.xml", markers, name="t", comment="test -- set")
    assert read_markerset(path) == markers
    with pytest.raises(InputFileError, match="OpenSim MarkerSet file not found"):
        read_markerset(tmp_path / "missing.xml")


@pytest.mark.slow
def test_derivation_is_reproducible():
    """scripts/derive_anny_markers.py re-derives the committed YAML (exactly), vertex table and MarkerSet (1e-4 m)."""
    res = subprocess.run([sys.executable, str(PROJECT_DIR / "scripts" / "derive_anny_markers.py"), "--check"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "up to date" in res.stdout + res.stderr
