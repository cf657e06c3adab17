"""The prediction summary: ``predict.json`` (timings, marker RMS per trial, checkpoint identity), ``report.md``
(per-trial table, scale factors, plots) and the joint-angle plot of each trial."""
from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ..atomic import atomic_write_text
from ..plots import pyplot, save_figure

if TYPE_CHECKING:  # pragma: no cover
    from .inputs import TrialInput
    from .results import PredictionResult, TrialPrediction

#: Panels of the joint-angle plot: (title, coordinates drawn in it); coordinates the model lacks are left out.
MAIN_PANELS = (
    ("pelvis", ("pelvis_tilt", "pelvis_list", "pelvis_rotation")),
    ("lumbar", ("lumbar_extension", "lumbar_bending", "lumbar_rotation")),
    ("hip flexion", ("hip_flexion_r", "hip_flexion_l")),
    ("hip adduction", ("hip_adduction_r", "hip_adduction_l")),
    ("hip rotation", ("hip_rotation_r", "hip_rotation_l")),
    ("knee", ("knee_angle_r", "knee_angle_l")),
    ("ankle", ("ankle_angle_r", "ankle_angle_l")),
    ("shoulder flexion", ("arm_flex_r", "arm_flex_l")),
    ("elbow", ("elbow_flex_r", "elbow_flex_l")),
)


def _stats_mm(x: np.ndarray) -> dict[str, float | None]:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if not x.size:
        return {"mean": None, "median": None, "max": None}
    return {"mean": float(1e3 * x.mean()), "median": float(1e3 * np.median(x)), "max": float(1e3 * x.max())}


def trial_summary(p: "TrialPrediction", marker_names: Sequence[str], out: Path) -> dict[str, Any]:
    """One trial's entry of ``predict.json``."""
    t = p.trial
    incomplete = t.incomplete_frames()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_marker = np.sqrt(np.nanmean(p.errors.marker_errors**2, axis=0))
    order = [i for i in np.argsort(-np.nan_to_num(per_marker, nan=-1.0))[:5] if np.isfinite(per_marker[i])]
    return {
        "trial": t.name, "source": str(t.path), "source_units": t.source_units, "frames": t.n_frames,
        "time_range_s": [float(t.times[0]), float(t.times[-1])],
        "solve_seconds": p.solve_seconds, "frames_per_second": t.n_frames / max(p.solve_seconds, 1e-12),
        "opensim_check_seconds": p.errors.seconds,
        "marker_rms_mm": _stats_mm(p.errors.rms_error), "marker_max_mm": _stats_mm(p.errors.max_error)["max"],
        "worst_markers_rms_mm": {p.errors.marker_names[i]: float(1e3 * per_marker[i]) for i in order},
        "opensim_vs_fk_max_m": p.fk_opensim_max_m,
        "frames_with_missing_markers": int(incomplete.size),
        "missing_frames": [int(i) for i in incomplete[:200]],
        "markers_missing_somewhere": t.absent_markers(marker_names),
        "outputs": {"mot": p.mot.name, "marker_errors": p.marker_errors_file.name, "plot": p.plot.name},
    }


def write_summary(path: Path, result: "PredictionResult", meta: Mapping[str, Any]) -> Path:
    """``predict.json``: subject, checkpoint identity, timings, scale factors and per-trial summaries."""
    trials = [trial_summary(p, result.marker_names, path.parent) for p in result.trials]
    solve = sum(p.solve_seconds for p in result.trials)
    frames = sum(p.trial.n_frames for p in result.trials)
    doc = {
        "subject": result.subject,
        "checkpoint": meta["checkpoint"], "device": meta["device"],
        "timings": {"model_load_seconds": result.model_load_seconds, "solve_seconds": solve,
                    "frames": frames, "frames_per_second": frames / max(solve, 1e-12),
                    "scale_seconds": meta["scale_seconds"],
                    "opensim_check_seconds": sum(p.errors.seconds for p in result.trials)},
        "markers": {"network": len(result.marker_names), "measured": len(result.measured_markers),
                    "not_measured": [n for n in result.marker_names if n not in result.measured_markers]},
        "scale": {"source": "static" if meta["static"] else "trials", "static": meta["static"],
                  "frames": meta["scale_frames"], "statistic": "median over frames",
                  "scaled_model": result.scaled_model.name, "scale_set": result.scale_set.name,
                  "factors": {b: [float(v) for v in f] for b, f in zip(result.body_names, result.scale_factors)}},
        "trials": trials,
    }
    atomic_write_text(path, json.dumps(doc, indent=1) + "\n")
    return path


