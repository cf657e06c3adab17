"""FK throughput: the torch layer (batch 1, 64, 4096; float32/float64; CPU and CUDA when present) versus
OpenSim's per-frame FK loop and nimblephysics' per-frame FK, all on the same model (Rajagopal2015).

- layer: ``OsimFK.forward`` under ``torch.no_grad()``, best of ``--repeats`` timed runs after warm-up;
  frames/s = batch / seconds per call.
- OpenSim: per frame, ``Coordinate.setValue(state, v, False)`` for every coordinate (dependent ones from the
  couplers), ``realizePosition``, read every marker's ``getLocationInGround``.
- nimblephysics: per frame, ``skeleton.setPositions(q)`` and ``getMarkerWorldPositions`` of every marker, run in
  the nimble environment (``.venvs/nimble``, created on first use) by the worker script.

Prints a table and writes ``benchmarks/results/bench_fk.json``. Usage::

    python benchmarks/bench_fk.py [--threads 2] [--repeats 5] [--compile]
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from biopose_opensim.atomic import atomic_write_text  # noqa: E402
from biopose_opensim.kinematics import OsimFK, random_poses  # noqa: E402
from biopose_opensim.kinematics.nimble_env import (  # noqa: E402
    ensure_nimble_env,
    nimble_coordinate_map,
    nimble_fk_timing,
    nimble_model_info,
)
from biopose_opensim.osim import import_opensim  # noqa: E402

MODEL = ROOT / "tests" / "data" / "models" / "Rajagopal2015.osim"
BATCHES = (1, 64, 4096)


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def time_layer(fk: OsimFK, q: torch.Tensor, repeats: int, device: str) -> float:
    """Best seconds per call of ``fk(q)``."""
    calls = max(1, int(2000 // q.shape[0]))
    with torch.no_grad():
        for _ in range(3):
            fk(q)
        _sync(device)
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(calls):
                fk(q)
            _sync(device)
            best = min(best, (time.perf_counter() - t0) / calls)
    return best


def time_opensim(fk: OsimFK, q: np.ndarray, repeats: int) -> float:
    """Best seconds per frame of OpenSim's set-coordinates / realizePosition / read-markers loop."""
    osim = import_opensim()
    model = osim.Model(str(MODEL))
    state = model.initSystem()
    cs = model.getCoordinateSet()
    coords = [cs.get(n) for n in fk.all_coordinate_names]
    markers = [model.getMarkerSet().get(i) for i in range(model.getMarkerSet().getSize())]
    q_full = fk.full_coordinates(torch.tensor(q, dtype=fk.default_values.dtype)).double().numpy()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for row in q_full:
            for c, v in zip(coords, row):
                c.setValue(state, float(v), False)
            model.realizePosition(state)
            for m in markers:
                m.getLocationInGround(state)
        best = min(best, (time.perf_counter() - t0) / len(q_full))
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--opensim-frames", type=int, default=300)
    parser.add_argument("--nimble-frames", type=int, default=2000)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile(layer) at batch 4096")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_fk.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)

    rows = []
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        for dtype in (torch.float32, torch.float64):
            fk = OsimFK.from_osim(MODEL, dtype=dtype).to(device)
            for batch in BATCHES:
                q = torch.tensor(random_poses(fk, batch, rng), dtype=dtype, device=device)
                sec = time_layer(fk, q, args.repeats, device)
                rows.append({"impl": "torch layer", "device": device, "dtype": str(dtype).split(".")[-1],
                             "batch": batch, "seconds_per_call": sec, "frames_per_s": batch / sec})
            if args.compile and device == "cpu":
                q = torch.tensor(random_poses(fk, 4096, rng), dtype=dtype, device=device)
                compiled = torch.compile(fk, dynamic=False)
                t0 = time.perf_counter()
                with torch.no_grad():
                    compiled(q)
                compile_s = time.perf_counter() - t0
                sec = time_layer(compiled, q, args.repeats, device)
                rows.append({"impl": "torch layer (torch.compile)", "device": device,
                             "dtype": str(dtype).split(".")[-1], "batch": 4096, "seconds_per_call": sec,
                             "frames_per_s": 4096 / sec, "compile_seconds": compile_s})

    fk64 = OsimFK.from_osim(MODEL, dtype=torch.float64)
    q_os = random_poses(fk64, args.opensim_frames, rng)
    sec = time_opensim(fk64, q_os, max(1, args.repeats // 2))
    rows.append({"impl": "OpenSim per-frame loop", "device": "cpu", "dtype": "float64", "batch": 1,
                 "seconds_per_call": sec, "frames_per_s": 1.0 / sec})

    python = ensure_nimble_env()
    info = nimble_model_info(MODEL, python=python)
    cmap = nimble_coordinate_map(fk64.coordinate_names, info.dof_names)
    q_nb = cmap.to_nimble(random_poses(fk64, args.nimble_frames, rng))
    sec = nimble_fk_timing(MODEL, q_nb, python=python, repeats=args.repeats)
    rows.append({"impl": "nimblephysics per-frame", "device": "cpu", "dtype": "float64", "batch": 1,
                 "seconds_per_call": sec, "frames_per_s": 1.0 / sec})

    nimble_fps = rows[-1]["frames_per_s"]
    opensim_fps = rows[-2]["frames_per_s"]
    for r in rows:
        r["x_nimble"] = r["frames_per_s"] / nimble_fps
        r["x_opensim"] = r["frames_per_s"] / opensim_fps

    header = f"{'implementation':30s} {'device':6s} {'dtype':8s} {'batch':>6s} {'ms/call':>10s} {'frames/s':>12s} {'x nimble':>9s} {'x OpenSim':>9s}"
    print(f"FK throughput on {MODEL.name} ({len(fk64.marker_names)} markers, {fk64.n_bodies} bodies), "
          f"torch threads {args.threads}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['impl']:30s} {r['device']:6s} {r['dtype']:8s} {r['batch']:6d} {r['seconds_per_call'] * 1e3:10.3f} "
              f"{r['frames_per_s']:12.0f} {r['x_nimble']:9.2f} {r['x_opensim']:9.2f}")
    result = {
        "model": MODEL.name,
        "machine": {"cpu": platform.processor() or platform.machine(), "torch_threads": args.threads,
                    "torch": torch.__version__, "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
