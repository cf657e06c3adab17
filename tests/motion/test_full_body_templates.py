"""Motion files of gait2392-family full-body models (gait2392 legs, knee flexion negative, arms named as in the
default model, e.g. IK results of the Hamner 2010 running model) on the default model.

The files are written here from the OpenSim example gait ``tests/data/motions/normal.mot`` (gait2392 legs) plus
arm columns with known values, optionally the coupled ``knee_angle_*_beta`` columns (in the file's gait2392
sign) and IK marker-location columns ``<marker>_tx/_ty/_tz``. Exact comparisons use atol 1e-12 rad (only a
degree-to-radian conversion separates file and result).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from biopose_opensim.activities import CoordinateSpace, load_template
from biopose_opensim.errors import CoordinateMismatchError
from biopose_opensim.io import read_mot
from biopose_opensim.motion import read_motion

ARMS = ("arm_flex", "arm_add", "arm_rot", "elbow_flex", "pro_sup")
MARKERS = ("RASI", "L.Heel")


@pytest.fixture(scope="module")
def space(default_model) -> CoordinateSpace:
    return CoordinateSpace.from_osim(default_model)


def arm_degrees(t: np.ndarray) -> dict[str, np.ndarray]:
    """Arm columns (degrees) inside the default model's ranges, different per coordinate and side."""
    phase = 2 * np.pi * t / t[-1]
    out = {}
    for k, stem in enumerate(ARMS):
        for side, sgn in (("r", 1.0), ("l", -1.0)):
            base = {"arm_flex": 5.0, "arm_add": -12.0, "arm_rot": 4.0, "elbow_flex": 35.0, "pro_sup": 55.0}[stem]
            out[f"{stem}_{side}"] = base + (3.0 + k) * sgn * np.sin(phase + 0.3 * k)
    return out


def write_full_body_mot(path: Path, source: Path, beta: bool, markers: bool, extra: tuple[str, ...] = ()) -> dict:
    """Write gait2392 legs of ``source`` + model-named arms (+ betas, marker columns, ``extra`` zero columns).

    Returns the written columns (degrees for angles, metres for translations) by name.
    """
    src = read_mot(source)
    cols = {"time": src.times}
    for name in src.column_labels:
        cols[name] = src.column(name)
        if beta and name in ("knee_angle_r", "knee_angle_l"):
            cols[f"{name}_beta"] = src.column(name)  # as a gait2392-family IK writes it: negative in flexion
    cols.update(arm_degrees(src.times))
    if markers:
        for k, m in enumerate(MARKERS):
            for a, axis in enumerate("xyz"):
                cols[f"{m}_t{axis}"] = 0.1 * (k + 1) + 0.01 * a + 0.0 * src.times
    for name in extra:
        cols[name] = np.zeros_like(src.times)
    names = list(cols)
    rows = np.column_stack([cols[n] for n in names])
    head = (f"{path.stem}\nversion=1\nnRows={rows.shape[0]}\nnColumns={rows.shape[1]}\ninDegrees=yes\nendheader\n"
            + "\t".join(names) + "\n")
    path.write_text(head + "\n".join("\t".join(f"{v:.10g}" for v in r) for r in rows) + "\n")
    return cols


def coupler(space: CoordinateSpace, dependent: str):
    return next(cp for cp in space.couplers if cp.dependent == dependent)


@pytest.mark.parametrize("beta", [False, True], ids=["no_beta", "beta"])
def test_full_body_template_maps_legs_and_keeps_arms(space, data_dir, tmp_path, beta):
    path = tmp_path / "run_ik.mot"
    cols = write_full_body_mot(path, data_dir / "motions" / "normal.mot", beta=beta, markers=True)
    tpl = load_template(path, space)
    m = tpl.mapping
    assert m.convention == "gait2392"
    q = lambda name: tpl.q[:, space.index(name)]  # noqa: E731
    for side in ("r", "l"):
        # legs: gait2392 knee flexion negative -> model positive; other leg coordinates unchanged
        np.testing.assert_allclose(q(f"knee_angle_{side}"), -np.deg2rad(cols[f"knee_angle_{side}"]), atol=1e-12)
        assert (f"knee_angle_{side}", f"knee_angle_{side}", -1.0) in m.mapped
        np.testing.assert_allclose(q(f"hip_flexion_{side}"), np.deg2rad(cols[f"hip_flexion_{side}"]), atol=1e-12)
        # arms: taken as they are
        for stem in ARMS:
            name = f"{stem}_{side}"
            np.testing.assert_allclose(q(name), np.deg2rad(cols[name]), atol=1e-12)
            assert (name, name, 1.0) in m.mapped and name not in m.unmapped_model
        # the patellofemoral coordinate follows the mapped knee, whatever the file says
        beta_name = f"knee_angle_{side}_beta"
        np.testing.assert_allclose(q(beta_name), coupler(space, beta_name)(q(f"knee_angle_{side}")), atol=1e-12)
        assert (beta_name in m.ignored) is beta
        assert beta_name not in {t for _, t, _ in m.mapped}
    assert q("knee_angle_r").max() > np.deg2rad(50)  # positive flexion in swing
    assert {f"{mk}_t{a}" for mk in MARKERS for a in "xyz"} <= set(m.ignored)
    # left to the model: the wrists (not in the file), what normal.mot lacks (pelvis_tx/tz, subtalar, MTP), betas
    assert set(m.unmapped_model) == {
        "wrist_flex_r", "wrist_dev_r", "wrist_flex_l", "wrist_dev_l", "pelvis_tx", "pelvis_tz", "subtalar_angle_r",
        "subtalar_angle_l", "mtp_angle_r", "mtp_angle_l", "knee_angle_r_beta", "knee_angle_l_beta"}
    assert tpl.given[space.index("arm_flex_r")] and not tpl.given[space.index("wrist_flex_r")]


