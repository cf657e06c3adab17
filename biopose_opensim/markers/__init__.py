"""Virtual markers: marker sets as data (``marker_sets/*.yaml``), their computation from body meshes, and the
OpenSim marker-set / IK / Scale XML that makes OpenSim track them. See ``docs/virtual_markers.md``."""
from .d3ke import D3KE_GROUND, D3KE_JOINTS, D3KE_MIDPOINTS, D3KE_SMPL_VERTICES, GROUP_WEIGHTS, d3ke_marker_set
from .osim_markerset import (
    Measurement,
    ModelMarker,
    marker_set_xml,
    read_marker_set,
    write_ik_setup,
    write_marker_set,
    write_scale_setup,
)
from .sets import VirtualMarker, VirtualMarkerSet, load_marker_set, marker_set_to_yaml, parse_marker_set
from .virtual import MarkerPlan, apply_marker_plan, compile_marker_set, compute_virtual_markers, ground_level

__all__ = [
    "D3KE_GROUND", "D3KE_JOINTS", "D3KE_MIDPOINTS", "D3KE_SMPL_VERTICES", "GROUP_WEIGHTS", "MarkerPlan",
    "Measurement", "ModelMarker", "VirtualMarker", "VirtualMarkerSet", "apply_marker_plan", "compile_marker_set",
    "compute_virtual_markers", "d3ke_marker_set", "ground_level", "load_marker_set", "marker_set_to_yaml",
    "marker_set_xml", "parse_marker_set", "read_marker_set", "write_ik_setup", "write_marker_set",
    "write_scale_setup",
]
