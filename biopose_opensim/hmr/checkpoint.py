"""MQ-HMR checkpoints: weights as safetensors (``<stem>.safetensors``, network parameters only — the body model's
data are never stored) beside ``<stem>.json`` (format tag, configuration, body model, training data hashes,
epoch, history and metrics); a training checkpoint also has ``<stem>.optim.safetensors`` for ``--resume``."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch

from ..errors import InputFileError
from ..training import read_checkpoint_files, write_checkpoint_files
from .config import MQHMRConfig

FORMAT = "biopose_opensim.mqhmr/1"


def save_checkpoint(path: str | Path, net: torch.nn.Module, meta: Mapping[str, Any],
                    optimizer_state: Mapping[str, torch.Tensor] | None = None) -> Path:
    """Write ``<stem>.safetensors`` + ``<stem>.json`` (and the optimiser state) atomically."""
    return write_checkpoint_files(path, net.state_dict(), meta, FORMAT, optimizer_state)


@dataclass(frozen=True)
class LoadedCheckpoint:
    """A checkpoint read back: JSON ``meta``, its ``config``, the network ``tensors`` and the optimiser state."""

    path: Path
    meta: Mapping[str, Any]
    config: MQHMRConfig
    tensors: Mapping[str, torch.Tensor]
    optimizer: Mapping[str, torch.Tensor] | None


def read_checkpoint(path: str | Path) -> LoadedCheckpoint:
    """Read a checkpoint (either file of the pair, or the stem); InputFileError names a missing or foreign file."""
    weights, meta, tensors, optimizer = read_checkpoint_files(path, FORMAT, "MQ-HMR")
    return LoadedCheckpoint(path=weights, meta=meta,
                            config=MQHMRConfig.from_dict(meta["config"], str(weights.with_suffix(".json"))),
                            tensors=tensors, optimizer=optimizer)


def load_mqhmr(path: str | Path, device: str | torch.device = "cpu", smpl_model_dir=None):
    """``(net, body, config, meta)`` of a checkpoint, the network in eval mode on ``device``."""
    from .model import MQHMR, make_body

    ckpt = read_checkpoint(path)
    body = make_body(ckpt.config, smpl_model_dir).to(device)
    net = MQHMR(ckpt.config, body)
    try:
        net.load_state_dict(ckpt.tensors)
    except RuntimeError as exc:
        raise InputFileError(ckpt.path, f"weights do not fit the configuration in its JSON: {exc}") from None
    return net.to(device).eval(), body, ckpt.config, ckpt.meta
