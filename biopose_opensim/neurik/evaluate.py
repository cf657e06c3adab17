"""Evaluation of a NeurIK checkpoint against a dataset's OpenSim IK labels (the paper's Table-2 metrics).

Every trial of the split is predicted whole (:meth:`.system.NeurIKSystem.predict_trial`), optionally with
Gaussian marker noise or a fraction of markers removed for the whole trial, and compared with its labels
(:mod:`biopose_opensim.metrics`): ``mae_angle_deg``, per-coordinate MAE / RMSE, ``mpblpe_mm`` (the dataset's bony
markers through FK, root-aligned), ``mae_body_mm`` and the pelvis (root) translation error — overall, per activity
and per subject. Writes ``metrics.json``, ``metrics.md`` and ``coordinate_errors.png``.
"""
from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from ..atomic import atomic_write_text
from ..errors import OutputExistsError
from ..plots import pyplot, save_figure
from ..metrics import angle_abs_errors, body_scale_errors_mm, root_aligned_distances_mm, segment_axes
from .data import load_split, manifest_hash, open_dataset
from .system import NeurIKSystem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Metrics:
    """Accuracy over a set of frames (angles in degrees, distances in millimetres)."""

    frames: int
    mae_angle_deg: float
    mpblpe_mm: float
    mae_body_mm: float
    pelvis_translation_mm: float

    def to_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class EvaluationResult:
    """Outcome of :func:`evaluate_checkpoint`: overall metrics, per coordinate, per activity and per subject."""

    overall: Metrics
    per_coordinate: Mapping[str, Mapping[str, float]]
    per_activity: Mapping[str, Metrics]
    per_subject: Mapping[str, Metrics]
    settings: Mapping[str, Any] = field(default_factory=dict)
    out: Path | None = None


def _metrics(rows: Sequence[dict]) -> Metrics:
    ang = np.concatenate([r["q_err"][r["angle_mask"]] for r in rows])
    bl = np.concatenate([r["bony_mm"][r["frame_ok"]].ravel() for r in rows])
    body = np.concatenate([r["body_mm"].reshape(-1, r["body_mm"].shape[-1]) for r in rows])
    tr = np.concatenate([r["trans_mm"] for r in rows])
    return Metrics(frames=int(sum(len(r["trans_mm"]) for r in rows)),
                   mae_angle_deg=float(np.degrees(ang.mean())) if ang.size else math.nan,
                   mpblpe_mm=float(bl.mean()) if bl.size else math.nan,
                   mae_body_mm=float(np.nanmean(body)), pelvis_translation_mm=float(tr.mean()))


