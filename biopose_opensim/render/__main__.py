"""``python -m biopose_opensim.render``: person-crop images of Anny rendered from a synthetic marker dataset.

Example::

    python -m biopose_opensim.render --data data/synth --out data/renders --frames-per-trial 8 --seed 0 \
        --workers 2
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..cli import add_overwrite_argument, add_parallel_arguments, add_verbosity_arguments, run_cli, setup_logging
from ..errors import ConfigError

log = logging.getLogger("biopose_opensim.render")


def _range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN,MAX (two numbers), got {text!r}") from None
    return lo, hi


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m biopose_opensim.render",
        description="Synthetic image dataset: the subjects and motions of a synthetic marker dataset, posed as "
                    "generated, rendered headless (pyrender, EGL) from random cameras with random clothing, "
                    "lights and procedural backgrounds -> person crops, shards, manifest.json and dataset_card.md.")
    p.add_argument("--data", required=True, type=Path, help="synthetic dataset (python -m biopose_opensim.synth)")
    p.add_argument("--out", required=True, type=Path, help="image dataset folder")
    p.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    p.add_argument("--frames-per-trial", type=int, default=8, help="evenly spaced frames per trial (default 8)")
    p.add_argument("--split", default="train,val,test",
                   help="comma-separated source splits to render (default train,val,test)")
    p.add_argument("--crop-size", type=int, default=256, help="stored crop side, px (default 256)")
    p.add_argument("--crop-enlarge", type=float, default=1.2,
                   help="crop side over the projected mesh's bounding box side (default 1.2)")
    p.add_argument("--shard-images", type=int, default=5000, help="images per shard at most (default 5000)")
    cam = p.add_argument_group("camera sampling (uniform ranges)")
    cam.add_argument("--distance", type=_range, default=(2.5, 7.0), metavar="MIN,MAX",
                     help="distance from the pelvis, m (default 2.5,7)")
    cam.add_argument("--elevation", type=_range, default=(-10.0, 35.0), metavar="MIN,MAX",
                     help="elevation above the pelvis' horizontal plane, deg (default -10,35)")
    cam.add_argument("--azimuth", type=_range, default=(0.0, 360.0), metavar="MIN,MAX",
                     help="azimuth from the subject's facing direction, deg (default 0,360)")
    cam.add_argument("--focal-mm", type=_range, default=(35.0, 85.0), metavar="MIN,MAX",
                     help="focal length, full-frame (36 mm) equivalent mm (default 35,85)")
    cam.add_argument("--offcentre", type=float, default=0.3,
                     help="largest offset of the pelvis from the frame centre, fraction of the half-frame "
                          "(default 0.3)")
    add_parallel_arguments(p)
    add_overwrite_argument(p, "an existing dataset in --out")
    add_verbosity_arguments(p, progress=True)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)

    def run() -> int:
        from .appearance import AppearanceRanges
        from .build import render_dataset
        from .camera import CameraRanges
        from .config import RenderConfig

        splits = tuple(s.strip() for s in args.split.split(",") if s.strip())
        if not splits:
            raise ConfigError("--split names no split; expected a subset of train,val,test")
        config = RenderConfig(
            data=args.data, out=args.out, seed=args.seed, frames_per_trial=args.frames_per_trial, splits=splits,
            crop_size=args.crop_size, crop_enlarge=args.crop_enlarge, shard_images=args.shard_images,
            camera=CameraRanges(distance_m=args.distance, elevation_deg=args.elevation, azimuth_deg=args.azimuth,
                                focal_mm=args.focal_mm, offcentre=args.offcentre),
            appearance=AppearanceRanges(), workers=args.workers, scheduler=args.scheduler, overwrite=args.overwrite)
        result = render_dataset(config, progress=not args.no_progress, argv=argv)
        log.info("wrote %s: %d images (%s)", result.root, result.n_images,
                 ", ".join(f"{k} {v}" for k, v in result.images_per_split.items()))
        return 0

    return run_cli(run)


if __name__ == "__main__":
    raise SystemExit(main())
