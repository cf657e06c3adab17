"""SMPL, SMPL-H and SMPL-X through ``smplx``, from the user's own licensed model files.

Nothing is downloaded: :func:`find_model_file` looks for the files in the folder the user gives
(``--smpl-model-dir``, the adapters' ``--smplh-dir`` / ``--smplx-dir``) or the folder named by the
``BIOPOSE_SMPL_DIR`` environment variable, directly or in a ``smpl/``, ``smplh/`` or ``smplx/`` subfolder, in
the layouts people keep them in::

    SMPL_NEUTRAL.pkl | .npz  (or SMPL_MALE / SMPL_FEMALE)    basicmodel_m_lbs_10_207_0_v1.1.0.pkl  (SMPL release)
    SMPLH_MALE.npz | .pkl                                    male/model.npz  (AMASS's SMPL+H release)
    SMPLX_NEUTRAL.npz | .pkl

Frame and units: metres; native SMPL axes x = subject's left, y = up, z = forward
(:data:`~biopose_opensim.bodymodels.base.SMPL_TO_OPENSIM` rotates them into OpenSim's ground axes).
Shape: ``betas`` ``(B, num_betas)``. Pose: :class:`SMPLPose` (axis-angle, radians).
Joints: the model's regressed joints only (24 for SMPL, 52 for SMPL-H, 55 for SMPL-X), named as in SMPL-H /
smplx; smplx's extra vertex keypoints are not returned.
"""
from __future__ import annotations

import logging
import os
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError
from .base import SMPL_JOINT_NAMES, SMPL_TO_OPENSIM, SMPLH_JOINT_NAMES, BodyModel, BodyModelOutput

log = logging.getLogger(__name__)

#: Environment variable naming the folder of the user's SMPL-family model files.
SMPL_DIR_ENV = "BIOPOSE_SMPL_DIR"
MODEL_TYPES = ("smpl", "smplh", "smplx")
GENDERS = ("neutral", "male", "female")
_EXTS = {"smpl": ("pkl", "npz"), "smplh": ("npz", "pkl"), "smplx": ("npz", "pkl")}
#: smplx's 52 SMPL-H joints are the first 52 of its output joints (also for SMPL-X, whose joints 22-24
#: are jaw and eyes: those are skipped to keep SMPL-H order).
SMPLX_TO_SMPLH_JOINTS = tuple(range(22)) + tuple(range(25, 55))


def expected_file_names(model_type: str, gender: str) -> list[str]:
    """smplx's file names for one model type and gender, in search order (e.g. ``SMPL_NEUTRAL.pkl``)."""
    stem = f"{model_type.upper()}_{gender.upper()}"
    return [f"{stem}.{ext}" for ext in _EXTS[model_type]]


def candidate_files(model_dir: str | Path, model_type: str, gender: str) -> list[Path]:
    """Files :func:`find_model_file` tries, in order: in ``model_dir`` then in ``model_dir/<model_type>``,
    smplx's names, AMASS's ``<gender>/model.npz`` and, for SMPL, its release names ``basicmodel_*``."""
    out = []
    for base in (Path(model_dir), Path(model_dir) / model_type):
        out += [base / name for name in expected_file_names(model_type, gender)]
        out.append(base / gender / "model.npz")
        if model_type == "smpl":
            g = {"male": "m", "female": "f", "neutral": "neutral"}[gender]
            out.append(base / f"basicmodel_{g}_lbs_10_207_0_v1.1.0.pkl")
            out.append(base / f"basicModel_{g}_lbs_10_207_0_v1.0.0.pkl")
    return out


