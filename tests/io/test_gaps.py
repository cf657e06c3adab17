"""Gap filling: accuracy on a real walking trial with artificial gaps, and which gaps are (not) filled."""
from __future__ import annotations

import json

import numpy as np
import pytest

from biopose_opensim.io import MarkerData, fill_gaps, read_trc


def synthetic(T: int = 101, rate: float = 100.0) -> MarkerData:
    t = np.arange(T) / rate
    pos = np.stack([np.stack([np.sin(t + k), np.cos(2 * t + k), 0.1 * t + k], axis=1) for k in range(3)], axis=1)
    return MarkerData(("A", "B", "C"), pos, t, rate, np.arange(1, T + 1))


def with_nan(data: MarkerData, marker: int, frames: slice) -> MarkerData:
    pos = data.positions.copy()
    pos[frames, marker] = np.nan
    return data.with_positions(pos)


def gap_errors(truth: MarkerData, length: int) -> tuple[np.ndarray, np.ndarray, MarkerData, np.ndarray]:
    """Cut ``length``-frame gaps every 20 frames in every marker (staggered), fill them; return per-gap max errors
    (m) of the spline fill and of a straight line between the gap's neighbours, the filled data and the gap mask."""
    pos = truth.positions.copy()
    gaps = [(m, s) for m in range(truth.n_markers)
            for s in range(8 + (3 * m) % 20, truth.n_frames - length - 8, 20)]
    for m, s in gaps:
        pos[s:s + length, m] = np.nan
    filled, report = fill_gaps(truth.with_positions(pos), max_gap=length / truth.rate)
    assert report.n_filled == len(gaps) and report.n_unfilled == 0
    spline, linear = [], []
    for m, s in gaps:
        idx = slice(s, s + length)
        spline.append(np.linalg.norm(filled.positions[idx, m] - truth.positions[idx, m], axis=1).max())
        w = np.linspace(0, 1, length + 2)[1:-1, None]
        line = (1 - w) * truth.positions[s - 1, m] + w * truth.positions[s + length, m]
        linear.append(np.linalg.norm(line - truth.positions[idx, m], axis=1).max())
    return np.array(spline), np.array(linear), filled, np.isnan(pos)


@pytest.mark.parametrize("rel,length,median_mm,p95_mm", [
    # Tolerances: about 1.3x the errors measured on these trials (see docs/file_formats.md).
    ("rajagopal_walk/ExpData/motion_capture_walk.trc", 5, 1.0, 3.6),   # 100 Hz, 0.05 s gaps
    ("gait2392_tutorial/subject01_walk1.trc", 3, 1.8, 4.2),            # 60 Hz, 0.05 s gaps
])
def test_gap_fill_accuracy_on_real_walking(data_dir, rel, length, median_mm, p95_mm):
    """Hide recorded samples, fill them, compare with what was recorded (3D error per gap, max over its frames)."""
    truth = read_trc(data_dir / rel)
    spline, linear, filled, mask = gap_errors(truth, length)
    assert not np.isnan(filled.positions).any()
    np.testing.assert_array_equal(filled.positions[~mask], truth.positions[~mask])  # valid frames untouched
    assert np.median(spline) * 1e3 < median_mm, f"median {np.median(spline) * 1e3:.2f} mm"
    assert np.percentile(spline, 95) * 1e3 < p95_mm, f"p95 {np.percentile(spline, 95) * 1e3:.2f} mm"
    # The spline beats straight-line filling on these trajectories.
    assert np.median(spline) < 0.9 * np.median(linear)
    assert np.percentile(spline, 95) < 0.5 * np.percentile(linear, 95)


def test_cubic_exact_on_cubic_motion():
    """A cubic trajectory is reproduced exactly by the not-a-knot spline (tolerance 1e-12 m)."""
    t = np.arange(40) / 100.0
    track = np.stack([t**3 - t, 2 * t**2, 0.5 - t**3], axis=1)
    data = MarkerData(("A",), track[:, None, :], t, 100.0, np.arange(40))
    filled, _ = fill_gaps(with_nan(data, 0, slice(15, 22)), max_gap=0.1)
    np.testing.assert_allclose(filled.positions, data.positions, rtol=0, atol=1e-12)


def test_linear_when_too_few_neighbours():
    data = synthetic()
    pos = data.positions.copy()
    pos[0, 0] = np.nan
    pos[2:5, 0] = np.nan  # one valid frame (index 1) before the gap: linear fill between frames 1 and 5
    gappy = data.with_positions(pos)
    filled, report = fill_gaps(gappy)
    w = (np.arange(2, 5) - 1) / 4.0
    expected = (1 - w)[:, None] * pos[1, 0] + w[:, None] * pos[5, 0]
    np.testing.assert_allclose(filled.positions[2:5, 0], expected, rtol=0, atol=1e-15)
    assert report.filled == {"A": [(pytest.approx(0.02), pytest.approx(0.04))]}
    assert report.unfilled == {"A": [(0.0, 0.0)]}


def test_long_leading_trailing_gaps_left_and_reported():
    data = synthetic()
    data = with_nan(data, 0, slice(0, 3))     # leading
    data = with_nan(data, 0, slice(40, 61))   # 21 frames = 0.21 s > 0.1 s
    data = with_nan(data, 1, slice(98, 101))  # trailing
    data = with_nan(data, 2, slice(50, 60))   # 10 frames = 0.10 s: filled (limit inclusive)
    filled, report = fill_gaps(data, max_gap=0.1)
    miss = np.isnan(filled.positions).any(axis=2)
    assert miss[0:3, 0].all() and miss[40:61, 0].all() and miss[98:, 1].all()
    assert not miss[:, 2].any()
    assert miss.sum() == 3 + 21 + 3
    assert report.unfilled["A"] == [(0.0, pytest.approx(0.02)), (pytest.approx(0.40), pytest.approx(0.60))]
    assert report.unfilled["B"] == [(pytest.approx(0.98), pytest.approx(1.00))]
    assert report.filled == {"C": [(pytest.approx(0.50), pytest.approx(0.59))]}
    as_json = json.loads(json.dumps(report.to_dict()))
    assert as_json["unfilled"]["A"][1] == [pytest.approx(0.40), pytest.approx(0.60)]
    assert as_json["max_gap"] == 0.1
    # The input is left unchanged.
    assert np.isnan(data.positions[50:60, 2]).all()


def test_fully_missing_marker_and_zero_max_gap():
    data = with_nan(synthetic(), 1, slice(None))
    data = with_nan(data, 0, slice(10, 11))
    filled, report = fill_gaps(data, max_gap=0.0)
    assert report.unfilled["B"] == [(0.0, pytest.approx(1.0))]
    assert report.unfilled["A"] == [(pytest.approx(0.10), pytest.approx(0.10))]
    assert not report.filled
    with pytest.raises(ValueError, match="max_gap"):
        fill_gaps(data, max_gap=-1)
