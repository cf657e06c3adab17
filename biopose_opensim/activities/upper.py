"""Arm raises and reaches: upper-body activities with the trunk and hips taking part, feet planted.

Arm raises cycle through forward flexion (to 85°), abduction (to 110°, ``arm_add`` negative) and a
one-arm overhead raise combining both; reaches go forward-low, sideways, across the body and up, with
trunk flexion, side bending and axial rotation. Elbows extend as the arm reaches.
"""
from __future__ import annotations

import numpy as np

from ..osim.coordinate_space import CoordinateSpace
from .draft import Draft
from .exercises import _flat_ankle, _whole_trial, repetitions
from .curves import CurveBuilder, keyframe_curve
from .params import ActivityParams

_GO = [(0.0, 0.0), (0.1, 0.0), (0.45, 1.0), (0.6, 1.0), (0.92, 0.0), (1.0, 0.0)]


def _standing_legs(b: CurveBuilder, hip: np.ndarray, knee: np.ndarray, tilt: np.ndarray) -> None:
    for side in ("r", "l"):
        b.set(f"hip_flexion_{side}", hip)
        b.set(f"knee_angle_{side}", knee)
        b.set(f"ankle_angle_{side}", _flat_ankle(hip, knee, tilt))
    b.set("pelvis_tilt", tilt)


def arm_raise(space: CoordinateSpace, p: ActivityParams, t: np.ndarray) -> Draft:
    """Forward raises, lateral raises and one-arm overhead raises, repeating."""
    n = len(t)
    b = CurveBuilder(space.names, space.rotational, space.default, n)
    rep, u = repetitions(t * p.speed, 60.0 / p.cadence * 0.6, 0.0)
    g = keyframe_curve(_GO, u)
    kind = (rep + p.seed) % 3
    amp = {"r": p.side(True), "l": p.side(False)}
    for side in ("r", "l"):
        a = amp[side]
        active = np.ones(n, dtype=bool) if side == "r" else kind != 2
        flex = np.where(kind == 0, 85.0, np.where(kind == 2, 60.0, 10.0)) * a * g * active
        abd = np.where(kind == 1, 110.0, np.where(kind == 2, 90.0, 10.0)) * a * g * active
        b.set(f"arm_flex_{side}", flex)
        b.set(f"arm_add_{side}", -8.0 - abd)
        b.set(f"arm_rot_{side}", np.where(kind == 1, 20.0, 0.0) * g * active)
        b.set(f"elbow_flex_{side}", 10.0 + 5.0 * (1.0 - g))
        b.set(f"pro_sup_{side}", 50.0 + 30.0 * g)
    b.set("lumbar_extension", 6.0 * g * (kind != 1))
    b.set("lumbar_bending", np.where(kind == 2, -8.0, 0.0) * g * p.trunk_rotation)
    zero = np.zeros(n)
    _standing_legs(b, hip=2.0 + zero, knee=3.0 + zero, tilt=zero)
    return Draft(q=b.to_q(), contacts=_whole_trial(n))


def reach(space: CoordinateSpace, p: ActivityParams, t: np.ndarray) -> Draft:
    """Reaching forward-low, sideways, across the body and up, alternating arms."""
    n = len(t)
    b = CurveBuilder(space.names, space.rotational, space.default, n)
    rep, u = repetitions(t * p.speed, 60.0 / p.cadence * 0.8, 0.0)
    g = keyframe_curve(_GO, u)
    kind = (rep + p.seed) % 4  # 0 forward-low, 1 side, 2 across, 3 up
    right = ((rep // 4 + rep) % 2 == 0)
    a = p.amplitude
    # trunk and hips
    trunk_flex = np.select([kind == 0, kind == 1, kind == 2, kind == 3], [30.0, 5.0, 10.0, -8.0]) * a * g
    bend = np.select([kind == 1], [18.0]) * a * g * p.trunk_rotation
    twist = np.select([kind == 2, kind == 1], [25.0, 8.0]) * a * g * p.trunk_rotation
    sign = np.where(right, 1.0, -1.0)
    b.set("lumbar_extension", -trunk_flex)
    b.set("lumbar_bending", sign * bend)
    b.set("lumbar_rotation", sign * twist)
    hip = np.select([kind == 0], [35.0]) * a * g + 2.0
    knee = np.select([kind == 0], [25.0]) * a * g + 3.0
    tilt = -np.select([kind == 0], [15.0]) * a * g
    _standing_legs(b, hip, knee, tilt)
    for side in ("r", "l"):
        active = right if side == "r" else ~right
        flex = np.select([kind == 0, kind == 1, kind == 2, kind == 3], [75.0, 20.0, 70.0, 88.0])
        add = np.select([kind == 0, kind == 1, kind == 2, kind == 3], [-10.0, -80.0, 25.0, -25.0])
        elbow_reach = np.select([kind == 3], [5.0], 8.0)
        gg = g * active
        b.set(f"arm_flex_{side}", 4.0 + (flex * a - 4.0) * gg + (1 - active) * 5.0 * p.arm_swing * g)
        b.set(f"arm_add_{side}", -10.0 + (add + 10.0) * gg)
        b.set(f"arm_rot_{side}", np.select([kind == 2], [-20.0], 0.0) * gg)
        b.set(f"elbow_flex_{side}", 35.0 + (elbow_reach - 35.0) * gg)
        b.set(f"pro_sup_{side}", 70.0 - 40.0 * gg)
    return Draft(q=b.to_q(), contacts=_whole_trial(n))
