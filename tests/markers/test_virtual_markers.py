"""Virtual markers on Anny: on the surface, definitions of joints/midpoints/ground, symmetry, segment motion."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from biopose_opensim.bodymodels import AnnyShape
from biopose_opensim.markers.virtual import compute_virtual_markers, ground_level
from biopose_opensim.motion import (
    CoordinateMotion,
    assign_bodies,
    body_poses,
    calibrate,
    static_motion,
    virtual_marker_trajectories,
)
from biopose_opensim.paths import default_model_path


def _rest_markers(anny_body, anny_set, shape=None):
    out = anny_body.rest(shape).in_opensim_frame()
    return out, compute_virtual_markers(anny_set, out.vertices, out.joints, out.joint_names)[0]


def test_vertex_markers_lie_on_the_mesh_surface(anny_body, anny_set):
    """Distance 0 to the surface: each vertex marker is a vertex of the triangle mesh (used by its faces)."""
    out, markers = _rest_markers(anny_body, anny_set)
    v, f = out.vertices[0], anny_body.faces.numpy()
    used = np.zeros(len(v), dtype=bool)
    used[f.ravel()] = True
    for m in anny_set.of_kind("vertex"):
        p = markers[anny_set.index(m.name)]
        assert float((v - p).norm(dim=-1).min()) == 0.0 and used[m.vertex]
        assert torch.equal(p, v[m.vertex])


def test_joint_midpoint_and_ground_definitions(anny_body, anny_set):
    out, markers = _rest_markers(anny_body, anny_set)
    for m in anny_set.of_kind("joint"):
        assert torch.equal(markers[anny_set.index(m.name)], out.joint(m.joint)[0])
    for m in anny_set.of_kind("midpoint"):
        expected = torch.stack([markers[anny_set.index(r)] for r in m.of]).mean(0)
        assert torch.allclose(markers[anny_set.index(m.name)], expected, atol=1e-12)
    lowest = out.vertices[0, :, 1].min()
    for m in anny_set.of_kind("ground"):
        g, src = markers[anny_set.index(m.name)], markers[anny_set.index(m.of[0])]
        assert g[1] == lowest and torch.equal(g[[0, 2]], src[[0, 2]])


def test_ground_level_modes():
    v = torch.zeros(3, 4, 3, dtype=torch.float64)
    v[..., 1] = torch.tensor([[0.3, 0.5, 0.9, 0.4], [0.1, 0.8, 0.2, 0.7], [0.2, 0.6, 0.25, 0.9]])
    assert torch.allclose(ground_level(v, 1, "frame"), torch.tensor([0.3, 0.1, 0.2], dtype=torch.float64))
    assert torch.allclose(ground_level(v, 1, "sequence"), torch.full((3,), 0.1, dtype=torch.float64))
    assert torch.allclose(ground_level(v, 1, 0.05), torch.full((3,), 0.05, dtype=torch.float64))
    with pytest.raises(ValueError, match="ground mode"):
        ground_level(v, 1, "floor")


@pytest.mark.parametrize("shape", [None, AnnyShape(gender=0.2, age=0.8, muscle=0.7, weight=0.8, height=0.3,
                                                   proportions=0.6)])
def test_left_right_symmetry(anny_body, anny_set, shape):
    """Every left marker mirrored through the sagittal plane (OpenSim z -> -z) lands on its right marker."""
    _, markers = _rest_markers(anny_body, anny_set, shape)
    names = anny_set.names
    pairs = 0
    for i, n in enumerate(names):
        for a, b in (("L", "R"), ("l", "r"), ("left_", "right_"), ("Virtual_L", "Virtual_R"),
                     ("Virtual_Ground_L", "Virtual_Ground_R")):
            if n.startswith(a) and b + n[len(a):] in names:
                mirrored = markers[i] * torch.tensor([1.0, 1.0, -1.0], dtype=markers.dtype)
                d = float((mirrored - markers[names.index(b + n[len(a):])]).norm())
                assert d < 0.003, f"{n}: mirrored distance {1000 * d:.1f} mm"  # mesh symmetric to 1.6 mm
                pairs += 1
                break
    assert pairs == 56  # 23 surface, 23 joint, 4 midpoint and 6 ground pairs
    for n in ("STRN", "C7", "CLAV", "T8", "Tracking_L3", "ROOT", "NECK"):  # midline markers
        assert abs(float(markers[names.index(n), 2])) < 0.003


def test_anatomical_layout_in_opensim_frame(anny_body, anny_set):
    _, mk = _rest_markers(anny_body, anny_set)
    p = {n: mk[i].numpy() for i, n in enumerate(anny_set.names)}
    assert p["LASI"][2] < 0 < p["RASI"][2]  # left is -z
    assert p["LASI"][0] > p["LPSI"][0] + 0.1  # ASIS anterior to PSIS (x forward)
    assert p["C7"][1] > p["CLAV"][1] > p["STRN"][1] > p["LASI"][1] > p["LKNE"][1] > p["LANK"][1] > p["LHEE"][1]
    assert p["LTOE"][0] > p["LMT1"][0] > p["LHEE"][0]  # toe tip ahead of the ball, ball ahead of the heel
    assert p["LKNE"][2] < p["LKNI"][2]  # lateral epicondyle further from the midline (left: more negative z)
    assert p["LANK"][2] < p["LANI"][2] and p["LMT5"][2] < p["LMT1"][2]
    assert p["LFHD"][0] > p["LBHD"][0] + 0.1 and p["LFHD"][1] > p["C7"][1]
    assert np.linalg.norm(p["LHIPJ"] - p["LKJC"]) > 0.3 and np.linalg.norm(p["LKJC"] - p["LAJC"]) > 0.3


DISTAL = {
    "knee_angle_l": {"tibia_l", "patella_l", "talus_l", "calcn_l", "toes_l"},
    "elbow_flex_r": {"ulna_r", "radius_r", "hand_r"},
}


@pytest.mark.parametrize("coordinate", ["knee_angle_l", "elbow_flex_r"])
def test_rotating_one_coordinate_moves_only_distal_markers(anny_body, anny_set, coordinate):
    model = default_model_path()
    still = static_motion(model, "zero", duration=1.0, rate=1.0)
    q = still.q.copy()
    q[1, still.coordinate_names.index(coordinate)] = np.radians(60.0)
    motion = CoordinateMotion(still.times, q, still.coordinate_names, still.rotational, coordinate)
    calib = calibrate(anny_body, model)
    data = virtual_marker_trajectories(anny_body, model, motion, anny_set, calibration=calib)
    moved = np.linalg.norm(data.positions[1] - data.positions[0], axis=-1)

    bodies = assign_bodies(anny_set, anny_body)
    distal = DISTAL[coordinate]
    bone_bodies = np.array(calib.bone_bodies)
    W = anny_body.skinning_weights()
    on_distal = {}
    for m in anny_set.markers:
        if m.kind == "vertex":
            on_distal[m.name] = float(W[m.vertex, np.isin(bone_bodies, list(distal))].sum()) > 0
        elif m.kind == "joint":
            on_distal[m.name] = bodies[m.name].body in distal
        else:
            on_distal[m.name] = any(on_distal[r] for r in m.of)
    for i, m in enumerate(anny_set.markers):
        if not on_distal[m.name]:
            assert moved[i] < 1e-9, f"{m.name} ({bodies[m.name].body}) moved {moved[i]:.2e} m"
        elif bodies[m.name].body in distal:
            assert moved[i] > 0.01, f"{m.name} on {bodies[m.name].body} did not follow {coordinate}"
    assert sum(on_distal.values()) >= 6

    # markers on the distal segment move rigidly with the OpenSim body: a joint marker there rotates about the
    # proximal joint centre like the body does
    poses = body_poses(model, motion)
    body, pivot_name, marker_name = (("tibia_l", "LKJC", "LAJC") if coordinate == "knee_angle_l"
                                     else ("ulna_r", "RELC", "RWRIST"))
    R = poses.rotation(body)
    dR = R[1] @ R[0].T
    names = anny_set.names
    pivot = data.positions[:, names.index(pivot_name)]
    target = data.positions[:, names.index(marker_name)]
    predicted = pivot[1] + dR @ (target[0] - pivot[0])
    assert np.linalg.norm(predicted - target[1]) < 1e-9
