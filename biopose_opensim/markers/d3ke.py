"""The 142-marker D3KE virtual-marker layout (Bittner et al., Sensors 2023), used by BioPose's NeurIK.

142 = 66 surface vertices + 52 SMPL-H joints + 12 midpoints + 12 ground projections. Marker names follow D3KE
(vertex markers as in Vicon-style lab sets, joint markers ``LHIPJ``, ``LKJC`` ..., midpoints ``MASI`` ...,
``Virtual_*``, ground projections ``Virtual_Ground_*``) so that labels made from SMPL-H fits (BML-MoVi) and from
Anny line up marker for marker. The SMPL vertex ids below are D3KE's (6890-vertex SMPL/SMPL-H topology); the Anny
ids are derived by ``scripts/derive_anny_markers.py``.

IK weights by group (:data:`~.protocol.GROUP_WEIGHTS`, see docs/virtual_markers.md): bony landmarks
(:data:`~.vocabulary.D3KE_BONY`) 10, other surface markers 2, joint centres 2, midpoints 1, ground projections 0
(they lie on the floor whatever the foot does, so they only serve scaling).
"""
from __future__ import annotations

from typing import Mapping

from .protocol import GROUP_WEIGHTS
from .sets import VirtualMarker, VirtualMarkerSet
from .vocabulary import BONY, D3KE_BONY

#: D3KE surface markers: name -> SMPL/SMPL-H vertex id (6890-vertex topology), in D3KE order.
D3KE_SMPL_VERTICES: dict[str, int] = {
    "STRN": 3079, "T1": 3012, "T8": 3014, "T10": 3017, "T12": 3173, "C7": 828, "CLAV": 3171,
    "LANK": 3327, "RANK": 6728, "LANI": 3198, "RANI": 6598,
    "LASI": 1799, "RASI": 5262, "LPSI": 3097, "RPSI": 6521,
    "LSHO": 606, "RSHO": 4094, "LTOE": 3232, "RTOE": 6634, "RHEE": 6787, "LHEE": 3386,
    "LKNE": 1010, "RKNE": 4495, "LKNI": 1148, "RKNI": 4634,
    "RIWR": 5691, "LIWR": 2230, "RELB": 5091, "LELB": 1620, "RELBIN": 5131, "LELBIN": 1661,
    "LOWR": 2108, "ROWR": 5568, "RCLAV": 4780, "LCLAV": 1298,
    "RFHD": 3645, "LBHD": 272, "LFHD": 134, "RBHD": 3783,
    "LMT1": 3338, "LMT5": 3346, "RMT1": 6738, "RMT5": 6747,
    "Tracking_L5": 3021, "Tracking_L4": 3022, "Tracking_L3": 3502, "Tracking_L2": 3023, "Tracking_L1": 3024,
    "Tracking_T11": 3016, "Tracking_T9": 3505, "Tracking_T7": 3015, "Tracking_T6": 3027, "Tracking_T5": 3029,
    "Tracking_T4": 1755, "Tracking_T3": 2877, "Tracking_T2": 1305,
    "rthumb": 6191, "rindex": 5782, "rmiddle": 5905, "rring": 6016, "rpinky": 6133,
    "lthumb": 2746, "lindex": 2319, "lmiddle": 2445, "lring": 2556, "lpinky": 2673,
}

_HAND = [f"{f}{k}" for f in ("index", "middle", "pinky", "ring", "thumb") for k in (1, 2, 3)]
#: D3KE joint markers: marker name -> SMPL-H joint name (SMPL-H order).
D3KE_JOINTS: dict[str, str] = {
    "ROOT": "pelvis", "LHIPJ": "left_hip", "RHIPJ": "right_hip", "Spine1": "spine1", "LKJC": "left_knee",
    "RKJC": "right_knee", "Spine2": "spine2", "LAJC": "left_ankle", "RAJC": "right_ankle", "Spine3": "spine3",
    "LFOOT": "left_foot", "RFOOT": "right_foot", "NECK": "neck", "LCOL": "left_collar", "RCOL": "right_collar",
    "HEAD": "head", "LSHOULDER": "left_shoulder", "RSHOULDER": "right_shoulder", "LELC": "left_elbow",
    "RELC": "right_elbow", "LWRIST": "left_wrist", "RWRIST": "right_wrist",
    **{f"left_{h}": f"left_{h}" for h in _HAND},
    **{f"right_{h}": f"right_{h}" for h in _HAND},
}

