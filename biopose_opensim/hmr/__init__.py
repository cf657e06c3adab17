"""MQ-HMR: image -> body-model parameters and camera, with 2D-informed refinement of the query tokens.

One concept per module: ``config`` (named configurations), ``backbone`` (timm ViT), ``pyramid`` (strides 4/8/16),
``deform_attn`` (multi-scale deformable attention), ``decoder`` (96 query tokens, 4 layers), ``heads`` (Anny and
SMPL parameters, camera), ``camera`` (weak perspective, focal 5000), ``body`` (differentiable body models),
``model`` (the network), ``losses``, ``refine``, ``data``/``crop`` (readers), ``trainer``.
See ``docs/mqhmr.md``.
"""
from pathlib import Path

#: The shipped MQ-HMR checkpoint (``small`` configuration trained on the project's synthetic renders).
DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[1] / "data" / "mqhmr" / "mqhmr_small.safetensors"


def default_checkpoint() -> Path:
    """The shipped checkpoint; an :class:`~biopose_opensim.errors.InputFileError` if it is not installed."""
    if not DEFAULT_CHECKPOINT.is_file():
        from ..errors import InputFileError

        raise InputFileError(DEFAULT_CHECKPOINT, "the shipped MQ-HMR checkpoint is missing; give --mqhmr-checkpoint")
    return DEFAULT_CHECKPOINT


__all__ = ["DEFAULT_CHECKPOINT", "default_checkpoint"]
