"""The comparison's outputs: ``comparison.json`` (figures), ``report.md`` (tables) and its plots: joint angles of
both methods overlaid per coordinate, per-coordinate errors, and the distributions of OpenSim's marker errors."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..atomic import atomic_write_text
from ..plots import pyplot, save_figure

if TYPE_CHECKING:  # pragma: no cover
    from .results import ComparisonResult


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def _save(fig, png: Path) -> Path:
    return save_figure(fig, png, dpi=80)


def _figure(*args, **kwargs):
    return pyplot().subplots(*args, **kwargs)


def plot_angles(r: "ComparisonResult", png: Path) -> Path:
    """One panel per unlocked rotational coordinate: NeurIK and OpenSim IK, degrees against time (s)."""
    names = [m.name for m in r.metrics.coordinates if m.unit == "deg"]
    cols = 5
    rows = max(1, math.ceil(len(names) / cols))
    fig, axes = _figure(rows, cols, figsize=(3.0 * cols, 1.9 * rows), squeeze=False)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    for ax, name in zip(axes.ravel(), names):
        c = r.coordinate_names.index(name)
        ax.plot(r.times, np.degrees(r.q_opensim[:, c]), color="k", lw=1.2, label="OpenSim IK")
        ax.plot(r.times, np.degrees(r.q_neurik[:, c]), color="tab:red", lw=1.0, ls="--", label="NeurIK")
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=6)
    axes.ravel()[0].legend(fontsize=6, loc="best")
    fig.suptitle(f"{r.trial.stem}: joint angles (deg) vs time (s), NeurIK vs OpenSim IK", fontsize=9)
    fig.tight_layout()
    return _save(fig, png)


def plot_coordinate_errors(r: "ComparisonResult", png: Path) -> Path:
    """MAE bars with RMSE marks per unlocked rotational coordinate, degrees."""
    rows = [m for m in r.metrics.coordinates if m.unit == "deg"]
    fig, ax = _figure(figsize=(max(6.0, 0.32 * len(rows)), 3.2))
    x = np.arange(len(rows))
    ax.bar(x, [m.mae for m in rows], color="tab:blue", label="MAE")
    ax.plot(x, [m.rmse for m in rows], "k_", markersize=8, label="RMSE")
    ax.set_xticks(x, [m.name for m in rows], rotation=90, fontsize=6)
    ax.set_ylabel("deg")
    ax.legend(fontsize=7)
    ax.set_title(f"{r.trial.stem}: NeurIK - OpenSim IK per coordinate", fontsize=9)
    fig.tight_layout()
    return _save(fig, png)


def plot_marker_errors(r: "ComparisonResult", png: Path) -> Path:
    """Histograms of OpenSim's marker errors (every frame and tracked marker), mm, of both methods."""
    fig, ax = _figure(figsize=(6.0, 3.2))
    data = {k: v[np.isfinite(v)] * 1000.0 for k, v in r.metrics.marker_errors_m.items()}
    top = max((float(v.max()) for v in data.values() if v.size), default=1.0)
    bins = np.linspace(0.0, top, 40)
    for (key, label), color in zip((("opensim", "OpenSim IK"), ("neurik", "NeurIK")), ("k", "tab:red")):
        ax.hist(data[key], bins=bins, histtype="step", color=color, lw=1.2,
                label=f"{label} (RMS {r.metrics.marker_rms_mm[key]:.2f} mm)")
    ax.set_xlabel("marker error (mm)")
    ax.set_ylabel("markers x frames")
    ax.legend(fontsize=7)
    ax.set_title(f"{r.trial.stem}: OpenSim's marker errors", fontsize=9)
    fig.tight_layout()
    return _save(fig, png)


