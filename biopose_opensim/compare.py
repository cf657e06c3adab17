"""``python -m biopose_opensim.compare``: NeurIK against OpenSim IK on one trial, with a report.

Examples::

    python -m biopose_opensim.compare --sample --out results/compare
    python -m biopose_opensim.compare --trc s01/walk.trc --static s01/s01_static.trc --out results/cmp
    python -m biopose_opensim.compare --trc s01/walk.trc --static s01/s01_static.trc --label-dir results/s01 \\
        --out results/cmp                       # reuse an earlier label output of the trial

See ``docs/neurik.md`` (Compare). The work is done by :func:`biopose_opensim.comparison.compare_trial`.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Sequence

from .cli import add_overwrite_argument, add_verbosity_arguments, run_cli, setup_logging

log = logging.getLogger("biopose_opensim.compare")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m biopose_opensim.compare",
                                description="Run OpenSim Scale + IK (label, accuracy 1e-6) and NeurIK on the same "
                                            "trial; write comparison.json (angle MAE, MPBLPE, body scale error, "
                                            "both methods' OpenSim marker RMS, solve times, speed-up) and "
                                            "report.md with plots.")
    p.add_argument("--trc", type=Path, metavar="TRC", help="the motion trial (the checkpoint's marker set)")
    p.add_argument("--static", type=Path, metavar="TRC", help="the subject's static trial")
    p.add_argument("--sample", action="store_true",
                   help="the shipped virtual-marker sample (a test-split synthetic subject's walk)")
    p.add_argument("--label-dir", type=Path, metavar="DIR",
                   help="an earlier label output of this trial to reuse instead of running label")
    p.add_argument("--checkpoint", type=Path, help="NeurIK checkpoint (default: the shipped one)")
    p.add_argument("--mass", type=float, help="subject mass in kg, passed to label")
    p.add_argument("--height", type=float, help="subject height in m, passed to label")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    add_overwrite_argument(p, "a comparison already in --out")
    add_verbosity_arguments(p, progress=True)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose, args.out / "compare.log")

    def run() -> int:
        from .comparison import compare_trial, sample_inputs
        from .errors import ConfigError

        trc, static, mass, height = args.trc, args.static, args.mass, args.height
        if args.sample:
            if trc is not None or static is not None:
                raise ConfigError("give either --sample or --trc/--static, not both")
            trc, static, mass0, height0 = sample_inputs()
            mass = mass if mass is not None else mass0
            height = height if height is not None else height0
        elif trc is None or static is None:
            raise ConfigError("give --trc TRIAL.trc and --static STATIC.trc, or --sample")
        res = compare_trial(trc, static, args.out, label_dir=args.label_dir, checkpoint=args.checkpoint,
                            overwrite=args.overwrite, mass=mass, height=height, progress=not args.no_progress)
        log.info("report: %s", res.report)
        return 0

    return run_cli(run)


if __name__ == "__main__":
    raise SystemExit(main())
