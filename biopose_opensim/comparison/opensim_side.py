"""The OpenSim side of a comparison: ``label`` (ScaleTool + InverseKinematicsTool at the labels' accuracy) on the
trial, or a ``label`` output read back, and one timed InverseKinematicsTool run on the label's own IK setup.

The label runs with the NeurIK checkpoint's model and marker set and the Scale / IK setups shipped beside that
marker set (``<set>_Setup_Scale.xml``, ``<set>_Setup_IK.xml``), with the static pose prescribed at zero during
marker placement: the settings ``synth`` labels virtual-marker subjects with.
"""
from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import CoordinateMismatchError, InputFileError

log = logging.getLogger(__name__)

#: IK accuracy of the labels (``label``'s default; OpenSim's own default is 1e-5).
LABEL_ACCURACY = 1e-6


@dataclass(frozen=True, eq=False)
class OpenSimSolution:
    """One trial solved by ``label``.

    Attributes:
        label_dir: the label output folder. subject, trial: names in it.
        scaled_model: ``<subject>_scaled.osim``; setup_ik: the trial's IK setup (model, cleaned TRC, tasks).
        ik_mot, marker_errors_file: the label's ``<trial>_ik.mot`` and ``<trial>_marker_errors.sto``.
        times: (F,) s. coordinate_names: (A,) every model coordinate. q: (F, A) rad/m.
        body_names: (NB,) ; s: (NB, 3) ScaleTool's scale factors per body.
        tracked_markers: (M,) markers IK tracks; marker_errors: (F, M) m, NaN where missing.
        accuracy: IK accuracy of the labels. label_seconds: wall time of the label run (None: reused).
    """

    label_dir: Path
    subject: str
    trial: str
    scaled_model: Path
    setup_ik: Path
    ik_mot: Path
    marker_errors_file: Path
    times: np.ndarray
    coordinate_names: tuple[str, ...]
    q: np.ndarray
    body_names: tuple[str, ...]
    s: np.ndarray
    tracked_markers: tuple[str, ...]
    marker_errors: np.ndarray
    accuracy: float
    label_seconds: float | None

    def q_for(self, names: Sequence[str]) -> np.ndarray:
        """(F, len(names)) rad/m, the label's coordinates in ``names`` order.

        Raises:
            CoordinateMismatchError: a coordinate of ``names`` is not in the label (listed).
        """
        missing = [n for n in names if n not in self.coordinate_names]
        if missing:
            raise CoordinateMismatchError(f"{self.ik_mot}: lacks coordinate(s) of the NeurIK model: "
                                          + ", ".join(missing))
        return self.q[:, [self.coordinate_names.index(n) for n in names]]

    def s_for(self, names: Sequence[str]) -> np.ndarray:
        """(len(names), 3) scale factors in ``names`` order (1 for a body the label lacks)."""
        out = np.ones((len(names), 3))
        for i, n in enumerate(names):
            if n in self.body_names:
                out[i] = self.s[self.body_names.index(n)]
        return out


@dataclass(frozen=True)
class IKTiming:
    """One InverseKinematicsTool run: ``seconds`` the tool's run alone, ``setup_seconds`` the rest of the call
    (model loading, tool construction, reading the results back); ``rms_mm`` the mean per-frame marker RMS."""

    accuracy: float
    n_frames: int
    seconds: float
    setup_seconds: float
    rms_mm: float

    @property
    def frames_per_second(self) -> float:
        return self.n_frames / max(self.seconds, 1e-12)


def setups_beside(marker_set: Path) -> tuple[Path | None, Path | None]:
    """The Scale and IK setups shipped beside ``<set>_markers.xml`` (None where absent)."""
    if not marker_set.name.endswith("_markers.xml"):
        return None, None
    stem = marker_set.name[: -len("_markers.xml")]
    found = [marker_set.with_name(f"{stem}_Setup_{k}.xml") for k in ("Scale", "IK")]
    return tuple(p if p.is_file() else None for p in found)  # type: ignore[return-value]


