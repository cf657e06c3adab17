"""NeurIK on a CUDA machine that has PyTorch but no OpenSim: pack here, run there.

``pack`` (on a machine with OpenSim) writes a folder with the FK layer's model description (``fk_tree.pt``, a
pickle of :class:`biopose_opensim.kinematics.ModelTree` made by this project, loaded only by this script) and the
train and validation splits of a dataset (:meth:`SplitData.save_packed`, markers to 0.025 mm).

``run`` (on the CUDA machine) checks the FK layer on CUDA against the CPU in float64 (markers and gradients),
trains the named configurations with the same trainer as ``python -m biopose_opensim.train neurik`` (the
configured epochs kept, the windows per epoch fitted into a time budget from two short probe runs), and writes
``device_results.json`` plus each run's ``best.safetensors`` / ``best.json`` to ``--out``. Inference and training
speed: ``python benchmarks/bench_neurik.py --devices cuda --fk-tree PACK/fk_tree.pt``.

    python scripts/device_neurik.py pack --data data/neurik_synth --out .device
    python3 scripts/device_neurik.py run --pack .device --out $OUT --configs cpu,mlp,paper --budget-s 150,60,240
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import shutil
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from biopose_opensim.neurik.config import CONFIGS  # noqa: E402
from biopose_opensim.neurik.data import SplitData, load_split, manifest_hash  # noqa: E402

log = logging.getLogger("device_neurik")


def pack(args) -> None:
    from biopose_opensim.kinematics import OsimFK
    from biopose_opensim.neurik.system import NeurIKSystem

    cfg = CONFIGS["cpu"]
    fk = OsimFK.from_osim(cfg.model_path(), marker_set=cfg.marker_set_path())
    system = NeurIKSystem.build(cfg, torch.ones(fk.n_bodies, 3), torch.ones(fk.n_bodies, 3), fk=fk)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(fk.tree, out / "fk_tree.pt")
    names = (system.marker_names, fk.coordinate_names, fk.body_names)
    for split in ("train", "val"):
        load_split(args.data, split, *names).save_packed(out / f"{split}.npz")
    (out / "data.json").write_text(json.dumps({str(Path(d)): manifest_hash(d) for d in args.data}))
    log.info("packed into %s", out)


def _fk_checks(tree) -> dict:
    from biopose_opensim.kinematics import OsimFK
    from biopose_opensim.kinematics.layer import random_poses
    import numpy as np

    ref = OsimFK(tree, dtype=torch.float64)
    q = torch.from_numpy(random_poses(ref, 256, np.random.default_rng(0)))
    s = 0.8 + 0.4 * torch.rand(256, ref.n_bodies, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    want = ref(q, s)
    out = {}
    for dtype in (torch.float64, torch.float32):
        fk = OsimFK(tree, dtype=dtype).cuda()
        got = fk(q.to("cuda", dtype), s.to("cuda", dtype))
        out[f"markers_max_err_m_{str(dtype)[6:]}"] = float((got.markers.double().cpu() - want.markers).abs().max())
        out[f"joints_max_err_m_{str(dtype)[6:]}"] = float(
            (got.joint_centers.double().cpu() - want.joint_centers).abs().max())
    qg, sg = q.clone().requires_grad_(), s.clone().requires_grad_()
    ref(qg, sg).markers.square().sum().backward()
    fk = OsimFK(tree, dtype=torch.float64).cuda()
    qc, sc = q.cuda().requires_grad_(), s.cuda().requires_grad_()
    fk(qc, sc).markers.square().sum().backward()
    out["grad_q_max_rel_err"] = float((qc.grad.cpu() - qg.grad).abs().max() / qg.grad.abs().max())
    out["grad_s_max_rel_err"] = float((sc.grad.cpu() - sg.grad).abs().max() / sg.grad.abs().max())
    return out


def run(args) -> None:
    from biopose_opensim.kinematics import OsimFK
    from biopose_opensim.neurik.trainer import train_neurik

    pack_dir, out = Path(args.pack), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dev = args.device
    results: dict = {"torch": torch.__version__,
                     "device": torch.cuda.get_device_name(0) if dev == "cuda" else "cpu"}

    def save():
        (out / "device_results.json").write_text(json.dumps(results, indent=1))

    tree = torch.load(pack_dir / "fk_tree.pt", weights_only=False)
    if dev == "cuda":
        results["fk_cuda_vs_cpu_float64"] = _fk_checks(tree)
    save()
    train, val = SplitData.load_packed(pack_dir / "train.npz"), SplitData.load_packed(pack_dir / "val.npz")
    hashes = json.loads((pack_dir / "data.json").read_text())
    budgets = [float(b) for b in args.budget_s.split(",")]
    for name, budget in zip(args.configs.split(","), budgets):
        cfg = CONFIGS[name]
        run_dir = Path(args.work) / name

        def fit(c):
            shutil.rmtree(run_dir, ignore_errors=True)
            t0 = time.perf_counter()
            r = train_neurik(c, [], run_dir, device=dev, seed=0, progress=False, fk=OsimFK(tree).to(dev),
                             splits=(train, val, hashes), overwrite=True)
            return r, time.perf_counter() - t0

        # two short probes give the time per step and per epoch (validation, checkpoint); then the configured
        # epochs are kept and the windows per epoch fitted into the budget
        probe = lambda n: dataclasses.replace(cfg.train, epochs=1, windows_per_epoch=n * cfg.train.batch_size)  # noqa
        _, t10 = fit(cfg.replace(train=probe(20)))
        _, t30 = fit(cfg.replace(train=probe(80)))
        t_step = max((t30 - t10) / 60, 1e-4)
        t_epoch = max(t10 - 20 * t_step, 0.0)
        all_windows = len(train.anchors(cfg.train.window_stride))
        steps = int((budget / cfg.train.epochs - t_epoch) / t_step)
        windows = min(all_windows, max(steps, 10) * cfg.train.batch_size)
        cfg_run = cfg.replace(train=dataclasses.replace(
            cfg.train, windows_per_epoch=0 if windows >= all_windows else windows))
        res, seconds = fit(cfg_run)
        results[name] = {"epochs": res.epochs, "windows_per_epoch": windows, "all_windows": all_windows,
                         "seconds": seconds, "seconds_per_step": t_step, "epoch_overhead_s": t_epoch,
                         "best_val_mae_deg": res.best_val_mae_deg, "config": cfg_run.to_dict(),
                         "history": list(res.history)}
        sub = out / name
        sub.mkdir(exist_ok=True)
        for f in ("best.safetensors", "best.json"):
            shutil.copy(run_dir / f, sub / f)
        save()
        log.info("%s: %s", name, {k: v for k, v in results[name].items() if k not in ("history", "config")})


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("pack")
    a.add_argument("--data", action="append", required=True, type=Path)
    a.add_argument("--out", required=True, type=Path)
    b = sub.add_parser("run")
    b.add_argument("--pack", required=True, type=Path)
    b.add_argument("--out", required=True, type=Path)
    b.add_argument("--work", default="/tmp/neurik_runs", type=Path)
    b.add_argument("--configs", default="cpu,mlp,paper")
    b.add_argument("--budget-s", default="150,60,240")
    b.add_argument("--device", default="cuda", choices=("cuda", "cpu"), help="cpu: a dry run of the script")
    args = p.parse_args()
    (pack if args.cmd == "pack" else run)(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
