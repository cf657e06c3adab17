"""Retarget OpenSim kinematics onto SMPL-H (or SMPL) by matching global segment orientations.

As for Anny (:mod:`~biopose_opensim.motion.retarget`), with SMPL's own conventions: every SMPL joint's world
rotation follows the OpenSim body that drives it (:data:`DRIVERS`),

    G_j(t) = C · R_b(t) · R_b(q_ref)ᵀ · Cᵀ · O_j,      local_j = G_parent(j)ᵀ · G_j,

where ``C`` takes OpenSim ground axes to SMPL axes (x left, y up, z forward), ``q_ref`` is the model's zero
pose, and ``O_j`` is the smallest rotation taking SMPL's rest (T-pose) segment of joint ``j`` onto the
OpenSim segment at ``q_ref`` (arms down, legs straight; identity for the pelvis, spine and head; forearms
and hands also turn the thumb from forward, SMPL's palms-down rest, to lateral, OpenSim's palms-forward zero
pose). The root joint follows the OpenSim hip-centre midpoint scaled by ``k`` (SMPL hip height / OpenSim hip
height, both above the floor), so both stand on the floor at y = 0. Fingers keep their rest pose.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from scipy.spatial.transform import Rotation

from ..bodymodels.base import OPENSIM_TO_SMPL, SMPL_JOINT_NAMES
from .coordinates import static_motion
from .osim_poses import BodyPoses, body_poses
from .retarget import rotation_between, rotation_from_two_axes

C = OPENSIM_TO_SMPL
_BODY22 = SMPL_JOINT_NAMES[:22]  # the body joints shared by SMPL, SMPL-H and SMPL-X
_PARENTS22 = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19)


def _drivers(side: str) -> dict[str, tuple[str, str | None, str | None]]:
    """SMPL joint -> (OpenSim body, child SMPL joint, child OpenSim body) for one side (``left``/``right``)."""
    s = side[0]
    return {
        f"{side}_hip": (f"femur_{s}", f"{side}_knee", f"tibia_{s}"),
        f"{side}_knee": (f"tibia_{s}", f"{side}_ankle", f"talus_{s}"),
        f"{side}_ankle": (f"calcn_{s}", f"{side}_foot", f"toes_{s}"),
        f"{side}_foot": (f"toes_{s}", None, None),
        f"{side}_collar": ("torso", None, None),
        f"{side}_shoulder": (f"humerus_{s}", f"{side}_elbow", f"ulna_{s}"),
        f"{side}_elbow": (f"radius_{s}", f"{side}_wrist", f"hand_{s}"),
        f"{side}_wrist": (f"hand_{s}", None, None),
    }


#: SMPL body joint -> (OpenSim body that drives it, child SMPL joint, child OpenSim body).
DRIVERS = {"pelvis": ("pelvis", None, None), **{n: ("torso", None, None) for n in
                                                 ("spine1", "spine2", "spine3", "neck", "head")},
           **_drivers("left"), **_drivers("right")}


@dataclass(frozen=True, eq=False)
class SmplOsimCalibration:
    """How one SMPL-family subject follows an OpenSim model (from :func:`calibrate_smpl`).

    Attributes:
        ref: OpenSim body poses at the reference pose ``q_ref`` (one frame).
        offsets: SMPL joint -> ``O_j`` (3, 3), SMPL axes.
        root_offset: (3,) metres, SMPL axes: the rest root joint minus the rest hip-centre midpoint.
        scale: ``k``, SMPL hip height above the floor / OpenSim hip height at ``q_ref``.
        root_rest: (3,) metres, SMPL axes: the rest root joint (subtracted from the translation).
        n_body: body joints of the model's ``body_pose`` (21 for SMPL-H, 23 for SMPL).
    """

    ref: BodyPoses
    offsets: Mapping[str, np.ndarray]
    root_offset: np.ndarray
    scale: float
    root_rest: np.ndarray
    n_body: int


def calibrate_smpl(model_path: str | Path, joint_names: Sequence[str], rest_joints: np.ndarray,
                   rest_vertices: np.ndarray, n_body: int) -> SmplOsimCalibration:
    """Calibrate a rest SMPL-family body against the OpenSim model ``model_path`` at its zero pose.

    Args:
        joint_names: (J,) the body model's joint names (SMPL names).
        rest_joints: (J, 3) rest joints, metres, SMPL axes.
        rest_vertices: (V, 3) rest vertices, metres, SMPL axes (their lowest point is the floor).
        n_body: body joints of the model's ``body_pose``.
    """
    J = np.asarray(rest_joints)
    idx = {n: i for i, n in enumerate(joint_names)}
    model_path = str(model_path)
    ref = body_poses(model_path, static_motion(model_path, "zero", duration=0.0, rate=1.0).frames(slice(0, 1)))
    offsets = {}
    for j, (body, child, child_body) in DRIVERS.items():
        side = j.split("_")[0]
        if j.endswith(("elbow", "wrist")):
            # forearm and hand: align the segment and the thumb side. SMPL's rest pose has the palms down,
            # thumbs forward (+z); OpenSim's zero pose has the palms forward, thumbs lateral.
            seg_a = (J[idx[f"{side}_wrist"]] - J[idx[f"{side}_elbow"]])
            forearm = ref.position(f"hand_{side[0]}")[0] - ref.position(f"radius_{side[0]}")[0]
            lateral = ref.rotation(f"hand_{side[0]}")[0] @ np.array([0.0, 0.0, 1.0 if side == "right" else -1.0])
            offsets[j] = rotation_from_two_axes(seg_a, np.array([0.0, 0.0, 1.0]), C @ forearm, C @ lateral)
            continue
        if child is None:
            offsets[j] = np.eye(3)
            continue
        a = J[idx[child]] - J[idx[j]]
        bdir = ref.position(child_body)[0] - ref.position(body)[0]
        offsets[j] = rotation_between(a, C @ bdir)
    hip_rest = 0.5 * (J[idx["left_hip"]] + J[idx["right_hip"]])
    osim_hip = 0.5 * (ref.position("femur_l")[0] + ref.position("femur_r")[0])
    scale = float((hip_rest[1] - np.asarray(rest_vertices)[:, 1].min()) / osim_hip[1])
    return SmplOsimCalibration(ref=ref, offsets=offsets, root_offset=J[0] - hip_rest, scale=scale, root_rest=J[0],
                               n_body=int(n_body))


def retarget_smpl_poses(calib: SmplOsimCalibration, poses: BodyPoses) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SMPL pose parameters following OpenSim body ``poses`` (T frames).

    Returns:
        ``(global_orient (T, 3), body_pose (T, 3 n_body), transl (T, 3))``: axis-angle radians and metres, SMPL
        axes; body joints past the 21 shared ones (SMPL's hands) stay at rest.
    """
    T = poses.rotations.shape[0]
    G = {}
    for j, (body, _, _) in DRIVERS.items():
        delta = poses.rotation(body) @ calib.ref.rotation(body)[0].T
        G[j] = C[None] @ delta @ C.T[None] @ calib.offsets[j][None]
    body_pose = np.zeros((T, calib.n_body, 3))
    for k, j in enumerate(_BODY22[1:], start=0):
        parent = _BODY22[_PARENTS22[k + 1]]
        local = np.swapaxes(G[parent], -1, -2) @ G[j]
        body_pose[:, k] = Rotation.from_matrix(local).as_rotvec()
    global_orient = Rotation.from_matrix(G["pelvis"]).as_rotvec()
    hips = 0.5 * (poses.position("femur_l") + poses.position("femur_r"))
    root = (calib.scale * hips) @ C.T + np.einsum("tij,j->ti", G["pelvis"], calib.root_offset)
    return global_orient, body_pose.reshape(T, -1), root - calib.root_rest
