"""Place a virtual-marker set on the generic OpenSim model, from Anny posed at the model's reference pose.

Body of each marker (:func:`assign_bodies`): the OpenSim body that drives the skin or joint under it —
vertex markers take the body with the largest summed Anny skinning weight (via
:func:`~biopose_opensim.bodymodels.anny_opensim.anny_bone_body`), joint markers the body of the bone their
head moves with (the parent bone), midpoints the body shared by their markers, ground projections the
calcaneus of their side.

Location (:func:`place_markers`): Anny (a shape, by default the default body) is retargeted to ``q_ref``
(:mod:`~biopose_opensim.motion.retarget`) and its virtual markers computed in OpenSim's ground frame. Each
body ``b`` then maps Anny's geometry to the generic model's size about an anchor joint:
``location = R_b^T (a_osim - o_b) + s_b * (R_b^T (p - a_anny))``, with ``a`` the anchor (Anny joint and the
matching OpenSim joint centre), ``o_b``/``R_b`` the body's origin and orientation at ``q_ref`` and ``s_b`` the
per-axis ratio OpenSim / Anny of the segment (:data:`BODY_ANCHORS`). Joint-centre markers therefore land on the
OpenSim joint centres, and ScaleTool measurements between them (:data:`MEASUREMENTS`) scale the generic model
back to the body model's segment lengths.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import torch

from ..bodymodels.anny import ANNY_SMPLH_JOINTS, AnnyBodyModel, AnnyShape
from ..bodymodels.anny_opensim import anny_bone_bodies
from ..markers.sets import VirtualMarkerSet
from ..markers.virtual import compute_virtual_markers
from ..osim.model import MarkerInfo
from ..osim.setups import Measurement
from .retarget import AnnyOsimCalibration, calibrate, retarget_poses, to_opensim_frame

log = logging.getLogger(__name__)

#: body -> (Anny anchor joints (averaged), OpenSim anchor bodies whose origins are averaged). "s": side l/r.
BODY_ANCHORS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "pelvis": (("left_hip", "right_hip"), ("femur_l", "femur_r")),
    "torso": (("left_shoulder", "right_shoulder"), ("humerus_l", "humerus_r")),
    "femur_s": (("S_hip",), ("femur_s",)),
    "patella_s": (("S_knee",), ("tibia_s",)),
    "tibia_s": (("S_knee",), ("tibia_s",)),
    "talus_s": (("S_ankle",), ("talus_s",)),
    "calcn_s": (("S_ankle",), ("talus_s",)),
    "toes_s": (("S_foot",), ("toes_s",)),
    "humerus_s": (("S_shoulder",), ("humerus_s",)),
    "ulna_s": (("S_elbow",), ("ulna_s",)),
    "radius_s": (("S_wrist",), ("hand_s",)),
    "hand_s": (("S_wrist",), ("hand_s",)),
}

#: ScaleTool measurements for the D3KE marker names on the default model (marker pairs -> body, axes).
MEASUREMENTS: tuple[Measurement, ...] = (
    # hip-joint spacing only: the femurs must rotate about the mesh's hip centres for every body shape
    Measurement("pelvis_width", (("LHIPJ", "RHIPJ"),), (("pelvis", "Z"),)),
    Measurement("pelvis_depth", (("MASI", "MPSI"),), (("pelvis", "X"),)),
    Measurement("pelvis_height", (("MHIPJ", "CENTER"),), (("pelvis", "Y"),)),
    Measurement("torso_height", (("Spine2", "NECK"),), (("torso", "Y"),)),
    Measurement("torso_depth", (("C7", "CLAV"),), (("torso", "X"),)),
    Measurement("torso_width", (("LSHOULDER", "RSHOULDER"),), (("torso", "Z"),)),
    *(m for s, S in (("r", "R"), ("l", "L")) for m in (
        Measurement(f"thigh_{s}", ((f"{S}HIPJ", f"{S}KJC"),),
                    ((f"femur_{s}", "X Y Z"), (f"patella_{s}", "X Y Z"))),
        Measurement(f"shank_{s}", ((f"{S}KJC", f"{S}AJC"),), ((f"tibia_{s}", "X Y Z"),)),
        Measurement(f"foot_{s}", ((f"{S}AJC", f"{S}FOOT"),),
                    ((f"talus_{s}", "X Y Z"), (f"calcn_{s}", "X Y Z"), (f"toes_{s}", "X Y Z"))),
        Measurement(f"upperarm_{s}", ((f"{S}SHOULDER", f"{S}ELC"),), ((f"humerus_{s}", "X Y Z"),)),
        Measurement(f"forearm_{s}", ((f"{S}ELC", f"{S}WRIST"),),
                    ((f"ulna_{s}", "X Y Z"), (f"radius_{s}", "X Y Z"), (f"hand_{s}", "X Y Z"))),
    )),
)


@dataclass(frozen=True)
class MarkerBody:
    """Body of a marker and the fraction of its skin weight on that body (1 for joints and derived markers)."""

    body: str
    weight: float


def assign_bodies(marker_set: VirtualMarkerSet, body_model: AnnyBodyModel) -> dict[str, MarkerBody]:
    """OpenSim body (default model) for every marker of an Anny virtual-marker set (see module docstring)."""
    bodies = np.array(anny_bone_bodies(body_model.bone_labels))
    W = body_model.skinning_weights()
    out: dict[str, MarkerBody] = {}
    for m in marker_set.markers:
        if m.kind == "vertex":
            w = W[m.vertex]
            sums = {b: float(w[bodies == b].sum()) for b in set(bodies[w > 0])}
            best = max(sums, key=sums.get)
            out[m.name] = MarkerBody(best, sums[best])
        elif m.kind == "joint":
            parents = {body_model.bone_parents[body_model.bone_index(b)] for b in ANNY_SMPLH_JOINTS[m.joint]}
            names = sorted({str(bodies[p]) for p in parents})
            if len(names) != 1:
                raise ValueError(f"joint marker {m.name}: its bones move with several bodies {names}")
            out[m.name] = MarkerBody(names[0], 1.0)
        elif m.kind == "midpoint":
            names = [out[r].body for r in m.of]
            best = max(dict.fromkeys(names), key=names.count)
            out[m.name] = MarkerBody(best, 1.0)
        else:
            src = out[m.of[0]].body
            if not src.endswith(("_l", "_r")):
                raise ValueError(f"ground marker {m.name}: source {m.of[0]} is on unsided body {src}")
            out[m.name] = MarkerBody(f"calcn_{src[-1]}", 1.0)
    return out


def _side_body(name: str, s: str) -> str:
    return name[:-2] + f"_{s}" if name.endswith("_s") else name


def _side_joint(name: str, s: str) -> str:
    return ("left_" if s == "l" else "right_") + name[2:] if name.startswith("S_") else name


def _anchor_table():
    table = {}
    for key, (anny, osim) in BODY_ANCHORS.items():
        for s in (("l", "r") if key.endswith("_s") else ("l",)):
            table[_side_body(key, s)] = (tuple(_side_joint(a, s) for a in anny),
                                         tuple(_side_body(o, s) for o in osim))
    return table


def segment_ratios(calib: AnnyOsimCalibration, joints: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-body ``(3,)`` size ratios OpenSim / Anny (body axes) at ``q_ref``; ``joints`` in OpenSim ground."""
    ref = calib.reference

    def o(body):
        return ref.position(body)[0]

    def dist(a, b):
        return float(np.linalg.norm(a - b))

    ratios: dict[str, np.ndarray] = {}
    for s, S in (("l", "left"), ("r", "right")):
        femur = dist(o(f"femur_{s}"), o(f"tibia_{s}")) / dist(joints[f"{S}_hip"], joints[f"{S}_knee"])
        tibia = dist(o(f"tibia_{s}"), o(f"talus_{s}")) / dist(joints[f"{S}_knee"], joints[f"{S}_ankle"])
        foot = dist(o(f"talus_{s}"), o(f"toes_{s}")) / dist(joints[f"{S}_ankle"], joints[f"{S}_foot"])
        hum = dist(o(f"humerus_{s}"), o(f"ulna_{s}")) / dist(joints[f"{S}_shoulder"], joints[f"{S}_elbow"])
        fore = dist(o(f"ulna_{s}"), o(f"hand_{s}")) / dist(joints[f"{S}_elbow"], joints[f"{S}_wrist"])
        for body, r in ((f"femur_{s}", femur), (f"patella_{s}", femur), (f"tibia_{s}", tibia),
                        (f"talus_{s}", foot), (f"calcn_{s}", foot), (f"toes_{s}", foot),
                        (f"humerus_{s}", hum), (f"ulna_{s}", fore), (f"radius_{s}", fore), (f"hand_{s}", fore)):
            ratios[body] = np.full(3, r)
    hip_w = dist(o("femur_l"), o("femur_r")) / dist(joints["left_hip"], joints["right_hip"])
    ratios["pelvis"] = np.array([1.0 / calib.scale, 1.0 / calib.scale, hip_w])
    # Torso height: OpenSim's lumbar joint (torso origin) mapped into Anny by the pelvis ratios, then the
    # lumbar -> shoulder height ratio, so that the scaled chain hip -> lumbar -> shoulder matches Anny's.
    sh_o = 0.5 * (o("humerus_l") + o("humerus_r"))
    hip_o = 0.5 * (o("femur_l") + o("femur_r"))
    sh_a = 0.5 * (joints["left_shoulder"] + joints["right_shoulder"])
    hip_a = 0.5 * (joints["left_hip"] + joints["right_hip"])
    lumbar_a = hip_a + (o("torso") - hip_o) / ratios["pelvis"]
    t_y = (sh_o[1] - o("torso")[1]) / (sh_a[1] - lumbar_a[1])
    t_z = dist(o("humerus_l"), o("humerus_r")) / dist(joints["left_shoulder"], joints["right_shoulder"])
    ratios["torso"] = np.array([t_y, t_y, t_z])
    return ratios


