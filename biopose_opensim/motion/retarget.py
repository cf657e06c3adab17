"""Retarget OpenSim kinematics onto Anny by matching global segment orientations.

Notation (C = :data:`~biopose_opensim.bodymodels.base.OPENSIM_TO_ANNY`, taking OpenSim ground axes to Anny's):

* ``R_b(t)``: world orientation of OpenSim body ``b`` at frame ``t``; ``R_b(q_ref)`` at the reference pose
  ``q_ref`` (every coordinate 0, root translations at the model's defaults).
* ``O_bone``: fixed rotation (Anny axes) taking Anny's rest segment onto the OpenSim segment at ``q_ref``
  (thighs and shanks about 7 deg, upper arms about 44 deg plus the twist that aligns the elbow axes, forearms and
  hands about 57 deg plus the twist that turns the palm forward). The bones that follow OpenSim's ``torso``
  (spine above ``spine04``, neck, head, clavicles, scapulae) share one sagittal rotation about ``spine03``'s head
  that puts the shoulder midpoint where the OpenSim model scaled to Anny puts it (a few degrees); the pelvis
  bones keep their rest orientation.
* Each Anny bone follows the OpenSim body that drives it (:mod:`~biopose_opensim.bodymodels.anny_opensim`):
  ``G_bone(t) = C R_b(t) R_b(q_ref)^T C^T O_bone`` and its world orientation is ``G_bone(t) R_bone(rest)``.
* Root translation: the hip-centre midpoint follows OpenSim's (femur origins), scaled about the ground origin by
  ``k`` = Anny hip height / OpenSim hip height at ``q_ref`` (so both stand on the floor, y = 0); the root head
  keeps its rest offset from the hip midpoint, rotated with the pelvis.

Anny's world coordinates are then ``C`` times OpenSim ground coordinates: rotating the posed mesh by
``ANNY_TO_OPENSIM`` puts it in OpenSim's ground frame, metres, y up.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from ..bodymodels.anny import AnnyBodyModel, AnnyPose, AnnyShape
from ..bodymodels.anny_opensim import anny_bone_bodies
from ..bodymodels.base import ANNY_TO_OPENSIM, OPENSIM_TO_ANNY
from ..osim.model import load_model
from .coordinates import CoordinateMotion, static_motion
from .osim_poses import BodyPoses, body_poses

log = logging.getLogger(__name__)

C = OPENSIM_TO_ANNY


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotation ``(3, 3)`` taking direction ``a`` onto direction ``b``."""
    a, b = _unit(a), _unit(b)
    v = np.cross(a, b)
    s, c = np.linalg.norm(v), float(a @ b)
    if s < 1e-12:
        if c > 0:
            return np.eye(3)
        # 180 deg about any axis orthogonal to a
        axis = _unit(np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0]))
        return 2.0 * np.outer(axis, axis) - np.eye(3)
    K = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]]) / s
    angle = np.arctan2(s, c)
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K


