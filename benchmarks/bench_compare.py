"""Benchmark: NeurIK against OpenSim IK, side by side, on the same trial and the same scaled model in one run.

The trial is the shipped virtual-marker sample's walk (``biopose_opensim/data/neurik_sample``, 75 frames of a
test-split synthetic subject). ``label`` scales the NeurIK checkpoint's model on the sample's static trial (the
settings of ``compare``); OpenSim's InverseKinematicsTool then solves the trial with the label's IK setup on that
scaled model at accuracy 1e-6 (the labels') and 1e-5 (OpenSim's default), timed around ``tool.run()`` (model
loading excluded), median of ``--repeats`` runs. NeurIK: ``NeurIKSystem.predict_trial`` on the same trial's
markers (whole trial: windows, features, decoding), calls per second over about ``--seconds`` after two warm-up
calls, on the CPU and on CUDA when present. Prints a table and writes ``benchmarks/results/bench_compare.json``.

Usage::

    python benchmarks/bench_compare.py [--repeats 3] [--seconds 2]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from biopose_opensim.atomic import atomic_write_text  # noqa: E402
from biopose_opensim.comparison import run_label, sample_inputs, time_ik  # noqa: E402
from biopose_opensim.neurik import NeurIKSystem, default_checkpoint  # noqa: E402
from biopose_opensim.prediction import read_trial  # noqa: E402


def neurik_frames_per_s(system: NeurIKSystem, markers: torch.Tensor, present: torch.Tensor,
                        seconds: float) -> tuple[float, float]:
    """(frames/s over repeated calls after 2 warm-up calls, seconds of the very first call)."""
    dev = system.device
    m, p = markers.to(dev), present.to(dev)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    sync()
    t0 = time.perf_counter()
    system.predict_trial(m, p)
    sync()
    first = time.perf_counter() - t0
    system.predict_trial(m, p)
    sync()
    n, t0 = 0, time.perf_counter()
    while True:
        system.predict_trial(m, p)
        n += 1
        sync()
        el = time.perf_counter() - t0
        if el >= seconds:
            return n * markers.shape[0] / el, first


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="OpenSim IK runs per accuracy (median reported)")
    p.add_argument("--seconds", type=float, default=2.0, help="NeurIK timing span per device")
    p.add_argument("--out", type=Path, default=HERE / "results" / "bench_compare.json")
    args = p.parse_args()
    trial, static, mass, height = sample_inputs()
    system, _ = NeurIKSystem.from_checkpoint(default_checkpoint(), device="cpu")
    data = read_trial(trial, system.marker_names)
    markers = torch.as_tensor(data.markers, dtype=torch.float32)
    present = torch.as_tensor(data.present)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_compare_") as tmp:
        sol = run_label(static, trial, Path(tmp) / "label", system.config.model_path(),
                        system.config.marker_set_path(), "s000", mass=mass, height=height, progress=False)
        for acc in (1e-6, 1e-5):
            runs = [time_ik(sol.setup_ik, sol.scaled_model, accuracy=acc) for _ in range(args.repeats)]
            secs = statistics.median(r.seconds for r in runs)
            rows.append({"method": "OpenSim IK", "device": "cpu", "accuracy": acc, "frames": data.n_frames,
                         "seconds_per_trial": secs, "frames_per_s": data.n_frames / secs,
                         "marker_rms_mm": runs[0].rms_mm, "runs_seconds": [r.seconds for r in runs]})
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for d in devices:
        system.to(torch.device(d))
        fps, first = neurik_frames_per_s(system, markers, present, args.seconds)
        rows.append({"method": "NeurIK", "device": d, "accuracy": None, "frames": data.n_frames,
                     "seconds_per_trial": data.n_frames / fps, "frames_per_s": fps, "first_call_seconds": first})
    opensim = {r["accuracy"]: r["frames_per_s"] for r in rows if r["method"] == "OpenSim IK"}
    ratios = {f"{r['device']}_vs_opensim_{acc:g}": r["frames_per_s"] / ofps
              for r in rows if r["method"] == "NeurIK" for acc, ofps in opensim.items()}
    print("method | device | accuracy | frames/s | s per trial")
    for r in rows:
        acc = f"{r['accuracy']:g}" if r["accuracy"] is not None else "-"
        print(f"{r['method']} | {r['device']} | {acc} | {r['frames_per_s']:.1f} | {r['seconds_per_trial']:.4f}")
    for k, v in ratios.items():
        print(f"NeurIK frames/s / OpenSim IK frames/s ({k}): {v:.0f}x")
    meta = {"trial": str(trial.relative_to(HERE.parent)), "frames": data.n_frames, "torch": torch.__version__,
            "threads": torch.get_num_threads(), "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "load_average": os.getloadavg(), "repeats": args.repeats,
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    atomic_write_text(args.out, json.dumps({"meta": meta, "rows": rows, "speedup": ratios}, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