def find_model_file(model_dir: str | Path | None, model_type: str = "smpl", gender: str = "neutral", *,
                    option: str = "--smpl-model-dir") -> Path:
    """The user's model file for ``model_type``/``gender`` in ``model_dir`` (or ``$BIOPOSE_SMPL_DIR``).

    Args:
        option: the command-line option that gives the folder, named in error messages.

    Raises:
        ConfigError: unknown type or gender, no folder given, a missing folder, or no matching file (the
            message lists the files looked for, the folders searched, ``option`` and the environment variable).
    """
    if model_type not in MODEL_TYPES:
        raise ConfigError(f"unknown SMPL model type {model_type!r}; expected one of {', '.join(MODEL_TYPES)}")
    if gender not in GENDERS:
        raise ConfigError(f"unknown SMPL gender {gender!r}; expected one of {', '.join(GENDERS)}")
    kind = model_type.upper()
    if model_dir is None:
        model_dir = os.environ.get(SMPL_DIR_ENV) or None
    if model_dir is None:
        names = expected_file_names(model_type, gender)
        raise ConfigError(
            f"{kind} needs your own licensed model files, which are not shipped: give "
            f"{option} DIR or set the environment variable {SMPL_DIR_ENV}=DIR, DIR holding "
            f"{' or '.join(names)} (directly or in {model_type}/)"
        )
    root = Path(model_dir)
    if not root.is_dir():
        raise ConfigError(f"{root}: {kind} model folder not found; point {option} or {SMPL_DIR_ENV} at the "
                          f"folder holding your licensed {kind} files")
    tried = candidate_files(root, model_type, gender)
    for path in tried:
        if path.is_file():
            return path
    raise ConfigError(
        f"no {kind} model file in {root} or {root / model_type}: no {kind} {gender} model file; expected one of "
        f"{', '.join(str(p.relative_to(root)) for p in tried)}; point {option} or {SMPL_DIR_ENV} at the folder "
        f"holding your {kind} files (they are licensed: download them yourself)"
    )


def _read_model_data(path: Path) -> dict:
    """The arrays of an SMPL-family ``.pkl`` (latin-1 pickles, as distributed) or ``.npz`` file."""
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=True) as data:
            return {k: data[k] for k in data.files}
    with open(path, "rb") as fh:
        data = pickle.load(fh, encoding="latin1")
    if not isinstance(data, dict):
        raise ValueError(f"expected a dict of arrays, got {type(data).__name__}")
    return data


@dataclass(frozen=True, eq=False)
class SMPLPose:
    """Axis-angle pose (radians) of an SMPL-family model; any field left None is zero.

    Attributes:
        global_orient: ``(B, 3)`` root rotation.
        body_pose: ``(B, 3 * n_body_joints)`` (69 for SMPL, 63 for SMPL-H/SMPL-X).
        left_hand_pose / right_hand_pose: ``(B, 45)`` SMPL-H/SMPL-X finger rotations (flat hand at zero).
        transl: ``(B, 3)`` metres, added to every vertex and joint.
        jaw_pose / leye_pose / reye_pose: ``(B, 3)`` SMPL-X jaw and eye rotations.
    """

    global_orient: torch.Tensor | None = None
    body_pose: torch.Tensor | None = None
    left_hand_pose: torch.Tensor | None = None
    right_hand_pose: torch.Tensor | None = None
    transl: torch.Tensor | None = None
    jaw_pose: torch.Tensor | None = None
    leye_pose: torch.Tensor | None = None
    reye_pose: torch.Tensor | None = None

    def batch_size(self) -> int:
        for v in (self.global_orient, self.body_pose, self.left_hand_pose, self.right_hand_pose, self.transl,
                  self.jaw_pose, self.leye_pose, self.reye_pose):
            if v is not None:
                return int(torch.as_tensor(v).shape[0])
        return 1


