"""Virtual markers and the marker vocabulary: marker sets as data (``marker_sets/*.yaml``), their computation from
body meshes, the OpenSim IK / Scale setups (``osim`` dataclasses) that make OpenSim track them, and what a marker
name stands for (:mod:`.vocabulary`: landmarks, aliases, bony markers) and weighs (:mod:`.protocol`: the
Scale/IK protocol). See ``docs/virtual_markers.md``."""
from .d3ke import D3KE_GROUND, D3KE_JOINTS, D3KE_MIDPOINTS, D3KE_SMPL_VERTICES, d3ke_marker_set
from .osim_markerset import ik_setup, marker_tasks, scale_setup
from .protocol import GROUP_WEIGHTS, Protocol, build_protocol
from .sets import VirtualMarker, VirtualMarkerSet, load_marker_set, marker_set_to_yaml, parse_marker_set
from .virtual import MarkerPlan, apply_marker_plan, compile_marker_set, compute_virtual_markers, ground_level
from .vocabulary import BONY_MARKERS, bony_markers, bony_markers_of_set, classify_marker, marker_renames

__all__ = [
    "BONY_MARKERS", "D3KE_GROUND", "D3KE_JOINTS", "D3KE_MIDPOINTS", "D3KE_SMPL_VERTICES", "GROUP_WEIGHTS",
    "MarkerPlan", "Protocol", "VirtualMarker", "VirtualMarkerSet", "apply_marker_plan", "bony_markers",
    "bony_markers_of_set", "build_protocol", "classify_marker", "compile_marker_set", "compute_virtual_markers",
    "d3ke_marker_set", "ground_level", "ik_setup", "load_marker_set", "marker_renames", "marker_set_to_yaml",
    "marker_tasks", "parse_marker_set", "scale_setup",
]
