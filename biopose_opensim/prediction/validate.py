"""OpenSim's check of a predicted motion: the scaled model placed at every predicted frame by OpenSim, each of its
markers measured against the trial's marker, written as OpenSim's IK writes its marker errors."""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..osim.manual_scale import replay_markers


@dataclass(frozen=True, eq=False)
class MarkerErrors:
    """Marker errors of a motion on a model, per frame and marker.

    Attributes:
        times: (F,) s. marker_names: (M,) markers measured.
        model_markers: (F, M, 3) m, ground frame, as OpenSim places them.
        marker_errors: (F, M) m, distance model - trial marker; NaN where the trial's marker is missing.
        rms_error, max_error: (F,) m over the markers present in each frame.
        seconds: OpenSim's wall time (load, pose and read every frame).
    """

    times: np.ndarray
    marker_names: tuple[str, ...]
    model_markers: np.ndarray
    marker_errors: np.ndarray
    rms_error: np.ndarray
    max_error: np.ndarray
    seconds: float


def ik_setup_of(marker_set: Path | None) -> Path | None:
    """The IK setup shipped beside a marker set (``<set>_markers.xml`` -> ``<set>_Setup_IK.xml``), if any."""
    if marker_set is None or not marker_set.name.endswith("_markers.xml"):
        return None
    setup = marker_set.with_name(marker_set.name[: -len("_markers.xml")] + "_Setup_IK.xml")
    return setup if setup.is_file() else None


def measured_markers(marker_names: Sequence[str], marker_set: Path | None) -> tuple[str, ...]:
    """The markers whose errors are reported: those OpenSim IK tracks with the marker set's IK setup (applied, weight
    > 0; e.g. the D3KE ground projections are not), in ``marker_names`` order; all of them without such a setup."""
    from ..osim.setups import read_ik_setup

    setup = ik_setup_of(marker_set)
    if setup is None:
        return tuple(marker_names)
    tracked = {t.name for t in read_ik_setup(setup).marker_tasks if t.apply and t.weight > 0}
    return tuple(n for n in marker_names if n in tracked)


def opensim_marker_errors(model_file: Path, coordinate_names: Sequence[str], values: np.ndarray, times: np.ndarray,
                          trial_markers: np.ndarray, marker_names: Sequence[str]) -> MarkerErrors:
    """Pose ``model_file`` at each row of ``values`` (F, C rad/m, ``coordinate_names``) with OpenSim and measure its
    markers ``marker_names`` against ``trial_markers`` (F, M, 3 m, ground frame, NaN where missing)."""
    t0 = time.perf_counter()
    model_markers = replay_markers(model_file, coordinate_names, values, marker_names)
    seconds = time.perf_counter() - t0
    errors = np.linalg.norm(model_markers - trial_markers, axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rms = np.sqrt(np.nanmean(errors**2, axis=1))
        mx = np.nanmax(errors, axis=1)
    return MarkerErrors(times=np.asarray(times, dtype=float), marker_names=tuple(marker_names),
                        model_markers=model_markers, marker_errors=errors, rms_error=rms, max_error=mx,
                        seconds=seconds)


def write_marker_errors(path: Path, errors: MarkerErrors) -> Path:
    """``total_squared_error``, ``marker_error_RMS``, ``marker_error_max`` per frame (OpenSim IK's columns), then one
    column per marker; m (squared error m^2). The writer ``label`` uses for its ``*_marker_errors.sto``."""
    from ..labeling.subject import write_marker_errors as write_label_marker_errors

    write_label_marker_errors(Path(path), errors)
    return Path(path)
