"""Motions in OpenSim coordinate space: parametric activities and real kinematics templates.

``generate_activity("walk", space, params)`` and ``template_motion(load_template(path, space), space, params)``
both return a :class:`~biopose_opensim.motion.coordinates.CoordinateMotion` whose ``q`` (T, C) lies within the
model's coordinate ranges, grounded on the floor, with per-subject variation from :func:`sample_params`.
"""
from ..motion.coordinates import CoordinateMotion
from ..osim.coordinate_space import CoordinateSpace
from ..osim.info import CoupledCoordinate
from .params import DEFAULT_DURATION, ActivityParams, sample_params
from .registry import ACTIVITIES, check_activity, generate_activity
from .templates import GAIT2392_TO_MODEL, Template, TemplateMapping, load_template, template_motion

#: The motion type activities return, under its former public name here.
Motion = CoordinateMotion

__all__ = [
    "ACTIVITIES",
    "ActivityParams",
    "CoordinateMotion",
    "CoordinateSpace",
    "CoupledCoordinate",
    "DEFAULT_DURATION",
    "GAIT2392_TO_MODEL",
    "Motion",
    "Template",
    "TemplateMapping",
    "check_activity",
    "generate_activity",
    "load_template",
    "sample_params",
    "template_motion",
]
