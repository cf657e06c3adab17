"""Video inputs: keypoint tracks, frames from videos and image folders, OpenPose and COCO keypoint files.

Every file is a real file written by the test (mp4s by the ffmpeg that ``imageio-ffmpeg`` ships).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from biopose_opensim.errors import ConfigError, InputFileError
from biopose_opensim.video.frames import open_frames, write_video
from biopose_opensim.video.keypoint_files import read_coco, read_keypoints, read_openpose
from biopose_opensim.video.tracks import KeypointTrack


def _track(t=6, k=17, missing=(2, 3, 5)):
    rng = np.random.default_rng(0)
    det = np.ones(t, bool)
    det[list(missing)] = False
    conf = rng.uniform(0.2, 1.0, (t, k)) * det[:, None]
    return KeypointTrack("coco17", rng.uniform(0, 100, (t, k, 2)), conf, det, (640, 480),
                         world=rng.normal(size=(t, k, 3)), source="test")


# --- tracks -----------------------------------------------------------------------------------------------------

def test_track_round_trip_and_gaps(tmp_path):
    tr = _track()
    assert tr.gaps() == [(2, 4), (5, 6)]
    assert _track(missing=()).gaps() == []
    assert _track(missing=(0, 1)).gaps() == [(0, 2)]
    tr.save(tmp_path / "t.npz")
    back = KeypointTrack.load(tmp_path / "t.npz")
    for name in ("xy", "confidence", "detected", "world"):
        assert np.array_equal(getattr(back, name), getattr(tr, name)), name
    assert (back.layout, back.image_size, back.source) == ("coco17", (640, 480), "test")
    assert back.detected.dtype == bool and back.n_frames == 6
    plain = KeypointTrack("coco17", tr.xy, tr.confidence, tr.detected, (640, 480))
    plain.save(tmp_path / "p.npz")
    assert KeypointTrack.load(tmp_path / "p.npz").world is None
    assert [p.name for p in tmp_path.iterdir()] != [] and not list(tmp_path.glob(".*"))  # no temporary left


def test_track_validation_names_the_mismatch(tmp_path):
    tr = _track()
    with pytest.raises(ValueError, match=r"\(T, 25, 2\)"):
        KeypointTrack("openpose_body25", tr.xy, tr.confidence, tr.detected, (640, 480))
    with pytest.raises(ValueError, match="confidence has shape"):
        KeypointTrack("coco17", tr.xy, tr.confidence[:-1], tr.detected, (640, 480))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        KeypointTrack("coco17", tr.xy, tr.confidence * 3, tr.detected, (640, 480))
    with pytest.raises(ValueError, match="detected is False"):
        KeypointTrack("coco17", tr.xy, np.ones_like(tr.confidence), tr.detected, (640, 480))
    with pytest.raises(ValueError, match="world has shape"):
        KeypointTrack("coco17", tr.xy, tr.confidence, tr.detected, (640, 480), world=np.zeros((6, 17, 2)))
    with pytest.raises(ValueError, match="unknown keypoint layout"):
        KeypointTrack("coco99", tr.xy, tr.confidence, tr.detected, (640, 480))
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(InputFileError, match="bad.npz"):
        KeypointTrack.load(tmp_path / "bad.npz")


# --- frames -----------------------------------------------------------------------------------------------------

def _smooth_frames(n=6, w=64, h=48):
    yy, xx = np.mgrid[0:h, 0:w]
    return [np.stack([xx * 3 + 20 * t, yy * 4, np.full_like(xx, 30 + 25 * t)], -1).clip(0, 255).astype(np.uint8)
            for t in range(n)]


def test_video_round_trip(tmp_path):
    frames = _smooth_frames()
    assert write_video(tmp_path / "clip.mp4", frames, fps=25) == 6
    assert not list(tmp_path.glob(".*"))  # written through a temporary file, renamed
    clip = open_frames(tmp_path / "clip.mp4")
    assert (clip.n_frames, clip.fps, clip.size) == (6, 25.0, (64, 48))
    assert len(clip.names) == 6
    got = list(clip.iter())
    assert len(got) == 6 and got[0].shape == (48, 64, 3) and got[0].dtype == np.uint8
    # Lossy H.264 (crf 17, yuv420p) of smooth images: tolerance 3 grey levels mean, 16 max per pixel.
    for g, ref in zip(got, frames):
        err = np.abs(g.astype(int) - ref)
        assert err.mean() < 3 and err.max() <= 16
    # Frames differ from each other by far more than that, so a wrong frame would fail.
    assert np.abs(got[1].astype(int) - frames[3]).mean() > 20
    # Random access, forwards then backwards.
    assert np.array_equal(clip.get(4), got[4]) and np.array_equal(clip.get(1), got[1])
    with pytest.raises(IndexError):
        clip.get(6)


def test_odd_size_video_and_refusals(tmp_path):
    frames = [f[:47, :63] for f in _smooth_frames(3)]
    write_video(tmp_path / "odd.mp4", frames, fps=10)
    clip = open_frames(tmp_path / "odd.mp4")
    assert (clip.n_frames, clip.size) == (3, (63, 47))
    with pytest.raises(InputFileError, match=r"odd\.mp4.*runs at 10"):
        open_frames(tmp_path / "odd.mp4", fps=30)
    with pytest.raises(ValueError, match="frame 1"):
        write_video(tmp_path / "mixed.mp4", [frames[0], frames[1][:-2]], fps=10)
    assert not (tmp_path / "mixed.mp4").exists() and not list(tmp_path.glob(".*"))


def test_unreadable_and_empty_video_name_the_file(tmp_path):
    (tmp_path / "broken.mp4").write_bytes(b"this is not a video" * 20)
    with pytest.raises(InputFileError, match=r"broken\.mp4: not a readable video"):
        open_frames(tmp_path / "broken.mp4")
    (tmp_path / "empty.mov").write_bytes(b"")
    with pytest.raises(InputFileError, match=r"empty\.mov"):
        open_frames(tmp_path / "empty.mov")
    with pytest.raises(InputFileError, match=r"absent\.mp4: no such"):
        open_frames(tmp_path / "absent.mp4")


def test_image_folder_natural_order_and_refusals(tmp_path):
    frames = _smooth_frames(3)
    for i, name in enumerate(["f2.png", "f10.jpg", "f1.png"]):
        Image.fromarray(frames[i]).save(tmp_path / name, quality=95)
    (tmp_path / "notes.txt").write_text("ignored")
    clip = open_frames(tmp_path, fps=12.5)
    assert clip.names == ("f1.png", "f2.png", "f10.jpg")
    assert (clip.n_frames, clip.fps, clip.size) == (3, 12.5, (64, 48))
    assert np.array_equal(clip.get(0), frames[2]) and np.array_equal(clip.get(1), frames[0])  # PNG: exact
    assert np.abs(clip.get(2).astype(int) - frames[1]).mean() < 3  # JPEG q95
    assert open_frames(tmp_path).fps == 30.0
    Image.fromarray(frames[0][:40]).save(tmp_path / "f11.png")
    with pytest.raises(InputFileError, match=r"f11\.png: image is 64x40.*64x48"):
        open_frames(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputFileError, match=r"empty: folder holds no images"):
        open_frames(empty)


# --- OpenPose ---------------------------------------------------------------------------------------------------

def _person(k, centre, conf, rng):
    pts = np.concatenate([centre + rng.normal(0, 5, (k, 2)), np.full((k, 1), conf)], axis=1)
    return pts.ravel().tolist()


def _openpose_folder(folder, k):
    """Frames: 0 one person; 1 two people (the second more confident); 2 nobody; 3 two people of equal
    confidence (the one near frame 1's person must be kept); 4 one person with a hidden keypoint."""
    rng = np.random.default_rng(1)
    folder.mkdir()
    a, b = np.array([100.0, 200.0]), np.array([400.0, 220.0])
    frames = [[_person(k, a, 0.8, rng)], [_person(k, a, 0.5, rng), _person(k, b, 0.9, rng)], [],
              [_person(k, a, 0.85, rng), _person(k, b, 0.88, rng)], [_person(k, a, 0.7, rng)]]
    frames[4][0][5 * 3 + 2] = 0.0
    for t, people in enumerate(frames):
        doc = {"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": p} for p in people]}
        (folder / f"clip_{t:012d}_keypoints.json").write_text(json.dumps(doc))
    return frames


