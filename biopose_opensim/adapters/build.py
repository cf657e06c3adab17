"""Adapters: recorded data sets into the synthetic dataset format (shards, manifest, card).

* AMASS / BML-MoVi SMPL-H fits and BEDLAM SMPL-X ground truth: each sequence is posed with the user's
  SMPL-H / SMPL-X files, the virtual-marker set is read off the mesh (OpenSim frame, y up, facing +x at
  the first frame, floor at y = 0) and written as ``.trc``; the static trial is the subject's rest (T)
  pose, which ``label`` prescribes as :data:`T_POSE` (arms abducted 90°, palms down) during marker
  placement, as D3KE scaled from a T-pose. Sequences sharing a shape (``betas``) form one subject.
* OpenCap sessions: the session's own markers (``MarkerData/*.trc``) are labelled by ``label`` on the
  default model with the ``neutral`` trial as static trial; OpenCap's IK becomes ``q_source``.

All three then go through :func:`biopose_opensim.synth.assemble.label_and_assemble`.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import __version__
from ..activities import CoordinateSpace
from ..atomic import atomic_write_text, check_output_dir
from ..bodymodels.smpl import find_model_file
from ..distributed import Task, run_tasks
from ..errors import ConfigError, InputFileError
from ..io import MarkerData, write_coordinates_mot, write_trc
from ..labeling import LabelConfig
from ..labeling.outputs import claim_output_dir, safe_name
from ..markers.sets import load_marker_set
from ..markers.virtual import apply_marker_plan, compile_marker_set
from ..markers.vocabulary import bony_markers, bony_markers_of_set
from ..paths import default_model_path
from ..synth.assemble import DatasetResult, label_and_assemble
from ..synth.jobs import SubjectJob, TrialJob
from ..synth.marker_files import resolve_marker_files
from ..synth.subjects import split_subjects
from .opencap import read_opencap_session
from .sequences import SmplSequence, read_amass, read_bedlam
from .smpl_mesh import rest_root, sequence_meshes

log = logging.getLogger(__name__)

#: The SMPL-family rest pose in the default model's coordinates (radians): arms abducted 90° with palms
#: down (forearms pronated 90°), everything else at 0.
T_POSE = {"arm_add_r": -np.pi / 2, "arm_add_l": -np.pi / 2, "pro_sup_r": np.pi / 2, "pro_sup_l": np.pi / 2}
STATIC_SECONDS = 1.0
#: the command-line option giving the folder of each model type's files (named in error messages)
MODEL_DIR_OPTION = {"smplh": "--smplh-dir", "smplx": "--smplx-dir"}


@dataclass(frozen=True)
class SmplSubjectPlan:
    """One SMPL-family subject to convert (picklable)."""

    name: str
    files: tuple[Path, ...]
    kind: str  # "amass" or "bedlam"
    out_dir: Path
    split: str
    model_dir: Path
    marker_set: Path
    fps: float | None


def _check_out(out: Path, overwrite: bool) -> None:
    check_output_dir(out)
    claim_output_dir(out, overwrite, "is not empty" if out.exists() and any(out.iterdir()) else None,
                     "replace its dataset")


def _read(kind: str, path: Path) -> SmplSequence:
    return read_amass(path) if kind == "amass" else read_bedlam(path)


def group_sequences(files: Sequence[Path], kind: str) -> dict[str, list[Path]]:
    """Subject name -> its sequence files: files with the same ``betas`` (and gender) are one subject,
    named after the parent folder of the first one."""
    groups: dict[tuple, list[Path]] = {}
    for f in sorted(Path(p) for p in files):
        seq = _read(kind, f)
        key = (seq.gender, tuple(np.round(seq.betas, 5)))
        groups.setdefault(key, []).append(f)
    out: dict[str, list[Path]] = {}
    for paths in groups.values():
        base = safe_name(paths[0].parent.name or paths[0].stem)
        name, k = base, 2
        while name in out:
            name, k = f"{base}_{k}", k + 1
        out[name] = paths
    return out


def _markers(plan, marker_set, vertices_chunks) -> np.ndarray:
    out = [apply_marker_plan(plan, v, j, up_axis=1, ground=0.0) for v, j in vertices_chunks]
    return np.concatenate([m.numpy() for m in out])


def convert_smpl_subject(p: SmplSubjectPlan) -> SubjectJob:
    """Pose every sequence of one subject, write its static and motion ``.trc`` files; return its job."""
    out = Path(p.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    vset = load_marker_set(p.marker_set)
    seqs = [_read(p.kind, f) for f in p.files]
    first = seqs[0]
    model_file = find_model_file(p.model_dir, first.model_type, first.gender,
                                 option=MODEL_DIR_OPTION[first.model_type])
    mplan = compile_marker_set(vset, _joint_names())
    root = rest_root(model_file, first.model_type, first.gender, first.betas)
    # static: rest pose facing +x (SMPL faces +z; a quarter turn about +y), feet on the floor
    n = int(round(STATIC_SECONDS * (p.fps or 60.0))) + 1
    quarter = np.tile([0.0, np.pi / 2, 0.0], (n, 1))
    zeros = lambda k: np.zeros((n, k))  # noqa: E731
    static = SmplSequence(first.source, first.model_type, first.gender, first.betas, quarter, zeros(63), zeros(45),
                          zeros(45), zeros(3), p.fps or 60.0, "y",
                          *(3 * [zeros(3)] if first.model_type == "smplx" else []))
    trials = []
    for k, (f, seq) in enumerate([(None, static)] + list(zip(p.files, seqs))):
        if f is not None:
            if seq.model_type != first.model_type or seq.gender != first.gender:
                raise InputFileError(f, f"model {seq.model_type}/{seq.gender} differs from the subject's "
                                        f"{first.model_type}/{first.gender} ({first.source.name})")
            if p.fps:
                seq = seq.subsample(p.fps)
            seq = seq.aligned(root)
        chunks = [(v, j) for v, j in sequence_meshes(seq, model_file)]
        floor = min(float(v[..., 1].min()) for v, _ in chunks)
        chunks = [(v - v.new_tensor([0.0, floor, 0.0]), j - j.new_tensor([0.0, floor, 0.0])) for v, j in chunks]
        markers = _markers(mplan, vset, chunks)
        times = np.arange(seq.n_frames) / seq.fps
        name = f"{p.name}_static" if f is None else safe_name(Path(f).stem)
        data = MarkerData(vset.names, markers, times, float(seq.fps), np.arange(1, seq.n_frames + 1))
        trc = write_trc(out / f"{name}.trc", data, units="mm")
        if f is None:
            static_trc = trc
        else:
            trials.append(TrialJob(name, _activity(Path(f)), trc, None))
    info = {"subject": p.name, "source": p.kind, "files": [str(f) for f in p.files], "gender": first.gender,
            "betas": first.betas.tolist(), "model_file": str(model_file)}
    atomic_write_text(out / "subject.json", json.dumps(info, indent=1))
    sex = first.gender if first.gender in ("male", "female") else None
    return SubjectJob(name=p.name, out_dir=out, static_trc=static_trc, trials=tuple(trials), split=p.split, sex=sex,
                      body_model=first.model_type, shape={"betas": first.betas.tolist(), "gender": first.gender},
                      source=p.kind)


def _joint_names():
    from ..bodymodels.base import SMPLH_JOINT_NAMES

    return SMPLH_JOINT_NAMES


def _activity(path: Path) -> str:
    """Activity label of a sequence: its file stem without trailing pose/take numbers (``walk_03_poses`` -> walk)."""
    parts = [t for t in path.stem.replace("-", "_").split("_") if t and not t.isdigit() and t != "poses"]
    return "_".join(parts) or path.stem


def _meta(kind: str, argv, seed: int, marker_set: Path, xml: Path | None, model: Path, fps) -> dict:
    return {"name": kind, "command": "python -m biopose_opensim.adapters " + " ".join(argv or sys.argv[1:]),
            "version": __version__, "source": kind, "seed": seed, "marker_set": marker_set.stem,
            "opensim_marker_set": str(xml) if xml else "model markers", "model": str(model), "fps": fps}


def build_smpl_dataset(kind: str, files: Sequence[Path], out: Path, model_dir: Path, *, scheduler=None,
                       **kwargs) -> DatasetResult:
    """AMASS (``kind="amass"``, SMPL-H) or BEDLAM (``kind="bedlam"``, SMPL-X) sequences -> labelled dataset.

    Keyword arguments: ``seed``, ``fps`` (subsample to at most this rate; None keeps the file's), ``marker_set``,
    ``model``, ``workers``, ``overwrite``, ``accuracy``, ``progress``, ``argv``. Folders in ``files`` are searched
    recursively for ``*.npz``; ``model_dir`` holds the user's SMPL-H / SMPL-X files.
    """
    with _OneClient(scheduler) as client:
        return _build_smpl(kind, files, out, model_dir, scheduler=client, **kwargs)


def _build_smpl(kind: str, files: Sequence[Path], out: Path, model_dir: Path, *, seed: int = 0,
                fps: float | None = 60.0, marker_set: str | None = None, model: Path | None = None,
                workers: int | None = None, scheduler=None, overwrite: bool = False,
                accuracy: float | None = None, progress: bool = True, argv=None) -> DatasetResult:
    if kind not in ("amass", "bedlam"):
        raise ConfigError(f"unknown SMPL source {kind!r}; expected amass or bedlam")
    start = time.perf_counter()
    out = Path(out)
    paths = _expand(files)
    _check_out(out, overwrite)
    groups = group_sequences(paths, kind)
    model_type = "smplh" if kind == "amass" else "smplx"
    for name, fs in groups.items():  # fail early when the user's model files are missing
        find_model_file(model_dir, model_type, _read(kind, fs[0]).gender, option=MODEL_DIR_OPTION[model_type])
    model = Path(model or default_model_path())
    mfiles = resolve_marker_files(model_type, marker_set, model)
    yaml_set, xml = mfiles.yaml, mfiles.markers_xml
    vset = load_marker_set(yaml_set)
    bony = bony_markers_of_set(vset)
    splits = split_subjects(list(groups), seed)
    plans = [SmplSubjectPlan(n, tuple(fs), kind, out / "subjects" / n, splits[n], Path(model_dir), yaml_set, fps)
             for n, fs in groups.items()]
    res = run_tasks([Task(f"{p.name}/convert", convert_smpl_subject, (p,)) for p in plans], workers=workers,
                    scheduler=scheduler, desc="convert", progress=progress)
    jobs = [o.value for o in res.outcomes if o.ok]
    failures = [(o.key, str(o.error)) for o in res.failed]
    static_mot = _write_t_pose(out, model)
    cfg = LabelConfig(model=model, markers=xml, scale_setup=mfiles.scale_setup, ik_setup=mfiles.ik_setup,
                      static_pose=str(static_mot), accuracy=accuracy, plots=False)
    meta = _meta(kind, argv, seed, yaml_set, xml, model, fps)
    meta["static_pose"] = "T-pose (arm_add -90 deg, pro_sup 90 deg)"
    if not jobs:
        raise InputFileError(paths[0], "no sequence could be converted: " + "; ".join(m for _, m in failures[:3]))
    result = label_and_assemble(out, jobs, cfg, meta, bony, workers=workers, scheduler=scheduler, overwrite=True,
                                progress=progress)
    return DatasetResult(**{**result.__dict__, "failures": tuple(failures) + result.failures,
                            "seconds": time.perf_counter() - start})


def _write_t_pose(out: Path, model: Path) -> Path:
    space = CoordinateSpace.from_osim(model)
    q = space.neutral(2)
    q[:, [space.index(n) for n in space.names if n not in ("pelvis_tx", "pelvis_ty", "pelvis_tz")]] = 0.0
    for k, v in T_POSE.items():
        if k in space.names:
            q[:, space.index(k)] = v
    q = space.clip(q)
    return write_coordinates_mot(out / "static_tpose.mot", np.array([0.0, 1.0]), q, space.names, space.rotational)


class _OneClient:
    """One Dask client for every phase of a build when a scheduler address is given (closed at the end)."""

    def __init__(self, scheduler):
        self.scheduler, self.owned = scheduler, False

    def __enter__(self):
        if isinstance(self.scheduler, str):
            from ..distributed import open_dask_client

            self.scheduler, self.owned = open_dask_client(self.scheduler)
        return self.scheduler

    def __exit__(self, *exc):
        if self.owned:
            self.scheduler.close()


def _expand(files: Sequence[Path]) -> list[Path]:
    out: list[Path] = []
    for f in files:
        f = Path(f)
        if f.is_dir():
            found = sorted(f.rglob("*.npz"))
            if not found:
                raise InputFileError(f, "no .npz sequences in this folder")
            out += found
        elif f.is_file():
            out.append(f)
        else:
            raise InputFileError(f, "not found")
    if not out:
        raise ConfigError("no input sequences given")
    return out


def session_marker_set(session_model: Path, out: Path) -> Path:
    """Write the MarkerSet of an OpenCap session's scaled model to ``out`` (OpenSim XML); return ``out``.

    OpenCap's models (LaiUhlrich2022) share body names with the default model, so their markers attach to it;
    ``label``'s marker placement then fits their locations to the subject's static trial.
    """
    from ..osim import load_model, write_markerset

    model = load_model(session_model)
    return write_markerset(model, out)


def build_opencap_dataset(sessions: Sequence[Path], out: Path, *, scheduler=None, **kwargs) -> DatasetResult:
    """OpenCap session folders -> labelled dataset (markers labelled again on the default model).

    The session model's markers (``OpenSimData/Model/*.osim``) are used as the marker set; sessions without a
    model are labelled with the default model's own markers (``label`` renames known aliases). Keyword
    arguments: ``seed``, ``model``, ``workers``, ``overwrite``, ``accuracy``, ``static``, ``progress``, ``argv``.
    """
    with _OneClient(scheduler) as client:
        return _build_opencap(sessions, out, scheduler=client, **kwargs)


def _build_opencap(sessions: Sequence[Path], out: Path, *, seed: int = 0, model: Path | None = None,
                   workers: int | None = None, scheduler=None, overwrite: bool = False,
                   accuracy: float | None = None, static: str | None = None, progress: bool = True,
                   argv=None) -> DatasetResult:
    start = time.perf_counter()
    out = Path(out)
    found = [read_opencap_session(s, static) for s in sessions]
    names = [safe_name(s.name) for s in found]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ConfigError(f"several sessions have the same subject id: {', '.join(dupes)}")
    with_model = {s.model for s in found if s.model is not None}
    _check_out(out, overwrite)
    splits = split_subjects(names, seed)
    model = Path(model or default_model_path())
    markers_xml = None
    if with_model:
        first = sorted(with_model)[0]
        markers_xml = session_marker_set(first, out / "opencap_markers.xml")
        if len(with_model) > 1:
            log.info("%d sessions carry models; the marker set of %s is used for all", len(with_model), first)
    jobs = []
    for n, s in zip(names, found):
        trials = tuple(TrialJob(safe_name(t.name), _activity(t.trc), t.trc, t.mot) for t in s.trials)
        jobs.append(SubjectJob(name=n, out_dir=out / "subjects" / n, static_trc=s.static, trials=trials,
                               split=splits[n], sex=s.sex, height=s.height, mass=s.mass, body_model="none",
                               shape={}, source="opencap"))
    cfg = LabelConfig(model=model, markers=markers_xml, accuracy=accuracy, plots=False)
    from ..osim import load_model, read_markerset

    if markers_xml:
        marker_names = [m.name for m in read_markerset(markers_xml)]
    else:
        marker_set = load_model(model).getMarkerSet()
        marker_names = [marker_set.get(i).getName() for i in range(marker_set.getSize())]
    meta = _meta("opencap", argv, seed, Path("opencap"), markers_xml, model, None)
    result = label_and_assemble(out, jobs, cfg, meta, bony_markers(marker_names), workers=workers,
                                scheduler=scheduler, overwrite=True, progress=progress)
    return DatasetResult(**{**result.__dict__, "seconds": time.perf_counter() - start})
