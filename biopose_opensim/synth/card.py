"""The dataset card: counts, activity mix, coordinate coverage, label noise floor, masks, label recovery.

Statistics are accumulated trial by trial (:class:`CardStats`), so a card costs no second pass over the
shards. Figures are PNGs under ``card/``; the card itself is ``dataset_card.md`` at the dataset root.
"""
from __future__ import annotations

import logging
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..atomic import atomic_write_text
from ..plots import pyplot, save_figure
from ..datasets import LabelledTrial, SubjectRecord

log = logging.getLogger(__name__)

N_BINS = 48


class CardStats:
    """Running statistics of the trials written to a dataset.

    Args:
        coordinate_names: (C,) in dataset order.
        lower, upper: (C,) coordinate ranges (radians / metres), used as histogram limits.
        rotational: (C,) bool, shown in degrees.
        compare: (C,) bool, coordinates compared with the generating motion (default: rotational ones;
            pelvis translations follow the subject's own body size and are not comparable).
    """

    def __init__(self, coordinate_names: Sequence[str], lower: np.ndarray, upper: np.ndarray, rotational: np.ndarray,
                 compare: np.ndarray | None = None):
        self.names = tuple(coordinate_names)
        #: coordinates whose label is compared with the generating motion (default: the rotational ones)
        self.compare = np.asarray(rotational if compare is None else compare, dtype=bool)
        lo = np.where(np.abs(lower) > 50, -np.pi, lower)
        hi = np.where(np.abs(upper) > 50, np.pi, upper)
        self.edges = [np.linspace(a, b, N_BINS + 1) for a, b in zip(lo, hi)]
        self.rotational = np.asarray(rotational, dtype=bool)
        C = len(self.names)
        self.hist = np.zeros((C, N_BINS), dtype=np.int64)
        self.masked = np.zeros(C, dtype=np.int64)
        self.frames = 0
        self.frame_rms: list[np.ndarray] = []
        self.rms_by_activity: dict[str, list[np.ndarray]] = defaultdict(list)
        self.frames_by_activity: Counter = Counter()
        self.trials_by_activity: Counter = Counter()
        self.abs_err_sum = np.zeros(C)
        self.abs_err_max = np.zeros(C)
        self.err_count = np.zeros(C, dtype=np.int64)

    def add(self, t: LabelledTrial) -> None:
        self.frames += t.n_frames
        self.masked += (~t.q_mask).sum(axis=0)
        for c in range(len(self.names)):
            v = t.q[t.q_mask[:, c], c]
            self.hist[c] += np.histogram(np.clip(v, self.edges[c][0], self.edges[c][-1]), self.edges[c])[0]
        rms = t.frame_rms()
        rms = rms[np.isfinite(rms)]
        self.frame_rms.append(rms)
        self.rms_by_activity[t.activity].append(rms)
        self.frames_by_activity[t.activity] += t.n_frames
        self.trials_by_activity[t.activity] += 1
        if t.q_source is not None:
            err = np.abs(t.q - t.q_source)
            err = np.where(t.q_mask, err, np.nan)
            ok = np.isfinite(err)
            self.abs_err_sum += np.where(ok, err, 0.0).sum(axis=0)
            self.err_count += ok.sum(axis=0)
            self.abs_err_max = np.maximum(self.abs_err_max, np.where(ok, err, 0.0).max(axis=0, initial=0.0))

    def all_rms(self) -> np.ndarray:
        return np.concatenate(self.frame_rms) if self.frame_rms else np.zeros(0)

    def summary(self) -> dict[str, Any]:
        rms = self.all_rms()
        out: dict[str, Any] = {
            "frames": int(self.frames),
            "ik_rms_median_mm": float(np.median(rms) * 1e3) if rms.size else None,
            "ik_rms_p95_mm": float(np.percentile(rms, 95) * 1e3) if rms.size else None,
            "ik_rms_max_mm": float(rms.max() * 1e3) if rms.size else None,
            "masked_fraction": float(self.masked.sum() / max(1, self.frames * len(self.names))),
        }
        if self.err_count.any():
            mae = np.where(self.err_count > 0, self.abs_err_sum / np.maximum(self.err_count, 1), np.nan)
            rot = self.compare & (self.err_count > 0)
            out["label_vs_source_mae_deg"] = float(np.degrees(np.nanmean(mae[rot]))) if rot.any() else None
        return out


