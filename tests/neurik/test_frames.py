"""Input normalisation, root placement and output bounds of NeurIK (pure maths, exact to float tolerance)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from biopose_opensim.kinematics import OsimFK
from biopose_opensim.neurik.config import CONFIGS
from biopose_opensim.neurik.frames import (RootJoint, matrix_to_rotation_6d, rot_y, rotation_6d_to_matrix,
                                           window_inputs)
from biopose_opensim.neurik.system import NeurIKSystem


@pytest.fixture(scope="module")
def system() -> NeurIKSystem:
    torch.manual_seed(0)
    cfg = CONFIGS["tiny"]
    fk = OsimFK.from_osim(cfg.model_path(), marker_set=cfg.marker_set_path())
    return NeurIKSystem.build(cfg, torch.ones(fk.n_bodies, 3), 0.2 * torch.ones(fk.n_bodies, 3), fk=fk)


def test_root_joint_matches_fk_and_inverts(system):
    """The root joint's rotation/translation equal the FK layer's pelvis transform, and reading the coordinates
    back from them recovers q (float64, tolerance 1e-9)."""
    fk = system.fk.double()
    root = RootJoint.from_fk(fk)
    assert [fk.coordinate_names[i] for i in root.index] == ["pelvis_tilt", "pelvis_list", "pelvis_rotation",
                                                           "pelvis_tx", "pelvis_ty", "pelvis_tz"]
    g = torch.Generator().manual_seed(3)
    q = fk.default_q(64).clone()
    q[:, list(root.rot_index)] = (torch.rand(64, 3, generator=g, dtype=torch.float64) - 0.5) * 2.8
    q[:, list(root.trans_index)] = torch.randn(64, 3, generator=g, dtype=torch.float64)
    body = fk(q).body_transforms[:, 0]
    rot, trans = root.matrix(q)
    assert torch.allclose(rot, body[:, :3, :3], atol=1e-12)
    assert torch.allclose(trans, body[:, :3, 3], atol=1e-12)
    angles, tq = root.coordinates(rot, trans)
    assert torch.allclose(angles, q[:, list(root.rot_index)], atol=1e-9)
    assert torch.allclose(tq, q[:, list(root.trans_index)], atol=1e-12)
    system.fk.float()


def test_rotation_6d_round_trip():
    r = rot_y(torch.tensor([0.3, -2.0])) @ rot_y(torch.tensor([1.0, 0.5]))
    assert torch.allclose(rotation_6d_to_matrix(matrix_to_rotation_6d(r)), r, atol=1e-6)


def _walk_markers(system, n=8):
    fk = system.fk
    q = fk.default_q(n).clone()
    q[:, fk.coordinate_names.index("pelvis_ty")] = 0.95
    q[:, fk.coordinate_names.index("pelvis_tx")] = torch.linspace(0, 0.5, n)
    q[:, fk.coordinate_names.index("hip_flexion_r")] = torch.linspace(0, 0.6, n)
    with torch.no_grad():
        return fk(q).markers[:, system.marker_index]


def test_inputs_do_not_depend_on_placement(system):
    """Turning the subject about the vertical by any angle and moving it leaves the network's inputs unchanged
    (tolerance 1e-5 m), so the network sees the same thing whichever way the subject faces."""
    mk = _walk_markers(system)[None]
    present = torch.ones(mk.shape[:-1], dtype=torch.bool)
    base = window_inputs(mk, present, system.root_idx, system.front_idx, system.back_idx)
    for angle in (0.7, math.pi, -2.5):
        moved = torch.einsum("ij,btmj->btmi", rot_y(torch.tensor(angle)), mk) + torch.tensor([3.0, 0.0, -2.0])
        other = window_inputs(moved, present, system.root_idx, system.front_idx, system.back_idx)
        assert torch.allclose(other.x, base.x, atol=1e-5)
        assert torch.allclose(other.rel, base.rel, atol=1e-5)
        dh = other.heading - base.heading
        assert torch.allclose(torch.cos(dh), torch.full_like(dh, math.cos(angle)), atol=1e-5)
        assert torch.allclose(torch.sin(dh), torch.full_like(dh, math.sin(angle)), atol=1e-5)


def test_root_is_restored_exactly_in_ground(system):
    """The same network output, decoded in a turned and moved canonical frame, gives the root turned and moved
    the same way: the global placement is restored exactly (tolerance 1e-5)."""
    torch.manual_seed(1)
    mk = _walk_markers(system)[None]
    present = torch.ones(mk.shape[:-1], dtype=torch.bool)
    system.net.eval()
    angle, shift = 0.6, torch.tensor([2.0, 0.0, -1.0])
    moved = torch.einsum("ij,btmj->btmi", rot_y(torch.tensor(angle)), mk) + shift
    out = []
    for m in (mk, moved):
        inp = window_inputs(m, present, system.root_idx, system.front_idx, system.back_idx)
        with torch.no_grad():
            raw = system.net(inp.x, inp.rel)
            q, _ = system.out_map(raw, inp.origin, inp.heading, clamp_root=False)
        out.append(system.out_map.root.matrix(q))
    (r0, t0), (r1, t1) = out
    R = rot_y(torch.tensor(angle))
    assert torch.allclose(r1, R @ r0, atol=1e-5)
    assert torch.allclose(t1, torch.einsum("ij,...j->...i", R, t0) + shift, atol=1e-5)


@pytest.mark.parametrize("kind", ["random", "huge", "missing", "weights"])
def test_outputs_inside_ranges_and_bounds(system, kind):
    """Every predicted coordinate lies inside its range (locked ones at their value) and every scale inside
    mean +- amplitude, for random inputs, huge inputs, all markers missing and blown-up weights."""
    g = torch.Generator().manual_seed(5)
    M = len(system.marker_names)
    mk = torch.randn(40, M, 3, generator=g)
    present = None
    state = {k: v.clone() for k, v in system.net.state_dict().items()}
    if kind == "huge":
        mk = mk * 1e4
    elif kind == "missing":
        mk[:, :] = float("nan")
    elif kind == "weights":
        with torch.no_grad():
            for p in system.net.parameters():
                p.mul_(300.0)
    try:
        q, s = system.predict_trial(mk, present)
    finally:
        system.net.load_state_dict(state)
    fk = system.fk
    lo, hi = fk.coordinate_ranges.T
    assert torch.isfinite(q).all() and torch.isfinite(s).all()
    assert ((q >= lo) & (q <= hi)).all()
    assert torch.equal(q[:, fk.locked], fk.default_values[fk.locked].expand(40, -1))
    mean, amp = system.out_map.scale_mean, system.out_map.scale_amplitude
    assert ((s >= mean - amp - 1e-6) & (s <= mean + amp + 1e-6)).all()


def test_short_trials_are_padded(system):
    """A trial shorter than the window (and a single frame) is predicted, not refused."""
    mk = _walk_markers(system, n=3)
    q, s = system.predict_trial(mk)
    assert q.shape == (3, system.fk.n_coordinates) and s.shape == (3, system.fk.n_bodies, 3)
    q1, _ = system.predict_trial(mk[:1])
    assert q1.shape[0] == 1 and np.isfinite(q1.numpy()).all()
