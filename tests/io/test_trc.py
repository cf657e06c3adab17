"""TRC reading and writing, checked against OpenSim's own TRC reader on the shipped tutorial trials."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from biopose_opensim.errors import BioposeError, InputFileError
from biopose_opensim.io import MarkerData, read_trc, write_trc
from biopose_opensim.osim import import_opensim

TRIALS = [
    "gait2392_tutorial/subject01_static.trc",
    "gait2392_tutorial/subject01_walk1.trc",
    "rajagopal_walk/ExpData/motion_capture_walk.trc",  # header values separated by extra tabs and spaces
    "rajagopal_walk/ExpData/static_walk_1.trc",
    "rajagopal_walk/ExpData/static_walk_2.trc",
]
#: Round-trip tolerance: values are written with a resolution of 1e-9 m in every unit (round-off <= 5e-10 m).
ROUND_TRIP_ATOL = 1e-9


def opensim_markers(path: Path) -> tuple[list[str], np.ndarray, np.ndarray, dict[str, str]]:
    """Names, times (T,), positions (T, M, 3) in the file's units, and metadata as OpenSim reads them."""
    osim = import_opensim()
    table = osim.TimeSeriesTableVec3(str(path))
    names = list(table.getColumnLabels())
    times = np.array(table.getIndependentColumn())
    pos = np.empty((table.getNumRows(), len(names), 3))
    for r in range(table.getNumRows()):
        row = table.getRowAtIndex(r)
        for m in range(len(names)):
            v = row[m]
            pos[r, m] = (v.get(0), v.get(1), v.get(2))
    meta = {k: table.getTableMetaDataString(k) for k in table.getTableMetaDataKeys()}
    return names, times, pos, meta


def trc_text(names_line: str, rows: list[str], header_values: str = "100\t100\t2\t2\tmm\t100\t1\t2",
             xyz_line: str = "\t\tX1\tY1\tZ1\tX2\tY2\tZ2") -> str:
    return "\n".join([
        "PathFileType\t4\t(X/Y/Z)\tbad.trc",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
        header_values,
        names_line,
        xyz_line,
        "",
        *rows,
    ]) + "\n"


GOOD_ROWS = ["1\t0.00\t1\t2\t3\t4\t5\t6", "2\t0.01\t7\t8\t9\t10\t11\t12"]
NAMES = "Frame#\tTime\tA\t\t\tB\t\t"


def write(tmp_path: Path, text: str, name: str = "bad.trc") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("rel", TRIALS)
def test_read_matches_opensim(data_dir, rel):
    """Our reader and OpenSim's TRCFileAdapter agree on names, times and values (exactly, after unit scaling)."""
    path = data_dir / rel
    data = read_trc(path)
    names, times, pos, meta = opensim_markers(path)
    assert data.marker_names == tuple(names)
    assert data.source_units == "mm" and meta["Units"].strip() == "mm"
    assert data.rate == pytest.approx(float(meta["DataRate"]))
    np.testing.assert_array_equal(data.times, times)
    np.testing.assert_allclose(data.positions, pos * 1e-3, rtol=0, atol=1e-15)
    assert data.frame_numbers[0] == 1 and np.all(np.diff(data.frame_numbers) == 1)
    assert data.positions.dtype == np.float64 and data.positions.shape == (len(times), len(names), 3)


