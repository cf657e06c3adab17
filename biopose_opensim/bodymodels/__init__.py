"""Body meshes: one interface (shape + pose -> vertices, joints, faces) over Anny (default) and SMPL/SMPL-H/SMPL-X.

Frames and units are documented in :mod:`biopose_opensim.bodymodels.base`: metres, each model's native axes,
and the rotation into OpenSim's ground frame (x forward, y up, z right).
"""
from .anny import ANNY_SMPLH_JOINTS, PHENOTYPES, AnnyBodyModel, AnnyPose, AnnyShape, load_anny
from .anny_opensim import anny_bone_bodies, anny_bone_body
from .base import (
    ANNY_TO_OPENSIM,
    OPENSIM_TO_ANNY,
    OPENSIM_TO_SMPL,
    SMPL_JOINT_NAMES,
    SMPL_TO_OPENSIM,
    SMPLH_JOINT_NAMES,
    BodyModel,
    BodyModelOutput,
)
from .registry import BODY_MODELS, SYNTH_BODY_MODELS, BodyModelSpec, body_model_spec

__all__ = [
    "ANNY_SMPLH_JOINTS", "ANNY_TO_OPENSIM", "AnnyBodyModel", "AnnyPose", "AnnyShape", "BODY_MODELS", "BodyModel",
    "BodyModelOutput", "BodyModelSpec", "SYNTH_BODY_MODELS", "body_model_spec", "OPENSIM_TO_ANNY", "OPENSIM_TO_SMPL", "PHENOTYPES", "SMPLH_JOINT_NAMES", "SMPL_JOINT_NAMES",
    "SMPL_TO_OPENSIM", "anny_bone_bodies", "anny_bone_body", "load_anny",
]
