"""Parameter heads: the decoded query tokens -> body-model rotations, shape and camera.

Every query token is normalised and reduced to ``head_dim`` values; the ``Q * head_dim`` values of all queries
feed three linear layers (zero-initialised, so an untrained head outputs the mean body facing the camera):

* rotations: a 6D rotation per joint/bone (the first two columns of the matrix, Gram-Schmidt completed; Zhou et
  al. 2019) added to the mean pose's 6D values -> ``(B, P, 3, 3)`` camera-frame rotation matrices;
* shape: ``(B, n_shape)``: Anny phenotypes through a sigmoid (0.5 at start), SMPL betas as they are (0 at start);
* camera: ``pred_cam = (s, tx, ty)`` with ``s = 0.1 + 4.9 sigmoid(a)`` starting at 0.9 (see :mod:`.camera`). The
  bound keeps the root 7.8 to 390 m from the f = 5000 px camera (a 256 px crop), so no joint can reach the
  image plane and no projection can blow up during training; people filling 2 % to 100 % of the crop fit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


#: Bounds of the camera scale ``s`` (see the module docstring).
_S_MIN, _S_MAX = 0.1, 5.0


def rot6d_to_matrix(x: torch.Tensor) -> torch.Tensor:
    """``(..., 6)`` -> ``(..., 3, 3)``: the two 3-vectors (matrix columns 1 and 2) made orthonormal, column 3 their
    cross product. Any input away from parallel columns gives a proper rotation."""
    a, b = x[..., 0:3], x[..., 3:6]
    c1 = F.normalize(a, dim=-1)
    c2 = F.normalize(b - (c1 * b).sum(-1, keepdim=True) * c1, dim=-1)
    c3 = torch.cross(c1, c2, dim=-1)
    return torch.stack([c1, c2, c3], dim=-1)


def matrix_to_rot6d(R: torch.Tensor) -> torch.Tensor:
    """``(..., 3, 3)`` -> ``(..., 6)``: the first two columns (inverse of :func:`rot6d_to_matrix` on rotations)."""
    return torch.cat([R[..., :, 0], R[..., :, 1]], dim=-1)


@dataclass(frozen=True, eq=False)
class HeadOutput:
    """``rotations (B, P, 3, 3)`` camera frame; ``shape (B, S)``; ``pred_cam (B, 3)`` = (s, tx, ty)."""

    rotations: torch.Tensor
    shape: torch.Tensor
    pred_cam: torch.Tensor


class ParamHead(nn.Module):
    """Queries ``(B, Q, C)`` -> :class:`HeadOutput`.

    Args:
        d_model, queries, head_dim: query width, number of queries, values kept per query.
        mean_rotations: ``(P, 3, 3)`` the pose the head starts from (camera frame).
        n_shape: shape parameters; ``sigmoid_shape`` maps them into [0, 1] (Anny phenotypes).
    """

    def __init__(self, d_model: int, queries: int, head_dim: int, mean_rotations: torch.Tensor, n_shape: int,
                 sigmoid_shape: bool):
        super().__init__()
        self.n_pose = int(mean_rotations.shape[0])
        self.n_shape = n_shape
        self.sigmoid_shape = sigmoid_shape
        self.norm = nn.LayerNorm(d_model)
        self.reduce = nn.Linear(d_model, head_dim)
        width = queries * head_dim
        self.pose = nn.Linear(width, self.n_pose * 6)
        self.shape = nn.Linear(width, n_shape)
        self.cam = nn.Linear(width, 3)
        for layer in (self.pose, self.shape, self.cam):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        device = self.reduce.weight.device  # the device the module is built on (also the meta device)
        self.register_buffer("mean_6d", matrix_to_rot6d(mean_rotations.float()).reshape(-1).to(device))
        # a such that 0.1 + 4.9 sigmoid(a) = 0.9
        self.register_buffer("cam_init", torch.tensor([math.log(0.8 / 4.1), 0.0, 0.0], device=device))

    def forward(self, queries: torch.Tensor) -> HeadOutput:
        B = queries.shape[0]
        h = self.reduce(self.norm(queries)).reshape(B, -1)
        six = (self.mean_6d + self.pose(h)).reshape(B, self.n_pose, 6)
        shape = self.shape(h)
        if self.sigmoid_shape:
            shape = torch.sigmoid(shape)
        raw = self.cam_init + self.cam(h)
        pred_cam = torch.cat([_S_MIN + (_S_MAX - _S_MIN) * torch.sigmoid(raw[:, :1]), raw[:, 1:]], dim=1)
        return HeadOutput(rotations=rot6d_to_matrix(six), shape=shape, pred_cam=pred_cam)
