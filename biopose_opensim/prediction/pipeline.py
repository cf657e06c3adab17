"""NeurIK prediction to OpenSim-ready files, checked by OpenSim.

For one subject's trials (and optionally its static trial): the network predicts ``q`` and ``s`` per frame; the
subject's scale factors are the median of ``s`` over the frames of its trials (or of its static trial); OpenSim's
``ModelScaler`` scales the checkpoint's model by them (the network's marker set on it); every trial's motion is
written as a ``.mot`` of every model coordinate, and OpenSim places the scaled model at every frame to measure
each marker against the trial. Everything is read and checked before anything is written; the outputs are
written into a staging folder inside ``out`` and moved into place at the end.

Outputs in ``out``::

    <trial>_neurik.mot                 every model coordinate; degrees for rotational ones (inDegrees=yes)
    <trial>_neurik_marker_errors.sto   OpenSim's marker errors of that motion on the scaled model (m)
    <subject>_neurik_scaled.osim       the model scaled by the predicted factors, with the network's markers
    <subject>_neurik_scale_set.xml     the ScaleSet OpenSim applied
    <trial>_neurik_angles.png          main joint angles of the trial
    predict.json, report.md            timings, marker RMS per trial, checkpoint identity
"""
from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..atomic import check_output_dir
from ..errors import ConfigError, OutputExistsError
from ..io import write_coordinates_mot
from ..labeling.outputs import move_into_place, staging_dir
from ..osim.manual_scale import scale_model_manually
from .inputs import TrialInput, find_trials, read_trial
from .results import PredictionResult, TrialPrediction
from .validate import measured_markers, opensim_marker_errors, write_marker_errors

log = logging.getLogger(__name__)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _solve(system, trial: TrialInput) -> tuple[np.ndarray, np.ndarray, float]:
    markers = torch.as_tensor(trial.markers, dtype=torch.float32)
    present = torch.as_tensor(trial.present)
    _sync(system.device)
    t0 = time.perf_counter()
    q, s = system.predict_trial(markers, present)
    _sync(system.device)
    return q.double().cpu().numpy(), s.double().cpu().numpy(), time.perf_counter() - t0


def degree_flags(model_file: Path) -> dict[str, bool]:
    """Coordinate name -> written in degrees (OpenSim's rule: motion type Rotational only; Coupled stay rad)."""
    from ..osim.ik import coordinate_units
    from ..osim.model import load_model

    names, _, degrees = coordinate_units(load_model(model_file))
    return dict(zip(names, degrees))


