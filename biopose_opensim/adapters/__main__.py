"""``python -m biopose_opensim.adapters``: recorded data -> labelled dataset (shards, manifest, card).

Examples::

    python -m biopose_opensim.adapters amass --out data/movi --smplh-dir ~/models BMLmovi/Subject_1_F_MoSh
    python -m biopose_opensim.adapters bedlam --out data/bedlam --smplx-dir ~/models --marker-set my_smplx.yaml \
        bedlam_gt/seq_000001
    python -m biopose_opensim.adapters opencap --out data/opencap OpenCapData_0a1b...
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..cli import add_overwrite_argument, add_parallel_arguments, add_verbosity_arguments, run_cli, setup_logging

log = logging.getLogger("biopose_opensim.adapters")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m biopose_opensim.adapters",
                                description="Label recorded data (AMASS/BML-MoVi, BEDLAM, OpenCap) with OpenSim "
                                            "into the synthetic dataset format.")
    sub = p.add_subparsers(dest="source", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", required=True, type=Path, help="dataset folder")
    common.add_argument("--seed", type=int, default=0, help="seed of the subject-wise split (default 0)")
    common.add_argument("--model", type=Path, help="OpenSim model (default: RajagopalLaiUhlrich2023)")
    common.add_argument("--accuracy", type=float, help="IK accuracy (default: label's, 1e-6)")
    add_parallel_arguments(common)
    add_overwrite_argument(common, "an existing dataset in --out")
    add_verbosity_arguments(common, progress=True)
    for name, flag, what in (("amass", "--smplh-dir", "SMPL-H"), ("bedlam", "--smplx-dir", "SMPL-X")):
        s = sub.add_parser(name, parents=[common], help=f"{what} sequences (.npz files or folders)")
        s.add_argument("inputs", nargs="+", type=Path, help=".npz sequences or folders of them")
        s.add_argument(flag, dest="model_dir", required=True, type=Path,
                       help=f"folder with your licensed {what} model files")
        s.add_argument("--fps", type=float, default=60.0, help="subsample to at most this rate (default 60 Hz)")
        if name == "amass":
            s.add_argument("--marker-set", help="virtual-marker set: a name under marker_sets/ or a YAML path "
                                                "(default: smpl_d3ke, the D3KE set on the SMPL-H topology)")
        else:  # no virtual-marker set on the SMPL-X topology ships
            s.add_argument("--marker-set", required=True,
                           help="virtual-marker set on the SMPL-X topology (YAML path or a name under marker_sets/); "
                                "required: no SMPL-X set ships")
    s = sub.add_parser("opencap", parents=[common], help="OpenCap session folders")
    s.add_argument("inputs", nargs="+", type=Path, help="session folders (holding MarkerData/)")
    s.add_argument("--static", help="name of the static trial (default: neutral)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)

    def run() -> int:
        from .build import build_opencap_dataset, build_smpl_dataset

        common = dict(seed=args.seed, model=args.model, workers=args.workers, scheduler=args.scheduler,
                      overwrite=args.overwrite, accuracy=args.accuracy, progress=not args.no_progress, argv=argv)
        if args.source == "opencap":
            result = build_opencap_dataset(args.inputs, args.out, static=args.static, **common)
        else:
            result = build_smpl_dataset(args.source, args.inputs, args.out, args.model_dir, fps=args.fps,
                                        marker_set=args.marker_set, **common)
        return result.log_outcome(log)

    return run_cli(run)


if __name__ == "__main__":
    raise SystemExit(main())
