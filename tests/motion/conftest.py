"""Fixtures for retargeting tests: the default Anny model's calibration on the default OpenSim model (the model
and the shipped D3KE set are in ``tests/conftest.py``)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def calibration(anny_body):
    from biopose_opensim.motion import calibrate
    from biopose_opensim.paths import default_model_path

    return calibrate(anny_body, default_model_path())
