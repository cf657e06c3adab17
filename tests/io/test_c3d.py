"""C3D reading through ezc3d, on small files written by the tests with ezc3d itself."""
from __future__ import annotations

from pathlib import Path

import ezc3d
import numpy as np
import pytest

from biopose_opensim.errors import ConfigError, InputFileError
from biopose_opensim.io import Z_UP_TO_Y_UP, read_c3d, read_trc, write_trc


def make_c3d(path: Path, labels, xyz: np.ndarray, rate: float = 100.0, units: str = "mm",
             residual_gap: tuple[int, int] | None = None, extra: dict | None = None) -> Path:
    """Write a C3D with ``xyz`` (T, M, 3) in ``units``; NaN where missing."""
    c3d = ezc3d.c3d()
    c3d["parameters"]["POINT"]["RATE"]["value"] = [rate]
    c3d["parameters"]["POINT"]["LABELS"]["value"] = tuple(labels)
    c3d["parameters"]["POINT"]["UNITS"]["value"] = [units]
    T, M, _ = xyz.shape
    points = np.ones((4, M, T))
    points[:3] = np.transpose(xyz, (2, 1, 0))
    c3d["data"]["points"] = points
    for (group, name), value in (extra or {}).items():
        c3d.add_parameter(group, name, value)
    c3d.write(str(path))
    return path


def trajectories(T: int = 50, M: int = 3) -> np.ndarray:
    t = np.arange(T)[:, None, None] / 100.0
    base = np.arange(M)[None, :, None] * 100.0 + np.array([10.0, 20.0, 30.0])
    return base + 50.0 * np.sin(2 * np.pi * t + np.arange(3))


def test_points_labels_rate_units_and_gap(tmp_path):
    xyz = trajectories()
    xyz[10:15, 1] = np.nan  # a gap in marker B
    path = make_c3d(tmp_path / "trial.c3d", ["A", "B", "C"], xyz, rate=120.0, units="mm")
    data = read_c3d(path)
    assert data.marker_names == ("A", "B", "C")
    assert data.rate == 120.0 and data.source_units == "mm"
    assert data.n_frames == 50 and data.frame_numbers[0] == 1
    np.testing.assert_allclose(data.times, np.arange(50) / 120.0)
    miss = np.isnan(data.positions).any(axis=2)
    assert miss[10:15, 1].all() and miss.sum() == 5
    ok = ~np.isnan(xyz)
    # C3D stores float32 points: 1e-4 mm relative resolution at these magnitudes -> 1e-7 m tolerance.
    np.testing.assert_allclose(data.positions[ok], xyz[ok] * 1e-3, rtol=0, atol=1e-7)


@pytest.mark.parametrize("units,scale", [("m", 1.0), ("cm", 1e-2), ("mm", 1e-3)])
def test_units(tmp_path, units, scale):
    xyz = trajectories(T=5, M=2) / 100.0
    data = read_c3d(make_c3d(tmp_path / "u.c3d", ["A", "B"], xyz, units=units))
    np.testing.assert_allclose(data.positions, xyz * scale, rtol=1e-6)


def test_z_up_rotated_to_y_up(tmp_path):
    xyz = trajectories(T=5, M=2)
    path = make_c3d(tmp_path / "z.c3d", ["A", "B"], xyz)
    y_up = read_c3d(path)
    z_up = read_c3d(path, up_axis="z")
    # lab z (vertical) becomes y; lab x stays x; lab y becomes -z.
    np.testing.assert_allclose(z_up.positions[..., 0], y_up.positions[..., 0])
    np.testing.assert_allclose(z_up.positions[..., 1], y_up.positions[..., 2])
    np.testing.assert_allclose(z_up.positions[..., 2], -y_up.positions[..., 1])
    np.testing.assert_allclose(np.linalg.det(Z_UP_TO_Y_UP), 1.0)


def test_non_marker_points_left_out(tmp_path):
    xyz = trajectories(T=5, M=3)
    extra = {("POINT", "ANGLES"): ["LKneeAngles"]}
    data = read_c3d(make_c3d(tmp_path / "a.c3d", ["A", "LKneeAngles", "C"], xyz, extra=extra))
    assert data.marker_names == ("A", "C")
    np.testing.assert_allclose(data.positions[:, 1], xyz[:, 2] * 1e-3, atol=1e-7)


def test_c3d_to_trc_loads(tmp_path):
    xyz = trajectories(T=20, M=2)
    xyz[3:6, 0] = np.nan
    data = read_c3d(make_c3d(tmp_path / "t.c3d", ["A", "B"], xyz))
    back = read_trc(write_trc(tmp_path / "t.trc", data))
    np.testing.assert_array_equal(np.isnan(back.positions), np.isnan(data.positions))
    np.testing.assert_allclose(back.positions, data.positions, atol=1e-9)


def test_duplicate_labels(tmp_path):
    path = make_c3d(tmp_path / "d.c3d", ["A", "B", "A"], trajectories(T=3, M=3))
    with pytest.raises(InputFileError) as info:
        read_c3d(path)
    assert str(path) in str(info.value) and "'A'" in str(info.value) and "twice" in str(info.value)


def test_unknown_units(tmp_path):
    path = make_c3d(tmp_path / "i.c3d", ["A"], trajectories(T=3, M=1), units="in")
    with pytest.raises(InputFileError, match=r"POINT:UNITS 'in'"):
        read_c3d(path)


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        read_c3d(tmp_path / "none.c3d")
    bad = tmp_path / "bad.c3d"
    bad.write_bytes(b"not a c3d file at all" * 10)
    with pytest.raises(InputFileError) as info:
        read_c3d(bad)
    assert str(bad) in str(info.value)


def test_bad_up_axis(tmp_path):
    path = make_c3d(tmp_path / "a.c3d", ["A"], trajectories(T=3, M=1))
    with pytest.raises(ConfigError, match="up_axis"):
        read_c3d(path, up_axis="x")


def test_negative_residual_means_missing(tmp_path):
    """Vicon-style missing points: coordinates present but residual -1."""
    c3d = ezc3d.c3d()
    c3d["parameters"]["POINT"]["RATE"]["value"] = [100.0]
    c3d["parameters"]["POINT"]["LABELS"]["value"] = ("A", "B")
    points = np.ones((4, 2, 6))
    points[:3] = 5.0
    c3d["data"]["points"] = points
    residuals = np.zeros((1, 2, 6))
    residuals[0, 1, 2:4] = -1
    c3d["data"]["meta_points"] = {"residuals": residuals, "camera_masks": np.zeros((7, 2, 6), dtype=bool)}
    c3d.write(str(tmp_path / "r.c3d"))
    data = read_c3d(tmp_path / "r.c3d")
    miss = np.isnan(data.positions).any(axis=2)
    np.testing.assert_array_equal(np.flatnonzero(miss[:, 1]), [2, 3])
    assert not miss[:, 0].any()
