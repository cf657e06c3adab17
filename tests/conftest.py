"""Shared test fixtures: paths to the real OpenSim data shipped in ``tests/data``."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
DATA_DIR = TESTS_DIR / "data"
PROJECT_DIR = DATA_DIR.parents[1]

# Shared test helpers (``helpers`` package, ``synthetic_smpl``) are imported from ``tests/`` by every folder, so
# ``tests/`` is on the path whatever pytest's import mode or collection order.
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``tests/data``: OpenSim tutorial and Rajagopal data with their attribution (see README there)."""
    return DATA_DIR


@pytest.fixture(scope="session")
def gait2392_dir() -> Path:
    return DATA_DIR / "gait2392_tutorial"


@pytest.fixture(scope="session")
def rajagopal_walk_dir() -> Path:
    return DATA_DIR / "rajagopal_walk"


@pytest.fixture(scope="session")
def default_model() -> Path:
    return PROJECT_DIR / "osim_models" / "RajagopalLaiUhlrich2023.osim"


@pytest.fixture(scope="session")
def anny_body():
    """The default Anny body model, built once per test session (a first build in a fresh ANNY_CACHE_DIR takes
    about a minute)."""
    from biopose_opensim.bodymodels.anny import AnnyBodyModel

    return AnnyBodyModel()


@pytest.fixture(scope="session")
def anny_set():
    """The shipped D3KE virtual-marker set on Anny's topology."""
    from biopose_opensim.markers.sets import load_marker_set

    return load_marker_set("anny_d3ke")


@pytest.fixture(scope="session")
def synth_source(tmp_path_factory):
    """A tiny real synthetic marker dataset: 2 Anny subjects, one 1 s squat at 20 Hz, real OpenSim labelling."""
    from biopose_opensim.synth.__main__ import main as synth_main

    out = tmp_path_factory.mktemp("render_source") / "synth"
    rc = synth_main(["--out", str(out), "--subjects", "2", "--seed", "3", "--activities", "squat",
                     "--duration", "1", "--fps", "20", "--workers", "1", "--no-progress"])
    assert rc == 0
    return out
