"""Fitting Anny to a clip's 2D keypoints (biopose_opensim.video.fit) on synthetic truth made here.

The truth: Anny's default body in the rest pose with known local rotations of hips, knees, shoulders and elbows
varying over 12 frames, turned 30 degrees about the vertical and 4 m in front of a 640x480 camera with a focal
length of 1000 px; its 52 joints projected and converted to a keypoint layout with confidence 1.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from biopose_opensim.errors import BioposeError
from biopose_opensim.keypoints import to_layout
from biopose_opensim.video.fit import FitConfig, FitError, FitResult, axis_angle_to_matrix, fit_anny, local_to_world
from biopose_opensim.video.fit_priors import POSED_BONES, anny_fit_body
from biopose_opensim.video.tracks import KeypointTrack

K = np.array([[1000.0, 0.0, 320.0], [0.0, 1000.0, 240.0], [0.0, 0.0, 1.0]])
T = 12


def synthetic_clip(T: int = T) -> tuple[np.ndarray, np.ndarray]:
    """Truth ``(orientations (T, 104, 3, 3), joints (T, 52, 3))``, camera frame, metres."""
    body = anny_fit_body()
    s = np.sin(np.linspace(0.0, math.pi, T))
    r = np.zeros((T, len(POSED_BONES), 3))
    i = {b: k for k, b in enumerate(POSED_BONES)}
    r[:, i["upperleg01.L"], 0] = -0.8 * s          # left hip flexes forward
    r[:, i["upperleg01.R"], 0] = 0.3 * s           # right hip extends
    r[:, i["lowerleg01.L"]] = (1.2 * s)[:, None] * body.hinge_axis[0].numpy()   # left knee flexes to ~70 deg
    r[:, i["lowerleg01.R"]] = (0.4 * s)[:, None] * body.hinge_axis[1].numpy()
    r[:, i["upperarm01.L"], 2] = 0.6 * s           # left arm raised sideways
    r[:, i["lowerarm01.R"]] = (0.9 * s)[:, None] * body.hinge_axis[3].numpy()  # right elbow flexes
    yaw = math.radians(30.0) + 0.2 * s
    root = np.stack([[[math.cos(a), 0.0, math.sin(a)], [0.0, 1.0, 0.0], [-math.sin(a), 0.0, math.cos(a)]]
                     for a in yaw])
    NB = len(body.parents)
    with torch.no_grad():
        local = torch.eye(3).repeat(T, NB, 1, 1)
        local[:, 0] = torch.as_tensor(root, dtype=torch.float32)
        local[:, body.posed] = axis_angle_to_matrix(torch.as_tensor(r, dtype=torch.float32))
        world = local_to_world(local, body.parents, body.rest)
        joints = body.layer(world, torch.full((T, 6), 0.5)).joints.double().numpy()
    cam_t = np.stack([np.linspace(-0.3, 0.3, T), np.full(T, 0.1), np.full(T, 4.0)], -1)
    return world.double().numpy(), joints + cam_t[:, None]


def project(points: np.ndarray) -> np.ndarray:
    uvw = points @ K.T
    return uvw[..., :2] / uvw[..., 2:]


def track_of(joints: np.ndarray, name: str, detected: np.ndarray | None = None,
             world: bool = False) -> KeypointTrack:
    n = joints.shape[0]
    detected = np.ones(n, bool) if detected is None else detected
    xyc = np.concatenate([project(joints), np.ones(joints.shape[:2] + (1,))], -1)
    kp = to_layout(xyc, "smplh52", name)
    conf = kp[..., 2] * detected[:, None]
    w3 = None
    if world:
        # The detector's landmarks: root-relative, in axes turned 20 degrees from the camera's.
        turn = axis_angle_to_matrix(torch.tensor([0.0, 0.35, 0.0])).double().numpy()
        rel = (joints - joints[:, :1]) @ turn.T
        w3 = to_layout(np.concatenate([rel, np.ones(rel.shape[:2] + (1,))], -1), "smplh52", name)[..., :3]
    return KeypointTrack(layout=name, xy=kp[..., :2] * detected[:, None, None], confidence=conf,
                         detected=detected, image_size=(640, 480), world=w3)


def mpjpe_mm(a: np.ndarray, b: np.ndarray, joints: np.ndarray) -> float:
    """Root-relative mean per-joint position error over ``joints`` indices, mm."""
    ra, rb = a - a[:, :1], b - b[:, :1]
    return float(np.linalg.norm(ra[:, joints] - rb[:, joints], axis=-1).mean() * 1000.0)


BODY22 = np.arange(22)


# ---------------------------------------------------------------------------------------------- local_to_world
def test_local_to_world_identity_gives_rest_and_parents_carry_children():
    body = anny_fit_body()
    NB = len(body.parents)
    local = torch.eye(3).repeat(2, NB, 1, 1)
    world = local_to_world(local, body.parents, body.rest)
    assert torch.allclose(world, body.rest.expand(2, -1, -1, -1), atol=1e-6)

    # Turn the left thigh by 40 degrees: the thigh, shin, foot and toes turn by it; the other leg and the spine
    # keep their rest orientations.
    rot = axis_angle_to_matrix(torch.tensor([0.7, 0.0, 0.0]))
    thigh = list(body.layer.bone_labels).index("upperleg01.L")
    local[1, thigh] = rot
    world = local_to_world(local, body.parents, body.rest)

    def descends(i: int) -> bool:
        while i >= 0:
            if i == thigh:
                return True
            i = body.parents[i]
        return False

    moved = [i for i in range(NB) if descends(i)]
    still = [i for i in range(NB) if not descends(i)]
    assert len(moved) > 10
    assert torch.allclose(world[1, moved], rot @ body.rest[moved], atol=1e-6)
    assert torch.allclose(world[1, still], body.rest[still], atol=1e-6)
    assert not torch.allclose(world[1, moved], body.rest[moved], atol=1e-2)


def test_local_to_world_composes_a_chain_in_any_order():
    parents = [2, 0, -1]  # a chain listed child first: 2 -> 0 -> 1
    rest = axis_angle_to_matrix(torch.tensor([[0.1, 0.2, 0.3], [0.0, -0.4, 0.0], [0.5, 0.0, 0.0]]))
    a = axis_angle_to_matrix(torch.tensor([[0.0, 0.3, 0.0], [0.2, 0.0, 0.1], [0.0, 0.0, -0.6]]))
    world = local_to_world(a[None], parents, rest)[0]
    G2 = a[2]
    G0 = G2 @ a[0]
    G1 = G0 @ a[1]
    assert torch.allclose(world, torch.stack([G0 @ rest[0], G1 @ rest[1], G2 @ rest[2]]), atol=1e-6)


# ---------------------------------------------------------------------------------------------- fitting
@pytest.fixture(scope="module")
def truth():
    torch.set_num_threads(1)
    return synthetic_clip()


@pytest.fixture(scope="module")
def coco_fit(truth):
    _, joints = truth
    detected = np.ones(T, bool)
    detected[5] = False
    track = track_of(joints, "coco17", detected)
    return track, fit_anny(track, K, progress=False)


def test_fit_coco17_reprojects_and_recovers_3d(truth, coco_fit):
    _, joints = truth
    track, fit = coco_fit
    assert isinstance(fit, FitResult)
    assert fit.orientations.shape == (T, 104, 3, 3) and fit.joints.shape == (T, 52, 3)
    assert fit.cam_t.shape == (T, 3) and fit.phenotypes.shape == (6,)
    ok = ~fit.filled
    # 2D: below 2 px on every detected frame (measured: see docs/video.md).
    assert np.all(fit.reprojection_px[ok] < 2.0), fit.reprojection_px
    # 3D: root-relative error over the 22 body joints on detected frames, against the rest-pose guess.
    rest = anny_fit_body().layer(anny_fit_body().rest[None], torch.full((1, 6), 0.5)).joints.detach().double()
    guess = np.repeat(rest.numpy(), T, 0)
    err = mpjpe_mm(fit.joints[ok], joints[ok], BODY22)
    err0 = mpjpe_mm(guess[ok], joints[ok], BODY22)
    assert err < 60.0, err
    assert err < 0.5 * err0, (err, err0)
    # Depth: the root within 0.3 m of the truth at 4 m.
    assert np.all(np.abs(fit.cam_t[ok, 2] - 4.0) < 0.3), fit.cam_t[:, 2]


def test_undetected_frame_is_filled_and_flagged(truth, coco_fit):
    _, joints = truth
    _, fit = coco_fit
    assert fit.filled.tolist() == [i == 5 for i in range(T)]
    assert np.isnan(fit.reprojection_px[5])
    # The filled frame (at the peak of the motion) is carried by its neighbours: root-relative error below
    # 90 mm (measured 66 mm) and the root within 15 cm of the truth.
    err = mpjpe_mm(fit.joints[5:6], joints[5:6], BODY22)
    assert err < 90.0, err
    assert np.linalg.norm(fit.cam_t[5] - joints[5, 0]) < 0.15, (fit.cam_t[5], joints[5, 0])


def test_fit_with_detector_world_landmarks(truth):
    """With 3D landmarks (in the detector's own axes) the depth ambiguity of 2D goes: MPJPE below 20 mm with a
    short schedule (measured 8 mm; 5 mm with the default schedule)."""
    _, joints = truth
    track = track_of(joints, "coco17", world=True)
    fit = fit_anny(track, K, FitConfig(iters_root=100, iters_pose=300, iters_shape=0), progress=False)
    assert np.all(fit.reprojection_px < 2.0), fit.reprojection_px
    err = mpjpe_mm(fit.joints, joints, BODY22)
    assert err < 20.0, err
    assert not fit.filled.any()


def test_hinge_penalty_only_for_bending_the_wrong_way():
    from biopose_opensim.video.fit_priors import hinge_penalty

    body = anny_fit_body()
    r = torch.zeros(3, len(POSED_BONES), 3)
    knee = POSED_BONES.index("lowerleg01.L")
    axis = body.hinge_axis[0]
    r[1, knee] = 1.2 * axis    # flexed 70 degrees: allowed
    r[2, knee] = -0.6 * axis   # bent 35 degrees backwards: penalised
    pen = [float(hinge_penalty(body, r[i:i + 1], math.radians(5.0))) for i in range(3)]
    assert pen[0] == 0.0 and pen[1] < 1e-10
    assert pen[2] > 0.1
    # Knees flex backward (+z: away from the camera the rest pose faces), elbows forward (-z).
    assert axis[0] > 0.9 and body.hinge_axis[3] @ torch.tensor([1.0, 0.0, 0.0]) < -0.5


def test_bad_input_raises():
    empty = KeypointTrack(layout="coco17", xy=np.zeros((0, 17, 2)), confidence=np.zeros((0, 17)),
                          detected=np.zeros(0, bool), image_size=(640, 480))
    with pytest.raises(FitError, match="no frames"):
        fit_anny(empty, K, progress=False)
    none = KeypointTrack(layout="coco17", xy=np.zeros((3, 17, 2)), confidence=np.zeros((3, 17)),
                         detected=np.zeros(3, bool), image_size=(640, 480))
    with pytest.raises(FitError, match="no frame has a detection"):
        fit_anny(none, K, progress=False)
    face = np.zeros((2, 17)); face[:, :5] = 1.0
    only_face = KeypointTrack(layout="coco17", xy=np.full((2, 17, 2), 100.0), confidence=face,
                              detected=np.ones(2, bool), image_size=(640, 480))
    with pytest.raises(FitError, match="body-model joint"):
        fit_anny(only_face, K, progress=False)
    ok = KeypointTrack(layout="coco17", xy=np.full((2, 17, 2), 100.0), confidence=np.ones((2, 17)),
                       detected=np.ones(2, bool), image_size=(640, 480))
    with pytest.raises(FitError, match="intrinsics"):
        fit_anny(ok, np.eye(2), progress=False)
    with pytest.raises(FitError, match="height_m"):
        fit_anny(ok, K, height_m=17.0, progress=False)
    assert issubclass(FitError, BioposeError)