@pytest.mark.parametrize("k, layout", [(25, "openpose_body25"), (18, "coco18")])
def test_openpose_folder(tmp_path, k, layout):
    written = _openpose_folder(tmp_path / "op", k)
    tr = read_openpose(tmp_path / "op", image_size=(640, 480))
    assert tr.layout == layout and tr.xy.shape == (5, k, 2) and tr.image_size == (640, 480)
    assert tr.detected.tolist() == [True, True, False, True, True] and tr.gaps() == [(2, 3)]
    assert np.all(tr.confidence[2] == 0)
    ref1 = np.asarray(written[1][1]).reshape(k, 3)  # the more confident person
    assert np.allclose(tr.xy[1], ref1[:, :2]) and np.allclose(tr.confidence[1], 0.9)
    ref3 = np.asarray(written[3][1]).reshape(k, 3)  # ambiguous: the person near frame 1's (b) is kept
    assert np.allclose(tr.xy[3], ref3[:, :2])
    assert tr.confidence[4, 5] == 0 and np.all(tr.xy[4, 5] == 0)
    assert read_keypoints(tmp_path / "op", image_size=(640, 480)).layout == layout
    with pytest.raises(InputFileError, match=r"op: 5 OpenPose files.*clip has 7 frames"):
        read_openpose(tmp_path / "op", n_frames=7, image_size=(640, 480))
    with pytest.raises(ConfigError, match="image size"):
        read_openpose(tmp_path / "op")


