"""``python -m biopose_opensim.evaluate``: a NeurIK checkpoint against a dataset's OpenSim IK labels.

Example::

    python -m biopose_opensim.evaluate --data data/neurik_synth --split test --out results/eval
    python -m biopose_opensim.evaluate --data data/neurik_synth --split test --noise-mm 10 --out results/eval_noise
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .cli import add_overwrite_argument, add_verbosity_arguments, run_cli, setup_logging

log = logging.getLogger("biopose_opensim.evaluate")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m biopose_opensim.evaluate",
                                description="Evaluate a NeurIK checkpoint against OpenSim IK labels: mae_angle_deg, "
                                            "per-coordinate MAE/RMSE, mpblpe_mm, mae_body_mm, pelvis translation error.")
    p.add_argument("--data", required=True, action="append", type=Path, metavar="DIR", help="dataset folder; repeatable")
    p.add_argument("--split", default="test", choices=("test", "val", "train", "all"), help="split (default test)")
    p.add_argument("--checkpoint", type=Path, help="checkpoint (.safetensors or .json; default: the shipped one)")
    p.add_argument("--noise-mm", type=float, default=0.0, help="Gaussian marker noise sigma, mm (default 0)")
    p.add_argument("--drop-fraction", type=float, default=0.0,
                   help="fraction of markers removed for each whole trial (default 0)")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise and the dropped markers")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--out", required=True, type=Path, help="output folder (metrics.json, metrics.md, plot)")
    add_overwrite_argument(p, "an evaluation already in --out")
    add_verbosity_arguments(p, progress=True)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)

    def run() -> int:
        from .errors import ConfigError
        from .neurik import default_checkpoint
        from .neurik.evaluate import evaluate_checkpoint, metrics_table

        if args.noise_mm < 0 or not 0 <= args.drop_fraction < 1:
            raise ConfigError("--noise-mm must be >= 0 and --drop-fraction in [0, 1)")
        ckpt = args.checkpoint or default_checkpoint()
        res = evaluate_checkpoint(ckpt, args.data, args.split, args.out, noise_mm=args.noise_mm,
                                  drop_fraction=args.drop_fraction, seed=args.seed, device=args.device,
                                  progress=not args.no_progress, overwrite=args.overwrite)
        log.info("%s\n%s", args.out / "metrics.md", metrics_table({"overall": res.overall}))
        return 0

    return run_cli(run)


if __name__ == "__main__":
    raise SystemExit(main())
