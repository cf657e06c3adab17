"""Fixtures for the adapter tests: synthetic SMPL-family model files and marker sets written to disk (the AMASS
sequence writer is in `tests/helpers/smpl_sequences.py`)."""
from __future__ import annotations

from pathlib import Path

import pytest
from synthetic_smpl import landmark_marker_set, write_synthetic_model


@pytest.fixture(scope="session")
def smpl_models(tmp_path_factory) -> Path:
    """A folder with synthetic SMPLH_*.npz and SMPLX_*.npz files (female, male, neutral)."""
    d = tmp_path_factory.mktemp("smpl_models")
    write_synthetic_model(d, "smplh")
    write_synthetic_model(d, "smplx")
    return d


@pytest.fixture(scope="session")
def smpl_marker_sets(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("marker_sets")
    return {"smplh": landmark_marker_set(d / "synthetic_smplh.yaml", "smplh"),
            "smplx": landmark_marker_set(d / "synthetic_smplx.yaml", "smplx")}
