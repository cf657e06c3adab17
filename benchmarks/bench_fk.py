"""FK throughput of the torch layer against OpenSim's and nimblephysics' per-frame FK, all on Rajagopal2015.

Protocol (every figure is the median of ``--repeats`` timed runs of about 0.3 s each, after 1 s of warm-up
calls; the 1-minute load average is recorded with every row, since other jobs share the machine; glibc's
allocator is told to keep freed memory, ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_``, unless
``--default-malloc``: with the defaults, page faults made the same code 2x slower or not depending on heap
history):

- torch layer, eager (batched path) and compiled (``OsimFK.compile()``, the unrolled per-frame program; its
  one-off compile time is reported): batch 1, 64, 4096; float32 and float64; torch threads 1 and the machine's
  default; ``forward`` under ``torch.no_grad()`` (inference: the like-for-like comparison with the per-frame
  FKs below) and forward + backward of ``markers.sum() + joint_centers.sum() + body_transforms.sum()`` with
  respect to ``q`` (training). Calls that need gradients always run the batched path, so the compiled layer
  has no rows of its own for them. ``--scaled`` adds rows with per-body scale factors ``s`` at batch 4096
  (first thread count only).
- ``--baseline REV``: the same eager rows for the layer as it was at git revision REV (``git archive`` into a
  temporary directory, timed in a subprocess right after the current layer, same threads).
- ``--compile-batched``: ``torch.compile`` of the batched layer (float32, batch 4096, 1 thread), for comparison.
- ceiling: the time to merely write the layer's outputs at batch 4096 (``torch.empty_like(x).copy_(x)`` of the
  markers, joint centres and 4x4 body transforms): no implementation can return them faster on this machine.
- OpenSim: per frame, ``Coordinate.setValue(state, v, False)`` for every coordinate (dependent ones from the
  couplers), ``realizePosition``, ``getLocationInGround`` of every marker.
- nimblephysics: per frame, ``setPositions(q)`` and ``getMarkerWorldPositions`` of every marker, in the nimble
  environment (``.venvs/nimble``, made by ``python scripts/nimble_env.py create``); median over ``--repeats``
  worker runs.

Prints a table and writes ``benchmarks/results/bench_fk.json``. Usage::

    python benchmarks/bench_fk.py [--threads 1,0] [--repeats 7] [--baseline REV] [--scaled] [--compile-batched]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if "--import-root" in sys.argv:  # time another version of the package (see --baseline)
    sys.path.insert(0, sys.argv[sys.argv.index("--import-root") + 1])
else:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from biopose_opensim.kinematics import OsimFK, random_poses  # noqa: E402

MODEL = ROOT / "tests" / "data" / "models" / "Rajagopal2015.osim"
BATCHES = (1, 64, 4096)
DTYPES = {"float32": torch.float32, "float64": torch.float64}
NO_GRAD, TRAIN = "no-grad forward", "forward+backward"
MALLOC_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def median_seconds(fn, repeats: int, run_seconds: float = 0.3, warmup_seconds: float = 1.0) -> float:
    """Median over ``repeats`` runs of the seconds per call of ``fn``; each run makes enough calls to last about
    ``run_seconds``, after ``warmup_seconds`` of warm-up calls (the compiled program takes ~100 calls to reach
    its steady speed)."""
    t0, warm = time.perf_counter(), 0
    while warm < 3 or time.perf_counter() - t0 < warmup_seconds:
        fn()
        warm += 1
    calls = max(1, int(run_seconds / ((time.perf_counter() - t0) / warm)))
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        runs.append((time.perf_counter() - t0) / calls)
    return statistics.median(runs)


def _step(fk, q, s, mode):
    if mode == NO_GRAD:
        def run():
            with torch.no_grad():
                fk(q, s)
        return run

    def run():
        qg = q.detach().requires_grad_(True)
        res = fk(qg, s)
        (res.markers.sum() + res.joint_centers.sum() + res.body_transforms.sum()).backward()
    return run


def layer_rows(label: str, threads: int, repeats: int, compiled: bool = False, scaled: bool = False,
               batches=BATCHES, dtypes=tuple(DTYPES), modes=(NO_GRAD, TRAIN)) -> list[dict]:
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    rows = []
    for dname in dtypes:
        dtype = DTYPES[dname]
        fk = OsimFK.from_osim(MODEL, dtype=dtype)
        extra = {}
        if compiled:
            fk.compile()
            q = torch.tensor(random_poses(fk, 8, rng), dtype=dtype)
            t0 = time.perf_counter()
            with torch.no_grad():
                fk(q)
            extra["compile_seconds"] = time.perf_counter() - t0
            if scaled:
                t0 = time.perf_counter()
                with torch.no_grad():
                    fk(q, torch.ones(8, fk.n_bodies, 3, dtype=dtype))
                extra["compile_seconds_scaled"] = time.perf_counter() - t0
        for mode in modes:
            if compiled and mode == TRAIN:
                continue  # gradients run the batched path
            for batch in batches:
                q = torch.tensor(random_poses(fk, batch, rng), dtype=dtype)
                for s in ([None] + ([torch.tensor(rng.uniform(0.8, 1.2, (batch, fk.n_bodies, 3)), dtype=dtype)]
                                     if scaled and batch == max(batches) else [])):
                    sec = median_seconds(_step(fk, q, s, mode), repeats)
                    rows.append({"impl": label, "threads": threads, "dtype": dname, "batch": batch, "mode": mode,
                                 "scaled": s is not None, "seconds_per_call": sec, "frames_per_s": batch / sec,
                                 "load_avg_1min": _load(), **extra})
                    print(f"  {label:34s} t={threads} {dname} {mode:17s} batch {batch:5d}{' s' if s is not None else ''}"
                          f": {sec * 1e3:9.3f} ms  {batch / sec:12.0f} frames/s", flush=True)
    return rows


def compile_batched_rows(threads: int, repeats: int) -> list[dict]:
    """``torch.compile`` of the batched layer (not its unrolled program), float32, batch 4096."""
    torch.set_num_threads(threads)
    fk = OsimFK.from_osim(MODEL, dtype=torch.float32)
    q = torch.tensor(random_poses(fk, 4096, np.random.default_rng(1)), dtype=torch.float32)
    wrapped = torch.compile(fk, dynamic=False)
    rows = []
    for mode in (NO_GRAD, TRAIN):
        t0 = time.perf_counter()
        _step(wrapped, q, None, mode)()
        compile_s = time.perf_counter() - t0
        sec = median_seconds(_step(wrapped, q, None, mode), repeats)
        rows.append({"impl": "torch.compile(batched layer)", "threads": threads, "dtype": "float32", "batch": 4096,
                     "mode": mode, "scaled": False, "seconds_per_call": sec, "frames_per_s": 4096 / sec,
                     "load_avg_1min": _load(), "compile_seconds": compile_s})
        print(f"  torch.compile(batched layer) {mode}: {sec * 1e3:.2f} ms (compile {compile_s:.0f} s)", flush=True)
    return rows


def baseline_rows(rev: str, threads: int, repeats: int) -> list[dict]:
    """The eager rows for the layer at git revision ``rev``, timed in a subprocess."""
    with tempfile.TemporaryDirectory(prefix="bench_fk_baseline_") as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "biopose_opensim"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        out = Path(tmp) / "rows.json"
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--layer-only", "--import-root", tmp,
                        "--label", f"torch layer @{rev[:7]} (before)", "--threads", str(threads),
                        "--repeats", str(repeats), "--out", str(out)], check=True)
        return json.loads(out.read_text())["rows"]


def ceiling_rows(threads: int, repeats: int) -> list[dict]:
    """Seconds to write the layer's outputs at batch 4096 (one copy of each into fresh memory)."""
    torch.set_num_threads(threads)
    rows = []
    for dname, dtype in DTYPES.items():
        fk = OsimFK.from_osim(MODEL, dtype=dtype)
        q = torch.tensor(random_poses(fk, 4096, np.random.default_rng(2)), dtype=dtype)
        with torch.no_grad():
            res = fk(q)
        outs = [res.markers.contiguous(), res.joint_centers.contiguous(), res.body_transforms.contiguous()]
        nbytes = sum(x.numel() * x.element_size() for x in outs)

        def write():
            for x in outs:
                torch.empty_like(x).copy_(x)

        sec = median_seconds(write, repeats)
        rows.append({"impl": "ceiling: write the outputs", "threads": threads, "dtype": dname, "batch": 4096,
                     "mode": NO_GRAD, "scaled": False, "seconds_per_call": sec, "frames_per_s": 4096 / sec,
                     "load_avg_1min": _load(), "output_megabytes": nbytes / 1e6})
        print(f"  ceiling {dname}: {nbytes / 1e6:.1f} MB in {sec * 1e3:.3f} ms", flush=True)
    return rows


