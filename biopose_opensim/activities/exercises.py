"""Squat, sit-to-stand, lunge and drop jump as keyframed joint angles with feet fixed on the floor.

Each exercise is a progress variable (0 → 1 → 0 over a repetition, PCHIP between keys so it never
overshoots) mapped onto joint angles. Feet that should stay flat get their ankle angle from the sagittal
chain: the foot's pitch is ``pelvis_tilt + hip_flexion − knee_angle + ankle_angle`` (degrees, Rajagopal
signs), so ``ankle = knee − hip − tilt`` keeps it level. Magnitudes are those of healthy adults: squat to
95° hip / 110° knee, seated 90° hip / 95° knee, lunge front knee 90°, drop jump from a 20–40 cm box.
"""
from __future__ import annotations

import numpy as np

from ..osim.coordinate_space import CoordinateSpace
from .draft import Draft
from .curves import CurveBuilder, keyframe_curve
from .params import ActivityParams

G = 9.81


def repetitions(t: np.ndarray, period: float, phase: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Repetition index (T,) int and within-repetition progress u (T,) in [0, 1) for times ``t``."""
    x = np.asarray(t, dtype=float) / period + phase
    return np.floor(x).astype(int), x - np.floor(x)


def _flat_ankle(hip: np.ndarray, knee: np.ndarray, tilt: np.ndarray, pitch: float | np.ndarray = 0.0):
    """Ankle angle (deg) giving the foot ``pitch`` (deg, toes up positive) for the sagittal chain."""
    return pitch + knee - hip - tilt


def _whole_trial(n: int) -> tuple[tuple[int, int], ...]:
    return ((0, n),)


def squat(space: CoordinateSpace, p: ActivityParams, t: np.ndarray) -> Draft:
    """Repeated body-weight squats; depth scales with ``p.amplitude``, tempo with ``p.cadence``."""
    b = CurveBuilder(space.names, space.rotational, space.default, len(t))
    _, u = repetitions(t * p.speed, 60.0 / p.cadence, p.phase * 0.1)
    d = keyframe_curve([(0.0, 0.0), (0.1, 0.0), (0.45, 1.0), (0.55, 1.0), (0.9, 0.0), (1.0, 0.0)], u)
    tilt = -15.0 * d * p.amplitude
    b.set("pelvis_tilt", tilt)
    for side in ("r", "l"):
        f = p.side(side == "r")
        hip, knee = 95.0 * d * f, 110.0 * d * f
        b.set(f"hip_flexion_{side}", hip)
        b.set(f"knee_angle_{side}", knee)
        b.set(f"ankle_angle_{side}", _flat_ankle(hip, knee, tilt))
        b.set(f"hip_adduction_{side}", -8.0 * d)
        b.set(f"hip_rotation_{side}", 4.0 * d)
        b.set(f"arm_flex_{side}", 5.0 + 70.0 * d * min(p.arm_swing, 1.2))
        b.set(f"arm_add_{side}", -8.0)
        b.set(f"elbow_flex_{side}", 15.0 + 10.0 * d)
        b.set(f"pro_sup_{side}", 60.0)
    b.set("lumbar_extension", -20.0 * d * p.amplitude)
    b.set("lumbar_rotation", 3.0 * p.trunk_rotation * np.sin(2.0 * np.pi * u))
    return Draft(q=b.to_q(), contacts=_whole_trial(len(t)))


def sit_to_stand(space: CoordinateSpace, p: ActivityParams, t: np.ndarray) -> Draft:
    """Rising from a chair and sitting back down; seat height scales with ``1 / p.amplitude``."""
    b = CurveBuilder(space.names, space.rotational, space.default, len(t))
    _, u = repetitions(t * p.speed, 72.0 / p.cadence, 0.0)
    stand = keyframe_curve([(0.0, 0.0), (0.2, 0.0), (0.38, 1.0), (0.55, 1.0), (0.8, 0.0), (1.0, 0.0)], u)
    lean = keyframe_curve([(0.0, 0.0), (0.08, 0.0), (0.2, 1.0), (0.3, 0.6), (0.38, 0.0), (0.55, 0.0),
                           (0.65, 0.8), (0.8, 1.0), (0.9, 0.0), (1.0, 0.0)], u)
    tilt = -20.0 * lean
    b.set("pelvis_tilt", tilt)
    seated_knee = 95.0 * p.amplitude
    for side in ("r", "l"):
        f = 1.0 + (p.asymmetry if side == "r" else -p.asymmetry)
        hip = (90.0 * (1.0 - stand) + 15.0 * lean) * f
        knee = seated_knee * (1.0 - stand) * f
        b.set(f"hip_flexion_{side}", hip)
        b.set(f"knee_angle_{side}", knee)
        b.set(f"ankle_angle_{side}", _flat_ankle(hip, knee, tilt))
        b.set(f"hip_adduction_{side}", -4.0 * (1.0 - stand))
        b.set(f"arm_flex_{side}", 10.0 + 35.0 * lean * p.arm_swing)
        b.set(f"arm_add_{side}", -10.0)
        b.set(f"elbow_flex_{side}", 30.0 + 20.0 * (1.0 - stand))
        b.set(f"pro_sup_{side}", 70.0)
    b.set("lumbar_extension", -15.0 * lean)
    b.set("lumbar_bending", 2.0 * p.trunk_rotation * np.sin(2.0 * np.pi * u))
    return Draft(q=b.to_q(), contacts=_whole_trial(len(t)))


def lunge(space: CoordinateSpace, p: ActivityParams, t: np.ndarray) -> Draft:
    """Forward lunges alternating legs; the back foot stays planted, the front foot steps."""
    b = CurveBuilder(space.names, space.rotational, space.default, len(t))
    rep, u = repetitions(t * p.speed, 60.0 / p.cadence, 0.0)
    g = keyframe_curve([(0.0, 0.0), (0.1, 0.0), (0.35, 1.0), (0.5, 1.0), (0.8, 0.0), (1.0, 0.0)], u)
    first_right = p.seed % 2 == 0
    front_right = (rep % 2 == 0) == first_right
    tilt = -5.0 * g
    b.set("pelvis_tilt", tilt)
    for side in ("r", "l"):
        front = front_right if side == "r" else ~front_right
        f = p.side(side == "r")
        hip = np.where(front, 80.0, -12.0) * g * f
        knee = np.where(front, 90.0, 70.0) * g * f
        pitch = np.where(front, 0.0, -45.0 * g)
        b.set(f"hip_flexion_{side}", hip)
        b.set(f"knee_angle_{side}", knee)
        b.set(f"ankle_angle_{side}", _flat_ankle(hip, knee, tilt, pitch))
        b.set(f"hip_adduction_{side}", np.where(front, -3.0, 2.0) * g)
        b.set(f"arm_flex_{side}", 5.0 * p.arm_swing)
        b.set(f"arm_add_{side}", -10.0 - 15.0 * g * p.arm_swing)
        b.set(f"elbow_flex_{side}", 20.0 + 60.0 * g * p.arm_swing)
        b.set(f"pro_sup_{side}", 60.0)
    b.set("lumbar_extension", 5.0 * g)
    b.set("lumbar_rotation", np.where(front_right, 1.0, -1.0) * 6.0 * p.trunk_rotation * g)
    # one contact per repetition, anchored on that repetition's back foot
    contacts, sides = [], []
    for r in np.unique(rep):
        idx = np.flatnonzero(rep == r)
        contacts.append((int(idx[0]), int(idx[-1]) + 1))
        sides.append("l" if front_right[idx[0]] else "r")
    return Draft(q=b.to_q(), contacts=tuple(contacts), anchor_side=tuple(sides))


def drop_jump(space: CoordinateSpace, p: ActivityParams, t: np.ndarray) -> Draft:
    """Drop from a box, land, rebound into a maximal vertical jump, land and recover.

    Box height 0.3 m × ``p.amplitude`` and jump height 0.28 m × ``p.amplitude``; flight phases follow
    ballistic parabolas; the feet do not slide while on the box or the floor.
    """
    n = len(t)
    b = CurveBuilder(space.names, space.rotational, space.default, n)
    a = p.amplitude
    box, jump = 0.3 * a, 0.28 * a
    tempo = 1.0 / p.speed
    t_off = 0.45 * tempo
    t_land = t_off + np.sqrt(2.0 * box / G)
    t_deep = t_land + 0.2 * tempo
    t_take = t_deep + 0.22 * tempo
    t_flight = 2.0 * np.sqrt(2.0 * jump / G)
    t_land2 = t_take + t_flight
    t_deep2 = t_land2 + 0.2 * tempo
    t_up = t_deep2 + 0.5 * tempo
    hip = keyframe_curve([(0.0, 0.0), (0.3 * tempo, 0.0), (t_off, 15.0), (t_land, 12.0), (t_deep, 70.0 * a),
                          (t_take, 0.0), (t_take + 0.5 * t_flight, 15.0), (t_land2, 10.0),
                          (t_deep2, 45.0 * a), (t_up, 2.0)], t)
    knee = keyframe_curve([(0.0, 0.0), (0.3 * tempo, 0.0), (t_off, 15.0), (t_land, 10.0), (t_deep, 85.0 * a),
                           (t_take, 4.0), (t_take + 0.5 * t_flight, 20.0), (t_land2, 10.0),
                           (t_deep2, 55.0 * a), (t_up, 3.0)], t)
    tilt = keyframe_curve([(0.0, 0.0), (t_off, -5.0), (t_land, -3.0), (t_deep, -12.0), (t_take, 0.0),
                           (t_land2, -2.0), (t_deep2, -8.0), (t_up, 0.0)], t)
    flat = _flat_ankle(hip, knee, tilt)
    plantar = keyframe_curve([(0.0, 0.0), (t_off, 0.0), (t_off + 0.1, -15.0), (t_land, -12.0),
                              (t_land + 0.08, 0.0), (t_deep + 0.05, 0.0), (t_take, -28.0),
                              (t_land2, -15.0), (t_land2 + 0.08, 0.0), (t_up, 0.0)], t)
    for side in ("r", "l"):
        f = p.side(side == "r") / a
        b.set(f"hip_flexion_{side}", hip * f)
        b.set(f"knee_angle_{side}", knee * f)
        b.set(f"ankle_angle_{side}", flat + plantar)
        arm = keyframe_curve([(0.0, 0.0), (t_off, -10.0), (t_land, 20.0), (t_deep, -40.0), (t_take, 85.0),
                              (t_land2, 30.0), (t_deep2, 10.0), (t_up, 0.0)], t)
        b.set(f"arm_flex_{side}", arm * p.arm_swing)
        b.set(f"arm_add_{side}", -12.0)
        b.set(f"elbow_flex_{side}", 20.0 + 0.2 * np.abs(arm))
        b.set(f"pro_sup_{side}", 60.0)
    b.set("pelvis_tilt", tilt)
    b.set("lumbar_extension", keyframe_curve([(0.0, 0.0), (t_deep, -18.0), (t_take, 2.0),
                                              (t_deep2, -10.0), (t_up, 0.0)], t))
    lift = np.zeros(n)
    lift[t < t_off] = box
    fall = (t >= t_off) & (t < t_land)
    lift[fall] = np.maximum(box - 0.5 * G * (t[fall] - t_off) ** 2, 0.0)
    fly = (t >= t_take) & (t < t_land2)
    tau = t[fly] - t_take
    lift[fly] = 0.5 * G * tau * (t_flight - tau)
    frames = lambda x: int(np.clip(np.searchsorted(t, x), 0, n))  # noqa: E731
    contacts = [(0, frames(t_off)), (frames(t_land), frames(t_take)), (frames(t_land2), n)]
    contacts = [c for c in contacts if c[1] > c[0]]
    return Draft(q=b.to_q(), lift=lift, contacts=tuple(contacts), displacements=(0.35 * a, 0.05)[: len(contacts) - 1])