def test_openpose_nearest_person_follows_the_previous_frame(tmp_path):
    # The same clip, but frame 1 keeps person a (now the more confident): frame 3 must follow a, not b.
    rng = np.random.default_rng(2)
    folder = tmp_path / "op"
    folder.mkdir()
    a, b = np.array([100.0, 200.0]), np.array([400.0, 220.0])
    for t, people in enumerate([[_person(25, a, 0.9, rng), _person(25, b, 0.4, rng)],
                                [_person(25, a, 0.85, rng), _person(25, b, 0.88, rng)]]):
        (folder / f"x_{t}_keypoints.json").write_text(json.dumps({"people": [{"pose_keypoints_2d": p}
                                                                             for p in people]}))
    tr = read_openpose(folder, image_size=(640, 480))
    assert np.linalg.norm(tr.xy[1].mean(axis=0) - a) < 10


def test_openpose_malformed_json_names_file_and_line(tmp_path):
    _openpose_folder(tmp_path / "op", 25)
    bad = tmp_path / "op" / "clip_000000000002_keypoints.json"
    bad.write_text('{"version": 1.3,\n "people": [\n  {"pose_keypoints_2d": [1, 2, 0.5,]}\n]}\n')
    with pytest.raises(InputFileError, match=r"clip_000000000002_keypoints\.json, line 3: malformed JSON"):
        read_openpose(tmp_path / "op", image_size=(640, 480))
    bad.write_text(json.dumps({"people": [{"pose_keypoints_2d": [0.0] * 60}]}))
    with pytest.raises(InputFileError, match=r"clip_000000000002_keypoints\.json: .*60 values"):
        read_openpose(tmp_path / "op", image_size=(640, 480))


# --- COCO -------------------------------------------------------------------------------------------------------

def _coco_kpts(rng, centre, vis=2):
    pts = np.concatenate([centre + rng.normal(0, 5, (17, 2)), np.full((17, 1), vis)], axis=1)
    pts[3, 2] = 0  # one unlabelled keypoint
    return pts.ravel().tolist()


