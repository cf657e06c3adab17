"""SMPL-H (or SMPL) subjects driven by OpenSim kinematics, for ``--body-model smpl``.

Retargeting by global segment orientation, as for Anny (:mod:`biopose_opensim.motion.retarget`), with
SMPL's own conventions: every SMPL joint's world rotation follows the OpenSim body that drives it,

    G_j(t) = C · R_b(t) · R_b(q_ref)ᵀ · Cᵀ · O_j,      local_j = G_parent(j)ᵀ · G_j,

where ``C`` takes OpenSim ground axes to SMPL axes (x left, y up, z forward), ``q_ref`` is the model's zero
pose, and ``O_j`` is the smallest rotation taking SMPL's rest (T-pose) segment of joint ``j`` onto the
OpenSim segment at ``q_ref`` (arms down, legs straight; identity for the pelvis, spine and head; forearms
and hands also turn the thumb from forward, SMPL's palms-down rest, to lateral, OpenSim's palms-forward zero
pose). The root
joint follows the OpenSim hip-centre midpoint scaled by ``k`` (SMPL hip height / OpenSim hip height, both
above the floor), so both stand on the floor at y = 0. Fingers keep their rest pose.

SMPL-H is used when its files are in the model folder (the D3KE marker set reads SMPL-H joints), else SMPL.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from ..bodymodels.base import OPENSIM_TO_SMPL, SMPL_JOINT_NAMES, SMPL_TO_OPENSIM
from ..bodymodels.registry import body_model_spec
from ..markers.sets import VirtualMarkerSet, load_marker_set
from ..markers.virtual import apply_marker_plan, compile_marker_set
from ..motion.coordinates import CoordinateMotion
from .bodies import BODY_DENSITY, BodyMeasures, mesh_volume
from .subjects import SubjectShape

log = logging.getLogger(__name__)

C = OPENSIM_TO_SMPL
CHUNK = 128
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


DRIVERS = {"pelvis": ("pelvis", None, None), **{n: ("torso", None, None) for n in
                                                 ("spine1", "spine2", "spine3", "neck", "head")},
           **_drivers("left"), **_drivers("right")}


class SmplSubjectBody:
    """One SMPL-H/SMPL subject calibrated against an OpenSim model; virtual markers from coordinates."""

    def __init__(self, shape: SubjectShape, model_path: str | Path, marker_set: str | Path | VirtualMarkerSet,
                 model_dir: Path | None):
        from ..motion.coordinates import static_motion
        from ..motion.osim_poses import body_poses
        from ..motion.retarget import rotation_between, rotation_from_two_axes

        self.body = body_model_spec(shape.body_model, synth=True).load(model_dir, shape.sex)
        self.betas = torch.zeros(1, self.body.num_betas, dtype=torch.float64)
        b = np.asarray(shape.betas, dtype=float)[: self.body.num_betas]
        self.betas[0, : len(b)] = torch.as_tensor(b)
        self.model_path = str(model_path)
        self.marker_set = marker_set if isinstance(marker_set, VirtualMarkerSet) else load_marker_set(marker_set)
        self.marker_set.check_body_model(self.body.n_vertices, self.body.joint_names, self.body.model_type.upper())
        self.plan = compile_marker_set(self.marker_set, self.body.joint_names)
        rest = self.body.forward(self.betas)
        self.rest_vertices = rest.vertices[0].numpy()
        J = rest.joints[0].numpy()
        self.names = self.body.joint_names
        idx = {n: i for i, n in enumerate(self.names)}
        ref = body_poses(self.model_path, static_motion(self.model_path, "zero", duration=0.0, rate=1.0)
                         .frames(slice(0, 1)))
        self.ref = ref
        self.offsets = {}
        for j, (body, child, child_body) in DRIVERS.items():
            side = j.split("_")[0]
            if j.endswith(("elbow", "wrist")):
                # forearm and hand: align the segment and the thumb side. SMPL's rest pose has the palms down,
                # thumbs forward (+z); OpenSim's zero pose has the palms forward, thumbs lateral.
                seg_a = (J[idx[f"{side}_wrist"]] - J[idx[f"{side}_elbow"]])
                forearm = ref.position(f"hand_{side[0]}")[0] - ref.position(f"radius_{side[0]}")[0]
                lateral = ref.rotation(f"hand_{side[0]}")[0] @ np.array([0.0, 0.0, 1.0 if side == "right" else -1.0])
                self.offsets[j] = rotation_from_two_axes(seg_a, np.array([0.0, 0.0, 1.0]), C @ forearm, C @ lateral)
                continue
            if child is None:
                self.offsets[j] = np.eye(3)
                continue
            a = J[idx[child]] - J[idx[j]]
            bdir = ref.position(child_body)[0] - ref.position(body)[0]
            self.offsets[j] = rotation_between(a, C @ bdir)
        hip_rest = 0.5 * (J[idx["left_hip"]] + J[idx["right_hip"]])
        self.root_offset = J[0] - hip_rest
        osim_hip = 0.5 * (ref.position("femur_l")[0] + ref.position("femur_r")[0])
        self.scale = float((hip_rest[1] - self.rest_vertices[:, 1].min()) / osim_hip[1])
        self.J0 = J[0]
        self.n_body = int(self.body.model.NUM_BODY_JOINTS)

    @property
    def marker_names(self) -> tuple[str, ...]:
        return self.marker_set.names

    def measures(self) -> BodyMeasures:
        v = self.rest_vertices
        return BodyMeasures(height=float(np.ptp(v[:, 1])),
                            mass=BODY_DENSITY * mesh_volume(v, self.body.faces.numpy()))

    def _pose(self, poses) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(global_orient (T, 3), body_pose (T, 3 n_body), transl (T, 3)) following the OpenSim body poses."""
        T = poses.rotations.shape[0]
        G = {}
        for j, (body, _, _) in DRIVERS.items():
            delta = poses.rotation(body) @ self.ref.rotation(body)[0].T
            G[j] = C[None] @ delta @ C.T[None] @ self.offsets[j][None]
        body_pose = np.zeros((T, self.n_body, 3))
        for k, j in enumerate(_BODY22[1:], start=0):
            parent = _BODY22[_PARENTS22[k + 1]]
            local = np.swapaxes(G[parent], -1, -2) @ G[j]
            body_pose[:, k] = Rotation.from_matrix(local).as_rotvec()
        global_orient = Rotation.from_matrix(G["pelvis"]).as_rotvec()
        hips = 0.5 * (poses.position("femur_l") + poses.position("femur_r"))
        root = (self.scale * hips) @ C.T + np.einsum("tij,j->ti", G["pelvis"], self.root_offset)
        return global_orient, body_pose.reshape(T, -1), root - self.J0

    def markers(self, motion: CoordinateMotion) -> np.ndarray:
        """(T, M, 3) virtual markers, metres, OpenSim ground frame, for a coordinate ``motion`` of the model."""
        from ..bodymodels.smpl import SMPLPose
        from ..motion.osim_poses import body_poses

        go, bp, tr = self._pose(body_poses(self.model_path, motion))
        R = torch.as_tensor(SMPL_TO_OPENSIM)
        parts, floor = [], np.inf
        for a in range(0, motion.n_frames, CHUNK):
            s = slice(a, a + CHUNK)
            out = self.body.forward(self.betas, SMPLPose(global_orient=torch.as_tensor(go[s]),
                                                          body_pose=torch.as_tensor(bp[s]),
                                                          transl=torch.as_tensor(tr[s])))
            v, j = out.vertices @ R.T, out.joints @ R.T
            floor = min(floor, float(v[..., 1].min()))
            parts.append((v, j))
        return torch.cat([apply_marker_plan(self.plan, v, j, up_axis=1, ground=floor) for v, j in parts]).numpy()
