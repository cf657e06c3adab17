"""Walking and running as periodic joint-angle curves (Rajagopal sign conventions).

Curves are periodic cubic splines through key values of the gait cycle (phase 0 = right initial contact;
the left side is the same curve half a cycle later), with typical adult magnitudes: walking hip flexion
+30…−10°, knee 5…60°, ankle +10…−16°; running hip +50…−10°, knee 20…100°, ankle +20…−22°.
Signs follow the model: hip and knee flexion and ankle dorsiflexion positive, ``lumbar_extension``
negative for a forward trunk, ``arm_flex`` positive forward, ``arm_add`` negative in abduction.
The pelvis moves forward at ``params.speed``; its height comes from grounding.
"""
from __future__ import annotations

import numpy as np

from ..osim.coordinate_space import CoordinateSpace
from .draft import Draft
from .curves import CurveBuilder, periodic_curve
from .params import ActivityParams

WALK_KEYS = {
    "hip_flexion": [(0.0, 30), (0.1, 26), (0.3, 8), (0.5, -9), (0.6, -2), (0.75, 22), (0.87, 32)],
    "knee_angle": [(0.0, 4), (0.12, 17), (0.3, 8), (0.42, 5), (0.6, 38), (0.72, 60), (0.85, 30), (0.95, 5)],
    "ankle_angle": [(0.0, 0), (0.08, -5), (0.25, 6), (0.45, 10), (0.62, -16), (0.75, -4), (0.9, 1)],
    "hip_adduction": [(0.0, 1), (0.15, 7), (0.45, 2), (0.65, -5), (0.85, -1)],
    "hip_rotation": [(0.0, -2), (0.2, 3), (0.5, 2), (0.7, -4), (0.9, -3)],
}
RUN_KEYS = {
    "hip_flexion": [(0.0, 35), (0.15, 22), (0.38, -8), (0.5, 2), (0.65, 38), (0.8, 50), (0.92, 42)],
    "knee_angle": [(0.0, 20), (0.15, 42), (0.38, 20), (0.55, 70), (0.7, 100), (0.85, 60), (0.95, 25)],
    "ankle_angle": [(0.0, 3), (0.15, 20), (0.38, -22), (0.55, -5), (0.75, 5), (0.9, 4)],
    "hip_adduction": [(0.0, 2), (0.15, 8), (0.4, 1), (0.65, -5), (0.85, 0)],
    "hip_rotation": [(0.0, -3), (0.2, 4), (0.5, 2), (0.7, -5), (0.9, -4)],
}


def _legs(b: CurveBuilder, keys: dict, phase: np.ndarray, p: ActivityParams) -> dict[str, np.ndarray]:
    """Set both legs' curves; returns the right and left hip flexion (degrees) for arm coupling."""
    hips = {}
    for side, shift in (("r", 0.0), ("l", 0.5)):
        f = p.side(side == "r")
        for coord, k in keys.items():
            v = periodic_curve(k, phase + shift) * f
            b.set(f"{coord}_{side}", v)
            if coord == "hip_flexion":
                hips[side] = v
    return hips


def _trunk_and_arms(b: CurveBuilder, phase: np.ndarray, hips: dict, p: ActivityParams, run: bool) -> None:
    w = 2.0 * np.pi * phase
    rot = p.trunk_rotation
    # pelvis: obliquity and axial rotation at stride frequency, tilt at step frequency
    b.set("pelvis_rotation", (7.0 if run else 5.0) * rot * np.cos(w))
    b.set("pelvis_list", (5.0 if run else 4.0) * rot * periodic_curve(
        [(0.0, 0.0), (0.15, 1.0), (0.4, 0.0), (0.5, 0.0), (0.65, -1.0), (0.9, 0.0)], phase))
    tilt0 = -8.0 if run else -3.0
    b.set("pelvis_tilt", tilt0 + 1.5 * np.cos(2.0 * w))
    # trunk: counter-rotates against the pelvis, bends against the list, leans forward
    b.set("lumbar_rotation", -(0.9 if run else 0.7) * (7.0 if run else 5.0) * rot * np.cos(w))
    b.set("lumbar_bending", -3.0 * rot * np.sin(w))
    b.set("lumbar_extension", -tilt0 - (6.0 if run else 2.0) + 1.0 * np.cos(2.0 * w))
    # arms swing against the opposite leg
    gain = (0.9 if run else 0.55) * p.arm_swing
    for side, other in (("r", "l"), ("l", "r")):
        swing = gain * (hips[other] - hips[other].mean())
        fwd = 10.0 if run else 3.0
        b.set(f"arm_flex_{side}", fwd + swing)
        b.set(f"arm_add_{side}", -10.0 - 2.0 * np.sin(w))
        b.set(f"arm_rot_{side}", 5.0)
        elbow = (85.0 if run else 20.0) + (0.4 if run else 0.5) * np.clip(swing, 0.0, None)
        b.set(f"elbow_flex_{side}", elbow)
        b.set(f"pro_sup_{side}", 60.0)


def _locomotion(space: CoordinateSpace, p: ActivityParams, t: np.ndarray, run: bool) -> Draft:
    b = CurveBuilder(space.names, space.rotational, space.default, len(t))
    stride_time = 120.0 / p.cadence
    phase = p.phase + t / stride_time
    hips = _legs(b, RUN_KEYS if run else WALK_KEYS, phase, p)
    _trunk_and_arms(b, phase, hips, p, run)
    travel = p.speed * t
    b.set("pelvis_tx", travel - 0.5 * travel[-1])
    b.set("pelvis_tz", 0.015 * np.sin(2.0 * np.pi * phase))
    lift = None
    if run:
        # flight phases (both feet off the floor) between toe-off (0.38) and the other foot's contact (0.5)
        ph = np.mod(phase, 0.5)
        flight_frac = np.clip((ph - 0.38) / 0.12, 0.0, 1.0)
        t_flight = 0.12 * stride_time
        lift = 0.5 * 9.81 * (flight_frac * t_flight) * ((1.0 - flight_frac) * t_flight)
    return Draft(q=b.to_q(), lift=lift)


def walk(space: CoordinateSpace, p: ActivityParams, t: np.ndarray) -> Draft:
    """Overground walking at ``p.speed`` m/s and ``p.cadence`` steps/min."""
    return _locomotion(space, p, t, run=False)


def run(space: CoordinateSpace, p: ActivityParams, t: np.ndarray) -> Draft:
    """Running at ``p.speed`` m/s and ``p.cadence`` steps/min, with flight phases."""
    return _locomotion(space, p, t, run=True)