@pytest.mark.parametrize("rel", TRIALS[1:3])
@pytest.mark.parametrize("units", ["mm", "cm", "m"])
def test_round_trip_and_opensim_loads_ours(data_dir, tmp_path, rel, units):
    data = read_trc(data_dir / rel)
    out = write_trc(tmp_path / "out.trc", data, units=units)
    back = read_trc(out)
    assert back.marker_names == data.marker_names
    assert back.source_units == units
    assert back.rate == data.rate
    np.testing.assert_array_equal(back.frame_numbers, data.frame_numbers)
    np.testing.assert_allclose(back.times, data.times, rtol=0, atol=1e-9)
    np.testing.assert_allclose(back.positions, data.positions, rtol=0, atol=ROUND_TRIP_ATOL)
    # OpenSim reads our file with the same names and values (in the units we wrote).
    names, times, pos, meta = opensim_markers(out)
    assert names == list(data.marker_names)
    assert meta["Units"] == units
    assert float(meta["DataRate"]) == data.rate
    scale = {"mm": 1e3, "cm": 1e2, "m": 1.0}[units]
    np.testing.assert_allclose(pos / scale, data.positions, rtol=0, atol=ROUND_TRIP_ATOL)
    np.testing.assert_allclose(times, data.times, rtol=0, atol=1e-9)
    # MarkersReference (what the IK tool uses) converts our units to metres.
    osim = import_opensim()
    ref = osim.MarkersReference(str(out), osim.SetMarkerWeights())
    table = ref.getMarkerTable()  # a view into `ref`, which must stay alive while it is used
    for r in (0, data.n_frames // 2, data.n_frames - 1):
        v = table.getRowAtIndex(r)[3]
        np.testing.assert_allclose([v.get(0), v.get(1), v.get(2)], data.positions[r, 3], rtol=0, atol=ROUND_TRIP_ATOL)


def test_nan_written_and_read_as_missing_by_opensim(data_dir, tmp_path):
    """Missing markers are written as NaN, which TRCFileAdapter and MarkersReference read as missing."""
    data = read_trc(data_dir / "gait2392_tutorial/subject01_walk1.trc").select(["R.ASIS", "L.ASIS", "V.Sacral"])
    pos = data.positions.copy()
    pos[10:20, 1] = np.nan
    pos[0, 2] = np.nan
    gappy = data.with_positions(pos)
    out = write_trc(tmp_path / "gappy.trc", gappy)
    assert "NaN" in out.read_text()
    back = read_trc(out)
    np.testing.assert_array_equal(np.isnan(back.positions), np.isnan(pos))
    _, _, opos, _ = opensim_markers(out)
    np.testing.assert_array_equal(np.isnan(opos), np.isnan(pos))
    osim = import_opensim()
    ref = osim.MarkersReference(str(out), osim.SetMarkerWeights())
    names = ref.getNames()
    assert [names.getElt(i) for i in range(names.size())] == list(data.marker_names)
    assert ref.getNumFrames() == data.n_frames
    table = ref.getMarkerTable()  # MarkersReference converts to metres
    assert np.isnan(table.getRowAtIndex(15)[1].get(0))
    assert table.getRowAtIndex(15)[0].get(1) == pytest.approx(pos[15, 0, 1], abs=1e-9)


def test_blank_and_nan_fields_and_short_rows(tmp_path):
    rows = [
        "1\t0.00\t1\t2\t3\t\t\t",      # B blank (empty fields between tabs)
        "2\t0.01\tNaN\tnan\tNaN\t10\t11\t12",
        "3\t0.02\t7\t8\t9",            # short row: B missing
        "4\t0.03\t7\t8\t9\t10\t11\t12\t\t",  # trailing tabs are harmless
    ]
    data = read_trc(write(tmp_path, trc_text(NAMES, rows, "100\t100\t4\t2\tmm\t100\t1\t4")))
    assert data.n_frames == 4
    miss = np.isnan(data.positions).any(axis=2)
    np.testing.assert_array_equal(miss, [[False, True], [True, False], [False, True], [False, False]])
    np.testing.assert_allclose(data.positions[3, 1], [0.010, 0.011, 0.012])


@pytest.mark.parametrize("units,scale", [("mm", 1e-3), ("cm", 1e-2), ("m", 1.0), ("MM", 1e-3), ("Meters", 1.0),
                                         ("millimetres", 1e-3)])
def test_units_converted_to_metres(tmp_path, units, scale):
    data = read_trc(write(tmp_path, trc_text(NAMES, GOOD_ROWS, f"100\t100\t2\t2\t{units}\t100\t1\t2")))
    np.testing.assert_allclose(data.positions[1, 1], np.array([10, 11, 12]) * scale)
    assert data.source_units in ("mm", "cm", "m")


def test_count_mismatches_warn_and_trust_data(tmp_path, caplog):
    text = trc_text(NAMES, GOOD_ROWS, "100\t100\t5\t3\tmm\t100\t1\t5")
    with caplog.at_level(logging.WARNING, logger="biopose_opensim.io.trc"):
        data = read_trc(write(tmp_path, text))
    assert data.n_frames == 2 and data.n_markers == 2
    assert "NumFrames=5" in caplog.text and "NumMarkers=3" in caplog.text


def test_names_separated_by_single_tabs(tmp_path):
    data = read_trc(write(tmp_path, trc_text("Frame#\tTime\tA\tB", GOOD_ROWS)))
    assert data.marker_names == ("A", "B")


# ---------------------------------------------------------------- bad input
def check_error(path: Path, exc_type, *fragments: str):
    with pytest.raises(exc_type) as info:
        read_trc(path)
    msg = str(info.value)
    assert isinstance(info.value, BioposeError)
    assert str(path) in msg, msg
    for frag in fragments:
        assert frag in msg, msg
    return msg


def test_missing_file(tmp_path):
    check_error(tmp_path / "nope.trc", InputFileError, "not found")


def test_folder_instead_of_file(tmp_path):
    check_error(tmp_path, InputFileError, "folder")


def test_too_many_columns(tmp_path):
    rows = [GOOD_ROWS[0], "2\t0.01\t7\t8\t9\t10\t11\t12\t13"]
    check_error(write(tmp_path, trc_text(NAMES, rows)), InputFileError, "line 8", "9 columns", "at most 8")


def test_non_numeric_value(tmp_path):
    rows = [GOOD_ROWS[0], "2\t0.01\t7\t8\t9\t10\tabc\t12"]
    check_error(write(tmp_path, trc_text(NAMES, rows)), InputFileError, "line 8", "column 7", "'B'", "Y", "'abc'")


def test_non_numeric_time(tmp_path):
    rows = [GOOD_ROWS[0], "2\tlater\t7\t8\t9\t10\t11\t12"]
    check_error(write(tmp_path, trc_text(NAMES, rows)), InputFileError, "line 8", "Time", "'later'")


@pytest.mark.parametrize("drop,expected", [
    (0, "line 1"),   # no PathFileType line
    (1, "line 2"),   # no DataRate... keys line
])
def test_missing_header_line(tmp_path, drop, expected):
    lines = trc_text(NAMES, GOOD_ROWS).split("\n")
    del lines[drop]
    msg = check_error(write(tmp_path, "\n".join(lines)), InputFileError, expected)
    assert ("PathFileType" in msg) or ("DataRate" in msg)


def test_missing_marker_name_line(tmp_path):
    lines = trc_text(NAMES, GOOD_ROWS).split("\n")
    del lines[3]
    check_error(write(tmp_path, "\n".join(lines)), InputFileError, "line 4", "Frame#")


def test_missing_xyz_line(tmp_path):
    check_error(write(tmp_path, trc_text(NAMES, GOOD_ROWS, xyz_line="")), InputFileError, "line 5", "X1 Y1 Z1")


def test_unknown_units(tmp_path):
    text = trc_text(NAMES, GOOD_ROWS, "100\t100\t2\t2\tinches\t100\t1\t2")
    check_error(write(tmp_path, text), InputFileError, "line 3", "'inches'", "mm, cm or m")


def test_bad_data_rate(tmp_path):
    text = trc_text(NAMES, GOOD_ROWS, "fast\t100\t2\t2\tmm\t100\t1\t2")
    check_error(write(tmp_path, text), InputFileError, "line 3", "DataRate", "'fast'")


def test_duplicate_marker_names(tmp_path):
    check_error(write(tmp_path, trc_text("Frame#\tTime\tA\t\t\tA\t\t", GOOD_ROWS)), InputFileError,
                "line 4", "'A'", "twice")


def test_blank_marker_name(tmp_path):
    check_error(write(tmp_path, trc_text("Frame#\tTime\t\t\t\tB\t\t", GOOD_ROWS)), InputFileError,
                "line 4", "marker 1", "no name")


def test_names_and_xyz_disagree(tmp_path):
    check_error(write(tmp_path, trc_text("Frame#\tTime\tA\t\t", GOOD_ROWS)), InputFileError,
                "line 4", "1 marker names", "2 X/Y/Z")


def test_no_data_rows(tmp_path):
    check_error(write(tmp_path, trc_text(NAMES, [])), InputFileError, "no data rows")


def test_empty_file(tmp_path):
    check_error(write(tmp_path, "\n\n"), InputFileError, "empty")


# ---------------------------------------------------------------- writing
def test_write_is_atomic_and_keeps_old_file_on_error(tmp_path):
    data = MarkerData(("A",), np.zeros((2, 1, 3)), np.array([0.0, 0.01]), 100.0, np.array([1, 2]))
    out = write_trc(tmp_path / "a.trc", data)
    before = out.read_text()
    bad = MarkerData(("A\tB",), np.zeros((2, 1, 3)), np.array([0.0, 0.01]), 100.0, np.array([1, 2]))
    with pytest.raises(ValueError, match="cannot be written"):
        write_trc(out, bad)
    assert out.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.trc"]  # no temporary left behind


def test_write_rejects_unknown_units(tmp_path):
    data = MarkerData(("A",), np.zeros((1, 1, 3)), np.array([0.0]), 100.0, np.array([1]))
    with pytest.raises(ValueError, match="mm, cm or m"):
        write_trc(tmp_path / "a.trc", data, units="ft")


def test_time_not_increasing(tmp_path):
    rows = ["1\t0.01\t1\t2\t3\t4\t5\t6", "2\t0.01\t7\t8\t9\t10\t11\t12"]
    check_error(write(tmp_path, trc_text(NAMES, rows)), InputFileError, "line 8", "increase strictly")


# ---------------------------------------------------------------- layout variants
def test_crlf_no_blank_line_and_space_separated_rows(tmp_path):
    text = trc_text(NAMES, ["1 0.00 1 2 3 4 5 6", "2 0.01 7 8 9 10 11 12"]).replace("\n\n", "\n")
    path = tmp_path / "crlf.trc"
    path.write_bytes(text.replace("\n", "\r\n").encode())
    data = read_trc(path)
    assert data.marker_names == ("A", "B") and data.n_frames == 2
    np.testing.assert_allclose(data.positions[1, 1], [0.010, 0.011, 0.012])


def test_reads_file_written_by_opensim(tmp_path):
    """OpenSim's own TRC writer (lower-case nan, OrigDataStartFrame 0, trailing tabs) reads back unchanged."""
    osim = import_opensim()
    table = osim.TimeSeriesTableVec3()
    table.setColumnLabels(["A", "B"])
    rows = [[(1.0, 2.0, 3.0), (np.nan, np.nan, np.nan)], [(4.0, 5.0, 6.0), (7.0, 8.0, 9.0)]]
    for t, row in zip((0.0, 0.01), rows):
        vec = osim.RowVectorVec3(2)
        for k, v in enumerate(row):
            vec[k] = osim.Vec3(*v)
        table.appendRow(t, vec)
    table.addTableMetaDataString("DataRate", "100")
    table.addTableMetaDataString("Units", "mm")
    osim.TRCFileAdapter().write(table, str(tmp_path / "os.trc"))
    data = read_trc(tmp_path / "os.trc")
    assert data.marker_names == ("A", "B") and data.rate == 100.0
    np.testing.assert_allclose(data.positions[0, 0], [1e-3, 2e-3, 3e-3])
    assert np.isnan(data.positions[0, 1]).all()
    np.testing.assert_allclose(data.positions[1, 1], [7e-3, 8e-3, 9e-3])


def test_write_rejects_inf_and_unsorted_times(tmp_path):
    pos = np.zeros((2, 1, 3))
    pos[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="finite"):
        write_trc(tmp_path / "a.trc", MarkerData(("A",), pos, np.array([0.0, 0.01]), 100.0, np.array([1, 2])))
    with pytest.raises(ValueError, match="increase"):
        write_trc(tmp_path / "a.trc", MarkerData(("A",), np.zeros((2, 1, 3)), np.array([0.01, 0.0]), 100.0,
                                                 np.array([1, 2])))
    assert not (tmp_path / "a.trc").exists()


def test_infinite_value(tmp_path):
    rows = [GOOD_ROWS[0], "2\t0.01\t7\t8\t9\t10\t11\tinf"]
    check_error(write(tmp_path, trc_text(NAMES, rows)), InputFileError, "line 8", "column 8", "'B'", "Z", "finite")