def _num(x: float | None, fmt: str = "{:.1f}") -> str:
    return "—" if x is None or not math.isfinite(x) else fmt.format(x)


def write_report(path: Path, result: "PredictionResult", meta: Mapping[str, Any]) -> Path:
    """``report.md``: per-trial marker RMS (mean, max), timings, missing markers, scale factors, plots."""
    ck = meta["checkpoint"]
    lines = [
        f"# NeurIK prediction: {result.subject}", "",
        f"Checkpoint `{Path(ck['path']).name}` (configuration `{ck['config']}`, {ck['osim_model']['file']} with "
        f"{ck['marker_set']['file']}), device {meta['device']}, loaded in {result.model_load_seconds:.2f} s. "
        f"Scaled model `{result.scaled_model.name}`: OpenSim's ModelScaler with the median predicted scale factors "
        f"over {meta['scale_frames']} frames of "
        + (f"the static trial `{Path(meta['static']).name}`." if meta["static"] else "the trials."), "",
        "Marker errors: OpenSim places the scaled model at every predicted frame and measures each marker against "
        "the trial (per-frame RMS over the markers present; "
        f"{len(result.measured_markers)} of the {len(result.marker_names)} markers: those OpenSim IK tracks).", "",
        "| trial | frames | solve (s) | frames/s | OpenSim check (s) | marker RMS mean (mm) | marker RMS max (mm) "
        "| max marker error (mm) | frames with missing markers |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in result.trials:
        rms = _stats_mm(p.errors.rms_error)
        mx = _stats_mm(p.errors.max_error)["max"]
        lines.append(
            f"| {p.trial.name} | {p.trial.n_frames} | {p.solve_seconds:.3f} | "
            f"{p.trial.n_frames / max(p.solve_seconds, 1e-12):.0f} | {p.errors.seconds:.2f} | {_num(rms['mean'])} | "
            f"{_num(rms['max'])} | {_num(mx)} | {p.trial.incomplete_frames().size} |")
    lines += ["", "## Scale factors (x, y, z)", "", "| body | x | y | z |", "|---|---:|---:|---:|"]
    lines += [f"| {b} | {f[0]:.3f} | {f[1]:.3f} | {f[2]:.3f} |" for b, f in zip(result.body_names, result.scale_factors)]
    lines += ["", "## Joint angles", ""]
    lines += [f"![{p.trial.name}]({p.plot.name})" for p in result.trials]
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def plot_angles(png: Path, trial: "TrialInput", q_full: np.ndarray, coordinate_names: Sequence[str]) -> Path:
    """The main joint angles (deg) of one trial over time, right and left side by side in each panel."""
    plt = pyplot()
    names = list(coordinate_names)
    panels = [(title, [c for c in coords if c in names]) for title, coords in MAIN_PANELS]
    panels = [(t, c) for t, c in panels if c]
    cols = 3
    rows = max(1, math.ceil(len(panels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.1 * rows), squeeze=False, sharex=True)
    for k, ax in enumerate(axes.flat):
        if k >= len(panels):
            ax.axis("off")
            continue
        title, coords = panels[k]
        for c in coords:
            ax.plot(trial.times, np.degrees(q_full[:, names.index(c)]), lw=1.0, marker="." if len(trial.times) < 3 else None,
                    label=c)
        ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=6)
        ax.legend(fontsize=5, loc="best")
    fig.suptitle(f"{trial.name}: NeurIK joint angles (deg) vs time (s)", fontsize=9)
    fig.tight_layout()
    save_figure(fig, png, dpi=90)
    return png
