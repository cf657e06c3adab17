"""``python -m biopose_opensim.predict``: NeurIK on marker trials, written as OpenSim files and checked by OpenSim.

Example::

    python -m biopose_opensim.predict --trc data/s000/walk.trc --static data/s000/s000_static.trc --out results/pred
    python -m biopose_opensim.predict --trc data/s000 --out results/pred      # every .trc of the folder
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .cli import add_overwrite_argument, add_verbosity_arguments, run_cli, setup_logging

log = logging.getLogger("biopose_opensim.predict")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m biopose_opensim.predict",
                                description="Predict OpenSim coordinates and bone scales of one subject's TRC trials "
                                            "with NeurIK; write <trial>_neurik.mot, the scaled .osim and OpenSim's "
                                            "marker errors of every trial, predict.json and report.md.")
    p.add_argument("--trc", required=True, nargs="+", type=Path, metavar="TRC",
                   help="TRC trials of one subject, or folders of them")
    p.add_argument("--static", type=Path, metavar="TRC",
                   help="the subject's static trial: its frames give the scale factors (default: all trials' frames)")
    p.add_argument("--checkpoint", type=Path, help="checkpoint (.safetensors or .json; default: the shipped one)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--subject", help="subject name in output file names (default: from --static, else the folder)")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    add_overwrite_argument(p, "a prediction already in --out")
    add_verbosity_arguments(p, progress=True)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose, args.out / "predict.log")

    def run() -> int:
        from .prediction import predict_trials

        res = predict_trials(args.trc, args.out, static=args.static, checkpoint=args.checkpoint,
                             device=args.device, subject=args.subject, progress=not args.no_progress,
                             overwrite=args.overwrite)
        log.info("report: %s", res.report)
        return 0

    return run_cli(run)


if __name__ == "__main__":
    raise SystemExit(main())
