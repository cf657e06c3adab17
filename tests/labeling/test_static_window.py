"""Automatic static window: the quietest stretch with enough markers; windows outside a trial are refused."""
from __future__ import annotations

import numpy as np
import pytest

from biopose_opensim.errors import InputFileError
from biopose_opensim.io import MarkerData, read_trc
from biopose_opensim.labeling.static import check_window, find_static_window


def _trial(n=300, rate=100.0, quiet=(120, 180), seed=0):
    """Markers moving 1 m/s except during ``quiet`` frames (0.2 mm/frame jitter)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    base = rng.normal(size=(1, 8, 3))
    vel = np.ones((n, 1, 1)) * np.array([1.0, 0.0, 0.0]) / rate
    vel[quiet[0]:quiet[1]] = 0.0
    pos = base + np.cumsum(vel, axis=0) + rng.normal(scale=2e-4, size=(n, 8, 3))
    return MarkerData(tuple(f"M{i}" for i in range(8)), pos, t, rate, np.arange(1, n + 1), "m")


def test_finds_the_quiet_window():
    data = _trial()
    start, end = find_static_window(data, length=0.5, min_fraction=0.9)
    assert 1.2 - 1e-9 <= start and end <= 1.8 + 1e-9 and end - start == pytest.approx(0.5)


def test_skips_frames_with_missing_markers():
    data = _trial(quiet=(100, 200))
    pos = data.positions.copy()
    pos[100:150, :3] = np.nan  # first half of the quiet stretch lacks 3 of 8 markers
    start, _ = find_static_window(data.with_positions(pos), length=0.3, min_fraction=0.9)
    assert start >= 1.5 - 1e-9
    with pytest.raises(InputFileError, match="no 3 s window in which every frame has at least 90%"):
        find_static_window(data.with_positions(pos), length=3.0, min_fraction=0.9)


def test_real_static_trial(gait2392_dir):
    data = read_trc(gait2392_dir / "subject01_static.trc")
    start, end = find_static_window(data, 0.5, 0.9)
    assert data.times[0] <= start < end <= data.times[-1] and end - start == pytest.approx(0.5, abs=0.02)


def test_window_outside_the_trial(gait2392_dir):
    data = read_trc(gait2392_dir / "subject01_static.trc")
    with pytest.raises(InputFileError, match=r"subject01_static.trc: static window 7-8 s does not exist in this "
                                             r"trial, which covers 0-4.98\d* s"):
        check_window(data, (7.0, 8.0))
    assert check_window(data, (4.0, 9.0)) == (4.0, pytest.approx(data.times[-1]))
