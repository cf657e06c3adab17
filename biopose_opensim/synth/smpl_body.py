"""SMPL-H (or SMPL) subjects driven by OpenSim kinematics, for ``--body-model smpl``.

Each subject's rest body is calibrated against the OpenSim model and every frame retargeted by global segment
orientation (:mod:`biopose_opensim.motion.smpl_retarget`); the virtual-marker set reads its markers off the
posed mesh, rotated into OpenSim's ground frame (metres, y up), with the lowest vertex of the trial as floor.

SMPL-H is used when its files are in the model folder (the D3KE marker set reads SMPL-H joints), else SMPL.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from ..bodymodels.base import SMPL_TO_OPENSIM
from ..bodymodels.registry import body_model_spec
from ..markers.sets import VirtualMarkerSet, load_marker_set
from ..markers.virtual import apply_marker_plan, compile_marker_set
from ..motion.coordinates import CoordinateMotion
from ..motion.smpl_retarget import calibrate_smpl, retarget_smpl_poses
from .bodies import BODY_DENSITY, BodyMeasures, mesh_volume
from .subjects import SubjectShape

log = logging.getLogger(__name__)

CHUNK = 128


class SmplSubjectBody:
    """One SMPL-H/SMPL subject calibrated against an OpenSim model; virtual markers from coordinates."""

    def __init__(self, shape: SubjectShape, model_path: str | Path, marker_set: str | Path | VirtualMarkerSet,
                 model_dir: Path | None):
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
        self.calib = calibrate_smpl(self.model_path, self.body.joint_names, rest.joints[0].numpy(),
                                    self.rest_vertices, int(self.body.model.NUM_BODY_JOINTS))

    @property
    def marker_names(self) -> tuple[str, ...]:
        return self.marker_set.names

    def measures(self) -> BodyMeasures:
        v = self.rest_vertices
        return BodyMeasures(height=float(np.ptp(v[:, 1])),
                            mass=BODY_DENSITY * mesh_volume(v, self.body.faces.numpy()))

    def markers(self, motion: CoordinateMotion) -> np.ndarray:
        """(T, M, 3) virtual markers, metres, OpenSim ground frame, for a coordinate ``motion`` of the model."""
        from ..bodymodels.smpl import SMPLPose
        from ..motion.osim_poses import body_poses

        go, bp, tr = retarget_smpl_poses(self.calib, body_poses(self.model_path, motion))
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
