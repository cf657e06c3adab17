"""Where the project's shipped data lives (models, marker sets, sample data)."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent

#: Folder of shipped OpenSim models; ``BIOPOSE_OSIM_MODELS`` overrides it.
OSIM_MODELS_DIR = Path(os.environ.get("BIOPOSE_OSIM_MODELS", PROJECT_DIR / "osim_models"))
#: Folder of shipped marker sets (OpenSim XML and virtual-marker YAML); ``BIOPOSE_MARKER_SETS`` overrides it.
MARKER_SETS_DIR = Path(os.environ.get("BIOPOSE_MARKER_SETS", PROJECT_DIR / "marker_sets"))
#: Sample data shipped inside the package.
PACKAGE_DATA_DIR = PACKAGE_DIR / "data"

DEFAULT_MODEL_NAME = "RajagopalLaiUhlrich2023.osim"


def default_model_path() -> Path:
    """Path of the default OpenSim model, ``RajagopalLaiUhlrich2023.osim``."""
    return OSIM_MODELS_DIR / DEFAULT_MODEL_NAME
