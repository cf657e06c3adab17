"""Benchmark of NeurIK: inference throughput and training speed.

1. Network throughput: windows per second of the network alone (random inputs of the right shape) at batch
   sizes 1, 256 and 4096 windows, inference mode, float32.
2. Whole-trial inference: frames per second of ``NeurIKSystem.predict_trial`` on a 3000-frame trial (per-frame
   features computed once and reused across windows; normalisation and output decoding included).
3. Training: optimiser steps per second of the trainer's step (window gathering, augmentation, network, FK-layer
   losses, backward, Adam) at the configuration's batch size.

For each of the ``cpu`` and ``paper`` configurations (and the ``mlp`` baseline), on the CPU and, when one is
present, on CUDA. Prints a table and writes ``benchmarks/results/bench_neurik.json``.

Usage::

    python benchmarks/bench_neurik.py [--configs cpu,paper,mlp] [--seconds 2]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from biopose_opensim.atomic import atomic_write_text  # noqa: E402
from biopose_opensim.kinematics import OsimFK  # noqa: E402
from biopose_opensim.neurik.augment import Window, augment  # noqa: E402
from biopose_opensim.neurik.config import CONFIGS  # noqa: E402
from biopose_opensim.neurik.losses import neurik_loss  # noqa: E402
from biopose_opensim.neurik.system import NeurIKSystem  # noqa: E402


def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def _rate(fn, dev, seconds: float) -> float:
    """Calls per second of ``fn`` (after 2 warm-up calls) over about ``seconds``."""
    fn()
    fn()
    _sync(dev)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or n < 3:
        fn()
        n += 1
    _sync(dev)
    return n / (time.perf_counter() - t0)


def _standing_markers(system: NeurIKSystem, frames: int) -> torch.Tensor:
    fk = system.fk
    q = fk.default_q(frames).clone()
    q[:, fk.coordinate_names.index("pelvis_ty")] = 0.95
    q[:, fk.coordinate_names.index("pelvis_tx")] = torch.linspace(-2, 2, frames)
    q[:, fk.coordinate_names.index("hip_flexion_r")] = 0.4 * torch.sin(torch.linspace(0, 30, frames))
    with torch.no_grad():
        return fk(q.to(fk.default_values.device)).markers[:, system.marker_index]


def bench(name: str, dev: torch.device, seconds: float, fk_cpu: OsimFK) -> dict:
    cfg = CONFIGS[name]
    fk = OsimFK(fk_cpu.tree).to(dev)
    system = NeurIKSystem.build(cfg, torch.ones(fk.n_bodies, 3), 0.2 * torch.ones(fk.n_bodies, 3), fk=fk, device=dev)
    T, M = cfg.model.window, len(system.marker_names)
    out = {"config": name, "device": str(dev), "parameters": sum(p.numel() for p in system.net.parameters())}
    system.net.eval()
    for b in (1, 256, 4096):
        x, rel = torch.randn(b, T, M, 4, device=dev), torch.randn(b, T, 5, device=dev)

        def infer():
            with torch.inference_mode():
                system.net(x, rel)

        out[f"net_windows_per_s_b{b}"] = b * _rate(infer, dev, seconds)
    mk = _standing_markers(system, 3000)
    out["predict_trial_frames_per_s"] = 3000 * _rate(lambda: system.predict_trial(mk), dev, seconds)
    system.net.train()
    B = cfg.train.batch_size
    q = fk.default_q(B, T).clone()
    q[..., fk.coordinate_names.index("pelvis_ty")] = 0.95
    with torch.no_grad():
        mk = fk(q).markers[..., system.marker_index, :]
    w = Window(markers=mk, present=torch.ones(mk.shape[:-1], dtype=torch.bool, device=dev), q=q,
               q_mask=torch.ones_like(q, dtype=torch.bool), s=torch.ones(B, T, fk.n_bodies, 3, device=dev))
    opt = torch.optim.Adam(system.net.parameters(), lr=1e-4)
    pos = system.output_positions()

    def step():
        a = augment(w, cfg.augment, system.out_map.root, system.root_idx)
        inp = system.inputs(a)
        if dev.type == "cuda":
            with torch.autocast("cuda", dtype=torch.bfloat16):
                raw = system.net(inp.x, inp.rel)
            raw = type(raw)(*(t.float() for t in (raw.coords, raw.root_rot6d, raw.root_trans, raw.scales)))
        else:
            raw = system.net(inp.x, inp.rel)
        qp, sp = system.decode(raw, inp, clamp_root=False)
        loss = neurik_loss(cfg.loss, fk, qp, sp, a.q[:, pos], a.s[:, pos], a.q_mask[:, pos], a.present[:, pos],
                           system.marker_index).total
        opt.zero_grad()
        loss.backward()
        opt.step()

    out["train_steps_per_s"] = _rate(step, dev, seconds)
    out["train_windows_per_s"] = out["train_steps_per_s"] * B
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", default="cpu,paper,mlp")
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--devices", default="cpu,cuda", help="devices to time (cuda only when present)")
    p.add_argument("--fk-tree", type=Path,
                   help="model description saved by scripts/device_neurik.py pack (for a machine without OpenSim)")
    p.add_argument("--out", type=Path, default=HERE / "results" / "bench_neurik.json")
    args = p.parse_args()
    cfg = CONFIGS["cpu"]
    if args.fk_tree is not None:
        fk_cpu = OsimFK(torch.load(args.fk_tree, weights_only=False))
    else:
        fk_cpu = OsimFK.from_osim(cfg.model_path(), marker_set=cfg.marker_set_path())
    wanted = args.devices.split(",")
    devices = [torch.device(d) for d in wanted if d == "cpu" or (d == "cuda" and torch.cuda.is_available())]
    rows = [bench(n, d, args.seconds, fk_cpu) for d in devices for n in args.configs.split(",")]
    head = ("config", "device", "parameters", "net_windows_per_s_b1", "net_windows_per_s_b256",
            "net_windows_per_s_b4096", "predict_trial_frames_per_s", "train_steps_per_s", "train_windows_per_s")
    print(" | ".join(head))
    for r in rows:
        print(" | ".join(f"{r[h]:.1f}" if isinstance(r[h], float) else str(r[h]) for h in head))
    meta = {"torch": torch.__version__, "threads": torch.get_num_threads(), "machine": platform.machine(),
            "cpu_count": os.cpu_count(), "load_average": os.getloadavg(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    atomic_write_text(args.out, json.dumps({"meta": meta, "rows": rows}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
