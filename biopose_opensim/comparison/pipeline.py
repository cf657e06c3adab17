"""NeurIK against OpenSim IK on one trial (``python -m biopose_opensim.compare``).

For a subject's static trial and one motion trial: ``label`` scales the NeurIK checkpoint's model with OpenSim's
ScaleTool and solves the trial with its InverseKinematicsTool at the labels' accuracy (or an earlier ``label``
output is read back); the OpenSim IK solve is timed once more on the label's own setup and scaled model; NeurIK
predicts the same trial (:func:`~biopose_opensim.prediction.predict_trials`, OpenSim's marker errors included);
the two are compared. Outputs in ``out``::

    opensim/          the label output (absent with --label-dir)
    neurik/           the predict output
    comparison.json   the figures; report.md and its PNGs (angles, per-coordinate errors, marker errors)
"""
from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from ..atomic import check_output_dir
from ..errors import ConfigError, InputFileError, OutputExistsError
from .metrics import compare_solutions
from .opensim_side import OpenSimSolution, read_label_output, run_label, time_ik
from .results import ComparisonResult

log = logging.getLogger(__name__)

#: The summary file whose presence marks a folder as holding a comparison.
SUMMARY_NAME = "comparison.json"


def _check_trc(path: Path | None, what: str) -> Path:
    if path is None:
        raise ConfigError(f"{what} is required")
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, f"{what}: marker file not found")
    if path.suffix.lower() != ".trc":
        raise InputFileError(path, f"{what}: not a TRC marker file (suffix {path.suffix!r}; expected .trc)")
    return path


def bony_landmarks(marker_set: Path | None, names: tuple[str, ...]) -> tuple[str, ...]:
    """The bony markers of ``names``: the ``bony`` group of the virtual-marker set the OpenSim marker set was
    made from (``marker_sets/<set>.yaml`` beside ``<set>_<model>_markers.xml``, the markers the NeurIK evaluation
    uses), else the known bony landmarks among ``names``."""
    from ..markers.sets import load_marker_set
    from ..markers.vocabulary import BONY, bony_markers

    if marker_set is not None:
        for yaml in sorted(marker_set.parent.glob("*.yaml"), key=lambda p: -len(p.stem)):
            if marker_set.name.startswith(yaml.stem + "_"):
                group = {m.name for m in load_marker_set(yaml).markers if m.group == BONY}
                if group:
                    return tuple(n for n in names if n in group)
    return bony_markers(names)


def _frame_index(sol: OpenSimSolution, times: np.ndarray) -> np.ndarray:
    """Indices of the label's frames in the trial's ``times``; every label frame must be a trial frame."""
    idx = np.clip(np.searchsorted(times, sol.times - 1e-6), 0, len(times) - 1)
    bad = np.flatnonzero(np.abs(times[idx] - sol.times) > 1e-6)
    if bad.size:
        raise InputFileError(sol.ik_mot, f"frame at t={sol.times[bad[0]]:g} s is not a frame of the trial; the "
                                         "label output belongs to another trial")
    return idx