def evaluate_checkpoint(checkpoint: str | Path, data: Sequence[str | Path], split: str = "test", out: str | Path | None = None,
                        noise_mm: float = 0.0, drop_fraction: float = 0.0, seed: int = 0, device: str = "cpu",
                        progress: bool = True, overwrite: bool = False) -> EvaluationResult:
    """Evaluate ``checkpoint`` on ``split`` of the datasets ``data``; write the reports to ``out`` if given.

    Raises:
        OutputExistsError: ``out`` already holds an evaluation (``metrics.json``) and ``overwrite`` is False.
    """
    if out is not None and (Path(out) / "metrics.json").exists() and not overwrite:
        raise OutputExistsError(f"--out {out} already holds an evaluation (metrics.json); pass --overwrite to "
                                "replace it")
    system, ckpt = NeurIKSystem.from_checkpoint(checkpoint, device=device)
    fk = system.fk
    d = load_split(data, split, system.marker_names, fk.coordinate_names, fk.body_names)
    bony = []
    for root in data:
        bony += [m for m in open_dataset(root).manifest.get("bony_markers", []) if m in system.marker_names]
    bony = sorted(set(bony), key=system.marker_names.index)
    bony_fk = torch.tensor([fk.marker_names.index(m) for m in bony], dtype=torch.long, device=system.device)
    axes = segment_axes(fk)
    rotational = fk.rotational.cpu()
    keep = rotational & ~fk.locked.cpu()
    root = system.out_map.root
    rng = np.random.default_rng(seed)
    rows = []
    seconds = 0.0
    n_trials = len(d.trial_names)
    for t in tqdm(range(n_trials), desc=f"evaluate {split}", disable=not progress):
        sel = torch.nonzero(d.trial == t).flatten()
        if sel.numel() == 0:
            continue
        markers = d.markers[sel].clone()
        present = d.present[sel].clone()
        if noise_mm > 0:
            markers += torch.from_numpy(rng.normal(0.0, noise_mm / 1000.0, markers.shape).astype(np.float32))
        if drop_fraction > 0:
            gone = torch.from_numpy(rng.random(markers.shape[1]) < drop_fraction)
            present[:, gone] = False
        t0 = time.perf_counter()
        q, s = system.predict_trial(markers, present)
        seconds += time.perf_counter() - t0
        dev = system.device
        q_t, s_t, q_m = d.q[sel], d.s[sel], d.q_mask[sel]
        with torch.no_grad():
            p, g = fk(q, s), fk(q_t.to(dev), s_t.to(dev))
        bony_mm = root_aligned_distances_mm(p.markers[:, bony_fk], g.markers[:, bony_fk], p.body_origins[:, 0],
                                            g.body_origins[:, 0]).cpu().numpy()
        q, s = q.cpu(), s.cpu()
        _, tp = root.matrix(q)
        _, tt = root.matrix(q_t)
        rows.append({"subject": d.trial_subjects[t], "activity": d.trial_activities[t],
                     "q_err": angle_abs_errors(q, q_t, rotational).numpy(), "q_mask": q_m.numpy(),
                     "angle_mask": (q_m & keep).numpy(), "frame_ok": q_m.all(-1).numpy(), "bony_mm": bony_mm,
                     "body_mm": body_scale_errors_mm(s.numpy(), s_t.numpy(), axes),
                     "trans_mm": ((tp - tt).norm(dim=-1) * 1000).numpy()})
    overall = _metrics(rows)
    per_coord = {}
    rot = fk.rotational.cpu().numpy()
    for c, name in enumerate(fk.coordinate_names):
        if fk.locked[c]:
            continue
        e = np.concatenate([r["q_err"][r["q_mask"][:, c], c] for r in rows])
        if not e.size:
            continue
        k = math.degrees(1) if rot[c] else 1000.0
        per_coord[name] = {"unit": "deg" if rot[c] else "mm", "mae": float(e.mean() * k),
                           "rmse": float(np.sqrt((e ** 2).mean()) * k), "frames": int(e.size)}
    by = lambda key: {v: _metrics([r for r in rows if r[key] == v]) for v in sorted({r[key] for r in rows})}  # noqa: E731
    frames = sum(len(r["trans_mm"]) for r in rows)
    settings = {"checkpoint": str(Path(checkpoint)), "config": ckpt.config.name, "split": split,
                "datasets": {str(Path(x)): manifest_hash(x) for x in data}, "noise_mm": noise_mm,
                "drop_fraction": drop_fraction, "seed": seed, "device": str(system.device),
                "bony_markers": bony, "trials": n_trials, "frames": frames,
                "seconds_predict": seconds, "frames_per_second": frames / seconds if seconds else math.nan}
    result = EvaluationResult(overall=overall, per_coordinate=per_coord, per_activity=by("activity"),
                              per_subject=by("subject"), settings=settings, out=Path(out) if out else None)
    if out is not None:
        write_reports(result, Path(out))
    return result


def metrics_table(rows: Mapping[str, Metrics]) -> str:
    """Markdown table of named :class:`Metrics`."""
    lines = ["| | frames | MAE angle (deg) | MPBLPE (mm) | MAE body (mm) | pelvis translation (mm) |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, m in rows.items():
        lines.append(f"| {name} | {m.frames} | {m.mae_angle_deg:.2f} | {m.mpblpe_mm:.1f} | {m.mae_body_mm:.2f} | "
                     f"{m.pelvis_translation_mm:.1f} |")
    return "\n".join(lines)


def write_reports(result: EvaluationResult, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data = {"settings": dict(result.settings), "overall": result.overall.to_dict(),
            "per_coordinate": result.per_coordinate,
            "per_activity": {k: v.to_dict() for k, v in result.per_activity.items()},
            "per_subject": {k: v.to_dict() for k, v in result.per_subject.items()}}
    atomic_write_text(out / "metrics.json", json.dumps(data, indent=1))
    st = result.settings
    md = [f"# NeurIK evaluation: {st['config']} on the {st['split']} split", "",
          f"Checkpoint `{st['checkpoint']}`; {st['trials']} trials, {st['frames']} frames; marker noise "
          f"{st['noise_mm']} mm, markers dropped {100 * st['drop_fraction']:.0f} %.", "",
          metrics_table({"overall": result.overall}), "", "## Per activity", "", metrics_table(result.per_activity),
          "", "## Per subject", "", metrics_table(result.per_subject), "", "## Per coordinate", "",
          "| coordinate | MAE | RMSE | unit |", "|---|---:|---:|---|"]
    md += [f"| {k} | {v['mae']:.2f} | {v['rmse']:.2f} | {v['unit']} |" for k, v in result.per_coordinate.items()]
    md += ["", "![per-coordinate errors](coordinate_errors.png)", ""]
    atomic_write_text(out / "metrics.md", "\n".join(md))
    plt = pyplot()

    names = [k for k, v in result.per_coordinate.items() if v["unit"] == "deg"]
    fig, ax = plt.subplots(figsize=(max(6, 0.28 * len(names)), 3.8))
    ax.bar(range(len(names)), [result.per_coordinate[n]["mae"] for n in names], label="MAE")
    ax.plot(range(len(names)), [result.per_coordinate[n]["rmse"] for n in names], "k.", label="RMSE")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=90, fontsize=7)
    ax.set_ylabel("error (deg)")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, out / "coordinate_errors.png", dpi=110)
