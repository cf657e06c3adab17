"""Anny (``pip install anny``, Apache-2.0): the free default body model.

Frame and units: metres; native axes x = subject's left, y = backward (the face looks to -y), z = up; the root
bone's head sits at the pelvis. The rest pose is an A-pose (upper arms about 45 deg down, elbows flexed about
45 deg forward, thighs about 7 deg abducted). :data:`~biopose_opensim.bodymodels.base.ANNY_TO_OPENSIM` rotates
native coordinates into OpenSim's ground axes.

Shape: :class:`AnnyShape`, the six Anny phenotypes, each in [0, 1]. Pose: :class:`AnnyPose`, the world
orientation of every bone (Anny's ``world-orient`` parameterisation: each bone's head follows its parent, the
root's head is placed at ``root_position``).

The model data are built by Anny on first use (about a minute) and cached under ``ANNY_CACHE_DIR`` (default
``~/.cache/anny``); later loads take about a second. One model is kept per process (:func:`load_anny`).
"""
from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass, fields
from typing import Sequence

import numpy as np
import torch

from ..errors import ConfigError
from .base import ANNY_TO_OPENSIM, SMPLH_JOINT_NAMES, BodyModel, BodyModelOutput

log = logging.getLogger(__name__)

#: Phenotype names in Anny's order.
PHENOTYPES = ("gender", "age", "muscle", "weight", "height", "proportions")


@dataclass(frozen=True)
class AnnyShape:
    """Anny body shape: six phenotypes, each in [0, 1] (0.5 is Anny's default body, about 1.63 m).

    Attributes:
        gender: 0 male, 1 female.
        age: 0 baby, 1/3 child, 2/3 young adult, 1 old (Anny's age anchors; adults lie in about [0.5, 1]).
        muscle: 0 minimal, 0.5 average, 1 maximal muscle.
        weight: 0 minimal, 0.5 average, 1 maximal weight.
        height: 0 minimal, 1 maximal height (for the given gender and age).
        proportions: 0 ideal, 1 uncommon body proportions.

    Raises:
        ConfigError: a value outside [0, 1] or not a finite number (the message names the phenotype).
    """

    gender: float = 0.5
    age: float = 0.5
    muscle: float = 0.5
    weight: float = 0.5
    height: float = 0.5
    proportions: float = 0.5

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            try:
                x = float(value)
            except (TypeError, ValueError):
                raise ConfigError(f"Anny phenotype {f.name!r} must be a number in [0, 1], got {value!r}") from None
            if not (math.isfinite(x) and 0.0 <= x <= 1.0):
                raise ConfigError(f"Anny phenotype {f.name!r} must be in [0, 1], got {value!r}")
            object.__setattr__(self, f.name, x)

    @classmethod
    def from_dict(cls, values: dict) -> "AnnyShape":
        """Build from a mapping of phenotype name -> value; unknown names raise :class:`ConfigError`."""
        unknown = sorted(set(values) - set(PHENOTYPES))
        if unknown:
            raise ConfigError(f"unknown Anny phenotype(s) {', '.join(unknown)}; expected some of {', '.join(PHENOTYPES)}")
        return cls(**{k: values[k] for k in values})

    def as_array(self) -> np.ndarray:
        """``(6,)`` float64 phenotype values in :data:`PHENOTYPES` order."""
        return np.array([getattr(self, n) for n in PHENOTYPES], dtype=np.float64)


@dataclass(frozen=True, eq=False)
class AnnyPose:
    """A pose of Anny in its ``world-orient`` parameterisation (native axes).

    Attributes:
        orientations: ``(B, NB, 3, 3)`` world orientation of every bone (NB = number of bones, Anny's order).
        root_position: ``(B, 3)`` metres, world position of the root bone's head.
    """

    orientations: torch.Tensor
    root_position: torch.Tensor


