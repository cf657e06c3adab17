"""OpenSim XML for virtual-marker sets: the model MarkerSet, IK tasks, and Scale/IK setup templates.

* :func:`marker_set_xml` / :func:`write_marker_set`: an OpenSim 4 ``MarkerSet`` document (markers attached to
  ``/bodyset/<body>`` at a location in the body frame, metres); it loads with ``opensim.MarkerSet(path)`` and
  replaces a model's markers (``label --markers``).
* :func:`write_ik_setup`: an ``InverseKinematicsTool`` template whose ``IKMarkerTask`` weights are the marker
  set's weights (weight 0: ``apply = false``).
* :func:`write_scale_setup`: a ``ScaleTool`` template with a ``MeasurementSet`` (marker pairs -> body scale
  axes) and the marker-placement tasks.

Files are built with OpenSim's own classes and printed by OpenSim, then moved into place atomically.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence
from xml.sax.saxutils import escape

import numpy as np

from ..atomic import atomic_path, atomic_write_text
from ..errors import InputFileError
from ..osim import import_opensim

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelMarker:
    """A marker on an OpenSim model: ``location`` ``(3,)`` metres in the frame of ``body``."""

    name: str
    body: str
    location: tuple[float, float, float]
    fixed: bool = False


@dataclass(frozen=True)
class Measurement:
    """A ScaleTool measurement: the mean distance of ``pairs`` scales ``bodies`` along their axes ("XYZ", "Y"...)."""

    name: str
    pairs: tuple[tuple[str, str], ...]
    bodies: tuple[tuple[str, str], ...]


def marker_set_xml(markers: Sequence[ModelMarker], name: str = "markers", comment: str = "") -> str:
    """An OpenSim 4 MarkerSet document for ``markers`` (locations written with 1e-6 m resolution)."""
    lines = ['<?xml version="1.0" encoding="UTF-8" ?>']
    if comment:
        lines.append(f"<!-- {escape(comment).replace('--', '- -')} -->")
    lines += ['<OpenSimDocument Version="40000">', f'\t<MarkerSet name="{escape(name)}">', "\t\t<objects>"]
    for m in markers:
        x, y, z = (float(c) for c in m.location)
        lines += [
            f'\t\t\t<Marker name="{escape(m.name)}">',
            f"\t\t\t\t<socket_parent_frame>/bodyset/{escape(m.body)}</socket_parent_frame>",
            f"\t\t\t\t<location>{x:.6f} {y:.6f} {z:.6f}</location>",
            f"\t\t\t\t<fixed>{'true' if m.fixed else 'false'}</fixed>",
            "\t\t\t</Marker>",
        ]
    lines += ["\t\t</objects>", "\t\t<groups />", "\t</MarkerSet>", "</OpenSimDocument>", ""]
    return "\n".join(lines)


def write_marker_set(path: str | Path, markers: Sequence[ModelMarker], name: str = "markers",
                     comment: str = "") -> Path:
    """Write :func:`marker_set_xml` atomically; returns the path."""
    atomic_write_text(path, marker_set_xml(markers, name, comment))
    return Path(path)


def read_marker_set(path: str | Path) -> list[ModelMarker]:
    """Markers of an OpenSim MarkerSet XML, read by OpenSim (``opensim.MarkerSet``)."""
    osim = import_opensim()
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "OpenSim MarkerSet file not found")
    try:
        ms = osim.MarkerSet(str(path))
    except Exception as exc:  # OpenSim raises its own exception types
        raise InputFileError(path, f"OpenSim cannot read this MarkerSet: {exc}") from None
    out = []
    for i in range(ms.getSize()):
        m = ms.get(i)
        loc = m.get_location()
        parent = m.getSocket("parent_frame").getConnecteePath()
        out.append(ModelMarker(m.getName(), parent.rsplit("/", 1)[-1], (loc.get(0), loc.get(1), loc.get(2)),
                               bool(m.get_fixed())))
    return out


def _ik_tasks(osim, weights: Mapping[str, float]):
    tasks = osim.IKTaskSet()
    for name, w in weights.items():
        t = osim.IKMarkerTask()
        t.setName(name)
        t.setWeight(float(w))
        t.setApply(bool(w > 0))
        tasks.cloneAndAppend(t)
    return tasks


def write_ik_setup(path: str | Path, weights: Mapping[str, float], name: str = "ik",
                   accuracy: float = 1e-6) -> Path:
    """An InverseKinematicsTool setup template: marker tasks with ``weights`` (0: not applied)."""
    osim = import_opensim()
    tool = osim.InverseKinematicsTool()
    tool.setName(name)
    tool.set_accuracy(accuracy)
    tool.set_IKTaskSet(_ik_tasks(osim, weights))
    with atomic_path(path) as tmp:
        tool.printToXML(str(tmp))
    return Path(path)


def _measurement(osim, m: Measurement):
    meas = osim.Measurement()
    meas.setName(m.name)
    meas.setApply(True)
    pairs = meas.getMarkerPairSet()
    for a, b in m.pairs:
        pairs.cloneAndAppend(osim.MarkerPair(a, b))
    scales = meas.getBodyScaleSet()
    for body, axes in m.bodies:
        bs = osim.BodyScale()
        bs.setName(body)
        arr = osim.ArrayStr()
        for axis in axes:
            arr.append(axis)
        bs.setAxisNames(arr)
        scales.cloneAndAppend(bs)
    return meas


def write_scale_setup(path: str | Path, measurements: Sequence[Measurement], weights: Mapping[str, float],
                      name: str = "scale", mass: float = -1.0, height: float = -1.0,
                      time_range: tuple[float, float] = (0.0, 0.5)) -> Path:
    """A ScaleTool setup template: measurement-based scaling and marker placement with ``weights``.

    ``mass``/``height`` of -1 leave OpenSim's "unspecified" values. Model and trial files are left unassigned
    (the labelling pipeline fills them in). ``time_range`` (s) is the static window of scaling and marker
    placement: the first half second, which the synthetic static trials (1 s from t = 0) cover.
    """
    osim = import_opensim()
    tool = osim.ScaleTool()
    tool.setName(name)
    tool.setSubjectMass(mass)
    tool.setSubjectHeight(height)
    scaler = tool.getModelScaler()
    order = osim.ArrayStr()
    order.append("measurements")
    scaler.setScalingOrder(order)
    ms = osim.MeasurementSet()
    for m in measurements:
        ms.cloneAndAppend(_measurement(osim, m))
    scaler.setMeasurementSet(ms)
    scaler.setPreserveMassDist(True)
    window = osim.ArrayDouble()
    for t in time_range:
        window.append(float(t))
    scaler.setTimeRange(window)
    placer = tool.getMarkerPlacer()
    placer.setTimeRange(window)
    placer.getIKTaskSet().assign(_ik_tasks(osim, weights))
    placer.setApply(True)
    with atomic_path(path) as tmp:
        tool.printToXML(str(tmp))
    return Path(path)


def marker_locations_in_ground(model, markers: Sequence[ModelMarker], coordinates: Mapping[str, float] | None = None
                               ) -> np.ndarray:
    """``(M, 3)`` ground positions of ``markers`` on ``model`` (path or Model) at its default pose.

    ``coordinates`` overrides coordinate values (radians/metres).
    """
    osim = import_opensim()
    if not hasattr(model, "getBodySet"):
        model = osim.Model(str(model))
    state = model.initSystem()
    for name, value in (coordinates or {}).items():
        model.getCoordinateSet().get(name).setValue(state, float(value), False)
    model.realizePosition(state)
    out = np.empty((len(markers), 3))
    for i, m in enumerate(markers):
        body = model.getBodySet().get(m.body)
        p = body.findStationLocationInGround(state, osim.Vec3(*m.location))
        out[i] = [p.get(0), p.get(1), p.get(2)]
    return out
