"""Fixtures for retargeting tests: the default Anny model (built once per session), its calibration on the
default OpenSim model, and the shipped D3KE marker set."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def anny_body():
    """The default Anny body model (first build in a fresh ANNY_CACHE_DIR takes about a minute)."""
    from biopose_opensim.bodymodels.anny import AnnyBodyModel

    return AnnyBodyModel()


@pytest.fixture(scope="session")
def calibration(anny_body):
    from biopose_opensim.motion import calibrate
    from biopose_opensim.paths import default_model_path

    return calibrate(anny_body, default_model_path())


@pytest.fixture(scope="session")
def anny_set():
    from biopose_opensim.markers.sets import load_marker_set

    return load_marker_set("anny_d3ke")
