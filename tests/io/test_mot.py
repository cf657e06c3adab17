"""MOT/STO reading and writing, checked against OpenSim's TimeSeriesTable and Storage."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from biopose_opensim.errors import BioposeError, CoordinateMismatchError, InputFileError
from biopose_opensim.io import MotionData, read_coordinates, read_mot, write_coordinates_mot, write_mot
from biopose_opensim.osim import import_opensim

MOTIONS = [
    "gait2392_tutorial/reference/subject01_walk1_ik.mot",  # old SIMM header, repeated force labels
    "motions/normal.mot",
    "motions/crouch1.mot",  # header lines padded with tabs; nRows says 120, 119 rows follow
    "motions/crouch4.mot",
]


def opensim_table(path: Path):
    osim = import_opensim()
    table = osim.TimeSeriesTable(str(path))
    meta = {k: table.getTableMetaDataString(k) for k in table.getTableMetaDataKeys()}
    return (list(table.getColumnLabels()), np.array(table.getIndependentColumn()),
            table.getMatrix().to_numpy(), meta)


@pytest.mark.parametrize("rel", MOTIONS)
def test_read_matches_opensim(data_dir, rel):
    path = data_dir / rel
    motion = read_mot(path)
    labels, times, values, _ = opensim_table(path)
    assert list(motion.column_labels) == labels
    np.testing.assert_array_equal(motion.times, times)
    np.testing.assert_array_equal(motion.values, values)
    osim = import_opensim()
    assert motion.in_degrees == osim.Storage(str(path)).isInDegrees()


def test_reference_ik_simm_header(gait2392_dir):
    motion = read_mot(gait2392_dir / "reference/subject01_walk1_ik.mot")
    assert motion.name == "first trial"
    assert motion.in_degrees is True  # SIMM header, no inDegrees line: degrees, as OpenSim's Storage assumes
    assert motion.values.shape == (211, 164)
    assert motion.times[0] == pytest.approx(0.5) and motion.times[-1] == pytest.approx(4.0)
    assert motion.column(
        "pelvis_tilt")[0] == pytest.approx(4.83227998552137540000, abs=1e-12)
    assert motion.column("knee_angle_r").min() < -50  # knee flexion in degrees during walking
    with pytest.raises(CoordinateMismatchError, match="ground_torque_y.*2 times"):
        motion.column("ground_torque_y")
    times, q, names = read_coordinates(gait2392_dir / "reference/subject01_walk1_ik.mot")
    i = names.index("pelvis_tilt")
    assert q[0, i] == pytest.approx(np.radians(4.83227998552137540000), abs=1e-12)
    assert q[0, names.index("pelvis_tx")] == pytest.approx(0.58979038325851030000, abs=1e-12)  # metres kept
    np.testing.assert_array_equal(times, motion.times)


def test_nrows_mismatch_warns(data_dir, caplog):
    with caplog.at_level(logging.WARNING, logger="biopose_opensim.io.mot"):
        motion = read_mot(data_dir / "motions/crouch1.mot")
    assert motion.n_frames == 119
    assert "120" in caplog.text and "119" in caplog.text


@pytest.mark.parametrize("in_degrees", [True, False])
def test_write_loads_in_opensim(tmp_path, in_degrees):
    rng = np.random.default_rng(0)
    values = rng.normal(size=(25, 4))
    values[3, 2] = np.nan
    motion = MotionData(("a", "b_tx", "c", "d"), np.arange(25) / 100.0, values, in_degrees, name="trial one")
    out = write_mot(tmp_path / "m.mot", motion)
    labels, times, ovalues, meta = opensim_table(out)
    assert labels == list(motion.column_labels)
    assert meta["inDegrees"] == ("yes" if in_degrees else "no")
    np.testing.assert_allclose(times, motion.times, rtol=0, atol=1e-15)
    np.testing.assert_allclose(ovalues, values, rtol=1e-11, atol=0)  # 12 significant digits
    assert np.isnan(ovalues[3, 2])
    back = read_mot(out)
    assert back.name == "trial one" and back.in_degrees == in_degrees
    np.testing.assert_allclose(back.values, values, rtol=1e-11, atol=0)
    # OpenSim's legacy Storage reader stops at the first NaN (OpenSim 4.6), so it is checked on a NaN-free copy.
    osim = import_opensim()
    clean = write_mot(tmp_path / "clean.mot", MotionData(motion.column_labels, motion.times,
                                                         np.nan_to_num(values), in_degrees))
    storage = osim.Storage(str(clean))
    assert storage.isInDegrees() == in_degrees and storage.getSize() == 25


def test_coordinates_round_trip_radians(tmp_path):
    rng = np.random.default_rng(1)
    names = ("pelvis_tilt", "pelvis_tx", "knee_angle_r", "lumbar_bending")
    rotational = [True, False, True, True]
    q = rng.uniform(-1.5, 1.5, size=(40, 4))
    times = np.arange(40) / 60.0
    out = write_coordinates_mot(tmp_path / "q.mot", times, q, names, rotational)
    motion = read_mot(out)
    assert motion.in_degrees
    np.testing.assert_allclose(motion.column("knee_angle_r"), np.degrees(q[:, 2]), rtol=1e-11)
    np.testing.assert_allclose(motion.column("pelvis_tx"), q[:, 1], rtol=1e-11)  # translations stay metres
    # OpenSim sees degrees in the file and the inDegrees flag.
    _, _, ovalues, meta = opensim_table(out)
    assert meta["inDegrees"] == "yes"
    np.testing.assert_allclose(ovalues[:, 0], np.degrees(q[:, 0]), rtol=1e-11)
    # Back to radians, with the model's rotational map or the name heuristic.
    for mapping in (dict(zip(names, rotational)), None):
        t2, q2, n2 = read_coordinates(out, rotational=mapping)
        assert n2 == names
        np.testing.assert_allclose(q2, q, rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(t2, times, rtol=0, atol=1e-12)


def test_read_coordinates_map_overrides_name_rule(tmp_path):
    # A rotational coordinate named like a translation, and a translation named like an angle.
    times = np.arange(3) / 10.0
    q = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    out = write_coordinates_mot(tmp_path / "q.mot", times, q, ("odd_tx", "slider"), [True, False])
    _, q2, _ = read_coordinates(out, rotational={"odd_tx": True, "slider": False})
    np.testing.assert_allclose(q2, q, rtol=1e-11)


def test_radian_file_not_converted(tmp_path):
    motion = MotionData(("hip_flexion_r",), np.array([0.0, 0.1]), np.array([[0.5], [0.6]]), in_degrees=False)
    _, q, _ = read_coordinates(write_mot(tmp_path / "r.sto", motion))
    np.testing.assert_allclose(q[:, 0], [0.5, 0.6])


def test_select_and_missing_columns(data_dir):
    motion = read_mot(data_dir / "motions/normal.mot")
    sub = motion.select(["knee_angle_r", "hip_flexion_r"])
    assert sub.column_labels == ("knee_angle_r", "hip_flexion_r")
    np.testing.assert_array_equal(sub.values[:, 0], motion.column("knee_angle_r"))
    with pytest.raises(CoordinateMismatchError) as info:
        motion.select(["knee_angle_r", "elbow_flex_r", "wrist_dev_r"])
    assert "elbow_flex_r" in str(info.value) and "wrist_dev_r" in str(info.value)
    assert "normal.mot" in str(info.value)


# ---------------------------------------------------------------- bad input
def mot(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "bad.mot"
    p.write_text(body)
    return p


HEADER = "bad\nversion=1\nnRows=2\nnColumns=3\ninDegrees=yes\nendheader\ntime\ta\tb\n"


def check_error(path: Path, *fragments: str):
    with pytest.raises(InputFileError) as info:
        read_mot(path)
    msg = str(info.value)
    assert isinstance(info.value, BioposeError)
    assert str(path) in msg, msg
    for frag in fragments:
        assert frag in msg, msg


def test_missing_file(tmp_path):
    check_error(tmp_path / "none.mot", "not found")


def test_no_endheader(tmp_path):
    check_error(mot(tmp_path, "bad\nversion=1\ntime\ta\n0\t1\n"), "endheader")


def test_wrong_column_count(tmp_path):
    check_error(mot(tmp_path, HEADER + "0\t1\t2\n0.1\t1\n"), "line 9", "2 values", "3 column labels")


def test_non_numeric(tmp_path):
    check_error(mot(tmp_path, HEADER + "0\t1\t2\n0.1\t1\tx\n"), "line 9", "column 3", "'b'", "'x'")


def test_first_label_not_time(tmp_path):
    check_error(mot(tmp_path, "bad\nendheader\nframe\ta\n0\t1\n"), "line 3", "'time'")


def test_bad_in_degrees(tmp_path):
    check_error(mot(tmp_path, HEADER.replace("inDegrees=yes", "inDegrees=maybe") + "0\t1\t2\n"), "line 5", "'maybe'")


def test_time_not_increasing(tmp_path):
    check_error(mot(tmp_path, HEADER + "0.1\t1\t2\n0.05\t1\t2\n"), "line 9", "increase strictly")


def test_rotational_flags_as_mapping(tmp_path):
    q = np.array([[0.1, 0.2]])
    out = write_coordinates_mot(tmp_path / "q.mot", [0.0], q, ("a", "b_tx"), {"a": True, "b_tx": False})
    np.testing.assert_allclose(read_mot(out).values, [[np.degrees(0.1), 0.2]], rtol=1e-11)
    with pytest.raises(CoordinateMismatchError, match="b_tx"):
        write_coordinates_mot(tmp_path / "q.mot", [0.0], q, ("a", "b_tx"), {"a": True})