def test_coco_clip_file(tmp_path):
    rng = np.random.default_rng(3)
    images = [{"id": 10 + i, "file_name": f"frame{i}.png", "width": 320, "height": 240} for i in (2, 0, 1, 3)]
    a = _coco_kpts(rng, np.array([100.0, 120.0]))
    b = _coco_kpts(rng, np.array([200.0, 120.0]), vis=1)
    anns = [{"image_id": 10, "keypoints": a}, {"image_id": 11, "keypoints": b},
            {"image_id": 13, "keypoints": _coco_kpts(rng, np.array([50.0, 50.0]))}]
    (tmp_path / "clip.json").write_text(json.dumps({"images": images, "annotations": anns}))
    tr = read_coco(tmp_path / "clip.json")
    assert tr.layout == "coco17" and tr.image_size == (320, 240) and tr.n_frames == 4
    # frame0 (id 10), frame1 (id 11), frame2 (id 12: no annotation), frame3 (id 13)
    assert tr.detected.tolist() == [True, True, False, True]
    assert np.allclose(tr.xy[0, 0], np.asarray(a).reshape(17, 3)[0, :2])
    assert tr.confidence[0, 3] == 0 and tr.confidence[0, 4] == 1 and np.all(tr.confidence[1, [0, 1, 2, 4]] == 1)
    with pytest.raises(InputFileError, match=r"clip\.json: 4 COCO images but the clip has 5 frames"):
        read_coco(tmp_path / "clip.json", n_frames=5)
    # Matched by name to an image folder's frames.
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    for i in range(4):
        Image.fromarray(np.zeros((240, 320, 3), np.uint8)).save(frames_dir / f"frame{i}.png")
    tr2 = read_keypoints(tmp_path / "clip.json", frames=open_frames(frames_dir))
    assert np.array_equal(tr2.xy, tr.xy) and np.array_equal(tr2.detected, tr.detected)


def test_coco_per_image_files_and_mismatches(tmp_path):
    rng = np.random.default_rng(4)
    folder = tmp_path / "coco"
    folder.mkdir()
    for i in range(3):
        anns = [] if i == 1 else [{"image_id": 1, "keypoints": _coco_kpts(rng, np.array([60.0, 40.0]))}]
        doc = {"images": [{"id": 1, "file_name": f"img{i}.jpg", "width": 64, "height": 48}], "annotations": anns}
        (folder / f"img{i}.json").write_text(json.dumps(doc))
    tr = read_coco(folder)
    assert tr.detected.tolist() == [True, False, True] and tr.image_size == (64, 48)
    single = read_coco(folder / "img2.json")
    assert single.n_frames == 1 and np.array_equal(single.xy[0], tr.xy[2])
    # Against frames: a video of 4 frames and of another size.
    write_video(tmp_path / "v.mp4", _smooth_frames(4), fps=30)
    clip = open_frames(tmp_path / "v.mp4")
    with pytest.raises(InputFileError, match=r"coco: 3 COCO images but the clip has 4 frames"):
        read_keypoints(folder, frames=clip)
    write_video(tmp_path / "w.mp4", [f[:, :32] for f in _smooth_frames(3)], fps=30)
    with pytest.raises(InputFileError, match=r"coco: images are 64x48, the frames are 32x48"):
        read_keypoints(folder, frames=open_frames(tmp_path / "w.mp4"))
    # A saved track against a clip of another length.
    tr.save(tmp_path / "t.npz")
    with pytest.raises(InputFileError, match=r"t\.npz: 3 frames of keypoints but .*v\.mp4 has 4 frames"):
        read_keypoints(tmp_path / "t.npz", frames=clip)


def test_coco_malformed_json_names_the_line(tmp_path):
    (tmp_path / "c.json").write_text('{"images": [],\n\n "annotations": [}\n')
    with pytest.raises(InputFileError, match=r"c\.json, line 3: malformed JSON"):
        read_coco(tmp_path / "c.json")
    (tmp_path / "c.json").write_text(json.dumps({"images": [{"id": 1, "width": 9, "height": 9}],
                                                 "annotations": [{"image_id": 2, "keypoints": [0] * 51}]}))
    with pytest.raises(InputFileError, match=r"c\.json: annotations\[0\] refers to image_id 2"):
        read_coco(tmp_path / "c.json")
