"""Scale a model by given per-body factors with OpenSim's ``ModelScaler`` (the ScaleTool's scaling step, manual
scaling order), and replay coordinate values on a model to read its markers.

Both run the real OpenSim API: :func:`scale_model_manually` writes the scaled ``.osim`` (and the ``ScaleSet``
OpenSim applied); :func:`replay_markers` poses a model at each frame (``Coordinate.setValue``, then
``realizePosition``) and reads marker positions in the ground frame.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from ..atomic import atomic_path
from ..errors import CoordinateMismatchError, MarkerMismatchError
from ._opensim import import_opensim
from ._run import OpenSimToolError
from .model import load_model

log = logging.getLogger(__name__)


def scale_model_manually(model_file: str | Path, body_names: Sequence[str], factors: np.ndarray, out_model: str | Path,
                         marker_set: str | Path | None = None, out_scale_set: str | Path | None = None,
                         name: str | None = None) -> Path:
    """Scale ``model_file`` by ``factors`` with OpenSim's ``ModelScaler`` (scaling order ``manualScale``).

    Args:
        model_file: the generic ``.osim``.
        body_names: bodies to scale; ``factors`` (len(body_names), 3) their (x, y, z) factors (ScaleTool semantics).
        out_model: the scaled model, printed by OpenSim (atomically).
        marker_set: a MarkerSet XML merged into the model before scaling (markers of the same name replaced,
            others added, as the ScaleTool's GenericModelMaker does), so the markers scale with their bodies.
        out_scale_set: where to print the ``ScaleSet`` OpenSim applied (atomically), if given.
        name: the scaled model's name (default: the generic model's).

    Mass is left unchanged (``preserve mass distribution``, no target mass).

    Raises:
        InputFileError: a file cannot be read; OpenSimToolError: the scaler failed.
    """
    osim = import_opensim()
    factors = np.asarray(factors, dtype=float).reshape(len(body_names), 3)
    model = load_model(model_file, markers=marker_set, keep_existing=True)
    if name:
        model.setName(name)
    model.finalizeConnections()
    model.initSystem()
    scaler = osim.ModelScaler()
    scaler.setApply(True)
    order = osim.ArrayStr()
    order.append("manualScale")
    scaler.setScalingOrder(order)
    scaler.setPreserveMassDist(True)
    for body, f in zip(body_names, factors):
        sc = osim.Scale()
        sc.setSegmentName(body)
        sc.setScaleFactors(osim.Vec3(*map(float, f)))
        sc.setApply(True)
        scaler.addScale(sc)
    if not scaler.processModel(model, "", -1.0):
        raise OpenSimToolError(f"{model_file}: OpenSim ModelScaler failed to scale the model")
    with atomic_path(out_model) as tmp:
        model.printToXML(str(tmp))
    if out_scale_set is not None:
        scale_set = osim.ScaleSet()
        for i in range(scaler.getScaleSet().getSize()):
            scale_set.cloneAndAppend(scaler.getScaleSet().get(i))
        with atomic_path(out_scale_set) as tmp:
            scale_set.printToXML(str(tmp))
    log.debug("scaled %s by %d manual factors -> %s", model_file, len(body_names), out_model)
    return Path(out_model)


def replay_markers(model_file: str | Path, coordinate_names: Sequence[str], values: np.ndarray,
                   marker_names: Sequence[str]) -> np.ndarray:
    """OpenSim's marker positions with the model at each frame of ``values``.

    Args:
        model_file: the (scaled) ``.osim``.
        coordinate_names: C coordinates of the model set at each frame (coupled ones included: they are set to
            the given values, as a ``.mot`` replay does).
        values: (F, C) radians / metres.
        marker_names: the M markers to read.

    Returns:
        (F, M, 3) metres, ground frame.

    Raises:
        CoordinateMismatchError / MarkerMismatchError: a name the model lacks (named).
    """
    model = load_model(model_file)
    state = model.initSystem()
    cs, ms = model.getCoordinateSet(), model.getMarkerSet()
    absent = [n for n in coordinate_names if not cs.contains(n)]
    if absent:
        raise CoordinateMismatchError(f"{model_file}: the model has no coordinate(s) {', '.join(absent)}")
    gone = [n for n in marker_names if not ms.contains(n)]
    if gone:
        raise MarkerMismatchError(f"{model_file}: the model has no marker(s) {', '.join(gone[:20])}")
    coords = [cs.get(n) for n in coordinate_names]
    markers = [ms.get(n) for n in marker_names]
    values = np.asarray(values, dtype=float)
    out = np.empty((values.shape[0], len(markers), 3))
    for t, row in enumerate(values):
        for c, v in zip(coords, row):
            c.setValue(state, float(v), False)
        model.realizePosition(state)
        for i, mk in enumerate(markers):
            p = mk.getLocationInGround(state)
            out[t, i] = (p.get(0), p.get(1), p.get(2))
    return out