#: SMPL-H joint name -> Anny bones whose (posed) heads are averaged to give that joint. Joints the Anny skeleton
#: places differently from SMPL-H are documented in docs/virtual_markers.md (collar: between the clavicle and
#: shoulder bones; foot: the mean of the five metatarsophalangeal joints; spine1..3: spine03, spine02, spine01).
ANNY_SMPLH_JOINTS: dict[str, tuple[str, ...]] = {
    "pelvis": ("root",),
    "left_hip": ("upperleg01.L",),
    "right_hip": ("upperleg01.R",),
    "spine1": ("spine03",),
    "left_knee": ("lowerleg01.L",),
    "right_knee": ("lowerleg01.R",),
    "spine2": ("spine02",),
    "left_ankle": ("foot.L",),
    "right_ankle": ("foot.R",),
    "spine3": ("spine01",),
    "left_foot": tuple(f"toe{k}-1.L" for k in range(1, 6)),
    "right_foot": tuple(f"toe{k}-1.R" for k in range(1, 6)),
    "neck": ("neck01",),
    "left_collar": ("clavicle.L", "shoulder01.L"),
    "right_collar": ("clavicle.R", "shoulder01.R"),
    "head": ("head",),
    "left_shoulder": ("upperarm01.L",),
    "right_shoulder": ("upperarm01.R",),
    "left_elbow": ("lowerarm01.L",),
    "right_elbow": ("lowerarm01.R",),
    "left_wrist": ("wrist.L",),
    "right_wrist": ("wrist.R",),
}
# Hand joints: Anny's finger1 is the thumb, finger2..5 index..pinky; joint k is the head of finger bone k.
for _side, _s in (("left", "L"), ("right", "R")):
    for _finger, _n in (("thumb", 1), ("index", 2), ("middle", 3), ("ring", 4), ("pinky", 5)):
        for _k in (1, 2, 3):
            ANNY_SMPLH_JOINTS[f"{_side}_{_finger}{_k}"] = (f"finger{_n}-{_k}.{_s}",)
assert set(ANNY_SMPLH_JOINTS) == set(SMPLH_JOINT_NAMES)


@functools.lru_cache(maxsize=None)
def load_anny(skinning_method: str = "lbs"):
    """The ``anny.Anny`` module (default rig and topology, ``world-orient`` poses, float64), built once per process.

    The first build in a fresh cache takes about a minute (``ANNY_CACHE_DIR``, default ``~/.cache/anny``).
    """
    import anny  # imported here: loading anny pulls in its data only when a model is needed

    log.info("loading the Anny body model (first build in a fresh ANNY_CACHE_DIR takes about a minute)")
    model = anny.Anny(pose_parameterization="world-orient", skinning_method=skinning_method)
    model.requires_grad_(False)
    return model


