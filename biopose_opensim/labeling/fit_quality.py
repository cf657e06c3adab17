"""Fit quality as OpenSim's best-practice guidance judges it, per marker group, and the data's own limits.

OpenSim's guidance for scaling and IK ("Getting Started with Inverse Kinematics", "Scaling" best practices):
marker errors of **bony landmarks** should stay below 2-4 cm at their largest, with an RMS below 2 cm. Skin
clusters move on the soft tissue and are judged separately. :func:`group_fits` measures every trial per marker
group (bony landmarks, clusters; virtual markers are not tracked) against :data:`GUIDANCE_RMS` and
:data:`GUIDANCE_MAX` (the guidance's upper bound, 4 cm) and gives a plain verdict.

When a group exceeds the guidance, the reason may be the data rather than the model or the protocol: markers
on one rigid body whose distance differs between the static trial and a motion trial (markers applied again in
another session, or skin markers over a joint that moves in between, such as the acromion markers when the
static is taken with the arms raised) cannot all be fitted by any rigid model. :func:`rigid_pair_changes`
measures that.
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..io import MarkerData
from ..markers.vocabulary import BONY, CLUSTER, classify_marker
from ..osim.setups import Measurement

#: OpenSim's guidance: per-frame marker RMS at most 2 cm (m).
GUIDANCE_RMS = 0.02
#: OpenSim's guidance: largest marker error at most 2-4 cm; the upper bound (m).
GUIDANCE_MAX = 0.04
#: a change of a same-body marker distance between static and trial that a rigid model cannot absorb (m):
#: on the mean over the trial, or (RIGID_EXCURSION) in any one frame (a marker that does not stay rigid on its
#: body, e.g. a toe marker on the calcaneus while the toes bend)
RIGID_CHANGE = 0.01
RIGID_EXCURSION = 0.025
#: a change of a scaling pair's mean distance between static and trial beyond what the pose explains for pairs
#: spanning a joint (the sample: ASIS-knee 12 mm shorter on average in the walk than in the static) (m)
MEASUREMENT_CHANGE = 0.02

GROUPS = ((BONY, "bony landmarks"), (CLUSTER, "clusters / tracking markers"))
WITHIN, EXCEEDS = "within guidance", "exceeds guidance"


@dataclass(frozen=True)
class GroupFit:
    """One trial's fit for one marker group. Errors in m; frames are the IK frames of the trial."""

    trial: str
    group: str  # "bony" or "cluster"
    markers: tuple[str, ...]
    n_frames: int  # frames in which some marker of the group is present
    rms_mean: float  # mean over frames of the per-frame RMS of the group's markers
    rms_max: float  # largest per-frame RMS
    max_error: float  # largest error of any marker of the group in any frame
    max_marker: str  # the marker of ``max_error``
    frames_within: float  # fraction of frames with RMS <= GUIDANCE_RMS and max <= GUIDANCE_MAX
    #: (marker, frames) of the markers whose error exceeds GUIDANCE_MAX in some frame, most frames first
    over_max: tuple[tuple[str, int], ...] = ()

    @property
    def within(self) -> bool:
        """Every frame within the guidance: per-frame RMS <= 2 cm and every marker error <= 4 cm."""
        return self.rms_max <= GUIDANCE_RMS and self.max_error <= GUIDANCE_MAX

    @property
    def verdict(self) -> str:
        if self.within:
            return WITHIN
        why = []
        if self.rms_max > GUIDANCE_RMS:
            why.append(f"RMS up to {1000 * self.rms_max:.1f} mm > {1000 * GUIDANCE_RMS:.0f} mm")
        if self.max_error > GUIDANCE_MAX:
            why.append(f"max {1000 * self.max_error:.1f} mm > {1000 * GUIDANCE_MAX:.0f} mm ({self.max_marker})")
        return f"{EXCEEDS} ({'; '.join(why)})"


@dataclass(frozen=True)
class PairChange:
    """Two markers on one rigid body whose mean distance differs between the static window and a trial (m)."""

    body: str
    a: str
    b: str
    static: float
    trial: float  # mean over the trial's frames
    trial_name: str
    largest: float = float("nan")  # largest |distance - static distance| over the trial's frames

    @property
    def change(self) -> float:
        return self.trial - self.static


