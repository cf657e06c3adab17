"""The offline MediaPipe detector, for real, in its own environment (``.venvs/mediapipe``, numpy < 2).

The environment is an install step, ``python scripts/mediapipe_env.py create``; without it the detector test fails
with a message naming that command (never skipped). The clip is made here: the Anny body in its rest pose rendered
by the project's renderer (320 x 320 px, camera 3.2 m in front, the person about 265 px tall), moving sideways by
5 cm a frame, after one frame of background only, written to an mp4 and read back.

Tolerance: BlazePose's hips, shoulders, knees and ankles lie within 10 % of the person's image height of the
projected SMPL-H joints of the render (observed: under 3 %); BlazePose marks skin-surface points, so a few
centimetres of offset from the joint centres is expected. Its world landmarks put the hip midpoint within 5 cm of
their origin (observed: under 1 mm).
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from biopose_opensim import keypoints as kp
from biopose_opensim.video import detector
from biopose_opensim.video.frames import open_frames, write_video

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "mediapipe_env.py"
SIZE = 320
DISTANCE = 3.2
LIMBS = ("left_hip", "right_hip", "left_shoulder", "right_shoulder", "left_knee", "right_knee", "left_ankle",
         "right_ankle")


def _env_script():
    if "mediapipe_env" not in sys.modules:
        spec = importlib.util.spec_from_file_location("mediapipe_env", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules["mediapipe_env"] = module
        spec.loader.exec_module(module)
    return sys.modules["mediapipe_env"]


@pytest.fixture(scope="module")
def mediapipe_python():
    """The environment's python; a missing environment fails the test (it is an install step, never skipped)."""
    try:
        return detector.require_mediapipe_env()
    except detector.MediapipeEnvError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="module")
def rendered_clip(anny_body, tmp_path_factory):
    """``(frames, joints_px (T, J, 2), joint names, person height px)``: the rendered mp4, read back."""
    from biopose_opensim.render.appearance import AppearanceRanges, sample_appearance, vertex_regions
    from biopose_opensim.render.background import background
    from biopose_opensim.render.camera import look_at, project
    from biopose_opensim.render.gl import render_frames

    out = anny_body.rest().in_opensim_frame()
    verts, joints = out.vertices[0].double().numpy(), out.joints[0].double().numpy()
    pelvis = joints[out.joint_names.index("pelvis")]
    centre = pelvis + np.array([DISTANCE, 0.0, 0.0])  # in front of the subject (OpenSim x forward)
    R = look_at(centre, pelvis)
    height_m = np.ptp(verts[:, 1])
    f = 0.8 * SIZE * DISTANCE / height_m
    K = np.array([[f, 0.0, SIZE / 2], [0.0, f, SIZE / 2], [0.0, 0.0, 1.0]])
    shift = np.array([[0.05 * t, 0.0, 0.0] for t in range(4)])  # camera frame: x right
    verts_cam = ((verts - centre) @ R.T)[None] + shift[:, None]
    joints_cam = ((joints - centre) @ R.T)[None] + shift[:, None]
    rng = np.random.default_rng(0)
    colours = sample_appearance(rng, AppearanceRanges()).vertex_colours(
        vertex_regions(anny_body.bone_labels, anny_body.skinning_weights()))
    bg = background(rng, SIZE)
    images = render_frames(verts_cam, anny_body.faces.numpy(), K, (SIZE, SIZE), colours, bg)
    clip = tmp_path_factory.mktemp("mediapipe") / "person.mp4"
    write_video(clip, [bg] + list(images), fps=30)
    joints_px = np.concatenate([np.zeros((1, len(joints), 2)), project(joints_cam, K)])
    height_px = f * height_m / DISTANCE
    return open_frames(clip), joints_px, out.joint_names, height_px


def test_detector_finds_the_rendered_person(mediapipe_python, rendered_clip, tmp_path):
    frames, joints_px, joint_names, height_px = rendered_clip
    track = detector.detect_mediapipe(frames, tmp_path / "work", python=mediapipe_python)
    assert track.layout == "mediapipe33" and track.xy.shape == (5, 33, 2) and track.image_size == (SIZE, SIZE)
    assert track.world is not None and track.world.shape == (5, 33, 3)
    assert track.detected.tolist() == [False, True, True, True, True]  # the background frame holds nobody
    assert np.all(track.confidence[0] == 0) and track.gaps() == [(0, 1)]
    assert "0.10.21" in track.source and (tmp_path / "work" / "mediapipe_landmarks.npz").exists()
    lay = kp.layout("mediapipe33")
    errors = {}
    for name in LIMBS:
        det = track.xy[1:, lay.index(name)]
        ref = joints_px[1:, joint_names.index(name)]
        errors[name] = np.linalg.norm(det - ref, axis=-1) / height_px
        assert np.all(track.confidence[1:, lay.index(name)] > 0.5), name
    print("\nBlazePose vs projected joints, fraction of the person's height: "
          + ", ".join(f"{n} {e.max():.3f}" for n, e in errors.items()))
    assert max(e.max() for e in errors.values()) < 0.10
    # Left is the person's left: the swapped side is much farther off (facing the camera, left is image right).
    swapped = np.linalg.norm(track.xy[1:, lay.index("right_hip")] - joints_px[1:, joint_names.index("left_hip")],
                             axis=-1) / height_px
    assert swapped.min() > 2 * errors["left_hip"].max()
    assert np.all(track.xy[1:, lay.index("left_hip"), 0] > track.xy[1:, lay.index("right_hip"), 0])
    hips = track.world[1:, [lay.index("left_hip"), lay.index("right_hip")]].mean(axis=1)
    assert np.abs(hips).max() < 0.05
    # The person moves right by 5 cm a frame: about 12 px at this focal length.
    step = np.diff(track.xy[1:, lay.index("left_hip"), 0])
    assert np.all(step > 0)


def test_missing_environment_names_the_create_command(tmp_path, rendered_clip):
    with pytest.raises(detector.MediapipeEnvError, match=r"python scripts/mediapipe_env\.py create"):
        detector.require_mediapipe_env(tmp_path / "absent")
    env = _env_script()
    assert env.main(["check", "--env", str(tmp_path / "absent")]) == 1
    assert env.main(["path", "--env", str(tmp_path / "absent")]) == 1
    # A python without mediapipe: the worker fails and the error quotes its log.
    with pytest.raises(detector.MediapipeEnvError, match=r"(?s)mediapipe worker failed.*mediapipe_worker\.log.*"
                                                         r"No module named 'mediapipe'"):
        detector.detect_mediapipe(rendered_clip[0], tmp_path / "work", python=sys.executable)


def test_env_script_check_runs_the_worker(mediapipe_python):
    report = _env_script().check_mediapipe_env()
    assert '"mediapipe": "0.10.21"' in report and '"model_complexity": 1' in report