def _plot_coverage(stats: CardStats, path: Path) -> None:
    plt = pyplot()

    C = len(stats.names)
    cols = 6
    rows = int(np.ceil(C / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 1.9 * rows), squeeze=False)
    for c in range(rows * cols):
        ax = axes[c // cols, c % cols]
        if c >= C:
            ax.axis("off")
            continue
        e = stats.edges[c]
        x = np.degrees(e) if stats.rotational[c] else e
        ax.stairs(stats.hist[c], x, fill=True, color="tab:blue", alpha=0.7)
        ax.set_title(stats.names[c] + (" [deg]" if stats.rotational[c] else " [m]"), fontsize=7)
        ax.tick_params(labelsize=6)
        ax.set_yticks([])
    fig.suptitle("Coordinate coverage (labelled frames; x axis spans the model's range)", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, dpi=80)


def _plot_rms(stats: CardStats, path: Path) -> None:
    plt = pyplot()

    rms = stats.all_rms() * 1e3
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    if rms.size:
        axes[0].hist(rms, bins=60, color="tab:orange")
        med = np.median(rms)
        axes[0].axvline(med, color="k", lw=1)
        axes[0].set_title(f"IK marker RMS per frame (median {med:.1f} mm)", fontsize=9)
        axes[0].set_xlabel("mm")
        acts = sorted(stats.rms_by_activity)
        data = [np.concatenate(stats.rms_by_activity[a]) * 1e3 for a in acts]
        axes[1].boxplot(data, showfliers=False)
        axes[1].set_xticks(range(1, len(acts) + 1), acts, rotation=30, fontsize=7)
        axes[1].set_ylabel("mm")
        axes[1].set_title("IK marker RMS by activity", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, dpi=80)


def write_card(root: Path, stats: CardStats, subjects: Sequence[SubjectRecord], meta: Mapping[str, Any],
               mask_info: Mapping[str, Any]) -> Path:
    """Write ``dataset_card.md`` and its figures under ``root``; return the card's path."""
    root = Path(root)
    _plot_coverage(stats, root / "card" / "coordinate_coverage.png")
    _plot_rms(stats, root / "card" / "ik_rms.png")
    s = stats.summary()
    by_split = Counter(r.split for r in subjects)
    fps = meta.get("fps")
    lines = [
        f"# Dataset card: {meta.get('name', root.name)}",
        "",
        f"Built by `{meta.get('command', 'python -m biopose_opensim.synth')}` "
        f"(biopose_opensim {meta.get('version', '')}).",
        f"Model: `{meta.get('model', '')}`; body model: {meta.get('body_model', '')}; "
        f"marker set: {meta.get('marker_set', '')}; seed {meta.get('seed', '')}.",
        "",
        "## Counts",
        "",
        "| subjects | train | val | test | trials | frames | minutes |",
        "|---|---|---|---|---|---|---|",
        f"| {len(subjects)} | {by_split.get('train', 0)} | {by_split.get('val', 0)} | {by_split.get('test', 0)} | "
        f"{sum(stats.trials_by_activity.values())} | {stats.frames} | "
        f"{(stats.frames / fps / 60.0) if fps else float('nan'):.1f} |",
        "",
        "## Subjects",
        "",
        "| subject | split | sex | age (y) | height (m) | mass (kg) |",
        "|---|---|---|---|---|---|",
    ]
    for r in subjects:
        lines.append(f"| {r.name} | {r.split} | {r.sex or '?'} | {_fmt(r.age, 0)} | {_fmt(r.height, 3)} | "
                     f"{_fmt(r.mass, 1)} |")
    lines += ["", "## Activity mix", "", "| activity | trials | frames | share | IK RMS median (mm) |",
              "|---|---|---|---|---|"]
    for act, n in sorted(stats.frames_by_activity.items()):
        med = np.median(np.concatenate(stats.rms_by_activity[act])) * 1e3 if stats.rms_by_activity[act] else np.nan
        lines.append(f"| {act} | {stats.trials_by_activity[act]} | {n} | {100.0 * n / max(1, stats.frames):.1f} % | "
                     f"{med:.2f} |")
    lines += [
        "",
        "## Label noise floor (OpenSim IK marker residuals)",
        "",
        "Per-frame RMS over markers of the distance between each virtual marker and its model marker after IK.",
        "",
        f"- median **{_fmt(s['ik_rms_median_mm'], 2)} mm**, 95th percentile {_fmt(s['ik_rms_p95_mm'], 2)} mm, "
        f"max {_fmt(s['ik_rms_max_mm'], 2)} mm",
        "",
        "![IK RMS](card/ik_rms.png)",
        "",
        "## Coordinate coverage",
        "",
        "![coverage](card/coordinate_coverage.png)",
        "",
        "## Masks",
        "",
        f"A coordinate is masked in a frame when a bony landmark it moves has an IK residual above "
        f"{1e3 * float(mask_info.get('threshold', 0.02)):.0f} mm (as in D3KE). "
        f"Masked: {100.0 * s['masked_fraction']:.2f} % of coordinate-frames.",
        "",
        f"Bony landmarks: {', '.join(mask_info.get('bony_markers', [])) or 'none'}.",
        f"Never masked (locked or no bony landmark in reach): {', '.join(mask_info.get('unmasked', [])) or 'none'}.",
        "",
        "| coordinate | masked frames (%) |",
        "|---|---|",
    ]
    frac = stats.masked / max(1, stats.frames)
    for c in np.argsort(-frac)[:10]:
        if frac[c] > 0:
            lines.append(f"| {stats.names[c]} | {100.0 * frac[c]:.2f} |")
    if stats.err_count.any():
        lines += ["", "## Labels versus the generating motion", "",
                  "Mean absolute difference between the OpenSim IK label and the motion that generated the "
                  "virtual markers (unmasked frames). Locked and coupled coordinates are left out, and so are the "
                  "pelvis translations, which follow the subject's own body size.", "",
                  f"Mean over coordinates: **{s.get('label_vs_source_mae_deg') or float('nan'):.2f}°**.", "",
                  "| coordinate | MAE | max |", "|---|---|---|"]
        for c, name in enumerate(stats.names):
            if stats.err_count[c] == 0 or not stats.compare[c]:
                continue
            mae = stats.abs_err_sum[c] / stats.err_count[c]
            mx = stats.abs_err_max[c]
            if stats.rotational[c]:
                lines.append(f"| {name} | {np.degrees(mae):.2f}° | {np.degrees(mx):.2f}° |")
            else:
                lines.append(f"| {name} | {1e3 * mae:.1f} mm | {1e3 * mx:.1f} mm |")
    lines += ["", "## Format", "", "See `docs/datasets.md`: shards `shards/<split>-<k>.npz`, `manifest.json`.", ""]
    path = root / "dataset_card.md"
    atomic_write_text(path, "\n".join(lines))
    return path


def _fmt(v, nd: int) -> str:
    return "?" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:.{nd}f}"
