"""NeurIK against OpenSim IK on one trial (``python -m biopose_opensim.compare``): ``label`` and NeurIK on the
same trial, accuracy and marker-error figures, timing of both solves, ``comparison.json`` and ``report.md``.
See ``docs/neurik.md`` (Compare)."""
from .metrics import ComparisonMetrics, CoordinateAgreement, compare_solutions
from .opensim_side import IKTiming, OpenSimSolution, read_label_output, run_label, time_ik
from .pipeline import compare_trial
from .results import ComparisonResult
from .sample import SAMPLE_DIR, sample_inputs

__all__ = ["ComparisonMetrics", "ComparisonResult", "CoordinateAgreement", "IKTiming", "OpenSimSolution",
           "SAMPLE_DIR", "compare_solutions", "compare_trial", "read_label_output", "run_label", "sample_inputs",
           "time_ik"]
