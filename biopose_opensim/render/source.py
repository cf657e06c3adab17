"""The synthetic marker dataset a render starts from (``python -m biopose_opensim.synth`` output), and the
posed Anny mesh of its trials, exactly as the dataset was generated.

A subject's mesh follows the ``<trial>_source.mot`` coordinates of the manifest's OpenSim model through the
subject's calibration (:class:`~biopose_opensim.synth.bodies.AnnySubjectBody`):
``retarget_poses(calib, body_poses(model, motion))`` gives one :class:`~biopose_opensim.bodymodels.anny.AnnyPose`
per frame; its virtual markers are those of
:func:`~biopose_opensim.motion.trials.virtual_marker_trajectories` (OpenSim ground frame, ground projections at
the trial's lowest vertex).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..datasets.shards import FORMAT as SYNTH_FORMAT
from ..errors import InputFileError

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class SourceTrial:
    """One trial: ``name``, its generating coordinates ``source_mot`` and its virtual-marker trial ``trc``
    (paths; ``trc`` is None when the file is absent)."""

    name: str
    source_mot: Path
    trc: Path | None = None


@dataclass(frozen=True)
class SourceSubject:
    """One Anny subject of the source dataset.

    Attributes:
        index: position in the source manifest's subject list (part of every image's seed).
        name, split, sex, age: as in the manifest.
        phenotype: Anny phenotypes (name -> value in [0, 1]).
        trials: the subject's trials, in manifest order.
    """

    index: int
    name: str
    split: str
    sex: str
    age: float
    phenotype: tuple[tuple[str, float], ...]
    trials: tuple[SourceTrial, ...]

    def shape(self):
        """The subject as a :class:`~biopose_opensim.synth.subjects.SubjectShape`."""
        from ..synth.subjects import SubjectShape

        return SubjectShape(self.name, "anny", self.sex, self.age, phenotype=self.phenotype)


@dataclass(frozen=True)
class SourceDataset:
    """A synthetic marker dataset read through its manifest.

    Attributes:
        root: the dataset folder.
        name, seed: the manifest's.
        model: the OpenSim model the source coordinates belong to.
        marker_set: the virtual-marker set (name or YAML path).
        marker_set_name: its name as recorded in the manifest.
        noise_mm: marker noise added to the source ``.trc`` trials (0: they hold the exact virtual markers).
        splits: split -> subject names, as in the manifest.
        subjects: the subjects, manifest order.
    """

    root: Path
    name: str
    seed: int
    model: Path
    marker_set: str
    marker_set_name: str
    noise_mm: float
    splits: dict[str, list[str]]
    subjects: tuple[SourceSubject, ...]


def _need(manifest: dict, key: str, path: Path):
    if key not in manifest:
        raise InputFileError(path, f"no {key!r} entry; expected the manifest of a dataset built with "
                                   "python -m biopose_opensim.synth")
    return manifest[key]


def read_source(root: str | Path) -> SourceDataset:
    """Read and check a synthetic dataset (``--data``): its manifest, model, marker set and source motions.

    Raises:
        InputFileError: a missing folder or manifest, a manifest that is not a synthetic Anny dataset, or a
            missing model or ``_source.mot`` file (the message names the file).
    """
    root = Path(root)
    path = root / "manifest.json"
    if not root.is_dir():
        raise InputFileError(root, "--data folder not found; build one with python -m biopose_opensim.synth")
    if not path.is_file():
        raise InputFileError(path, "no dataset manifest here; --data must be a dataset built with "
                                   "python -m biopose_opensim.synth")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputFileError(path, f"not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != SYNTH_FORMAT:
        got = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise InputFileError(path, f"format {got!r}; expected a synthetic dataset ({SYNTH_FORMAT!r})")
    if manifest.get("source") != "synthetic" or manifest.get("body_model") != "anny":
        raise InputFileError(path, f"source {manifest.get('source')!r} with body model "
                                   f"{manifest.get('body_model')!r}; only synthetic Anny datasets can be rendered")
    model = Path(_need(manifest, "model", path))
    if not model.is_absolute() and not model.is_file():
        model = root / model
    if not model.is_file():
        raise InputFileError(model, f"OpenSim model named in {path} not found")
    marker_set_name = str(_need(manifest, "marker_set", path))
    trials: dict[str, list[SourceTrial]] = {}
    for t in _need(manifest, "trials", path):
        src = root / t.get("files", {}).get("source_mot", f"subjects/{t['subject']}/{t['name']}_source.mot")
        if not src.is_file():
            raise InputFileError(src, f"source coordinates of trial {t['subject']}/{t['name']} not found")
        trc = root / t.get("files", {}).get("trc", f"subjects/{t['subject']}/{t['name']}.trc")
        trials.setdefault(t["subject"], []).append(SourceTrial(t["name"], src, trc if trc.is_file() else None))
    subjects = []
    marker_set = marker_set_name
    for i, s in enumerate(_need(manifest, "subjects", path)):
        shape = s.get("shape") or {}
        if shape.get("body_model", s.get("body_model")) != "anny" or not shape.get("phenotype"):
            raise InputFileError(path, f"subject {s.get('name')!r} has no Anny phenotypes")
        info = root / "subjects" / s["name"] / "subject.json"
        if info.is_file():
            recorded = json.loads(info.read_text(encoding="utf-8")).get("marker_set")
            if recorded and Path(recorded).is_file():
                marker_set = recorded
        subjects.append(SourceSubject(
            index=i, name=s["name"], split=s["split"], sex=s.get("sex", shape.get("sex", "female")),
            age=float(s.get("age", shape.get("age", 30.0))),
            phenotype=tuple((k, float(v)) for k, v in shape["phenotype"].items()),
            trials=tuple(trials.get(s["name"], ()))))
    splits = {k: list(manifest.get("splits", {}).get(k, [])) for k in SPLITS}
    return SourceDataset(root=root, name=str(manifest.get("name", root.name)), seed=int(manifest.get("seed", 0)),
                         model=model, marker_set=marker_set, marker_set_name=marker_set_name,
                         noise_mm=float(manifest.get("noise_mm", 0.0) or 0.0), splits=splits,
                         subjects=tuple(subjects))


@dataclass(frozen=True, eq=False)
class PosedFrames:
    """Selected frames of one trial, posed.

    Attributes:
        frames: ``(n,)`` frame indices in the trial.
        times: ``(n,)`` seconds from the trial start.
        orientations: ``(n, NB, 3, 3)`` Anny bone world orientations (Anny native axes).
        root: ``(n, 3)`` Anny root-bone head, native axes, metres.
        vertices: ``(n, V, 3)`` OpenSim ground frame, metres.
        joints: ``(n, 52, 3)`` SMPL-H joints, ground frame, metres.
        markers: ``(n, M, 3)`` virtual markers, ground frame, metres (ground projections at the trial's lowest
            vertex).
    """

    frames: np.ndarray
    times: np.ndarray
    orientations: np.ndarray
    root: np.ndarray
    vertices: np.ndarray
    joints: np.ndarray
    markers: np.ndarray


def frame_indices(n_frames: int, count: int) -> np.ndarray:
    """``count`` evenly spaced frame indices over ``n_frames`` (first and last included; fewer when the trial
    is shorter)."""
    return np.unique(np.rint(np.linspace(0, n_frames - 1, min(count, n_frames))).astype(int))


def trc_ground_level(trc: Path, plan) -> float | None:
    """The ground level (m, OpenSim y) of a noise-free synthetic ``.trc`` trial: the height its ground-projection
    markers share (the trial's lowest vertex); None when the plan has no such markers or they disagree."""
    from ..io import read_trc

    rows = plan.ground_rows.numpy()
    if not len(rows):
        return None
    y = read_trc(trc).positions[:, rows, 1]
    return float(y[0, 0]) if np.ptp(y) < 1e-8 else None


def pose_trial(body, osim_model, source_mot: Path, count: int, ground_level: float | None = None) -> PosedFrames:
    """Pose ``count`` evenly spaced frames of a trial on ``body`` (an
    :class:`~biopose_opensim.synth.bodies.AnnySubjectBody`); ``osim_model`` is the loaded OpenSim model.

    ``ground_level`` (m, OpenSim y): the trial's lowest vertex when already known (:func:`trc_ground_level`);
    otherwise the whole trial is posed to find it, as
    :func:`~biopose_opensim.motion.trials.virtual_marker_trajectories` does.
    """
    import torch

    from ..bodymodels.base import ANNY_TO_OPENSIM
    from ..markers.virtual import apply_marker_plan, compile_marker_set
    from ..motion.coordinates import read_motion
    from ..motion.osim_poses import body_poses
    from ..motion.retarget import retarget_poses
    from ..motion.trials import virtual_marker_trajectories

    motion = read_motion(source_mot, osim_model)
    idx = frame_indices(motion.n_frames, count)
    poses = retarget_poses(body.calib, body_poses(osim_model, motion.frames(idx)))
    out = body.body.forward(body.calib.shape, poses)
    A = torch.as_tensor(ANNY_TO_OPENSIM, dtype=out.vertices.dtype)
    vertices, joints = out.vertices @ A.T, out.joints @ A.T
    if ground_level is None:
        markers = virtual_marker_trajectories(body.body, osim_model, motion, body.marker_set,
                                              calibration=body.calib, ground="sequence").positions[idx]
    else:
        plan = compile_marker_set(body.marker_set, body.body.joint_names)
        markers = apply_marker_plan(plan, vertices, joints, up_axis=1, ground=float(ground_level)).numpy()
    return PosedFrames(
        frames=idx, times=motion.times[idx] - motion.times[0],
        orientations=np.asarray(poses.orientations, np.float64), root=np.asarray(poses.root_position, np.float64),
        vertices=vertices.numpy(), joints=joints.numpy(), markers=markers,
    )
