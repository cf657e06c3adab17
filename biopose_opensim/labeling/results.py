"""The types of one subject's labelling: its inputs (:class:`SubjectSpec`), the scaled subject ready for IK
(:class:`PreparedSubject`), and the outcomes (:class:`TrialResult`, :class:`SubjectResult`); and the line per trial
a batch run reports (:class:`TrialSummary`: ``label --dataset``, ``synth``, the dataset adapters).

Lengths in metres, masses in kilograms, times in seconds.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..osim.setups import Measurement
from .config import LabelConfig
from .plausibility import ScaleCheck, SpanCheck


@dataclass(frozen=True)
class SubjectSpec:
    """One subject's inputs. ``mass`` in kg and ``height`` in m override the configuration's values.

    ``static`` None: IK only on the configuration's ``model`` as given (already the subject's scaled model).
    """

    name: str
    static: Path | None
    trials: tuple[Path, ...]
    mass: float | None = None
    height: float | None = None
    sex: str | None = None


@dataclass(frozen=True)
class PreparedSubject:
    """A scaled subject ready for IK: paths and resolved settings only, so it pickles to worker processes."""

    name: str
    out_dir: Path
    #: the configuration with every resolved value filled in (model, markers, accuracy, window, mass, ...)
    config: LabelConfig
    #: the model IK runs on: ``<subject>_scaled.osim``, or with ``ik_only`` the given model where it is
    scaled_model: Path
    #: the ScaleTool setup that ran (None with ``ik_only``)
    setup_scale: Path | None
    setup_ik: Path
    scale_factors_json: Path
    #: per body: (sx, sy, sz), OpenSim ScaleTool semantics, model body order
    scale_factors: tuple[tuple[str, tuple[float, float, float]], ...]
    static_window: tuple[float, float] | None
    static_window_source: str
    mass: float | None
    height: float | None
    sex: str | None
    accuracy: float
    constraint_weight: float
    #: trial marker name -> model marker name, applied to every trial before IK
    marker_renames: tuple[tuple[str, str], ...]
    #: names of the markers IK tracks (weight > 0)
    ik_markers: tuple[str, ...]
    #: MarkerPlacer's static-fit marker RMS before moving the markers, m (None without marker placement)
    static_rms: float | None
    static_max: float | None
    static_worst: str | None
    #: (marker, error m) of the static fit before marker placement moved the markers, largest first
    static_marker_errors: tuple[tuple[str, float], ...]
    #: MarkerPlacer's static pose: (coordinate, value rad or m)
    static_pose: tuple[tuple[str, float], ...]
    measurements: tuple[Measurement, ...]
    #: measurement name -> "default", "auto" or "setup"
    measurement_sources: tuple[tuple[str, str], ...]
    model_markers: tuple[str, ...]
    total_mass: float
    notes: tuple[str, ...]
    seconds: float
    #: True: IK only on the given model (no scaling, no marker placement; scale factors reported as 1)
    ik_only: bool = False
    #: (marker, (x, y, z) m) of the model (generic, or the given model with ``ik_only``) in its default pose:
    #: the reference of the unit plausibility check of every trial
    model_marker_positions: tuple[tuple[str, tuple[float, float, float]], ...] = ()
    #: unit plausibility figures of the static trial and of the scale factors (None with ``ik_only``)
    static_span: SpanCheck | None = None
    scale_check: ScaleCheck | None = None


@dataclass(frozen=True)
class TrialResult:
    """Outcome of IK on one trial. Errors in metres; ``worst_markers`` holds (name, RMS over frames in m)."""

    name: str
    status: str  # "done" or "skipped"
    n_frames: int
    rms_error: float  # mean over frames of the per-frame marker RMS
    max_error: float  # largest marker error of any frame
    worst_markers: tuple[tuple[str, float], ...]
    ik_mot: Path
    marker_errors: Path
    labels: Path
    seconds: float
    source: Path | None = None
    #: per-frame marker RMS percentiles (5, 50, 95), m: the label noise floor
    rms_percentiles: tuple[float, float, float] = (float("nan"),) * 3
    time_range: tuple[float, float] | None = None
    gaps_filled: int = 0
    #: gaps left to OpenSim's per-frame skip: (marker, start s, end s)
    gaps_unfilled: tuple[tuple[str, float, float], ...] = ()
    unused_markers: tuple[str, ...] = ()
    #: (trial's marker span, model's span of the same markers), m: the unit plausibility figures
    marker_span: tuple[float, float] = (float("nan"),) * 2


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


@dataclass(frozen=True)
class TrialSummary:
    """One trial of a batch run (``label --dataset``, ``synth``, the dataset adapters): small and picklable.

    Attributes:
        subject, name: subject and trial names (trial name = file stem).
        file: the trial's marker file (None where the run does not record it).
        status: ``"done"`` (labelled in this run), ``"skipped"`` (finished earlier, kept) or ``"failed"``.
        reason: why it failed (``"<ExceptionType>: <message>"``), else None.
        rms_error: mean over frames of the per-frame marker RMS, m (None when failed or not recorded).
        max_error: largest marker error, m (None when failed or not recorded).
        n_frames: frames labelled (0 when failed).
        seconds: wall-clock time of the task in this run, s.
        ik_mot: the IK motion written (None when failed or not recorded).
        labels: the trial's ``labels/<trial>.npz`` (None when failed or not recorded).
        masks: the trial's ``masks/<trial>.npz`` of trusted coordinates (synthetic datasets; else None).
        rms_median: median over frames of the per-frame marker RMS, m (synthetic datasets; else None).
        masked_fraction: fraction of coordinate-frames masked out (synthetic datasets; else None).
        result: the trial's :class:`TrialResult`, for the subject's report (None when read back from a file).
    """

    subject: str
    name: str
    file: Path | None
    status: str
    reason: str | None = None
    rms_error: float | None = None
    max_error: float | None = None
    n_frames: int = 0
    seconds: float = 0.0
    ik_mot: Path | None = None
    labels: Path | None = None
    masks: Path | None = None
    rms_median: float | None = None
    masked_fraction: float | None = None
    result: TrialResult | None = None
