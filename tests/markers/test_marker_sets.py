"""Virtual-marker sets as data: the shipped D3KE sets, YAML validation errors, round trips."""
from __future__ import annotations

import csv

import pytest
import yaml

from biopose_opensim.errors import InputFileError, MarkerMismatchError
from biopose_opensim.markers.sets import load_marker_set, marker_set_to_yaml, parse_marker_set
from biopose_opensim.paths import MARKER_SETS_DIR

# The 66 D3KE surface markers and their SMPL/SMPL-H vertex ids (Bittner et al. 2023), as listed in the project's
# reference notes; the shipped smpl_d3ke.yaml must carry exactly these.
D3KE_IDS = dict(
    STRN=3079, T1=3012, T8=3014, T10=3017, T12=3173, C7=828, CLAV=3171, LANK=3327, RANK=6728, LANI=3198, RANI=6598,
    LASI=1799, RASI=5262, LPSI=3097, RPSI=6521, LSHO=606, RSHO=4094, LTOE=3232, RTOE=6634, RHEE=6787, LHEE=3386,
    LKNE=1010, RKNE=4495, LKNI=1148, RKNI=4634, RIWR=5691, LIWR=2230, RELB=5091, LELB=1620, RELBIN=5131,
    LELBIN=1661, LOWR=2108, ROWR=5568, RCLAV=4780, LCLAV=1298, RFHD=3645, LBHD=272, LFHD=134, RBHD=3783,
    LMT1=3338, LMT5=3346, RMT1=6738, RMT5=6747, Tracking_L5=3021, Tracking_L4=3022, Tracking_L3=3502,
    Tracking_L2=3023, Tracking_L1=3024, Tracking_T11=3016, Tracking_T9=3505, Tracking_T7=3015, Tracking_T6=3027,
    Tracking_T5=3029, Tracking_T4=1755, Tracking_T3=2877, Tracking_T2=1305, rthumb=6191, rindex=5782,
    rmiddle=5905, rring=6016, rpinky=6133, lthumb=2746, lindex=2319, lmiddle=2445, lring=2556, lpinky=2673,
)
SMPLH_BODY = ("pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
              "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
              "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist")


def test_smpl_d3ke_has_the_142_markers_with_the_published_ids():
    ms = load_marker_set("smpl_d3ke")
    assert len(ms) == 142 and len(set(ms.names)) == 142
    assert ms.body_model == "smpl" and ms.n_vertices == 6890
    kinds = [m.kind for m in ms.markers]
    assert (kinds.count("vertex"), kinds.count("joint"), kinds.count("midpoint"), kinds.count("ground")) == \
        (66, 52, 12, 12)
    assert {m.name: m.vertex for m in ms.of_kind("vertex")} == D3KE_IDS
    joints = ms.joint_names
    assert len(set(joints)) == 52 and set(SMPLH_BODY) <= set(joints)
    assert {f"{s}_{f}{k}" for s in ("left", "right") for f in ("index", "middle", "ring", "pinky", "thumb")
            for k in (1, 2, 3)} <= set(joints)
    assert ms.marker("CENTER").of == ("RASI", "LASI", "RPSI", "LPSI")
    assert ms.marker("Virtual_Ground_LAJC").of == ("Virtual_LAJC",)


def test_anny_set_has_the_same_layout_on_annys_topology():
    smpl, anny = load_marker_set("smpl_d3ke"), load_marker_set("anny_d3ke")
    assert anny.body_model == "anny" and anny.n_vertices == 13718
    assert anny.names == smpl.names
    for a, s in zip(anny.markers, smpl.markers):
        assert (a.kind, a.joint, a.of, a.weight, a.group) == (s.kind, s.joint, s.of, s.weight, s.group)
    ids = [m.vertex for m in anny.of_kind("vertex")]
    assert len(set(ids)) == 66 and all(0 <= i < 13718 for i in ids)


def test_weights_by_group():
    ms = load_marker_set("anny_d3ke")
    by_group = {}
    for m in ms.markers:
        by_group.setdefault(m.group, set()).add(m.weight)
    assert by_group == {"bony": {10.0}, "surface": {2.0}, "joint": {2.0}, "midpoint": {1.0}, "ground": {0.0}}
    assert ms.marker("LASI").group == "bony" and ms.marker("Tracking_L3").group == "surface"


def test_vertex_table_matches_the_yaml():
    ms = load_marker_set("anny_d3ke")
    with open(MARKER_SETS_DIR / "anny_d3ke_vertices.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["name"]: int(r["vertex"]) for r in rows} == {m.name: m.vertex for m in ms.of_kind("vertex")}
    assert all(r["rule"] for r in rows)


def test_yaml_round_trip():
    ms = load_marker_set("anny_d3ke")
    again = parse_marker_set(yaml.safe_load(marker_set_to_yaml(ms, "header\nlines")))
    assert again == ms


def _write(tmp_path, markers, n_vertices=100, name="bad"):
    lines = [f"name: {name}", "body_model: smpl", f"n_vertices: {n_vertices}", "markers:"]
    lines += [f"  - {m}" for m in markers]
    path = tmp_path / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("entries,message,line", [
    (["{name: A, kind: vertex, vertex: 100}"], "marker 'A': vertex 100 is out of range; the smpl mesh has 100", 5),
    (["{name: A, kind: vertex, vertex: 1}", "{name: A, kind: vertex, vertex: 2}"], "marker 'A' is defined twice", 6),
    (["{name: A, kind: bone, vertex: 1}"], "kind must be one of vertex, joint, midpoint, ground", 5),
    (["{name: M, kind: midpoint, of: [A, B]}"], "marker 'M': refers to 'A', which is not defined above it", 5),
    (["{name: A, kind: vertex, vertex: 1}", "{name: M, kind: midpoint, of: [A]}"], "needs 'of' listing two", 6),
    (["{name: A, kind: vertex, vertex: 1}", "{name: G, kind: ground, of: [A, A]}"], "exactly one marker", 6),
    (["{name: A, kind: vertex, vertex: 1, weight: -2}"], "weight must be a finite number >= 0", 5),
    (["{name: A, kind: joint, joint: left_knee, vertex: 3}"], "key 'vertex' does not apply to a joint marker", 5),
    (["{name: A, kind: vertex, vertex: 1, colour: red}"], "unknown key(s) colour", 5),
])
def test_invalid_entries_name_file_line_and_marker(tmp_path, entries, message, line):
    path = _write(tmp_path, entries)
    with pytest.raises(InputFileError) as err:
        load_marker_set(path)
    assert str(path) in str(err.value) and f"line {line}" in str(err.value)
    assert message in str(err.value)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(InputFileError, match="virtual-marker set not found; shipped sets: .*anny_d3ke"):
        load_marker_set(tmp_path / "nope.yaml")
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: x\nmarkers: [\n")
    with pytest.raises(InputFileError, match="not valid YAML"):
        load_marker_set(bad)
    top = tmp_path / "top.yaml"
    top.write_text("name: x\nbody_model: horse\nn_vertices: 3\nmarkers: []\n")
    with pytest.raises(InputFileError, match="body_model must be one of anny, smpl, smplx"):
        load_marker_set(top)


def test_set_does_not_fit_another_mesh():
    ms = load_marker_set("anny_d3ke")
    with pytest.raises(MarkerMismatchError, match="13718-vertex anny mesh, but the SMPL has 6890 vertices"):
        ms.check_body_model(6890, [], "SMPL")
    with pytest.raises(MarkerMismatchError, match="is not in virtual-marker set"):
        ms.index("NOPE")
