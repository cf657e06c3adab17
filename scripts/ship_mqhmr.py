"""Install a trained MQ-HMR run as the shipped default checkpoint (weights stored as float16), with its
evaluation recorded.

    python scripts/ship_mqhmr.py --run runs/mqhmr_small [--results results/mqhmr_eval/results.json]

Writes ``RUN/best.safetensors`` as float16 to ``biopose_opensim/data/mqhmr/mqhmr_small.safetensors`` (half the
size; loading casts back to float32: the predictions move by well under a millimetre) and its ``.json`` with an
``evaluation`` entry from the results file.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from safetensors.torch import load_file, save_file  # noqa: E402

from biopose_opensim.atomic import atomic_path, atomic_write_text  # noqa: E402
from biopose_opensim.hmr import DEFAULT_CHECKPOINT  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", required=True, type=Path)
    p.add_argument("--results", type=Path, help="results.json of scripts/mqhmr_results.py")
    args = p.parse_args()
    meta = json.loads((args.run / "best.json").read_text())
    meta["stored_dtype"] = "float16"
    if args.results is not None:
        meta["evaluation"] = json.loads(args.results.read_text())
    tensors = {k: (v.half() if v.is_floating_point() else v) for k, v in load_file(str(args.run / "best.safetensors")).items()}
    DEFAULT_CHECKPOINT.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(DEFAULT_CHECKPOINT) as tmp:
        save_file(tensors, str(tmp))
    atomic_write_text(DEFAULT_CHECKPOINT.with_suffix(".json"), json.dumps(meta, indent=1))
    print(f"installed {DEFAULT_CHECKPOINT} ({DEFAULT_CHECKPOINT.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
