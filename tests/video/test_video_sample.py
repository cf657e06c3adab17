"""The shipped sample clip (``biopose_opensim/data/video_sample``, made by ``scripts/make_video_sample.py``): it
opens as a 30-frame 320x240 15 fps video, its COCO keypoints read back against the frames and lie on the person,
its OpenSim labels are read by OpenSim with the model's coordinates; the script refuses subjects it must not use.
"""
from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from biopose_opensim.keypoints import layout
from biopose_opensim.osim import import_opensim
from biopose_opensim.video.frames import open_frames
from biopose_opensim.video.keypoint_files import read_coco, read_keypoints

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "biopose_opensim" / "data" / "video_sample"
SCRIPT = ROOT / "scripts" / "make_video_sample.py"
MODEL = ROOT / "osim_models" / "RajagopalLaiUhlrich2023.osim"
N, SIZE, FPS = 30, (320, 240), 15.0
#: Smallest colour difference (sum of absolute RGB differences over a 3x3 patch mean, 0-765) between the person
#: at a hip keypoint and the background there.
MIN_CONTRAST = 30.0


@pytest.fixture(scope="module")
def frames():
    clip = open_frames(SAMPLE / "clip.mp4")
    return clip, np.stack(list(clip.iter()))


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("make_video_sample", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.modules.pop(spec.name, None)


def test_sample_files_are_small_and_complete():
    for name in ("clip.mp4", "keypoints_coco.json", "camera.json", "truth.mot", "source.mot", "truth_joints.npz",
                 "subject.json", "README.md"):
        assert (SAMPLE / name).is_file(), name
    assert (SAMPLE / "clip.mp4").stat().st_size < 1_000_000
    subject = json.loads((SAMPLE / "subject.json").read_text())
    assert subject["split"] in ("val", "test") and subject["height_m"] > 1.0 and subject["mass_kg"] > 30
    readme = (SAMPLE / "README.md").read_text()
    assert "python scripts/make_video_sample.py --data" in readme and "no real" in readme


def test_clip_opens_with_its_size_rate_and_frame_count(frames):
    clip, images = frames
    assert (clip.n_frames, clip.size, clip.fps) == (N, SIZE, FPS)
    assert images.shape == (N, SIZE[1], SIZE[0], 3)
    cam = json.loads((SAMPLE / "camera.json").read_text())
    assert (cam["width"], cam["height"], cam["fps"], cam["n_frames"]) == (*SIZE, FPS, N)
    assert cam["K"][0][0] == pytest.approx(SIZE[0])  # focal = width px
    R = np.array(cam["R_ground_to_camera"])
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert abs(R[2, 1]) < 1e-12  # level: the optical axis is horizontal (ground y up)
    assert 4.0 <= cam["chosen"]["distance_m"] <= 5.0 and 30 <= cam["chosen"]["azimuth_deg"] <= 45


def test_coco_keypoints_read_back_against_the_frames_and_match_the_truth(frames):
    clip, _ = frames
    track = read_keypoints(SAMPLE / "keypoints_coco.json", clip)
    same = read_coco(SAMPLE / "keypoints_coco.json", image_names=clip.names, image_size=clip.size)
    assert track.layout == "coco17" and track.n_frames == N and track.image_size == SIZE
    assert track.detected.all()
    np.testing.assert_array_equal(same.xy, track.xy)
    names = layout("coco17").names
    face = [names.index(n) for n in ("nose", "left_eye", "right_eye", "left_ear", "right_ear")]
    body = [i for i in range(len(names)) if i not in face]
    assert (track.confidence[:, face] == 0).all() and (track.confidence[:, body] == 1).all()
    truth = np.load(SAMPLE / "truth_joints.npz")
    joints = list(truth["joint_names"])
    uv = truth["keypoints_2d"][:, [joints.index(names[i]) for i in body]]
    np.testing.assert_allclose(track.xy[:, body], uv, atol=1e-3)  # px, JSON rounding
    # the camera-frame joints project to those pixels through K
    p = truth["joints_cam"] @ truth["K"].T
    np.testing.assert_allclose(p[..., :2] / p[..., 2:], truth["keypoints_2d"], atol=1e-3)
    assert truth["joints_cam"].shape == (N, 52, 3) and truth["anny_phenotypes"].shape == (6,)


def test_hip_keypoints_lie_on_the_person(frames):
    """At both hips the frame shows the person: its colour differs from the frame's corners and from the same
    pixel in a frame where the person has walked on (at least 40 px away from every keypoint)."""
    _, images = frames
    track = read_coco(SAMPLE / "keypoints_coco.json", n_frames=N)
    names = layout("coco17").names
    hips = [names.index("left_hip"), names.index("right_hip")]
    img = images.astype(float)

    def patch(t, x, y):
        xi, yi = int(x), int(y)
        return img[t, yi - 1:yi + 2, xi - 1:xi + 2].reshape(-1, 3).mean(axis=0)

    checked = 0
    for t, far in ((0, N - 1), (N // 2, 0), (N - 1, 0)):
        corners = img[t, [2, 2, -3, -3], [2, -3, 2, -3]]
        for k in hips:
            x, y = track.xy[t, k]
            here = patch(t, x, y)
            assert np.abs(corners - here).sum(axis=1).min() > MIN_CONTRAST, (t, names[k])
            if np.linalg.norm(track.xy[far] - [x, y], axis=1).min() >= 40:
                assert np.abs(patch(far, x, y) - here).sum() > MIN_CONTRAST, (t, far, names[k])
                checked += 1
    assert checked >= 4


def test_truth_mot_is_read_by_opensim_with_the_model_coordinates():
    osim = import_opensim()
    model = osim.Model(str(MODEL))
    coords = [model.getCoordinateSet().get(i).getName() for i in range(model.getCoordinateSet().getSize())]
    for name in ("truth.mot", "source.mot"):
        table = osim.TimeSeriesTable(str(SAMPLE / name))
        assert table.getNumRows() == N, name
        assert list(table.getColumnLabels()) == coords, name
        assert table.getTableMetaDataAsString("inDegrees") == "yes"
        np.testing.assert_allclose(np.array(table.getIndependentColumn()), np.arange(N) / FPS, atol=1e-9)
    truth = osim.TimeSeriesTable(str(SAMPLE / "truth.mot"))
    source = osim.TimeSeriesTable(str(SAMPLE / "source.mot"))
    knee_t = truth.getDependentColumn("knee_angle_r").to_numpy()
    knee_s = source.getDependentColumn("knee_angle_r").to_numpy()
    assert np.ptp(knee_t) > 30  # degrees: a walking knee
    assert np.abs(knee_t - knee_s).max() < 10  # deg: IK labels follow the generating motion


def _dataset(tmp_path: Path) -> Path:
    """A minimal real synthetic-dataset manifest: one train, one test subject, each with a walk trial."""
    root = tmp_path / "synth"
    subjects, trials = [], []
    for name, split in (("s001", "train"), ("s004", "test")):
        (root / "subjects" / name).mkdir(parents=True)
        (root / "subjects" / name / "walk_source.mot").write_bytes((SAMPLE / "source.mot").read_bytes())
        subjects.append({"name": name, "split": split, "sex": "female", "age": 30.0,
                         "shape": {"body_model": "anny", "phenotype": {"gender": 0.5, "age": 0.5}}})
        trials.append({"subject": name, "name": "walk"})
    manifest = {"format": "biopose_opensim.dataset/1", "source": "synthetic", "body_model": "anny",
                "model": str(MODEL), "marker_set": "anny_d3ke", "subjects": subjects, "trials": trials,
                "splits": {"train": ["s001"], "val": [], "test": ["s004"]}}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


@pytest.mark.parametrize("subject, trial, message", [
    ("s001", "walk", r"'s001' is in the train split .*must be held out.*test: s004"),
    ("s999", "walk", r"no subject 's999'"),
    ("s004", "jump", r"no trial 'jump' \(trials: walk\)"),
])
def test_script_refuses_train_and_unknown_subjects(tmp_path, script, caplog, subject, trial, message):
    out = tmp_path / "out"
    rc = script.main(["--data", str(_dataset(tmp_path)), "--subject", subject, "--trial", trial,
                      "--out", str(out)])
    assert rc == 2
    assert any(re.search(message, r.getMessage()) for r in caplog.records), caplog.text
    assert not out.exists()


def test_clip_frames_take_every_other_frame_and_refuse_overruns(script):
    from biopose_opensim.errors import ConfigError

    times = np.arange(91) / 30.0
    np.testing.assert_array_equal(script.clip_frames(times, 0.5, 2.0, 15, "t"), 15 + 2 * np.arange(30))
    with pytest.raises(ConfigError, match=r"t has 91 frames"):
        script.clip_frames(times, 2.0, 2.0, 15, "t")
    with pytest.raises(ConfigError, match=r"must divide the trial rate \(30 Hz\)"):
        script.clip_frames(times, 0.5, 2.0, 12, "t")
