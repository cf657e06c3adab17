"""Coordinate names across OpenSim model families, and the rules that turn a motion file's columns into coordinates.

``gait2392``: motions of the gait2392/2354 models and of full-body models built on their lower body (the OpenSim
example motions ``normal.mot``, ``crouch*.mot``, the gait2392 tutorial's IK result, IK results of the Hamner 2010
full-body running model) on the Rajagopal-family models (Rajagopal 2015/2016, LaiUhlrich 2022,
RajagopalLaiUhlrich 2023). Every gait2392 name carries over unchanged except the knees: gait2392's
``knee_angle_*`` is negative in flexion, Rajagopal's positive (range 0..140 deg), so
``knee_angle_r = -knee_angle_r(gait2392)``. The table lists the 23 gait2392 coordinates only; columns named like
one of the model's other coordinates (the arms ``arm_flex_r`` ... ``pro_sup_l`` of full-body models, wrists) are
taken as they are.

:func:`map_motion_columns` applies the column rules that both motion readers share
(:func:`biopose_opensim.activities.load_template` and :func:`biopose_opensim.motion.read_motion`); the rules are
tabulated in ``docs/datasets.md`` ("Motion files").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Collection, Mapping, Sequence

import numpy as np

from ..errors import CoordinateMismatchError

#: gait2392 coordinate -> (Rajagopal-family coordinate, sign). Identity except the knee flexion sign.
GAIT2392_TO_RAJAGOPAL: dict[str, tuple[str, float]] = {
    **{n: (n, 1.0) for n in (
        "pelvis_tilt", "pelvis_list", "pelvis_rotation", "pelvis_tx", "pelvis_ty", "pelvis_tz",
        "hip_flexion_r", "hip_adduction_r", "hip_rotation_r", "ankle_angle_r", "subtalar_angle_r", "mtp_angle_r",
        "hip_flexion_l", "hip_adduction_l", "hip_rotation_l", "ankle_angle_l", "subtalar_angle_l", "mtp_angle_l",
        "lumbar_extension", "lumbar_bending", "lumbar_rotation")},
    "knee_angle_r": ("knee_angle_r", -1.0),
    "knee_angle_l": ("knee_angle_l", -1.0),
}

#: Named coordinate maps (``read_motion(..., coordinate_map="gait2392")``); ``"model"`` is the identity.
COORDINATE_MAPS: dict[str, dict[str, tuple[str, float]]] = {"gait2392": GAIT2392_TO_RAJAGOPAL, "model": {}}

#: Force and torque columns written next to kinematics (``ground_force_vx``, ``r_ground_force_px``, ...).
NON_COORDINATE = re.compile(
    r"(^ground_(force|torque)_)|(_(force|torque)_[vp]?[xyz]$)|(^[a-z]_?(ground_)?force)", re.IGNORECASE)
_TRANSLATION = re.compile(r"^(?P<stem>.+)_t[xyz]$")


@dataclass(frozen=True)
class ColumnMapping:
    """How a motion file's columns become model coordinates (every column in exactly one of the four groups).

    Attributes:
        convention: ``"gait2392"``, ``"model"`` or ``"custom"`` (a caller's own table).
        mapped: (file column, model coordinate, sign) triples, file order; the value is ``sign * column``.
        coupled: file columns naming a coupled model coordinate (``knee_angle_r_beta``); not read, the
            coordinate follows its coupler.
        ignored: file columns that are not coordinates: marker locations ``<marker>_tx/_ty/_tz`` written by IK,
            forces and torques.
        unknown: the other columns: neither a coordinate of the model nor a known non-coordinate.
    """

    convention: str
    mapped: tuple[tuple[str, str, float], ...]
    coupled: tuple[str, ...]
    ignored: tuple[str, ...]
    unknown: tuple[str, ...]


def resolve_map(coordinate_map: str | Mapping[str, tuple[str, float]] | None) -> tuple[str, dict]:
    """``(convention name, column -> (coordinate, sign) table)`` for a map name, a table or ``None`` (model names).

    Raises:
        CoordinateMismatchError: an unknown map name.
    """
    if coordinate_map is None:
        return "model", {}
    if isinstance(coordinate_map, str):
        if coordinate_map not in COORDINATE_MAPS:
            raise CoordinateMismatchError(
                f"unknown coordinate map {coordinate_map!r}; known: {', '.join(COORDINATE_MAPS)}")
        return coordinate_map, COORDINATE_MAPS[coordinate_map]
    return "custom", dict(coordinate_map)


def guess_convention(columns: Mapping[str, np.ndarray]) -> str:
    """``"gait2392"`` when the file's knee angles (``knee_angle_r``/``_l``, any unit) are mostly negative, which
    the Rajagopal range 0..140 deg excludes; ``"model"`` otherwise (also without knee columns)."""
    knees = [np.asarray(columns[c], dtype=float).ravel() for c in ("knee_angle_r", "knee_angle_l") if c in columns]
    if not knees:
        return "model"
    return "gait2392" if float(np.median(np.concatenate(knees))) < 0.0 else "model"


def map_motion_columns(
    labels: Sequence[str],
    model_names: Sequence[str],
    coordinate_map: str | Mapping[str, tuple[str, float]] | None = None,
    coupled: Collection[str] = (),
) -> ColumnMapping:
    """Sort the columns ``labels`` (without ``time``) of a motion file by the rules, first match wins:

    1. in the convention's table and its target is a model coordinate: mapped with the table's sign;
    2. a coupled model coordinate (``coupled``): not read, the coordinate follows its coupler;
    3. a model coordinate (e.g. the arms of a gait2392-family full-body model): mapped unchanged;
    4. a force or torque column (:data:`NON_COORDINATE`): ignored;
    5. ``<stem>_tx``/``_ty``/``_tz`` whose stem is not that of a model coordinate: a marker location, ignored;
    6. anything else: unknown (a name no model coordinate has, so it never names one of ``model_names``).

    Args:
        coordinate_map: map name (``"gait2392"``, ``"model"``), a column -> (coordinate, sign) table, or ``None``.
        coupled: names of the model's coupled (dependent) coordinates.
    """
    convention, table = resolve_map(coordinate_map)
    names = set(model_names)
    coupled = set(coupled)
    stems = {n.rsplit("_t", 1)[0] for n in model_names if _TRANSLATION.match(n)}
    mapped, dependent, ignored, unknown = [], [], [], []
    for col in labels:
        if col in table and table[col][0] in names and table[col][0] not in coupled:
            target, sign = table[col]
            mapped.append((col, target, float(sign)))
        elif col in coupled:
            dependent.append(col)
        elif col in names:
            mapped.append((col, col, 1.0))
        elif NON_COORDINATE.search(col):
            ignored.append(col)
        elif (m := _TRANSLATION.match(col)) and m.group("stem") not in stems:
            ignored.append(col)
        else:
            unknown.append(col)
    return ColumnMapping(convention, tuple(mapped), tuple(dependent), tuple(ignored), tuple(unknown))