def rotation_from_two_axes(a1: np.ndarray, a2: np.ndarray, b1: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """Rotation taking ``a1`` exactly onto ``b1`` and ``a2`` (its part orthogonal to ``a1``) onto ``b2``'s."""
    def frame(x, y):
        x = _unit(x)
        y = _unit(y - (y @ x) * x)
        return np.stack([x, y, np.cross(x, y)], axis=1)

    return frame(b1, b2) @ frame(a1, a2).T


# Alignment of Anny's rest segments with the OpenSim segments at q_ref, per side ("S": L/R, "s": l/r):
# (bones rotated, Anny axis from -> to (bone heads, averaged), OpenSim axis from -> to (body origins), secondary)
_TOES = tuple(f"toe{k}-1.S" for k in range(1, 6))
_FINGER_BONES = tuple(
    [f"finger{n}-{k}.S" for n in range(1, 6) for k in (1, 2, 3)] + [f"metacarpal{n}.S" for n in range(1, 5)]
)
_TOE_BONES = tuple(f"toe{n}-{k}.S" for n in range(1, 6) for k in (1, 2, 3) if not (n == 1 and k == 3))
_GROUPS = (
    (("upperleg01.S", "upperleg02.S"), ("upperleg01.S",), ("lowerleg01.S",), "femur_s", "tibia_s", None),
    (("lowerleg01.S", "lowerleg02.S"), ("lowerleg01.S",), ("foot.S",), "tibia_s", "talus_s", None),
    (("foot.S",) + _TOE_BONES, ("foot.S",), _TOES, "talus_s", "toes_s", None),
    (("upperarm01.S", "upperarm02.S"), ("upperarm01.S",), ("lowerarm01.S",), "humerus_s", "ulna_s", "elbow"),
    (("lowerarm01.S",), ("lowerarm01.S",), ("wrist.S",), "ulna_s", "hand_s", "elbow"),
    (("lowerarm02.S",), ("lowerarm01.S",), ("wrist.S",), "ulna_s", "hand_s", "radial"),
    (("wrist.S",) + _FINGER_BONES, ("wrist.S",), ("finger3-1.S",), "ulna_s", "hand_s", "radial"),
)


@dataclass(frozen=True, eq=False)
class AnnyOsimCalibration:
    """The fixed relation between one Anny shape and an OpenSim model at the reference pose ``q_ref``.

    Attributes:
        shape: the Anny shape.
        bone_bodies: ``NB`` OpenSim body driving each Anny bone.
        offsets: ``(NB, 3, 3)`` ``O_bone`` (Anny axes).
        rest_orientations: ``(NB, 3, 3)`` Anny rest bone orientations (native axes).
        reference_rotations: ``(NB, 3, 3)`` ``R_b(q_ref)`` of each bone's body (OpenSim ground).
        scale: ``k``, Anny hip height / OpenSim hip height at ``q_ref``.
        root_offset: ``(3,)`` Anny root head minus hip-centre midpoint at rest (native axes, metres).
        reference: body poses of the OpenSim model at ``q_ref`` (one frame).
        model_path: the OpenSim model used.
    """

    shape: AnnyShape
    bone_bodies: tuple[str, ...]
    offsets: np.ndarray
    rest_orientations: np.ndarray
    reference_rotations: np.ndarray
    scale: float
    root_offset: np.ndarray
    reference: BodyPoses
    model_path: str


def _rot_x(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _torso_alignment(hip: np.ndarray, shoulder: np.ndarray, pivot: np.ndarray, ref: BodyPoses,
                     k: float) -> np.ndarray:
    """Sagittal rotation of Anny's upper body about ``pivot`` (Anny's x axis) that puts the shoulder midpoint
    where the OpenSim model scaled to Anny puts it at ``q_ref``.

    The scaled chain is hip midpoint -> lumbar joint (pelvis ratio 1/k) -> shoulder midpoint (torso ratio set by
    the lumbar -> shoulder height), see :func:`biopose_opensim.motion.placement.segment_ratios`. Anny points are
    native; solved by bisection within +-45 deg.
    """
    to_os = ANNY_TO_OPENSIM
    H_o = 0.5 * (ref.position("femur_l")[0] + ref.position("femur_r")[0])
    S_o = 0.5 * (ref.position("humerus_l")[0] + ref.position("humerus_r")[0])
    L_o = ref.position("torso")[0]
    H_a = to_os @ hip
    L_a = H_a + k * (L_o - H_o)

    def g(angle):
        S_a = to_os @ (pivot + _rot_x(angle) @ (shoulder - pivot))
        torso_ratio = (S_o[1] - L_o[1]) / (S_a[1] - L_a[1])
        target_x = (L_a - H_a)[0] + (S_o - L_o)[0] / torso_ratio
        return (S_a - H_a)[0] - target_x

    lo, hi = np.radians(-45.0), np.radians(45.0)
    if g(lo) * g(hi) > 0:
        raise ValueError("cannot align Anny's upper body with the OpenSim model's within 45 degrees")
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if g(lo) * g(mid) <= 0:
            hi = mid
        else:
            lo = mid
    return _rot_x(0.5 * (lo + hi))


def _heads(bm: AnnyBodyModel, heads: np.ndarray, bones, side: str) -> np.ndarray:
    idx = [bm.bone_index(b[:-1] + side if b.endswith(".S") else b) for b in bones]
    return heads[idx].mean(axis=0)


def calibrate(body_model: AnnyBodyModel, model, shape: AnnyShape | None = None) -> AnnyOsimCalibration:
    """Compute ``O_bone``, ``k`` and the reference body rotations for ``shape`` on ``model`` (path or Model)."""
    shape = shape or AnnyShape()
    if not hasattr(model, "getBodySet"):
        model_path = str(model)
        model = load_model(model_path)
    else:
        model_path = model.getInputFileName()
    bones = body_model.bone_labels
    bodies = anny_bone_bodies(bones)
    rest = body_model.rest_bone_poses(shape)[0].numpy()
    rest_R, heads = rest[:, :3, :3], rest[:, :3, 3]

    ref_motion = static_motion(model, "zero", duration=0.0, rate=1.0).frames(slice(0, 1))
    flexed = ref_motion.q.copy()
    for side in ("r", "l"):
        name = f"elbow_flex_{side}"
        if name in ref_motion.coordinate_names:
            flexed[0, ref_motion.coordinate_names.index(name)] = np.pi / 2
    two = CoordinateMotion(np.array([0.0, 1.0]), np.vstack([ref_motion.q, flexed]), ref_motion.coordinate_names,
                           ref_motion.rotational, "reference")
    poses = body_poses(model, two)
    ref = BodyPoses(poses.times[:1], poses.body_names, poses.rotations[:1], poses.positions[:1])

    offsets = np.tile(np.eye(3), (len(bones), 1, 1))
    for side, s in (("L", "l"), ("R", "r")):
        for group, a_from, a_to, o_from, o_to, secondary in _GROUPS:
            o_from, o_to = o_from.replace("_s", f"_{s}"), o_to.replace("_s", f"_{s}")
            if o_from not in poses.body_names or o_to not in poses.body_names:
                continue
            a1 = _heads(body_model, heads, a_to, side) - _heads(body_model, heads, a_from, side)
            b1 = C @ (poses.position(o_to)[0] - poses.position(o_from)[0])
            if secondary is None:
                O = rotation_between(a1, b1)
            elif secondary == "elbow":
                ua = _heads(body_model, heads, ("lowerarm01.S",), side) - _heads(body_model, heads, ("upperarm01.S",), side)
                fa = _heads(body_model, heads, ("wrist.S",), side) - _heads(body_model, heads, ("lowerarm01.S",), side)
                hum, uln, hand = (f"humerus_{s}", f"ulna_{s}", f"hand_{s}")
                ua_o = poses.position(uln)[0] - poses.position(hum)[0]
                fa_o = poses.position(hand)[1] - poses.position(uln)[1]  # elbow flexed 90 deg
                O = rotation_from_two_axes(a1, np.cross(ua, fa), b1, C @ np.cross(ua_o, fa_o))
            else:  # radial: index MCP minus little-finger MCP -> lateral in OpenSim (palm forward at q_ref)
                radial = (_heads(body_model, heads, ("finger2-1.S",), side)
                          - _heads(body_model, heads, ("finger5-1.S",), side))
                lateral = poses.rotation(f"hand_{s}")[0] @ np.array([0.0, 0.0, 1.0 if s == "r" else -1.0])
                O = rotation_from_two_axes(a1, radial, b1, C @ lateral)
            for b in group:
                offsets[body_model.bone_index(b[:-1] + side)] = O

    hip_rest = 0.5 * (heads[body_model.bone_index("upperleg01.L")] + heads[body_model.bone_index("upperleg01.R")])
    root_offset = heads[0] - hip_rest
    # k: Anny's hip height above its lowest vertex at q_ref over OpenSim's hip height above the floor (y = 0).
    pose = AnnyPose(orientations=torch.as_tensor(offsets @ rest_R)[None],
                    root_position=torch.as_tensor(heads[0])[None])
    verts = body_model.forward(shape, pose).vertices[0].numpy()
    anny_hip_height = hip_rest[2] - verts[:, 2].min()
    osim_hip = 0.5 * (ref.position("femur_l")[0] + ref.position("femur_r")[0])
    scale = float(anny_hip_height / osim_hip[1])
    log.debug("Anny/OpenSim hip-height ratio k = %.4f (Anny %.4f m, OpenSim %.4f m)", scale, anny_hip_height,
              osim_hip[1])
    # Upper body (every bone following OpenSim's torso): one sagittal rotation about spine03's head.
    sh_rest = 0.5 * (heads[body_model.bone_index("upperarm01.L")] + heads[body_model.bone_index("upperarm01.R")])
    O_torso = _torso_alignment(hip_rest, sh_rest, heads[body_model.bone_index("spine03")], ref, scale)
    for i, b in enumerate(bodies):
        if b == "torso":
            offsets[i] = O_torso
    ref_rot = np.stack([ref.rotation(b)[0] for b in bodies])
    return AnnyOsimCalibration(
        shape=shape, bone_bodies=bodies, offsets=offsets, rest_orientations=rest_R, reference_rotations=ref_rot,
        scale=scale, root_offset=root_offset, reference=ref, model_path=model_path,
    )


def retarget_poses(calib: AnnyOsimCalibration, poses: BodyPoses) -> AnnyPose:
    """Anny poses ``(T, ...)`` that follow the OpenSim body poses (see the module docstring for the formula)."""
    idx = np.array([poses.index(b) for b in calib.bone_bodies])
    R_t = poses.rotations[:, idx]  # (T, NB, 3, 3)
    delta = R_t @ np.swapaxes(calib.reference_rotations, -1, -2)[None]
    G = C[None, None] @ delta @ C.T[None, None] @ calib.offsets[None]
    orientations = G @ calib.rest_orientations[None]
    hips = 0.5 * (poses.position("femur_l") + poses.position("femur_r"))  # (T, 3) ground
    pelvis_delta = poses.rotation("pelvis") @ calib.reference.rotation("pelvis")[0].T
    root = (calib.scale * hips) @ C.T + np.einsum("ij,tjk,kl,l->ti", C, pelvis_delta, C.T, calib.root_offset)
    return AnnyPose(orientations=torch.as_tensor(orientations), root_position=torch.as_tensor(root))


def to_opensim_frame(points: torch.Tensor) -> torch.Tensor:
    """Retargeted Anny points ``(..., 3)`` (Anny axes, world = C ground) -> OpenSim ground frame."""
    R = torch.as_tensor(ANNY_TO_OPENSIM, dtype=points.dtype)
    return points @ R.T
