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


def start_run(batch_size: int, out: Path, device: str, resume, overwrite: bool) -> tuple[int, int, torch.device]:
    """Common checks and set-up of a training run: ``(rank, world size, device)``.

    Raises:
        ConfigError: a batch that does not split over the processes; ``cuda`` without a CUDA device.
        OutputExistsError: ``out`` holds a run and neither ``resume`` nor ``overwrite`` was given.
    """
    from .errors import ConfigError, OutputExistsError

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if batch_size % world:
        raise ConfigError(f"train.batch_size ({batch_size}) must be a multiple of the number of processes ({world})")
    rank, world = init_distributed()
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("--device cuda: no CUDA device is available")
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(dev)
    if (Path(out) / "last.json").exists() and resume is None and not overwrite:
        raise OutputExistsError(f"{out} already holds a training run; use --resume {Path(out) / 'last.json'} or "
                                "--overwrite")
    return rank, world, dev


def read_checkpoint_files(path: str | Path, fmt: str, what: str):
    """``(weights path, meta, tensors, optimiser state or None)`` of a ``<stem>.safetensors`` + ``<stem>.json``
    checkpoint pair whose JSON says ``format = fmt``; InputFileError names the missing or foreign file."""
    import json

    from safetensors.torch import load_file

    stem = stem_of(path)
    weights, meta_path = stem.with_suffix(".safetensors"), stem.with_suffix(".json")
    for p in (weights, meta_path):
        if not p.is_file():
            raise InputFileError(p, f"{what} checkpoint file not found (a checkpoint is <name>.safetensors + "
                                    "<name>.json)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(meta_path, f"not valid JSON: {exc}") from None
    if meta.get("format") != fmt:
        raise InputFileError(meta_path, f"not a {what} checkpoint (format {meta.get('format')!r}, expected {fmt})")
    try:
        tensors = load_file(str(weights))
    except Exception as exc:  # noqa: BLE001  (safetensors raises its own error types)
        raise InputFileError(weights, f"cannot read the weights: {exc}") from None
    optim = stem.with_name(stem.name + ".optim.safetensors")
    return weights, meta, tensors, (load_file(str(optim)) if optim.is_file() else None)


def write_checkpoint_files(path: str | Path, tensors, meta, fmt: str, optimizer_state=None) -> Path:
    """Write ``<stem>.safetensors`` (``tensors``) + ``<stem>.json`` (``{"format": fmt, **meta}``) and, when given,
    ``<stem>.optim.safetensors``, each atomically; returns the weights' path."""
    import json

    from safetensors.torch import save_file

    from .atomic import atomic_path, atomic_write_text

    stem = stem_of(path)
    with atomic_path(stem.with_suffix(".safetensors")) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp))
    if optimizer_state is not None:
        with atomic_path(stem.with_name(stem.name + ".optim.safetensors")) as tmp:
            save_file({k: v.detach().cpu().contiguous() for k, v in optimizer_state.items()}, str(tmp))
    atomic_write_text(stem.with_suffix(".json"), json.dumps({"format": fmt, **meta}, indent=1))
    return stem.with_suffix(".safetensors")


def exponential_schedule(opt: torch.optim.Optimizer, lr: float, lr_final: float, total_steps: int):
    """ExponentialLR taking ``opt``'s learning rate from ``lr`` to ``lr_final`` over ``total_steps`` steps (the
    schedule :func:`load_optimizer_state` restores)."""
    return torch.optim.lr_scheduler.ExponentialLR(opt, (lr_final / lr) ** (1.0 / max(1, total_steps)))


def optimizer_step(terms, opt: torch.optim.Optimizer, sched, parameters, grad_clip: float,
                   sums: dict[str, float]) -> dict[str, float]:
    """One training step on a loss with parts: backward ``terms.total``, clip the gradient norm of ``parameters`` to
    ``grad_clip`` (when > 0), step the optimiser and the schedule; the parts (``terms.items()``) are added to
    ``sums`` and returned."""
    opt.zero_grad(set_to_none=True)
    terms.total.backward()
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(parameters, grad_clip)
    opt.step()
    sched.step()
    items = terms.items()
    for k, v in items.items():
        sums[k] = sums.get(k, 0.0) + v
    return items
