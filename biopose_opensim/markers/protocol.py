"""The Scale/IK protocol built without a lab's setup files: which marker pairs scale which bodies, and how much
each marker weighs in marker placement and IK. Markers are recognised through :mod:`.vocabulary`.

The **default protocol** is defined by anatomical landmark, not by marker name (:data:`~.vocabulary.LANDMARKS`).
A measurement rule (:data:`MEASUREMENT_RULES`) scales a set of bodies from landmark-to-landmark distances; the
first alternative whose landmarks are all available is used. IK weights favour bony landmarks (10) over
skin-cluster markers (1); virtual markers (joint centres, ground projections) help scaling and marker placement
but are not tracked by IK. A virtual-marker set's IK weights come from its groups (:data:`GROUP_WEIGHTS`).

For bodies that no rule covers (any other model, or unusual marker sets) an **automatic protocol** is derived
from the model's own markers: pairs of markers on the body (the longest baselines) or, when those are short,
pairs bracketing the body's proximal and distal joint centres on the body and its neighbours. Bodies without
markers inherit the measurement of their parent body (patella from femur, talus from tibia, toes from calcn,
hand from radius).

The results are :mod:`biopose_opensim.osim.setups` dataclasses (:class:`~biopose_opensim.osim.setups.Measurement`,
:class:`~biopose_opensim.osim.setups.MarkerTask`), ready for a Scale or IK setup.
"""
from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

from ..osim.info import ModelInfo
from ..osim.setups import MarkerTask, Measurement
from .vocabulary import BONY, CLUSTER, VIRTUAL, classify_marker, landmark_of

log = logging.getLogger(__name__)

#: IK and marker-placement weights per marker kind (squared-distance weights, relative).
IK_WEIGHTS = {BONY: 10.0, CLUSTER: 1.0, VIRTUAL: 0.0}
PLACER_WEIGHTS = {BONY: 10.0, CLUSTER: 0.0, VIRTUAL: 10.0}
#: IK weight of each group of a virtual-marker set (:data:`~.vocabulary.MARKER_GROUPS`).
GROUP_WEIGHTS: dict[str, float] = {BONY: 10.0, "surface": 2.0, "joint": 2.0, "midpoint": 1.0, "ground": 0.0}


@dataclass(frozen=True)
class MeasurementRule:
    """Scale ``bodies`` (``{s}``: side r/l) from landmark pairs: the first alternative fully available is used."""

    name: str
    bodies: tuple[str, ...]
    alternatives: tuple[tuple[tuple[str, str], ...], ...]  # landmark ids: "R_ASIS" / "SACRUM"
    axes: str = "X Y Z"


def _sided_rule(name: str, bodies: Sequence[str], *alternatives) -> tuple[MeasurementRule, ...]:
    out = []
    for side, s in (("R", "r"), ("L", "l")):
        alts = tuple(tuple(tuple(p.replace("{S}", side) for p in pair) for pair in alt) for alt in alternatives)
        out.append(MeasurementRule(f"{name}_{s}", tuple(b.replace("{s}", s) for b in bodies), alts))
    return tuple(out)


#: Measurement rules of the default protocol (landmark ids "<side>_<key>" or unsided keys). A rule scales only
#: the axes of its bodies that no earlier rule scaled. The pelvis is scaled per axis: its depth/width ratio is
#: not the generic model's (the sample subject: ASIS-PSIS x1.24, ASIS-ASIS x1.00), and one factor from all its
#: pairs (x1.16) put the sample's knee markers 20-23 mm below the model's in the walk. Depth (X) from ASIS-PSIS
#: (or ASIS-sacrum), height (Y) from ASIS-hip joint centre when the static trial has joint centres, the
#: remaining axes from ASIS-ASIS (on the sample, Y from ASIS-ASIS gave a bony-landmark RMS of 14.5 mm, Y from all
#: the pelvis pairs 16.1 mm).
MEASUREMENT_RULES: tuple[MeasurementRule, ...] = (
    MeasurementRule("pelvis_depth", ("pelvis",), (
        (("R_ASIS", "R_PSIS"), ("L_ASIS", "L_PSIS")),
        (("R_ASIS", "SACRUM"), ("L_ASIS", "SACRUM")),
    ), axes="X"),
    MeasurementRule("pelvis_height", ("pelvis",), ((("R_ASIS", "R_HJC"), ("L_ASIS", "L_HJC")),), axes="Y"),
    MeasurementRule("pelvis", ("pelvis",), ((("R_ASIS", "L_ASIS"),),)),
    *_sided_rule("thigh", ("femur_{s}", "patella_{s}"),
                 (("{S}_HJC", "{S}_LFC"), ("{S}_HJC", "{S}_MFC")), (("{S}_HJC", "{S}_LFC"),),
                 (("{S}_ASIS", "{S}_LFC"),), (("{S}_ASIS", "{S}_MFC"),)),
    *_sided_rule("shank", ("tibia_{s}", "talus_{s}"),
                 (("{S}_LFC", "{S}_LMAL"), ("{S}_MFC", "{S}_MMAL")), (("{S}_LFC", "{S}_LMAL"),),
                 (("{S}_MFC", "{S}_MMAL"),)),
    *_sided_rule("foot", ("calcn_{s}", "toes_{s}"),
                 (("{S}_CAL", "{S}_TOE"), ("{S}_CAL", "{S}_MT5")), (("{S}_CAL", "{S}_TOE"),),
                 (("{S}_CAL", "{S}_MT5"),)),
    MeasurementRule("torso", ("torso",), (
        (("R_ACR", "R_ASIS"), ("L_ACR", "L_ASIS"), ("R_ACR", "L_ACR")),
        (("R_ACR", "R_ASIS"), ("L_ACR", "L_ASIS")),
        (("C7", "SACRUM"),),
    )),
    *_sided_rule("upper_arm", ("humerus_{s}",), (("{S}_ACR", "{S}_LEL"),), (("{S}_ACR", "{S}_MEL"),)),
    *_sided_rule("forearm", ("ulna_{s}", "radius_{s}", "hand_{s}"),
                 (("{S}_LEL", "{S}_RSTY"), ("{S}_MEL", "{S}_USTY")), (("{S}_LEL", "{S}_RSTY"),),
                 (("{S}_MEL", "{S}_USTY"),), (("{S}_LEL", "{S}_USTY"),)),
)

