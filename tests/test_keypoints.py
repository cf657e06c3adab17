"""Keypoint layouts: names, SMPL-H correspondences, conversions and left/right mirroring."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from biopose_opensim import keypoints as kp
from biopose_opensim.bodymodels.base import SMPLH_JOINT_NAMES


def test_layout_sizes_and_joints_are_smplh_names():
    sizes = {"smplh52": 52, "smpl24": 24, "openpose_body25": 25, "coco17": 17, "coco18": 18, "hmr44": 44,
             "spin24": 24}
    for name, k in sizes.items():
        lay = kp.layout(name)
        assert len(lay) == k and len(lay.joints) == k
        assert all(j is None or j in SMPLH_JOINT_NAMES for j in lay.joints)
    assert kp.layout("smplh52").names == SMPLH_JOINT_NAMES
    body25 = kp.layout("openpose_body25")
    assert body25.names[:3] == ("nose", "neck", "right_shoulder") and body25.names[8] == "mid_hip"
    assert body25.joints[8] == "pelvis" and body25.joints[0] is None and body25.joints[24] is None
    assert kp.layout("hmr44").names[:25] == body25.names


def test_unknown_layout_and_keypoint_name_the_choices():
    with pytest.raises(KeyError, match="coco17"):
        kp.layout("coco99")
    with pytest.raises(KeyError, match="left_knee"):
        kp.indices("coco17", ["left_kneee"])
    assert list(kp.indices("coco17", ["nose", "right_ankle"])) == [0, 16]


def test_smplh_to_coco17_nose_has_no_counterpart():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=(2, 52, 2)), np.ones((2, 52, 1))], axis=-1)
    y = kp.to_layout(x, "smplh52", "coco17")
    assert y.shape == (2, 17, 3)
    coco = kp.layout("coco17")
    for face in ("nose", "left_eye", "right_eye", "left_ear", "right_ear"):
        assert np.all(y[:, coco.index(face)] == 0)
    assert np.array_equal(y[:, coco.index("left_knee")], x[:, SMPLH_JOINT_NAMES.index("left_knee")])
    assert np.array_equal(y[:, coco.index("right_wrist")], x[:, SMPLH_JOINT_NAMES.index("right_wrist")])
    # Torch gives the same answer.
    yt = kp.to_layout(torch.as_tensor(x), "smplh52", "coco17")
    assert torch.equal(yt, torch.as_tensor(y))


def test_coco17_round_trip_through_body25_keeps_face_points():
    x = np.arange(17 * 3, dtype=float).reshape(17, 3)
    x[:, 2] = 1.0
    back = kp.to_layout(kp.to_layout(x, "coco17", "openpose_body25"), "openpose_body25", "coco17")
    assert np.array_equal(back, x)
    body25 = kp.to_layout(x, "coco17", "openpose_body25")
    assert body25[kp.layout("openpose_body25").index("mid_hip"), 2] == 0  # COCO has no pelvis point


def test_duplicate_candidates_take_the_most_confident():
    x = np.zeros((44, 4))
    lay = kp.layout("hmr44")
    x[lay.index("right_ankle")] = [1, 1, 1, 0.2]
    x[lay.index("right_ankle_lsp")] = [2, 2, 2, 0.9]
    y = kp.to_layout(x, "hmr44", "smplh52")
    assert np.array_equal(y[SMPLH_JOINT_NAMES.index("right_ankle")], [2, 2, 2, 0.9])
    x[lay.index("right_ankle"), 3] = 0.9  # a tie: the first candidate (BODY_25's)
    y = kp.to_layout(x, "hmr44", "smplh52")
    assert np.array_equal(y[SMPLH_JOINT_NAMES.index("right_ankle")], [1, 1, 1, 0.9])


def test_flip_permutation_matches_the_hmr_convention():
    perm = kp.layout("hmr44").flip_permutation()
    body = [0, 1, 5, 6, 7, 2, 3, 4, 8, 12, 13, 14, 9, 10, 11, 16, 15, 18, 17, 22, 23, 24, 19, 20, 21]
    extra = [5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6, 12, 13, 14, 15, 16, 17, 18]
    assert list(perm) == body + [25 + i for i in extra]
    smplh = kp.layout("smplh52")
    p = smplh.flip_permutation()
    assert smplh.names[p[smplh.index("left_index2")]] == "right_index2"
    assert p[smplh.index("spine2")] == smplh.index("spine2")
    assert [kp.mirror_name(n) for n in ("LASI", "knee_r", "C7", "left_heel")] == ["RASI", "knee_l", "C7",
                                                                                  "right_heel"]


def test_wrong_point_count_is_refused():
    with pytest.raises(ValueError, match="coco17"):
        kp.to_layout(np.zeros((18, 3)), "coco17", "smplh52")


def test_mediapipe33_order_and_correspondences():
    mp33 = kp.layout("mediapipe33")
    assert len(mp33) == 33
    # BlazePose's published indices.
    for i, name in {0: "nose", 2: "left_eye", 7: "left_ear", 11: "left_shoulder", 12: "right_shoulder",
                    15: "left_wrist", 23: "left_hip", 24: "right_hip", 27: "left_ankle", 28: "right_ankle",
                    29: "left_heel", 32: "right_foot_index"}.items():
        assert mp33.names[i] == name
    joints = {n: j for n, j in zip(mp33.names, mp33.joints) if j is not None}
    limbs = [f"{s}_{p}" for s in ("left", "right") for p in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")]
    assert joints == {n: n for n in limbs}
    x = np.concatenate([np.arange(66, dtype=float).reshape(33, 2), np.ones((33, 1))], axis=-1)
    smplh = kp.to_layout(x, "mediapipe33", "smplh52")
    assert np.array_equal(smplh[SMPLH_JOINT_NAMES.index("right_knee")], x[26])
    assert smplh[SMPLH_JOINT_NAMES.index("pelvis"), 2] == 0  # no pelvis point in BlazePose
    body25 = kp.to_layout(x, "mediapipe33", "openpose_body25")
    b25 = kp.layout("openpose_body25")
    assert np.array_equal(body25[b25.index("left_heel")], x[29])  # shared skin landmark
    assert np.array_equal(body25[b25.index("nose")], x[0])
    assert body25[b25.index("left_big_toe"), 2] == 0  # the foot index is not the big toe
    perm = mp33.flip_permutation()
    assert mp33.names[perm[mp33.index("mouth_left")]] == "mouth_right"
    assert mp33.names[perm[mp33.index("left_eye_inner")]] == "right_eye_inner"
