"""Virtual-marker sets as data: load and validate the YAML definitions in ``marker_sets/``.

A set lists markers of four kinds, computed from a body mesh by :mod:`biopose_opensim.markers.virtual`:

``vertex``
    the position of one mesh vertex (``vertex: <id>``): on the surface by construction.
``joint``
    a body-model joint (``joint: <SMPL-H joint name>``, e.g. ``left_knee``).
``midpoint``
    the mean of two or more markers defined earlier in the file (``of: [A, B, ...]``).
``ground``
    a marker defined earlier projected vertically onto the ground (``of: A``): its vertical coordinate is replaced
    by the ground level (the lowest mesh vertex, see :func:`~biopose_opensim.markers.virtual.compute_virtual_markers`).

Each marker also carries an IK ``weight`` (>= 0; 0 means "not tracked by IK") and a ``group`` used to choose the
weights (``bony``, ``surface``, ``joint``, ``midpoint``, ``ground``). File layout::

    name: anny_d3ke
    body_model: anny          # topology family: anny | smpl (SMPL and SMPL-H share one topology) | smplx
    n_vertices: 13718
    markers:
      - {name: LASI, kind: vertex, vertex: 1234, weight: 10, group: bony}
      - {name: LHIPJ, kind: joint, joint: left_hip, weight: 2, group: joint}
      - {name: MASI, kind: midpoint, of: [RASI, LASI], weight: 1, group: midpoint}
      - {name: Virtual_Ground_LHEE, kind: ground, of: LHEE, weight: 0, group: ground}
"""
from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import yaml

from ..errors import InputFileError, MarkerMismatchError
from ..paths import MARKER_SETS_DIR
from .vocabulary import MARKER_GROUPS

log = logging.getLogger(__name__)

MARKER_KINDS = ("vertex", "joint", "midpoint", "ground")
BODY_MODEL_FAMILIES = ("anny", "smpl", "smplx")
_KEYS = {"name", "kind", "vertex", "joint", "of", "weight", "group", "description"}


@dataclass(frozen=True)
class VirtualMarker:
    """One virtual marker. ``vertex`` / ``joint`` / ``of`` are set according to ``kind`` (see module docstring)."""

    name: str
    kind: str
    vertex: int | None = None
    joint: str | None = None
    of: tuple[str, ...] = ()
    weight: float = 1.0
    group: str = "surface"
    description: str = ""


@dataclass(frozen=True)
class VirtualMarkerSet:
    """A validated virtual-marker set.

    Attributes:
        name: set name (the YAML's ``name``).
        body_model: topology family the vertex ids refer to (``anny``, ``smpl`` or ``smplx``).
        n_vertices: number of mesh vertices of that topology; every vertex id is below it.
        markers: the markers, in file order (the order of computed marker arrays).
        description: free text.
        source: the YAML file, if loaded from one.
    """

    name: str
    body_model: str
    n_vertices: int
    markers: tuple[VirtualMarker, ...]
    description: str = ""
    source: Path | None = field(default=None, compare=False)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.markers)

    def __len__(self) -> int:
        return len(self.markers)

    def index(self, name: str) -> int:
        """Position of marker ``name``; :class:`MarkerMismatchError` when absent."""
        for i, m in enumerate(self.markers):
            if m.name == name:
                return i
        raise MarkerMismatchError(f"marker {name!r} is not in virtual-marker set {self.name!r}{_where(self.source)}")

    def marker(self, name: str) -> VirtualMarker:
        return self.markers[self.index(name)]

    def of_kind(self, kind: str) -> tuple[VirtualMarker, ...]:
        """Markers of one kind (``vertex``, ``joint``, ``midpoint`` or ``ground``), in set order."""
        return tuple(m for m in self.markers if m.kind == kind)

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Body-model joints the set needs, in set order."""
        return tuple(m.joint for m in self.markers if m.kind == "joint")

    def check_body_model(self, n_vertices: int, joint_names: Iterable[str], model_name: str = "body model") -> None:
        """Raise :class:`MarkerMismatchError` when the set does not fit a body model's mesh and joints."""
        if n_vertices != self.n_vertices:
            raise MarkerMismatchError(
                f"virtual-marker set {self.name!r}{_where(self.source)} is defined on a {self.n_vertices}-vertex "
                f"{self.body_model} mesh, but the {model_name} has {n_vertices} vertices"
            )
        available = set(joint_names)
        missing = [m for m in self.markers if m.kind == "joint" and m.joint not in available]
        if missing:
            listed = ", ".join(f"{m.name} ({m.joint})" for m in missing[:8]) + (" ..." if len(missing) > 8 else "")
            raise MarkerMismatchError(
                f"virtual-marker set {self.name!r}{_where(self.source)} needs {len(missing)} joint(s) the "
                f"{model_name} does not have: {listed}; its joints are: {', '.join(sorted(available))}"
            )