def group_fits(trial: str, tracked: Sequence[str], errors: np.ndarray) -> tuple[GroupFit, ...]:
    """Per-group fit of one trial.

    Args:
        trial: trial name.
        tracked: (K,) names of the markers IK tracked.
        errors: (T, K) marker errors in m, NaN where a marker is missing.
    """
    errors = np.asarray(errors, dtype=float)
    kinds = np.array([classify_marker(n) for n in tracked])
    out = []
    for kind, _ in GROUPS:
        cols = np.flatnonzero(kinds == kind)
        if cols.size == 0 or not np.isfinite(errors[:, cols]).any():
            continue
        e = errors[:, cols]
        present = np.isfinite(e)
        frames = present.any(axis=1)
        e = e[frames]
        present = present[frames]
        rms = np.sqrt(np.where(present, e ** 2, 0.0).sum(axis=1) / present.sum(axis=1))  # (T',)
        worst = np.where(present, e, -np.inf).max(axis=1)  # (T',)
        flat = int(np.nanargmax(np.where(present, e, -np.inf)))
        ok = (rms <= GUIDANCE_RMS) & (worst <= GUIDANCE_MAX)
        n_over = (np.where(present, e, 0.0) > GUIDANCE_MAX).sum(axis=0)  # (K',)
        over = tuple((str(tracked[cols[j]]), int(n_over[j])) for j in np.argsort(-n_over, kind="stable")
                     if n_over[j] > 0)
        out.append(GroupFit(
            trial=trial, group=kind, markers=tuple(tracked[i] for i in cols), n_frames=int(len(rms)),
            rms_mean=float(rms.mean()),
            rms_max=float(rms.max()), max_error=float(worst.max()), max_marker=str(tracked[cols[flat % len(cols)]]),
            frames_within=float(ok.mean()), over_max=over,
        ))
    return tuple(out)


def marker_bodies(model_file: Path) -> dict[str, str]:
    """Marker name -> body name of an OpenSim 4 model file (``socket_parent_frame`` of each ``Marker``)."""
    bodies = {}
    for marker in ET.parse(model_file).getroot().iter("Marker"):
        frame = (marker.findtext("socket_parent_frame") or marker.findtext("body") or "").strip()
        if frame:
            bodies[marker.get("name")] = frame.rsplit("/", 1)[-1]
    return bodies


def rigid_pair_changes(static: MarkerData, window: tuple[float, float], trial: MarkerData, trial_name: str,
                       bodies: Mapping[str, str], tracked: Sequence[str],
                       threshold: float = RIGID_CHANGE) -> tuple[PairChange, ...]:
    """Pairs of tracked markers on one body whose distance in the trial differs from the static window's: by more
    than ``threshold`` (m) on the trial's mean, or by more than :data:`RIGID_EXCURSION` in some frame.

    Args:
        static: the static trial as handed to OpenSim (model marker names); ``window`` (s) is its static window.
        trial: the motion trial as handed to OpenSim (model marker names).
        bodies: marker -> body of the model.
        tracked: markers IK tracked (only those are judged).

    Returns:
        The changes, largest first.
    """
    s = static.window(*window)
    names = [n for n in tracked if n in bodies and n in s.marker_names and n in trial.marker_names]
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if bodies[a] != bodies[b]:
                continue
            ds, dt = _mean_distance(s, a, b), _mean_distance(trial, a, b)
            if not (math.isfinite(ds) and math.isfinite(dt)):
                continue
            d = _distances(trial, a, b)
            largest = float(np.abs(d - ds).max())
            if abs(dt - ds) > threshold or largest > RIGID_EXCURSION:
                out.append(PairChange(bodies[a], a, b, ds, dt, trial_name, largest))
    return tuple(sorted(out, key=lambda p: -max(abs(p.change), p.largest)))


def measurement_pair_changes(static: MarkerData, window: tuple[float, float], trial: MarkerData, trial_name: str,
                             measurements: Sequence[Measurement],
                             threshold: float = MEASUREMENT_CHANGE) -> tuple[PairChange, ...]:
    """Scaling marker pairs whose mean distance in ``trial`` differs from the static window by > ``threshold`` m.

    ``PairChange.body`` holds the measurement's name. Largest change first.
    """
    s = static.window(*window)
    out, seen = [], set()
    for m in measurements:
        for a, b in m.marker_pairs:
            if (a, b) in seen or not all(n in s.marker_names and n in trial.marker_names for n in (a, b)):
                continue
            seen.add((a, b))
            ds, dt = _mean_distance(s, a, b), _mean_distance(trial, a, b)
            if math.isfinite(ds) and math.isfinite(dt) and abs(dt - ds) > threshold:
                out.append(PairChange(m.name, a, b, ds, dt, trial_name))
    return tuple(sorted(out, key=lambda p: -abs(p.change)))


def _distances(data: MarkerData, a: str, b: str) -> np.ndarray:
    """(T',) distance between markers ``a`` and ``b`` in the frames holding both, m."""
    d = np.linalg.norm(data.positions[:, data.index(a)] - data.positions[:, data.index(b)], axis=-1)
    return d[np.isfinite(d)]


def _mean_distance(data: MarkerData, a: str, b: str) -> float:
    d = _distances(data, a, b)
    return float(d.mean()) if d.size else float("nan")


