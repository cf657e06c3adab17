"""``python -m biopose_opensim.synth``: build a synthetic OpenSim-labelled dataset.

Example::

    python -m biopose_opensim.synth --out data/synth --subjects 4 --seed 0 --activities walk,squat,run \
        --workers 2
    python -m biopose_opensim.synth --config synth.toml --subjects 8    # the file's settings, 8 subjects
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..activities import ACTIVITIES
from ..bodymodels.registry import SYNTH_BODY_MODELS
from ..cli import add_overwrite_argument, add_parallel_arguments, add_verbosity_arguments, run_cli, setup_logging
from .config import DEFAULT_ACTIVITIES, load_synth_config

log = logging.getLogger("biopose_opensim.synth")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m biopose_opensim.synth",
        description="Synthetic OpenSim-labelled dataset: virtual subjects x motions -> virtual markers -> "
                    "OpenSim Scale + IK -> shards, manifest.json and dataset_card.md.")
    p.add_argument("--config", type=Path, metavar="FILE.toml",
                   help="build settings (TOML; the config.toml of a dataset is one); the flags given override it")
    p.add_argument("--out", type=Path, help="dataset folder (required unless --config gives out)")
    p.add_argument("--subjects", type=int, help="number of virtual subjects (default 4)")
    p.add_argument("--seed", type=int, help="master seed (default 0)")
    p.add_argument("--activities",
                   help=f"comma-separated parametric activities (default {','.join(DEFAULT_ACTIVITIES)}; "
                        f"'' for none); valid: {', '.join(ACTIVITIES)}")
    p.add_argument("--motion", action="append", type=Path, metavar="FILE.mot",
                   help="real-kinematics template (.mot, model or gait2392 names); one trial per subject, "
                        "named after the file stem; repeatable")
    p.add_argument("--body-model", help=f"body model: {', '.join(SYNTH_BODY_MODELS)} (default anny)")
    p.add_argument("--smpl-model-dir", type=Path, help="folder with your SMPL model files (for --body-model smpl)")
    p.add_argument("--shapes", type=Path, help="JSON/YAML list of subject shapes instead of sampling them")
    p.add_argument("--model", type=Path, help="OpenSim model (default osim_models/RajagopalLaiUhlrich2023.osim)")
    p.add_argument("--marker-set", help="virtual-marker set name or YAML (default: the body model's D3KE set)")
    p.add_argument("--fps", type=float, help="frame rate of generated trials, Hz (default 60)")
    p.add_argument("--duration", type=float, help="seconds per trial (default: per activity, 2-5 s)")
    p.add_argument("--noise-mm", type=float,
                   help="Gaussian noise (sigma, mm) added to the motion trials' virtual markers (default 0)")
    p.add_argument("--accuracy", type=float, help="IK accuracy (default: label's, 1e-6)")
    add_parallel_arguments(p)
    p.add_argument("--plots", action="store_true", default=None,
                   help="joint-angle plots in each subject's report.md (slower)")
    add_overwrite_argument(p, "an existing dataset in --out")
    add_verbosity_arguments(p, progress=True)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.out is None and args.config is None:
        parser.error("the following arguments are required: --out")
    setup_logging(args.verbose)

    def run() -> int:
        from .pipeline import build_synthetic_dataset

        activities = None if args.activities is None else \
            tuple(a.strip() for a in args.activities.split(",") if a.strip())
        flags = dict(  # None: not given (the --config file's value or the default)
            out=args.out, subjects=args.subjects, seed=args.seed, activities=activities,
            motions=None if args.motion is None else tuple(args.motion), body_model=args.body_model,
            smpl_model_dir=args.smpl_model_dir, shapes=args.shapes, model=args.model, fps=args.fps,
            duration=args.duration, noise_mm=args.noise_mm, workers=args.workers, scheduler=args.scheduler,
            overwrite=args.overwrite or None, accuracy=args.accuracy, marker_set=args.marker_set, plots=args.plots)
        config = load_synth_config(args.config, flags)
        result = build_synthetic_dataset(config, progress=not args.no_progress, argv=argv)
        return result.log_outcome(log)

    return run_cli(run)


if __name__ == "__main__":
    raise SystemExit(main())
