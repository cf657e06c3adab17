"""Round trip: OpenSim motion -> Anny mesh -> virtual markers -> `label` (ScaleTool + IK) -> the same angles.

Tolerance: mean |IK - source| <= 3 deg per coordinate (the accuracy measured on these motions is about
0.4-1.0 deg; see docs/virtual_markers.md). The static trial is Anny at q = 0 and ``label --static-pose`` prescribes
that pose during marker placement.
"""
from __future__ import annotations

import numpy as np
import pytest

from biopose_opensim.io import read_coordinates, write_coordinates_mot
from biopose_opensim.label import main as label_main
from biopose_opensim.motion import model_coordinates, read_motion, static_motion, write_synthetic_trials
from biopose_opensim.paths import MARKER_SETS_DIR, default_model_path

TOLERANCE_DEG = 3.0


def _label(files, out, set_name="anny_d3ke"):
    prefix = MARKER_SETS_DIR / f"{set_name}_rajagopal2023"
    argv = ["--model", str(default_model_path()), "--static", str(files.static_trc),
            "--trials", *map(str, files.trials), "--markers", f"{prefix}_markers.xml",
            "--scale-setup", f"{prefix}_Setup_Scale.xml", "--ik-setup", f"{prefix}_Setup_IK.xml",
            "--static-pose", str(files.static_pose_mot), "--out", str(out)]
    assert label_main(argv) == 0


def _errors(out, trial, motion, coordinates):
    coords = model_coordinates(default_model_path())
    _, q, names = read_coordinates(out / f"{trial}_ik.mot", dict(zip(coords.names, coords.rotational)))
    assert q.shape[0] == motion.n_frames
    return {c: float(np.degrees(np.abs(q[:, names.index(c)] - motion.column(c))).mean()) for c in coordinates}


def arm_raise_motion(path, duration=2.0, rate=25.0):
    """A short arm raise on the default model: shoulder flexion to 90 deg (left 72), elbow flexion to 70 (56)."""
    model = default_model_path()
    base = static_motion(model, "zero", duration=duration, rate=rate)
    t = base.times
    up = np.sin(np.pi * t / t[-1]) ** 2
    q = base.q.copy()
    for side, amp in (("r", 1.0), ("l", 0.8)):
        q[:, base.coordinate_names.index(f"arm_flex_{side}")] = np.radians(90 * amp) * up
        q[:, base.coordinate_names.index(f"elbow_flex_{side}")] = np.radians(70 * amp) * np.sin(np.pi * t / t[-1])
        q[:, base.coordinate_names.index(f"arm_add_{side}")] = np.radians(-10) * up
        q[:, base.coordinate_names.index(f"pro_sup_{side}")] = np.radians(40) * up
    write_coordinates_mot(path, t, q, base.coordinate_names, base.rotational, name="arm_raise")
    return read_motion(path, model)


@pytest.mark.slow
def test_gait_round_trip_recovers_lower_limb_flexion(anny_body, anny_set, data_dir, tmp_path):
    motion = read_motion(data_dir / "motions" / "normal.mot", default_model_path(), "gait2392")
    files = write_synthetic_trials(tmp_path / "trials", anny_body, default_model_path(), [motion], anny_set)
    _label(files, tmp_path / "label")
    coords = [f"{c}_{s}" for c in ("hip_flexion", "knee_angle", "ankle_angle") for s in ("r", "l")]
    errors = _errors(tmp_path / "label", "normal", motion, coords)
    print("mean |error| deg:", {k: round(v, 2) for k, v in errors.items()})
    assert max(errors.values()) <= TOLERANCE_DEG, errors


@pytest.mark.slow
def test_arm_raise_round_trip_recovers_shoulder_and_elbow_flexion(anny_body, anny_set, tmp_path):
    motion = arm_raise_motion(tmp_path / "arm_raise.mot")
    assert np.degrees(motion.column("arm_flex_r").max()) > 89
    files = write_synthetic_trials(tmp_path / "trials", anny_body, default_model_path(), [motion], anny_set)
    _label(files, tmp_path / "label")
    coords = [f"{c}_{s}" for c in ("arm_flex", "elbow_flex") for s in ("r", "l")]
    errors = _errors(tmp_path / "label", "arm_raise", motion, coords)
    print("mean |error| deg:", {k: round(v, 2) for k, v in errors.items()})
    assert max(errors.values()) <= TOLERANCE_DEG, errors
