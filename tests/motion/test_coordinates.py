"""Coordinate motions on the default model: reading gait2392-style .mot files, static poses, errors."""
from __future__ import annotations

import numpy as np
import pytest

from biopose_opensim.errors import CoordinateMismatchError
from biopose_opensim.io import read_mot
from biopose_opensim.motion import model_coordinates, read_motion, static_motion
from biopose_opensim.paths import default_model_path


def test_normal_gait_maps_onto_the_default_model(data_dir):
    path = data_dir / "motions" / "normal.mot"
    motion = read_motion(path, default_model_path(), "gait2392")
    coords = model_coordinates(default_model_path())
    assert motion.coordinate_names == coords.names and motion.q.shape == (51, len(coords.names))
    src = read_mot(path)
    # gait2392 knee flexion is negative; Rajagopal's is positive
    assert np.allclose(motion.column("knee_angle_r"), -np.radians(src.column("knee_angle_r")))
    assert motion.column("knee_angle_l").max() > np.radians(50)
    assert np.allclose(motion.column("hip_flexion_r"), np.radians(src.column("hip_flexion_r")))
    assert np.allclose(motion.column("pelvis_ty"), src.column("pelvis_ty"))  # metres, not converted
    # coordinates the file lacks keep the model's defaults
    assert np.all(motion.column("arm_flex_r") == 0.0) and np.all(motion.column("pelvis_tx") == 0.0)


def test_static_poses(tmp_path):
    model = default_model_path()
    coords = model_coordinates(model)
    zero = static_motion(model, "zero", duration=0.5, rate=10)
    assert zero.n_frames == 6 and np.all(zero.q[:, coords.index("knee_angle_r")] == 0)
    assert np.allclose(zero.column("pelvis_ty"), coords.default[coords.index("pelvis_ty")])
    bent = static_motion(model, {"elbow_flex_l": 0.5})
    assert np.allclose(bent.column("elbow_flex_l"), 0.5) and np.all(bent.column("elbow_flex_r") == 0)
    with pytest.raises(CoordinateMismatchError, match="coordinate 'elbow' is not in the model"):
        static_motion(model, {"elbow": 0.5})


def test_motion_without_model_coordinates(tmp_path):
    bad = tmp_path / "bad.mot"
    bad.write_text("bad\nversion=1\nnRows=2\nnColumns=3\ninDegrees=yes\nendheader\ntime\tfoo\thip_flexion_r\n"
                   "0\t1\t2\n0.1\t2\t3\n")
    with pytest.raises(CoordinateMismatchError, match=r"bad\.mot: 1 column\(s\) do not match coordinates of the "
                                                      r"model: foo \(read in the model convention"):
        read_motion(bad, default_model_path())
    with pytest.raises(CoordinateMismatchError, match="unknown coordinate map 'gait9'"):
        read_motion(bad, default_model_path(), "gait9")
    markers_only = tmp_path / "markers.mot"
    markers_only.write_text("m\nversion=1\nnRows=2\nnColumns=3\ninDegrees=yes\nendheader\ntime\tRASI_tx\tRASI_ty\n"
                            "0\t1\t2\n0.1\t2\t3\n")
    with pytest.raises(CoordinateMismatchError, match=r"none of its columns \(RASI_tx, RASI_ty\) is a coordinate"):
        read_motion(markers_only, default_model_path())
