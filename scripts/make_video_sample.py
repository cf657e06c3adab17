"""Render the shipped sample clip of the video -> OpenSim pipeline from a held-out synthetic subject.

    python scripts/make_video_sample.py --data data/neurik_synth --subject s004 --trial walk --start 0.5 \
        --duration 2.0 --fps 15 --size 320x240 --out biopose_opensim/data/video_sample --seed 0

The subject (a ``val`` or ``test`` subject of a ``python -m biopose_opensim.synth`` dataset; ``train`` subjects are
refused) is posed exactly as ``python -m biopose_opensim.render`` poses it
(:func:`biopose_opensim.render.source.pose_trial`), the trial's frames from ``--start`` for ``--duration`` seconds
are taken at ``--fps`` (every ``trial rate / fps``-th frame), and one fixed, level camera films the whole clip
(see :func:`place_camera`). Written to ``--out`` (built in a staging folder beside it, then moved into place):

* ``clip.mp4``: the frames (H.264, :func:`biopose_opensim.video.frames.write_video`);
* ``keypoints_coco.json``: COCO keypoints, the exact projected SMPL-H joints converted to ``coco17``;
* ``camera.json``: intrinsics, image size, frame rate, the camera's pose in the OpenSim ground frame, the rule
  that chose it;
* ``truth.mot`` / ``source.mot``: the OpenSim IK labels / generating coordinates of the clip's frames (t from 0);
* ``truth_joints.npz``: the 52 SMPL-H joints per frame (camera and ground frames, m), their pixels, phenotypes;
* ``subject.json`` and ``README.md``.
"""
from __future__ import annotations

import argparse
import functools
import json
import logging
import shlex
import shutil
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from biopose_opensim.atomic import atomic_path, atomic_write_text, replace_dir  # noqa: E402
from biopose_opensim.cli import add_verbosity_arguments, run_cli, setup_logging  # noqa: E402
from biopose_opensim.errors import ConfigError, InputFileError, OutputExistsError  # noqa: E402

log = logging.getLogger("make_video_sample")

#: Files this script writes (an ``--out`` holding anything else is refused).
OUTPUTS = ("clip.mp4", "keypoints_coco.json", "camera.json", "truth.mot", "source.mot", "truth_joints.npz",
           "subject.json", "README.md")
#: COCO's keypoint skeleton (1-based keypoint pairs), as in the COCO person category.
COCO_SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8], [7, 9],
                 [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]]
#: Largest camera distance tried when the person does not fit at ``--distance``, m.
MAX_DISTANCE_M = 6.0
#: Pixels kept free between the person's projected mesh and the image border.
MARGIN_PX = 4.0


@dataclass(frozen=True)
class ClipCamera:
    """The fixed camera of the clip.

    Attributes:
        R: ``(3, 3)`` rotation OpenSim ground -> camera (OpenCV: x right, y down, z forward).
        centre: ``(3,)`` camera centre, ground frame, m.
        K: ``(3, 3)`` intrinsics, px.
        target: ``(3,)`` the point looked at (ground frame, m).
        walking: ``(3,)`` horizontal unit walking direction (ground frame).
        azimuth_deg: angle about the vertical from the walking direction to the camera (positive: to the
            subject's right).
        distance_m: horizontal distance from ``target`` to the camera, m.
        mesh_box_px: ``(x0, y0, x1, y1)`` bounding box of the projected mesh over every frame, px.
    """

    R: np.ndarray
    centre: np.ndarray
    K: np.ndarray
    target: np.ndarray
    walking: np.ndarray
    azimuth_deg: float
    distance_m: float
    mesh_box_px: tuple[float, float, float, float]

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """Ground-frame points ``(..., 3)`` -> camera frame ``(..., 3)``, m."""
        return (np.asarray(points, float) - self.centre) @ self.R.T


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in pixels, got {text!r}") from None
    if not (16 <= w <= 4096 and 16 <= h <= 4096):
        raise argparse.ArgumentTypeError(f"image size must lie in 16..4096 px, got {w}x{h}")
    return w, h


def select_subject(source, name: str):
    """The held-out subject ``name`` of the source dataset; refuses an unknown or ``train`` subject."""
    by_name = {s.name: s for s in source.subjects}
    held = ", ".join(f"{k}: {' '.join(v)}" for k, v in source.splits.items() if k != "train")
    if name not in by_name:
        raise InputFileError(source.root / "manifest.json", f"no subject {name!r} (held-out subjects: {held})")
    subject = by_name[name]
    if subject.split == "train":
        raise ConfigError(f"subject {name!r} is in the train split of {source.root / 'manifest.json'}; the sample "
                          f"clip must be held out: choose a val or test subject ({held})")
    return subject