def opensim_row(frames: int, repeats: int) -> dict:
    from biopose_opensim.osim import import_opensim

    fk = OsimFK.from_osim(MODEL, dtype=torch.float64)
    q = random_poses(fk, frames, np.random.default_rng(3))
    osim = import_opensim()
    model = osim.Model(str(MODEL))
    state = model.initSystem()
    cs = model.getCoordinateSet()
    coords = [cs.get(n) for n in fk.all_coordinate_names]
    markers = [model.getMarkerSet().get(i) for i in range(model.getMarkerSet().getSize())]
    q_full = fk.full_coordinates(torch.tensor(q)).numpy()

    def loop():
        for row in q_full:
            for c, v in zip(coords, row):
                c.setValue(state, float(v), False)
            model.realizePosition(state)
            for m in markers:
                m.getLocationInGround(state)

    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        loop()
        runs.append((time.perf_counter() - t0) / frames)
    sec = statistics.median(runs)
    print(f"  OpenSim per-frame loop: {sec * 1e3:.3f} ms/frame", flush=True)
    return {"impl": "OpenSim per-frame loop", "threads": 1, "dtype": "float64", "batch": 1, "mode": NO_GRAD,
            "scaled": False, "seconds_per_call": sec, "frames_per_s": 1.0 / sec, "load_avg_1min": _load()}


