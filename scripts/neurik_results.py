"""The NeurIK results table: checkpoints x conditions (clean, marker noise, dropped markers, unseen motions).

    python scripts/neurik_results.py --data data/neurik_synth --ood data/neurik_crouch \
        --checkpoint neurik=biopose_opensim/data/neurik/neurik_default.json \
        --checkpoint mlp=results/train/mlp/best.json --out results/neurik_results

Runs :func:`biopose_opensim.neurik.evaluate.evaluate_checkpoint` for each checkpoint on the test split (clean,
10 mm noise, 10 % of markers dropped) and on every trial of the ``--ood`` dataset, writes each run's reports under
``--out`` and ``results.md`` / ``results.json`` with one row per checkpoint and condition.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from biopose_opensim.atomic import atomic_write_text  # noqa: E402
from biopose_opensim.neurik.evaluate import evaluate_checkpoint  # noqa: E402


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--ood", type=Path, help="a dataset of motions absent from training (all its trials are used)")
    p.add_argument("--checkpoint", action="append", required=True, metavar="NAME=PATH")
    p.add_argument("--out", required=True, type=Path)
    args = p.parse_args()
    conditions = [("test, clean", args.data, "test", 0.0, 0.0), ("test, 10 mm noise", args.data, "test", 10.0, 0.0),
                  ("test, 10 % markers dropped", args.data, "test", 0.0, 0.1)]
    if args.ood is not None:
        conditions.append((f"unseen motions ({args.ood.name})", args.ood, "all", 0.0, 0.0))
    rows = []
    for spec in args.checkpoint:
        name, path = spec.split("=", 1)
        for label, data, split, noise, drop in conditions:
            sub = args.out / f"{name}_{len(rows)}"
            res = evaluate_checkpoint(path, [data], split, sub, noise_mm=noise, drop_fraction=drop, progress=False,
                                      overwrite=True)
            worst = sorted(((v["mae"], k) for k, v in res.per_coordinate.items() if v["unit"] == "deg"))[-3:][::-1]
            rows.append({"checkpoint": name, "condition": label, **res.overall.to_dict(),
                         "worst": [f"{k} {v:.1f}" for v, k in worst],
                         "frames_per_second": res.settings["frames_per_second"], "report": str(sub)})
    md = ["| checkpoint | condition | frames | MAE angle (deg) | MPBLPE (mm) | MAE body (mm) | pelvis (mm) | "
          "worst coordinates (deg) |", "|---|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        md.append(f"| {r['checkpoint']} | {r['condition']} | {r['frames']} | {r['mae_angle_deg']:.2f} | "
                  f"{r['mpblpe_mm']:.1f} | {r['mae_body_mm']:.2f} | {r['pelvis_translation_mm']:.1f} | "
                  f"{', '.join(r['worst'])} |")
    atomic_write_text(args.out / "results.md", "\n".join(md) + "\n")
    atomic_write_text(args.out / "results.json", json.dumps(rows, indent=1))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
