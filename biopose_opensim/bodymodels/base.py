"""The body-model interface: shape + pose -> mesh vertices, joints and faces, and the frames they live in.

Conventions
-----------
* Units: metres.
* Each body model keeps its **native frame** (Anny: x = subject's left, y = backward, z = up; SMPL family:
  x = subject's left, y = up, z = forward). :attr:`BodyModel.to_opensim` is the rotation taking native
  coordinates to OpenSim's ground axes (x forward, y up, z to the subject's right), so
  ``p_opensim = to_opensim @ p_native``; :meth:`BodyModelOutput.in_opensim_frame` applies it.
* Joints are named with the SMPL-H joint names (``pelvis``, ``left_hip``, ..., ``right_thumb3``) where the body
  model has a corresponding joint; :data:`SMPLH_JOINT_NAMES` lists the 52 names in SMPL-H order.
* Arrays are ``torch.Tensor`` with any leading batch shape ``B``: vertices ``(B, V, 3)``, joints ``(B, J, 3)``;
  faces ``(F, 3)`` int64 vertex indices (triangles).
"""
from __future__ import annotations

import abc
from dataclasses import dataclass

import numpy as np
import torch

#: Rotation taking vectors in OpenSim ground axes (x forward, y up, z right) to Anny axes (x left, y back, z up).
OPENSIM_TO_ANNY = np.array([[0.0, 0.0, -1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
#: Rotation taking Anny axes to OpenSim ground axes (the transpose of :data:`OPENSIM_TO_ANNY`).
ANNY_TO_OPENSIM = OPENSIM_TO_ANNY.T.copy()
#: Rotation taking vectors in OpenSim ground axes to SMPL axes (x left, y up, z forward).
OPENSIM_TO_SMPL = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
#: Rotation taking SMPL axes to OpenSim ground axes.
SMPL_TO_OPENSIM = OPENSIM_TO_SMPL.T.copy()

_BODY22 = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
    "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)
_FINGERS = ("index", "middle", "pinky", "ring", "thumb")
_HAND15 = tuple(f"{finger}{k}" for finger in _FINGERS for k in (1, 2, 3))

#: The 52 SMPL-H joints, in SMPL-H order: 22 body joints, then 15 left-hand and 15 right-hand joints.
SMPLH_JOINT_NAMES: tuple[str, ...] = (
    _BODY22 + tuple(f"left_{j}" for j in _HAND15) + tuple(f"right_{j}" for j in _HAND15)
)
#: The 24 SMPL joints: the 22 body joints, then ``left_hand`` and ``right_hand``.
SMPL_JOINT_NAMES: tuple[str, ...] = _BODY22 + ("left_hand", "right_hand")


@dataclass(frozen=True, eq=False)
class BodyModelOutput:
    """One forward pass of a body model.

    Attributes:
        vertices: ``(B, V, 3)`` metres, in ``frame``.
        joints: ``(B, J, 3)`` metres, in ``frame``, named by ``joint_names``.
        joint_names: ``J`` names (SMPL-H names where they correspond).
        faces: ``(F, 3)`` int64 triangle vertex indices.
        frame: ``"native"`` (the body model's own axes) or ``"opensim"`` (x forward, y up, z right).
        to_opensim: ``(3, 3)`` rotation from the native axes to OpenSim's (identity once in ``"opensim"``).
    """

    vertices: torch.Tensor
    joints: torch.Tensor
    joint_names: tuple[str, ...]
    faces: torch.Tensor
    frame: str = "native"
    to_opensim: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.vertices.ndim < 2 or self.vertices.shape[-1] != 3:
            raise ValueError(f"vertices must have shape (..., V, 3), got {tuple(self.vertices.shape)}")
        if self.joints.shape[-1] != 3 or self.joints.shape[-2] != len(self.joint_names):
            raise ValueError(
                f"joints {tuple(self.joints.shape)} do not match {len(self.joint_names)} joint names"
            )
        if self.frame not in ("native", "opensim"):
            raise ValueError(f"frame must be 'native' or 'opensim', got {self.frame!r}")

    def joint(self, name: str) -> torch.Tensor:
        """Joint ``name``: ``(B, 3)``. Raises KeyError naming the available joints."""
        try:
            return self.joints[..., self.joint_names.index(name), :]
        except ValueError:
            raise KeyError(f"joint {name!r} not in this body model's joints: {', '.join(self.joint_names)}") from None

    def in_opensim_frame(self) -> "BodyModelOutput":
        """The same output with vertices and joints rotated into OpenSim's ground axes (y up)."""
        if self.frame == "opensim":
            return self
        if self.to_opensim is None:
            raise ValueError("this output does not carry its rotation to the OpenSim frame")
        R = torch.as_tensor(self.to_opensim, dtype=self.vertices.dtype, device=self.vertices.device)
        return BodyModelOutput(
            vertices=self.vertices @ R.T,
            joints=self.joints @ R.T,
            joint_names=self.joint_names,
            faces=self.faces,
            frame="opensim",
            to_opensim=np.eye(3),
        )


class BodyModel(abc.ABC):
    """A parametric body mesh: shape parameters and a pose give vertices, joints and faces.

    Subclasses document their shape and pose parameters; every subclass returns :class:`BodyModelOutput` in its
    native frame, metres, with :attr:`to_opensim` attached.
    """

    #: Short name used in marker sets and file names (``"anny"``, ``"smpl"``, ``"smplh"``, ``"smplx"``).
    name: str = "body"
    #: Rotation from the native axes to OpenSim's ground axes: ``p_opensim = to_opensim @ p_native``.
    to_opensim: np.ndarray = np.eye(3)

    @property
    @abc.abstractmethod
    def n_vertices(self) -> int:
        """Number of mesh vertices ``V``."""

    @property
    @abc.abstractmethod
    def faces(self) -> torch.Tensor:
        """``(F, 3)`` int64 triangle vertex indices."""

    @property
    @abc.abstractmethod
    def joint_names(self) -> tuple[str, ...]:
        """Names of the joints returned by :meth:`forward`, SMPL-H names where they correspond."""

    @abc.abstractmethod
    def forward(self, shape=None, pose=None) -> BodyModelOutput:
        """Posed mesh and joints in the native frame; ``pose=None`` gives the rest pose."""

    def rest(self, shape=None) -> BodyModelOutput:
        """The mesh and joints of ``shape`` in the model's rest pose (native frame)."""
        return self.forward(shape, None)
