"""Render every selected frame of one subject (one task of the process pool).

Per image: pose (:func:`~biopose_opensim.render.source.pose_trial`), draw the scene
(:func:`~biopose_opensim.render.scene.sample_scene`), move mesh, joints and markers into the camera frame,
crop around the projected mesh (:func:`~biopose_opensim.render.camera.person_crop`), render through the crop's
intrinsics, write the JPEG (atomically) and return the image's arrays (see ``docs/renders.md``).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..bodymodels.base import ANNY_TO_OPENSIM
from ..markers.virtual import compile_marker_set
from .appearance import AppearanceRanges, vertex_regions
from .camera import CameraRanges, person_crop, project
from .gl import get_renderer, composite
from .scene import sample_scene
from .source import SourceSubject, pose_trial, trc_ground_level

log = logging.getLogger(__name__)

JPEG_QUALITY = 95


@dataclass(frozen=True)
class SubjectRenderJob:
    """Everything a worker needs to render one subject (picklable)."""

    subject: SourceSubject
    model: Path
    marker_set: str
    noise_mm: float
    stage: Path
    seed: int
    frames_per_trial: int
    crop_size: int
    crop_enlarge: float
    camera: CameraRanges
    appearance: AppearanceRanges


@dataclass(frozen=True, eq=False)
class SubjectImages:
    """The arrays of one subject's images (shard keys, see ``docs/renders.md``) and the render time (s)."""

    arrays: dict
    render_seconds: float
    total_seconds: float

    @property
    def n_images(self) -> int:
        return len(self.arrays["imgname"])


def write_jpeg(path: Path, image: np.ndarray, quality: int = JPEG_QUALITY) -> None:
    """Write ``image (H, W, 3)`` uint8 RGB as a JPEG, atomically."""
    from PIL import Image

    with atomic_path(path) as tmp:
        Image.fromarray(image).save(tmp, format="JPEG", quality=quality)


def render_subject(job: SubjectRenderJob) -> SubjectImages:
    """Render every trial of ``job.subject`` into ``job.stage``; return the images' arrays."""
    from ..osim.model import load_model
    from ..synth.bodies import AnnySubjectBody

    start = time.perf_counter()
    subject = job.subject
    body = AnnySubjectBody(subject.shape(), job.model, job.marker_set)
    model = load_model(job.model)
    faces = body.body.faces.numpy()
    regions = vertex_regions(body.body.bone_labels, body.body.skinning_weights())
    phen = body.shape.as_array().astype(np.float32)
    S = job.crop_size
    renderer = get_renderer(S, S)
    rows: dict[str, list] = {k: [] for k in (
        "imgname", "center", "scale", "keypoints_2d", "keypoints_3d", "cam_K", "cam_t", "anny_orientations",
        "anny_phenotypes", "virtual_markers", "subject", "trial", "frame", "time", "focal_px", "distance_m",
        "elevation_deg", "azimuth_deg")}
    render_s = 0.0
    plan = compile_marker_set(body.marker_set, body.body.joint_names)
    for t_index, trial in enumerate(subject.trials):
        # noise-free source trials hold the ground level; else the whole trial is posed to find it
        level = trc_ground_level(trial.trc, plan) if job.noise_mm == 0 and trial.trc is not None else None
        posed = pose_trial(body, model, trial.source_mot, job.frames_per_trial, level)
        for i, frame in enumerate(posed.frames):
            scene = sample_scene(job.seed, subject.index, t_index, int(frame), posed.joints[i],
                                 body.body.joint_names, len(regions), S, job.camera, job.appearance)
            cam = scene.camera
            verts = cam.to_camera(posed.vertices[i])
            if verts[:, 2].min() < 0.1:
                raise ValueError(f"{subject.name}/{trial.name} frame {frame}: the mesh reaches behind the camera")
            joints = cam.to_camera(posed.joints[i])
            crop = person_crop(verts, cam.K, S, job.crop_enlarge)
            tic = time.perf_counter()
            rgb, alpha = renderer.render(verts, faces, crop.K,
                                         scene.appearance.vertex_colours(regions, scene.jitter), scene.lighting)
            image = composite(rgb, alpha, scene.background)
            render_s += time.perf_counter() - tic
            name = f"images/{subject.split}/{subject.name}/{trial.name}_{int(frame):05d}.jpg"
            write_jpeg(job.stage / name, image)
            uv = project(joints, crop.K)
            inside = ((uv >= 0) & (uv < S)).all(axis=1)
            M = cam.R @ ANNY_TO_OPENSIM  # Anny native axes -> camera frame
            rows["imgname"].append(name)
            rows["center"].append([S / 2, S / 2])
            rows["scale"].append(S / 200.0)
            rows["keypoints_2d"].append(np.concatenate([uv, inside[:, None]], axis=1))
            rows["keypoints_3d"].append(np.concatenate([joints, np.ones((len(joints), 1))], axis=1))
            rows["cam_K"].append(crop.K)
            rows["cam_t"].append(M @ posed.root[i] - cam.R @ cam.centre)
            rows["anny_orientations"].append(M[None] @ posed.orientations[i])
            rows["anny_phenotypes"].append(phen)
            rows["virtual_markers"].append(cam.to_camera(posed.markers[i]))
            rows["subject"].append(subject.name)
            rows["trial"].append(trial.name)
            rows["frame"].append(int(frame))
            rows["time"].append(float(posed.times[i]))
            for k in ("focal_px", "distance_m", "elevation_deg", "azimuth_deg"):
                rows[k].append(getattr(cam, k))
    arrays = {}
    for k, v in rows.items():
        if k in ("imgname", "subject", "trial"):
            arrays[k] = np.array(v, dtype=str)
        elif k == "frame":
            arrays[k] = np.array(v, dtype=np.int32)
        else:
            arrays[k] = np.array(v, dtype=np.float32)
    total = time.perf_counter() - start
    log.info("%s: %d images rendered (%.1f ms per image rendering, %.1f s in all)", subject.name,
             len(rows["imgname"]), 1e3 * render_s / max(1, len(rows["imgname"])), total)
    return SubjectImages(arrays, render_s, total)