@dataclass(frozen=True)
class Protocol:
    """A protocol resolved for one model and one static trial (marker names are the model's)."""

    measurements: tuple[Measurement, ...]
    ik_tasks: tuple[MarkerTask, ...]
    placer_tasks: tuple[MarkerTask, ...]
    #: how each measurement was made: "default" (landmark rule) or "auto" (derived from the model's markers)
    measurement_sources: tuple[tuple[str, str], ...]
    #: bodies that no measurement scales (left at 1)
    unscaled_bodies: tuple[str, ...]
    #: model marker -> kind ("bony", "cluster", "virtual")
    marker_kinds: tuple[tuple[str, str], ...]


def build_protocol(model: ModelInfo, static_names: Iterable[str], trial_names: Iterable[str] = (),
                   added: Iterable[str] = ()) -> Protocol:
    """Measurements and weights for ``model`` from the markers shared by the model and the static trial.

    Args:
        model: the generic model with its markers (already replaced by a marker set, if any).
        static_names: marker names in the static trial (already renamed to model names).
        trial_names: marker names of the motion trials (IK tasks are made for these too).
        added: markers added to the model at a provisional place: weight 0 in marker placement (which then
            moves them onto the static trial), never used for scaling.
    """
    added = set(added)
    model_markers = {m.name: m for m in model.markers}
    static = [n for n in dict.fromkeys(static_names) if n in model_markers]
    tracked = [n for n in dict.fromkeys(list(static) + list(trial_names)) if n in model_markers]
    kinds = {n: classify_marker(n) for n in model_markers}
    landmark_ids: dict[str, str] = {}
    for n in static:
        hit = landmark_of(n)
        if hit is not None and n not in added:
            landmark_ids.setdefault(hit[1], n)

    bodies = set(model.body_names)
    measurements: list[Measurement] = []
    sources: list[tuple[str, str]] = []
    axes_done: dict[str, set[str]] = {}  # body -> axes scaled by a rule so far
    for rule in MEASUREMENT_RULES:
        todo = {b: [a for a in rule.axes.split() if a not in axes_done.get(b, set())]
                for b in rule.bodies if b in bodies}
        todo = {b: axes for b, axes in todo.items() if axes}
        if not todo:
            continue
        for alt in rule.alternatives:
            if all(a in landmark_ids and b in landmark_ids for a, b in alt):
                pairs = tuple((landmark_ids[a], landmark_ids[b]) for a, b in alt)
                scales = tuple((b, " ".join(ax)) for b, ax in todo.items())
                measurements.append(Measurement(rule.name, pairs, scales))
                sources.append((rule.name, "default"))
                for b, ax in todo.items():
                    axes_done.setdefault(b, set()).update(ax)
                break
    covered = {b for b, ax in axes_done.items() if ax >= {"X", "Y", "Z"}}

    # automatic measurements for bodies with markers that no rule covered
    usable = [n for n in static if kinds[n] != CLUSTER and n not in added]
    for body in model.body_names:
        if body in covered:
            continue
        pairs = _auto_pairs(model, body, usable)
        if pairs:
            measurements.append(Measurement(body, pairs, ((body, "X Y Z"),)))
            sources.append((body, "auto"))
            covered.add(body)

    # bodies without markers inherit their parent's measurement (repeat down the tree)
    changed = True
    while changed:
        changed = False
        for b in model.bodies:
            if b.name in covered or b.parent not in covered:
                continue
            # the parent's measurement of all three axes, else its last one (the pelvis' mean evidence)
            hits = [i for i, m in enumerate(measurements) if any(body == b.parent for body, _ in m.body_scales)]
            full = [i for i in hits if (b.parent, "X Y Z") in measurements[i].body_scales]
            i = (full or hits)[0 if full else -1]
            m = measurements[i]
            measurements[i] = Measurement(m.name, m.marker_pairs, m.body_scales + ((b.name, "X Y Z"),))
            covered.add(b.name)
            changed = True
    unscaled = tuple(b for b in model.body_names if b not in covered)

    ik_tasks = []
    for n in tracked:
        # a marker added by a name hint has a guessed body: it never outweighs the model's own markers
        w = IK_WEIGHTS[CLUSTER] if n in added else _ik_weight(n, kinds[n])
        ik_tasks.append(MarkerTask(n, w if w > 0 else 0.0, apply=w > 0))
    placer_tasks = [MarkerTask(n, 0.0 if n in added else _placer_weight(n, kinds[n])) for n in static]
    return Protocol(
        measurements=tuple(measurements), ik_tasks=tuple(ik_tasks), placer_tasks=tuple(placer_tasks),
        measurement_sources=tuple(sources), unscaled_bodies=unscaled,
        marker_kinds=tuple((n, kinds[n]) for n in tracked),
    )


