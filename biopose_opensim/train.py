"""``python -m biopose_opensim.train``: train a network.

Example::

    python -m biopose_opensim.train neurik --data data/neurik_synth --config cpu --out runs/neurik_cpu
    torchrun --nproc_per_node 2 -m biopose_opensim.train neurik --data DIR --config paper --out DIR --device cuda
    python -m biopose_opensim.train mqhmr --data data/hmr_renders --config small --out runs/mqhmr_small
"""
from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from .cli import add_overwrite_argument, add_verbosity_arguments, run_cli, setup_logging

log = logging.getLogger("biopose_opensim.train")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m biopose_opensim.train",
                                description="Train NeurIK (virtual markers -> OpenSim coordinates and bone scales, through the "
                                            "differentiable FK layer) or MQ-HMR (image -> body model).")
    sub = p.add_subparsers(dest="network", required=True)
    n = sub.add_parser("neurik", help="learned inverse kinematics (docs/neurik.md)")
    n.add_argument("--data", required=True, action="append", type=Path, metavar="DIR",
                   help="dataset folder (manifest.json + shards/); repeatable")
    n.add_argument("--config", default="cpu", help="paper, cpu, mlp, tiny, or a .toml file (default cpu)")
    n.add_argument("--out", required=True, type=Path, help="output folder (checkpoints, logs, curves)")
    n.add_argument("--resume", type=Path, metavar="CKPT", help="continue from a run's last.json / last.safetensors")
    n.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="cpu (default) or cuda")
    n.add_argument("--seed", type=int, default=0, help="seed of initialisation, batches and augmentation (default 0)")
    n.add_argument("--epochs", type=int, help="override the configuration's number of epochs")
    add_overwrite_argument(n, "a training run already in --out")
    add_verbosity_arguments(n, progress=True)

    h = sub.add_parser("mqhmr", help="image -> body mesh with deformable multi-query decoding (docs/mqhmr.md)")
    h.add_argument("--data", action="append", type=Path, default=[], metavar="DIR",
                   help="image dataset folder written by python -m biopose_opensim.render; repeatable")
    h.add_argument("--npz", action="append", type=Path, default=[], metavar="FILE",
                   help="standard HMR training npz (SPIN, ProHMR / HMR 2.0, BEDLAM); pair each with --images")
    h.add_argument("--images", action="append", type=Path, default=[], metavar="DIR",
                   help="image folder of the --npz given at the same position")
    h.add_argument("--config", default="small", help="paper, small, tiny, or a .toml file (default small)")
    h.add_argument("--out", required=True, type=Path, help="output folder (checkpoints, logs, curves)")
    h.add_argument("--resume", type=Path, metavar="CKPT", help="continue from a run's last.json / last.safetensors")
    h.add_argument("--backbone-weights", type=Path, metavar="FILE",
                   help="ViT weights to start from (.safetensors or torch checkpoint; e.g. ViTPose / HMR 2.0)")
    h.add_argument("--smpl-model-dir", type=Path, help="SMPL model files (body_model = smpl configurations)")
    h.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="cpu (default) or cuda")
    h.add_argument("--seed", type=int, default=0, help="seed of initialisation, batches and augmentation")
    h.add_argument("--epochs", type=int, help="override the configuration's number of epochs")
    h.add_argument("--workers", type=int, default=0, help="data-loading worker processes (default 0)")
    add_overwrite_argument(h, "a training run already in --out")
    add_verbosity_arguments(h, progress=True)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rank = int(os.environ.get("RANK", "0"))
    log_file = args.out / "train.log" if rank == 0 else None
    setup_logging(args.verbose)

    def run() -> int:
        if args.network == "mqhmr":
            return _train_mqhmr(args, rank, log_file)
        import dataclasses

        from .neurik.config import load_config
        from .neurik.trainer import train_neurik

        config = load_config(args.config)
        if args.epochs is not None:
            config = config.replace(train=dataclasses.replace(config.train, epochs=args.epochs))
        result = train_neurik(config, args.data, args.out, resume=args.resume, device=args.device, seed=args.seed,
                              progress=not args.no_progress, overwrite=args.overwrite,
                              log_file=log_file)
        if rank == 0:
            log.info("trained %d epochs in %.0f s; best validation MAE %.3f deg: %s", result.epochs, result.seconds,
                     result.best_val_mae_deg, result.best)
        return 0

    return run_cli(run)


def _train_mqhmr(args, rank: int, log_file) -> int:
    import dataclasses

    from .errors import ConfigError
    from .hmr.config import load_config
    from .hmr.trainer import train_mqhmr

    if len(args.npz) != len(args.images):
        raise ConfigError(f"give one --images DIR per --npz FILE ({len(args.npz)} --npz, {len(args.images)} --images)")
    config = load_config(args.config)
    if args.epochs is not None:
        config = config.replace(train=dataclasses.replace(config.train, epochs=args.epochs))
    result = train_mqhmr(config, args.data, args.out, npz=list(zip(args.npz, args.images)), resume=args.resume,
                         device=args.device, seed=args.seed, progress=not args.no_progress, overwrite=args.overwrite,
                         log_file=log_file, backbone_weights=args.backbone_weights,
                         smpl_model_dir=args.smpl_model_dir, workers=args.workers)
    if rank == 0:
        log.info("trained %d epochs in %.0f s; best validation MPJPE %.1f mm: %s", result.epochs, result.seconds,
                 result.best_val_mpjpe_mm, result.best)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