def clip_frames(times: np.ndarray, start: float, duration: float, fps: float, where: str) -> np.ndarray:
    """Indices of the trial frames ``times (N,)`` s of a clip from ``start`` s, ``duration`` s long, at ``fps``.

    Raises:
        ConfigError: ``fps`` does not divide the trial's rate, or the clip runs past the trial (naming ``where``).
    """
    rate = 1.0 / float(np.median(np.diff(times)))
    step = rate / fps if fps > 0 else 0.0
    if abs(step - round(step)) > 1e-6 or round(step) < 1:
        raise ConfigError(f"--fps {fps:g} must divide the trial rate ({rate:g} Hz) of {where}")
    first = int(round(start * rate))
    n = int(round(duration * fps))
    idx = first + int(round(step)) * np.arange(n)
    if start < 0 or n < 2 or idx[-1] >= len(times):
        raise ConfigError(f"--start {start:g} --duration {duration:g} at {fps:g} fps needs trial frames "
                          f"{first}..{idx[-1] if n else first}; {where} has {len(times)} frames "
                          f"({times[-1] - times[0]:.3f} s)")
    return idx


def place_camera(vertices: np.ndarray, pelvis: np.ndarray, forward: np.ndarray, size: tuple[int, int],
                 azimuth_deg: float, distance_m: float) -> ClipCamera:
    """One level camera for the whole clip.

    The walking direction is the pelvis' horizontal displacement from the first to the last frame (the subject's
    facing direction ``forward`` when it moves less than 0.2 m). The camera looks horizontally at the midpoint
    of the pelvis path, at the mean pelvis height, from ``distance_m`` away, ``azimuth_deg`` about the vertical
    from the walking direction; its focal length is the image width in px, principal point at the image
    centre. When the projected mesh of some frame comes within :data:`MARGIN_PX` of the border, the camera
    backs away in 0.1 m steps (up to :data:`MAX_DISTANCE_M`).

    Args:
        vertices: ``(T, V, 3)`` posed mesh, OpenSim ground frame (x forward, y up, z right), m.
        pelvis: ``(T, 3)`` pelvis joint, ground frame, m.
        forward: ``(3,)`` horizontal unit facing direction of the subject.
        size: ``(W, H)`` px.

    Raises:
        ConfigError: the person does not fit in the image at any distance up to :data:`MAX_DISTANCE_M`.
    """
    from biopose_opensim.render.camera import UP, look_at, project

    W, H = size
    walk = pelvis[-1] - pelvis[0]
    walk = walk - (walk @ UP) * UP
    walking = walk / np.linalg.norm(walk) if np.linalg.norm(walk) > 0.2 else np.asarray(forward, float)
    right = np.cross(walking, UP)
    target = 0.5 * (pelvis[0] + pelvis[-1])
    target[1] = pelvis[:, 1].mean()
    a = np.radians(azimuth_deg)
    K = np.array([[float(W), 0.0, W / 2], [0.0, float(W), H / 2], [0.0, 0.0, 1.0]])
    d = float(distance_m)
    while d <= MAX_DISTANCE_M + 1e-9:
        centre = target + d * (np.cos(a) * walking + np.sin(a) * right)
        R = look_at(centre, target)
        cam = (vertices - centre) @ R.T
        if cam[..., 2].min() > 0.1:
            uv = project(cam, K)
            lo, hi = uv.reshape(-1, 2).min(axis=0), uv.reshape(-1, 2).max(axis=0)
            if (lo >= MARGIN_PX).all() and hi[0] <= W - MARGIN_PX and hi[1] <= H - MARGIN_PX:
                return ClipCamera(R, centre, K, target, walking, float(azimuth_deg), d,
                                  (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])))
        d = round(d + 0.1, 6)
    raise ConfigError(f"the person does not fit in a {W}x{H} image from {distance_m:g} to {MAX_DISTANCE_M:g} m "
                      f"at azimuth {azimuth_deg:g} deg; choose a larger --size or a shorter clip")


