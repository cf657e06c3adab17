"""Shared test fixtures: paths to the real OpenSim data shipped in ``tests/data``."""
from __future__ import annotations

from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parent / "data"
PROJECT_DIR = DATA_DIR.parents[1]


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
