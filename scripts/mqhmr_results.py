"""MQ-HMR accuracy on held-out synthetic renders, with and without 2D-informed refinement (docs/mqhmr.md).

    python scripts/mqhmr_results.py --data data/hmr_renders --checkpoint runs/mqhmr_small/best.safetensors \
        --out results/mqhmr_eval [--split test] [--refine-images 128] [--iterations 1,5,10,20]

Writes ``results.json`` and ``results.md``: MPJPE, PA-MPJPE (mm) and 2D error (px) of the network on every
image of the split, and on the first ``--refine-images`` images before and after refinement with T iterations
against the true 2D keypoints (with the seconds per image of the refinement).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from biopose_opensim.atomic import atomic_write_text  # noqa: E402
from biopose_opensim.hmr.checkpoint import load_mqhmr  # noqa: E402
from biopose_opensim.hmr.data import RenderDataset  # noqa: E402
from biopose_opensim.hmr.evaluate import HMRMetrics, evaluate_loader, joint_errors, summary_table  # noqa: E402
from biopose_opensim.hmr.refine import refine  # noqa: E402

log = logging.getLogger("mqhmr_results")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--checkpoint", required=True, type=Path)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--split", default="test")
    p.add_argument("--refine-images", type=int, default=128)
    p.add_argument("--iterations", default="1,5,10,20")
    p.add_argument("--lr", type=float, help="refinement learning rate (default: the checkpoint's)")
    p.add_argument("--pose-weight", type=float, help="lambda_theta (default: the checkpoint's)")
    p.add_argument("--batch", type=int, default=32)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    torch.manual_seed(0)
    net, body, cfg, meta = load_mqhmr(args.checkpoint)
    data = RenderDataset(args.data, args.split, cfg.crop)
    loader = torch.utils.data.DataLoader(data, batch_size=args.batch)
    full = evaluate_loader(net, body, cfg, loader, "cpu")
    log.info("%s split, %d images: MPJPE %.1f mm, PA-MPJPE %.1f mm, 2D %.2f px", args.split, full.n_images,
             full.mpjpe_mm, full.pa_mpjpe_mm, full.err2d_px)
    sub = torch.utils.data.Subset(data, list(range(min(args.refine_images, len(data)))))
    settings = cfg.refine
    if args.lr is not None:
        settings = dataclasses.replace(settings, lr=args.lr)
    if args.pose_weight is not None:
        settings = dataclasses.replace(settings, pose_weight=args.pose_weight)
    rows: dict[str, HMRMetrics] = {}
    for T in [0] + [int(t) for t in args.iterations.split(",")]:
        sums = {"mpjpe_mm": 0.0, "pa_mpjpe_mm": 0.0, "err2d_px": 0.0}
        n, secs = 0, 0.0
        for batch in torch.utils.data.DataLoader(sub, batch_size=args.batch):
            t0 = time.perf_counter()
            res = refine(net, body, cfg, batch["image"], batch["keypoints_2d"],
                         settings=dataclasses.replace(settings, iterations=T))
            secs += time.perf_counter() - t0
            errs = joint_errors(res.refined, batch["keypoints_3d"], batch["keypoints_2d"], cfg.crop)
            for k in sums:
                sums[k] += float(errs[k].sum())
            n += len(batch["image"])
        rows[f"T = {T}"] = HMRMetrics(n, sums["mpjpe_mm"] / n, sums["pa_mpjpe_mm"] / n, sums["err2d_px"] / n, secs / n)
        log.info("T = %d: %s", T, rows[f"T = {T}"])
    out = {"checkpoint": str(args.checkpoint), "epoch": meta.get("epoch"), "split": args.split,
           "refine": dataclasses.asdict(settings), "network": full.to_dict(),
           "refinement": {k: v.to_dict() for k, v in rows.items()}}
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / "results.json", json.dumps(out, indent=1))
    md = [f"# MQ-HMR on held-out renders ({args.split} split)", "", summary_table({"network": full}), "",
          f"Refinement on the first {n} images against their true 2D keypoints (lr {settings.lr}, "
          f"lambda_theta {settings.pose_weight}); seconds per image of the whole refinement, batch {args.batch}:", "",
          summary_table(rows), "", "| T | s / image |", "|---|---|"]
    md += [f"| {k} | {v.seconds_per_image:.3f} |" for k, v in rows.items()]
    atomic_write_text(args.out / "results.md", "\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
