"""``python -m biopose_opensim.train``: train a network.

Example::

    python -m biopose_opensim.train neurik --data data/neurik_synth --config cpu --out runs/neurik_cpu
    torchrun --nproc_per_node 2 -m biopose_opensim.train neurik --data DIR --config paper --out DIR --device cuda
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
                                description="Train NeurIK (virtual markers -> OpenSim coordinates and bone scales) "
                                            "on OpenSim-labelled datasets, through the differentiable FK layer.")
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
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rank = int(os.environ.get("RANK", "0"))
    log_file = args.out / "train.log" if rank == 0 else None
    setup_logging(args.verbose)

    def run() -> int:
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


if __name__ == "__main__":
    raise SystemExit(main())
