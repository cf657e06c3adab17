"""Per-subject variation of an activity: speed, amplitude, cadence, asymmetry, arm swing, trunk lean/rotation.

:func:`sample_params` draws a plausible, seeded set for one subject and activity; every generator reads the
same :class:`ActivityParams`, so a subject walks, squats and reaches in its own style.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np


@dataclass(frozen=True)
class ActivityParams:
    """How one subject performs one activity.

    Attributes:
        duration: trial length, seconds.
        speed: forward speed for walk/run (m/s); for the other activities a tempo factor (1 = nominal).
        cadence: steps per minute for walk/run; repetitions per minute for cyclic exercises.
        amplitude: scale of the main joint excursions (1 = nominal; squat and lunge depth, step range).
        asymmetry: right/left difference; right excursions × (1 + a), left × (1 − a).
        arm_swing: scale of arm motion (0 = arms still).
        trunk_lean: constant forward trunk lean added through ``lumbar_extension``, radians (positive forward).
        trunk_rotation: scale of trunk axial rotation and side bending (1 = nominal).
        jitter: amplitude of smooth random deviations added to every free coordinate, radians.
        phase: starting phase within a cycle, [0, 1).
        seed: seed of the smooth random deviations.
    """

    duration: float = 3.0
    speed: float = 1.0
    cadence: float = 110.0
    amplitude: float = 1.0
    asymmetry: float = 0.0
    arm_swing: float = 1.0
    trunk_lean: float = 0.0
    trunk_rotation: float = 1.0
    jitter: float = 0.0
    phase: float = 0.0
    seed: int = 0

    def side(self, right: bool) -> float:
        """Excursion factor of the right (``True``) or left side."""
        return self.amplitude * (1.0 + self.asymmetry if right else 1.0 - self.asymmetry)

    def to_dict(self) -> dict:
        return asdict(self)

    def with_duration(self, duration: float | None) -> "ActivityParams":
        return self if duration is None else replace(self, duration=float(duration))


#: Nominal trial length per activity, seconds.
DEFAULT_DURATION = {
    "walk": 3.0, "run": 2.0, "squat": 5.0, "sit_to_stand": 5.0, "drop_jump": 3.0,
    "lunge": 5.0, "arm_raise": 5.0, "reach": 5.0, "template": 3.0,
}


def sample_params(activity: str, rng: np.random.Generator, duration: float | None = None) -> ActivityParams:
    """Draw a subject's style for ``activity`` (any name of :data:`DEFAULT_DURATION`) from ``rng``.

    Ranges are those of healthy adults: walking 1.0–1.6 m/s at 95–125 steps/min, running 2.4–4.0 m/s at
    155–185 steps/min, exercise tempo ±20 %, amplitude ±15 %, asymmetry up to ±10 %, trunk lean −3…+10°.
    """
    u = rng.uniform
    common = dict(
        amplitude=u(0.85, 1.15),
        asymmetry=float(np.clip(rng.normal(0.0, 0.04), -0.1, 0.1)),
        arm_swing=u(0.5, 1.5),
        trunk_lean=np.deg2rad(u(-3.0, 10.0)),
        trunk_rotation=u(0.6, 1.4),
        jitter=np.deg2rad(u(0.5, 2.5)),
        phase=u(0.0, 1.0),
        seed=int(rng.integers(0, 2**31 - 1)),
    )
    if activity == "walk" or activity == "template":
        speed = u(1.0, 1.6)
        cadence = float(np.clip(105.0 + 25.0 * (speed - 1.3) + rng.normal(0.0, 5.0), 95.0, 125.0))
        p = ActivityParams(speed=speed, cadence=cadence, **common)
    elif activity == "run":
        common["amplitude"] = u(0.9, 1.1)
        p = ActivityParams(speed=u(2.4, 4.0), cadence=u(155.0, 185.0), **common)
    else:
        p = ActivityParams(speed=u(0.8, 1.2), cadence=u(12.0, 20.0), **common)
    dur = DEFAULT_DURATION.get(activity, 3.0) if duration is None else duration
    return replace(p, duration=float(dur))
