"""Training NeurIK (one process, or several under ``torchrun`` with DDP: gloo on CPU, NCCL on CUDA).

``train_neurik`` checks the data against the configuration before anything trains, then runs epochs of
augmented windows through the network, decodes coordinates and scales, and minimises the FK-layer losses
(:mod:`.losses`). Every epoch it evaluates ``mae_angle_deg`` on validation windows and writes
``last.safetensors``/``.json`` (with the optimiser state, for ``--resume``), ``best.*`` when validation
improves, ``train_log.jsonl``, ``train.log`` (through logging) and ``curves.png``.

Determinism: batches and augmentation are drawn from generators seeded by ``(seed, epoch)``; under DDP every
process draws the *global* batch and trains on its slice, so a run over P processes sees the same windows and
augmentation as a one-process run (up to floating-point reduction order).
"""
from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import __version__
from ..atomic import atomic_write_text
from ..plots import pyplot, save_figure
from ..training import (add_file_log, exponential_schedule, load_optimizer_state, optimizer_state, optimizer_step,
                        start_run)
from .augment import Window, augment
from .checkpoint import CheckpointMismatchError, check_identity, read_checkpoint, save_checkpoint
from .config import NeurIKConfig
from .data import SplitData, load_split, manifest_hash
from .frames import frame_inputs
from .losses import neurik_loss
from .model import load_network_state
from .system import NeurIKSystem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    """Outcome of a training run: output folder, checkpoints, per-epoch history, best validation error, and the
    network's final parameters (``state``, CPU tensors, this process's copy)."""

    out: Path
    best: Path
    last: Path
    epochs: int
    best_val_mae_deg: float
    seconds: float
    history: tuple[dict, ...] = field(default_factory=tuple)
    state: dict = field(default_factory=dict, repr=False)


