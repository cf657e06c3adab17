"""MarkerData helpers: selection, windows, renaming, rotation, missing fractions, and their errors."""
from __future__ import annotations

import numpy as np
import pytest

from biopose_opensim.errors import ConfigError, MarkerMismatchError
from biopose_opensim.io import MarkerData, read_trc


@pytest.fixture(scope="module")
def walk(gait2392_dir) -> MarkerData:
    return read_trc(gait2392_dir / "subject01_walk1.trc")


def test_sizes_and_index(walk):
    assert (walk.n_frames, walk.n_markers) == (151, 41)
    assert walk.marker_names[walk.index("V.Sacral")] == "V.Sacral"
    with pytest.raises(MarkerMismatchError) as info:
        walk.index("C7")
    assert "'C7'" in str(info.value) and "subject01_walk1.trc" in str(info.value)


def test_select_keeps_order_and_names_all_missing(walk):
    sub = walk.select(["L.ASIS", "R.ASIS"])
    assert sub.marker_names == ("L.ASIS", "R.ASIS")
    np.testing.assert_array_equal(sub.positions[:, 0], walk.positions[:, walk.index("L.ASIS")])
    with pytest.raises(MarkerMismatchError) as info:
        walk.select(["R.ASIS", "C7", "T10"])
    assert "C7" in str(info.value) and "T10" in str(info.value) and "2 marker(s)" in str(info.value)


def test_window(walk):
    w = walk.window(1.0, 1.5)
    assert w.times[0] == pytest.approx(1.0) and w.times[-1] == pytest.approx(1.5)
    assert w.n_frames == 31 and w.frame_numbers[0] == walk.frame_numbers[60]
    with pytest.raises(ConfigError, match=r"no frame between 7 s and 8 s in .*subject01_walk1.trc \(trial covers 0-2.5 s\)"):
        walk.window(7.0, 8.0)
    with pytest.raises(ConfigError, match="before its start"):
        walk.window(1.0, 0.5)


def test_rename(walk):
    r = walk.rename({"R.ASIS": "RASI", "not.there": "x"})
    assert r.marker_names[0] == "RASI" and r.marker_names[1:] == walk.marker_names[1:]
    with pytest.raises(MarkerMismatchError, match="'L.ASIS'"):
        walk.rename({"R.ASIS": "L.ASIS"})


def test_rotated_and_with_positions(walk):
    theta = 0.3
    R = np.array([[np.cos(theta), 0, np.sin(theta)], [0, 1, 0], [-np.sin(theta), 0, np.cos(theta)]])
    rot = walk.rotated(R)
    np.testing.assert_allclose(rot.positions[5, 3], R @ walk.positions[5, 3], rtol=0, atol=1e-15)
    back = rot.rotated(R.T)
    np.testing.assert_allclose(back.positions, walk.positions, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="proper rotation"):
        walk.rotated(np.diag([1.0, 1.0, -1.0]))
    with pytest.raises(ValueError, match="shape"):
        walk.with_positions(walk.positions[:, :3])


def test_missing_fraction_and_duplicates():
    pos = np.zeros((4, 2, 3))
    pos[1:3, 1] = np.nan
    data = MarkerData(("A", "B"), pos, np.arange(4) / 10.0, 10.0, np.arange(4))
    assert data.missing_fraction() == {"A": 0.0, "B": 0.5}
    with pytest.raises(MarkerMismatchError, match="'A' appears twice"):
        MarkerData(("A", "A"), pos, np.arange(4) / 10.0, 10.0, np.arange(4))
