"""A tiny real synthetic marker dataset (2 Anny subjects, one 1 s squat at 20 Hz, real OpenSim labelling) and
its render, built once per test session."""
from __future__ import annotations

import time

import pytest


@pytest.fixture(scope="session")
def synth_source(tmp_path_factory):
    from biopose_opensim.synth.__main__ import main as synth_main

    out = tmp_path_factory.mktemp("render_source") / "synth"
    rc = synth_main(["--out", str(out), "--subjects", "2", "--seed", "3", "--activities", "squat",
                     "--duration", "1", "--fps", "20", "--workers", "1", "--no-progress"])
    assert rc == 0
    return out


@pytest.fixture(scope="session")
def rendered(synth_source, tmp_path_factory):
    """``(out, argv, rc, seconds)`` of ``python -m biopose_opensim.render`` on :func:`synth_source` (3 frames per
    trial, two worker processes)."""
    from biopose_opensim.render.__main__ import main

    out = tmp_path_factory.mktemp("render") / "images"
    argv = ["--data", str(synth_source), "--out", str(out), "--frames-per-trial", "3", "--seed", "5",
            "--workers", "2", "--no-progress"]
    start = time.perf_counter()
    rc = main(argv)
    return out, argv, rc, time.perf_counter() - start
