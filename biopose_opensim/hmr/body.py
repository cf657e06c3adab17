"""Differentiable body models for MQ-HMR: parameters -> root-centred joints (and vertices) in the camera frame.

Both layers take rotation matrices expressed in the camera frame (OpenCV: x right, y down, z forward) and return
points relative to the body's root (Anny's root-bone head / SMPL's pelvis joint), metres, so that
``points + cam_t`` is the camera-frame body. Gradients flow to every input (unlike
:class:`~biopose_opensim.bodymodels.base.BodyModel`, whose ``forward`` serves data generation without them).

* :class:`AnnyLayer`: ``orientations (B, 104, 3, 3)`` — the world orientation of every Anny bone (Anny's
  ``world-orient`` parameterisation) — and ``phenotypes (B, 6)`` in [0, 1] -> the 52 SMPL-H joints of
  :class:`~biopose_opensim.bodymodels.anny.AnnyBodyModel`.
* :class:`SmplLayer`: ``rotations (B, 24, 3, 3)`` (global orientation, then the 23 body joints relative to their
  parents) and ``betas (B, 10)`` -> the 24 SMPL joints; from the user's own SMPL file.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..bodymodels.base import SMPL_JOINT_NAMES, SMPLH_JOINT_NAMES

#: Rotation from Anny's native axes (x left, y back, z up) to the camera frame of a subject facing the camera
#: upright (x right, y down, z forward): the subject's left is the image's right, its back faces away.
ANNY_TO_CAMERA = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


@dataclass(frozen=True, eq=False)
class BodyPoints:
    """Output of a body layer: ``joints (B, J, 3)`` and optionally ``vertices (B, V, 3)``, metres, root-centred,
    camera axes; ``joint_names`` name the joints."""

    joints: torch.Tensor
    joint_names: tuple[str, ...]
    vertices: torch.Tensor | None = None


class AnnyLayer(nn.Module):
    """Anny, differentiable, in float32 (a private copy of the process's Anny model).

    Args:
        body: an :class:`~biopose_opensim.bodymodels.anny.AnnyBodyModel` (default: the process's Anny).
    """

    name = "anny"
    joint_names = SMPLH_JOINT_NAMES
    n_shape = 6

    def __init__(self, body=None):
        super().__init__()
        from ..bodymodels.anny import AnnyBodyModel

        body = body or AnnyBodyModel()
        self.anny = copy.deepcopy(body.model).float()
        self.anny.requires_grad_(False)
        self.n_bones = body.n_bones
        self.bone_labels = body.bone_labels
        self.register_buffer("joint_matrix", body._joint_matrix.float(), persistent=False)
        self.register_buffer("faces", body.faces.clone(), persistent=False)
        rest = body.rest_bone_poses(None)[0, :, :3, :3].float()
        R = torch.as_tensor(ANNY_TO_CAMERA, dtype=torch.float32)
        #: (NB, 3, 3) the default body's rest orientations, turned to face the camera upright.
        self.register_buffer("mean_orientations", R @ rest, persistent=False)

    @property
    def n_pose(self) -> int:
        return self.n_bones

    def forward(self, orientations: torch.Tensor, phenotypes: torch.Tensor, vertices: bool = False) -> BodyPoints:
        """Joints ``(B, 52, 3)`` (and vertices ``(B, V, 3)`` when asked) relative to the root-bone head.

        Args:
            orientations: ``(B, NB, 3, 3)`` bone world orientations in the camera frame.
            phenotypes: ``(B, 6)`` in [0, 1].
        """
        B = orientations.shape[0]
        if orientations.shape[1:] != (self.n_bones, 3, 3) or phenotypes.shape != (B, 6):
            raise ValueError(f"expected orientations (B, {self.n_bones}, 3, 3) and phenotypes (B, 6), got "
                             f"{tuple(orientations.shape)} and {tuple(phenotypes.shape)}")
        dtype = self.joint_matrix.dtype
        phen = phenotypes.to(dtype)
        delta = torch.zeros(B, self.n_bones, 4, 4, dtype=dtype, device=orientations.device)
        delta[..., :3, :3] = orientations.to(dtype)
        delta[..., 3, 3] = 1.0
        if vertices:
            out = self.anny(pose_parameters=delta, phenotype_kwargs=phen)
            heads, verts = out["bone_poses"][..., :3, 3], out["vertices"]
        else:
            local = phen.new_zeros((B, len(self.anny.local_change_labels)))
            coef = self.anny._get_phenotype_blendshape_coefficients(phen, local, phen.new_zeros((B, 0)))
            rest = self.anny.get_rest_model(coef)["rest_bone_poses"]
            _, world = self.anny.get_bone_transforms(delta, rest)
            heads, verts = world[..., :3, 3], None
        joints = torch.einsum("jb,nbd->njd", self.joint_matrix, heads)
        return BodyPoints(joints=joints, joint_names=self.joint_names, vertices=verts)


class SmplLayer(nn.Module):
    """SMPL (smplx), differentiable, from the user's model files (see :mod:`biopose_opensim.bodymodels.smpl`).

    Args:
        model_dir: folder with the SMPL files, or ``None`` for ``$BIOPOSE_SMPL_DIR``.
        model_file: the model file itself (``model_dir`` is then unused).
    """

    name = "smpl"
    joint_names = SMPL_JOINT_NAMES
    n_shape = 10
    n_pose = 24

    def __init__(self, model_dir: str | Path | None = None, model_file: str | Path | None = None):
        super().__init__()
        from ..bodymodels.smpl import SMPLBodyModel

        body = SMPLBodyModel(model_dir, "smpl", "neutral", num_betas=10, dtype=torch.float32, model_file=model_file)
        self.smpl = body.model
        self.register_buffer("faces", body.faces.clone(), persistent=False)
        #: (24, 3, 3) the rest pose facing the camera upright (SMPL axes x left, y up, z forward -> camera:
        #: 180 degrees about x).
        rest = torch.eye(3).repeat(24, 1, 1)
        rest[0] = torch.tensor([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])
        self.register_buffer("mean_orientations", rest, persistent=False)

    def forward(self, rotations: torch.Tensor, betas: torch.Tensor, vertices: bool = False) -> BodyPoints:
        """Joints ``(B, 24, 3)`` relative to the pelvis joint; ``rotations (B, 24, 3, 3)``, ``betas (B, 10)``."""
        B = rotations.shape[0]
        if rotations.shape[1:] != (24, 3, 3) or betas.shape != (B, 10):
            raise ValueError(f"expected rotations (B, 24, 3, 3) and betas (B, 10), got {tuple(rotations.shape)} "
                             f"and {tuple(betas.shape)}")
        out = self.smpl(betas=betas.float(), global_orient=rotations[:, :1].float(),
                        body_pose=rotations[:, 1:].float(), transl=betas.new_zeros(B, 3), pose2rot=False)
        joints = out.joints[:, :24]
        root = joints[:, :1]
        return BodyPoints(joints=joints - root, joint_names=self.joint_names,
                          vertices=(out.vertices - root) if vertices else None)
