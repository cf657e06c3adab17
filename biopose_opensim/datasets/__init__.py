"""The one dataset format: shards of labelled frames, a manifest and subject-wise splits (``docs/datasets.md``).

Written by ``synth``, the adapters and ``label --dataset`` pipelines (:class:`ShardWriter`,
:func:`write_manifest`), read by training and evaluation (:class:`Dataset`). One trial's OpenSim labels as ``label`` writes them
(``labels/<trial>.npz``): :class:`TrialLabels`.
"""
from .labels import TrialLabels, read_labels
from .records import LabelledTrial, SubjectRecord
from .shards import FORMAT, SPLITS, Dataset, DatasetNames, ShardWriter, TrialEntry, iter_trials, write_manifest

__all__ = ["FORMAT", "SPLITS", "Dataset", "DatasetNames", "LabelledTrial", "ShardWriter", "SubjectRecord",
           "TrialEntry", "TrialLabels", "iter_trials", "read_labels", "write_manifest"]
