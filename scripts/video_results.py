"""Accuracy of the whole video -> OpenSim chain on held-out synthetic clips with known OpenSim labels.

    python scripts/video_results.py --data data/neurik_synth --out results/video_eval \
        [--subjects s004,s010,s020,s028,s030] [--trials walk,squat] [--frontends fit,mqhmr,mqhmr+refine]

For every (held-out subject, trial) a clip is rendered with ``scripts/make_video_sample.py`` (one fixed level
camera, 2 s at 15 fps, 320x240) and its exact 2D joints written as COCO keypoints; each front end then runs
``predict --video`` on it, and NeurIK's coordinates and scale factors are compared with the subject's OpenSim IK
labels and scale factors. A video has no lab frame: the heading and tilt of the reconstructed body relative to the
lab are those of the unknown camera. So, besides ``compare``'s definitions (``mae_angle_deg`` over every
independent rotational coordinate, ``mpblpe_mm`` of root-aligned bony markers), the table gives
``mae_joint_deg`` (the same without the pelvis' three orientation coordinates) and ``mpblpe_yaw_mm`` (after one
rotation about the vertical per clip, the least-squares heading, on top of the per-frame root alignment).
``--metrics-only`` recomputes the figures from the runs already in ``--out``. Writes ``results.json`` and
``results.md``.
"""
from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from biopose_opensim.atomic import atomic_write_text  # noqa: E402
from biopose_opensim.comparison.pipeline import bony_landmarks  # noqa: E402
from biopose_opensim.datasets import Dataset, iter_trials  # noqa: E402
from biopose_opensim.metrics import angle_abs_errors, root_aligned_distances_mm  # noqa: E402
from biopose_opensim.motion import read_motion  # noqa: E402
from biopose_opensim.neurik import NeurIKSystem, default_checkpoint  # noqa: E402
from biopose_opensim.video.pipeline import predict_video  # noqa: E402

log = logging.getLogger("video_results")
FRONTENDS = {"fit": ("fit", None), "mqhmr": ("mqhmr", 0), "mqhmr+refine": ("mqhmr", None)}


#: The pelvis' orientation coordinates: relative to the lab, which a video does not see.
GLOBAL_ORIENTATION = ("pelvis_tilt", "pelvis_list", "pelvis_rotation")


def yaw_align(pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """``pred (F, K, 3)`` (root-relative, y up) turned about y by the one angle that best fits ``true``."""
    a, b = pred[..., [0, 2]].reshape(-1, 2), true[..., [0, 2]].reshape(-1, 2)
    angle = torch.atan2((a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum(), (a * b).sum())
    c, s = torch.cos(angle), torch.sin(angle)
    x, z = pred[..., 0], pred[..., 2]
    return torch.stack([c * x - s * z, pred[..., 1], s * x + c * z], dim=-1)


def metrics(system: NeurIKSystem, q_pred: np.ndarray, s_pred: np.ndarray, q_true: np.ndarray,
            s_true: np.ndarray, bony: tuple[str, ...]) -> dict:
    fk = system.fk.double()
    F = len(q_pred)
    qp, qt = torch.as_tensor(q_pred, dtype=torch.float64), torch.as_tensor(q_true, dtype=torch.float64)
    sp = torch.as_tensor(s_pred, dtype=torch.float64).expand(F, -1, -1)
    st = torch.as_tensor(s_true, dtype=torch.float64).expand(F, -1, -1)
    err = angle_abs_errors(qp, qt, fk.rotational).numpy()
    keep = (fk.rotational & ~fk.locked).numpy()
    joint = keep & np.array([n not in GLOBAL_ORIENTATION for n in fk.coordinate_names])
    idx = [fk.marker_names.index(m) for m in bony]
    with torch.no_grad():
        a, b = fk(qp, sp), fk(qt, st)
        d = root_aligned_distances_mm(a.markers[:, idx], b.markers[:, idx], a.body_origins[:, 0], b.body_origins[:, 0])
        pa = a.markers[:, idx] - a.body_origins[:, :1]
        pb = b.markers[:, idx] - b.body_origins[:, :1]
        dy = (yaw_align(pa, pb) - pb).norm(dim=-1) * 1000.0
    return {"frames": F, "mae_angle_deg": float(np.degrees(err[:, keep].mean())),
            "mae_joint_deg": float(np.degrees(err[:, joint].mean())), "mpblpe_mm": float(d.mean()),
            "mpblpe_yaw_mm": float(dy.mean())}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--subjects", default="s004,s010,s020,s028,s030")
    p.add_argument("--trials", default="walk,squat")
    p.add_argument("--frontends", default="fit,mqhmr,mqhmr+refine")
    p.add_argument("--metrics-only", action="store_true", help="recompute the figures of the runs in --out")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    system, _ = NeurIKSystem.from_checkpoint(default_checkpoint())
    names = system.fk.coordinate_names
    bony = bony_landmarks(system.config.marker_set_path(), tuple(system.fk.marker_names))
    scales = {(s, t): a["s"][0] for s, t, a in iter_trials(Dataset.open(args.data), "test")}
    rows = []
    for subject in args.subjects.split(","):
        for trial in args.trials.split(","):
            clip = args.out / "clips" / f"{subject}_{trial}"
            if not (clip / "clip.mp4").is_file():
                subprocess.run([sys.executable, str(Path(__file__).with_name("make_video_sample.py")), "--data",
                                str(args.data), "--subject", subject, "--trial", trial, "--out", str(clip)], check=True)
            truth = read_motion(clip / "truth.mot", system.config.model_path())
            q_true = np.stack([truth.q[:, truth.coordinate_names.index(n)] for n in names], axis=1)
            for fe in args.frontends.split(","):
                frontend, iters = FRONTENDS[fe]
                out = args.out / "runs" / f"{subject}_{trial}_{fe}"
                if not args.metrics_only:
                    predict_video(clip / "clip.mp4", out, keypoints=clip / "keypoints_coco.json", frontend=frontend,
                                  refine_iterations=iters, progress=False, overwrite=True)
                summary = json.loads((out / "video.json").read_text())
                factors = json.loads((out / "predict.json").read_text())["scale"]["factors"]
                s_pred = np.array([factors[b] for b in system.fk.body_names])
                mot = read_motion(out / "clip_virtual_markers_neurik.mot", system.config.model_path())
                q_pred = np.stack([mot.q[:, mot.coordinate_names.index(n)] for n in names], axis=1)
                row = {"subject": subject, "trial": trial, "frontend": fe,
                       **metrics(system, q_pred, s_pred, q_true, scales[(subject, trial)], bony),
                       "seconds_per_frame": summary["seconds"]["total"] / summary["frames"]}
                log.info("%s", row)
                rows.append(row)
                atomic_write_text(args.out / "results.json", json.dumps(rows, indent=1))
    md = ["| front end | clips | MAE joint angles (deg) | MPBLPE, heading aligned (mm) | MAE angle (deg) | "
          "MPBLPE (mm) | s / frame |", "|---|---|---|---|---|---|---|"]
    for fe in args.frontends.split(","):
        r = [x for x in rows if x["frontend"] == fe]
        mean = lambda k: np.mean([x[k] for x in r])  # noqa: E731
        md.append(f"| {fe} | {len(r)} | {mean('mae_joint_deg'):.1f} | {mean('mpblpe_yaw_mm'):.1f} | "
                  f"{mean('mae_angle_deg'):.1f} | {mean('mpblpe_mm'):.1f} | {mean('seconds_per_frame'):.2f} |")
    atomic_write_text(args.out / "results.md", "\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