def compare_trial(trc: str | Path, static: str | Path | None, out: str | Path, label_dir: str | Path | None = None,
                  checkpoint: str | Path | None = None, overwrite: bool = False, mass: float | None = None,
                  height: float | None = None, progress: bool = True) -> ComparisonResult:
    """Compare NeurIK with OpenSim IK on ``trc`` (static trial ``static``) and write the report into ``out``.

    Args:
        trc: the motion trial (TRC, the checkpoint's marker set). static: the subject's static trial.
        out: output folder; one holding a comparison is refused unless ``overwrite``.
        label_dir: an earlier ``label`` output of this trial (scaled with ``static``) to reuse instead of
            running ``label``. checkpoint: NeurIK checkpoint (default: the shipped one).
        mass, height: the subject's, kg and m, passed to ``label`` (optional).

    Raises:
        BioposeError: bad input, named (missing file, markers the network needs absent, a label output of
            another trial, ``out`` holding a comparison without ``overwrite``); checked before OpenSim runs.
    """
    from ..labeling.outputs import subject_name_from_static
    from ..neurik import NeurIKSystem, default_checkpoint
    from ..prediction import predict_trials, read_trial
    from .report import write_comparison

    out = Path(out)
    check_output_dir(out)
    if (out / SUMMARY_NAME).exists() and not overwrite:
        raise OutputExistsError(f"--out {out} already holds a comparison ({SUMMARY_NAME}); pass --overwrite to "
                                "replace it or choose another folder")
    trc = _check_trc(trc, "--trc")
    static = _check_trc(static, "--static")
    ckpt_path = Path(checkpoint) if checkpoint is not None else default_checkpoint()
    system, _ = NeurIKSystem.from_checkpoint(ckpt_path, device="cpu")
    read_trial(trc, system.marker_names)  # markers the network needs, empty frames: refused before OpenSim runs
    read_trial(static, system.marker_names)
    fk = system.fk
    subject = subject_name_from_static(static)

    if label_dir is not None:
        sol = read_label_output(Path(label_dir), trc.stem)
        log.info("OpenSim IK: label output of %s/%s reused from %s", sol.subject, sol.trial, label_dir)
    else:
        log.info("OpenSim: label (Scale + IK at accuracy %g) of %s into %s", 1e-6, trc.name, out / "opensim")
        sol = run_label(static, trc, out / "opensim", system.config.model_path(), system.config.marker_set_path(),
                        subject, mass=mass, height=height, progress=progress)
    timing = time_ik(sol.setup_ik, sol.scaled_model)

    pred = predict_trials([trc], out / "neurik", static=static, checkpoint=ckpt_path, subject=subject,
                          progress=progress, overwrite=True)  # the comparison as a whole was refused or replaced
    tp = pred.trials[0]
    idx = _frame_index(sol, tp.trial.times)
    if tuple(tp.errors.marker_names) != sol.tracked_markers:
        log.info("marker errors: OpenSim IK tracks %d markers, NeurIK's check measures %d",
                 len(sol.tracked_markers), len(tp.errors.marker_names))
    bony = tuple(m for m in bony_landmarks(system.config.marker_set_path(), system.marker_names)
                 if m in fk.marker_names)
    q_os = sol.q_for(fk.coordinate_names)
    metrics = compare_solutions(fk, tp.q[idx], pred.scale_factors, q_os, sol.s_for(fk.body_names), bony,
                                tp.errors.marker_errors[idx], sol.marker_errors)
    speedup = timing.seconds / tp.solve_seconds if tp.solve_seconds > 0 else math.inf
    log.info("NeurIK vs OpenSim IK on %s: MAE %.2f deg, MPBLPE %.1f mm, body %.1f mm; marker RMS OpenSim %.2f mm, "
             "NeurIK %.2f mm; OpenSim IK %.3f s, NeurIK %.4f s (x%.0f)", trc.name, metrics.mae_angle_deg,
             metrics.mpblpe_mm, metrics.mae_body_mm, metrics.marker_rms_mm["opensim"],
             metrics.marker_rms_mm["neurik"], timing.seconds, tp.solve_seconds, speedup)
    result = ComparisonResult(
        trial=trc, static=static, metrics=metrics, opensim=sol, ik_timing=timing, neurik_seconds=tp.solve_seconds,
        neurik_load_seconds=pred.model_load_seconds, speedup=speedup, times=sol.times,
        coordinate_names=tuple(fk.coordinate_names), q_neurik=tp.q[idx], q_opensim=q_os,
        rotational=fk.rotational.cpu().numpy(), neurik_dir=out / "neurik", summary=out / SUMMARY_NAME,
        report=out / "report.md")
    write_comparison(result, checkpoint=ckpt_path, reused=label_dir is not None)
    return result
