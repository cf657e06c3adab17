"""What a NeurIK-against-OpenSim-IK comparison returns."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .metrics import ComparisonMetrics
from .opensim_side import IKTiming, OpenSimSolution


@dataclass(frozen=True, eq=False)
class ComparisonResult:
    """What :func:`compare_trial` measured and wrote.

    Attributes:
        metrics: accuracy and marker-error figures. opensim: the label's solution. ik_timing: the timed
            OpenSim IK run. neurik_seconds: the network's wall time on the trial (inference alone).
        neurik_load_seconds: checkpoint loading (excluded from ``neurik_seconds``).
        speedup: ``ik_timing.seconds / neurik_seconds``. summary, report: the files written.
    """

    trial: Path
    static: Path
    metrics: ComparisonMetrics
    opensim: OpenSimSolution
    ik_timing: IKTiming
    neurik_seconds: float
    neurik_load_seconds: float
    speedup: float
    times: np.ndarray
    coordinate_names: tuple[str, ...]
    q_neurik: np.ndarray
    q_opensim: np.ndarray
    rotational: np.ndarray
    neurik_dir: Path
    summary: Path
    report: Path
