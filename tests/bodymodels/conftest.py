"""Fixtures for body-model tests: the Anny model (built once per session) and synthetic SMPL model folders."""
from __future__ import annotations

import pytest

from synthetic_smpl import write_smpl_model


@pytest.fixture(scope="session")
def anny_body():
    """The default Anny body model (first build in a fresh ANNY_CACHE_DIR takes about a minute)."""
    from biopose_opensim.bodymodels.anny import AnnyBodyModel

    return AnnyBodyModel()


@pytest.fixture(scope="session")
def smpl_dir(tmp_path_factory):
    """A folder with a tiny synthetic SMPL (300 vertices) and a 6890-vertex synthetic SMPL-H model."""
    root = tmp_path_factory.mktemp("smpl_models")
    write_smpl_model(root / "SMPL_NEUTRAL.pkl", n_vertices=300, model_type="smpl")
    write_smpl_model(root / "smplh" / "SMPLH_NEUTRAL.npz", n_vertices=6890, model_type="smplh", seed=1)
    write_smpl_model(root / "smpl" / "SMPL_MALE.pkl", n_vertices=6890, model_type="smpl", seed=2)
    return root
