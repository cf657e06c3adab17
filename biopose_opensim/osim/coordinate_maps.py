"""Coordinate names across OpenSim model families, as ``source coordinate -> (model coordinate, sign)`` tables.

``gait2392``: motions of the gait2392/2354 models (the OpenSim example motions ``normal.mot``, ``crouch*.mot``,
the gait2392 tutorial's IK result) on the Rajagopal-family models (Rajagopal 2015/2016, LaiUhlrich 2022,
RajagopalLaiUhlrich 2023). Every name carries over unchanged except the knees: gait2392's ``knee_angle_*`` is
negative in flexion, Rajagopal's positive (range 0..140 deg), so ``knee_angle_r = -knee_angle_r(gait2392)``.
Coordinates the table does not list (arms, wrists, coupled patellofemoral coordinates) are not in gait2392.
"""
from __future__ import annotations

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

#: Named coordinate maps (``read_motion(..., coordinate_map="gait2392")``).
COORDINATE_MAPS: dict[str, dict[str, tuple[str, float]]] = {"gait2392": GAIT2392_TO_RAJAGOPAL}
