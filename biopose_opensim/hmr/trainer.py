"""Training MQ-HMR (one process, or several under ``torchrun`` with DDP: gloo on CPU, NCCL on CUDA; bfloat16
autocast on CUDA).

Conventions shared with NeurIK's trainer: the resolved ``config.toml`` and ``data.json`` beside the outputs,
``last.safetensors``/``.json`` every epoch (with ``last.optim.safetensors`` for ``--resume``), ``best.*`` when
the validation MPJPE improves, ``train_log.jsonl``, ``train.log`` and ``curves.png``; Adam with weight decay and
an exponential learning-rate decay from ``lr`` to ``lr_final``; batches drawn from generators seeded by
``(seed, epoch)``; under DDP each process takes its slice of every global batch.

Data: image datasets written by ``python -m biopose_opensim.render`` (``--data DIR``: train split, validation on
its val split) and standard HMR npz files with their image folders (``--npz FILE --images DIR``, training only).
"""
from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch
from tqdm.auto import tqdm

from .. import __version__
from ..atomic import atomic_write_text
from ..errors import ConfigError, InputFileError
from ..plots import pyplot, save_figure
from ..training import (add_file_log, exponential_schedule, load_optimizer_state, optimizer_state, optimizer_step,
                        start_run)
from .checkpoint import read_checkpoint, save_checkpoint
from .config import MQHMRConfig
from .data import Augmentation, HMRNpzDataset, RenderDataset
from .evaluate import evaluate_loader
from .losses import HMRTarget, hmr_loss
from .model import MQHMR, body_outputs, make_body

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    """Outcome of a training run: output folder, checkpoints, epochs run, best validation MPJPE (mm), seconds, the
    per-epoch history and the network's final parameters (``state``, CPU tensors, this process's copy)."""

    out: Path
    best: Path
    last: Path
    epochs: int
    best_val_mpjpe_mm: float
    seconds: float
    history: tuple[dict, ...] = field(default_factory=tuple)
    state: dict = field(default_factory=dict, repr=False)


def layout_of(config: MQHMRConfig) -> str:
    """Keypoint layout of the body model's joints (``smplh52`` for Anny, ``smpl24`` for SMPL)."""
    return "smplh52" if config.body_model == "anny" else "smpl24"


def open_training_data(config: MQHMRConfig, data: Sequence[str | Path], npz: Sequence[tuple[str | Path, str | Path]]
                       = (), seed: int = 0) -> tuple[torch.utils.data.Dataset, torch.utils.data.Dataset | None, dict]:
    """``(train, val, sources)``: the train splits of ``data`` plus the npz sets (augmented), the val splits of
    ``data`` (None when none has one) and a description of the sources for ``data.json``."""
    aug = Augmentation(**dataclasses.asdict(config.augment))
    layout = layout_of(config)
    train_parts, val_parts, sources = [], [], {}
    for d in data:
        train_parts.append(RenderDataset(d, "train", config.crop, layout, augment=aug, seed=seed))
        try:
            val_parts.append(RenderDataset(d, "val", config.crop, layout))
        except InputFileError:
            log.warning("%s has no val split; it is not used for validation", d)
        manifest = Path(d) / "manifest.json"
        sources[str(d)] = {"kind": "images", "manifest_sha256": _sha256(manifest),
                           "train_images": len(train_parts[-1]), "val_images": len(val_parts[-1]) if val_parts else 0}
    for f, images in npz:
        train_parts.append(HMRNpzDataset(f, images, config.crop, layout, augment=aug, seed=seed))
        sources[str(f)] = {"kind": "npz", "sha256": _sha256(Path(f)), "images": str(images),
                           "train_images": len(train_parts[-1])}
    if not train_parts:
        raise ConfigError("no training data: give --data DIR (image dataset) or --npz FILE --images DIR")
    train = torch.utils.data.ConcatDataset(train_parts)
    val = torch.utils.data.ConcatDataset(val_parts) if val_parts else None
    return train, val, sources


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def batch_target(batch: dict, config: MQHMRConfig, device) -> HMRTarget:
    """The loss targets of a loader batch for the configuration's body model."""
    if config.body_model == "anny":
        rot, shape = batch["anny_orientations"], batch["anny_phenotypes"]
        has = batch["has_anny_orientations"] * batch["has_anny_phenotypes"]
    else:
        rot = torch.cat([batch["global_orient"], batch["body_pose"]], dim=1)
        shape, has = batch["betas"], batch["has_body_pose"] * batch["has_betas"]
    return HMRTarget(keypoints_2d=batch["keypoints_2d"].to(device), keypoints_3d=batch["keypoints_3d"].to(device),
                     rotations=rot.to(device), shape=shape.to(device), has_params=has.to(device) > 0)


