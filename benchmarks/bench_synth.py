"""Synthetic dataset build time: ``python -m biopose_opensim.synth`` with 4 subjects x 3 activities, 2 workers.

Runs the real command (Anny meshes, OpenSim ScaleTool + IK at the label default accuracy 1e-6, masks,
shards, card) into a fresh temporary folder, then prints a table of the phases and writes
``benchmarks/results/bench_synth.json`` with the wall-clock times, frame counts, the card's median IK
marker RMS, and the machine. The target is a build within 15 minutes on 2 CPU workers with a median IK
marker RMS of at most 15 mm.

Usage::

    python benchmarks/bench_synth.py [--subjects 4] [--activities walk,squat,run] [--workers 2] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from biopose_opensim.atomic import atomic_write_text  # noqa: E402
from biopose_opensim.cli import setup_logging  # noqa: E402
from biopose_opensim.synth.config import SynthConfig  # noqa: E402
from biopose_opensim.synth.pipeline import build_synthetic_dataset  # noqa: E402

TARGET_SECONDS = 15 * 60
TARGET_RMS_MM = 15.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=4)
    ap.add_argument("--activities", default="walk,squat,run")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fps", type=float, default=60.0)
    ap.add_argument("--keep", type=Path, help="build here and keep the dataset (default: a temporary folder)")
    ap.add_argument("--out-json", type=Path, default=ROOT / "benchmarks" / "results" / "bench_synth.json")
    args = ap.parse_args(argv)
    setup_logging(0)
    tmp = None
    if args.keep is None:
        tmp = Path(tempfile.mkdtemp(prefix="bench_synth_"))
        out = tmp / "dataset"
    else:
        out = args.keep
    config = SynthConfig(out=out, subjects=args.subjects, seed=args.seed,
                         activities=tuple(a for a in args.activities.split(",") if a), fps=args.fps,
                         workers=args.workers, overwrite=True)
    t0 = time.perf_counter()
    try:
        result = build_synthetic_dataset(config, progress=False, argv=["(bench_synth)"])
    finally:
        wall = time.perf_counter() - t0
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    rms = result.summary.get("ik_rms_median_mm")
    rows = [(k, v) for k, v in result.phases.items()] + [("total", wall)]
    print(f"\nsynth build: {args.subjects} subjects x {args.activities} ({result.n_trials} trials, "
          f"{result.n_frames} frames at {args.fps:g} Hz), {args.workers} workers")
    print(f"{'phase':<10} {'seconds':>9}")
    for k, v in rows:
        print(f"{k:<10} {v:>9.1f}")
    print(f"median IK marker RMS {rms:.2f} mm (target <= {TARGET_RMS_MM:g} mm); "
          f"p95 {result.summary.get('ik_rms_p95_mm'):.2f} mm; labels vs generating motion "
          f"{result.summary.get('label_vs_source_mae_deg'):.2f} deg mean abs")
    print(f"wall {wall:.0f} s (target <= {TARGET_SECONDS} s): {'PASS' if wall <= TARGET_SECONDS else 'FAIL'}")
    record = {
        "benchmark": "bench_synth",
        "subjects": args.subjects, "activities": args.activities.split(","), "workers": args.workers,
        "fps": args.fps, "trials": result.n_trials, "frames": result.n_frames,
        "wall_seconds": round(wall, 1), "phases_seconds": {k: round(v, 1) for k, v in result.phases.items()},
        "ik_rms_median_mm": rms, "ik_rms_p95_mm": result.summary.get("ik_rms_p95_mm"),
        "masked_fraction": result.summary.get("masked_fraction"),
        "label_vs_source_mae_deg": result.summary.get("label_vs_source_mae_deg"),
        "failures": [list(f) for f in result.failures],
        "target_seconds": TARGET_SECONDS, "target_rms_mm": TARGET_RMS_MM,
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus_visible": len(os.sched_getaffinity(0)), "load_avg_at_end": os.getloadavg()},
    }
    args.out_json.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out_json, json.dumps(record, indent=1))
    print(f"wrote {args.out_json}")
    return 0 if (wall <= TARGET_SECONDS and rms is not None and rms <= TARGET_RMS_MM and not result.failures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
