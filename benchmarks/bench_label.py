"""Benchmark of ``label``: IK throughput against a bare OpenSim InverseKinematicsTool, and parallel speed-up.

1. Overhead: frames/s of :func:`biopose_opensim.labeling.label_trial` (read TRC, gap filling, IK, marker errors,
   label shards) against a bare ``opensim.InverseKinematicsTool`` run on the same trial, with the same scaled
   model, IK tasks and accuracy. Ratio = label time / bare time.
2. Speed-up: the IK phase (one task per trial, :func:`biopose_opensim.distributed.run_tasks`) with 1 worker
   (serial, in-process) and with N worker processes, and a whole ``label_dataset`` run (scale + IK + reports)
   with 1 and N workers. A control batch of pure-Python CPU-bound tasks measures the speed-up the machine
   allows at that moment (on a shared machine, other processes may leave no spare core).

Data: the OpenSim gait2392 tutorial (generic model, Scale and IK setups, ``subject01_walk1.trc``, 151 frames at
60 Hz; IK over the setup's 0.5-2.5 s, i.e. 121 frames).

Usage::

    python benchmarks/bench_label.py [--repeats 3] [--trials 4] [--workers 2]

Prints a table and writes ``benchmarks/results/bench_label.json``.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(PROJECT))

from biopose_opensim.atomic import atomic_write_text  # noqa: E402
from biopose_opensim.distributed import Task, default_workers, run_tasks  # noqa: E402
from biopose_opensim.io import read_mot, read_trc, write_trc  # noqa: E402
from biopose_opensim.labeling import LabelConfig, SubjectSpec, label_trial, prepare_subject  # noqa: E402
from biopose_opensim.labeling.dataset import label_dataset  # noqa: E402
from biopose_opensim.osim import import_opensim  # noqa: E402

DATA = PROJECT / "tests" / "data" / "gait2392_tutorial"
RESULTS = HERE / "results" / "bench_label.json"


def config() -> LabelConfig:
    return LabelConfig(model=DATA / "gait2392_simbody.osim", scale_setup=DATA / "subject01_Setup_Scale.xml",
                       ik_setup=DATA / "subject01_Setup_IK.xml", plots=False)


def bare_ik(scaled_model: Path, trial: Path, accuracy: float, out: Path) -> tuple[float, int]:
    """The tutorial IK setup run by a bare InverseKinematicsTool; returns (seconds of tool.run(), frames)."""
    osim = import_opensim()
    model = osim.Model(str(scaled_model))  # referenced until the tool is done
    tool = osim.InverseKinematicsTool(str(DATA / "subject01_Setup_IK.xml"))
    tool.setModel(model)
    tool.set_marker_file(str(trial))
    tool.set_accuracy(accuracy)
    tool.setOutputMotionFileName(str(out))
    tool.set_report_errors(False)
    tool.setResultsDir(str(out.parent))
    start = time.perf_counter()
    if not tool.run():
        raise RuntimeError("bare InverseKinematicsTool failed")
    seconds = time.perf_counter() - start
    del tool, model
    return seconds, read_mot(out).times.shape[0]


def busy(n: int) -> int:
    """Pure-Python CPU work: a control for the speed-up a machine can give at all (no I/O, no OpenSim)."""
    total = 0
    for i in range(n):
        total += i * i
    return total


def control_speedup(workers: int, repeats: int) -> dict:
    """Wall time of 6 equal CPU-bound tasks (about 2 s each) with 1 and ``workers`` processes: what the machine
    allows right now, worker start-up included (spawned workers import this module, hence OpenSim and torch)."""
    tasks = [Task(f"busy{k}", busy, (40_000_000,)) for k in range(6)]
    times = {}
    for w in (1, workers):
        times[w] = statistics.median(run_tasks(tasks, workers=w, progress=False).seconds for _ in range(repeats))
    return {"seconds": {str(k): v for k, v in times.items()}, "speedup": times[1] / times[workers]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="timed repeats of each measurement (median reported)")
    p.add_argument("--trials", type=int, default=6, help="trials in the speed-up runs (>= 2)")
    p.add_argument("--workers", type=int, default=min(2, default_workers()) if default_workers() > 1 else 2)
    p.add_argument("--keep", type=Path, help="keep the work folder here")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    load_start = os.getloadavg()
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench_label_"))
    work.mkdir(parents=True, exist_ok=True)
    trial = DATA / "subject01_walk1.trc"
    cfg = config()

    # ---------------------------------------------------------------- 1. overhead against a bare IK tool
    spec = SubjectSpec("subject01", DATA / "subject01_static.trc", (trial,), mass=72.6)
    t0 = time.perf_counter()
    prepared = prepare_subject(spec, cfg, work / "overhead", overwrite=True)
    scale_s = time.perf_counter() - t0
    label_s, bare_s, frames = [], [], None
    (work / "bare").mkdir(exist_ok=True)
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        r = label_trial(prepared, trial, overwrite=True)
        label_s.append(time.perf_counter() - t0)
        frames = r.n_frames
        s, n = bare_ik(Path(prepared.scaled_model), trial, prepared.accuracy, work / "bare" / "walk1_ik.mot")
        bare_s.append(s)
        if n != frames:
            raise RuntimeError(f"bare IK solved {n} frames, label {frames}")
    label_med, bare_med = statistics.median(label_s), statistics.median(bare_s)

    # ---------------------------------------------------------------- 2. speed-up over trials
    walk = read_trc(trial)
    ds = work / "dataset"
    for subj in ("s1", "s2"):
        (ds / subj / "trials").mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA / "subject01_static.trc", ds / subj / "static.trc")
        for k in range(max(1, args.trials // 2)):
            write_trc(ds / subj / "trials" / f"walk{k + 1}.trc", walk)
    (work / "copies").mkdir(exist_ok=True)
    trials = [shutil.copy(trial, work / "copies" / f"walk{k}.trc") for k in range(max(2, args.trials))]
    tasks = [Task(Path(t).stem, label_trial, (prepared, Path(t), True)) for t in trials]
    ik_times = {}
    for workers in (1, args.workers):
        runs = []
        for _ in range(args.repeats):
            res = run_tasks(tasks, workers=workers, progress=False)
            if res.n_failed:
                raise RuntimeError(f"IK failed: {res.failed[0].error}")
            runs.append(res.seconds)
        ik_times[workers] = statistics.median(runs)
    ds_times = {}
    for workers in (1, args.workers):
        runs = []
        for _ in range(args.repeats):
            s = label_dataset(ds, work / f"ds_out_{workers}", cfg, workers=workers, overwrite=True, progress=False)
            if s.exit_code:
                raise RuntimeError("dataset run failed; see its summary.json")
            runs.append(s.seconds)
        ds_times[workers] = statistics.median(runs)

    control = control_speedup(args.workers, args.repeats)
    n_ds_trials = 2 * max(1, args.trials // 2)
    result = {
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                    "usable_cpus": default_workers(),
                    "load_average_1_5_15min": {"start": load_start, "end": os.getloadavg()}},
        "data": "OpenSim gait2392 tutorial, subject01_walk1.trc",
        "repeats": args.repeats,
        "accuracy": prepared.accuracy,
        "overhead": {
            "frames": frames, "scale_seconds": scale_s,
            "label_trial_seconds": label_med, "bare_ik_seconds": bare_med,
            "label_frames_per_s": frames / label_med, "bare_frames_per_s": frames / bare_med,
            "overhead_ratio": label_med / bare_med,
            "all_label_seconds": label_s, "all_bare_seconds": bare_s,
        },
        "speedup": {
            "workers": args.workers, "ik_trials": len(trials), "ik_frames_each": frames,
            "ik_phase_seconds": {str(k): v for k, v in ik_times.items()},
            "ik_phase_speedup": ik_times[1] / ik_times[args.workers],
            "dataset_subjects": 2, "dataset_trials": n_ds_trials,
            "dataset_seconds": {str(k): v for k, v in ds_times.items()},
            "dataset_speedup": ds_times[1] / ds_times[args.workers],
            "control_cpu_bound": control,
        },
    }
    atomic_write_text(RESULTS, json.dumps(result, indent=2) + "\n")
    o, sp = result["overhead"], result["speedup"]
    rows = [
        ("bare InverseKinematicsTool", f"{bare_med:.2f} s", f"{o['bare_frames_per_s']:.1f} frames/s", ""),
        ("label_trial (TRC, gaps, IK, errors, labels)", f"{label_med:.2f} s", f"{o['label_frames_per_s']:.1f} frames/s",
         f"overhead x{o['overhead_ratio']:.2f}"),
        (f"IK phase, {len(trials)} trials, 1 worker", f"{ik_times[1]:.2f} s", "", ""),
        (f"IK phase, {len(trials)} trials, {args.workers} workers", f"{ik_times[args.workers]:.2f} s", "",
         f"speed-up x{sp['ik_phase_speedup']:.2f}"),
        (f"label_dataset 2 subjects/{n_ds_trials} trials, 1 worker", f"{ds_times[1]:.2f} s", "", ""),
        (f"label_dataset 2 subjects/{n_ds_trials} trials, {args.workers} workers", f"{ds_times[args.workers]:.2f} s",
         "", f"speed-up x{sp['dataset_speedup']:.2f}"),
        (f"control: 6 CPU-bound Python tasks, 1 / {args.workers} workers",
         f"{control['seconds']['1']:.2f} s", f"{control['seconds'][str(args.workers)]:.2f} s",
         f"speed-up x{control['speedup']:.2f} (what the machine allowed)"),
    ]
    w = max(len(r[0]) for r in rows)
    print(f"label benchmark ({frames} IK frames per trial, accuracy {prepared.accuracy:g}, median of {args.repeats}, "
          f"{default_workers()} usable CPUs, 1-min load average {load_start[0]:.1f} at start, "
          f"{os.getloadavg()[0]:.1f} at end)")
    for r in rows:
        print(f"  {r[0]:<{w}}  {r[1]:>8}  {r[2]:>18}  {r[3]}")
    print(f"wrote {RESULTS}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
