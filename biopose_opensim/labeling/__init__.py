"""OpenSim ground truth: Scale + IK labelling of one subject (``subject``) or a dataset (``dataset``)."""
from .config import DEFAULT_ACCURACY, LabelConfig
from .one_subject import label_subject
from .results import PreparedSubject, SubjectResult, SubjectSpec, TrialResult
from .subject import finish_subject, label_trial, prepare_ik_only, prepare_subject

__all__ = [
    "DEFAULT_ACCURACY",
    "LabelConfig",
    "PreparedSubject",
    "SubjectResult",
    "SubjectSpec",
    "TrialResult",
    "finish_subject",
    "label_subject",
    "label_trial",
    "prepare_ik_only",
    "prepare_subject",
]
