"""Retargeting OpenSim kinematics onto the body mesh, and virtual-marker trials from OpenSim motions.

``read_motion`` (a ``.mot`` on a model) -> ``body_poses`` (OpenSim body transforms) -> ``calibrate`` /
``retarget_poses`` (Anny bone orientations, see :mod:`~biopose_opensim.motion.retarget`) ->
``virtual_marker_trajectories`` / ``write_synthetic_trials`` (TRC files in OpenSim's ground frame).
"""
from .coordinates import (
    COORDINATE_MAPS,
    GAIT2392_TO_RAJAGOPAL,
    CoordinateMotion,
    motion_from_columns,
    read_motion,
    static_motion,
)
from ..osim.coordinate_space import CoordinateSpace
from .osim_poses import BodyPoses, body_poses
from .placement import MEASUREMENTS, MarkerBody, Placement, assign_bodies, place_markers
from .retarget import AnnyOsimCalibration, calibrate, retarget_poses, to_opensim_frame
from .smpl_retarget import SmplOsimCalibration, calibrate_smpl, retarget_smpl_poses
from .trials import MeshMotion, SyntheticTrials, mesh_motion, virtual_marker_trajectories, write_synthetic_trials

#: Earlier public names of a model's coordinate arrays (now :class:`~biopose_opensim.osim.CoordinateSpace`).
ModelCoordinates = CoordinateSpace
model_coordinates = CoordinateSpace.from_osim

__all__ = [
    "AnnyOsimCalibration", "BodyPoses", "COORDINATE_MAPS", "CoordinateMotion", "GAIT2392_TO_RAJAGOPAL",
    "MEASUREMENTS", "MarkerBody", "MeshMotion", "ModelCoordinates", "Placement", "SmplOsimCalibration",
    "SyntheticTrials", "assign_bodies", "body_poses", "calibrate", "calibrate_smpl", "mesh_motion",
    "model_coordinates", "motion_from_columns", "place_markers", "read_motion", "retarget_poses", "retarget_smpl_poses", "static_motion", "to_opensim_frame",
    "virtual_marker_trajectories", "write_synthetic_trials",
]
