"""Install a trained NeurIK run as the shipped default checkpoint, with its evaluation metrics recorded.

    python scripts/ship_neurik.py --run results/train/neurik_cpu --metrics results/eval/neurik_test/metrics.json \
        [--metrics results/eval/neurik_test_noise10/metrics.json ...]

Copies ``RUN/best.safetensors`` to ``biopose_opensim/data/neurik/neurik_default.safetensors`` and writes its
``.json`` with an ``evaluation`` entry per metrics file (settings and overall metrics).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from biopose_opensim.atomic import atomic_write_text  # noqa: E402
from biopose_opensim.neurik import DEFAULT_CHECKPOINT  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", required=True, type=Path)
    p.add_argument("--metrics", action="append", default=[], type=Path)
    args = p.parse_args()
    meta = json.loads((args.run / "best.json").read_text())
    meta["evaluation"] = []
    for m in args.metrics:
        d = json.loads(m.read_text())
        meta["evaluation"].append({"settings": d["settings"], "overall": d["overall"]})
    DEFAULT_CHECKPOINT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.run / "best.safetensors", DEFAULT_CHECKPOINT)
    atomic_write_text(DEFAULT_CHECKPOINT.with_suffix(".json"), json.dumps(meta, indent=1))
    print(f"installed {DEFAULT_CHECKPOINT} ({DEFAULT_CHECKPOINT.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