def fit_section(fits: Sequence[GroupFit], changes: Sequence[PairChange], scaling: Sequence[PairChange] = (),
                bodies: Mapping[str, str] | None = None,
                measurements: Sequence[Measurement] = ()) -> list[str]:
    """Markdown lines of the report's "Fit quality" section.

    Args:
        fits: per trial and group (:func:`group_fits`).
        changes: same-body pairs that changed (:func:`rigid_pair_changes`).
        scaling: scaling pairs that changed (:func:`measurement_pair_changes`).
        bodies: marker -> body, to say which large errors sit on a body scaled by a changed pair.
        measurements: the scaling measurements (names as in ``scaling``).
    """
    lines = ["## Fit quality", "",
             f"OpenSim's best-practice guidance for IK: bony-landmark marker errors with RMS <= "
             f"{1000 * GUIDANCE_RMS:.0f} mm and maximum <= {1000 * GUIDANCE_MAX:.0f} mm (2-4 cm; the upper bound "
             "is used). Clusters and other tracking markers ride on soft tissue; they are shown against the same "
             "thresholds, but the guidance is written for bony landmarks. Per group: mean and largest per-frame "
             "RMS, the largest single marker error, and the share of frames meeting both thresholds.", "",
             "| trial | marker group | markers | RMS mean (mm) | RMS max (mm) | max error (mm) | frames within | "
             "verdict |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    label = dict(GROUPS)
    for f in fits:
        lines.append(f"| {f.trial} | {label[f.group]} | {len(f.markers)} | {1000 * f.rms_mean:.1f} | "
                     f"{1000 * f.rms_max:.1f} | {1000 * f.max_error:.1f} ({f.max_marker}) | "
                     f"{100 * f.frames_within:.0f}% | {f.verdict} |")
    lines.append("")
    if changes:
        lines += [f"Data limit: markers on one rigid body whose distance differs between the static window and a "
                  f"trial by more than {1000 * RIGID_CHANGE:.0f} mm on average or {1000 * RIGID_EXCURSION:.0f} mm "
                  "in some frame (markers applied again, skin markers over a joint that moved, a marker on a part "
                  "the model's body does not include: no rigid model fits both):", ""]
        lines += [f"- {c.trial_name}: {c.a}-{c.b} ({c.body}) {1000 * c.static:.1f} mm in the static trial, "
                  f"{1000 * c.trial:.1f} mm on average in the trial ({1000 * c.change:+.1f} mm; largest change in "
                  f"one frame {1000 * c.largest:.1f} mm)" for c in changes[:10]]
        if len(changes) > 10:
            lines.append(f"- ... {len(changes) - 10} more")
        lines.append("")
    if scaling:
        lines += [f"Data limit: scaling marker pairs whose mean distance differs by more than "
                  f"{1000 * MEASUREMENT_CHANGE:.0f} mm between the static window and a trial (the scale factors "
                  "measured on the static trial do not describe the trial's markers; e.g. skin markers over the "
                  "acromion move with the shoulder girdle when the static is taken with raised arms):", ""]
        lines += [f"- {c.trial_name}: {c.a}-{c.b} ({c.body}) {1000 * c.static:.1f} mm in the static trial, "
                  f"{1000 * c.trial:.1f} mm in the trial ({1000 * c.change:+.1f} mm)" for c in scaling[:10]]
        if len(scaling) > 10:
            lines.append(f"- ... {len(scaling) - 10} more")
        lines.append("")
    limited = {m for c in changes for m in (c.a, c.b)}
    changed = {c.body for c in scaling}
    scaled_by = {b: m.name for m in measurements if m.name in changed for b, _ in m.body_scales}
    bodies = bodies or {}
    for f in fits:
        if f.within:
            continue
        text = f"{f.trial}, {label[f.group]}: "
        if f.over_max:
            text += "errors over " + f"{1000 * GUIDANCE_MAX:.0f} mm on " + ", ".join(
                f"{m} ({k} of {f.n_frames} frames)" for m, k in f.over_max[:6]) + "."
        else:
            text += "no single marker error over the maximum; the RMS exceeds the guidance."
        hit = sorted(limited & set(f.markers))
        if hit:
            text += (f" {', '.join(hit)} do not keep their static-trial distances on their body in the trial "
                     "(pairs above): no rigid model fits both, the data limits them.")
        on_changed = [(m, bodies[m]) for m, _ in f.over_max if bodies.get(m) in scaled_by]
        if on_changed:
            text += " " + ", ".join(f"{m} sits on {b}, scaled by {scaled_by[b]}" for m, b in on_changed) + \
                    ", whose static distance the trial does not show (pairs above): the data limits the fit there."
        lines += [text, ""]
    return lines
