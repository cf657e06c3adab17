"""BML-MoVi adapter: a small ``F_v3d_Subject_N.mat`` written here in the public layout is read back exactly,
converted to TRC trials (z up -> y up, mm -> m, gaps kept), and labelled in dataset mode."""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.io import savemat

from biopose_opensim.errors import InputFileError
from biopose_opensim.io import Z_UP_TO_Y_UP, read_trc
from biopose_opensim.labeling.config import LabelConfig
from biopose_opensim.labeling.movi import (
    MOVI_RATE,
    convert_movi_subject,
    find_movi_files,
    find_static_window,
    motion_file_stem,
    read_marker_names,
    read_movi,
)

NAMES = ("LFHD", "RFHD", "LASI", "RASI")


@pytest.fixture
def gait2392_dataset_config(gait2392_dir) -> LabelConfig:
    """The tutorial's generic model and Scale setup. No IK setup: its time range (0.5-2.5 s) is the tutorial
    trial's, not the MoVi capture's."""
    return LabelConfig(model=gait2392_dir / "gait2392_simbody.osim",
                       scale_setup=gait2392_dir / "subject01_Setup_Scale.xml", plots=False)


def _cell(strings) -> np.ndarray:
    """A MATLAB cell array (column) of strings."""
    arr = np.empty((len(strings), 1), dtype=object)
    for i, s in enumerate(strings):
        arr[i, 0] = s
    return arr


