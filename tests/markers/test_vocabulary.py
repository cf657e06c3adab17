"""The marker vocabulary: the default model's bony landmarks, the bony names of unlabelled data, a set's bony group."""
from __future__ import annotations

from biopose_opensim.markers import load_marker_set, parse_marker_set
from biopose_opensim.markers.vocabulary import (
    BONY,
    BONY_MARKERS,
    D3KE_BONY,
    DEFAULT_MODEL_BONY_LANDMARKS,
    bony_markers,
    bony_markers_of_set,
    classify_marker,
    landmark_of,
)


def test_default_model_landmarks_are_bony_landmarks_by_their_first_alias():
    assert len(DEFAULT_MODEL_BONY_LANDMARKS) == 30
    for name in DEFAULT_MODEL_BONY_LANDMARKS:
        hit = landmark_of(name)
        assert hit is not None, name
        landmark, ident = hit
        side = ident.split("_")[0] if landmark.sided else ""
        assert landmark.kind == BONY and landmark.names(side)[0] == name
        assert classify_marker(name) == BONY
    assert list(DEFAULT_MODEL_BONY_LANDMARKS)[:4] == ["C7", "CLAV", "RACR", "LACR"]  # trunk first, right first


def test_bony_names_cover_every_scheme_and_exclude_virtual_points():
    assert set(DEFAULT_MODEL_BONY_LANDMARKS) | D3KE_BONY <= BONY_MARKERS
    assert {"RSHO", "Tracking_L3", "r_knee_study", "L.PSIS_study", "R.ASIS", "S2"} <= BONY_MARKERS
    assert not {"RHJC", "LKJC", "MASI", "Virtual_Ground_LHEE", "rthumb", "R.TH1"} & BONY_MARKERS
    assert bony_markers(["RHJC", "LASI", "X", "RASI"], extra=["X"]) == ("LASI", "X", "RASI")


def test_a_sets_bony_group_wins_over_the_known_names():
    d3ke = load_marker_set("anny_d3ke")
    group = bony_markers_of_set(d3ke)
    assert set(group) == D3KE_BONY and "RSHO" not in group  # the acromion markers are "surface" in D3KE
    assert group == tuple(n for n in d3ke.names if n in D3KE_BONY)
    ungrouped = parse_marker_set({"name": "t", "body_model": "smpl", "n_vertices": 10, "markers": [
        {"name": "RSHO", "kind": "vertex", "vertex": 1}, {"name": "LASI", "kind": "vertex", "vertex": 2},
        {"name": "FOO", "kind": "vertex", "vertex": 3}]})
    assert bony_markers_of_set(ungrouped) == ("RSHO", "LASI")