@dataclass(frozen=True, eq=False)
class Placement:
    """Result of :func:`place_markers`.

    Attributes:
        markers: the model markers (generic model size), in marker-set order.
        bodies: marker name -> :class:`MarkerBody`.
        ratios: body -> ``(3,)`` OpenSim / Anny size ratio used.
        reference_positions: ``(M, 3)`` the markers on Anny at ``q_ref`` in OpenSim ground (metres).
        calibration: the Anny-OpenSim calibration used.
    """

    markers: tuple[MarkerInfo, ...]
    bodies: dict[str, MarkerBody]
    ratios: dict[str, np.ndarray]
    reference_positions: np.ndarray
    calibration: AnnyOsimCalibration


def place_markers(body_model: AnnyBodyModel, model, marker_set: VirtualMarkerSet,
                  shape: AnnyShape | None = None) -> Placement:
    """Place ``marker_set`` on the generic OpenSim ``model`` (path or Model); see the module docstring."""
    marker_set.check_body_model(body_model.n_vertices, body_model.joint_names, "Anny model")
    calib = calibrate(body_model, model, shape)
    pose = retarget_poses(calib, calib.reference)
    out = body_model.forward(calib.shape, pose)
    verts = to_opensim_frame(out.vertices)
    joints_t = to_opensim_frame(out.joints)
    markers = compute_virtual_markers(marker_set, verts, joints_t, out.joint_names, up_axis=1,
                                      ground="frame")[0].numpy()
    joints = {n: joints_t[0, i].numpy() for i, n in enumerate(out.joint_names)}
    bodies = assign_bodies(marker_set, body_model)
    ratios = segment_ratios(calib, joints)
    anchors = _anchor_table()
    ref = calib.reference
    placed = []
    for i, m in enumerate(marker_set.markers):
        body = bodies[m.name].body
        if body not in anchors or body not in ratios:
            raise ValueError(f"marker {m.name}: no anchor/size ratio for body {body!r}")
        a_names, o_names = anchors[body]
        a_anny = np.mean([joints[a] for a in a_names], axis=0)
        a_osim = np.mean([ref.position(b)[0] for b in o_names], axis=0)
        R, origin = ref.rotation(body)[0], ref.position(body)[0]
        loc = R.T @ (a_osim - origin) + ratios[body] * (R.T @ (markers[i] - a_anny))
        placed.append(MarkerInfo(m.name, body, tuple(float(c) for c in loc)))
    return Placement(markers=tuple(placed), bodies=bodies, ratios=ratios,
                     reference_positions=markers, calibration=calib)
