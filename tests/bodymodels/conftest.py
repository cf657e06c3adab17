"""Fixtures for body-model tests: synthetic SMPL model folders (the Anny model is in ``tests/conftest.py``)."""
from __future__ import annotations

import pytest

from synthetic_smpl import write_smpl_model


@pytest.fixture(scope="session")
def smpl_dir(tmp_path_factory):
    """A folder with a tiny synthetic SMPL (300 vertices) and a 6890-vertex synthetic SMPL-H model."""
    root = tmp_path_factory.mktemp("smpl_models")
    write_smpl_model(root / "SMPL_NEUTRAL.pkl", n_vertices=300, model_type="smpl")
    write_smpl_model(root / "smplh" / "SMPLH_NEUTRAL.npz", n_vertices=6890, model_type="smplh", seed=1)
    write_smpl_model(root / "smpl" / "SMPL_MALE.pkl", n_vertices=6890, model_type="smpl", seed=2)
    return root
