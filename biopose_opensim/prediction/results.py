"""What NeurIK prediction returns: one trial's prediction with OpenSim's check of it, and a subject's result."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .inputs import TrialInput
from .validate import MarkerErrors


@dataclass(frozen=True, eq=False)
class TrialPrediction:
    """One trial's prediction and OpenSim's check of it.

    Attributes:
        trial: the input. q: (F, C) rad/m, the network's independent coordinates (``fk.coordinate_names``).
        q_full: (F, A) rad/m, every model coordinate (``fk.all_coordinate_names``) with the subject's scales.
        s: (F, NB, 3) per-frame predicted scales. solve_seconds: the network's wall time.
        errors: OpenSim's marker errors on the scaled model. fk_opensim_max_m: the largest distance between the
            markers OpenSim placed and the FK layer's markers for the same q and subject scales.
    """

    trial: TrialInput
    q: np.ndarray
    q_full: np.ndarray
    s: np.ndarray
    solve_seconds: float
    errors: MarkerErrors
    fk_opensim_max_m: float
    mot: Path
    marker_errors_file: Path
    plot: Path


@dataclass(frozen=True, eq=False)
class PredictionResult:
    """What :func:`predict_trials` wrote: per-trial results, the scaled model and the summary files."""

    subject: str
    trials: tuple[TrialPrediction, ...]
    scale_factors: np.ndarray  # (NB, 3), body_names order
    body_names: tuple[str, ...]
    marker_names: tuple[str, ...]  # the network's input markers
    measured_markers: tuple[str, ...]  # those whose OpenSim errors are reported
    scaled_model: Path
    scale_set: Path
    summary: Path
    report: Path
    model_load_seconds: float
