"""Named 2D/3D keypoint layouts and conversions between them.

A :class:`KeypointLayout` is an ordered list of keypoint names and, per keypoint, either the SMPL-H joint it is
(:data:`biopose_opensim.bodymodels.base.SMPLH_JOINT_NAMES`) or ``None`` with a *landmark* name for a point on the
skin or face that no body-model joint marks. Two keypoints of different layouts are the same point when they share
a SMPL-H joint, or, with no joint, the same landmark. :func:`to_layout` converts arrays ``(..., K, C)`` whose last
channel is a confidence; keypoints of the target with no counterpart get confidence 0 (and coordinates 0).

Layouts (``layout(name)``):

* ``smplh52``: the 52 SMPL-H joints of the body models (22 body joints, 15 left-hand, 15 right-hand joints).
* ``smpl24``: the 24 SMPL joints: the 22 body joints, then ``left_hand`` / ``right_hand``. SMPL's hand joint sits
  at the knuckles and is matched to SMPL-H's ``left_middle1`` / ``right_middle1`` (the middle finger's
  metacarpophalangeal joint): an approximation of a couple of centimetres, chosen so hand positions survive a
  conversion; everything else is exact.
* ``openpose_body25``: OpenPose BODY_25 order (Nose, Neck, RShoulder, RElbow, RWrist, LShoulder, LElbow, LWrist,
  MidHip, RHip, RKnee, RAnkle, LHip, LKnee, LAnkle, REye, LEye, REar, LEar, LBigToe, LSmallToe, LHeel, RBigToe,
  RSmallToe, RHeel) in snake case. ``neck`` -> SMPL-H ``neck``, ``mid_hip`` -> ``pelvis``, hips/knees/ankles,
  shoulders/elbows/wrists -> the joints of the same name (the usual HMR correspondence; a detector's hip sits a few
  centimetres from the SMPL hip joint centre). Nose, eyes, ears, big toes, small toes and heels are skin points:
  no joint.
* ``coco18``: OpenPose's COCO-18 order (BODY_25 without MidHip and the six foot points), same correspondences.
* ``coco17``: the COCO keypoints (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles); the face
  points have no joint.
* ``hmr44``: the HMR 2.0 / ProHMR training layout: the 25 ``openpose_body25`` keypoints, then 19 dataset joints
  (LSP's 14 limb joints, LSP neck and head top, MPII pelvis and thorax, Human3.6M spine, jaw and head), named with
  a ``_lsp`` / ``_mpii`` / ``_h36m`` suffix. The 12 LSP limb joints and ``pelvis_mpii`` map to the SMPL-H joints of
  the same name; ``neck_lsp`` (top of the neck), ``head_top_lsp``, ``thorax_mpii``, ``spine_h36m``, ``jaw_h36m``
  and ``head_h36m`` are not joints of the body model: no joint (their own landmark).
* ``spin24``: SPIN's 24 ``part`` keypoints: the 19 dataset joints of ``hmr44`` then nose, left eye, right eye,
  left ear, right ear (read by :mod:`biopose_opensim.hmr.data`).
* ``mediapipe33``: MediaPipe BlazePose's 33 landmarks in its order (nose, left/right eye inner, eye, eye outer,
  ears, mouth left/right, shoulders, elbows, wrists, pinkies, index fingers, thumbs, hips, knees, ankles, heels,
  foot index), left/right being the person's. Shoulders, elbows, wrists, hips, knees and ankles map to the SMPL-H
  joints of the same name (BlazePose's hip sits a few centimetres from the SMPL hip joint centre, like OpenPose's);
  all other landmarks are skin points with no joint. Nose, eyes, ears and heels share their landmark with the
  COCO / OpenPose points of the same name; ``left_foot_index`` (the toe tip) is its own landmark.

When a source layout holds several keypoints for one point (``hmr44`` has ``right_ankle`` and
``right_ankle_lsp``), the target takes the one with the highest confidence, the first on a tie.

Left/right: :func:`flip_permutation` pairs names that differ by ``left``/``right`` (or ``l``/``r``) as an
underscore-separated word, or by a leading ``L``/``R`` before a capital (Vicon style ``LASI``/``RASI``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence, TypeVar

import numpy as np
import torch

from .bodymodels.base import SMPL_JOINT_NAMES, SMPLH_JOINT_NAMES

ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)


@dataclass(frozen=True)
class KeypointLayout:
    """An ordered keypoint layout.

    Attributes:
        name: the layout's name (``layout(name)`` returns it).
        names: ``K`` unique keypoint names.
        joints: ``K`` SMPL-H joint names, ``None`` where the keypoint is no body-model joint.
        landmarks: ``K`` landmark names identifying joint-less keypoints across layouts (``None`` where
            ``joints`` is set).
    """

    name: str
    names: tuple[str, ...]
    joints: tuple[str | None, ...]
    landmarks: tuple[str | None, ...]

    def __post_init__(self) -> None:
        if not (len(self.names) == len(self.joints) == len(self.landmarks)):
            raise ValueError(f"layout {self.name!r}: names, joints and landmarks differ in length")
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"layout {self.name!r}: keypoint names are not unique")
        for n, j, m in zip(self.names, self.joints, self.landmarks):
            if (j is None) == (m is None):
                raise ValueError(f"layout {self.name!r}: keypoint {n!r} needs exactly one of joint or landmark")
            if j is not None and j not in SMPLH_JOINT_NAMES:
                raise ValueError(f"layout {self.name!r}: keypoint {n!r} names unknown SMPL-H joint {j!r}")

    def __len__(self) -> int:
        return len(self.names)

    @property
    def points(self) -> tuple[str, ...]:
        """Per keypoint, the identity used to match layouts: ``joint:<name>`` or ``landmark:<name>``."""
        return tuple(f"joint:{j}" if j is not None else f"landmark:{m}" for j, m in zip(self.joints, self.landmarks))

    def index(self, name: str) -> int:
        """Index of keypoint ``name``. Raises KeyError naming the layout's keypoints."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"keypoint {name!r} not in layout {self.name!r}: {', '.join(self.names)}") from None

    def flip_permutation(self) -> np.ndarray:
        """``(K,)`` int64: the keypoint each keypoint becomes in a left/right mirrored image."""
        return flip_permutation(self.names)