def nimble_row(frames: int, repeats: int) -> dict:
    sys.path.insert(0, str(ROOT / "scripts"))
    from nimble_env import (  # created by `python scripts/nimble_env.py create`
        nimble_coordinate_map,
        nimble_fk_timing,
        nimble_model_info,
        require_nimble_env,
    )

    python = require_nimble_env()
    fk = OsimFK.from_osim(MODEL, dtype=torch.float64)
    info = nimble_model_info(MODEL, python=python)
    cmap = nimble_coordinate_map(fk.coordinate_names, info.dof_names)
    q = cmap.to_nimble(random_poses(fk, frames, np.random.default_rng(4)))
    runs = [nimble_fk_timing(MODEL, q, python=python, repeats=1) for _ in range(repeats)]
    sec = statistics.median(runs)
    print(f"  nimblephysics per-frame: {sec * 1e6:.1f} us/frame (runs {', '.join(f'{r * 1e6:.0f}' for r in runs)})",
          flush=True)
    return {"impl": "nimblephysics per-frame", "threads": 1, "dtype": "float64", "batch": 1, "mode": NO_GRAD,
            "scaled": False, "seconds_per_call": sec, "frames_per_s": 1.0 / sec, "load_avg_1min": _load(),
            "runs_seconds_per_frame": runs}


