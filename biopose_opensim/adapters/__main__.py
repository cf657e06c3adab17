"""``python -m biopose_opensim.adapters``: recorded data -> labelled dataset (shards, manifest, card).

Examples::

    python -m biopose_opensim.adapters amass --out data/movi --smplh-dir ~/models BMLmovi/Subject_1_F_MoSh
    python -m biopose_opensim.adapters bedlam --out data/bedlam --smplx-dir ~/models --marker-set my_smplx.yaml \
        bedlam_gt/seq_000001
    python -m biopose_opensim.adapters opencap --out data/opencap OpenCapData_0a1b...
    python -m biopose_opensim.adapters amass --config movi.toml --workers 4   # the file's settings, 4 workers
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..cli import add_overwrite_argument, add_parallel_arguments, add_verbosity_arguments, run_cli, setup_logging

log = logging.getLogger("biopose_opensim.adapters")


def build_parser(config: bool = False) -> argparse.ArgumentParser:
    """The command's parser; with ``config`` (``--config`` given) what the file may hold is no longer required."""
    need = not config
    p = argparse.ArgumentParser(prog="python -m biopose_opensim.adapters",
                                description="Label recorded data (AMASS/BML-MoVi, BEDLAM, OpenCap) with OpenSim "
                                            "into the synthetic dataset format.")
    sub = p.add_subparsers(dest="source", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, metavar="FILE.toml",
                        help="build settings (TOML; the config.toml of a dataset is one); the flags given override it")
    common.add_argument("--out", required=need, type=Path, help="dataset folder")
    common.add_argument("--seed", type=int, help="seed of the subject-wise split (default 0)")
    common.add_argument("--model", type=Path, help="OpenSim model (default: RajagopalLaiUhlrich2023)")
    common.add_argument("--accuracy", type=float, help="IK accuracy (default: label's, 1e-6)")
    add_parallel_arguments(common)
    add_overwrite_argument(common, "an existing dataset in --out")
    add_verbosity_arguments(common, progress=True)
    for name, flag, what in (("amass", "--smplh-dir", "SMPL-H"), ("bedlam", "--smplx-dir", "SMPL-X")):
        s = sub.add_parser(name, parents=[common], help=f"{what} sequences (.npz files or folders)")
        s.add_argument("inputs", nargs="+" if need else "*", type=Path, help=".npz sequences or folders of them")
        s.add_argument(flag, dest="model_dir", required=need, type=Path,
                       help=f"folder with your licensed {what} model files")
        s.add_argument("--fps", type=float, help="subsample to at most this rate (default 60 Hz)")
        if name == "amass":
            s.add_argument("--marker-set", help="virtual-marker set: a name under marker_sets/ or a YAML path "
                                                "(default: smpl_d3ke, the D3KE set on the SMPL-H topology)")
        else:  # no virtual-marker set on the SMPL-X topology ships
            s.add_argument("--marker-set", required=need,
                           help="virtual-marker set on the SMPL-X topology (YAML path or a name under marker_sets/); "
                                "required: no SMPL-X set ships")
    s = sub.add_parser("opencap", parents=[common], help="OpenCap session folders")
    s.add_argument("inputs", nargs="+" if need else "*", type=Path, help="session folders (holding MarkerData/)")
    s.add_argument("--static", help="name of the static trial (default: neutral)")
    return p


def main(argv: list[str] | None = None) -> int:
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", type=Path)
    args = build_parser(config=pre.parse_known_args(argv)[0].config is not None).parse_args(argv)
    setup_logging(args.verbose)

    def run() -> int:
        from .config import build_adapter_dataset, load_adapters_config

        flags = dict(  # None: not given (the --config file's value or the default)
            source=args.source, out=args.out, inputs=tuple(args.inputs) or None,
            model_dir=getattr(args, "model_dir", None), fps=getattr(args, "fps", None),
            marker_set=getattr(args, "marker_set", None), static=getattr(args, "static", None), seed=args.seed,
            model=args.model, accuracy=args.accuracy, workers=args.workers, scheduler=args.scheduler,
            overwrite=args.overwrite or None)
        config = load_adapters_config(args.config, flags)
        result = build_adapter_dataset(config, progress=not args.no_progress, argv=argv)
        return result.log_outcome(log)

    return run_cli(run)


if __name__ == "__main__":
    raise SystemExit(main())
