"""``python -m biopose_opensim.label``: OpenSim Scale + IK ground truth for one subject or a dataset.

Examples::

    python -m biopose_opensim.label --sample --out results/sample
    python -m biopose_opensim.label --model M.osim --static S.trc --trials T1.trc T2.trc --out DIR --mass 72
    python -m biopose_opensim.label --model subject01_scaled.osim --trials T1.trc --out DIR   # IK only
    python -m biopose_opensim.label --dataset ROOT --out DIR --workers 4

See ``docs/label.md``. This module only parses arguments into a
:class:`~biopose_opensim.labeling.config.LabelRun`; the work is done by
:func:`biopose_opensim.labeling.run.run_label`.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from .atomic import check_output_dir
from .cli import add_overwrite_argument, add_parallel_arguments, add_verbosity_arguments, run_cli, setup_logging
from .errors import ConfigError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m biopose_opensim.label",
        description="OpenSim ScaleTool + InverseKinematicsTool ground truth (scaled .osim, IK .mot, marker "
        "errors, scale factors, report, training labels) for one subject or a dataset.",
    )
    src = p.add_argument_group("input (one subject)")
    src.add_argument("--model", type=Path, help="generic OpenSim model (.osim) to scale; default: the shipped "
                     "RajagopalLaiUhlrich2023.osim. Without --static: the subject's scaled model, used as given "
                     "(IK only)")
    src.add_argument("--static", type=Path, help="static trial (.trc or .c3d) for scaling and marker placement; "
                     "omit it for IK only on --model as given")
    src.add_argument("--trials", type=Path, nargs="+", help="motion trials (.trc or .c3d) for IK")
    src.add_argument("--subject", help="subject name used in output names (default: the static file's stem, or "
                     "the sample's name)")
    src.add_argument("--mass", type=float, help="subject mass in kg, in (0, 500)")
    src.add_argument("--height", type=float, help="subject height in m, in (0, 3)")
    src.add_argument("--sample", action="store_true", help="label the shipped sample subject (Rajagopal walk)")
    setup = p.add_argument_group("OpenSim setup")
    setup.add_argument("--markers", type=Path, help="MarkerSet XML replacing the model's markers")
    setup.add_argument("--scale-setup", type=Path, help="a lab's ScaleTool setup XML used as template")
    setup.add_argument("--ik-setup", type=Path, help="a lab's InverseKinematicsTool setup XML used as template")
    setup.add_argument("--accuracy", type=float, help="IK accuracy (default: IK setup's, else 1e-6)")
    setup.add_argument("--static-pose", metavar="zero|FILE.mot",
                       help="prescribe the static pose during marker placement")
    setup.add_argument("--static-window", type=float, nargs=2, metavar=("START", "END"),
                       help="static window in s (default: Scale setup's time range, else found automatically)")
    setup.add_argument("--time-range", type=float, nargs=2, metavar=("START", "END"),
                       help="IK time range in s for every trial (default: IK setup's range, else whole trial)")
    setup.add_argument("--max-gap", type=float, help="interpolate marker gaps up to this many s (default 0.1)")
    setup.add_argument("--config", type=Path, help="label configuration TOML (flags override it)")
    ds = p.add_argument_group("dataset")
    ds.add_argument("--dataset", type=Path, metavar="ROOT", help="label every subject under ROOT")
    add_parallel_arguments(ds)
    ds.add_argument("--layout", choices=("auto", "folders", "movi"), default="auto", help="dataset layout")
    out = p.add_argument_group("output")
    out.add_argument("--out", type=Path, required=True, help="output folder")
    add_overwrite_argument(out, "results already in --out")
    add_verbosity_arguments(out)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_cli(lambda: _label(args))


def _label(args: argparse.Namespace) -> int:
    """Check the flags together, build the :class:`~biopose_opensim.labeling.config.LabelRun`, run it.

    Precedence of settings: flags > ``--config`` TOML > the sample's ``subject.toml`` (with ``--sample``) >
    :class:`~biopose_opensim.labeling.config.LabelConfig` defaults.
    """
    setup_logging(args.verbose)  # console first, so that argument errors are reported too
    one_subject = args.static is not None or bool(args.trials)
    if sum((bool(args.sample), args.dataset is not None, one_subject)) != 1:
        raise ConfigError("give exactly one of --sample, --dataset ROOT, or [--static S.trc] --trials T.trc ...")
    from .labeling.config import LabelConfig, LabelRun, check_subject_value
    from .labeling.outputs import LOG_NAME

    mass = check_subject_value("mass", args.mass, "command line", "--mass")  # one rule for every mode
    height = check_subject_value("height", args.height, "command line", "--height")
    check_output_dir(args.out)
    setup_logging(args.verbose, log_file=args.out / LOG_NAME)  # the file appears once the run writes into out

    settings = LabelConfig.from_toml(args.config) if args.config is not None else LabelConfig()
    overrides = dict(
        model=args.model, markers=args.markers, scale_setup=args.scale_setup, ik_setup=args.ik_setup,
        accuracy=args.accuracy, static_pose=args.static_pose,
        static_window=tuple(args.static_window) if args.static_window else None,
        time_range=tuple(args.time_range) if args.time_range else None, max_gap=args.max_gap)
    if args.dataset is not None:
        if args.subject or mass is not None or height is not None:
            raise ConfigError("--subject, --mass and --height are per subject; in dataset mode give them in each "
                              "subject's subject.toml")
    else:
        if args.workers is not None or args.scheduler is not None:
            raise ConfigError("--workers and --scheduler apply to --dataset only")
        if one_subject and not args.trials:
            raise ConfigError("one subject needs --trials T1.trc [T2.trc ...], with --static S.trc to scale "
                              "--model first, or without --static for IK only on --model as given")
        if one_subject and args.static is None and args.model is None and settings.model is None:
            raise ConfigError("IK only (no --static) runs on the model as given: give the subject's scaled model "
                              "with --model, or a static trial with --static to scale the generic model")
    from .labeling.run import run_label

    return run_label(LabelRun(
        out=args.out, settings=settings, overrides=overrides, sample=args.sample, dataset=args.dataset,
        layout=args.layout, static=args.static, trials=tuple(args.trials or ()), subject=args.subject, mass=mass,
        height=height, workers=args.workers, scheduler=args.scheduler, overwrite=args.overwrite))


if __name__ == "__main__":
    raise SystemExit(main())