def _ik_weight(name: str, kind: str) -> float:
    hit = landmark_of(name)
    if hit is not None and hit[0].ik_weight is not None and kind != VIRTUAL:
        return hit[0].ik_weight
    return IK_WEIGHTS[kind]


def _placer_weight(name: str, kind: str) -> float:
    """Bony landmarks weigh in marker placement as in IK (less for the upper body, medial and toe markers)."""
    if kind == BONY:
        return _ik_weight(name, kind)
    return PLACER_WEIGHTS[kind]


#: markers closer than this to a joint centre (m) can stand for it in a cross-joint pair
_NEAR_JOINT = 0.15
#: a pair on one body is a good enough baseline when at least this long (m) and half the segment length
_MIN_BASELINE = 0.08


def _auto_pairs(model: ModelInfo, body: str, usable: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """Up to two marker pairs measuring ``body`` (names from ``usable``), or () when none fits."""
    pos = {m.name: np.asarray(p) for m, p in zip(model.markers, model.markers_in_ground)}
    origin = {b.name: np.asarray(p) for b, p in zip(model.bodies, model.body_origins_in_ground)}
    on_body = {m.name: m.body for m in model.markers if m.name in usable}
    mine = [n for n, b in on_body.items() if b == body]
    children = model.children(body)
    seg = max((float(np.linalg.norm(origin[c] - origin[body])) for c in children), default=0.0)

    rigid = sorted(((float(np.linalg.norm(pos[a] - pos[b])), a, b) for a, b in itertools.combinations(mine, 2)),
                   reverse=True)
    if rigid and rigid[0][0] >= max(_MIN_BASELINE, 0.5 * seg):
        return tuple((a, b) for _, a, b in rigid[:2])
    if not children:
        return tuple((a, b) for d, a, b in rigid[:2] if d >= _MIN_BASELINE)

    parent = model.body(body).parent
    near_prox = [(float(np.linalg.norm(pos[n] - origin[body])), n) for n, b in on_body.items()
                 if b in (body, parent)]
    candidates = []
    for child in children:
        near_dist = [(float(np.linalg.norm(pos[n] - origin[child])), n) for n, b in on_body.items()
                     if b in (body, child)]
        for (dp, p), (dd, d) in itertools.product(near_prox, near_dist):
            if p != d and dp <= _NEAR_JOINT and dd <= _NEAR_JOINT:
                length = float(np.linalg.norm(pos[p] - pos[d]))
                if length >= 0.5 * float(np.linalg.norm(origin[child] - origin[body])):
                    candidates.append((dp + dd, p, d))
    candidates.sort()
    out: list[tuple[str, str]] = []
    for _, p, d in candidates:
        if (p, d) not in out:
            out.append((p, d))
        if len(out) == 2:
            break
    return tuple(out)


def rename_tasks(tasks: Iterable[MarkerTask], renames: Mapping[str, str]) -> tuple[MarkerTask, ...]:
    return tuple(MarkerTask(renames.get(t.name, t.name), t.weight, t.apply) for t in tasks)


def rename_measurements(measurements: Iterable[Measurement], renames: Mapping[str, str]) -> tuple[Measurement, ...]:
    return tuple(
        Measurement(m.name, tuple((renames.get(a, a), renames.get(b, b)) for a, b in m.marker_pairs),
                    m.body_scales, m.apply)
        for m in measurements
    )