class AnnyBodyModel(BodyModel):
    """Anny as a :class:`~biopose_opensim.bodymodels.base.BodyModel` (see the module docstring for frames).

    Args:
        model: an ``anny.Anny`` built with ``pose_parameterization='world-orient'``; default :func:`load_anny`.
    """

    name = "anny"
    to_opensim = ANNY_TO_OPENSIM

    def __init__(self, model=None):
        self.model = model if model is not None else load_anny()
        if getattr(self.model, "pose_parameterization", None) != "world-orient":
            raise ValueError("AnnyBodyModel needs an anny.Anny built with pose_parameterization='world-orient'")
        self.bone_labels: tuple[str, ...] = tuple(self.model.bone_labels)
        self.bone_parents: tuple[int, ...] = tuple(int(p) for p in self.model.bone_parents)
        self._bone_index = {b: i for i, b in enumerate(self.bone_labels)}
        self._faces = torch.as_tensor(self.model.faces, dtype=torch.int64)
        if self._faces.shape[-1] != 3:
            raise ValueError(f"expected a triangulated Anny topology, got faces of shape {tuple(self._faces.shape)}")
        # (J, NB) averaging matrix from bone heads to the SMPL-H joints.
        A = torch.zeros(len(SMPLH_JOINT_NAMES), len(self.bone_labels), dtype=self.dtype)
        for j, name in enumerate(SMPLH_JOINT_NAMES):
            bones = ANNY_SMPLH_JOINTS[name]
            for b in bones:
                A[j, self.bone_index(b)] = 1.0 / len(bones)
        self._joint_matrix = A

    # ------------------------------------------------------------------ sizes and names
    @property
    def dtype(self) -> torch.dtype:
        return self.model.dtype

    @property
    def n_vertices(self) -> int:
        return int(self.model.template_vertices.shape[0])

    @property
    def n_bones(self) -> int:
        return len(self.bone_labels)

    @property
    def faces(self) -> torch.Tensor:
        return self._faces

    @property
    def joint_names(self) -> tuple[str, ...]:
        return SMPLH_JOINT_NAMES

    def bone_index(self, label: str) -> int:
        """Index of bone ``label``; KeyError names the bones when it is unknown."""
        try:
            return self._bone_index[label]
        except KeyError:
            raise KeyError(f"Anny has no bone {label!r}; bones: {', '.join(self.bone_labels)}") from None

    def skinning_weights(self) -> np.ndarray:
        """``(V, NB)`` float64 dense linear-blend-skinning weights (rows sum to 1)."""
        w = self.model.vertex_bone_weights.detach().cpu().numpy()
        idx = self.model.vertex_bone_indices.detach().cpu().numpy()
        dense = np.zeros((w.shape[0], self.n_bones))
        np.add.at(dense, (np.arange(w.shape[0])[:, None].repeat(w.shape[1], 1), idx), w)
        return dense

    # ------------------------------------------------------------------ shape
    def phenotypes(self, shape: AnnyShape | Sequence[AnnyShape] | None) -> torch.Tensor:
        """``(B, 6)`` phenotype tensor for one shape, a list of shapes (a batch) or ``None`` (default body)."""
        if shape is None:
            shape = AnnyShape()
        shapes = [shape] if isinstance(shape, AnnyShape) else list(shape)
        if not shapes or not all(isinstance(s, AnnyShape) for s in shapes):
            raise TypeError("shape must be an AnnyShape or a non-empty sequence of AnnyShape")
        return torch.as_tensor(np.stack([s.as_array() for s in shapes]), dtype=self.dtype)

    def _coefficients(self, phen: torch.Tensor) -> torch.Tensor:
        empty = phen.new_zeros((phen.shape[0], 0))
        local = phen.new_zeros((phen.shape[0], len(self.model.local_change_labels)))
        return self.model._get_phenotype_blendshape_coefficients(phen, local, empty)

    @torch.no_grad()
    def rest_bone_poses(self, shape: AnnyShape | Sequence[AnnyShape] | None = None) -> torch.Tensor:
        """``(B, NB, 4, 4)`` rest pose of every bone (rotation = rest orientation, translation = head), native."""
        return self.model.get_rest_model(self._coefficients(self.phenotypes(shape)))["rest_bone_poses"]

    def rest_pose(self, shape: AnnyShape | Sequence[AnnyShape] | None = None) -> AnnyPose:
        """The :class:`AnnyPose` that reproduces the rest mesh exactly."""
        P = self.rest_bone_poses(shape)
        return AnnyPose(orientations=P[..., :3, :3].clone(), root_position=P[:, 0, :3, 3].clone())

    # ------------------------------------------------------------------ forward
    @torch.no_grad()
    def forward(self, shape: AnnyShape | Sequence[AnnyShape] | None = None,
                pose: AnnyPose | None = None) -> BodyModelOutput:
        """Posed vertices ``(B, V, 3)`` and the 52 SMPL-H joints ``(B, 52, 3)``, metres, native frame.

        ``shape`` has batch 1 or B; ``pose`` (batch B) defaults to the rest pose.
        """
        phen = self.phenotypes(shape)
        if pose is None:
            pose = self.rest_pose(shape)
        R = torch.as_tensor(pose.orientations, dtype=self.dtype)
        t = torch.as_tensor(pose.root_position, dtype=self.dtype)
        if R.ndim != 4 or R.shape[-3:] != (self.n_bones, 3, 3):
            raise ValueError(f"pose orientations must be (B, {self.n_bones}, 3, 3), got {tuple(R.shape)}")
        B = R.shape[0]
        if t.shape != (B, 3):
            raise ValueError(f"pose root_position must be ({B}, 3), got {tuple(t.shape)}")
        if phen.shape[0] not in (1, B):
            raise ValueError(f"shape batch {phen.shape[0]} must be 1 or the pose batch {B}")
        delta = torch.zeros(B, self.n_bones, 4, 4, dtype=self.dtype)
        delta[..., :3, :3] = R
        delta[..., 3, 3] = 1.0
        delta[:, 0, :3, 3] = t
        out = self.model(pose_parameters=delta, phenotype_kwargs=phen)
        heads = out["bone_poses"][..., :3, 3]
        joints = torch.einsum("jb,nbd->njd", self._joint_matrix, heads)
        return BodyModelOutput(
            vertices=out["vertices"], joints=joints, joint_names=SMPLH_JOINT_NAMES, faces=self.faces,
            frame="native", to_opensim=self.to_opensim,
        )

    @torch.no_grad()
    def bone_heads(self, shape: AnnyShape | Sequence[AnnyShape] | None = None,
                   pose: AnnyPose | None = None) -> torch.Tensor:
        """``(B, NB, 3)`` posed bone heads (metres, native frame); the rest pose when ``pose`` is None."""
        if pose is None:
            return self.rest_bone_poses(shape)[..., :3, 3]
        delta = torch.zeros(pose.orientations.shape[0], self.n_bones, 4, 4, dtype=self.dtype)
        delta[..., :3, :3] = pose.orientations
        delta[:, 0, :3, 3] = pose.root_position
        delta[..., 3, 3] = 1.0
        rest = self.rest_bone_poses(shape)
        _, W = self.model.get_bone_transforms(delta, rest)
        return W[..., :3, 3]