@pytest.mark.parametrize("beta", [False, True], ids=["no_beta", "beta"])
def test_read_motion_gait2392_keeps_full_body_arms(space, default_model, data_dir, tmp_path, beta):
    path = tmp_path / "run_ik.mot"
    cols = write_full_body_mot(path, data_dir / "motions" / "normal.mot", beta=beta, markers=True)
    motion = read_motion(path, default_model, "gait2392")
    assert motion.coordinate_names == space.names
    np.testing.assert_allclose(motion.column("knee_angle_l"), -np.deg2rad(cols["knee_angle_l"]), atol=1e-12)
    for stem in ARMS:
        np.testing.assert_allclose(motion.column(f"{stem}_r"), np.deg2rad(cols[f"{stem}_r"]), atol=1e-12)
    np.testing.assert_allclose(motion.column("knee_angle_r_beta"),
                               coupler(space, "knee_angle_r_beta")(motion.column("knee_angle_r")), atol=1e-12)
    # the same file through the template reader gives the same coordinates
    np.testing.assert_allclose(load_template(path, space).q, motion.q, atol=1e-12)


def listed_columns(message: str) -> list[str]:
    """The column names an unknown-column message lists (between the model name and the parenthesis)."""
    found = re.search(r"column\(s\) do not match coordinates of [^:]+: (.*?) \(read in the", message)
    assert found, message
    return found.group(1).split(", ")


def test_unknown_columns_are_listed_alone(space, default_model, data_dir, tmp_path):
    path = tmp_path / "robot_ik.mot"
    write_full_body_mot(path, data_dir / "motions" / "normal.mot", beta=True, markers=True,
                        extra=("neck_flexion", "tail_wag"))
    with pytest.raises(CoordinateMismatchError) as tpl_err:
        load_template(path, space)
    with pytest.raises(CoordinateMismatchError) as read_err:
        read_motion(path, default_model, "gait2392")
    for err in (tpl_err, read_err):
        msg = str(err.value)
        assert "robot_ik.mot: 2 column(s)" in msg and "gait2392 convention" in msg
        assert listed_columns(msg) == ["neck_flexion", "tail_wag"]
        assert not set(listed_columns(msg)) & set(space.names)


def test_synth_builds_from_a_full_body_template(data_dir, tmp_path):
    """A small real build (1 subject, 0.5 s at 10 Hz: Anny, OpenSim ScaleTool + IK) from such a template."""
    from biopose_opensim.synth.__main__ import main

    motion = tmp_path / "run_ik.mot"
    write_full_body_mot(motion, data_dir / "motions" / "normal.mot", beta=True, markers=True)
    out = tmp_path / "ds"
    rc = main(["--out", str(out), "--subjects", "1", "--activities", "", "--motion", str(motion),
               "--duration", "0.5", "--fps", "10", "--workers", "1", "--no-progress"])
    assert rc == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert [t["name"] for t in manifest["trials"]] == ["run_ik"]
    rec = manifest["motions"][str(motion)]
    assert rec["convention"] == "gait2392"
    assert ["arm_flex_r", "arm_flex_r", 1.0] in rec["mapped"]
    assert ["knee_angle_l", "knee_angle_l", -1.0] in rec["mapped"]
    assert "arm_flex_r" not in rec["unmapped_model"] and "knee_angle_r_beta" in rec["ignored"]