def coco_json(uv: np.ndarray, size: tuple[int, int], mesh_uv: np.ndarray, source: str) -> dict:
    """COCO keypoint JSON of a clip: one image per frame (``file_name`` = the frame's id ``"000000"``, ... as
    :attr:`biopose_opensim.video.frames.Frames.names` of a video), one person annotation per frame.

    Args:
        uv: ``(T, 52, 2)`` projected SMPL-H joints, px.
        size: ``(W, H)`` px.
        mesh_uv: ``(T, V, 2)`` projected mesh vertices, px (the person's bounding box).
    """
    from biopose_opensim import keypoints as kp

    W, H = size
    inside = ((uv >= 0) & (uv[..., :1] < W) & (uv[..., 1:] < H)).all(axis=-1)
    coco = kp.to_layout(np.concatenate([uv, inside[..., None].astype(float)], axis=-1), "smplh52", "coco17")
    names = kp.layout("coco17").names
    images, anns = [], []
    for t in range(len(uv)):
        v = np.where(coco[t, :, 2] > 0, 2, 0)
        xy = np.where(v[:, None] > 0, coco[t, :, :2], 0.0)
        lo, hi = mesh_uv[t].min(axis=0), mesh_uv[t].max(axis=0)
        images.append({"id": t + 1, "file_name": f"{t:06d}", "width": W, "height": H, "frame_index": t})
        anns.append({"id": t + 1, "image_id": t + 1, "category_id": 1, "iscrowd": 0,
                     "num_keypoints": int((v > 0).sum()),
                     "keypoints": [round(float(x), 3) if k < 2 else int(x) for p in np.column_stack([xy, v])
                                   for k, x in enumerate(p)],
                     "bbox": [round(float(lo[0]), 2), round(float(lo[1]), 2), round(float(hi[0] - lo[0]), 2),
                              round(float(hi[1] - lo[1]), 2)],
                     "area": round(float((hi - lo).prod()), 1)})
    return {"info": {"description": f"exact projected joints of a synthetic clip ({source})", "version": "1.0"},
            "images": images, "annotations": anns,
            "categories": [{"id": 1, "name": "person", "supercategory": "person", "keypoints": list(names),
                            "skeleton": COCO_SKELETON}]}


def _check_out(out: Path, data: Path) -> None:
    o, d = out.resolve(), data.resolve()
    if o == d or d in o.parents or o in d.parents:
        raise ConfigError(f"--out {out} must lie outside --data {data} (and not contain it)")
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"--out {out} is a file; nothing was changed")
    if out.is_dir():
        other = sorted(p.name for p in out.iterdir() if p.name not in OUTPUTS)
        if other:
            raise OutputExistsError(f"{out} holds files this script does not write ({', '.join(other[:5])}); "
                                    "nothing was changed. Choose an empty or a previous sample folder")


