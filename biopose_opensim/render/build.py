"""``render_dataset``: a synthetic marker dataset -> person-crop images, shards, manifest and dataset card.

Nothing half-written is ever left in ``--out``: the dataset is built in a hidden staging folder beside it
(``.<name>.partial-*``) and moved into place only once complete (manifest written last); a failure or Ctrl-C
removes the staging folder. With ``--overwrite`` an existing ``--out`` is replaced at that final step.
"""
from __future__ import annotations

import json
import logging
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__
from ..atomic import atomic_path, atomic_write_text, check_output_dir, replace_dir
from ..bodymodels.base import SMPLH_JOINT_NAMES
from ..distributed import Task, run_tasks
from ..errors import BioposeError, ConfigError, OutputExistsError
from .config import RenderConfig
from .source import SPLITS, SourceDataset, read_source
from .subject import JPEG_QUALITY, SubjectImages, SubjectRenderJob, render_subject

log = logging.getLogger(__name__)

FORMAT = "biopose_opensim.images/1"


class RenderError(BioposeError):
    """A subject could not be rendered (the message names it and the cause)."""


@dataclass(frozen=True)
class RenderResult:
    """Outcome of :func:`render_dataset`.

    Attributes:
        root: the dataset folder.
        manifest: its ``manifest.json``.
        n_images: images written.
        images_per_split: split -> images.
        seconds: wall-clock time of the whole run.
        render_seconds_per_image: mean rasterisation + compositing time per image (excludes posing and I/O).
        seconds_per_image: wall-clock time of the whole run over the number of images.
    """

    root: Path
    manifest: Path
    n_images: int
    images_per_split: dict[str, int]
    seconds: float
    render_seconds_per_image: float
    seconds_per_image: float


def _check_out(config: RenderConfig, source_root: Path) -> None:
    out, data = config.out.resolve(), source_root.resolve()
    if out == data or data in out.parents or out in data.parents:
        raise ConfigError(f"--out {config.out} must lie outside --data {source_root} (and not contain it)")
    check_output_dir(config.out)
    if config.out.exists() and any(config.out.iterdir()) and not config.overwrite:
        what = "an image dataset (manifest.json)" if (config.out / "manifest.json").is_file() else "files"
        raise OutputExistsError(f"{config.out} already holds {what}; nothing was changed. Pass --overwrite to "
                                "replace it, or choose another --out folder")


def _write_shards(stage: Path, split: str, parts: list[dict], per_shard: int, names: dict) -> list[dict]:
    if not parts:
        return []
    arrays = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    n = len(arrays["imgname"])
    shards = []
    for k, lo in enumerate(range(0, n, per_shard)):
        rel = f"shards/{split}-{k:05d}.npz"
        with atomic_path(stage / rel) as tmp:
            np.savez(tmp, **{key: v[lo:lo + per_shard] for key, v in arrays.items()}, **names)
        shards.append({"path": rel, "split": split, "n_images": int(min(per_shard, n - lo))})
    return shards


def render_dataset(config: RenderConfig, progress: bool = True, argv: list[str] | None = None) -> RenderResult:
    """Render the subjects of ``config.data`` in ``config.splits`` (see ``docs/renders.md``).

    Raises:
        InputFileError: a missing or invalid source dataset (the message names the file).
        OutputExistsError: ``config.out`` is not empty and ``overwrite`` is False.
        ConfigError: bad settings; RenderError: a subject failed to render (nothing is written then).
    """
    start = time.perf_counter()
    source = read_source(config.data)
    _check_out(config, source.root)
    subjects = [s for s in source.subjects if s.split in config.splits and s.trials]
    if not subjects:
        raise ConfigError(f"{source.root}: no subject with trials in split(s) {','.join(config.splits)}")
    config.out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{config.out.name}.partial-", dir=config.out.parent))
    try:
        jobs = [SubjectRenderJob(s, source.model, source.marker_set, source.noise_mm, stage, config.seed,
                                 config.frames_per_trial, config.crop_size, config.crop_enlarge, config.camera,
                                 config.appearance)
                for s in subjects]
        res = run_tasks([Task(j.subject.name, render_subject, (j,)) for j in jobs], workers=config.workers,
                        scheduler=config.scheduler, desc="render", progress=progress)
        failed = [f"{o.key}: {o.error}" for o in res.outcomes if not o.ok]
        if failed:
            raise RenderError(f"{len(failed)} subject(s) failed to render, nothing was written: {'; '.join(failed)}")
        done: list[tuple[SubjectRenderJob, SubjectImages]] = list(zip(jobs, (o.value for o in res.outcomes)))
        result = _assemble(config, source, stage, done, argv, start)
        replace_dir(stage, config.out)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
    log.info("%d images in %s (%.1f s; %.1f ms per image rendering, %.2f s per image in all)", result.n_images,
             config.out, result.seconds, 1e3 * result.render_seconds_per_image, result.seconds_per_image)
    return RenderResult(**{**result.__dict__, "root": config.out, "manifest": config.out / "manifest.json"})


