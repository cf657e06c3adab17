"""SMPL-H / SMPL-X meshes of recorded sequences through ``smplx``, from the user's own model files.

The model files are licensed (SMPL and SMPL-X from their sites, SMPL-H from the MANO site as used by AMASS)
and never downloaded; :func:`find_model_file` looks for them in the folder the user gives, in the layouts
people keep them in::

    <dir>/SMPL_MALE.pkl | .npz              <dir>/smpl/SMPL_MALE.pkl          <dir>/basicmodel_m_lbs_10_207_0_v1.1.0.pkl
    <dir>/SMPLH_MALE.pkl | .npz            <dir>/smplh/SMPLH_MALE.pkl | .npz
    <dir>/male/model.npz                    <dir>/smplh/male/model.npz        (AMASS's SMPL+H release)
    <dir>/SMPLX_NEUTRAL.npz | .pkl          <dir>/smplx/SMPLX_NEUTRAL.npz | .pkl

Meshes are computed in chunks and returned in the sequence's (aligned, y-up) world frame, metres.
"""
from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from ..errors import InputFileError
from .sequences import SmplSequence

log = logging.getLogger(__name__)

CHUNK = 128
#: smplx's 52 SMPL-H joints are the first 52 of its output joints (also for SMPL-X, whose joints 22-24
#: are jaw and eyes: those are skipped to keep SMPL-H order).
SMPLX_TO_SMPLH_JOINTS = tuple(range(22)) + tuple(range(25, 55))


def candidate_files(model_dir: Path, model_type: str, gender: str) -> list[Path]:
    """Files :func:`find_model_file` tries, in order (SMPL also under its release names ``basicmodel_*``)."""
    stem = f"{model_type.upper()}_{gender.upper()}"
    out = []
    for base in (model_dir, model_dir / model_type):
        for ext in ("npz", "pkl"):
            out.append(base / f"{stem}.{ext}")
        out.append(base / gender / "model.npz")
        if model_type == "smpl":
            g = {"male": "m", "female": "f", "neutral": "neutral"}[gender]
            out.append(base / f"basicmodel_{g}_lbs_10_207_0_v1.1.0.pkl")
            out.append(base / f"basicModel_{g}_lbs_10_207_0_v1.0.0.pkl")
    return out


def find_model_file(model_dir: str | Path, model_type: str, gender: str) -> Path:
    """The user's model file for ``model_type`` (``smplh``/``smplx``) and ``gender``.

    Raises:
        InputFileError: the folder is missing or holds none of the expected files (they are listed).
    """
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise InputFileError(model_dir, f"{model_type.upper()} model folder not found; give the folder holding "
                                        f"your licensed {model_type.upper()} files")
    tried = candidate_files(model_dir, model_type, gender)
    for p in tried:
        if p.is_file():
            return p
    raise InputFileError(model_dir, f"no {model_type.upper()} {gender} model file; expected one of "
                                    + ", ".join(str(p.relative_to(model_dir)) for p in tried)
                                    + f" (download {model_type.upper()} yourself; it is licensed)")


@functools.lru_cache(maxsize=6)
def load_layer(model_file: str, model_type: str, gender: str, num_betas: int):
    """An ``smplx`` body layer (float64, no hand PCA) for ``model_file``; one per process and file."""
    import smplx

    ext = Path(model_file).suffix.lstrip(".")
    kwargs = dict(model_path=model_file, gender=gender, num_betas=num_betas, use_pca=False, flat_hand_mean=True,
                  ext=ext, dtype=torch.float64, batch_size=1)
    try:
        if model_type == "smplh":
            layer = smplx.SMPLH(**kwargs)
        else:
            layer = smplx.SMPLX(**kwargs)
    except Exception as exc:
        raise InputFileError(model_file, f"smplx could not load this {model_type.upper()} model: {exc}") from None
    layer.requires_grad_(False)
    return layer


def _forward(layer, model_type: str, betas: np.ndarray, sl: dict) -> tuple[torch.Tensor, torch.Tensor]:
    n = sl["global_orient"].shape[0]
    t = lambda a: torch.as_tensor(a, dtype=torch.float64)  # noqa: E731
    b = np.zeros(layer.num_betas)
    k = min(len(betas), layer.num_betas)
    b[:k] = betas[:k]
    args = dict(betas=t(np.tile(b, (n, 1))), global_orient=t(sl["global_orient"]), body_pose=t(sl["body_pose"]),
                left_hand_pose=t(sl["left_hand_pose"]), right_hand_pose=t(sl["right_hand_pose"]),
                transl=t(sl["trans"]))
    if model_type == "smplx":
        for key in ("jaw_pose", "leye_pose", "reye_pose"):
            args[key] = t(sl[key] if sl.get(key) is not None else np.zeros((n, 3)))
        args["expression"] = torch.zeros(n, layer.num_expression_coeffs, dtype=torch.float64)
    with torch.no_grad():
        out = layer(**args)
    joints = out.joints
    joints = joints[:, list(SMPLX_TO_SMPLH_JOINTS)] if model_type == "smplx" else joints[:, :52]
    return out.vertices, joints


def sequence_meshes(seq: SmplSequence, model_file: Path) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(vertices (t, V, 3), joints (t, 52, 3))`` chunks of ``seq`` in its world frame, metres."""
    layer = load_layer(str(model_file), seq.model_type, seq.gender, max(10, len(seq.betas)))
    for a in range(0, seq.n_frames, CHUNK):
        s = slice(a, a + CHUNK)
        part = {"global_orient": seq.global_orient[s], "body_pose": seq.body_pose[s],
                "left_hand_pose": seq.left_hand_pose[s], "right_hand_pose": seq.right_hand_pose[s],
                "trans": seq.trans[s], "jaw_pose": None if seq.jaw_pose is None else seq.jaw_pose[s],
                "leye_pose": None if seq.leye_pose is None else seq.leye_pose[s],
                "reye_pose": None if seq.reye_pose is None else seq.reye_pose[s]}
        yield _forward(layer, seq.model_type, seq.betas, part)


def rest_root(model_file: Path, model_type: str, gender: str, betas: np.ndarray) -> np.ndarray:
    """(3,) the root joint of ``betas`` in the rest pose (SMPL rotates the body about it), metres."""
    layer = load_layer(str(model_file), model_type, gender, max(10, len(betas)))
    z = {k: np.zeros((1, n)) for k, n in (("global_orient", 3), ("body_pose", 63), ("left_hand_pose", 45),
                                           ("right_hand_pose", 45), ("trans", 3))}
    _, joints = _forward(layer, model_type, betas, z)
    return joints[0, 0].numpy()