def predict_trials(trcs: Sequence[str | Path], out: str | Path, static: str | Path | None = None,
                   checkpoint: str | Path | None = None, device: str = "cpu", subject: str | None = None,
                   progress: bool = True, overwrite: bool = False) -> PredictionResult:
    """Predict every trial of ``trcs`` (files or folders) for one subject and write the outputs into ``out``.

    Args:
        trcs: TRC files (markers in the network's marker set, any length unit, y up) or folders of them.
        out: output folder (created); one that holds a prediction (``predict.json``) is refused unless
            ``overwrite``, which replaces files of the same names.
        static: the subject's static trial: its frames give the scale factors (else all the trials' frames).
        checkpoint: NeurIK checkpoint (default: the shipped one). device: ``cpu`` or ``cuda``.
        subject: the subject's name in output names (default: from the static trial's name, else the first
            trial's folder name).

    Raises:
        BioposeError: bad input (file named, nothing written): missing or malformed TRC, markers the network needs
            absent, frames without markers, a checkpoint for another model or marker set, an unusable ``out``,
            an ``out`` holding a prediction without ``overwrite``.
    """
    from ..labeling.outputs import subject_name_from_static
    from ..neurik import NeurIKSystem, default_checkpoint
    from .report import plot_angles, write_report, write_summary

    out = Path(out)
    check_output_dir(out)
    if (out / "predict.json").exists() and not overwrite:
        raise OutputExistsError(f"--out {out} already holds a prediction (predict.json); pass --overwrite to "
                                "replace it")
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"--device must be cpu or cuda, got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA device is available to torch on this machine")
    paths = find_trials(trcs)
    static = Path(static) if static is not None else None
    if static is not None:
        find_trials([static])
    if subject is None:
        subject = subject_name_from_static(static) if static is not None else (paths[0].resolve().parent.name or "subject")

    ckpt_path = Path(checkpoint) if checkpoint is not None else default_checkpoint()
    t0 = time.perf_counter()
    system, ckpt = NeurIKSystem.from_checkpoint(ckpt_path, device=device)
    load_s = time.perf_counter() - t0
    log.info("checkpoint %s loaded in %.2f s (%s)", ckpt.path, load_s, system.config.model_path().name)

    names = system.marker_names
    measured = measured_markers(names, system.config.marker_set_path())
    sel = [names.index(n) for n in measured]
    if len(measured) < len(names):
        log.info("marker errors over the %d of %d markers OpenSim IK tracks (the marker set's IK setup)",
                 len(measured), len(names))
    trials = [read_trial(p, names) for p in paths]
    static_trial = read_trial(static, names) if static is not None else None

    from tqdm import tqdm

    solved = []
    for trial in tqdm(trials, desc="NeurIK", unit="trial", disable=not progress):
        q, s, secs = _solve(system, trial)
        solved.append((trial, q, s, secs))
        log.info("%s: %d frames solved in %.3f s (%.0f frames/s)", trial.name, trial.n_frames, secs,
                 trial.n_frames / max(secs, 1e-9))
    if static_trial is not None:
        _, s_static, _ = _solve(system, static_trial)
        scale_frames = s_static
    else:
        scale_frames = np.concatenate([s for _, _, s, _ in solved])
    factors = np.median(scale_frames, axis=0)
    fk = system.fk
    body_names = tuple(fk.body_names)

    with staging_dir(out) as stage:
        t_scale = time.perf_counter()
        scaled = stage / f"{subject}_neurik_scaled.osim"
        scale_set = stage / f"{subject}_neurik_scale_set.xml"
        scale_model_manually(system.config.model_path(), body_names, factors, scaled,
                             marker_set=system.config.marker_set_path(), out_scale_set=scale_set,
                             name=f"{subject}_neurik")
        scale_s = time.perf_counter() - t_scale
        log.info("%s: model scaled by OpenSim's ModelScaler in %.2f s", subject, scale_s)
        degrees = degree_flags(scaled)
        s_subject = torch.as_tensor(factors, dtype=torch.float32, device=system.device)
        results = []
        for trial, q, s, secs in tqdm(solved, desc="OpenSim check", unit="trial", disable=not progress):
            q_t = torch.as_tensor(q, dtype=torch.float32, device=system.device)
            with torch.no_grad():
                q_full = fk.full_coordinates(q_t, s_subject.expand(len(q), -1, -1)).double().cpu().numpy()
                fk_markers = fk(q_t, s_subject.expand(len(q), -1, -1)).markers[:, system.marker_index[sel]]
            mot = stage / f"{trial.name}_neurik.mot"
            write_coordinates_mot(mot, trial.times, q_full, fk.all_coordinate_names, degrees,
                                  name=f"{trial.name} NeurIK coordinates")
            errors = opensim_marker_errors(scaled, fk.all_coordinate_names, q_full, trial.times,
                                           trial.markers[:, sel], measured)
            err_file = write_marker_errors(stage / f"{trial.name}_neurik_marker_errors.sto", errors)
            fk_diff = float(np.abs(errors.model_markers - fk_markers.double().cpu().numpy()).max())
            png = plot_angles(stage / f"{trial.name}_neurik_angles.png", trial, q_full, fk.all_coordinate_names)
            log.info("%s: OpenSim marker RMS %.1f mm (max %.1f mm) in %.2f s; OpenSim vs FK markers %.2g m",
                     trial.name, 1e3 * np.nanmean(errors.rms_error), 1e3 * np.nanmax(errors.max_error),
                     errors.seconds, fk_diff)
            results.append(TrialPrediction(trial=trial, q=q, q_full=q_full, s=s, solve_seconds=secs, errors=errors,
                                           fk_opensim_max_m=fk_diff, mot=out / mot.name,
                                           marker_errors_file=out / err_file.name, plot=out / png.name))
        result = PredictionResult(subject=subject, trials=tuple(results), scale_factors=factors,
                                  body_names=body_names, marker_names=tuple(names), measured_markers=measured,
                                  scaled_model=out / scaled.name, scale_set=out / scale_set.name,
                                  summary=out / "predict.json", report=out / "report.md", model_load_seconds=load_s)
        meta = {"checkpoint": _checkpoint_identity(ckpt, system), "device": device,
                "static": str(static) if static is not None else None,
                "scale_frames": int(scale_frames.shape[0]), "scale_seconds": scale_s}
        write_summary(stage / "predict.json", result, meta)
        write_report(stage / "report.md", result, meta)
        for f in sorted(stage.iterdir()):
            move_into_place(f, out / f.name)
    log.info("%s: %d trial(s) -> %s", subject, len(results), out)
    return result


def _checkpoint_identity(ckpt, system) -> dict:
    ident = system.identity()
    return {
        "path": str(ckpt.path),
        "weights_sha256": hashlib.sha256(Path(ckpt.path).read_bytes()).hexdigest(),
        "config": system.config.name, "epoch": ckpt.meta.get("epoch"),
        "osim_model": ident["osim_model"], "marker_set": ident["marker_set"],
        "markers": len(ident["marker_names"]), "coordinates": len(ident["coordinate_names"]),
        "window": system.config.model.window,
    }
