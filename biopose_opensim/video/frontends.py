"""Front ends of the video pipeline: a clip's frames (and 2D keypoints) -> Anny over the clip, camera frame.

Both return :class:`BodySequence` (camera frame: OpenCV, x right, y down, z forward; metres):

* ``fit`` (:func:`run_fit`): the Anny body model fitted to the 2D keypoints of the whole clip
  (:func:`biopose_opensim.video.fit.fit_anny`: shape shared, pose per frame, smoothness and priors). Needs
  keypoints; works on real video without any network trained on real data.
* ``mqhmr`` (:func:`run_mqhmr`): an MQ-HMR checkpoint per frame on a person crop (the box of the keypoints,
  else the whole frame), with 2D-informed refinement of its query tokens when keypoints are given; its
  crop camera (focal 5000 over the crop) is carried to the frame's camera (HMR 2.0's crop-to-full conversion:
  ``t = (tx + 2 (cx - W/2) / (s b), ty + 2 (cy - H/2) / (s b), 2 f / (s b))`` for a box of side ``b`` px at
  ``(cx, cy)``); the clip's shape is the per-frame phenotypes' median.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..errors import ConfigError
from .frames import Frames
from .tracks import KeypointTrack

log = logging.getLogger(__name__)

FRONTENDS = ("fit", "mqhmr")


@dataclass(frozen=True, eq=False)
class BodySequence:
    """Anny over a clip, camera frame.

    Attributes:
        orientations: ``(T, 104, 3, 3)`` world orientation of every Anny bone in the camera frame.
        phenotypes: ``(6,)`` Anny phenotypes of the clip.
        cam_t: ``(T, 3)`` metres, the root-bone head in the camera frame.
        filled: ``(T,)`` True where the frame had no person detected (carried, not observed).
        reprojection_px: ``(T,)`` mean 2D distance of the body's joints to the keypoints, px (NaN without them).
        seconds: front-end wall time; ``stages`` its parts (name -> seconds).
    """

    orientations: np.ndarray
    phenotypes: np.ndarray
    cam_t: np.ndarray
    filled: np.ndarray
    reprojection_px: np.ndarray
    seconds: float
    stages: dict


def run_fit(track: KeypointTrack, K: np.ndarray, height_m: float | None = None, progress: bool = True,
            config=None) -> BodySequence:
    """The ``fit`` front end (see the module docstring)."""
    from .fit import FitConfig, fit_anny

    res = fit_anny(track, K, config or FitConfig(), height_m=height_m, progress=progress)
    return BodySequence(orientations=res.orientations, phenotypes=res.phenotypes, cam_t=res.cam_t,
                        filled=np.asarray(res.filled, bool), reprojection_px=res.reprojection_px,
                        seconds=res.seconds, stages={"fit": res.seconds})


def person_boxes(track: KeypointTrack | None, size: tuple[int, int], n_frames: int, enlarge: float = 1.25,
                 min_confidence: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Square person boxes ``(centres (T, 2) px, sides (T,) px)``: the keypoints' bounding box enlarged (frames
    without keypoints take the nearest frame's box), or the whole frame without a track."""
    W, H = size
    centres = np.tile([W / 2.0, H / 2.0], (n_frames, 1))
    sides = np.full(n_frames, float(max(W, H)))
    if track is None:
        return centres, sides
    ok = np.zeros(n_frames, bool)
    for t in range(n_frames):
        sel = track.confidence[t] >= min_confidence
        if track.detected[t] and sel.sum() >= 2:
            lo, hi = track.xy[t][sel].min(0), track.xy[t][sel].max(0)
            centres[t] = (lo + hi) / 2.0
            sides[t] = max(float((hi - lo).max()) * enlarge, 32.0)
            ok[t] = True
    if ok.any() and not ok.all():
        idx = np.flatnonzero(ok)
        for t in np.flatnonzero(~ok):
            j = idx[np.argmin(np.abs(idx - t))]
            centres[t], sides[t] = centres[j], sides[j]
    return centres, sides


