"""OpenSim MarkerSet XML files: read them, write them, and replace a model's markers by them.

A marker set names, for each marker, the body that carries it and its location in that body's frame (m).
:func:`replace_markers` is the one way markers of a file are merged into a model.
Old (OpenSim 3.x) marker-set files are converted by OpenSim when read. Markers as data are
:class:`~biopose_opensim.osim.model.MarkerInfo`: :func:`read_markerset` returns them, :func:`write_markers`
writes them (an OpenSim 4 document that ``opensim.MarkerSet(path)`` loads), :func:`write_markerset` writes a
model's own markers as OpenSim prints them.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import escape

from ..atomic import atomic_path, atomic_write_text
from ..errors import InputFileError, MarkerMismatchError
from ._opensim import import_opensim, read_file
from .info import MarkerInfo, closest_names

log = logging.getLogger(__name__)


def _load_set(path: Path):
    osim = import_opensim()
    if not path.is_file():
        raise InputFileError(path, "OpenSim MarkerSet file not found (expected an OpenSim MarkerSet .xml)")
    markerset = read_file(osim.MarkerSet, path, "marker set")
    if markerset.getSize() == 0:
        raise InputFileError(path, "no <Marker> elements found (expected an OpenSim MarkerSet)")
    return markerset


def read_markerset(path: str | Path) -> tuple[MarkerInfo, ...]:
    """Markers of a MarkerSet XML: name, body, location in the body frame (m), fixed flag.

    Raises:
        InputFileError: missing, unreadable or empty file.
    """
    path = Path(path)
    markerset = _load_set(path)
    out = []
    for i in range(markerset.getSize()):
        mk = markerset.get(i)
        loc = mk.get_location()
        out.append(MarkerInfo(name=mk.getName(), body=_socket_body(mk), location=(loc.get(0), loc.get(1), loc.get(2)),
                              fixed=bool(mk.get_fixed())))
    return tuple(out)


class MarkerFrameError(InputFileError, MarkerMismatchError):
    """A marker set attaches a marker to a frame (body or offset frame) that the model lacks."""


def replace_markers(model, markerset: str | Path, keep_existing: bool = False) -> tuple[str, ...]:
    """Replace the markers of ``model`` by those of a MarkerSet XML; returns the new marker names.

    The one marker-set merge of this package (:func:`~.model.load_model` ``markers=`` calls it). Each marker
    keeps the frame its file names (a body, the ground or an offset frame; a bare frame name is resolved,
    bodies first). With ``keep_existing`` the model's other markers stay: markers of the same name are
    replaced, the others appended, as OpenSim's ``Model::updateMarkerSet`` (the ScaleTool's GenericModelMaker)
    does. The model's system must be rebuilt afterwards (``model.initSystem()``).

    Raises:
        InputFileError: the marker set cannot be read.
        MarkerFrameError: a marker is attached to a frame the model lacks (closest frame names listed).
    """
    osim = import_opensim()
    path = Path(markerset)
    new = _load_set(path)
    frames: dict[str, str] = {}  # bare name -> absolute path; bodies and ground win over offset frames
    for c in model.getComponentsList():
        if osim.PhysicalFrame.safeDownCast(c) is not None:
            frames.setdefault(c.getName(), c.getAbsolutePathString())
    frames.update({b.getName(): f"/bodyset/{b.getName()}" for b in model.getBodySet()})
    frames["ground"] = "/ground"
    known = set(frames.values())
    targets, bad = [], []
    for i in range(new.getSize()):
        mk = new.get(i)
        conn = mk.getSocket("parent_frame").getConnecteePath()
        target = conn if conn in known else frames.get(_socket_body(mk))
        if target is None:
            close = closest_names(_socket_body(mk), list(frames))
            bad.append(f"marker {mk.getName()} on {conn!r}" + (f" (model has {', '.join(close)})" if close else ""))
        targets.append(target)
    if bad:
        raise MarkerFrameError(
            path, f"{len(bad)} marker(s) are attached to frames that model {model.getName()!r} lacks: "
            + "; ".join(bad[:10]) + (" ..." if len(bad) > 10 else "")
        )
    markers = model.updMarkerSet()
    if keep_existing:
        for i in range(new.getSize()):
            name = new.get(i).getName()
            if markers.contains(name):
                markers.remove(markers.get(name))
    else:
        markers.clearAndDestroy()
    names = []
    for i, target in enumerate(targets):
        mk = new.get(i).clone()
        mk.setParentFrameName(target)
        model.addMarker(mk)
        names.append(mk.getName())
    model.finalizeConnections()
    log.debug("markers of %s replaced by %d markers from %s", model.getName(), len(names), path)
    return tuple(names)


def add_markers(model, markers: Sequence[tuple[str, str, tuple[float, float, float]]], fixed: bool = False) -> None:
    """Add markers ``(name, body, location in the body frame, m)`` to ``model``; rebuild its system afterwards."""
    osim = import_opensim()
    for name, body, loc in markers:
        frame = model.getGround() if body == "ground" else model.getBodySet().get(body)
        mk = osim.Marker(name, frame, osim.Vec3(*loc))
        mk.set_fixed(fixed)
        model.addMarker(mk)
    model.finalizeConnections()


def write_markerset(model, path: str | Path, names: Sequence[str] | None = None) -> Path:
    """Write (atomically) the model's markers, or only ``names``, as a MarkerSet XML."""
    osim = import_opensim()
    path = Path(path)
    if names is None:
        out = model.getMarkerSet()
    else:
        out = osim.MarkerSet()
        for name in names:
            out.cloneAndAppend(model.getMarkerSet().get(name))
    with atomic_path(path) as tmp:
        out.printToXML(str(tmp))
    return path


def markerset_xml(markers: Sequence[MarkerInfo], name: str = "markers", comment: str = "") -> str:
    """An OpenSim 4 MarkerSet document for ``markers`` (locations written with 1e-6 m resolution; markers attach
    to ``/bodyset/<body>``), with ``comment`` as an XML comment at the top."""
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


def write_markers(path: str | Path, markers: Sequence[MarkerInfo], name: str = "markers", comment: str = "") -> Path:
    """Write :func:`markerset_xml` of ``markers`` (atomically); returns the path."""
    atomic_write_text(path, markerset_xml(markers, name, comment))
    return Path(path)


def _socket_body(marker) -> str:
    """Body name a (not yet connected) marker refers to: "/bodyset/pelvis" -> "pelvis"."""
    conn = marker.getSocket("parent_frame").getConnecteePath()
    name = conn.rstrip("/").split("/")[-1]
    return name or "ground"