def _assemble(config: RenderConfig, source: SourceDataset, stage: Path, done, argv, start: float) -> RenderResult:
    from ..markers.sets import load_marker_set
    from .card import write_card

    marker_names = load_marker_set(source.marker_set).names
    from ..bodymodels.anny import AnnyBodyModel

    bone_names = AnnyBodyModel().bone_labels
    names = {"joint_names": np.array(SMPLH_JOINT_NAMES, dtype=str), "marker_names": np.array(marker_names, dtype=str),
             "bone_names": np.array(bone_names, dtype=str)}
    shards, per_split = [], {}
    for split in SPLITS:
        parts = [r.arrays for j, r in done if j.subject.split == split and r.n_images]
        shards += _write_shards(stage, split, parts, config.shard_images, names)
        per_split[split] = int(sum(len(p["imgname"]) for p in parts))
    n = sum(per_split.values())
    render_s = sum(r.render_seconds for _, r in done)
    seconds = time.perf_counter() - start
    manifest = {
        "format": FORMAT, "name": config.out.name,
        "command": "python -m biopose_opensim.render " + " ".join(argv if argv is not None else sys.argv[1:]),
        "version": __version__,
        "source": {"path": str(source.root), "name": source.name, "seed": source.seed},
        "seed": config.seed, "crop_size": config.crop_size, "crop_enlarge": config.crop_enlarge,
        "jpeg_quality": JPEG_QUALITY, "frames_per_trial": config.frames_per_trial,
        "rendered_splits": list(config.splits), "body_model": "anny", "marker_set": source.marker_set_name,
        "splits": source.splits, "shards": shards,
        "totals": {"images": n, "images_per_split": per_split, "subjects": len(done),
                   "trials": int(sum(len(j.subject.trials) for j, _ in done))},
        "units": {"keypoints_2d": "px (stored image)", "keypoints_3d": "m", "cam_K": "px", "cam_t": "m",
                  "virtual_markers": "m", "time": "s", "focal_px": "px (virtual full frame)", "distance_m": "m",
                  "elevation_deg": "deg", "azimuth_deg": "deg"},
        "frames": {"camera": "OpenCV: x right, y down, z forward",
                   "image": "px, origin at the top-left corner of the top-left pixel, x right, y down",
                   "anny_orientations": "Anny bone world orientations rotated into the camera frame; "
                                        "Anny(phenotypes, orientations, root_position=0) + cam_t = camera-frame mesh"},
        "camera": config.camera.to_dict(), "appearance": config.appearance.to_dict(),
        "timing": {"seconds": round(seconds, 2), "render_ms_per_image": round(1e3 * render_s / max(n, 1), 2)},
        "joint_names": list(SMPLH_JOINT_NAMES), "marker_names": list(marker_names),
    }
    write_card(stage, manifest, shards)
    atomic_write_text(stage / "manifest.json", json.dumps(manifest, indent=1))
    return RenderResult(stage, stage / "manifest.json", n, per_split, seconds, render_s / max(n, 1),
                        seconds / max(n, 1))
