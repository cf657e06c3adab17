"""Picklable descriptions of the subjects and trials a dataset build labels (synthetic or adapted)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


@dataclass(frozen=True)
class TrialJob:
    """One motion trial of a subject.

    Attributes:
        name: trial name (the ``.trc`` stem; label's outputs are named after it).
        activity: activity, template stem or the source's label.
        trc: the marker trial handed to ``label``.
        source_mot: the motion that generated the markers, in model coordinates (``.mot``), if any.
    """

    name: str
    activity: str
    trc: Path
    source_mot: Path | None = None


@dataclass(frozen=True)
class SubjectJob:
    """One subject: where its files go, its static trial, its motion trials and what is known about it.

    Attributes:
        name: subject name (folder name under ``subjects/``).
        out_dir: the subject's folder (label's outputs and the generated trials).
        static_trc: static trial for ScaleTool.
        trials: motion trials.
        split: ``train`` / ``val`` / ``test``.
        sex, age, height (m), mass (kg): subject data (``None`` when unknown).
        body_model: body model the markers came from (``none`` for measured markers).
        shape: body-model shape parameters, JSON-friendly.
        source: ``synthetic``, ``amass``, ``bedlam`` or ``opencap``.
    """

    name: str
    out_dir: Path
    static_trc: Path
    trials: tuple[TrialJob, ...]
    split: str
    sex: str | None = None
    age: float | None = None
    height: float | None = None
    mass: float | None = None
    body_model: str = "none"
    shape: Mapping[str, Any] = field(default_factory=dict)
    source: str = "synthetic"
