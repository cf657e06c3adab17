"""Generate one virtual subject's trials: motions in model coordinates -> mesh -> virtual-marker ``.trc``.

Per subject (one task of the shared runner), in ``subjects/<name>/``:

* ``<name>_static.trc``: the static trial, the model's zero pose (every coordinate 0, standing on the floor),
  which ``label`` prescribes during marker placement (``--static-pose zero``);
* per motion: ``<trial>.trc`` (virtual markers, mm, with optional Gaussian noise) and ``<trial>_source.mot``
  (the generating coordinates, degrees, openable in OpenSim);
* ``subject.json``: shape parameters, measured height and mass, trial list and styles.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..activities import ActivityParams, CoordinateSpace, generate_activity, load_template, template_motion
from ..atomic import atomic_write_text
from ..bodymodels.registry import body_model_spec
from ..errors import ConfigError
from ..io import MarkerData, write_trc
from ..motion.coordinates import CoordinateMotion, static_motion
from .jobs import SubjectJob, TrialJob
from .subjects import SubjectShape

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MotionSpec:
    """One trial to generate: a parametric activity or a template file, with the subject's style."""

    trial: str
    activity: str | None
    template: Path | None
    params: ActivityParams


@dataclass(frozen=True)
class SubjectPlan:
    """Everything a worker needs to generate one subject (picklable)."""

    shape: SubjectShape
    out_dir: Path
    split: str
    model: Path
    marker_set: str
    motions: tuple[MotionSpec, ...]
    fps: float
    static_duration: float
    noise_mm: float
    noise_seed: int
    smpl_model_dir: Path | None = None


def trial_names(activities: Sequence[str], motions: Sequence[Path]) -> list[str]:
    """Trial names: the activity name or the motion file's stem, made unique with ``_2``, ``_3`` …"""
    out: list[str] = []
    for base in [*activities, *(Path(m).stem for m in motions)]:
        name, k = base, 2
        while name in out:
            name, k = f"{base}_{k}", k + 1
        out.append(name)
    return out


def _subject_body(plan: SubjectPlan):
    """The subject's mesh, calibrated against the OpenSim model; retargeted as its body model's family is."""
    if body_model_spec(plan.shape.body_model, synth=True).family == "anny":
        from .bodies import AnnySubjectBody

        return AnnySubjectBody(plan.shape, plan.model, plan.marker_set)
    from .smpl_body import SmplSubjectBody

    return SmplSubjectBody(plan.shape, plan.model, plan.marker_set, plan.smpl_model_dir)


def _write_trc(path: Path, names: Sequence[str], times: np.ndarray, markers: np.ndarray, fps: float) -> Path:
    data = MarkerData(tuple(names), markers, times, float(fps), np.arange(1, len(times) + 1))
    return write_trc(path, data, units="mm")


def generate_subject(plan: SubjectPlan) -> SubjectJob:
    """Generate the static and motion trials of one subject; return its :class:`SubjectJob`."""
    out = Path(plan.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    space = CoordinateSpace.from_osim(plan.model)
    body = _subject_body(plan)
    measures = body.measures()
    name = plan.shape.name
    # static trial at the model's zero pose, grounded as the default model stands
    static = static_motion(str(plan.model), "zero", duration=plan.static_duration, rate=plan.fps)
    static_markers = body.markers(static)
    static_trc = _write_trc(out / f"{name}_static.trc", body.marker_names, static.times, static_markers, plan.fps)
    rng = np.random.default_rng(plan.noise_seed)
    trials = []
    for spec in plan.motions:
        motion = _motion(spec, space, plan.fps)
        src = motion.write(out / f"{spec.trial}_source.mot")
        markers = body.markers(motion)
        if plan.noise_mm > 0:
            markers = markers + rng.normal(0.0, plan.noise_mm * 1e-3, size=markers.shape)
        trc = _write_trc(out / f"{spec.trial}.trc", body.marker_names, motion.times, markers, plan.fps)
        trials.append(TrialJob(spec.trial, motion.activity, trc, src))
    info = {
        "subject": plan.shape.to_dict(), "height_m": measures.height, "mass_kg": measures.mass, "split": plan.split,
        "marker_set": plan.marker_set, "noise_mm": plan.noise_mm,
        "trials": [{"name": s.trial, "activity": s.activity or Path(s.template).stem,
                    "template": str(s.template) if s.template else None, "params": s.params.to_dict()}
                   for s in plan.motions],
    }
    atomic_write_text(out / "subject.json", json.dumps(info, indent=1))
    log.info("%s: %s %.0f y, %.3f m, %.1f kg; %d trials generated", name, plan.shape.sex, plan.shape.age,
             measures.height, measures.mass, len(trials))
    return SubjectJob(name=name, out_dir=out, static_trc=static_trc, trials=tuple(trials), split=plan.split,
                      sex=plan.shape.sex, age=plan.shape.age, height=round(measures.height, 4),
                      mass=round(measures.mass, 2), body_model=plan.shape.body_model,
                      shape=plan.shape.to_dict(), source="synthetic")


def _motion(spec: MotionSpec, space: CoordinateSpace, fps: float) -> CoordinateMotion:
    if spec.activity is not None:
        return generate_activity(spec.activity, space, spec.params, fps, trial_name=spec.trial)
    if spec.template is None:
        raise ConfigError(f"trial {spec.trial!r} has neither an activity nor a template")
    return template_motion(load_template(spec.template, space), space, spec.params, fps, trial_name=spec.trial)


def plan_styles(n_subjects: int, seed: int, activities: Sequence[str], motions: Sequence[Path],
                duration: float | None) -> list[tuple[MotionSpec, ...]]:
    """Per subject, the trials with their seeded styles (drawn in the main process: reproducible)."""
    from ..activities import sample_params

    names = trial_names(activities, motions)
    out = []
    for i in range(n_subjects):
        rng = np.random.default_rng([seed, i, 1])
        specs = []
        for k, name in enumerate(names):
            if k < len(activities):
                specs.append(MotionSpec(name, activities[k], None, sample_params(activities[k], rng, duration)))
            else:
                m = Path(motions[k - len(activities)])
                specs.append(MotionSpec(name, None, m, sample_params("template", rng, duration)))
        out.append(tuple(specs))
    return out


def check_motions(motions: Sequence[Path], space: CoordinateSpace) -> Mapping[str, object]:
    """Load every template once up front so a bad file fails before any work starts; returns the mappings."""
    return {str(m): load_template(m, space).mapping for m in motions}
