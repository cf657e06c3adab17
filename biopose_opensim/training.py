"""Pieces every training loop shares (NeurIK, MQ-HMR): the torchrun process group, the log file, and the
optimiser state saved beside a checkpoint for ``--resume``."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import torch

from .errors import InputFileError


def init_distributed() -> tuple[int, int]:
    """(rank, world size) of the DDP process group, initialising it from torchrun's environment if needed."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and os.environ.get("BIOPOSE_DDP_BACKEND") != "gloo" else "gloo"
        dist.init_process_group(backend=backend)
    return dist.get_rank(), dist.get_world_size()


def add_file_log(path: str | Path) -> None:
    """Send INFO logging to ``path`` as well (plain text with timestamps)."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._biopose = True  # type: ignore[attr-defined]
    logging.getLogger().addHandler(handler)


def optimizer_state(opt: torch.optim.Optimizer, sched) -> dict[str, torch.Tensor]:
    """Optimiser state, scheduler step and RNG state as flat tensors (for safetensors)."""
    flat = {"scheduler.last_epoch": torch.tensor(sched.last_epoch), "rng": torch.get_rng_state()}
    for i, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            flat[f"state.{i}.{k}"] = v if torch.is_tensor(v) else torch.tensor(v)
    return flat


def load_optimizer_state(opt: torch.optim.Optimizer, sched, flat, device, path: str | Path = "checkpoint") -> None:
    """Restore what :func:`optimizer_state` saved (an ExponentialLR scheduler); ``path`` names the checkpoint."""
    if flat is None:
        raise InputFileError(path, "has no optimiser state (<stem>.optim.safetensors); resume from a training run's "
                                   "last.json")
    sd = opt.state_dict()
    state: dict[int, dict] = {}
    for key, v in flat.items():
        if key.startswith("state."):
            _, i, k = key.split(".", 2)
            state.setdefault(int(i), {})[k] = v.to(device) if k != "step" else v
    sd["state"] = state
    opt.load_state_dict(sd)
    sched.last_epoch = int(flat["scheduler.last_epoch"])
    for g, base in zip(opt.param_groups, sched.base_lrs):
        g["lr"] = base * sched.gamma ** sched.last_epoch
    sched._last_lr = [g["lr"] for g in opt.param_groups]
    torch.set_rng_state(flat["rng"])


def stem_of(path: str | Path) -> Path:
    """The stem of a checkpoint pair given either file (``x.safetensors``, ``x.json``, ``x.optim.*``) or the stem."""
    p = Path(path)
    for suffix in (".safetensors", ".json"):
        if p.name.endswith(".optim" + suffix):
            return p.with_name(p.name[: -len(".optim" + suffix)])
        if p.suffix == suffix:
            return p.with_suffix("")
    return p
