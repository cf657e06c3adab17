"""The named parametric activities and the one function that turns a name into a grounded motion."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import ConfigError
from ..motion.coordinates import CoordinateMotion
from ..osim.coordinate_space import CoordinateSpace
from .draft import Draft
from .exercises import drop_jump, lunge, sit_to_stand, squat
from .gait import run, walk
from .grounding import ground
from .curves import frame_times, smooth_noise
from .params import ActivityParams
from .upper import arm_raise, reach

log = logging.getLogger(__name__)

Generator = Callable[[CoordinateSpace, ActivityParams, np.ndarray], Draft]


@dataclass(frozen=True)
class ActivityDef:
    """A parametric activity: its generator and a one-line description."""

    name: str
    generator: Generator
    description: str


ACTIVITIES: dict[str, ActivityDef] = {
    a.name: a
    for a in (
        ActivityDef("walk", walk, "overground walking, 1.0-1.6 m/s"),
        ActivityDef("run", run, "running with flight phases, 2.4-4.0 m/s"),
        ActivityDef("squat", squat, "repeated body-weight squats"),
        ActivityDef("sit_to_stand", sit_to_stand, "rising from a chair and sitting down"),
        ActivityDef("drop_jump", drop_jump, "drop from a box, rebound jump, landing"),
        ActivityDef("lunge", lunge, "forward lunges, alternating legs"),
        ActivityDef("arm_raise", arm_raise, "forward, lateral and overhead arm raises"),
        ActivityDef("reach", reach, "reaching forward-low, sideways, across and up"),
    )
}


def check_activity(name: str) -> str:
    """Return ``name`` if it is a known activity; otherwise raise :class:`ConfigError` listing them."""
    if name not in ACTIVITIES:
        raise ConfigError(f"unknown activity {name!r}; valid activities: {', '.join(ACTIVITIES)}")
    return name


def finalize(space: CoordinateSpace, draft: Draft, params: ActivityParams, t: np.ndarray) -> np.ndarray:
    """Trunk lean, smooth variability, range clipping and grounding of a draft; returns ``q`` (T, C).

    The pelvis translations are left to grounding, so the jitter goes to rotational, free, independent
    coordinates only. A trial travelling further than the ``pelvis_tx`` range allows is brought back
    treadmill-style (a constant backward drift is subtracted) and logged.
    """
    q = draft.q.copy()
    if "lumbar_extension" in space.names:
        q[:, space.index("lumbar_extension")] -= params.trunk_lean
    free = space.rotational & ~space.locked & ~space.dependent
    if params.jitter > 0:
        rng = np.random.default_rng(params.seed)
        q[:, free] += smooth_noise(t, rng, params.jitter, int(free.sum()))
    q = space.clip(q)
    q = ground(space, q, lift=draft.lift, contacts=draft.contacts or None,
               displacements=draft.displacements or None, anchor_side=draft.anchor_side)
    if "pelvis_tx" in space.names:
        j = space.index("pelvis_tx")
        lo, hi = space.lower[j], space.upper[j]
        if q[:, j].max() > hi or q[:, j].min() < lo:
            drift = np.polyfit(t, q[:, j], 1)[0]
            log.info("trial travels %.1f m, beyond pelvis_tx [%g, %g] m: treadmill-style drift of %.2f m/s removed",
                     np.ptp(q[:, j]), lo, hi, drift)
            q[:, j] -= drift * (t - t.mean())
            q[:, j] -= 0.5 * (q[:, j].max() + q[:, j].min())
    bad = space.out_of_range(q)
    if bad:
        log.debug("clipping %s into range after grounding", ", ".join(bad))
    return space.clip(q, margin=0.0)


def generate_activity(
    name: str,
    space: CoordinateSpace,
    params: ActivityParams,
    fps: float = 60.0,
    trial_name: str | None = None,
) -> CoordinateMotion:
    """Generate activity ``name`` for one subject's ``params`` at ``fps`` Hz, grounded, within ranges.

    Returns:
        a :class:`~biopose_opensim.motion.coordinates.CoordinateMotion` with ``q`` (T, C) radians / metres for
        every coordinate of ``space``, its ``activity`` and ``params`` set.

    Raises:
        ConfigError: unknown activity name (the valid names are listed) or a non-positive ``fps``.
    """
    check_activity(name)
    if not fps > 0:
        raise ConfigError(f"fps must be positive, got {fps!r}")
    t = frame_times(params.duration, fps)
    draft = ACTIVITIES[name].generator(space, params, t)
    q = finalize(space, draft, params, t)
    return CoordinateMotion(times=t, q=q, coordinate_names=space.names, rotational=space.rotational,
                            name=trial_name or name, activity=name, params=params.to_dict())
