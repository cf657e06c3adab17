"""SMPL-H / SMPL-X meshes of recorded sequences, posed with the user's own model files.

The files are found and loaded by :mod:`biopose_opensim.bodymodels.smpl` (licensed, never downloaded; see
:func:`~biopose_opensim.bodymodels.smpl.find_model_file` for the layouts accepted). Meshes are computed in
chunks and returned in the sequence's (aligned, y-up) world frame, metres, with the joints in SMPL-H order.
"""
from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from ..bodymodels.smpl import SMPLX_TO_SMPLH_JOINTS, SMPLBodyModel, SMPLPose
from .sequences import SmplSequence

log = logging.getLogger(__name__)

CHUNK = 128


@functools.lru_cache(maxsize=6)
def load_body(model_file: str, model_type: str, gender: str, num_betas: int) -> SMPLBodyModel:
    """The body model of ``model_file`` (float64, no hand PCA); one per process and file."""
    return SMPLBodyModel(model_type=model_type, gender=gender, num_betas=num_betas, model_file=model_file)


def _forward(body: SMPLBodyModel, betas: np.ndarray, pose: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Vertices ``(n, V, 3)`` and SMPL-H joints ``(n, 52, 3)`` for ``pose`` (arrays ``(n, k)``), native frame."""
    t = lambda a: None if a is None else torch.as_tensor(a, dtype=torch.float64)  # noqa: E731
    b = np.zeros(body.num_betas)
    k = min(len(betas), body.num_betas)
    b[:k] = betas[:k]
    out = body.forward(b, SMPLPose(**{key: t(value) for key, value in pose.items()}))
    joints = out.joints[:, list(SMPLX_TO_SMPLH_JOINTS)] if body.model_type == "smplx" else out.joints[:, :52]
    return out.vertices, joints


def sequence_meshes(seq: SmplSequence, model_file: Path) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(vertices (t, V, 3), joints (t, 52, 3))`` chunks of ``seq`` in its world frame, metres."""
    body = load_body(str(model_file), seq.model_type, seq.gender, max(10, len(seq.betas)))
    smplx_only = ("jaw_pose", "leye_pose", "reye_pose") if seq.model_type == "smplx" else ()
    for a in range(0, seq.n_frames, CHUNK):
        s = slice(a, a + CHUNK)
        pose = {"global_orient": seq.global_orient[s], "body_pose": seq.body_pose[s],
                "left_hand_pose": seq.left_hand_pose[s], "right_hand_pose": seq.right_hand_pose[s],
                "transl": seq.trans[s]}
        pose.update({key: None if getattr(seq, key) is None else getattr(seq, key)[s] for key in smplx_only})
        yield _forward(body, seq.betas, pose)


def rest_root(model_file: Path, model_type: str, gender: str, betas: np.ndarray) -> np.ndarray:
    """(3,) the root joint of ``betas`` in the rest pose (SMPL rotates the body about it), metres."""
    body = load_body(str(model_file), model_type, gender, max(10, len(betas)))
    _, joints = _forward(body, betas, {})
    return joints[0, 0].numpy()
