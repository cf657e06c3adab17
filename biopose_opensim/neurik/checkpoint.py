"""NeurIK checkpoints: weights as safetensors (no pickled code) and metadata as JSON, side by side.

``<stem>.safetensors`` holds the network's parameters and the output bounds (``net.*``, ``out.*``);
``<stem>.json`` holds the format tag, the configuration, the names (markers in input order, coordinates and
bodies in output order), the OpenSim model and marker set it belongs to (file name and content hash), the scale
bounds, the training data's manifest hashes, the epoch and the evaluation metrics. A training checkpoint also
has ``<stem>.optim.safetensors`` (optimiser state) for ``--resume``.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch

from ..errors import BioposeError
from ..training import read_checkpoint_files, write_checkpoint_files
from .config import NeurIKConfig

log = logging.getLogger(__name__)

FORMAT = "biopose_opensim.neurik/1"


class CheckpointMismatchError(BioposeError):
    """A checkpoint belongs to another OpenSim model or marker set than the one asked for."""


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def names_sha256(names) -> str:
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def identity(config: NeurIKConfig, marker_names, coordinate_names, body_names) -> dict[str, Any]:
    """What a network belongs to: model and marker set (names and hashes) and the name lists."""
    model = config.model_path()
    ms = config.marker_set_path()
    return {
        "osim_model": {"file": model.name, "sha256": file_sha256(model)},
        "marker_set": {"file": ms.name if ms else None, "sha256": file_sha256(ms) if ms else None,
                       "names_sha256": names_sha256(marker_names)},
        "marker_names": list(marker_names), "coordinate_names": list(coordinate_names),
        "body_names": list(body_names),
    }


def save_checkpoint(path: str | Path, net: torch.nn.Module, out_map: torch.nn.Module, meta: Mapping[str, Any],
                    optimizer_state: Mapping[str, torch.Tensor] | None = None) -> Path:
    """Write ``<stem>.safetensors`` + ``<stem>.json`` (and ``<stem>.optim.safetensors``) atomically."""
    tensors = {f"net.{k}": v for k, v in net.state_dict().items()}
    tensors.update({f"out.{k}": v for k, v in out_map.state_dict().items()})
    return write_checkpoint_files(path, tensors, meta, FORMAT, optimizer_state)


@dataclass(frozen=True)
class LoadedCheckpoint:
    """A checkpoint read back: ``meta`` (the JSON), ``config``, ``tensors`` (``net.*`` and ``out.*``) and the
    optimiser state when present."""

    path: Path
    meta: Mapping[str, Any]
    config: NeurIKConfig
    tensors: Mapping[str, torch.Tensor]
    optimizer: Mapping[str, torch.Tensor] | None

    def state(self, prefix: str) -> dict[str, torch.Tensor]:
        n = len(prefix) + 1
        return {k[n:]: v for k, v in self.tensors.items() if k.startswith(prefix + ".")}


def read_checkpoint(path: str | Path) -> LoadedCheckpoint:
    """Read a checkpoint (either file of the pair, or the stem).

    Raises:
        InputFileError: a file is missing or is not a NeurIK checkpoint.
    """
    weights, meta, tensors, optimizer = read_checkpoint_files(path, FORMAT, "NeurIK")
    config = NeurIKConfig.from_dict(meta["config"], source=str(weights.with_suffix(".json")))
    return LoadedCheckpoint(path=weights, meta=meta, config=config, tensors=tensors, optimizer=optimizer)


def check_identity(ckpt: LoadedCheckpoint, expected: Mapping[str, Any], what: str = "this run") -> None:
    """Refuse a checkpoint whose model or marker set differs from ``expected`` (an :func:`identity`)."""
    have = ckpt.meta["identity"]
    problems = []
    if have["osim_model"]["sha256"] != expected["osim_model"]["sha256"]:
        problems.append(f"OpenSim model {have['osim_model']['file']} (sha256 {have['osim_model']['sha256'][:12]}) "
                        f"differs from {expected['osim_model']['file']} "
                        f"(sha256 {expected['osim_model']['sha256'][:12]})")
    if have["marker_set"]["names_sha256"] != expected["marker_set"]["names_sha256"]:
        a, b = set(have["marker_names"]), set(expected["marker_names"])
        problems.append(f"marker set {have['marker_set']['file']} ({len(a)} markers) differs from "
                        f"{expected['marker_set']['file']} ({len(b)} markers; "
                        f"{len(a - b)} not in it, {len(b - a)} extra)")
    if problems:
        raise CheckpointMismatchError(f"{ckpt.path}: checkpoint does not belong to {what}: " + "; ".join(problems))
