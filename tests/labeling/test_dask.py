"""Dask back-end on a real ``distributed.LocalCluster`` (2 worker processes, 1 thread each): the runner's failure
capture, and a 2-subject dataset labelled on the cluster matching a serial run."""
from __future__ import annotations

import math
import operator
from pathlib import Path

import distributed  # a required dependency (setup.cfg: dask[distributed]): missing, the module fails, never skips
import numpy as np
import pytest

from biopose_opensim.distributed import Task, run_tasks
from biopose_opensim.io import read_mot
from biopose_opensim.labeling.config import LabelConfig
from biopose_opensim.labeling.dataset import label_dataset

#: IK coordinates of the cluster run and of the serial run may differ by at most this, in the .mot file's units
#: (degrees for rotations, metres for translations): it is the same computation in other processes.
Q_TOL = 1e-9


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  silence_logs=40) as c:
        yield c


def _dataset(root: Path, gait2392_dir: Path) -> Path:
    from test_dataset import build_dataset  # tests/labeling is on sys.path under pytest's default import mode

    return build_dataset(root, gait2392_dir)


def test_runner_on_dask_captures_failures(cluster):
    tasks = [Task("sqrt", math.sqrt, (16.0,)), Task("domain", math.sqrt, (-1.0,)),
             Task("div", operator.truediv, (1.0, 0.0)), Task("mul", operator.mul, (6, 7))]
    result = run_tasks(tasks, scheduler=cluster, progress=False)
    assert result.backend == "dask" and result.workers == 2
    by_key = result.by_key()
    assert by_key["sqrt"].value == 4.0 and by_key["mul"].value == 42
    assert by_key["domain"].error.type == "ValueError" and "math domain error" in by_key["domain"].error.message
    assert by_key["div"].error.type == "ZeroDivisionError"
    assert result.n_failed == 2


def test_dask_dataset_run_matches_serial_run(cluster, gait2392_dir, tmp_path):
    root = _dataset(tmp_path / "root", gait2392_dir)
    config = LabelConfig(model=gait2392_dir / "gait2392_simbody.osim",
                         scale_setup=gait2392_dir / "subject01_Setup_Scale.xml",
                         ik_setup=gait2392_dir / "subject01_Setup_IK.xml", plots=False)
    serial = label_dataset(root, tmp_path / "serial", config, workers=1, progress=False)
    with distributed.Client(cluster) as client:
        on_dask = label_dataset(root, tmp_path / "dask", config, scheduler=client, progress=False)
    assert serial.backend == "serial" and on_dask.backend == "dask" and on_dask.workers == 2
    assert serial.exit_code == on_dask.exit_code == 0
    assert serial.counts() == on_dask.counts() == {"subjects": {"done": 2, "skipped": 0, "failed": 0},
                                                   "trials": {"done": 3, "skipped": 0, "failed": 0}}

    def files(out: Path) -> set[str]:
        return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != "label.log"}

    assert files(tmp_path / "serial") == files(tmp_path / "dask")
    mots = sorted(p.relative_to(tmp_path / "serial") for p in (tmp_path / "serial").rglob("*_ik.mot"))
    assert len(mots) == 3
    worst = 0.0
    for rel in mots:
        a, b = read_mot(tmp_path / "serial" / rel), read_mot(tmp_path / "dask" / rel)
        assert a.column_labels == b.column_labels
        np.testing.assert_array_equal(a.times, b.times)
        worst = max(worst, float(np.max(np.abs(a.values - b.values))))
    assert worst <= Q_TOL, f"largest difference {worst:.3g} between the Dask and the serial IK"
    for s_sub, d_sub in zip(serial.subjects, on_dask.subjects):
        for s_t, d_t in zip(s_sub.trials, d_sub.trials):
            assert s_t.rms_error == pytest.approx(d_t.rms_error, rel=1e-9, abs=1e-12)