def _build(name: str, entries: Sequence[tuple[str, str | None]]) -> KeypointLayout:
    """A layout from ``(keypoint name, SMPL-H joint or None)``; a joint-less keypoint is its own landmark."""
    names = tuple(e[0] for e in entries)
    joints = tuple(e[1] for e in entries)
    landmarks = tuple(None if j is not None else n for n, j in entries)
    return KeypointLayout(name, names, joints, landmarks)


def _same(*names: str) -> list[tuple[str, str]]:
    return [(n, n) for n in names]


_FACE = [("nose", None), ("left_eye", None), ("right_eye", None), ("left_ear", None), ("right_ear", None)]
_ARMS_R = _same("right_shoulder", "right_elbow", "right_wrist")
_ARMS_L = _same("left_shoulder", "left_elbow", "left_wrist")

_BODY25 = (
    [("nose", None), ("neck", "neck")] + _ARMS_R + _ARMS_L + [("mid_hip", "pelvis")]
    + _same("right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle")
    + [("right_eye", None), ("left_eye", None), ("right_ear", None), ("left_ear", None)]
    + [("left_big_toe", None), ("left_small_toe", None), ("left_heel", None)]
    + [("right_big_toe", None), ("right_small_toe", None), ("right_heel", None)]
)
_COCO18 = [e for e in _BODY25[:19] if e[0] != "mid_hip"]
_COCO17 = _FACE + _same(
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)
_EXTRA19 = (
    [(f"{j}_lsp", j) for j in ("right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
                               "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow",
                               "left_wrist")]
    + [("neck_lsp", None), ("head_top_lsp", None), ("pelvis_mpii", "pelvis"), ("thorax_mpii", None),
       ("spine_h36m", None), ("jaw_h36m", None), ("head_h36m", None)]
)
_SMPL24 = _same(*SMPL_JOINT_NAMES[:22]) + [("left_hand", "left_middle1"), ("right_hand", "right_middle1")]
_MEDIAPIPE33 = (
    [("nose", None), ("left_eye_inner", None), ("left_eye", None), ("left_eye_outer", None),
     ("right_eye_inner", None), ("right_eye", None), ("right_eye_outer", None), ("left_ear", None),
     ("right_ear", None), ("mouth_left", None), ("mouth_right", None)]
    + _same("left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist")
    + [("left_pinky", None), ("right_pinky", None), ("left_index", None), ("right_index", None),
       ("left_thumb", None), ("right_thumb", None)]
    + _same("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
    + [("left_heel", None), ("right_heel", None), ("left_foot_index", None), ("right_foot_index", None)]
)

_LAYOUTS: dict[str, KeypointLayout] = {
    layout_.name: layout_
    for layout_ in (
        _build("smplh52", _same(*SMPLH_JOINT_NAMES)),
        _build("smpl24", _SMPL24),
        _build("openpose_body25", _BODY25),
        _build("coco18", _COCO18),
        _build("coco17", _COCO17),
        _build("hmr44", _BODY25 + _EXTRA19),
        _build("spin24", _EXTRA19 + _FACE),
        _build("mediapipe33", _MEDIAPIPE33),
    )
}
#: Names of the built-in layouts.
LAYOUT_NAMES: tuple[str, ...] = tuple(_LAYOUTS)


def layout(name: str | KeypointLayout) -> KeypointLayout:
    """The layout called ``name`` (a layout is returned as is). Raises KeyError naming the known layouts."""
    if isinstance(name, KeypointLayout):
        return name
    try:
        return _LAYOUTS[name]
    except KeyError:
        raise KeyError(f"unknown keypoint layout {name!r}; known: {', '.join(LAYOUT_NAMES)}") from None


def indices(layout_name: str | KeypointLayout, names: Sequence[str]) -> np.ndarray:
    """``(len(names),)`` int64 indices of keypoints ``names`` in the layout. Raises KeyError for an unknown name."""
    lay = layout(layout_name)
    return np.array([lay.index(n) for n in names], dtype=np.int64)


@lru_cache(maxsize=None)
def correspondence(src: str, dst: str) -> np.ndarray:
    """``(K_dst, n)`` int64: per target keypoint, the source keypoints that are the same point, padded with -1.

    ``n`` is at least 1; a row of -1 means the target keypoint has no counterpart in the source.
    """
    s, d = layout(src), layout(dst)
    src_points = s.points
    rows = [[i for i, p in enumerate(src_points) if p == q] for q in d.points]
    width = max([1] + [len(r) for r in rows])
    out = np.full((len(d), width), -1, dtype=np.int64)
    for k, r in enumerate(rows):
        out[k, : len(r)] = r
    out.setflags(write=False)
    return out


def to_layout(kpts: ArrayT, src: str | KeypointLayout, dst: str | KeypointLayout) -> ArrayT:
    """Convert keypoints from layout ``src`` to ``dst``.

    Args:
        kpts: ``(..., K, C)`` numpy array or torch tensor, ``K == len(layout(src))``; the last channel is a
            confidence (e.g. ``(x, y, conf)`` px or ``(x, y, z, conf)`` metres).
        src, dst: layout names (or layouts).

    Returns:
        ``(..., K', C)`` of the same type, dtype and device; keypoints of ``dst`` with no counterpart in ``src``
        are all zeros (confidence 0). Where ``src`` holds several candidates for one point, the one with the
        highest confidence is taken (the first on a tie).
    """
    s, d = layout(src), layout(dst)
    if kpts.shape[-2] != len(s):
        raise ValueError(f"keypoints have {kpts.shape[-2]} points, layout {s.name!r} has {len(s)}")
    if s.name not in _LAYOUTS or d.name not in _LAYOUTS:
        raise KeyError("to_layout takes built-in layouts only")
    corr = correspondence(s.name, d.name)
    valid = corr >= 0
    safe = np.where(valid, corr, 0)
    if isinstance(kpts, torch.Tensor):
        idx = torch.as_tensor(safe, device=kpts.device)
        cand = kpts[..., idx, :]  # (..., K', n, C)
        mask = torch.as_tensor(valid, device=kpts.device)
        conf = torch.where(mask, cand[..., -1], torch.full_like(cand[..., -1], -torch.inf))
        best = conf.argmax(dim=-1, keepdim=True)  # first max on ties
        out = torch.take_along_dim(cand, best[..., None], dim=-2)[..., 0, :]
        has = torch.as_tensor(valid.any(axis=1), device=kpts.device)[:, None]
        return torch.where(has, out, torch.zeros_like(out))
    kpts = np.asarray(kpts)
    cand = kpts[..., safe, :]
    conf = np.where(valid, cand[..., -1], -np.inf)
    best = np.argmax(conf, axis=-1)[..., None, None]
    out = np.take_along_axis(cand, best, axis=-2)[..., 0, :]
    return np.where(valid.any(axis=1)[:, None], out, np.zeros_like(out))


_LEADING_SIDE = re.compile(r"^([LR])(?=[A-Z])")


def mirror_name(name: str) -> str:
    """``name`` with its side swapped (``left_knee`` -> ``right_knee``, ``knee_l`` -> ``knee_r``,
    ``LASI`` -> ``RASI``); a name with no side is returned unchanged."""
    swap = {"left": "right", "right": "left", "l": "r", "r": "l", "Left": "Right", "Right": "Left",
            "L": "R", "R": "L"}
    words = name.split("_")
    if any(w in swap for w in words) and len(words) > 1:
        return "_".join(swap.get(w, w) for w in words)
    m = _LEADING_SIDE.match(name)
    if m:
        return swap[m.group(1)] + name[1:]
    return name


def flip_permutation(names: Sequence[str]) -> np.ndarray:
    """``(K,)`` int64: for each name, the index of its mirror name (itself where it has none in ``names``).

    After a horizontal flip, ``flipped[..., k, :] = original[..., perm[k], :]`` with x mirrored.
    """
    where = {n: i for i, n in enumerate(names)}
    return np.array([where.get(mirror_name(n), i) for i, n in enumerate(names)], dtype=np.int64)
