"""Ground truth from the real OpenSim API: set coordinates, let OpenSim derive coupled ones, read positions."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from biopose_opensim.osim import import_opensim

PROJECT_DIR = Path(__file__).resolve().parents[2]

# The models of the parity tests: name -> (model path relative to the project, marker set to add or None).
PARITY_MODELS = {
    "RajagopalLaiUhlrich2023": ("osim_models/RajagopalLaiUhlrich2023.osim", None),
    "Rajagopal2016": ("tests/data/models/Rajagopal2016.osim", None),
    "Rajagopal2015": ("tests/data/models/Rajagopal2015.osim", None),
    "gait2392": (
        "tests/data/gait2392_tutorial/gait2392_simbody.osim",
        "tests/data/gait2392_tutorial/gait2392_Scale_MarkerSet.xml",
    ),
}


@dataclass
class OpenSimPoses:
    """OpenSim's answer for a batch of poses (all float64, metres, ground frame)."""

    markers: np.ndarray  # (N, M, 3)
    body_origins: np.ndarray  # (N, NB, 3)
    body_rotations: np.ndarray  # (N, NB, 3, 3)
    joint_centers: np.ndarray  # (N, NJ, 3)
    dependent: np.ndarray  # (N, D) dependent coordinates as OpenSim assembled them
    independent_drift: float  # max |q_after_assemble - q_set| over independent coordinates


def _vec(v) -> list[float]:
    return [v.get(i) for i in range(3)]


def load_opensim_model(path: str | Path, marker_set: str | Path | None = None, assembly_accuracy: float = 1e-12):
    """Load a model with OpenSim (optionally merging a MarkerSet); the assembler is made tighter than its
    default (1e-9) so that assembling the couplers leaves the independent coordinates where they were set."""
    osim = import_opensim()
    model = osim.Model(str(path))
    model.set_assembly_accuracy(assembly_accuracy)
    if marker_set is not None:
        ms = osim.MarkerSet(str(marker_set))
        model.updateMarkerSet(ms)
    model.finalizeConnections()
    return model


def opensim_poses(
    model, q: np.ndarray, coordinate_names: Sequence[str], dependent_names: Sequence[str] = ()
) -> OpenSimPoses:
    """Pose ``model`` at each row of ``q`` (independent coordinates, by name) and read OpenSim's positions.

    Every independent coordinate is set with ``Coordinate.setValue(state, value, enforceConstraints=False)``;
    then ``Model.assemble(state)`` lets OpenSim's assembler solve the ``CoordinateCouplerConstraint``\\ s for the
    dependent coordinates; then ``realizePosition``. ``independent_drift`` records how far the assembler moved
    the independent coordinates (it should not move them).
    """
    state = model.initSystem()
    cs = model.getCoordinateSet()
    coords = [cs.get(n) for n in coordinate_names]
    deps = [cs.get(n) for n in dependent_names]
    bodies = model.getBodySet()
    joints = model.getJointSet()
    markers = model.getMarkerSet()
    n = q.shape[0]
    out_m = np.empty((n, markers.getSize(), 3))
    out_bo = np.empty((n, bodies.getSize(), 3))
    out_br = np.empty((n, bodies.getSize(), 3, 3))
    out_jc = np.empty((n, joints.getSize(), 3))
    out_dep = np.empty((n, len(deps)))
    drift = 0.0
    for t in range(n):
        for c, v in zip(coords, q[t]):
            c.setValue(state, float(v), False)
        if deps:
            model.assemble(state)
        model.realizePosition(state)
        drift = max(drift, max(abs(c.getValue(state) - float(v)) for c, v in zip(coords, q[t])))
        out_dep[t] = [d.getValue(state) for d in deps]
        for i in range(markers.getSize()):
            out_m[t, i] = _vec(markers.get(i).getLocationInGround(state))
        for i in range(bodies.getSize()):
            x = bodies.get(i).getTransformInGround(state)
            out_bo[t, i] = _vec(x.p())
            r = x.R()
            out_br[t, i] = [[r.get(a, b) for b in range(3)] for a in range(3)]
        for i in range(joints.getSize()):
            out_jc[t, i] = _vec(joints.get(i).getChildFrame().getPositionInGround(state))
    return OpenSimPoses(out_m, out_bo, out_br, out_jc, out_dep, drift)


def scale_with_model_scaler(model, body_names: Sequence[str], factors: np.ndarray, out_path: str | Path) -> Path:
    """Scale ``model`` with OpenSim's ``ModelScaler`` (the ScaleTool's scaling step), manual factors only.

    Args:
        model: an OpenSim model (modified in place; keep a reference to it while OpenSim uses it).
        body_names: the bodies to scale; ``factors`` (len(body_names), 3) their (x, y, z) factors.
        out_path: where the scaled model is printed (OpenSim writes MultiplierFunctions for scaled
            joint translation functions).
    """
    osim = import_opensim()
    model.initSystem()
    scaler = osim.ModelScaler()
    scaler.setApply(True)
    order = osim.ArrayStr()
    order.append("manualScale")
    scaler.setScalingOrder(order)
    scaler.setPreserveMassDist(True)
    for name, f in zip(body_names, np.asarray(factors, dtype=float)):
        sc = osim.Scale()
        sc.setSegmentName(name)
        sc.setScaleFactors(osim.Vec3(*map(float, f)))
        sc.setApply(True)
        scaler.addScale(sc)
    if not scaler.processModel(model, "", -1.0):
        raise RuntimeError("OpenSim ModelScaler failed")
    model.printToXML(str(out_path))
    return Path(out_path)