#: D3KE midpoints (means of markers).
D3KE_MIDPOINTS: dict[str, tuple[str, ...]] = {
    "MASI": ("RASI", "LASI"),
    "MPSI": ("RPSI", "LPSI"),
    "MHIPJ": ("LHIPJ", "RHIPJ"),
    "CENTER": ("RASI", "LASI", "RPSI", "LPSI"),
    "Virtual_LWRIST": ("LIWR", "LOWR"),
    "Virtual_RWRIST": ("RIWR", "ROWR"),
    "Virtual_LAJC": ("LANK", "LANI"),
    "Virtual_RAJC": ("RANK", "RANI"),
    "Virtual_LKJC": ("LKNE", "LKNI"),
    "Virtual_RKJC": ("RKNE", "RKNI"),
    "Virtual_LELC": ("LELB", "LELBIN"),
    "Virtual_RELC": ("RELB", "RELBIN"),
}

#: D3KE ground projections: marker -> the marker projected onto the ground.
D3KE_GROUND: dict[str, str] = {
    "Virtual_Ground_RAJC": "Virtual_RAJC",
    "Virtual_Ground_LAJC": "Virtual_LAJC",
    "Virtual_Ground_RFOOT": "RFOOT",
    "Virtual_Ground_LFOOT": "LFOOT",
    "Virtual_Ground_RTOE": "RTOE",
    "Virtual_Ground_LTOE": "LTOE",
    "Virtual_Ground_RMT1": "RMT1",
    "Virtual_Ground_LMT1": "LMT1",
    "Virtual_Ground_RMT5": "RMT5",
    "Virtual_Ground_LMT5": "LMT5",
    "Virtual_Ground_RHEE": "RHEE",
    "Virtual_Ground_LHEE": "LHEE",
}

def d3ke_marker_set(
    vertex_ids: Mapping[str, int], name: str, body_model: str, n_vertices: int, description: str = "",
    descriptions: Mapping[str, str] | None = None,
) -> VirtualMarkerSet:
    """The 142-marker D3KE set on a topology whose surface-marker vertices are ``vertex_ids``.

    Raises:
        KeyError: ``vertex_ids`` lacks one of the 66 surface markers.
    """
    missing = [m for m in D3KE_SMPL_VERTICES if m not in vertex_ids]
    if missing:
        raise KeyError(f"vertex ids missing for D3KE marker(s): {', '.join(missing)}")
    descriptions = descriptions or {}
    markers = []
    for m in D3KE_SMPL_VERTICES:
        group = BONY if m in D3KE_BONY else "surface"
        markers.append(VirtualMarker(m, "vertex", vertex=int(vertex_ids[m]), weight=GROUP_WEIGHTS[group],
                                     group=group, description=descriptions.get(m, "")))
    for m, j in D3KE_JOINTS.items():
        markers.append(VirtualMarker(m, "joint", joint=j, weight=GROUP_WEIGHTS["joint"], group="joint",
                                     description=descriptions.get(m, "")))
    for m, refs in D3KE_MIDPOINTS.items():
        markers.append(VirtualMarker(m, "midpoint", of=refs, weight=GROUP_WEIGHTS["midpoint"], group="midpoint",
                                     description=descriptions.get(m, "")))
    for m, ref in D3KE_GROUND.items():
        markers.append(VirtualMarker(m, "ground", of=(ref,), weight=GROUP_WEIGHTS["ground"], group="ground",
                                     description=descriptions.get(m, "")))
    return VirtualMarkerSet(name=name, body_model=body_model, n_vertices=n_vertices, markers=tuple(markers),
                            description=description)
