"""NeurIK prediction to OpenSim-ready files checked by OpenSim (``python -m biopose_opensim.predict``).

:func:`predict_trials` reads a subject's TRC trials, predicts coordinates and bone scales with a NeurIK
checkpoint, scales the model with OpenSim's ModelScaler, writes a ``.mot`` per trial and OpenSim's marker errors
of it, ``predict.json`` and ``report.md``. See ``docs/neurik.md`` (Predict).
"""
from .inputs import TrialInput, find_trials, read_trial
from .pipeline import predict_trials
from .results import PredictionResult, TrialPrediction
from .validate import MarkerErrors, opensim_marker_errors, write_marker_errors

__all__ = ["MarkerErrors", "PredictionResult", "TrialInput", "TrialPrediction", "find_trials",
           "opensim_marker_errors", "predict_trials", "read_trial", "write_marker_errors"]