def write_movi(path, markers_mm, motions, names=NAMES, gaps=None, virtual=None, sex="female", wrap_cell=False,
               var="Subject_7_F", subject_extra=None):
    """Write a MoVi-style V3D file: struct ``var`` with ``.move`` (markers in mm, z up, 1-based inclusive
    ``flags120``) and ``.subject``."""
    move = {
        "markerLocation": np.asarray(markers_mm, dtype=np.float64),
        "motions_list": _cell([m[0] for m in motions]),
        "flags120": np.array([[m[1], m[2]] for m in motions], dtype=np.float64),
        "flags30": np.array([[(m[1] + 3) // 4, (m[2] + 3) // 4] for m in motions], dtype=np.float64),
    }
    if names is not None:
        move["markerName"] = _cell(names)
    if gaps is not None:
        move["markerGaps"] = np.asarray(gaps, dtype=np.uint8)
    if virtual is not None:
        move["virtualMarkerLocation"] = virtual
    subject = {"sex": sex, **(subject_extra or {})}
    if wrap_cell:
        cell = np.empty((1, 1), dtype=object)
        cell[0, 0] = move
        move = cell
    savemat(path, {var: {"move": move, "subject": subject}})
    return path


def _capture(n_frames=120, n_markers=4, still=(40, 80), seed=0):
    """Markers in mm (z up) moving everywhere except frames ``still[0] <= f < still[1]``."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(-500, 500, size=(n_markers, 3)) + np.array([0.0, 0.0, 1000.0])
    t = np.arange(n_frames)[:, None, None]
    motion = 40.0 * np.sin(0.3 * t + rng.uniform(0, 6, size=(1, n_markers, 3)))
    motion[still[0]:still[1]] = motion[still[0]]
    return base[None] + motion


def test_reads_back_exactly_what_was_written_gaps_included(tmp_path):
    markers = _capture()
    markers[3, 1] = 0.0  # V3D writes missing samples as zeros
    markers[4, 2] = np.nan
    gaps = np.zeros(markers.shape[:2], dtype=bool)
    gaps[10:12, 0] = True
    virtual = np.random.default_rng(1).normal(size=(120, 5, 3))
    motions = [("walking", 1, 60), ("jumping jacks", 61, 120)]
    path = write_movi(tmp_path / "F_v3d_Subject_7.mat", markers, motions, gaps=gaps, virtual=virtual,
                      subject_extra={"height": 172.0, "weight": 61.5})
    s = read_movi(path)
    assert s.name == "Subject_7" and s.source == path
    assert s.marker_names == NAMES and s.names_from_file
    assert s.rate == MOVI_RATE == 120.0
    assert (s.sex, s.height, s.mass) == ("female", pytest.approx(1.72), pytest.approx(61.5))
    expected = markers.copy()
    expected[3, 1] = np.nan
    expected[gaps] = np.nan
    np.testing.assert_array_equal(np.isnan(s.markers), np.isnan(expected))
    np.testing.assert_array_equal(s.markers[~np.isnan(expected)], expected[~np.isnan(expected)])
    np.testing.assert_array_equal(s.virtual_markers, virtual)
    assert [(m.name, m.start, m.stop) for m in s.motions] == [("walking", 0, 60), ("jumping jacks", 60, 120)]


def test_move_in_a_cell_and_marker_names_without_markerName(tmp_path):
    markers = _capture()
    path = write_movi(tmp_path / "F_v3d_Subject_3.mat", markers, [("walking", 5, 100)], names=None, wrap_cell=True,
                      var="Subject_3_F")
    s = read_movi(path)
    assert s.marker_names == ("M01", "M02", "M03", "M04") and not s.names_from_file
    assert s.virtual_markers is None and s.sex == "female" and s.height is None
    assert [(m.start, m.stop) for m in s.motions] == [(4, 100)]
    names_file = tmp_path / "movi_markers.txt"
    names_file.write_text("# MoVi markers\nA\nB  # second\n\nC\nD\n")
    assert read_marker_names(names_file) == ["A", "B", "C", "D"]
    assert read_movi(path, read_marker_names(names_file)).marker_names == ("A", "B", "C", "D")
    with pytest.raises(InputFileError, match=r"4 markers in Subject_3_F.move.markerLocation but 2 marker names"):
        read_movi(path, ["A", "B"])


def test_bad_files_name_the_field_and_what_was_expected(tmp_path):
    markers = _capture(n_frames=50)
    path = write_movi(tmp_path / "F_v3d_Subject_1.mat", markers, [("walking", 1, 20), ("jog", 40, 80)],
                      var="Subject_1_F")
    with pytest.raises(InputFileError, match=r"F_v3d_Subject_1.mat: Subject_1_F.move.flags120 of motion 'jog' is "
                                             r"\(40, 80\); expected 1 <= first <= last <= 50"):
        read_movi(path)
    flat = tmp_path / "F_v3d_Subject_2.mat"
    savemat(flat, {"Subject_2_F": {"move": {"markerLocation": np.zeros((5, 12))}, "subject": {"sex": "male"}}})
    with pytest.raises(InputFileError, match=r"markerLocation must have shape \(frames, markers, 3\), got \(5, 12\)"):
        read_movi(flat)
    (tmp_path / "F_v3d_Subject_4.mat").write_text("not a mat file")
    with pytest.raises(InputFileError, match="not a readable MATLAB .mat file"):
        read_movi(tmp_path / "F_v3d_Subject_4.mat")
    other = tmp_path / "other.mat"
    savemat(other, {"x": np.zeros(3)})
    with pytest.raises(InputFileError, match="expected one struct Subject_N_F with a 'move' field, found variables: x"):
        read_movi(other)


def test_static_window_is_the_stillest_stretch_with_all_markers():
    markers = _capture(n_frames=200, still=(120, 170))
    markers[130, 2] = np.nan  # a gap inside the still stretch: windows holding it are not eligible
    start, stop = find_static_window(markers, rate=120.0, seconds=0.2)
    assert stop - start == 24
    assert 131 <= start and stop <= 170


def test_converts_to_trc_trials_in_opensim_frame(tmp_path):
    markers = _capture(n_frames=300, still=(200, 290))
    gaps = np.zeros(markers.shape[:2], dtype=bool)
    gaps[20:25, 3] = True
    motions = [("walking", 1, 100), ("throw/catch", 101, 180)]
    path = write_movi(tmp_path / "F_v3d_Subject_12.mat", markers, motions, gaps=gaps, var="Subject_12_F")
    conv = convert_movi_subject(path, tmp_path / "out", static_seconds=0.5)
    folder = tmp_path / "out" / "Subject_12"
    assert conv.folder == folder and conv.n_trials == 2 and not conv.skipped
    assert sorted(p.name for p in (folder / "trials").iterdir()) == ["01_walking.trc", "02_throw_catch.trc"]
    assert 'sex = "female"' in (folder / "subject.toml").read_text()

    expected_m = (markers * 1e-3) @ Z_UP_TO_Y_UP.T  # (x, y, z) -> (x, z, -y), metres
    expected_m[gaps] = np.nan
    walk = read_trc(folder / "trials" / "01_walking.trc")
    assert walk.marker_names == NAMES and walk.rate == 120.0
    np.testing.assert_array_equal(walk.frame_numbers, np.arange(1, 101))
    np.testing.assert_allclose(walk.times, np.arange(100) / 120.0, atol=1e-9)
    np.testing.assert_array_equal(np.isnan(walk.positions), np.isnan(expected_m[:100]))
    np.testing.assert_allclose(walk.positions, expected_m[:100], atol=1e-9, equal_nan=True)  # TRC: 1e-9 m resolution
    assert np.nanmean(walk.positions[..., 1]) > 0.5  # the lab's z (height ~1 m) became OpenSim's y

    throw = read_trc(folder / "trials" / "02_throw_catch.trc")
    np.testing.assert_array_equal(throw.frame_numbers, np.arange(101, 181))
    np.testing.assert_allclose(throw.positions, expected_m[100:180], atol=1e-9)

    static = read_trc(folder / "static.trc")
    s0, s1 = conv.static_frames
    assert s1 - s0 == 60 and 200 <= s0 and s1 <= 290
    np.testing.assert_allclose(static.positions, expected_m[s0:s1], atol=1e-9)

    again = convert_movi_subject(path, tmp_path / "out", static_seconds=0.5)
    assert again.skipped and again.static_frames == conv.static_frames
    assert find_movi_files(tmp_path) == [path]
    assert motion_file_stem(20, "Self-chosen (rm)") == "21_self_chosen_rm"


def test_dataset_mode_labels_a_movi_subject(tmp_path, gait2392_dir, gait2392_dataset_config):
    """End to end: gait2392 tutorial markers packed as a MoVi capture (standing, then walking) are converted and
    labelled by ``label_dataset`` with the layout auto-detected."""
    from biopose_opensim.labeling.dataset import label_dataset

    static = read_trc(gait2392_dir / "subject01_static.trc")
    walk = read_trc(gait2392_dir / "subject01_walk1.trc")
    stand_m = static.positions[:260]  # 260 frames, written as 120 Hz: 2.2 s of standing
    walk_m = np.full((30, static.n_markers, 3), np.nan)  # static-only markers (knees, ankles) missing while walking
    for j, name in enumerate(static.marker_names):
        if name in walk.marker_names:
            walk_m[:, j] = walk.positions[30:60, walk.index(name)]
    capture_zup_mm = np.concatenate([stand_m, walk_m]) @ Z_UP_TO_Y_UP * 1000.0  # y up -> z up (inverse rotation)
    root = tmp_path / "movi"
    root.mkdir()
    write_movi(root / "F_v3d_Subject_5.mat", capture_zup_mm, [("standing", 1, 260), ("walking", 261, 290)],
               names=static.marker_names, var="Subject_5_F")
    out = tmp_path / "labels"
    summary = label_dataset(root, out, gait2392_dataset_config, workers=1, progress=False)
    assert summary.layout == "movi" and summary.exit_code == 0
    data = json.loads((out / "summary.json").read_text())
    (subj,) = data["subjects"]
    assert subj["name"] == "Subject_5" and subj["status"] == "done"
    trials = {t["name"]: t for t in subj["trials"]}
    assert set(trials) == {"01_standing", "02_walking"}
    assert all(t["status"] == "done" for t in trials.values())
    assert trials["02_walking"]["frames"] == 30
    assert 0 < trials["02_walking"]["marker_rms_m"] < 0.03  # tutorial markers fit gait2392 to about a centimetre
    assert (out / trials["02_walking"]["ik_mot"]).is_file()
