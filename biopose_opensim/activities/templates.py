"""Real kinematics as motion templates: ``.mot`` files mapped onto the model's coordinates, then varied.

Which convention a file is read in, and which of its columns are mapped, passed through, recomputed or ignored,
follows one table of rules: ``docs/datasets.md``, "Motion files" (implemented by
:func:`~biopose_opensim.osim.coordinate_maps.map_motion_columns`). In short: a file whose knee angles are mostly
negative is read as gait2392 (:data:`~biopose_opensim.osim.coordinate_maps.GAIT2392_TO_RAJAGOPAL`: names kept,
``knee_angle_r = −knee_angle_r(gait2392)``), otherwise in the model's convention; in both, columns named like a
model coordinate outside the gait2392 table (the arms of gait2392-family full-body models) are taken as they are,
coupled coordinates (``knee_angle_*_beta``) follow their coupler, marker locations (``<marker>_tx``) and forces
are ignored, and any other column is an error that lists exactly those columns.

Model coordinates a template lacks (the arms of gait2392, wrists) are filled in: arms swing against the
opposite hip, coupled coordinates follow their coupler, the rest stay at their defaults;
:attr:`TemplateMapping.unmapped_model` lists them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import CoordinateMismatchError, InputFileError
from ..io import read_mot
from ..motion.coordinates import CoordinateMotion
from ..osim.coordinate_maps import GAIT2392_TO_RAJAGOPAL, guess_convention, map_motion_columns
from ..osim.coordinate_space import CoordinateSpace
from .draft import Draft
from .curves import frame_times
from .params import ActivityParams
from .registry import finalize

log = logging.getLogger(__name__)

#: gait2392 coordinate -> (model coordinate, sign): the table of :mod:`biopose_opensim.osim.coordinate_maps`.
GAIT2392_TO_MODEL = GAIT2392_TO_RAJAGOPAL

@dataclass(frozen=True)
class TemplateMapping:
    """How a motion file's columns became model coordinates.

    Attributes:
        source: the file.
        convention: ``"gait2392"`` or ``"model"``.
        mapped: (file column, model coordinate, sign) triples.
        ignored: file columns not read: coupled coordinates (they follow their coupler), marker locations,
            forces.
        unmapped_model: model coordinates the file does not give (filled in, see the module docstring).
    """

    source: Path
    convention: str
    mapped: tuple[tuple[str, str, float], ...]
    ignored: tuple[str, ...]
    unmapped_model: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Template:
    """A motion file in model coordinates.

    Attributes:
        name: the file's stem (trials made from it are named after it).
        times: (T,) seconds from 0.
        q: (T, C) radians / metres; unmapped coordinates at their defaults.
        given: (C,) bool, coordinates the file provides.
        cyclic: whether the file holds a whole number of cycles (first and last frames agree within 8°).
        mapping: the column mapping.
    """

    name: str
    times: np.ndarray
    q: np.ndarray
    given: np.ndarray
    cyclic: bool
    mapping: TemplateMapping


def map_columns(path: Path, labels: tuple[str, ...], space: CoordinateSpace, gait2392: bool) -> TemplateMapping:
    """Map ``labels`` of ``path`` onto ``space`` by the rules of
    :func:`~biopose_opensim.osim.coordinate_maps.map_motion_columns`.

    Raises:
        CoordinateMismatchError: columns that are neither model coordinates nor known non-coordinates (the
            message lists exactly those), or no column mapped at all.
    """
    dependent = [n for n, d in zip(space.names, space.dependent) if d]
    cols = map_motion_columns(labels, space.names, "gait2392" if gait2392 else "model", coupled=dependent)
    if cols.unknown:
        raise CoordinateMismatchError(
            f"{path}: {len(cols.unknown)} column(s) do not match coordinates of {space.model_path.name}: "
            f"{', '.join(cols.unknown)} (read in the {cols.convention} convention; not marker locations "
            f"<marker>_tx/_ty/_tz or forces either); the model's coordinates are {', '.join(space.names)}")
    if not cols.mapped:
        raise CoordinateMismatchError(
            f"{path}: no column matches a coordinate of {space.model_path.name}; expected names such as "
            f"{', '.join(space.names[:8])}")
    targets = {t for _, t, _ in cols.mapped}
    unmapped = tuple(n for n in space.names if n not in targets)
    return TemplateMapping(path, cols.convention, cols.mapped, cols.coupled + cols.ignored, unmapped)


def load_template(path: str | Path, space: CoordinateSpace) -> Template:
    """Read a ``.mot``/``.sto`` and express it in ``space``'s coordinates (radians, metres).

    Convention and columns follow the rules in ``docs/datasets.md`` ("Motion files"): gait2392 knees flipped,
    model-named columns (full-body arms) unchanged, coupled coordinates from their coupler, marker locations and
    forces ignored.

    Raises:
        InputFileError: unreadable file or fewer than two frames.
        CoordinateMismatchError: columns that are neither model coordinates nor known non-coordinates.
    """
    path = Path(path)
    motion = read_mot(path)
    if motion.n_frames < 2:
        raise InputFileError(path, f"a motion template needs at least 2 frames, found {motion.n_frames}")
    knees = {c: motion.column(c) for c in ("knee_angle_r", "knee_angle_l") if c in motion.column_labels}
    gait2392 = guess_convention(knees) == "gait2392"
    mapping = map_columns(path, motion.column_labels, space, gait2392)
    q = space.neutral(motion.n_frames)
    given = np.zeros(space.size, dtype=bool)
    rot = space.rotational
    for col, target, sign in mapping.mapped:
        j = space.index(target)
        v = motion.column(col) * sign
        if rot[j] and motion.in_degrees:
            v = np.deg2rad(v)
        q[:, j] = v
        given[j] = True
    q = space.apply_couplers(q)
    times = motion.times - motion.times[0]
    angles = given & rot
    cyclic = bool(np.all(np.abs(q[-1, angles] - q[0, angles]) < np.deg2rad(8.0)))
    log.info("%s: %s names, %d coordinates mapped, %d ignored column(s), model coordinates not given: %s",
             path.name, mapping.convention, len(mapping.mapped), len(mapping.ignored),
             ", ".join(mapping.unmapped_model) or "none")
    return Template(path.stem, times, q, given, cyclic, mapping)


def _resample(tpl: Template, t_out: np.ndarray, time_scale: float) -> np.ndarray:
    """Template coordinates at times ``t_out`` when played ``time_scale`` times faster; loops if cyclic."""
    period = tpl.times[-1]
    src_t = t_out * time_scale
    q = tpl.q.copy()
    if tpl.cyclic:
        # remove the small end-to-start mismatch linearly so that looping is seamless
        drift = (q[-1] - q[0])[None, :] * (tpl.times / period)[:, None]
        q = q - drift
        src_t = np.mod(src_t, period)
    else:
        src_t = np.clip(src_t, 0.0, period)
    return np.stack([np.interp(src_t, tpl.times, q[:, j]) for j in range(q.shape[1])], axis=1)


def template_motion(
    tpl: Template, space: CoordinateSpace, params: ActivityParams, fps: float = 60.0,
    trial_name: str | None = None,
) -> CoordinateMotion:
    """A subject's version of a template: tempo, amplitude, asymmetry, arm swing and trunk style varied.

    Timing is scaled by ``params.cadence / 110``; excursions about each coordinate's mean by
    ``params.side(...)`` (sides by ``_r``/``_l`` suffix); trunk rotation and bending by
    ``params.trunk_rotation``. A non-cyclic template is played once (the trial is cut to its length).
    Templates without forward travel (gait in place, or under 0.3 m) progress at ``params.speed``.
    """
    time_scale = params.cadence / 110.0
    duration = params.duration if tpl.cyclic else min(params.duration, tpl.times[-1] / time_scale)
    t = frame_times(duration, fps)
    q = _resample(tpl, t, time_scale)
    rot = space.rotational
    for j, name in enumerate(space.names):
        if not (tpl.given[j] and rot[j]) or space.locked[j]:
            continue
        gain = params.side(True) if name.endswith("_r") else params.side(False) if name.endswith("_l") else 1.0
        if name.startswith(("lumbar_rotation", "lumbar_bending", "pelvis_rotation", "pelvis_list")):
            gain = params.trunk_rotation
        mean = q[:, j].mean()
        q[:, j] = mean + gain * (q[:, j] - mean)
    # arms swing against the opposite hip when the template has no arms
    names = space.names
    for side, other in (("r", "l"), ("l", "r")):
        if f"arm_flex_{side}" in names and not tpl.given[space.index(f"arm_flex_{side}")] \
                and f"hip_flexion_{other}" in names:
            hip = q[:, space.index(f"hip_flexion_{other}")]
            q[:, space.index(f"arm_flex_{side}")] = 0.55 * params.arm_swing * (hip - hip.mean()) + np.deg2rad(3.0)
            for coord, deg in ((f"arm_add_{side}", -10.0), (f"elbow_flex_{side}", 20.0), (f"pro_sup_{side}", 60.0)):
                if coord in names and not tpl.given[space.index(coord)]:
                    q[:, space.index(coord)] = np.deg2rad(deg)
    if "pelvis_tx" in names:
        j = space.index("pelvis_tx")
        if not tpl.given[j] or np.ptp(q[:, j]) < 0.3:
            travel = params.speed * t
            q[:, j] = q[:, j] - q[0, j] + travel - 0.5 * travel[-1]
        else:
            q[:, j] -= 0.5 * (q[:, j].max() + q[:, j].min())
    if "pelvis_tz" in names:
        j = space.index("pelvis_tz")
        q[:, j] -= q[:, j].mean()
    q = finalize(space, Draft(q=q), params, t)
    return CoordinateMotion(times=t, q=q, coordinate_names=space.names, rotational=space.rotational,
                            name=trial_name or tpl.name, activity=tpl.name,
                            params={**params.to_dict(), "template": str(tpl.mapping.source)})