def make_sample(args: argparse.Namespace, command: str) -> Path:
    """Build the sample clip described by ``args`` into ``args.out``; return ``args.out``."""
    from biopose_opensim.bodymodels.anny import PHENOTYPES
    from biopose_opensim.bodymodels.base import SMPLH_JOINT_NAMES
    from biopose_opensim.io import write_coordinates_mot
    from biopose_opensim.markers.virtual import compile_marker_set
    from biopose_opensim.motion.coordinates import read_motion
    from biopose_opensim.osim.model import load_model
    from biopose_opensim.render.appearance import AppearanceRanges, sample_appearance, sample_lighting, \
        vertex_regions
    from biopose_opensim.render.background import background
    from biopose_opensim.render.camera import project, subject_frame
    from biopose_opensim.render.gl import render_frames
    from biopose_opensim.render.source import pose_trial, read_source, trc_ground_level
    from biopose_opensim.synth.bodies import AnnySubjectBody
    from biopose_opensim.video.frames import write_video

    source = read_source(args.data)
    subject = select_subject(source, args.subject)
    names = [t.name for t in subject.trials]
    if args.trial not in names:
        raise InputFileError(source.root / "manifest.json",
                             f"subject {subject.name} has no trial {args.trial!r} (trials: {', '.join(names)})")
    t_index = names.index(args.trial)
    trial = subject.trials[t_index]
    _check_out(args.out, source.root)
    ik_mot = trial.source_mot.with_name(f"{trial.name}_ik.mot")
    if not ik_mot.is_file():
        raise InputFileError(ik_mot, f"OpenSim IK labels of trial {subject.name}/{trial.name} not found")
    info_path = trial.source_mot.parent / "subject.json"
    info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.is_file() else {}

    model = load_model(source.model)
    src = read_motion(trial.source_mot, model)
    ik = read_motion(ik_mot, model)
    where = f"{subject.name}/{trial.name}"
    if ik.n_frames != src.n_frames or not np.allclose(ik.times, src.times, atol=1e-6):
        raise InputFileError(ik_mot, f"{ik.n_frames} frames; the source motion {trial.source_mot} has "
                                     f"{src.n_frames} at other times")
    idx = clip_frames(src.times, args.start, args.duration, args.fps, where)
    log.info("%s: trial frames %d..%d every %d (%d frames)", where, idx[0], idx[-1], idx[1] - idx[0], len(idx))

    # pose every trial frame exactly as the renderer does, then keep the clip's
    body = AnnySubjectBody(subject.shape(), source.model, source.marker_set)
    plan = compile_marker_set(body.marker_set, body.body.joint_names)
    level = trc_ground_level(trial.trc, plan) if source.noise_mm == 0 and trial.trc is not None else None
    posed = pose_trial(body, model, trial.source_mot, src.n_frames, level)
    if not np.array_equal(posed.frames, np.arange(src.n_frames)):
        raise InputFileError(trial.source_mot, "posing did not return every frame of the trial")
    verts, joints = posed.vertices[idx], posed.joints[idx]
    jn = list(body.body.joint_names)
    mid = len(idx) // 2
    forward, _ = subject_frame(joints[mid, jn.index("left_hip")], joints[mid, jn.index("right_hip")])
    cam = place_camera(verts, joints[:, jn.index("pelvis")], forward, args.size, args.azimuth, args.distance)
    log.info("camera %.2f m from the clip's mid-pelvis, azimuth %.0f deg, mesh box %s px", cam.distance_m,
             cam.azimuth_deg, tuple(round(v, 1) for v in cam.mesh_box_px))

    rng = np.random.default_rng([int(args.seed), subject.index, t_index])
    ranges = AppearanceRanges()
    look = sample_appearance(rng, ranges)
    light = sample_lighting(rng, ranges)
    W, H = args.size
    bg = background(rng, max(W, H))[:H, :W]
    regions = vertex_regions(body.body.bone_labels, body.body.skinning_weights())
    jitter = 1.0 + rng.uniform(-0.03, 0.03, size=len(regions))
    verts_cam, joints_cam = cam.to_camera(verts), cam.to_camera(joints)
    frames = render_frames(verts_cam, body.body.faces.numpy(), cam.K, (W, H), look.vertex_colours(regions, jitter),
                           bg, light)
    uv = project(joints_cam, cam.K)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{args.out.name}.partial-", dir=args.out.parent))
    stage.chmod(0o755)
    try:
        n = write_video(stage / "clip.mp4", frames, args.fps, crf=args.crf)
        atomic_write_text(stage / "keypoints_coco.json", json.dumps(
            coco_json(uv, (W, H), project(verts_cam, cam.K), f"{source.name} {where}"), indent=None))
        times = np.arange(len(idx)) / float(args.fps)
        rot = dict(zip(ik.coordinate_names, map(bool, ik.rotational)))
        write_coordinates_mot(stage / "truth.mot", times, ik.q[idx], ik.coordinate_names, rot,
                              name=f"{subject.name}_{trial.name}_ik_clip")
        write_coordinates_mot(stage / "source.mot", times, src.q[idx], src.coordinate_names,
                              dict(zip(src.coordinate_names, map(bool, src.rotational))),
                              name=f"{subject.name}_{trial.name}_source_clip")
        phen = np.array([dict(subject.phenotype)[p] for p in PHENOTYPES])
        with atomic_path(stage / "truth_joints.npz", suffix=".npz") as tmp:
            np.savez_compressed(tmp, joints_cam=joints_cam.astype(np.float32), joints_ground=joints.astype(np.float32),
                                keypoints_2d=uv.astype(np.float32), joint_names=np.array(SMPLH_JOINT_NAMES),
                                anny_phenotypes=phen, phenotype_names=np.array(PHENOTYPES), K=cam.K,
                                R=cam.R, centre=cam.centre, times=times, trial_frames=idx.astype(np.int32))
        camera = {
            "K": cam.K.tolist(), "width": W, "height": H, "fps": float(args.fps), "n_frames": int(n),
            "R_ground_to_camera": cam.R.tolist(), "centre_ground_m": cam.centre.tolist(),
            "T_camera_from_ground": np.vstack([np.hstack([cam.R, (-cam.R @ cam.centre)[:, None]]),
                                               [0, 0, 0, 1]]).tolist(),
            "frames": {"ground": "OpenSim ground: x forward, y up, z right, m",
                       "camera": "OpenCV: x right, y down, z forward; p_cam = R (p_ground - centre)",
                       "image": "px, origin at the top-left corner of the top-left pixel, x right, y down"},
            "chosen": {
                "rule": "level camera at the mean pelvis height looking at the midpoint of the clip's pelvis path; "
                        "azimuth about the vertical from the walking direction (pelvis displacement, first to "
                        "last frame); focal = image width px, principal point at the centre; backed away in "
                        f"0.1 m steps until the mesh stays {MARGIN_PX:g} px inside every frame",
                "azimuth_deg": cam.azimuth_deg, "distance_m": cam.distance_m, "elevation_deg": 0.0,
                "target_ground_m": cam.target.tolist(), "walking_direction_ground": cam.walking.tolist(),
                "mesh_box_px": list(cam.mesh_box_px)},
        }
        atomic_write_text(stage / "camera.json", json.dumps(camera, indent=1))
        subj = {"name": subject.name, "split": subject.split, "dataset": source.name, "trial": trial.name,
                "trial_frames": idx.tolist(), "sex": subject.sex, "age": subject.age,
                "phenotype": dict(subject.phenotype), "height_m": info.get("height_m"),
                "mass_kg": info.get("mass_kg"), "body_model": "anny", "model": source.model.name,
                "appearance": {"skin": look.skin.round(4).tolist(), "top": look.top.round(4).tolist(),
                               "bottom": look.bottom.round(4).tolist(), "shoe": look.shoe.round(4).tolist(),
                               "long_sleeves": look.long_sleeves, "long_trousers": look.long_trousers}}
        atomic_write_text(stage / "subject.json", json.dumps(subj, indent=1))
        atomic_write_text(stage / "README.md", readme(command, subject, trial.name, idx, cam, args, info,
                                                      source, stage))
        replace_dir(stage, args.out)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
    return args.out


