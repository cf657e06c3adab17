"""Training labels of one trial: ``labels/<trial>.npz``.

Arrays (no pickled objects; names are unicode arrays):

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
``ik_only``               ()          True: IK ran on a given (already scaled) model; nothing was scaled
``marker_span``           (2,)        m: the trial's marker span and the model's span of the same markers
                                      (the unit plausibility check; NaN when not measured)
``subject``, ``trial``    ()          names
``mass``, ``height``      ()          kg, m (NaN when unknown)
``accuracy``              ()          IK accuracy used
``gaps``                  ()          JSON of the gap report (filled / unfilled gaps per marker, s)
========================  ==========  ====================================================================
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..atomic import atomic_path


def write_labels(path: Path, **arrays: Any) -> Path:
    """Write the label arrays to ``path`` (compressed npz, atomically)."""
    out: dict[str, np.ndarray] = {}
    for key, value in arrays.items():
        if isinstance(value, (dict, list)) and key == "gaps":
            value = json.dumps(value)
        if value is None:
            value = np.nan
        arr = np.asarray(value)
        if arr.dtype == object:
            arr = arr.astype(str)
        out[key] = arr
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **out)
    return path


def read_labels(path: str | Path) -> dict[str, Any]:
    """Load a labels file into a dict (names as tuples of str, scalars as Python values, gaps as dict)."""
    with np.load(Path(path), allow_pickle=False) as npz:
        data: dict[str, Any] = {k: npz[k] for k in npz.files}
    for key, value in list(data.items()):
        if value.dtype.kind == "U":
            data[key] = str(value) if value.ndim == 0 else tuple(str(v) for v in value)
        elif value.ndim == 0:
            data[key] = value.item()
    if isinstance(data.get("gaps"), str):
        data["gaps"] = json.loads(data["gaps"])
    return data


def scale_array(factors: Mapping[str, tuple[float, float, float]] | tuple, bodies) -> np.ndarray:
    """(B, 3) scale factors in ``bodies`` order."""
    f = dict(factors)
    return np.array([f[b] for b in bodies], dtype=float)
