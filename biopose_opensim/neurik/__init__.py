"""NeurIK: learned inverse kinematics from virtual markers to OpenSim coordinates and bone scales.

``NeurIKSystem.from_checkpoint(path)`` loads a network with its FK layer; ``predict_trial`` runs it over a
whole trial. Training: :func:`.trainer.train_neurik` (``python -m biopose_opensim.train neurik``); evaluation:
:func:`.evaluate.evaluate_checkpoint` (``python -m biopose_opensim.evaluate``). See ``docs/neurik.md``.
"""
from __future__ import annotations

from pathlib import Path

from ..paths import PACKAGE_DATA_DIR
from .config import CONFIGS, NeurIKConfig, load_config
from .system import NeurIKSystem

#: The shipped checkpoint (weights + metadata).
DEFAULT_CHECKPOINT = PACKAGE_DATA_DIR / "neurik" / "neurik_default.safetensors"


def default_checkpoint() -> Path:
    """The shipped checkpoint; an :class:`~biopose_opensim.errors.InputFileError` if it is not installed."""
    if not DEFAULT_CHECKPOINT.is_file():
        from ..errors import InputFileError

        raise InputFileError(DEFAULT_CHECKPOINT, "the shipped NeurIK checkpoint is missing; give --checkpoint")
    return DEFAULT_CHECKPOINT


__all__ = ["CONFIGS", "DEFAULT_CHECKPOINT", "NeurIKConfig", "NeurIKSystem", "default_checkpoint", "load_config"]
