"""Benchmark of the IK accuracy used for labels: time per frame and joint-angle change against a tight solve.

The shipped sample subject (Rajagopal walk, default model RajagopalLaiUhlrich2023, the data set's marker set,
default protocol) is scaled once; then IK runs on the walking trial's first ``--seconds`` at accuracies 1e-5
(OpenSim's default), 1e-6 (the labels' default) and 1e-7 (reference). For each accuracy: IK seconds, ms per
frame, marker RMS, and the largest and median absolute difference of the rotational coordinates from the 1e-7
solution (deg), with the coordinate where the largest difference occurs.

Usage::

    python benchmarks/bench_label_accuracy.py [--seconds 1.0]

Prints a table and writes ``benchmarks/results/bench_label_accuracy.json``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from biopose_opensim.labeling import LabelConfig, label_trial, prepare_subject  # noqa: E402
from biopose_opensim.datasets import read_labels  # noqa: E402
from biopose_opensim.labeling.sample import sample_subject  # noqa: E402
from biopose_opensim.osim import read_ik_setup, write_ik_setup  # noqa: E402

ACCURACIES = (1e-5, 1e-6, 1e-7)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=1.0, help="length of the walking window (s)")
    args = p.parse_args(argv)

    spec, overrides = sample_subject()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sample"
        cfg = LabelConfig(time_range=(0.0, args.seconds)).with_overrides(**overrides)
        prepared = prepare_subject(spec, cfg, out)
        template = read_ik_setup(prepared.setup_ik)
        q = {}
        for acc in ACCURACIES:
            setup = out / f"setup_ik_{acc:g}.xml"
            write_ik_setup(template.replace(accuracy=acc), setup)
            variant = dataclasses.replace(prepared, setup_ik=setup, accuracy=acc)
            trial_copy = out / f"walk_acc{acc:g}.trc"
            trial_copy.write_bytes(spec.trials[0].read_bytes())
            r = label_trial(variant, trial_copy, overwrite=True)
            lab = read_labels(r.labels)
            rot = np.asarray(lab["rotational"], dtype=bool)
            q[acc] = (np.degrees(lab["q"][:, rot]), [n for n, k in zip(lab["coordinate_names"], rot) if k])
            rows.append({"accuracy": acc, "frames": r.n_frames, "seconds": r.seconds,
                         "ms_per_frame": 1000 * r.seconds / r.n_frames, "marker_rms_mm": 1000 * r.rms_error})
    ref, names = q[ACCURACIES[-1]]
    for row in rows:
        d = np.abs(q[row["accuracy"]][0] - ref)
        j = int(np.unravel_index(np.argmax(d), d.shape)[1])
        row.update(max_abs_diff_deg=float(d.max()), median_abs_diff_deg=float(np.median(d)), worst_coordinate=names[j])

    print(f"{'accuracy':>9} {'frames':>6} {'IK s':>7} {'ms/frame':>9} {'RMS mm':>7} {'max dq deg':>11} "
          f"{'median dq':>10}  worst coordinate")
    for r in rows:
        print(f"{r['accuracy']:>9g} {r['frames']:>6d} {r['seconds']:>7.1f} {r['ms_per_frame']:>9.1f} "
              f"{r['marker_rms_mm']:>7.2f} {r['max_abs_diff_deg']:>11.4f} {r['median_abs_diff_deg']:>10.5f}  "
              f"{r['worst_coordinate']}")
    result = {"benchmark": "label IK accuracy", "data": "sample subject (Rajagopal walk), default model",
              "window_s": args.seconds, "reference_accuracy": ACCURACIES[-1], "machine": platform.platform(),
              "python": platform.python_version(), "rows": rows}
    path = ROOT / "benchmarks" / "results" / "bench_label_accuracy.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