def scale_bounds(train: SplitData, scaling: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (NB, 3) and amplitude (NB, 3) of the training scales, widened by the augmentation's subject scaling
    and a margin: ``amplitude = 1.25 * max|s - mean| + scaling * max(s) + 0.02``."""
    s = train.s.double()
    mean = s.mean(0)
    amp = 1.25 * (s - mean).abs().amax(0) + scaling * s.amax(0) + 0.02
    return mean.float(), amp.float()


def fit_input_norm(system: NeurIKSystem, train: SplitData, chunk: int = 8192) -> None:
    """Set the network's input standardisation (:class:`~.model.MarkerNorm`) from every training frame, in chunks."""
    idx = [t.cpu() for t in (system.root_idx, system.front_idx, system.back_idx)]
    system.net.marker_norm.fit(frame_inputs(train.markers[i:i + chunk], train.present[i:i + chunk], *idx)[0]
                               for i in range(0, train.n_frames, chunk))


def _window(system: NeurIKSystem, data: SplitData, frames: torch.Tensor, device) -> Window:
    m = system.config.model
    offset = m.output_offset if m.output_offset is not None else m.window - 1
    return data.window(frames, m.window, offset, device=device)


def _outputs(system: NeurIKSystem, w: Window, train: bool):
    inputs = system.inputs(w)
    raw = system.net(inputs.x, inputs.rel)
    pos = system.output_positions()
    q, s = system.decode(raw, inputs, clamp_root=not train)
    return q, s, w.q[:, pos], w.s[:, pos], w.q_mask[:, pos], w.present[:, pos]


@torch.no_grad()
def validate(system: NeurIKSystem, data: SplitData, frames: torch.Tensor, device, batch: int = 256) -> dict:
    """``mae_angle_deg`` (independent unlocked rotational coordinates, trusted labels) and the mean loss terms
    over the windows whose output frame is ``frames``."""
    system.net.eval()
    fk = system.fk
    keep = (fk.rotational & ~fk.locked).to(device)
    err_sum, count, losses = 0.0, 0.0, []
    for i in range(0, len(frames), batch):
        w = _window(system, data, frames[i:i + batch], device)
        q, s, q_t, s_t, q_m, pres = _outputs(system, w, train=False)
        d = q - q_t
        d = torch.atan2(torch.sin(d), torch.cos(d)).abs()
        m = q_m & keep
        err_sum += float((d * m).sum())
        count += float(m.sum())
        losses.append(neurik_loss(system.config.loss, fk, q, s, q_t, s_t, q_m, pres, system.marker_index).items())
    out = {k: float(np.mean([x[k] for x in losses])) for k in losses[0]}
    out["mae_angle_deg"] = math.degrees(err_sum / max(count, 1.0))
    return out


@dataclass
class _Run:
    """The state of a training run between epochs (this process's share of it)."""

    config: NeurIKConfig
    system: NeurIKSystem
    net: torch.nn.Module  # the network, wrapped in DDP when world > 1
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LRScheduler
    train: SplitData
    val: SplitData
    val_frames: torch.Tensor
    anchors: torch.Tensor
    windows_per_epoch: int
    steps_per_epoch: int
    hashes: dict
    identity: dict
    rank: int
    world: int
    dev: torch.device
    history: list[dict] = field(default_factory=list)
    best: float = float("inf")
    start_epoch: int = 0


def _read_data(config: NeurIKConfig, data, fk, splits, ckpt):
    """The FK layer, the train and validation splits and the datasets' manifest hashes, checked against ``ckpt``."""
    if fk is None:
        from ..kinematics import OsimFK

        fk = OsimFK.from_osim(config.model_path(), marker_set=config.marker_set_path())
    probe = NeurIKSystem.build(config, torch.ones(fk.n_bodies, 3), torch.ones(fk.n_bodies, 3), fk=fk)
    names = (probe.marker_names, fk.coordinate_names, fk.body_names)
    if splits is None:
        train = load_split(data, "train", *names)
        val = load_split(data, "val", *names)
        hashes = {str(Path(d)): manifest_hash(d) for d in data}
    else:
        train, val, hashes = splits
    if ckpt is not None and ckpt.meta.get("data") != hashes:
        raise CheckpointMismatchError(f"{ckpt.path}: the checkpoint was trained on other data "
                                      f"({ckpt.meta.get('data')}); resume with the same --data")
    return fk, train, val, hashes


def _set_up(config: NeurIKConfig, fk, train: SplitData, val: SplitData, hashes: dict, ckpt, seed: int, rank: int,
            world: int, dev: torch.device) -> _Run:
    """Network (from ``ckpt`` when resuming), optimiser, schedule and the validation windows."""
    mean, amp = scale_bounds(train, config.augment.scaling)
    system = NeurIKSystem.build(config, mean, amp, fk=fk, device=dev)
    identity = system.identity()
    if ckpt is not None:
        check_identity(ckpt, identity)
        load_network_state(system.net, ckpt.state("net"))
        system.out_map.load_state_dict(ckpt.state("out"))
    else:
        fit_input_norm(system, train)
    net = system.net
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(net, device_ids=[dev.index] if dev.type == "cuda" else None)
    tc = config.train
    opt = torch.optim.Adam(system.net.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    anchors = train.anchors(tc.window_stride)
    per_epoch = len(anchors) if tc.windows_per_epoch <= 0 else min(len(anchors), tc.windows_per_epoch)
    steps_per_epoch = max(1, per_epoch // tc.batch_size)
    sched = exponential_schedule(opt, tc.lr, tc.lr_final, steps_per_epoch * tc.epochs)
    val_gen = torch.Generator().manual_seed(seed + 7919)
    val_frames = val.anchors(1)
    if 0 < tc.val_windows < len(val_frames):
        val_frames = val_frames[torch.randperm(len(val_frames), generator=val_gen)[:tc.val_windows]].sort().values
    run = _Run(config=config, system=system, net=net, opt=opt, sched=sched, train=train, val=val,
               val_frames=val_frames, anchors=anchors, windows_per_epoch=per_epoch, steps_per_epoch=steps_per_epoch,
               hashes=hashes,
               identity=identity, rank=rank, world=world, dev=dev)
    if ckpt is not None:
        load_optimizer_state(opt, sched, ckpt.optimizer, dev, ckpt.path)
        run.history = list(ckpt.meta["history"])
        run.best = float(ckpt.meta["best_val_mae_deg"])
        run.start_epoch = int(ckpt.meta["epoch"])
        log.info("resuming %s at epoch %d (best validation MAE %.3f deg)", ckpt.path, run.start_epoch, run.best)
    return run


def _start_files(run: _Run, out: Path, seed: int, fresh: bool, log_file) -> None:
    """Rank 0: the run's configuration and data files, the log file, and a summary line."""
    out.mkdir(parents=True, exist_ok=True)
    if fresh:
        for old in ("train_log.jsonl", "train.log"):
            (out / old).unlink(missing_ok=True)
    if log_file is not None:
        add_file_log(log_file)
    atomic_write_text(out / "config.toml", run.config.to_toml())
    atomic_write_text(out / "data.json", json.dumps({"datasets": run.hashes, "train_frames": run.train.n_frames,
                                                     "val_frames": run.val.n_frames, "world_size": run.world,
                                                     "seed": seed, "device": str(run.dev)}, indent=1))
    log.info("training %s (%d parameters) on %d train frames (%d windows/epoch, %d steps/epoch), %d val frames,"
             " %s x %d process(es)", run.config.name, sum(p.numel() for p in run.system.net.parameters()),
             run.train.n_frames, run.windows_per_epoch, run.steps_per_epoch, run.val.n_frames, run.dev, run.world)


def _train_epoch(run: _Run, epoch: int, seed: int, progress: bool) -> dict[str, float]:
    """One epoch of augmented windows; the mean loss terms (``train_<term>``)."""
    config, system, tc = run.config, run.system, run.config.train
    local = tc.batch_size // run.world
    amp_ctx = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if run.dev.type == "cuda" else None
    gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = run.anchors[torch.randperm(len(run.anchors), generator=gen)[:run.steps_per_epoch * tc.batch_size]]
    system.net.train()
    sums: dict[str, float] = {}
    bar = tqdm(range(run.steps_per_epoch), desc=f"epoch {epoch + 1}/{tc.epochs}",
               disable=not progress or run.rank != 0, leave=False)
    for step in bar:
        frames = order[step * tc.batch_size:(step + 1) * tc.batch_size]
        w = augment(_window(system, run.train, frames, run.dev), config.augment, system.out_map.root,
                    system.root_idx, generator=gen)
        w = Window(*(t[run.rank * local:(run.rank + 1) * local] for t in (w.markers, w.present, w.q, w.q_mask, w.s)))
        inputs = system.inputs(w)
        if amp_ctx is not None:
            with amp_ctx():
                raw = run.net(inputs.x, inputs.rel)
            raw = type(raw)(*(t.float() for t in (raw.coords, raw.root_rot6d, raw.root_trans, raw.scales)))
        else:
            raw = run.net(inputs.x, inputs.rel)
        pos = system.output_positions()
        q, s = system.decode(raw, inputs, clamp_root=False)
        terms = neurik_loss(config.loss, system.fk, q, s, w.q[:, pos], w.s[:, pos], w.q_mask[:, pos],
                            w.present[:, pos], system.marker_index)
        items = optimizer_step(terms, run.opt, run.sched, system.net.parameters(), tc.grad_clip, sums)
        if run.rank == 0 and progress:
            bar.set_postfix(loss=f"{items['total']:.4f}")
    return {f"train_{k}": v / run.steps_per_epoch for k, v in sums.items()}


def _end_epoch(run: _Run, record: dict, out: Path, seed: int) -> None:
    """Record the epoch; rank 0 logs it and writes ``last``, ``best`` (when validation improved), the JSON log and
    the curves."""
    run.history.append(record)
    improved = record["val_mae_angle_deg"] < run.best
    run.best = min(run.best, record["val_mae_angle_deg"])
    if run.rank != 0:
        return
    system, tc = run.system, run.config.train
    log.info("epoch %d/%d: train loss %.4f, val MAE %.3f deg%s (%.0f s)", record["epoch"], tc.epochs,
             record["train_total"], record["val_mae_angle_deg"], " (best)" if improved else "", record["seconds"])
    meta = {"config": run.config.to_dict(), "identity": run.identity, "data": run.hashes, "epoch": record["epoch"],
            "history": run.history, "best_val_mae_deg": run.best, "seed": seed, "version": __version__,
            "torch": torch.__version__, "world_size": run.world, "device": str(run.dev)}
    save_checkpoint(out / "last", system.net, system.out_map, meta, optimizer_state=optimizer_state(run.opt, run.sched))
    if improved:
        save_checkpoint(out / "best", system.net, system.out_map,
                        {**meta, "val_mae_angle_deg": record["val_mae_angle_deg"]})
    with open(out / "train_log.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")
    write_curves(run.history, out / "curves.png")


def train_neurik(config: NeurIKConfig, data: Sequence[str | Path], out: str | Path, resume: str | Path | None = None,
                 device: str = "cpu", seed: int = 0, progress: bool = True, overwrite: bool = False,
                 log_file: str | Path | None = None, fk=None,
                 splits: tuple[SplitData, SplitData, dict] | None = None,
                 stop_after: int | None = None) -> TrainResult:
    """Train NeurIK on the ``train`` split of ``data`` (one or more dataset folders), validating on ``val``.

    Raises:
        InputFileError / DatasetMismatchError: a folder that is no dataset, markers / coordinates / bodies the
            network needs are missing, an empty split — all before training starts.
        OutputExistsError: ``out`` holds a training run and neither ``resume`` nor ``overwrite`` was given.

    ``log_file`` (rank 0) receives the plain-text log once the checks have passed; ``fk`` is an already built
    FK layer of the configuration's model and marker set (default: built from the files); ``splits`` are the
    train and validation splits already in memory with the datasets' manifest hashes (default: read from
    ``data``); ``stop_after`` stops after that many epochs of this call (the run stays resumable).
    """
    t_start = time.perf_counter()
    out = Path(out)
    rank, world, dev = start_run(config.train.batch_size, out, device, resume, overwrite)
    torch.manual_seed(seed)
    ckpt = read_checkpoint(resume) if resume is not None else None
    if ckpt is not None and ckpt.config.to_dict() != config.to_dict():
        raise CheckpointMismatchError(f"{ckpt.path}: the checkpoint was trained with another configuration "
                                      f"({ckpt.config.name}); resume with the same --config")
    fk, train, val, hashes = _read_data(config, data, fk, splits, ckpt)
    run = _set_up(config, fk, train, val, hashes, ckpt, seed, rank, world, dev)
    if rank == 0:
        _start_files(run, out, seed, fresh=overwrite and resume is None, log_file=log_file)
    tc = config.train
    last_epoch = tc.epochs if stop_after is None else min(tc.epochs, run.start_epoch + stop_after)
    for epoch in range(run.start_epoch, last_epoch):
        t0 = time.perf_counter()
        train_terms = _train_epoch(run, epoch, seed, progress)
        val_metrics = {f"val_{k}": v for k, v in validate(run.system, val, run.val_frames, dev).items()}
        _end_epoch(run, {"epoch": epoch + 1, **train_terms, **val_metrics, "lr": run.sched.get_last_lr()[0],
                         "seconds": time.perf_counter() - t0}, out, seed)
    seconds = time.perf_counter() - t_start
    if world > 1:
        import torch.distributed as dist

        dist.barrier()
    return TrainResult(out=out, best=out / "best.safetensors", last=out / "last.safetensors",
                       epochs=len(run.history), best_val_mae_deg=run.best, seconds=seconds,
                       history=tuple(run.history),
                       state={k: v.detach().cpu().clone() for k, v in run.system.net.state_dict().items()})


def write_curves(history: Sequence[dict], path: Path) -> None:
    """Loss and validation-error curves per epoch as a PNG."""
    plt = pyplot()
    ep = [h["epoch"] for h in history]
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    ax[0].semilogy(ep, [h["train_total"] for h in history], label="train")
    ax[0].semilogy(ep, [h["val_total"] for h in history], label="validation")
    ax[0].set_xlabel("epoch")
    ax[0].set_ylabel("loss")
    ax[0].legend()
    ax[1].plot(ep, [h["val_mae_angle_deg"] for h in history], marker="o")
    ax[1].set_xlabel("epoch")
    ax[1].set_ylabel("validation MAE angle (deg)")
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
