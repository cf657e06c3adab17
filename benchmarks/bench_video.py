"""Benchmark of the video -> OpenSim chain: seconds per frame of each stage on the shipped sample clip.

Stages: 2D keypoint detection (MediaPipe in its own environment, when ``.venvs/mediapipe`` exists), each front
end (``fit``; ``mqhmr`` network; ``mqhmr`` refinement at the checkpoint's T), mesh and virtual markers, NeurIK with
OpenSim's validation (scaling, marker errors), and the overlay video. Each front end runs ``predict --video`` once
on the clip with its exact COCO keypoints (the detector is timed separately, on the same clip), so the numbers
are the pipeline's own ``video.json`` timings divided by the number of frames. Prints a table and writes
``benchmarks/results/bench_video_<device>.json``.

Usage::

    python benchmarks/bench_video.py [--frontends fit,mqhmr] [--device cpu] [--threads 2] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from biopose_opensim.atomic import atomic_write_text  # noqa: E402
from biopose_opensim.video.frames import open_frames  # noqa: E402
from biopose_opensim.video.pipeline import predict_video  # noqa: E402

SAMPLE = HERE.parent / "biopose_opensim" / "data" / "video_sample"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frontends", default="fit,mqhmr")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--note", default="")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    clip, keypoints = SAMPLE / "clip.mp4", SAMPLE / "keypoints_coco.json"
    frames = open_frames(clip)
    rows: dict[str, float] = {}
    detector = None
    try:
        from biopose_opensim.video.detector import detect_mediapipe, require_mediapipe_env

        require_mediapipe_env()
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            track = detect_mediapipe(frames, Path(tmp), progress=False)
            rows["detector (mediapipe)"] = (time.perf_counter() - t0) / frames.n_frames
            detector = {"detected_frames": int(track.detected.sum())}
    except Exception as exc:  # noqa: BLE001 - the benchmark reports what it could not time
        detector = {"skipped": str(exc)}
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fe in args.frontends.split(","):
            res = predict_video(clip, Path(tmp) / fe, keypoints=keypoints, frontend=fe, device=args.device,
                                progress=False)
            per = {k: v / frames.n_frames for k, v in res.seconds.items()}
            runs[fe] = per
            for k, v in per.items():
                if k.startswith("frontend_"):
                    rows[f"front end {fe}: {k[len('frontend_'):]}"] = v
            for k in ("mesh_and_markers", "neurik_and_opensim", "overlay", "total"):
                rows[f"{k} ({fe} run)"] = per[k]
    width = max(len(k) for k in rows)
    print(f"{'stage'.ljust(width)}  s / frame   ({frames.n_frames} frames, {frames.size[0]}x{frames.size[1]}, "
          f"{args.device}, {args.threads} threads)")
    for k, v in rows.items():
        print(f"{k.ljust(width)}  {v:9.4f}")
    out = args.out or HERE / "results" / f"bench_video_{args.device}.json"
    meta = {"clip": str(clip.relative_to(HERE.parent)), "frames": frames.n_frames, "size": list(frames.size),
            "device": args.device, "threads": args.threads, "torch": torch.__version__,
            "machine": platform.machine(), "processor": platform.processor(), "note": args.note,
            "detector": detector}
    atomic_write_text(out, json.dumps({"meta": meta, "seconds_per_frame": rows, "runs": runs}, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
