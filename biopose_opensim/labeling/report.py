"""``report.md`` of one labelled subject, with PNG plots of the joint angles and of the marker-error noise floor."""
from __future__ import annotations

import logging
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..atomic import atomic_write_text
from ..datasets.labels import TrialLabels
from ..plots import pyplot, save_figure
from ..errors import BioposeError
from ..io import MarkerData, read_trc
from ..osim.setups import read_scale_setup
from .fit_quality import fit_section, group_fits, marker_bodies, measurement_pair_changes, rigid_pair_changes
from .plausibility import report_lines

if TYPE_CHECKING:  # pragma: no cover
    from .outputs import SubjectPaths
    from .results import PreparedSubject, TrialResult

log = logging.getLogger(__name__)


def _mm(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{1000 * value:.1f}"


def write_report(prepared: "PreparedSubject", results: Sequence["TrialResult"], paths: "SubjectPaths") -> Path:
    """Write ``report.md`` (and the plots it shows) for ``prepared`` and its trial ``results``."""
    cfg = prepared.config
    plots = []
    if cfg.plots:
        for r in results:
            try:
                plots.append((r.name, plot_angles(r.labels, paths.trial(r.source or Path(r.name)).plot)))
            except Exception as exc:  # noqa: BLE001 - a plot failure must not lose the report
                log.warning("%s: joint-angle plot failed: %s", r.name, exc)
        noise_png = plot_noise_floor([r.labels for r in results], paths.plots_dir / "marker_rms.png") if results \
            else None
    else:
        noise_png = None

    lines = [f"# OpenSim labels: {prepared.name}", ""]
    lines += [
        "## Subject and settings", "",
        f"- {'model (as given)' if prepared.ik_only else 'generic model'}: `{cfg.model}`"
        + (f", marker set `{cfg.markers}`" if cfg.markers else ""),
        f"- {'model' if prepared.ik_only else 'scaled model'}: `{prepared.scaled_model.name}` (total mass "
        f"{prepared.total_mass:.2f} kg"
        + (f", subject mass {prepared.mass:g} kg" if prepared.mass else ", mass not given: model mass kept")
        + (f", height {prepared.height:g} m" if prepared.height else "") + ")",
        (f"- IK only on the model as given (`{prepared.scaled_model}`): no scaling, no marker placement; the "
         "labels carry scale factors of 1; IK setup" if prepared.ik_only else
         f"- setups: `{prepared.setup_scale.name}`"
         + (f" (template `{cfg.scale_setup}`)" if cfg.scale_setup else " (built by the default/automatic protocol)"))
        + ("" if prepared.ik_only else ",") + f" `{prepared.setup_ik.name}`"
        + (f" (template `{cfg.ik_setup}`)" if cfg.ik_setup else " (weights by the default/automatic protocol)"),
        ("- static trial: none (IK only)" if prepared.static_window is None else
         f"- static window: {prepared.static_window[0]:.3f}-{prepared.static_window[1]:.3f} s "
         f"({prepared.static_window_source}); static pose: "
         + ("free (IK)" if cfg.static_pose is None else f"prescribed ({cfg.static_pose})")),
        f"- IK accuracy {prepared.accuracy:g}, constraint weight {prepared.constraint_weight:g}; "
        f"gaps up to {cfg.max_gap:g} s interpolated",
        *([] if prepared.ik_only else [
            f"- static fit (marker placement's IK on the scaled model, before it moves the markers; markers with "
            f"placement weight > 0): RMS {_mm(prepared.static_rms)} mm, max {_mm(prepared.static_max)} mm"
            + (" (" + ", ".join(f"{n} {_mm(e)}" for n, e in prepared.static_marker_errors[:5]) + ")"
               if prepared.static_marker_errors else
               (f" ({prepared.static_worst})" if prepared.static_worst else ""))]),
        "",
    ]
    if prepared.notes:
        lines += ["Notes:", ""] + [f"- {n}" for n in prepared.notes] + [""]

    lines += ["## Trials", "",
              "| trial | status | frames | RMS mean (mm) | RMS p50 / p95 (mm) | max (mm) | worst markers (RMS mm) "
              "| gaps filled / left | s |",
              "|---|---|---:|---:|---:|---:|---|---:|---:|"]
    for r in results:
        worst = ", ".join(f"{n} {_mm(v)}" for n, v in r.worst_markers)
        lines.append(
            f"| {r.name} | {r.status} | {r.n_frames} | {_mm(r.rms_error)} | {_mm(r.rms_percentiles[1])} / "
            f"{_mm(r.rms_percentiles[2])} | {_mm(r.max_error)} | {worst} | {r.gaps_filled} / "
            f"{len(r.gaps_unfilled)} | {r.seconds:.1f} |"
        )
    lines.append("")
    lines += _fit_quality(prepared, results)
    unfilled = [(r.name, g) for r in results for g in r.gaps_unfilled]
    if unfilled:
        lines += ["Gaps longer than the interpolation limit (those frames skip the marker in IK):", ""]
        lines += [f"- {name}: {m} {a:.3f}-{b:.3f} s" for name, (m, a, b) in unfilled[:30]]
        lines += ([f"- ... {len(unfilled) - 30} more"] if len(unfilled) > 30 else []) + [""]
    unused = sorted({m for r in results for m in r.unused_markers})
    if unused:
        lines += [f"Trial markers the model does not have (not used by IK): {', '.join(unused)}", ""]

    floor = noise_floor([r.labels for r in results])
    lines += ["## Label noise floor", "",
              "Per-frame marker RMS over all frames of all trials (mm): "
              + (", ".join(f"p{p} {_mm(v)}" for p, v in zip((5, 50, 95), floor[:3])) + f", max {_mm(floor[3])}"
                 if floor is not None else "n/a") + ". "
              f"IK accuracy {prepared.accuracy:g}: OpenSim's default 1e-5 leaves up to several degrees on weakly "
              "observed coordinates (e.g. forearm pronation); 1e-6 is used for labels unless a setup says "
              "otherwise.", ""]
    if noise_png is not None:
        lines += [f"![marker RMS distribution]({noise_png.relative_to(paths.out_dir).as_posix()})", ""]

    lines += report_lines(prepared.static_span, prepared.scale_check,
                          [(r.name, *r.marker_span) for r in results], prepared.ik_only)
    lines += ["## Scale factors", "", "| body | x | y | z |", "|---|---:|---:|---:|"]
    lines += [f"| {b} | {f[0]:.4f} | {f[1]:.4f} | {f[2]:.4f} |" for b, f in prepared.scale_factors]
    lines.append("")
    if prepared.measurements:
        src = dict(prepared.measurement_sources)
        lines += ["Measurements (marker pairs -> bodies):", ""]
        for m in prepared.measurements:
            pairs = ", ".join(f"{a}-{b}" for a, b in m.marker_pairs)
            bodies = ", ".join(f"{b} ({ax})" for b, ax in m.body_scales)
            lines.append(f"- {m.name} [{src.get(m.name, 'setup')}]: {pairs} -> {bodies}")
        lines.append("")
    if prepared.static_pose:
        lines += ["Static pose found by marker placement (deg; m for translations): "
                  + ", ".join(f"{c} {(v if c.endswith(('_tx', '_ty', '_tz')) else np.degrees(v)):.1f}"
                              for c, v in prepared.static_pose), ""]
    if plots:
        lines += ["## Joint angles", ""]
        lines += [f"![{name}]({png.relative_to(paths.out_dir).as_posix()})" for name, png in plots if png]
        lines.append("")
    lines += ["## Files", "",
              "`<trial>_ik.mot` (degrees, inDegrees=yes), `<trial>_marker_errors.sto` (m), `labels/<trial>.npz` "
              "(markers, q in rad, s per body), `cleaned/` (marker data handed to OpenSim), "
              f"`{prepared.scale_factors_json.name}`, "
              + (f"`{prepared.setup_scale.name}`, " if prepared.setup_scale else "")
              + f"`{prepared.setup_ik.name}` and "
              "`<trial>_setup_ik.xml` (rerunnable in OpenSim), `label_config.toml`, `label.log`.", ""]
    atomic_write_text(paths.report, "\n".join(lines))
    return paths.report


def _fit_quality(prepared: "PreparedSubject", results: Sequence["TrialResult"]) -> list[str]:
    """The "Fit quality" section: per-group verdicts, and same-body marker pairs that changed since the static."""
    fits, changes, scaling = [], [], []
    static, bodies = _static_and_bodies(prepared)
    for r in results:
        lab = TrialLabels.load(r.labels)
        tracked = _names(lab.tracked_markers)
        fits += group_fits(r.name, tracked, np.asarray(lab.marker_errors, dtype=float))
        if static is not None and bodies:
            times = np.asarray(lab.times, dtype=float)
            trial = MarkerData(_names(lab.marker_names), np.asarray(lab.markers, dtype=float), times,
                               float(lab.rate), np.arange(len(times)))
            changes += rigid_pair_changes(static, prepared.static_window, trial, r.name, bodies, tracked)
            scaling += measurement_pair_changes(static, prepared.static_window, trial, r.name,
                                                prepared.measurements)
    return fit_section(fits, changes, scaling, bodies, prepared.measurements) if fits else []


def _static_and_bodies(prepared: "PreparedSubject") -> tuple[MarkerData | None, dict[str, str]]:
    """The static trial handed to OpenSim's ScaleTool and the scaled model's marker bodies (None, {} if absent)."""
    if prepared.setup_scale is None or not Path(prepared.setup_scale).is_file():
        return None, {}
    try:
        setup = read_scale_setup(prepared.setup_scale)
        static = read_trc(setup.marker_file) if setup.marker_file is not None else None
        return static, marker_bodies(prepared.scaled_model)
    except (BioposeError, OSError, ET.ParseError) as exc:
        log.warning("%s: no static-vs-trial marker check (%s)", prepared.name, exc)
        return None, {}


def _names(value) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def noise_floor(label_files: Sequence[Path]) -> tuple[float, float, float, float] | None:
    """(p5, p50, p95, max) of the per-frame marker RMS over all frames of ``label_files``, m."""
    rms = _all_rms(label_files)
    if rms.size == 0:
        return None
    p = np.percentile(rms, (5, 50, 95))
    return float(p[0]), float(p[1]), float(p[2]), float(rms.max())


def _all_rms(label_files: Sequence[Path]) -> np.ndarray:
    out = []
    for f in label_files:
        e = np.asarray(TrialLabels.load(f).marker_errors, dtype=float)
        if e.size:
            with np.errstate(invalid="ignore"):
                present = np.isfinite(e)
                cnt = present.sum(axis=1)
                rms = np.sqrt(np.where(present, e**2, 0).sum(axis=1) / np.maximum(cnt, 1))
            out.append(rms[cnt > 0])
    return np.concatenate(out) if out else np.zeros(0)


def plot_angles(labels_file: Path, png: Path) -> Path:
    """A grid of the rotational coordinates (deg) of one trial over time."""
    plt = pyplot()
    lab = TrialLabels.load(labels_file)
    names = lab.coordinate_names
    rot = np.asarray(lab.rotational, dtype=bool)
    q = np.asarray(lab.q, dtype=float)
    t = np.asarray(lab.times, dtype=float)
    idx = [i for i in range(len(names)) if rot[i] and np.ptp(q[:, i]) > 1e-3]
    n = max(1, len(idx))
    cols = min(6, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 1.9 * rows), squeeze=False, sharex=True)
    for k, ax in enumerate(axes.flat):
        if k >= len(idx):
            ax.axis("off")
            continue
        i = idx[k]
        ax.plot(t, np.degrees(q[:, i]), lw=1.0)
        ax.set_title(names[i], fontsize=7)
        ax.tick_params(labelsize=6)
    fig.suptitle(f"{lab.subject} / {lab.trial}: joint angles (deg) vs time (s)", fontsize=9)
    fig.tight_layout()
    save_figure(fig, png, dpi=90)
    return png


def plot_noise_floor(label_files: Sequence[Path], png: Path) -> Path | None:
    """Histogram of the per-frame marker RMS (mm) over all trials."""
    rms = _all_rms(label_files)
    if rms.size == 0:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.hist(1000 * rms, bins=40)
    ax.set_xlabel("per-frame marker RMS (mm)")
    ax.set_ylabel("frames")
    ax.set_title("IK marker error distribution (label noise floor)", fontsize=9)
    fig.tight_layout()
    save_figure(fig, png, dpi=90)
    return png
