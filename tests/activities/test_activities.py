"""Parametric activities on the default model: ranges, grounding, variation, bad names, .mot output."""
from __future__ import annotations

import numpy as np
import pytest

from biopose_opensim.activities import (
    ACTIVITIES,
    ActivityParams,
    CoordinateSpace,
    generate_activity,
    sample_params,
)
from biopose_opensim.activities.grounding import foot_points, foot_positions
from biopose_opensim.errors import ConfigError
from biopose_opensim.io import read_coordinates


@pytest.fixture(scope="module")
def space(default_model) -> CoordinateSpace:
    return CoordinateSpace.from_osim(default_model)


@pytest.mark.parametrize("name", list(ACTIVITIES))
def test_activity_stays_within_model_ranges(space, name):
    for seed in (0, 1, 2):
        params = sample_params(name, np.random.default_rng(seed))
        m = generate_activity(name, space, params, fps=30.0)
        assert m.q.shape == (m.n_frames, space.size)
        assert np.isfinite(m.q).all()
        indep = ~space.dependent
        below = m.q[:, indep] < space.lower[indep] - 1e-12
        above = m.q[:, indep] > space.upper[indep] + 1e-12
        assert not below.any() and not above.any(), (name, seed, space.out_of_range(m.q))
        # coupled patellofemoral coordinates follow their knee exactly (linear coupler, slope 1)
        np.testing.assert_allclose(m.column("knee_angle_r_beta"), m.column("knee_angle_r"), atol=1e-12)
        # locked coordinates never move
        assert np.all(m.q[:, space.locked] == space.default[space.locked])


@pytest.mark.parametrize("name", list(ACTIVITIES))
def test_arms_and_trunk_move(space, name):
    m = generate_activity(name, space, sample_params(name, np.random.default_rng(3)), fps=30.0)
    arm = max(np.ptp(m.column("arm_flex_r")), np.ptp(m.column("arm_add_r")), np.ptp(m.column("arm_flex_l")))
    trunk = max(np.ptp(m.column(c)) for c in ("lumbar_extension", "lumbar_bending", "lumbar_rotation"))
    assert np.rad2deg(arm) > 5.0, name
    assert np.rad2deg(trunk) > 2.0, name


def test_feet_on_floor_and_anchored(space):
    """Squat: in every frame the lowest foot point is on the floor (±0.1 mm) and the feet do not slide."""
    m = generate_activity("squat", space, sample_params("squat", np.random.default_rng(4)), fps=30.0)
    pts = foot_positions(space, m.q)
    floor = foot_points(space).floor_y
    np.testing.assert_allclose(pts[:, :, 1].min(axis=1), floor, atol=1e-4)
    anchor_x = pts[:, :, 0].mean(axis=1)
    assert np.ptp(anchor_x) < 1e-3, np.ptp(anchor_x)
    # the pelvis really goes down: squat depth of at least 20 cm
    assert np.ptp(m.column("pelvis_ty")) > 0.2


def test_drop_jump_leaves_the_floor(space):
    p = sample_params("drop_jump", np.random.default_rng(5))
    m = generate_activity("drop_jump", space, p, fps=60.0)
    height = foot_positions(space, m.q)[:, :, 1].min(axis=1) - foot_points(space).floor_y
    box = 0.3 * p.amplitude
    np.testing.assert_allclose(height[:5], box, atol=1e-4)  # standing on the box
    assert height[-5:].max() < 1e-4  # back on the floor at the end


def test_walk_speed_and_cadence(space):
    p = ActivityParams(duration=4.0, speed=1.4, cadence=110.0)
    m = generate_activity("walk", space, p, fps=100.0)
    tx = m.column("pelvis_tx")
    speed = (tx[-1] - tx[0]) / (m.times[-1] - m.times[0])
    assert speed == pytest.approx(1.4, rel=1e-6)
    # right hip flexion peaks once per stride (120/cadence s)
    hip = m.column("hip_flexion_r")
    spectrum = np.abs(np.fft.rfft(hip - hip.mean()))
    freqs = np.fft.rfftfreq(len(hip), 1.0 / 100.0)
    assert freqs[spectrum.argmax()] == pytest.approx(110.0 / 120.0, abs=0.25)


def test_per_subject_variation_is_seeded(space):
    a = generate_activity("walk", space, sample_params("walk", np.random.default_rng(7)), fps=30.0)
    b = generate_activity("walk", space, sample_params("walk", np.random.default_rng(7)), fps=30.0)
    c = generate_activity("walk", space, sample_params("walk", np.random.default_rng(8)), fps=30.0)
    np.testing.assert_array_equal(a.q, b.q)
    assert np.abs(a.q - c.q).max() > np.deg2rad(2.0)


def test_asymmetry_changes_sides(space):
    base = ActivityParams(duration=2.0, speed=1.2, cadence=110.0)
    sym = generate_activity("walk", space, base, fps=50.0)
    asym = generate_activity("walk", space, ActivityParams(**{**base.to_dict(), "asymmetry": 0.1}), fps=50.0)
    r = np.ptp(asym.column("knee_angle_r")) / np.ptp(sym.column("knee_angle_r"))
    l_ = np.ptp(asym.column("knee_angle_l")) / np.ptp(sym.column("knee_angle_l"))
    assert r == pytest.approx(1.1, abs=0.02) and l_ == pytest.approx(0.9, abs=0.02)


def test_unknown_activity_lists_valid_names(space):
    with pytest.raises(ConfigError, match=r"unknown activity 'cartwheel'.*walk.*squat.*drop_jump"):
        generate_activity("cartwheel", space, ActivityParams())


def test_motion_written_as_mot_reads_back(space, tmp_path):
    m = generate_activity("lunge", space, sample_params("lunge", np.random.default_rng(9), duration=1.0), fps=30.0)
    path = m.write(tmp_path / "lunge.mot")
    text = path.read_text()
    assert "inDegrees=yes" in text
    rot = dict(zip(space.names, space.rotational))
    times, q, names = read_coordinates(path, rot)
    assert names == space.names
    np.testing.assert_allclose(times, m.times, atol=1e-9)
    np.testing.assert_allclose(q, m.q, atol=1e-6)