class SMPLBodyModel(BodyModel):
    """An SMPL-family body model (smplx) as a :class:`~biopose_opensim.bodymodels.base.BodyModel`.

    Args:
        model_dir: folder with the user's model files (default ``$BIOPOSE_SMPL_DIR``), see the module docstring.
        model_type: ``"smpl"``, ``"smplh"`` or ``"smplx"``.
        gender: ``"neutral"``, ``"male"`` or ``"female"``.
        num_betas: shape coefficients used (at most what the file holds).
        dtype: torch dtype of the model buffers.
        model_file: the model file itself (found by :func:`find_model_file`); ``model_dir`` is then unused.

    Raises:
        ConfigError: model files missing (see :func:`find_model_file`) or unreadable.
    """

    to_opensim = SMPL_TO_OPENSIM

    def __init__(self, model_dir: str | Path | None = None, model_type: str = "smpl", gender: str = "neutral",
                 num_betas: int = 10, dtype: torch.dtype = torch.float64, *, model_file: str | Path | None = None):
        import smplx
        from smplx.utils import Struct
        from smplx.vertex_ids import vertex_ids as smplx_vertex_ids

        self.path = Path(model_file) if model_file is not None else find_model_file(model_dir, model_type, gender)
        self.name = model_type
        self.model_type = model_type
        self.gender = gender
        ext = self.path.suffix.lstrip(".")
        kwargs = dict(model_type=model_type, gender=gender, num_betas=num_betas, ext=ext, dtype=dtype, batch_size=1)
        if model_type != "smplx":
            # smplx appends vertex keypoints (nose, toes, fingertips) to its joints; they are dropped here, so
            # they are read from vertex 0 to keep models with other vertex counts loadable. (SMPL-X always
            # uses its own keypoint vertices and has a fixed topology.)
            kwargs["vertex_ids"] = {k: 0 for k in smplx_vertex_ids["smplh"]}
        if model_type in ("smplh", "smplx"):
            kwargs.update(use_pca=False, flat_hand_mean=True)
        try:
            if model_type in ("smpl", "smplh"):
                # read here so that both .pkl and .npz work for SMPL as well (smplx's SMPL reads pickles only)
                kwargs["data_struct"] = Struct(**_read_model_data(self.path))
            self.model = smplx.create(str(self.path), **kwargs)
        except (KeyError, AttributeError, ValueError, TypeError, OSError, EOFError, pickle.UnpicklingError,
                zipfile.BadZipFile) as exc:
            raise ConfigError(f"{self.path}: not a readable {model_type.upper()} model file for smplx ({exc!r})") \
                from None
        self.model.requires_grad_(False)
        self.dtype = dtype
        n_joints = int(self.model.J_regressor.shape[0])
        self.n_joints = n_joints
        if model_type == "smpl":
            names = SMPL_JOINT_NAMES
        elif model_type == "smplh":
            names = SMPLH_JOINT_NAMES
        else:
            from smplx.joint_names import JOINT_NAMES

            names = tuple(JOINT_NAMES)
        if len(names) < n_joints:
            raise ConfigError(f"{self.path}: {n_joints} joints, more than the {len(names)} named {model_type} joints")
        self._joint_names = tuple(names[:n_joints])
        self._faces = torch.as_tensor(np.asarray(self.model.faces, dtype=np.int64))
        log.info("loaded %s (%s): %d vertices, %d joints", model_type.upper(), self.path, self.n_vertices, n_joints)

    @property
    def n_vertices(self) -> int:
        return int(self.model.v_template.shape[0])

    @property
    def faces(self) -> torch.Tensor:
        return self._faces

    @property
    def joint_names(self) -> tuple[str, ...]:
        return self._joint_names

    @property
    def num_betas(self) -> int:
        return int(self.model.num_betas)

    @torch.no_grad()
    def forward(self, shape: torch.Tensor | np.ndarray | None = None, pose: SMPLPose | None = None
                ) -> BodyModelOutput:
        """Vertices ``(B, V, 3)`` and joints ``(B, J, 3)``, metres, native SMPL frame.

        ``shape``: betas ``(B, num_betas)`` or ``(num_betas,)`` (zeros when None); ``pose``: :class:`SMPLPose`.
        """
        pose = pose or SMPLPose()
        B = pose.batch_size()
        betas = torch.zeros(1, self.num_betas, dtype=self.dtype) if shape is None else \
            torch.as_tensor(shape, dtype=self.dtype).reshape(-1, self.num_betas)
        B = max(B, betas.shape[0])
        if betas.shape[0] != B:
            betas = betas.expand(B, -1)

        def arg(value, width):
            if value is None:
                return torch.zeros(B, width, dtype=self.dtype)
            t = torch.as_tensor(value, dtype=self.dtype).reshape(-1, width)
            return t.expand(B, -1) if t.shape[0] == 1 else t

        n_body = int(self.model.NUM_BODY_JOINTS)
        kwargs = dict(betas=betas, global_orient=arg(pose.global_orient, 3),
                      body_pose=arg(pose.body_pose, 3 * n_body), transl=arg(pose.transl, 3))
        if self.model_type in ("smplh", "smplx"):
            kwargs.update(left_hand_pose=arg(pose.left_hand_pose, 45), right_hand_pose=arg(pose.right_hand_pose, 45))
        if self.model_type == "smplx":
            kwargs.update(jaw_pose=arg(pose.jaw_pose, 3), leye_pose=arg(pose.leye_pose, 3),
                          reye_pose=arg(pose.reye_pose, 3),
                          expression=torch.zeros(B, int(self.model.num_expression_coeffs), dtype=self.dtype))
        out = self.model(**kwargs)
        return BodyModelOutput(
            vertices=out.vertices, joints=out.joints[:, : self.n_joints], joint_names=self.joint_names,
            faces=self.faces, frame="native", to_opensim=self.to_opensim,
        )
