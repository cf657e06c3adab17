"""Fixtures for virtual-marker tests: the default Anny body model (built once per session) and the shipped sets."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def anny_body():
    """The default Anny body model (first build in a fresh ANNY_CACHE_DIR takes about a minute)."""
    from biopose_opensim.bodymodels.anny import AnnyBodyModel

    return AnnyBodyModel()


@pytest.fixture(scope="session")
def anny_set():
    from biopose_opensim.markers.sets import load_marker_set

    return load_marker_set("anny_d3ke")