def _without_epochs(config: MQHMRConfig) -> dict:
    d = config.to_dict()
    d["train"].pop("epochs")
    return d


def _set_epoch(dataset, epoch: int) -> None:
    for part in getattr(dataset, "datasets", [dataset]):
        if hasattr(part, "set_epoch"):
            part.set_epoch(epoch)


@dataclass
class _Run:
    """The state of a training run between epochs (this process's share of it)."""

    config: MQHMRConfig
    model: MQHMR
    net: torch.nn.Module  # the model, wrapped in DDP when world > 1
    body: torch.nn.Module
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LRScheduler
    train: torch.utils.data.Dataset
    val_loader: torch.utils.data.DataLoader | None
    steps_per_epoch: int
    sources: dict
    rank: int
    world: int
    dev: torch.device
    workers: int
    history: list[dict] = field(default_factory=list)
    best: float = float("inf")
    start_epoch: int = 0


def _set_up(config: MQHMRConfig, train, val, sources: dict, ckpt, seed: int, rank: int, world: int,
            dev: torch.device, backbone_weights, smpl_model_dir, workers: int) -> _Run:
    """Body layer, model (from ``ckpt`` when resuming, else with the given backbone weights), optimiser, schedule
    and the validation loader."""
    body = make_body(config, smpl_model_dir).to(dev)
    model = MQHMR(config, body)
    if backbone_weights is not None and ckpt is None:
        from .backbone import load_backbone_weights

        load_backbone_weights(model.backbone, backbone_weights)
    if ckpt is not None:
        model.load_state_dict(ckpt.tensors)
    model.to(dev)
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    tc = config.train
    if len(train) < tc.batch_size:
        raise ConfigError(f"{len(train)} training images, fewer than one batch (train.batch_size = {tc.batch_size}); "
                          "give more data or a smaller batch in a TOML configuration")
    opt = torch.optim.Adam(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    steps_per_epoch = max(1, len(train) // tc.batch_size)
    sched = exponential_schedule(opt, tc.lr, tc.lr_final, steps_per_epoch * tc.epochs)
    run = _Run(config=config, model=model, net=net, body=body, opt=opt, sched=sched, train=train, val_loader=None,
               steps_per_epoch=steps_per_epoch, sources=sources, rank=rank, world=world, dev=dev, workers=workers)
    if ckpt is not None:
        load_optimizer_state(opt, sched, ckpt.optimizer, dev, ckpt.path)
        run.history = list(ckpt.meta["history"])
        run.best = float(ckpt.meta["best_val_mpjpe_mm"])
        run.start_epoch = int(ckpt.meta["epoch"])
        log.info("resuming %s at epoch %d (best validation MPJPE %.1f mm)", ckpt.path, run.start_epoch, run.best)
    if val is not None:
        idx = torch.arange(len(val))
        if 0 < tc.val_images < len(val):
            idx = torch.randperm(len(val), generator=torch.Generator().manual_seed(seed + 7919))[:tc.val_images]
        run.val_loader = torch.utils.data.DataLoader(torch.utils.data.Subset(val, idx.sort().values.tolist()),
                                                     batch_size=max(1, tc.batch_size // world), num_workers=workers)
    return run


def _start_files(run: _Run, out: Path, val, seed: int, fresh: bool, log_file, backbone_weights) -> None:
    """Rank 0: the run's configuration and data files, the log file, and a summary line."""
    out.mkdir(parents=True, exist_ok=True)
    if fresh:
        for old in ("train_log.jsonl", "train.log"):
            (out / old).unlink(missing_ok=True)
    if log_file is not None:
        add_file_log(log_file)
    atomic_write_text(out / "config.toml", run.config.to_toml())
    atomic_write_text(out / "data.json", json.dumps({"sources": run.sources, "train_images": len(run.train),
                                                     "val_images": len(val) if val is not None else 0,
                                                     "world_size": run.world, "seed": seed, "device": str(run.dev),
                                                     "backbone_weights": str(backbone_weights or "")}, indent=1))
    log.info("training MQ-HMR %s (%d parameters, body %s) on %d images (%d steps/epoch), %d val images, %s x %d "
             "process(es)", run.config.name, sum(p.numel() for p in run.model.parameters()), run.config.body_model,
             len(run.train), run.steps_per_epoch, len(val) if val is not None else 0, run.dev, run.world)


def _train_epoch(run: _Run, epoch: int, seed: int, progress: bool) -> dict[str, float]:
    """One epoch over this process's slices of the global batches; the mean loss terms (``train_<term>``)."""
    config, tc, dev = run.config, run.config.train, run.dev
    local = tc.batch_size // run.world
    _set_epoch(run.train, epoch)
    gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(len(run.train), generator=gen)[:run.steps_per_epoch * tc.batch_size]
    mine = order.reshape(run.steps_per_epoch, tc.batch_size)[:, run.rank * local:(run.rank + 1) * local].reshape(-1)
    loader = torch.utils.data.DataLoader(torch.utils.data.Subset(run.train, mine.tolist()), batch_size=local,
                                         num_workers=run.workers, drop_last=True)
    run.model.train()
    sums: dict[str, float] = {}
    bar = tqdm(loader, desc=f"epoch {epoch + 1}/{tc.epochs}", disable=not progress or run.rank != 0, leave=False)
    for batch in bar:
        target = batch_target(batch, config, dev)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda"):
            params = run.net(batch["image"].to(dev))
        params = type(params)(params.rotations.float(), params.shape.float(), params.pred_cam.float())
        terms = hmr_loss(body_outputs(params, run.body, config), target, config.loss)
        items = optimizer_step(terms, run.opt, run.sched, run.model.parameters(), tc.grad_clip, sums)
        if run.rank == 0 and progress:
            bar.set_postfix(loss=f"{items['total']:.4f}")
    return {f"train_{k}": v / run.steps_per_epoch for k, v in sums.items()}


def _end_epoch(run: _Run, record: dict, out: Path, seed: int) -> None:
    """Record the epoch; rank 0 logs it and writes ``last``, ``best`` (when the validation MPJPE, or without
    validation the training loss, improved), the JSON log and the curves."""
    run.history.append(record)
    score = record.get("val_mpjpe_mm", record["train_total"])
    improved = score < run.best
    run.best = min(run.best, score)
    if run.rank != 0:
        return
    tc = run.config.train
    log.info("epoch %d/%d: train loss %.4f%s%s (%.0f s)", record["epoch"], tc.epochs, record["train_total"],
             f", val MPJPE {record['val_mpjpe_mm']:.1f} mm, PA-MPJPE {record['val_pa_mpjpe_mm']:.1f} mm, "
             f"2D {record['val_err2d_px']:.1f} px" if "val_mpjpe_mm" in record else "",
             " (best)" if improved else "", record["seconds"])
    meta = {"config": run.config.to_dict(), "data": run.sources, "epoch": record["epoch"], "history": run.history,
            "best_val_mpjpe_mm": run.best, "seed": seed, "version": __version__, "torch": torch.__version__,
            "world_size": run.world, "device": str(run.dev)}
    save_checkpoint(out / "last", run.model, meta, optimizer_state=optimizer_state(run.opt, run.sched))
    if improved:
        save_checkpoint(out / "best", run.model, meta)
    with open(out / "train_log.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")
    write_curves(run.history, out / "curves.png")


def train_mqhmr(config: MQHMRConfig, data: Sequence[str | Path], out: str | Path,
                npz: Sequence[tuple[str | Path, str | Path]] = (), resume: str | Path | None = None,
                device: str = "cpu", seed: int = 0, progress: bool = True, overwrite: bool = False,
                log_file: str | Path | None = None, backbone_weights: str | Path | None = None,
                smpl_model_dir: str | Path | None = None, workers: int = 0,
                stop_after: int | None = None) -> TrainResult:
    """Train MQ-HMR on the train splits of ``data`` (and ``npz`` pairs), validating on the val splits.

    Raises:
        InputFileError: a dataset, npz, image or checkpoint that cannot be read (before training starts).
        OutputExistsError: ``out`` holds a training run and neither ``resume`` nor ``overwrite`` was given.
    """
    t_start = time.perf_counter()
    out = Path(out)
    rank, world, dev = start_run(config.train.batch_size, out, device, resume, overwrite)
    torch.manual_seed(seed)
    ckpt = read_checkpoint(resume) if resume is not None else None
    if ckpt is not None and _without_epochs(ckpt.config) != _without_epochs(config):
        raise ConfigError(f"{ckpt.path}: the checkpoint was trained with another configuration "
                          f"({ckpt.config.name}); resume with the same --config (only --epochs may change)")
    train, val, sources = open_training_data(config, data, npz, seed)
    if ckpt is not None and ckpt.meta.get("data") != sources:
        raise ConfigError(f"{ckpt.path}: the checkpoint was trained on other data; resume with the same --data")
    run = _set_up(config, train, val, sources, ckpt, seed, rank, world, dev, backbone_weights, smpl_model_dir,
                  workers)
    if rank == 0:
        _start_files(run, out, val, seed, fresh=overwrite and resume is None, log_file=log_file,
                     backbone_weights=backbone_weights)
    tc = config.train
    last_epoch = tc.epochs if stop_after is None else min(tc.epochs, run.start_epoch + stop_after)
    for epoch in range(run.start_epoch, last_epoch):
        t0 = time.perf_counter()
        record = {"epoch": epoch + 1, **_train_epoch(run, epoch, seed, progress), "lr": run.sched.get_last_lr()[0]}
        if run.val_loader is not None:
            m = evaluate_loader(run.model, run.body, config, run.val_loader, dev)
            record.update(val_mpjpe_mm=m.mpjpe_mm, val_pa_mpjpe_mm=m.pa_mpjpe_mm, val_err2d_px=m.err2d_px)
        record["seconds"] = time.perf_counter() - t0
        _end_epoch(run, record, out, seed)
    if world > 1:
        import torch.distributed as dist

        dist.barrier()
    return TrainResult(out=out, best=out / "best.safetensors", last=out / "last.safetensors",
                       epochs=len(run.history), best_val_mpjpe_mm=run.best, seconds=time.perf_counter() - t_start,
                       history=tuple(run.history),
                       state={k: v.detach().cpu().clone() for k, v in run.model.state_dict().items()})


def write_curves(history: Sequence[dict], path: Path) -> None:
    """Training loss and validation errors per epoch as a PNG."""
    plt = pyplot()
    ep = [h["epoch"] for h in history]
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    ax[0].semilogy(ep, [h["train_total"] for h in history], label="train loss")
    ax[0].set_xlabel("epoch")
    ax[0].legend()
    if history and "val_mpjpe_mm" in history[0]:
        for key, label in (("val_mpjpe_mm", "MPJPE (mm)"), ("val_pa_mpjpe_mm", "PA-MPJPE (mm)"),
                           ("val_err2d_px", "2D error (px)")):
            ax[1].plot(ep, [h[key] for h in history], marker="o", label=label)
        ax[1].legend()
    ax[1].set_xlabel("epoch")
    ax[1].set_ylabel("validation error")
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
