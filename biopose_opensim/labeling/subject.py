"""Label one subject: OpenSim ScaleTool on the static trial, then InverseKinematicsTool per trial.

The work is split in three steps so that a dataset runner can spread trials over processes or a Dask cluster:
:func:`prepare_subject` (scale, once per subject), :func:`label_trial` (IK, once per trial, independent),
:func:`finish_subject` (report). :func:`label_subject` runs the three serially.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .config import LabelConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubjectSpec:
    """One subject's inputs. ``mass`` in kg and ``height`` in m override the configuration's values."""

    name: str
    static: Path
    trials: tuple[Path, ...]
    mass: float | None = None
    height: float | None = None
    sex: str | None = None


@dataclass(frozen=True)
class PreparedSubject:
    """A scaled subject ready for IK: paths and resolved settings only, so it pickles to worker processes."""

    name: str
    out_dir: Path
    config: LabelConfig
    scaled_model: Path
    setup_scale: Path
    setup_ik: Path
    scale_factors_json: Path
    #: per body: (sx, sy, sz), OpenSim ScaleTool semantics
    scale_factors: tuple[tuple[str, tuple[float, float, float]], ...]
    static_window: tuple[float, float]
    mass: float | None
    height: float | None
    sex: str | None
    accuracy: float
    constraint_weight: float
    #: trial marker name -> model marker name, applied to every trial before IK
    marker_renames: tuple[tuple[str, str], ...]
    #: names of the markers IK tracks (weight > 0)
    ik_markers: tuple[str, ...]
    #: static-trial marker RMS after marker placement, m (None when marker placement was not applied)
    static_rms: float | None
    seconds: float


@dataclass(frozen=True)
class TrialResult:
    """Outcome of IK on one trial. Errors in metres; ``worst_markers`` holds (name, RMS over frames in m)."""

    name: str
    status: str  # "done" or "skipped"
    n_frames: int
    rms_error: float
    max_error: float
    worst_markers: tuple[tuple[str, float], ...]
    ik_mot: Path
    marker_errors: Path
    labels: Path
    seconds: float


@dataclass(frozen=True)
class SubjectResult:
    """Outcome of labelling one subject."""

    name: str
    out_dir: Path
    scaled_model: Path
    scale_factors_json: Path
    trials: tuple[TrialResult, ...]
    report: Path
    config_toml: Path
    seconds: float


def prepare_subject(
    spec: SubjectSpec, config: LabelConfig, out_dir: Path, overwrite: bool = False
) -> PreparedSubject:
    """Resolve the setups/protocol, write the setup XMLs used, scale the model (``<subject>_scaled.osim``).

    Raises:
        OutputExistsError: ``out_dir`` holds results and ``overwrite`` is False.
        BioposeError: bad inputs (missing files, malformed trials, marker names the model lacks, ...).
    """
    raise NotImplementedError


def label_trial(prepared: PreparedSubject, trial: Path, overwrite: bool = False) -> TrialResult:
    """IK for one trial: ``<trial>_ik.mot``, ``<trial>_marker_errors.sto``, ``labels/<trial>.npz``.

    Idempotent: a finished trial (outputs present and newer than its inputs) is skipped unless ``overwrite``.
    """
    raise NotImplementedError


def finish_subject(prepared: PreparedSubject, results: Sequence[TrialResult]) -> SubjectResult:
    """Write ``report.md`` with PNG plots and the resolved ``label_config.toml``."""
    raise NotImplementedError


def label_subject(
    spec: SubjectSpec, config: LabelConfig, out_dir: Path, overwrite: bool = False, progress: bool = True
) -> SubjectResult:
    """Scale, IK every trial, report: :func:`prepare_subject`, :func:`label_trial` per trial, :func:`finish_subject`."""
    raise NotImplementedError
