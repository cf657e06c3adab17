"""``labels/<trial>.npz`` through :class:`TrialLabels`: a save/load round trip keeps every array and name, the
file keys are the documented ones, and a file that is not a labels file is refused naming the file."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from biopose_opensim.datasets import TrialLabels, read_labels
from biopose_opensim.errors import InputFileError, OutputExistsError
from biopose_opensim.labeling.outputs import claim_output_dir


def _labels(ik_only: bool = False) -> TrialLabels:
    rng = np.random.default_rng(0)
    T, M, K, C, B = 5, 4, 3, 2, 2
    errors = rng.uniform(0, 0.01, (T, K))
    errors[1, 2] = np.nan
    return TrialLabels(
        times=np.linspace(0.0, 0.04, T), rate=100.0, marker_names=("RASI", "LASI", "RKNE", "EXTRA"),
        markers=rng.normal(size=(T, M, 3)), tracked_markers=("RASI", "LASI", "RKNE"),
        model_markers=rng.normal(size=(T, K, 3)), marker_errors=errors, coordinate_names=("pelvis_tx", "knee_r"),
        rotational=np.array([False, True]), q=rng.normal(size=(T, C)), body_names=("pelvis", "femur_r"),
        s=np.ones((B, 3)) if ik_only else rng.uniform(0.9, 1.1, (B, 3)), subject="s01", trial="walk",
        mass=float("nan"), height=1.78, accuracy=1e-6, gaps={"filled": {"RASI": [[0.01, 0.02]]}, "unfilled": {}},
        unused_markers=(), time_range=(0.0, 0.04), ik_only=ik_only, marker_span=(1.2, 1.25))


@pytest.mark.parametrize("ik_only", [False, True])
def test_round_trip(tmp_path, ik_only):
    labels = _labels(ik_only)
    path = labels.save(tmp_path / "labels" / "walk.npz")
    back = read_labels(path)
    for f in dataclasses.fields(TrialLabels):
        a, b = getattr(labels, f.name), getattr(back, f.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype, f.name
        elif isinstance(a, float) and np.isnan(a):
            assert np.isnan(b), f.name
        else:
            assert a == b, f.name
    assert back["ik_only"] is ik_only and back["coordinate_names"].index("knee_r") == 1
    with np.load(path) as z:  # the documented keys, in field order; names as unicode arrays
        assert z.files == [f.name for f in dataclasses.fields(TrialLabels)]
        assert z["marker_names"].dtype.kind == "U" and z["unused_markers"].shape == (0,)
    assert not list(path.parent.glob(".*"))  # written atomically: no temporary file left


def test_not_a_labels_file(tmp_path):
    other = tmp_path / "masks.npz"
    np.savez(other, q_mask=np.ones((2, 2), bool))
    with pytest.raises(InputFileError, match=r"masks\.npz.*not a labels file: no times"):
        TrialLabels.load(other)
    with pytest.raises(InputFileError, match=r"missing\.npz.*labels file not found"):
        TrialLabels.load(tmp_path / "missing.npz")
    with pytest.raises(KeyError):
        _labels()["no_such_key"]


def test_output_folder_rule(tmp_path):
    assert claim_output_dir(tmp_path, False, None) is False  # nothing there: start afresh
    assert claim_output_dir(tmp_path, True, "already holds a dataset (manifest.json)") is False  # overwrite
    assert claim_output_dir(tmp_path, False, "holds an unfinished run", resumable=True) is True
    with pytest.raises(OutputExistsError, match="already holds a dataset .manifest.json.; nothing was changed. "
                                                "Pass --overwrite to rebuild it"):
        claim_output_dir(tmp_path, False, "already holds a dataset (manifest.json)", "rebuild it")
