"""``python -m biopose_opensim.predict``: NeurIK on marker trials, written as OpenSim files and checked by OpenSim.

Example::

    python -m biopose_opensim.predict --trc data/s000/walk.trc --static data/s000/s000_static.trc --out results/pred
    python -m biopose_opensim.predict --trc data/s000 --out results/pred      # every .trc of the folder
    python -m biopose_opensim.predict --video clip.mp4 --detector mediapipe --frontend fit --height 1.72 --out results/v
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
                                            "(or of a video) with NeurIK; write <trial>_neurik.mot, the scaled .osim "
                                            "and OpenSim's marker errors of every trial, predict.json and report.md.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--trc", nargs="+", type=Path, metavar="TRC", help="TRC trials of one subject, or folders of them")
    src.add_argument("--video", type=Path, metavar="CLIP", help="a monocular video (mp4, avi, mov) of one person")
    src.add_argument("--images", type=Path, metavar="DIR", help="a folder of frames (png/jpg, in name order)")
    v = p.add_argument_group("video (--video / --images; docs/video.md)")
    v.add_argument("--keypoints", type=Path, metavar="PATH",
                   help="2D keypoints: OpenPose JSON folder (BODY_25 / COCO-18), COCO keypoint JSON, or a saved "
                        "track (.npz)")
    v.add_argument("--detector", choices=("mediapipe",),
                   help="detect 2D keypoints offline (MediaPipe Pose in .venvs/mediapipe)")
    v.add_argument("--frontend", default="fit", choices=("fit", "mqhmr"),
                   help="fit: Anny fitted to the keypoints over the clip (default); mqhmr: the MQ-HMR network "
                        "(+ refinement when keypoints are given)")
    v.add_argument("--height", type=float, metavar="M", help="the subject's height in metres (world scale; fit)")
    v.add_argument("--focal-px", type=float, help="camera focal length in pixels (default: the frame's larger side)")
    v.add_argument("--fps", type=float, help="frame rate of an image folder (default 30), or to check a video's")
    v.add_argument("--mqhmr-checkpoint", type=Path, help="MQ-HMR checkpoint (default: the shipped one)")
    v.add_argument("--refine-iterations", type=int, help="refinement iterations T (default: the checkpoint's)")
    v.add_argument("--cutoff-hz", type=float, default=6.0,
                   help="low-pass cut-off of the virtual markers, Hz (default 6; 0: no filtering)")
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
        if args.video is not None or args.images is not None:
            from .video.pipeline import predict_video

            res = predict_video(args.video or args.images, args.out, keypoints=args.keypoints,
                                detector=args.detector, frontend=args.frontend, height_m=args.height,
                                focal_px=args.focal_px, fps=args.fps, mqhmr_checkpoint=args.mqhmr_checkpoint,
                                refine_iterations=args.refine_iterations, checkpoint=args.checkpoint,
                                device=args.device, cutoff_hz=args.cutoff_hz, progress=not args.no_progress,
                                overwrite=args.overwrite)
            log.info("report: %s", res.report)
            return 0
        from .prediction import predict_trials

        res = predict_trials(args.trc, args.out, static=args.static, checkpoint=args.checkpoint,
                             device=args.device, subject=args.subject, progress=not args.no_progress,
                             overwrite=args.overwrite)
        log.info("report: %s", res.report)
        return 0

    return run_cli(run)


if __name__ == "__main__":
    raise SystemExit(main())
