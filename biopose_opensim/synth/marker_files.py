"""Which virtual-marker set (mesh side, YAML) and OpenSim files (model side) a body model and model use.

Beside a set ``marker_sets/<set>.yaml`` the model-side files are named ``<set>_<model key>_markers.xml``
(the OpenSim MarkerSet placed on the model), ``<set>_<model key>_Setup_IK.xml`` (IK task weights) and
``<set>_<model key>_Setup_Scale.xml`` (ScaleTool measurements), where the model key's words and numbers
all occur in the model's file name (``rajagopal2023`` for ``RajagopalLaiUhlrich2023.osim``).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from ..bodymodels.registry import body_model_spec
from ..errors import InputFileError
from ..paths import MARKER_SETS_DIR, default_model_path

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class MarkerFiles:
    """A virtual-marker set and its OpenSim counterparts (``None`` where none exists)."""

    yaml: Path
    markers_xml: Path | None
    ik_setup: Path | None
    scale_setup: Path | None


def _matches(key: str, model_stem: str) -> bool:
    tokens = re.findall(r"[a-z]+|\d+", key.lower())
    return bool(tokens) and all(t in model_stem.lower() for t in tokens)


def _find(yaml_path: Path, suffix: str, model: Path) -> Path | None:
    stem = yaml_path.stem
    cands = sorted(yaml_path.parent.glob(f"{stem}_*_{suffix}"))
    keyed = [c for c in cands if _matches(c.name[len(stem) + 1:-len(suffix) - 1], model.stem)]
    if keyed:
        return keyed[0]
    plain = yaml_path.parent / f"{stem}_{suffix}"
    return plain if plain.is_file() else None


def resolve_marker_files(body_model: str, marker_set: str | Path | None = None,
                         model: str | Path | None = None) -> MarkerFiles:
    """The virtual-marker YAML and OpenSim files for ``body_model`` on ``model``.

    ``marker_set`` is a set name under ``marker_sets/`` or a YAML path (default: the body model's set in
    :data:`~biopose_opensim.bodymodels.registry.BODY_MODELS`, the D3KE 142-marker set on its topology).
    Without a MarkerSet XML, ``label`` uses the model's own markers, which must carry the set's names.
    """
    if marker_set is None:
        marker_set = body_model_spec(body_model).default_marker_set
    p = Path(marker_set)
    yaml_path = p if p.suffix.lower() in (".yaml", ".yml") else MARKER_SETS_DIR / f"{p.name}.yaml"
    if not yaml_path.is_file():
        known = sorted(x.stem for x in MARKER_SETS_DIR.glob("*.yaml"))
        raise InputFileError(yaml_path, f"virtual-marker set not found; shipped sets: {', '.join(known) or 'none'}")
    model = Path(model or default_model_path())
    files = MarkerFiles(yaml_path, _find(yaml_path, "markers.xml", model), _find(yaml_path, "Setup_IK.xml", model),
                        _find(yaml_path, "Setup_Scale.xml", model))
    if files.markers_xml is None:
        log.warning("%s: no OpenSim marker set for %s beside it; the model's own markers are used", yaml_path,
                    model.name)
    return files
