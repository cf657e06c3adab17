"""Training labels of one trial (:class:`TrialLabels`), saved as ``labels/<trial>.npz`` by ``label``.

The file holds plain arrays (no pickled objects; names are unicode arrays), one per field, in this order:

========================  ==========  ====================================================================
key                       shape       meaning
========================  ==========  ====================================================================
``times``                 (T,)        s, the IK frames
``rate``                  ()          Hz, the trial's sampling rate
``marker_names``          (M,)        every marker of the trial, model names
``markers``               (T, M, 3)   m, ground frame, y up; the data handed to OpenSim (gaps <= max_gap
                                      filled); NaN where missing
``tracked_markers``       (K,)        markers tracked by IK (weight > 0)
``model_markers``         (T, K, 3)   m, ground frame: model markers at the IK solution
``marker_errors``         (T, K)      m, model-to-experimental distance; NaN where missing
``coordinate_names``      (C,)        model coordinates, model order
``rotational``            (C,)        True for angles
``q``                     (T, C)      rad (rotational) or m (translational)
``body_names``            (B,)        model bodies
``s``                     (B, 3)      scale factors per body (x, y, z), OpenSim ScaleTool semantics; all 1
                                      with ``ik_only``
``subject``, ``trial``    ()          names
``mass``, ``height``      ()          kg, m (NaN when unknown)
``accuracy``              ()          IK accuracy used
``gaps``                  ()          JSON of the gap report (filled / unfilled gaps per marker, s)
``unused_markers``        (U,)        trial markers the model lacks (not tracked)
``time_range``            (2,)        s, the IK time range (start, end)
``ik_only``               ()          True: IK ran on a given (already scaled) model; nothing was scaled
``marker_span``           (2,)        m: the trial's marker span and the model's span of the same markers
                                      (the unit plausibility check; NaN when not measured)
========================  ==========  ====================================================================

Files written before ``unused_markers``, ``time_range``, ``ik_only`` or ``marker_span`` existed load with those
fields at their defaults.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..atomic import atomic_path
from ..errors import InputFileError

_NAN2 = (math.nan, math.nan)


@dataclass(frozen=True, eq=False)
class TrialLabels:
    """OpenSim IK labels of one trial (shapes and units in the module docstring; T frames, M trial markers, K
    tracked markers, C coordinates, B bodies).

    ``labels[key]`` gives a field by its file key (the same names), for code written against the arrays.
    """

    times: np.ndarray
    rate: float
    marker_names: tuple[str, ...]
    markers: np.ndarray
    tracked_markers: tuple[str, ...]
    model_markers: np.ndarray
    marker_errors: np.ndarray
    coordinate_names: tuple[str, ...]
    rotational: np.ndarray
    q: np.ndarray
    body_names: tuple[str, ...]
    s: np.ndarray
    subject: str
    trial: str
    #: kg; NaN when unknown
    mass: float
    #: m; NaN when unknown
    height: float
    accuracy: float
    #: the gap report: ``{"filled": {marker: [[start, end], ...]}, "unfilled": {...}}``, s
    gaps: Mapping[str, Any] = field(default_factory=dict)
    unused_markers: tuple[str, ...] = ()
    #: (start, end) s; None in files written before it was recorded
    time_range: tuple[float, float] | None = None
    ik_only: bool = False
    #: (trial's marker span, model's span of the same markers), m; NaN when not measured
    marker_span: tuple[float, float] = _NAN2

    def __getitem__(self, key: str) -> Any:
        if key not in _KEYS:
            raise KeyError(key)
        return getattr(self, key)

    @property
    def n_frames(self) -> int:
        return int(len(self.times))

    def save(self, path: str | Path) -> Path:
        """Write the labels to ``path`` (compressed ``.npz``, atomically); the arrays in the order of
        :func:`dataclasses.fields`."""
        arrays: dict[str, np.ndarray] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "gaps":
                value = json.dumps(dict(value))
            elif f.name == "unused_markers":
                value = np.array(value, dtype=str)
            elif isinstance(value, tuple):
                value = np.array(list(value))
            elif value is None:
                value = np.nan
            arrays[f.name] = np.asarray(value)
        path = Path(path)
        with atomic_path(path, suffix=".npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "TrialLabels":
        """Read a labels file.

        Raises:
            InputFileError: the file is missing, not an ``.npz``, or lacks a key every labels file has (named).
        """
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as npz:
                raw = {k: npz[k] for k in npz.files}
        except FileNotFoundError:
            raise InputFileError(path, "labels file not found") from None
        except (OSError, ValueError) as exc:
            raise InputFileError(path, f"cannot read as a labels .npz: {exc}") from None
        missing = [k for k in _REQUIRED if k not in raw]
        if missing:
            raise InputFileError(path, f"not a labels file: no {', '.join(missing)}")
        values: dict[str, Any] = {}
        for key, value in raw.items():
            if key not in _KEYS:
                continue
            if value.dtype.kind == "U":
                values[key] = str(value) if value.ndim == 0 else tuple(str(v) for v in value)
            elif value.ndim == 0:
                values[key] = value.item()
            elif key in ("time_range", "marker_span"):
                values[key] = tuple(float(v) for v in value)
            elif key in _NAME_KEYS:  # an empty name list saved without a string dtype
                values[key] = tuple(str(v) for v in value)
            else:
                values[key] = value
        if isinstance(values.get("gaps"), str):
            values["gaps"] = json.loads(values["gaps"])
        return cls(**values)


_KEYS = tuple(f.name for f in dataclasses.fields(TrialLabels))
_REQUIRED = tuple(f.name for f in dataclasses.fields(TrialLabels)
                  if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
_NAME_KEYS = ("marker_names", "tracked_markers", "coordinate_names", "body_names", "unused_markers")


def read_labels(path: str | Path) -> TrialLabels:
    """The labels in ``path``: :meth:`TrialLabels.load`."""
    return TrialLabels.load(path)