def crop_to_full(pred_cam: np.ndarray, centres: np.ndarray, sides: np.ndarray, size: tuple[int, int],
                 focal_px: float) -> np.ndarray:
    """``(T, 3)`` root translation in the frame's camera from the crop camera ``pred_cam (T, 3) = (s, tx, ty)``."""
    s, tx, ty = pred_cam[:, 0], pred_cam[:, 1], pred_cam[:, 2]
    sb = s * sides
    W, H = size
    return np.stack([tx + 2.0 * (centres[:, 0] - W / 2.0) / sb, ty + 2.0 * (centres[:, 1] - H / 2.0) / sb,
                     2.0 * focal_px / sb], axis=1)


def run_mqhmr(frames: Frames, track: KeypointTrack | None, K: np.ndarray, checkpoint: str | Path,
              refine_iterations: int | None = None, device: str = "cpu", batch: int = 16,
              progress: bool = True) -> BodySequence:
    """The ``mqhmr`` front end (see the module docstring); refinement runs only when ``track`` is given."""
    import dataclasses

    from .. import keypoints as kp
    from ..hmr.checkpoint import load_mqhmr
    from ..hmr.crop import crop_image, crop_transform, normalize_image, normalize_keypoints, transform_points
    from ..hmr.refine import refine

    if track is not None and track.n_frames != frames.n_frames:
        raise ConfigError(f"{track.n_frames} keypoint frames for {frames.n_frames} video frames")
    t0 = time.perf_counter()
    net, body, config, _ = load_mqhmr(checkpoint, device)
    if config.body_model != "anny":
        raise ConfigError(f"{checkpoint}: the video pipeline needs an Anny MQ-HMR checkpoint, this one predicts "
                          f"{config.body_model}")
    settings = config.refine if refine_iterations is None else dataclasses.replace(config.refine,
                                                                                    iterations=refine_iterations)
    T, S = frames.n_frames, config.crop
    centres, sides = person_boxes(track, frames.size, T)
    rot = np.empty((T, body.n_pose, 3, 3))
    phen = np.empty((T, 6))
    pred_cam = np.empty((T, 3))
    reproj = np.full(T, np.nan)
    stages = {"network": 0.0, "refinement": 0.0}
    for start in tqdm(range(0, T, batch), desc="MQ-HMR", unit="batch", disable=not progress):
        idx = list(range(start, min(T, start + batch)))
        imgs = torch.stack([normalize_image(crop_image(frames.get(t), centres[t], sides[t] / 200.0, S))
                            for t in idx]).to(device)
        t1 = time.perf_counter()
        with torch.no_grad():
            feats = net.encode(imgs)
        if track is not None and settings.iterations > 0:
            k2 = np.zeros((len(idx), len(body.joint_names), 3))
            for i, t in enumerate(idx):
                A = crop_transform(centres[t], sides[t] / 200.0, S)
                pts = np.concatenate([normalize_keypoints(transform_points(track.xy[t], A), S),
                                      track.confidence[t][:, None]], axis=1)
                k2[i] = kp.to_layout(pts, track.layout, "smplh52")
            t2 = time.perf_counter()
            stages["network"] += t2 - t1
            res = refine(net, body, config, None, torch.as_tensor(k2, dtype=torch.float32, device=device),
                         settings=settings, features=feats)
            out = res.refined
            stages["refinement"] += time.perf_counter() - t2
            err = res.reprojection[-1].cpu().numpy()
            reproj[idx] = err * sides[idx]  # normalised crop units -> frame px
        else:
            from ..hmr.model import body_outputs

            with torch.no_grad():
                out = body_outputs(net.decode(feats), body, config)
            stages["network"] += time.perf_counter() - t1
        rot[idx] = out.params.rotations.double().cpu().numpy()
        phen[idx] = out.params.shape.double().cpu().numpy()
        pred_cam[idx] = out.params.pred_cam.double().cpu().numpy()
    filled = ~np.asarray(track.detected, bool) if track is not None else np.zeros(T, bool)
    observed = ~filled if (~filled).any() else np.ones(T, bool)
    cam_t = crop_to_full(pred_cam, centres, sides, frames.size, float(K[0, 0]))
    return BodySequence(orientations=rot, phenotypes=np.median(phen[observed], axis=0), cam_t=cam_t, filled=filled,
                        reprojection_px=reproj, seconds=time.perf_counter() - t0, stages=stages)
