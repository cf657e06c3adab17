"""The shipped sample subject (``biopose_opensim/data/sample``): Rajagopal et al. (2016) walking data.

The sample folder is a dataset in the "folders" layout holding one subject, so it is read exactly as
``--dataset`` reads subjects (``static.trc``, ``trials/*.trc``, ``subject.toml``, ``markers.xml``). The walk is
paired with the static trial of its own capture session (the data set's ``static_walk_2.trc``); why, and the fit
this gives, in ``biopose_opensim/data/sample/README.md`` and ``docs/label.md`` ("The sample subject").
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputFileError
from ..paths import PACKAGE_DATA_DIR
from .layout import discover
from .results import SubjectSpec

#: Dataset root of the shipped sample.
SAMPLE_ROOT = PACKAGE_DATA_DIR / "sample"


def sample_subject(root: Path = SAMPLE_ROOT) -> tuple[SubjectSpec, dict[str, Any]]:
    """The sample's :class:`SubjectSpec` and its label settings (e.g. ``markers``) from ``subject.toml``.

    Raises:
        InputFileError: the sample data are missing or incomplete (a broken installation).
    """
    found = discover(Path(root), "folders")
    if found.invalid or len(found.subjects) != 1:
        reasons = "; ".join(f"{b.name}: {b.reason}" for b in found.invalid)
        raise InputFileError(root, f"expected exactly one valid sample subject{': ' + reasons if reasons else ''}")
    e = found.subjects[0]
    return SubjectSpec(e.name, e.static, e.trials, e.mass, e.height, e.sex), dict(e.overrides)