def run_label(static: Path, trial: Path, out_dir: Path, model: Path, marker_set: Path | None, subject: str,
              mass: float | None = None, height: float | None = None, progress: bool = True) -> OpenSimSolution:
    """``label`` on one subject (``static`` + ``trial``) into ``out_dir`` at :data:`LABEL_ACCURACY`."""
    from ..labeling import LabelConfig
    from ..labeling import SubjectSpec, label_subject

    scale_setup, ik_setup = setups_beside(marker_set) if marker_set is not None else (None, None)
    cfg = LabelConfig(model=model, markers=marker_set, scale_setup=scale_setup, ik_setup=ik_setup,
                      static_pose="zero", accuracy=LABEL_ACCURACY, plots=False)
    t0 = time.perf_counter()
    label_subject(SubjectSpec(name=subject, static=static, trials=(trial,), mass=mass, height=height), cfg,
                  out_dir, overwrite=True, progress=progress)
    seconds = time.perf_counter() - t0
    return read_label_output(out_dir, trial.stem, label_seconds=seconds)


def read_label_output(label_dir: Path, trial: str, label_seconds: float | None = None) -> OpenSimSolution:
    """Read ``label``'s outputs for ``trial`` (a trial name) back from ``label_dir``.

    Raises:
        InputFileError: the folder lacks the trial's labels, IK setup or the scaled model (named).
    """
    from ..datasets import read_labels
    from ..labeling.outputs import SubjectPaths, safe_name

    label_dir = Path(label_dir)
    if not label_dir.is_dir():
        raise InputFileError(label_dir, "--label-dir: no such folder (expected a label output folder)")
    name = safe_name(trial)
    labels_file = label_dir / "labels" / f"{name}.npz"
    if not labels_file.is_file():
        raise InputFileError(labels_file, f"--label-dir holds no labels of trial {name!r} (run label on it first)")
    try:
        lab = read_labels(labels_file)
    except (OSError, ValueError) as exc:
        raise InputFileError(labels_file, f"unreadable labels file ({exc})") from None
    subject = str(lab["subject"])
    paths = SubjectPaths(label_dir, subject)
    tp = paths.trial(Path(f"{name}.trc"))
    for p in (paths.scaled_model, tp.setup_ik, tp.ik_mot, tp.marker_errors):
        if not p.is_file():
            raise InputFileError(p, f"missing from the label output of {subject}/{name}")
    tracked = lab["tracked_markers"]
    return OpenSimSolution(
        label_dir=label_dir, subject=subject, trial=name, scaled_model=paths.scaled_model, setup_ik=tp.setup_ik,
        ik_mot=tp.ik_mot, marker_errors_file=tp.marker_errors, times=np.asarray(lab["times"], float),
        coordinate_names=tuple(lab["coordinate_names"]), q=np.asarray(lab["q"], float),
        body_names=tuple(lab["body_names"]), s=np.asarray(lab["s"], float).reshape(-1, 3),
        tracked_markers=(tracked,) if isinstance(tracked, str) else tuple(tracked),
        marker_errors=np.asarray(lab["marker_errors"], float), accuracy=float(lab["accuracy"]),
        label_seconds=label_seconds)


def time_ik(setup_ik: Path, scaled_model: Path, accuracy: float | None = None) -> IKTiming:
    """Run OpenSim's InverseKinematicsTool once with ``setup_ik`` (the label's setup: its tasks, its cleaned TRC)
    on ``scaled_model``, at ``accuracy`` (None: the setup's), writing into a scratch folder; time ``tool.run()``."""
    from ..osim.ik import run_ik
    from ..osim.setups import read_ik_setup, write_ik_setup

    setup = read_ik_setup(setup_ik)
    if accuracy is not None:
        setup = setup.replace(accuracy=float(accuracy))
    with tempfile.TemporaryDirectory(prefix="biopose_ik_timing_") as tmp:
        f = Path(tmp) / "setup_ik.xml"
        write_ik_setup(setup.replace(model_file=Path(scaled_model).resolve(), output_motion_file="timed_ik.mot",
                                     results_directory="."), f)
        t0 = time.perf_counter()
        res = run_ik(f, scaled_model)
        total = time.perf_counter() - t0
    with np.errstate(invalid="ignore"):
        rms = float(np.nanmean(res.rms_error) * 1000.0)
    log.info("OpenSim IK at accuracy %g: %d frames in %.3f s (%.1f frames/s), marker RMS %.2f mm",
             res.accuracy, len(res.times), res.seconds, len(res.times) / max(res.seconds, 1e-12), rms)
    return IKTiming(accuracy=res.accuracy, n_frames=len(res.times), seconds=res.seconds,
                    setup_seconds=total - res.seconds, rms_mm=rms)