def readme(command: str, subject, trial: str, idx: np.ndarray, cam: ClipCamera, args, info: dict, source,
           stage: Path) -> str:
    """The sample's README (what, how, files, provenance)."""
    W, H = args.size
    kb = (stage / "clip.mp4").stat().st_size / 1024
    phen = ", ".join(f"{k} {v:.4f}" for k, v in subject.phenotype)
    height = f"{info['height_m']:.3f} m" if info.get("height_m") else "n/a"
    mass = f"{info['mass_kg']:.2f} kg" if info.get("mass_kg") else "n/a"
    what = (f"A {len(idx)}-frame, {W}x{H}, {args.fps:g} frames/s clip ({args.duration:g} s) of a synthetic person "
            "walking, with its OpenSim ground truth, for trying and testing the video -> OpenSim pipeline. It is "
            "**synthetic: no real person is depicted**. The body is the Anny parametric body model posed by this "
            "project's generating coordinates; the frames were rendered by this project (`biopose_opensim.render`, "
            "headless).")
    side = (f"{'in front' if abs(cam.azimuth_deg) < 90 else 'behind'}, to the subject's "
            f"{'right' if cam.azimuth_deg >= 0 else 'left'}")
    how = (f"The subject is `{subject.name}` of the `{source.name}` dataset (`python -m biopose_opensim.synth`), "
           f"in its **{subject.split}** split: neither the subject nor its motion is in the train split. Subject: "
           f"{subject.sex}, age {subject.age:g}, height {height}, mass {mass}; Anny phenotypes {phen}. Trial "
           f"`{trial}`: trial frames {idx[0]}..{idx[-1]} every {idx[1] - idx[0]} (from t = {args.start:g} s), posed "
           "exactly as the renderer poses them (`render.source.pose_trial`). One fixed, level camera films the "
           f"whole clip: {cam.distance_m:.2f} m from the midpoint of the pelvis path, at the mean pelvis height, "
           f"{cam.azimuth_deg:g} deg about the vertical from the walking direction ({side}), focal length {W} px, "
           "principal point at the image "
           f"centre; the projected mesh stays inside every frame (x {cam.mesh_box_px[0]:.0f}..{cam.mesh_box_px[2]:.0f}"
           f" px, y {cam.mesh_box_px[1]:.0f}..{cam.mesh_box_px[3]:.0f} px over the clip). Clothing, skin tone, light "
           f"and the procedural background are drawn once from seed {args.seed} (`render.appearance`, "
           "`render.background`).")
    fill = functools.partial(textwrap.fill, width=115, break_on_hyphens=False)
    return f"""# Video -> OpenSim sample clip

{fill(what)}

## How it was made

    {command}

{fill(how)}

## Files

- `clip.mp4` ({kb:.0f} KiB): the frames, H.264 (crf {args.crf}), `video.frames.write_video`; read with
  `video.frames.open_frames`.
- `keypoints_coco.json`: COCO keypoint JSON, one image per frame (`file_name` `000000`, ... = the frame ids of
  `open_frames`), one person each: the exact projections of the body model's joints converted from `smplh52` to
  `coco17` (`keypoints.to_layout`). Hips, knees, ankles, shoulders, elbows, wrists have `v` = 2 (labelled;
  self-occlusion is not marked); nose, eyes and ears are no joint of the model and have `v` = 0. `bbox`: the
  projected mesh's box. Read with `video.keypoint_files.read_coco` / `read_keypoints`.
- `camera.json`: `K` (px), image size, fps, `R_ground_to_camera`, `centre_ground_m`, `T_camera_from_ground`
  (OpenSim ground frame: x forward, y up, z right; camera: OpenCV x right, y down, z forward) and how the camera
  was chosen.
- `truth.mot`: the OpenSim IK labels (`{trial}_ik.mot` of the dataset, OpenSim IK on the generated markers) of
  exactly the clip's frames, times from 0, every coordinate of the Rajagopal/Lai/Uhlrich 2023 model, degrees.
- `source.mot`: the generating coordinates of the same frames (`{trial}_source.mot`), same layout.
- `truth_joints.npz`: `joints_cam` (T, 52, 3) SMPL-H joints in the camera frame, m; `joints_ground` (T, 52, 3)
  in the OpenSim ground frame, m; `keypoints_2d` (T, 52, 2) their pixels; `joint_names`; `anny_phenotypes` (6,)
  in `phenotype_names` order; `K`, `R`, `centre`; `times` (s); `trial_frames` (indices in the source trial).
- `subject.json`: name, split, phenotypes, sex, age, height and mass (from the dataset), the trial frames and the
  drawn appearance.

The subject's scaled OpenSim model is not shipped: scale the generic model
(`osim_models/RajagopalLaiUhlrich2023.osim`) or use the pipeline's own estimate.

## Attribution

- Anny body model (Apache-2.0).
- The Rajagopal/Lai/Uhlrich OpenSim model: Rajagopal et al. (2016) with the changes of Lai et al. (2017) and
  Uhlrich et al. (2022), from the opensim-models collection (Apache-2.0); see `osim_models/README.md`.
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path, help="synthetic dataset (python -m biopose_opensim.synth)")
    p.add_argument("--subject", required=True, help="a val or test subject of --data")
    p.add_argument("--trial", required=True, help="the subject's trial (e.g. walk)")
    p.add_argument("--start", type=float, default=0.5, help="clip start in the trial, s (default 0.5)")
    p.add_argument("--duration", type=float, default=2.0, help="clip length, s (default 2)")
    p.add_argument("--fps", type=float, default=15.0, help="clip frame rate; must divide the trial's (default 15)")
    p.add_argument("--size", type=parse_size, default=(320, 240), help="WIDTHxHEIGHT px (default 320x240)")
    p.add_argument("--azimuth", type=float, default=40.0,
                   help="camera azimuth from the walking direction, deg, positive to the right (default 40)")
    p.add_argument("--distance", type=float, default=4.5, help="camera distance from the clip centre, m (default 4.5)")
    p.add_argument("--crf", type=int, default=20, help="x264 constant rate factor (default 20)")
    p.add_argument("--seed", type=int, default=0, help="appearance, light and background seed (default 0)")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    add_verbosity_arguments(p)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    command = "python scripts/make_video_sample.py " + " ".join(shlex.quote(a) for a in argv)

    def run() -> int:
        out = make_sample(args, command)
        for name in OUTPUTS:
            log.info("%-20s %8.1f KiB", name, (out / name).stat().st_size / 1024)
        return 0

    return run_cli(run)


if __name__ == "__main__":
    raise SystemExit(main())
