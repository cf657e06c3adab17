"""Measure in the static pose: the generic model posed like the static trial before measurement-based scaling.

OpenSim's ModelScaler compares marker distances on the model in its *default* pose with the same distances in
the static trial. For a pair spanning a joint (acromion to elbow, ASIS to knee) that is only right when the
subject stands like the model's default pose; a static trial with raised arms or an A-pose biases those scale
factors. Here the generic model's default coordinate values are first set to the static pose (the prescribed
``static_pose`` when given, else the pose OpenSim's MarkerPlacer finds for the unscaled model), the ScaleTool
runs on that posed copy, and the scaled model gets the generic model's default values back.

The posed generic model is written beside the outputs (``<subject>_generic_posed.osim``) and is what
``setup_scale.xml`` refers to, so OpenSim reruns the same scaling. Muscle path lengths are scaled by OpenSim
in the posed default configuration; joint kinematics are unaffected.
"""
from __future__ import annotations

import logging
from pathlib import Path

from ..atomic import atomic_path
from ..osim.markerset import replace_markers
from ..osim.model import load_model
from ..osim.scale import run_scale
from ..osim.setups import ScaleSetup, write_scale_setup

log = logging.getLogger(__name__)


def static_pose_estimate(scale: ScaleSetup, stage: Path) -> dict[str, float]:
    """The static pose (rad/m per coordinate) MarkerPlacer finds for the *unscaled* generic model."""
    setup = scale.replace(scaler_apply=False, output_scale_file=None, output_scaled_only_model_file=None,
                          output_model_file=".pose_probe.osim", output_motion_file=".pose_probe.mot",
                          output_marker_file=None)
    path = stage / "setup_pose_probe.xml"
    write_scale_setup(setup, path)
    return dict(run_scale(path).static_pose)


def write_posed_model(model_file: Path, markers_file: Path | None, pose: dict[str, float], target: Path) -> Path:
    """The generic model (with its markers) whose default coordinate values are ``pose``; written atomically."""
    model = load_model(model_file)
    if markers_file is not None:
        replace_markers(model, markers_file, keep_existing=True)
    _set_defaults(model, pose)
    model.finalizeConnections()
    with atomic_path(target) as tmp:
        model.printToXML(str(tmp))
    return target


def restore_defaults(scaled_model: Path, generic_model: Path) -> None:
    """Give ``scaled_model`` the default coordinate values of ``generic_model`` again (rewritten atomically)."""
    generic = load_model(generic_model)
    defaults = {c.getName(): c.getDefaultValue() for c in generic.getCoordinateSet()}
    model = load_model(scaled_model)
    _set_defaults(model, defaults)
    model.finalizeConnections()
    with atomic_path(scaled_model) as tmp:
        model.printToXML(str(tmp))


def _set_defaults(model, values: dict[str, float]) -> None:
    for c in model.getCoordinateSet():
        if c.getName() in values and not c.getDefaultLocked():
            c.setDefaultValue(float(values[c.getName()]))
