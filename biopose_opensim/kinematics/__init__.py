"""Differentiable OpenSim forward kinematics in PyTorch.

``OsimFK.from_osim(path)`` reads an OpenSim model (through OpenSim itself) and is an ``nn.Module`` whose
``forward(q, s=None)`` returns an :class:`FKResult` (body transforms, joint centres, markers) in the ground
frame, batched over any leading dimensions, on CPU or GPU, in float32 or float64. See ``docs/kinematics.md``.
"""
from ..markers.vocabulary import DEFAULT_MODEL_BONY_LANDMARKS as BONY_LANDMARKS
from .layer import FKResult, OsimFK, random_poses
from .tree import ModelTree, load_model_tree

__all__ = ["BONY_LANDMARKS", "FKResult", "ModelTree", "OsimFK", "load_model_tree", "random_poses"]
