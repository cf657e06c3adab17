"""The render of the tiny synthetic marker dataset ``synth_source`` (tests/conftest.py), built once per session."""
from __future__ import annotations

import time

import pytest


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
