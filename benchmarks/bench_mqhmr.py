"""Benchmark of MQ-HMR: forward time per image and 2D-informed refinement time per image.

1. Forward: seconds per image of the whole prediction (ViT backbone, feature pyramid, query decoder, parameter
   heads and the body layer's joints, camera translation and 2D keypoints; ``body_outputs(net(images))``) at batch
   1 and 16, inference mode, float32.
2. Refinement: seconds per image of :func:`biopose_opensim.hmr.refine.refine` at batch 1 for ``T`` = 1, 5, 10
   and 20 iterations: the whole call (image features, first prediction, ``T`` Adam steps on the query tokens,
   final prediction) and the optimisation alone (``RefineResult.seconds``), beside the paper's published times
   (RTX A4000).

The networks have random weights (timing does not depend on them); the 2D targets are the network's own first
prediction moved by 2 % of the crop. ``tiny`` and ``small`` are timed on every device, ``paper`` (ViT-H/16) on
CUDA when present; on the CPU only with ``--paper-cpu``, and then one forward at batch 1 only. Prints a table and
writes ``benchmarks/results/bench_mqhmr_<device>.json`` (``cpu``, or ``cuda`` when CUDA rows are included).

Usage::

    python benchmarks/bench_mqhmr.py [--configs tiny,small] [--devices cpu,cuda] [--repeats 3] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from biopose_opensim.atomic import atomic_write_text  # noqa: E402
from biopose_opensim.hmr.config import CONFIGS, RefineConfig  # noqa: E402
from biopose_opensim.hmr.model import MQHMR, body_outputs, count_parameters, make_body  # noqa: E402
from biopose_opensim.hmr.refine import refine  # noqa: E402

#: The paper's refinement times, seconds per image on an RTX A4000, by iterations T.
PAPER_REFINE_S = {1: 0.293, 5: 0.405, 10: 0.620, 20: 0.838}
BATCHES = (1, 16)
ITERATIONS = (1, 5, 10, 20)
#: Untimed batch-1 predictions before the first measurement of a configuration.
WARMUP_CALLS = 5


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize()


def _median_seconds(fn, dev: torch.device, repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(max(1, repeats)):
        _sync(dev)
        t0 = time.perf_counter()
        fn()
        _sync(dev)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_config(name: str, dev: torch.device, body_cpu, repeats: int = 3, batches=BATCHES,
                 iterations=ITERATIONS, forward_only: bool = False, seed: int = 0) -> dict:
    """Time one configuration on ``dev``; returns a row of seconds per image (keys in the module docstring).

    Args:
        name: a registry configuration (``paper``, ``small``, ``tiny``).
        body_cpu: the body layer (moved to ``dev`` here).
        repeats: timed calls per measurement (the median is kept), after one warm-up call.
        batches: forward batch sizes.
        iterations: refinement iteration counts ``T`` (batch 1).
        forward_only: time one forward at ``batches[0]`` only, no warm-up (the ViT-H on a CPU).
    """
    cfg = CONFIGS[name]
    body = body_cpu.to(dev)
    torch.manual_seed(seed)
    net = MQHMR(cfg, body).to(dev).eval()
    S = cfg.crop
    row = {"config": name, "device": str(dev), "parameters": count_parameters(net),
           "backbone": f"ViT {cfg.backbone.embed_dim} wide x {cfg.backbone.depth} blocks",
           "queries": cfg.decoder.queries, "decoder_layers": cfg.decoder.layers,
           "repeats": 1 if forward_only else repeats}
    gen = torch.Generator().manual_seed(seed)
    if not forward_only:  # the first calls of a new network run several times slower on the CPU
        warm = torch.randn(1, 3, S, S, generator=gen).to(dev)
        for _ in range(WARMUP_CALLS):
            with torch.inference_mode():
                body_outputs(net(warm), body, cfg)
    for b in batches[:1] if forward_only else batches:
        images = torch.randn(b, 3, S, S, generator=gen).to(dev)

        def forward():
            with torch.inference_mode():
                body_outputs(net(images), body, cfg)

        if forward_only:
            seconds = _median_seconds(forward, dev, 1, warmup=0)
        else:
            seconds = _median_seconds(forward, dev, repeats)
        row[f"forward_s_per_image_b{b}"] = seconds / b
    if forward_only:
        return row
    image = torch.randn(1, 3, S, S, generator=gen).to(dev)
    with torch.inference_mode():
        first = body_outputs(net(image), body, cfg).keypoints_2d
    offset = 0.02 * torch.randn(first.shape, generator=gen).to(dev)
    target = torch.cat([first + offset, torch.ones_like(first[..., :1])], dim=-1)
    for T in iterations:
        settings = RefineConfig(iterations=T, lr=cfg.refine.lr, pose_weight=cfg.refine.pose_weight)
        opt_seconds: list[float] = []

        def run():
            result = refine(net, body, cfg, image, target, settings)
            opt_seconds.append(result.seconds)

        row[f"refine_s_per_image_T{T}"] = _median_seconds(run, dev, repeats)
        row[f"refine_opt_s_per_image_T{T}"] = statistics.median(opt_seconds[1:])
        row[f"refine_s_per_iteration_T{T}"] = row[f"refine_opt_s_per_image_T{T}"] / T
    return row


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if value >= 0.1 else f"{value * 1000:.1f} ms"
    return str(value)


def format_table(rows: list[dict], batches=BATCHES, iterations=ITERATIONS) -> str:
    """Markdown table of the rows (seconds per image; under 0.1 s shown in ms) with the paper's refinement times
    as the last row."""
    head = (["config", "device", "parameters"] + [f"forward b{b}" for b in batches]
            + [f"refine T={T}" for T in iterations] + ["per iteration (T=20)" if 20 in iterations else
                                                      f"per iteration (T={iterations[-1]})"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    last = iterations[-1]
    for r in rows:
        cells = [r["config"], r["device"], f"{r['parameters']:,}"]
        cells += [_fmt(r.get(f"forward_s_per_image_b{b}")) for b in batches]
        cells += [_fmt(r.get(f"refine_s_per_image_T{T}")) for T in iterations]
        cells.append(_fmt(r.get(f"refine_s_per_iteration_T{last}")))
        lines.append("| " + " | ".join(cells) + " |")
    paper = ["paper (published)", "RTX A4000", "-"] + ["-" for _ in batches]
    paper += [_fmt(PAPER_REFINE_S.get(T)) for T in iterations]
    paper.append("-")
    lines.append("| " + " | ".join(paper) + " |")
    return "\n".join(lines)


def output_path(rows: list[dict]) -> Path:
    """``benchmarks/results/bench_mqhmr_<device>.json``: ``cuda`` when any row ran on CUDA, else ``cpu``."""
    device = "cuda" if any(r["device"].startswith("cuda") for r in rows) else "cpu"
    return HERE / "results" / f"bench_mqhmr_{device}.json"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", default="tiny,small", help="configurations timed on every device (default "
                   "tiny,small); paper is added on CUDA")
    p.add_argument("--devices", default="cpu,cuda", help="devices to time (cuda only when present)")
    p.add_argument("--repeats", type=int, default=3, help="timed calls per measurement, median kept (default 3)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default 0: torch's choice)")
    p.add_argument("--paper-cpu", action="store_true", help="also one batch-1 forward of paper on the CPU (slow)")
    p.add_argument("--note", default="", help="added to the JSON's note (e.g. what else ran on the machine)")
    p.add_argument("--out", type=Path, help="JSON output (default benchmarks/results/bench_mqhmr_<device>.json)")
    args = p.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    body = make_body(CONFIGS["tiny"])  # the Anny layer: the same for every configuration
    devices = [torch.device(d) for d in args.devices.split(",")
               if d == "cpu" or (d == "cuda" and torch.cuda.is_available())]
    rows = []
    for dev in devices:
        names = [n for n in args.configs.split(",") if n]
        if "paper" not in names and (dev.type == "cuda" or args.paper_cpu):
            names.append("paper")
        for name in names:
            cpu_paper = name == "paper" and dev.type == "cpu"
            if cpu_paper and not args.paper_cpu:
                continue
            rows.append(bench_config(name, dev, body, args.repeats, forward_only=cpu_paper))
            print(f"timed {name} on {dev}", flush=True)
    print("Seconds per image; random weights; refinement at batch 1 including the image features.")
    print(format_table(rows))
    note = ("random weights (timing does not depend on them); float32; refinement times include the image "
            "features and the first and last predictions; refine_opt_* is the optimisation alone")
    meta = {"torch": torch.__version__, "threads": torch.get_num_threads(), "machine": platform.machine(),
            "cpu_count": os.cpu_count(), "load_average": os.getloadavg(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "warmup": f"{WARMUP_CALLS} untimed batch-1 predictions per configuration, then 1 untimed call before "
                      "each measurement (none for paper on the CPU)",
            "note": note + (f"; {args.note}" if args.note else ""),
            "paper_refine_s_per_image_rtx_a4000": {str(k): v for k, v in PAPER_REFINE_S.items()}}
    out = args.out or output_path(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps({"meta": meta, "rows": rows}, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
