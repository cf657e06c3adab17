"""Real gait templates (gait2392 names) mapped onto the default model and varied per subject."""
from __future__ import annotations

import numpy as np
import pytest

from biopose_opensim.activities import CoordinateSpace, load_template, sample_params, template_motion
from biopose_opensim.errors import CoordinateMismatchError
from biopose_opensim.io import read_mot


@pytest.fixture(scope="module")
def space(default_model) -> CoordinateSpace:
    return CoordinateSpace.from_osim(default_model)


TEMPLATES = ["motions/normal.mot", "motions/crouch1.mot", "motions/crouch2.mot", "motions/crouch3.mot",
             "motions/crouch4.mot", "gait2392_tutorial/reference/subject01_walk1_ik.mot"]


@pytest.mark.parametrize("rel", TEMPLATES)
def test_template_maps_and_stays_in_range(space, data_dir, rel):
    tpl = load_template(data_dir / rel, space)
    assert tpl.mapping.convention == "gait2392"
    src = read_mot(data_dir / rel)
    # knee flexion: negative in gait2392, positive in the model
    np.testing.assert_allclose(tpl.q[:, space.index("knee_angle_r")],
                               -np.deg2rad(src.column("knee_angle_r")), atol=1e-12)
    np.testing.assert_allclose(tpl.q[:, space.index("hip_flexion_l")],
                               np.deg2rad(src.column("hip_flexion_l")), atol=1e-12)
    # gait2392 has no arms: they are listed as unmapped
    assert {"arm_flex_r", "elbow_flex_l", "pro_sup_r"} <= set(tpl.mapping.unmapped_model)
    for seed in (0, 1):
        m = template_motion(tpl, space, sample_params("template", np.random.default_rng(seed)), fps=30.0)
        assert space.out_of_range(m.q) == []
        assert m.name == tpl.name
        assert np.rad2deg(np.ptp(m.column("arm_flex_r"))) > 3.0  # arms swing


def test_tutorial_ik_ignores_marker_columns(space, data_dir):
    tpl = load_template(data_dir / "gait2392_tutorial/reference/subject01_walk1_ik.mot", space)
    assert "R.ASIS_tx" in tpl.mapping.ignored and "ground_force_vx" in tpl.mapping.ignored
    assert "pelvis_tx" in {t for _, t, _ in tpl.mapping.mapped}
    assert not tpl.cyclic


def test_normal_gait_template_is_looped_and_tempo_scaled(space, data_dir):
    tpl = load_template(data_dir / "motions/normal.mot", space)
    assert tpl.cyclic
    p = sample_params("template", np.random.default_rng(0), duration=3.0)
    m = template_motion(tpl, space, p, fps=50.0)
    assert m.times[-1] == pytest.approx(3.0)
    hip = m.column("hip_flexion_r")
    freqs = np.fft.rfftfreq(len(hip), 1 / 50.0)
    f0 = freqs[np.abs(np.fft.rfft(hip - hip.mean())).argmax()]
    assert f0 == pytest.approx(p.cadence / 110.0, abs=0.2)  # template stride 1 s, scaled by cadence/110


def test_motion_with_foreign_coordinates_is_rejected(space, tmp_path):
    bad = tmp_path / "foreign.mot"
    bad.write_text("foreign\nversion=1\nnRows=2\nnColumns=4\ninDegrees=yes\nendheader\n"
                   "time\thip_flexion_r\tneck_flexion\ttail_wag\n0\t1\t2\t3\n0.1\t2\t3\t4\n")
    with pytest.raises(CoordinateMismatchError, match=r"foreign\.mot: 2 column\(s\).*neck_flexion, tail_wag"):
        load_template(bad, space)


def test_model_named_motion_is_taken_as_is(space, tmp_path):
    path = tmp_path / "rajagopal.mot"
    path.write_text("m\nversion=1\nnRows=2\nnColumns=3\ninDegrees=yes\nendheader\n"
                    "time\tknee_angle_r\tarm_flex_l\n0\t10\t5\n0.1\t20\t6\n")
    tpl = load_template(path, space)
    assert tpl.mapping.convention == "model"
    np.testing.assert_allclose(np.rad2deg(tpl.q[:, space.index("knee_angle_r")]), [10, 20])