def _table(rows: list[dict], nimble_fps: float | None, opensim_fps: float | None) -> str:
    head = (f"{'implementation':36s} {'thr':>3s} {'dtype':7s} {'mode':17s} {'batch':>5s} {'ms/call':>9s} "
            f"{'frames/s':>11s} {'x nimble':>8s} {'x OpenSim':>9s} {'load':>5s}")
    lines = [head, "-" * len(head)]
    for r in rows:
        xn = f"{r['frames_per_s'] / nimble_fps:8.1f}" if nimble_fps else f"{'':8s}"
        xo = f"{r['frames_per_s'] / opensim_fps:9.1f}" if opensim_fps else f"{'':9s}"
        batch = f"{r['batch']}{'s' if r.get('scaled') else ''}"
        lines.append(f"{r['impl']:36s} {r['threads']:3d} {r['dtype']:7s} {r['mode']:17s} {batch:>5s} "
                     f"{r['seconds_per_call'] * 1e3:9.3f} {r['frames_per_s']:11.0f} {xn} {xo} {r['load_avg_1min']:5.2f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,0", help="comma-separated torch thread counts; 0 = the default")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--opensim-frames", type=int, default=300)
    parser.add_argument("--nimble-frames", type=int, default=2000)
    parser.add_argument("--baseline", help="git revision whose layer is timed as 'before'")
    parser.add_argument("--scaled", action="store_true", help="add rows with scale factors s at batch 4096")
    parser.add_argument("--no-compile", action="store_true", help="skip the compiled layer")
    parser.add_argument("--compile-batched", action="store_true", help="also time torch.compile(batched layer)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_fk.json")
    parser.add_argument("--layer-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--import-root", help=argparse.SUPPRESS)
    parser.add_argument("--label", default="torch layer (eager)", help=argparse.SUPPRESS)
    parser.add_argument("--default-malloc", action="store_true",
                        help="keep glibc's default allocator settings (timings then depend on heap history)")
    args = parser.parse_args(argv)
    if not args.layer_only and not args.default_malloc and MALLOC_ENV[0] not in os.environ:
        # glibc returns large freed blocks to the system and faults them in again on the next call; with the
        # defaults the same code measured 8 or 19 ms per call depending on the heap's history. Keep freed
        # memory instead (what a long-running process settles to), for every implementation alike.
        env = dict(os.environ, **{k: "1000000000" for k in MALLOC_ENV})
        os.execve(sys.executable, [sys.executable, str(Path(__file__).resolve()), *(argv or sys.argv[1:])], env)
    default_threads = torch.get_num_threads()
    threads = [int(t) or default_threads for t in args.threads.split(",")]

    if args.layer_only:
        rows = [r for t in threads for r in layer_rows(args.label, t, args.repeats)]
        args.out.write_text(json.dumps({"rows": rows}))
        return 0

    started = time.strftime("%Y-%m-%d %H:%M:%S")
    load_start = _load()
    rows: list[dict] = []
    for i, t in enumerate(threads):
        print(f"threads {t}", flush=True)
        scaled = args.scaled and i == 0  # scaled rows for the first thread count only
        rows += layer_rows("torch layer (eager)", t, args.repeats, scaled=scaled)
        if args.baseline:
            rows += baseline_rows(args.baseline, t, args.repeats)
        if not args.no_compile:
            rows += layer_rows("torch layer (compiled)", t, args.repeats, compiled=True, scaled=scaled)
        rows += ceiling_rows(t, args.repeats)
    if args.compile_batched:
        rows += compile_batched_rows(1, args.repeats)
    os_row = opensim_row(args.opensim_frames, max(3, args.repeats // 2))
    nb_row = nimble_row(args.nimble_frames, args.repeats)
    rows += [os_row, nb_row]
    for r in rows:
        r["x_nimble"] = r["frames_per_s"] / nb_row["frames_per_s"]
        r["x_opensim"] = r["frames_per_s"] / os_row["frames_per_s"]

    fk = OsimFK.from_osim(MODEL)
    print(f"\nFK throughput on {MODEL.name} ({len(fk.marker_names)} markers, {fk.n_bodies} bodies), "
          f"median of {args.repeats} runs; load average {load_start} at start, {_load()} at end")
    print(_table(rows, nb_row["frames_per_s"], os_row["frames_per_s"]))
    result = {
        "model": MODEL.name,
        "started": started,
        "protocol": __doc__.split("Protocol")[1].split("Prints a table")[0].strip(),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "default_torch_threads": default_threads, "torch": torch.__version__,
                    "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
        "baseline_revision": args.baseline,
        "malloc_env": {k: os.environ.get(k) for k in MALLOC_ENV},
        "load_avg_1min": {"start": load_start, "end": _load()},
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    from biopose_opensim.atomic import atomic_write_text

    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
