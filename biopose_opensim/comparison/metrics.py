"""NeurIK against OpenSim IK on one trial: the accuracy metrics of :mod:`biopose_opensim.metrics` with OpenSim IK
(``label``) as the reference, per-coordinate agreement, and both methods' marker errors.

Angles: the independent, unlocked rotational coordinates, wrapping-aware, degrees. MPBLPE: the bony markers of the
FK layer posed with each method's ``q`` and subject scale factors ``s``, each pose's root-body origin subtracted,
mm. Body scale: :func:`~biopose_opensim.metrics.body_scale_errors_mm` along each body's longest axis, mm.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from ..metrics import angle_abs_errors, body_scale_errors_mm, root_aligned_distances_mm, segment_axes


@dataclass(frozen=True)
class CoordinateAgreement:
    """One coordinate: MAE and RMSE of NeurIK against OpenSim IK (``unit``: deg or mm) and Pearson r of the two
    time series (NaN when either is constant)."""

    name: str
    unit: str
    mae: float
    rmse: float
    pearson_r: float


@dataclass(frozen=True)
class ComparisonMetrics:
    """Figures of one trial. Angles in degrees, lengths in mm.

    Attributes:
        mae_angle_deg: over frames and the independent unlocked rotational coordinates.
        mpblpe_mm: mean root-aligned bony-marker distance; bony_markers: the markers it uses.
        mae_body_mm: mean over bodies of the scale error along the body's longest axis.
        coordinates: per unlocked independent coordinate (rotational and translational).
        marker_rms_mm: per method ("opensim", "neurik"): mean over frames of the per-frame marker RMS.
        marker_errors_m: per method: (F, M) m, every frame's and tracked marker's error (NaN where missing).
    """

    n_frames: int
    mae_angle_deg: float
    mpblpe_mm: float
    mae_body_mm: float
    bony_markers: tuple[str, ...]
    coordinates: tuple[CoordinateAgreement, ...]
    marker_rms_mm: dict[str, float]
    marker_errors_m: dict[str, np.ndarray] = field(repr=False)


def pearson_r(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two (F,) series; NaN when either has no variance or F < 2."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.size < 2 or np.ptp(a) < 1e-12 or np.ptp(b) < 1e-12:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


def mean_frame_rms_mm(errors: np.ndarray) -> float:
    """Mean over frames of the RMS over present markers of (F, M) errors in m, as mm."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rms = np.sqrt(np.nanmean(np.asarray(errors, float) ** 2, axis=1))
    rms = rms[np.isfinite(rms)]
    return float(rms.mean() * 1000.0) if rms.size else math.nan


def compare_solutions(fk, q_neurik: np.ndarray, s_neurik: np.ndarray, q_opensim: np.ndarray, s_opensim: np.ndarray,
                      bony_markers: tuple[str, ...], errors_neurik: np.ndarray,
                      errors_opensim: np.ndarray) -> ComparisonMetrics:
    """Compare the two methods on one trial.

    Args:
        fk: the NeurIK checkpoint's FK layer (:class:`~biopose_opensim.kinematics.OsimFK`).
        q_neurik, q_opensim: (F, C) rad/m, ``fk.coordinate_names`` order, same frames.
        s_neurik, s_opensim: (NB, 3) subject scale factors, ``fk.body_names`` order.
        bony_markers: FK marker names for MPBLPE.
        errors_neurik, errors_opensim: (F, M) m, OpenSim's marker errors of each method's motion.
    """
    F = q_neurik.shape[0]
    dev, dt = fk.default_values.device, fk.default_values.dtype
    qn = torch.as_tensor(q_neurik, dtype=dt, device=dev)
    qo = torch.as_tensor(q_opensim, dtype=dt, device=dev)
    sn = torch.as_tensor(s_neurik, dtype=dt, device=dev).expand(F, -1, -1)
    so = torch.as_tensor(s_opensim, dtype=dt, device=dev).expand(F, -1, -1)
    rot = fk.rotational.to(dev)
    err = angle_abs_errors(qn, qo, rot).double().cpu().numpy()  # (F, C) rad / m
    rot_np, locked = fk.rotational.cpu().numpy(), fk.locked.cpu().numpy()
    keep = rot_np & ~locked
    coords = []
    for c, name in enumerate(fk.coordinate_names):
        if locked[c]:
            continue
        k = math.degrees(1) if rot_np[c] else 1000.0
        e = err[:, c]
        coords.append(CoordinateAgreement(name=name, unit="deg" if rot_np[c] else "mm", mae=float(e.mean() * k),
                                          rmse=float(np.sqrt((e**2).mean()) * k),
                                          pearson_r=pearson_r(q_neurik[:, c], q_opensim[:, c])))
    idx = [fk.marker_names.index(m) for m in bony_markers]
    with torch.no_grad():
        pn, po = fk(qn, sn), fk(qo, so)
        bony = root_aligned_distances_mm(pn.markers[:, idx], po.markers[:, idx], pn.body_origins[:, 0],
                                         po.body_origins[:, 0]).double().cpu().numpy()
    body = body_scale_errors_mm(s_neurik, s_opensim, segment_axes(fk))
    return ComparisonMetrics(
        n_frames=F, mae_angle_deg=float(np.degrees(err[:, keep].mean())),
        mpblpe_mm=float(bony.mean()) if bony.size else math.nan, mae_body_mm=float(np.nanmean(body)),
        bony_markers=tuple(bony_markers), coordinates=tuple(coords),
        marker_rms_mm={"opensim": mean_frame_rms_mm(errors_opensim), "neurik": mean_frame_rms_mm(errors_neurik)},
        marker_errors_m={"opensim": np.asarray(errors_opensim, float), "neurik": np.asarray(errors_neurik, float)})
