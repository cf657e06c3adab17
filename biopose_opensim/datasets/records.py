"""Typed records that flow from labelling into the dataset writer."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np


@dataclass(frozen=True, eq=False)
class LabelledTrial:
    """One labelled trial, ready for a shard.

    Attributes:
        subject: subject name.
        name: trial name (unique within the subject).
        activity: activity or template name (``walk``, ``normal`` …) or the source's own label.
        times: (T,) seconds.
        markers: (T, M, 3) metres, ground frame, y up: the virtual markers IK tracked (NaN = missing).
        q: (T, C) radians / metres: OpenSim IK labels.
        q_mask: (T, C) bool, True where the label is trusted (bony-landmark residuals within threshold).
        s: (B, 3) per-body scale factors of the subject (OpenSim ScaleTool semantics).
        marker_error: (T, M) metres, IK residual per marker (NaN where missing or not in the model).
        q_source: (T, C) radians / metres of the motion that generated the markers, or ``None``.
        rate: frames per second.
        files: output files of this trial, relative to the dataset root (``ik_mot``, ``trc`` …).
    """

    subject: str
    name: str
    activity: str
    times: np.ndarray
    markers: np.ndarray
    q: np.ndarray
    q_mask: np.ndarray
    s: np.ndarray
    marker_error: np.ndarray
    q_source: np.ndarray | None
    rate: float
    files: Mapping[str, str] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return int(self.q.shape[0])

    def frame_rms(self) -> np.ndarray:
        """(T,) metres: RMS over present markers of the IK residual, per frame."""
        with np.errstate(invalid="ignore"):
            return np.sqrt(np.nanmean(self.marker_error ** 2, axis=1))


@dataclass(frozen=True)
class SubjectRecord:
    """A subject of the dataset.

    Attributes:
        name: subject identifier.
        split: ``"train"``, ``"val"`` or ``"test"``.
        sex, age: as sampled (age in years) or as the source gives them (``None`` if unknown).
        height: m; mass: kg (measured on the mesh for synthetic subjects).
        body_model: ``anny``, ``smpl``, ``smplh``, ``smplx`` or ``none`` (marker data without a mesh).
        shape: the body-model shape parameters (JSON-friendly).
        scaled_model: the subject's scaled ``.osim``, relative to the dataset root.
        source: where the subject came from (``synthetic``, ``amass``, ``bedlam``, ``opencap``).
    """

    name: str
    split: str
    sex: str | None
    age: float | None
    height: float | None
    mass: float | None
    body_model: str
    shape: Mapping[str, Any]
    scaled_model: str
    source: str = "synthetic"
