"""Thin wrappers over the real OpenSim API (the ``opensim`` Python package).

- :mod:`.model`: load a model (the one way to open a ``.osim``), describe it with the dataclasses of :mod:`.info`
  (coordinates, bodies, joints, markers, constraints).
- :mod:`.coordinate_space`: a model's coordinates as arrays (ranges, defaults, motion types, couplers).
- :mod:`.markerset`: read MarkerSet XMLs, replace (merge) a model's markers.
- :mod:`.setups`: Scale / IK setup files as dataclasses (read a lab's setup, write OpenSim-ready ones).
- :mod:`.scale`: run the ScaleTool; :mod:`.ik`: run the InverseKinematicsTool.
- :mod:`.coordinate_maps`: coordinate names across model families (gait2392 -> Rajagopal).
"""
from ._opensim import import_opensim
from ._run import OpenSimToolError
from .coordinate_space import CoordinateSpace
from .ik import IKResult, run_ik
from .markerset import read_markerset, replace_markers, write_markerset
from .model import (
    BodyInfo,
    ConstraintInfo,
    CoordinateInfo,
    JointInfo,
    MarkerInfo,
    ModelInfo,
    MotionType,
    load_model,
    model_info,
    read_model_info,
)
from .scale import ScaleResult, read_scale_factors, run_scale
from .setups import (
    CoordinateTask,
    IKSetup,
    ManualScale,
    MarkerTask,
    Measurement,
    ScaleSetup,
    read_ik_setup,
    read_scale_setup,
    write_ik_setup,
    write_scale_setup,
)

__all__ = [
    "import_opensim", "OpenSimToolError",
    "BodyInfo", "ConstraintInfo", "CoordinateInfo", "JointInfo", "MarkerInfo", "ModelInfo",
    "MotionType", "CoordinateSpace",
    "load_model", "model_info", "read_model_info",
    "read_markerset", "replace_markers", "write_markerset",
    "CoordinateTask", "IKSetup", "ManualScale", "MarkerTask", "Measurement", "ScaleSetup",
    "read_ik_setup", "read_scale_setup", "write_ik_setup", "write_scale_setup",
    "ScaleResult", "read_scale_factors", "run_scale", "IKResult", "run_ik",
]