def summary_dict(r: "ComparisonResult", checkpoint: Path, reused: bool) -> dict[str, Any]:
    """The ``comparison.json`` content (angles deg, lengths mm, times s; NaN written as null)."""
    m, t = r.metrics, r.ik_timing
    return {
        "trial": str(r.trial), "static": str(r.static), "subject": r.opensim.subject, "checkpoint": str(checkpoint),
        "n_frames": m.n_frames,
        "mae_angle_deg": _num(m.mae_angle_deg), "mpblpe_mm": _num(m.mpblpe_mm), "mae_body_mm": _num(m.mae_body_mm),
        "opensim_marker_rms_mm": _num(m.marker_rms_mm["opensim"]),
        "neurik_marker_rms_mm": _num(m.marker_rms_mm["neurik"]),
        "opensim_seconds": t.seconds, "neurik_seconds": r.neurik_seconds, "speedup": _num(r.speedup),
        "opensim_accuracy": t.accuracy,
        "opensim_frames_per_second": t.frames_per_second,
        "neurik_frames_per_second": m.n_frames / max(r.neurik_seconds, 1e-12),
        "loading_seconds": {"opensim_ik_model_and_results": t.setup_seconds,
                            "neurik_checkpoint": r.neurik_load_seconds},
        "label_seconds": r.opensim.label_seconds, "label_reused": reused, "label_dir": str(r.opensim.label_dir),
        "per_coordinate": {c.name: {"unit": c.unit, "mae": _num(c.mae), "rmse": _num(c.rmse),
                                    "pearson_r": _num(c.pearson_r)} for c in m.coordinates},
        "bony_markers": list(m.bony_markers),
        "files": {"opensim_ik_mot": str(r.opensim.ik_mot), "opensim_marker_errors": str(r.opensim.marker_errors_file),
                  "opensim_scaled_model": str(r.opensim.scaled_model), "neurik": str(r.neurik_dir)},
    }


def write_comparison(r: "ComparisonResult", checkpoint: Path, reused: bool) -> None:
    """Write the plots, ``report.md`` and (last) ``comparison.json`` beside them."""
    out = r.summary.parent
    angles = plot_angles(r, out / "compare_angles.png")
    bars = plot_coordinate_errors(r, out / "compare_coordinate_errors.png")
    hist = plot_marker_errors(r, out / "compare_marker_errors.png")
    d = summary_dict(r, checkpoint, reused)
    m, t = r.metrics, r.ik_timing
    lines = [
        f"# NeurIK vs OpenSim IK: {r.trial.name}", "",
        f"Subject `{r.opensim.subject}` (static `{r.static.name}`), {m.n_frames} frames. OpenSim IK: `label` "
        f"(ScaleTool + InverseKinematicsTool, accuracy {t.accuracy:g})"
        + (f", reused from `{r.opensim.label_dir}`" if reused else "") + f". NeurIK: `{checkpoint.name}`.", "",
        "| figure | value |", "|---|---|",
        f"| MAE angle (independent unlocked rotational coordinates) | {m.mae_angle_deg:.2f} deg |",
        f"| MPBLPE ({len(m.bony_markers)} bony markers, root-aligned) | {m.mpblpe_mm:.1f} mm |",
        f"| MAE body scale (longest axis) | {m.mae_body_mm:.1f} mm |",
        f"| OpenSim marker RMS, OpenSim IK | {m.marker_rms_mm['opensim']:.2f} mm |",
        f"| OpenSim marker RMS, NeurIK | {m.marker_rms_mm['neurik']:.2f} mm |", "",
        "## Timing", "",
        "| | solve (s) | frames/s | loading, excluded (s) |", "|---|---|---|---|",
        f"| OpenSim IK (accuracy {t.accuracy:g}) | {t.seconds:.3f} | {t.frames_per_second:.1f} | "
        f"{t.setup_seconds:.2f} (model, tool, results) |",
        f"| NeurIK (cpu) | {r.neurik_seconds:.4f} | {d['neurik_frames_per_second']:.0f} | "
        f"{r.neurik_load_seconds:.2f} (checkpoint) |", "",
        f"Speed-up (OpenSim IK solve / NeurIK solve): **{r.speedup:.0f}x**.", "",
        "## Joint angles", "", f"![angles]({angles.name})", "",
        "## Per-coordinate agreement", "", f"![errors]({bars.name})", "",
        "| coordinate | MAE | RMSE | Pearson r |", "|---|---|---|---|",
        *[f"| {c.name} | {c.mae:.2f} {c.unit} | {c.rmse:.2f} {c.unit} | {c.pearson_r:.3f} |" for c in m.coordinates],
        "", "## Marker errors (OpenSim's, both methods)", "", f"![marker errors]({hist.name})", "",
    ]
    atomic_write_text(r.report, "\n".join(lines))
    atomic_write_text(r.summary, json.dumps(d, indent=2) + "\n")