def _where(source: Path | None) -> str:
    return f" ({source})" if source is not None else ""


def resolve_marker_set_path(name_or_path: str | Path) -> Path:
    """A YAML path as given, or ``marker_sets/<name>.yaml`` for a bare set name."""
    p = Path(name_or_path)
    if p.suffix.lower() in (".yaml", ".yml") or p.exists():
        return p
    return MARKER_SETS_DIR / f"{name_or_path}.yaml"


def load_marker_set(name_or_path: str | Path) -> VirtualMarkerSet:
    """Load and validate a virtual-marker set (a YAML path, or the name of a set in ``marker_sets/``).

    Raises:
        InputFileError: missing file, invalid YAML, or an invalid entry (the message names the line and marker).
    """
    path = resolve_marker_set_path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        available = sorted(p.stem for p in MARKER_SETS_DIR.glob("*.yaml"))
        raise InputFileError(path, f"virtual-marker set not found; shipped sets: {', '.join(available)}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputFileError(path, f"not valid YAML: {exc}", line=mark.line + 1 if mark else None) from None
    return parse_marker_set(data, source=path, lines=_marker_lines(root))


def _marker_lines(root) -> list[int]:
    """1-based line of each entry of the top-level ``markers`` list (empty if the layout is unexpected)."""
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "markers" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def parse_marker_set(data, source: Path | None = None, lines: list[int] | None = None) -> VirtualMarkerSet:
    """Validate a marker-set mapping (as loaded from YAML) and return a :class:`VirtualMarkerSet`."""
    src = source if source is not None else Path("<marker set>")
    lines = lines or []

    def fail(message: str, i: int | None = None):
        line = lines[i] if i is not None and i < len(lines) else None
        raise InputFileError(src, message, line=line)

    if not isinstance(data, dict):
        fail("expected a mapping with keys name, body_model, n_vertices, markers")
    for key in ("name", "body_model", "n_vertices", "markers"):
        if key not in data:
            fail(f"missing top-level key {key!r}")
    if data["body_model"] not in BODY_MODEL_FAMILIES:
        fail(f"body_model must be one of {', '.join(BODY_MODEL_FAMILIES)}, got {data['body_model']!r}")
    n_vertices = data["n_vertices"]
    if not isinstance(n_vertices, int) or isinstance(n_vertices, bool) or n_vertices <= 0:
        fail(f"n_vertices must be a positive integer, got {n_vertices!r}")
    entries = data["markers"]
    if not isinstance(entries, list) or not entries:
        fail("markers must be a non-empty list")

    markers: list[VirtualMarker] = []
    seen: dict[str, str] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            fail(f"marker entry {i + 1} must be a mapping, got {entry!r}", i)
        name = entry.get("name")
        if not isinstance(name, str) or not name or name != name.strip() or any(c in name for c in " \t"):
            fail(f"marker entry {i + 1}: 'name' must be a non-empty string without spaces, got {name!r}", i)
        label = f"marker {name!r}"
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            fail(f"{label}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}", i)
        if name in seen:
            fail(f"{label} is defined twice", i)
        kind = entry.get("kind")
        if kind not in MARKER_KINDS:
            fail(f"{label}: kind must be one of {', '.join(MARKER_KINDS)}, got {kind!r}", i)
        weight = entry.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
            fail(f"{label}: weight must be a finite number >= 0, got {weight!r}", i)
        group = entry.get("group", "surface")
        if group not in MARKER_GROUPS:
            fail(f"{label}: group must be one of {', '.join(MARKER_GROUPS)}, got {group!r}", i)
        vertex = joint = None
        of: tuple[str, ...] = ()
        if kind == "vertex":
            vertex = entry.get("vertex")
            if isinstance(vertex, bool) or not isinstance(vertex, int):
                fail(f"{label}: vertex must be an integer vertex id, got {vertex!r}", i)
            if not 0 <= vertex < n_vertices:
                fail(f"{label}: vertex {vertex} is out of range; the {data['body_model']} mesh has "
                     f"{n_vertices} vertices (ids 0..{n_vertices - 1})", i)
        elif kind == "joint":
            joint = entry.get("joint")
            if not isinstance(joint, str) or not joint:
                fail(f"{label}: joint must be a joint name such as 'left_knee', got {joint!r}", i)
        else:
            raw = entry.get("of")
            refs = (raw,) if isinstance(raw, str) else tuple(raw) if isinstance(raw, list) else None
            if kind == "midpoint" and (refs is None or len(refs) < 2):
                fail(f"{label}: a midpoint needs 'of' listing two or more markers, got {raw!r}", i)
            if kind == "ground" and (refs is None or len(refs) != 1):
                fail(f"{label}: a ground projection needs 'of' naming exactly one marker, got {raw!r}", i)
            for ref in refs:
                if ref not in seen:
                    fail(f"{label}: refers to {ref!r}, which is not defined above it", i)
                if kind == "midpoint" and seen[ref] == "ground":
                    fail(f"{label}: a midpoint cannot use the ground projection {ref!r}", i)
            of = tuple(str(r) for r in refs)
        for key, needed in (("vertex", kind == "vertex"), ("joint", kind == "joint"),
                            ("of", kind in ("midpoint", "ground"))):
            if key in entry and not needed:
                fail(f"{label}: key {key!r} does not apply to a {kind} marker", i)
        seen[name] = kind
        markers.append(VirtualMarker(
            name=name, kind=kind, vertex=vertex, joint=joint, of=of, weight=float(weight), group=group,
            description=str(entry.get("description", "")),
        ))
    return VirtualMarkerSet(
        name=str(data["name"]), body_model=str(data["body_model"]), n_vertices=int(n_vertices),
        markers=tuple(markers), description=str(data.get("description", "")), source=source,
    )


def _yaml_scalar(value: str) -> str:
    """A string as a YAML scalar: bare when safe, else double-quoted (JSON quoting is valid YAML)."""
    text = str(value)
    if text and all(c.isalnum() or c in "_-." for c in text) and not text[0].isdigit():
        return text
    return json.dumps(text, ensure_ascii=False)


def marker_set_to_yaml(marker_set: VirtualMarkerSet, header: str = "") -> str:
    """YAML text of a marker set, one flow mapping per marker (``header`` lines become ``#`` comments)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()] if header else []
    lines += [
        f"name: {_yaml_scalar(marker_set.name)}",
        f"body_model: {marker_set.body_model}",
        f"n_vertices: {marker_set.n_vertices}",
    ]
    if marker_set.description:
        lines.append(f"description: {_yaml_scalar(marker_set.description)}")
    lines.append("markers:")
    for m in marker_set.markers:
        fields = [f"name: {_yaml_scalar(m.name)}", f"kind: {m.kind}"]
        if m.kind == "vertex":
            fields.append(f"vertex: {m.vertex}")
        elif m.kind == "joint":
            fields.append(f"joint: {m.joint}")
        elif m.kind == "midpoint":
            fields.append(f"of: [{', '.join(m.of)}]")
        else:
            fields.append(f"of: {m.of[0]}")
        fields.append(f"weight: {m.weight:g}")
        fields.append(f"group: {m.group}")
        if m.description:
            fields.append(f"description: {_yaml_scalar(m.description)}")
        lines.append("  - {" + ", ".join(fields) + "}")
    return "\n".join(lines) + "\n"
