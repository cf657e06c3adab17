"""MQ-HMR checkpoints: weights as safetensors (``<stem>.safetensors``, network parameters only — the body model's
data are never stored) beside ``<stem>.json`` (format tag, configuration, body model, training data hashes,
epoch, history and metrics); a training checkpoint also has ``<stem>.optim.safetensors`` for ``--resume``."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch
from safetensors.torch import load_file, save_file

from ..atomic import atomic_path, atomic_write_text
from ..errors import InputFileError
from ..training import stem_of
from .config import MQHMRConfig

FORMAT = "biopose_opensim.mqhmr/1"


def save_checkpoint(path: str | Path, net: torch.nn.Module, meta: Mapping[str, Any],
                    optimizer_state: Mapping[str, torch.Tensor] | None = None) -> Path:
    """Write ``<stem>.safetensors`` + ``<stem>.json`` (and the optimiser state) atomically."""
    stem = stem_of(path)
    with atomic_path(stem.with_suffix(".safetensors")) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}, str(tmp))
    if optimizer_state is not None:
        with atomic_path(stem.with_name(stem.name + ".optim.safetensors")) as tmp:
            save_file({k: v.detach().cpu().contiguous() for k, v in optimizer_state.items()}, str(tmp))
    atomic_write_text(stem.with_suffix(".json"), json.dumps({"format": FORMAT, **meta}, indent=1))
    return stem.with_suffix(".safetensors")


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
    stem = stem_of(path)
    weights, meta_path = stem.with_suffix(".safetensors"), stem.with_suffix(".json")
    for p in (weights, meta_path):
        if not p.is_file():
            raise InputFileError(p, "MQ-HMR checkpoint file not found (a checkpoint is <name>.safetensors + "
                                    "<name>.json)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(meta_path, f"not valid JSON: {exc}") from None
    if meta.get("format") != FORMAT:
        raise InputFileError(meta_path, f"not an MQ-HMR checkpoint (format {meta.get('format')!r}, "
                                        f"expected {FORMAT})")
    try:
        tensors = load_file(str(weights))
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
        raise InputFileError(weights, f"cannot read the weights: {exc}") from None
    optim = stem.with_name(stem.name + ".optim.safetensors")
    return LoadedCheckpoint(path=weights, meta=meta, config=MQHMRConfig.from_dict(meta["config"], str(meta_path)),
                            tensors=tensors, optimizer=load_file(str(optim)) if optim.is_file() else None)


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
