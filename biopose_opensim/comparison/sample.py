"""The shipped virtual-marker sample (``biopose_opensim/data/neurik_sample``): one synthetic subject of the
NeurIK dataset's test split (static trial + a walk), used by ``compare --sample``."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputFileError
from ..paths import PACKAGE_DATA_DIR

SAMPLE_DIR = PACKAGE_DATA_DIR / "neurik_sample"


def sample_inputs(root: Path = SAMPLE_DIR) -> tuple[Path, Path, float | None, float | None]:
    """(motion trial, static trial, mass kg, height m) of the sample.

    Raises:
        InputFileError: the sample files are missing (a broken installation).
    """
    info_file = Path(root) / "subject.json"
    if not info_file.is_file():
        raise InputFileError(info_file, "sample description missing (broken installation)")
    info = json.loads(info_file.read_text())
    trial, static = Path(root) / info["trial"], Path(root) / info["static"]
    for p in (trial, static):
        if not p.is_file():
            raise InputFileError(p, "sample trial missing (broken installation)")
    return trial, static, info.get("mass"), info.get("height")
