"""Virtual markers: marker sets as data (``marker_sets/*.yaml``), their computation from body meshes, and the
OpenSim IK / Scale setups (``osim`` dataclasses) that make OpenSim track them. See ``docs/virtual_markers.md``."""
from .d3ke import D3KE_GROUND, D3KE_JOINTS, D3KE_MIDPOINTS, D3KE_SMPL_VERTICES, GROUP_WEIGHTS, d3ke_marker_set
from .osim_markerset import ik_setup, marker_tasks, scale_setup
from .sets import VirtualMarker, VirtualMarkerSet, load_marker_set, marker_set_to_yaml, parse_marker_set
from .virtual import MarkerPlan, apply_marker_plan, compile_marker_set, compute_virtual_markers, ground_level

__all__ = [
    "D3KE_GROUND", "D3KE_JOINTS", "D3KE_MIDPOINTS", "D3KE_SMPL_VERTICES", "GROUP_WEIGHTS", "MarkerPlan",
    "VirtualMarker", "VirtualMarkerSet", "apply_marker_plan", "compile_marker_set", "compute_virtual_markers",
    "d3ke_marker_set", "ground_level", "ik_setup", "load_marker_set", "marker_set_to_yaml", "marker_tasks",
    "parse_marker_set", "scale_setup",
]
