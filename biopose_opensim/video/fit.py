"""Fit the Anny body model to a clip's 2D keypoints by optimisation (no network, no training data).

Frames and units: the camera frame is OpenCV's (x right, y down, z forward), metres; image points are pixels of
the frame; intrinsics ``K (3, 3)`` px. The body is Anny through :class:`~biopose_opensim.hmr.body.AnnyLayer`
(its ``world-orient`` parameterisation: one camera-frame orientation per bone).

Parameters (all frames at once, one batch):

* ``phenotypes (6,)``: shared by the clip, ``sigmoid`` of free values (0.5, the default body, at zero).
* per frame, the local rotation (axis-angle, radians) of each of the posed bones
  (:data:`~biopose_opensim.video.fit_priors.POSED_BONES`) relative to its parent, in the axes of the rest pose
  facing the camera (see :func:`local_to_world`); every other bone follows its parent rigidly.
* per frame, the root rotation ``exp(omega) @ R0`` (``R0`` the initial guess) and the root-bone head's camera
  position ``cam_t`` (metres).

Energy (weights in :class:`FitConfig`): confidence-weighted Huber reprojection of the model's SMPL-H joints that
the track's layout maps to (keypoints converted with :func:`~biopose_opensim.keypoints.to_layout` to ``smplh52``);
second differences over time of the root's and posed bones' orientation matrices and of ``cam_t``; small local
rotations; hinge penalties on knees and elbows (bending the wrong way, and rotating off the hinge axis); phenotypes toward
0.5; the rest height when ``height_m`` is given; and, when the track has detector 3D landmarks (``world``), the
distance between root-relative model joints and the landmarks after a per-frame rigid alignment (Kabsch rotation
about the common centroid, computed without gradient: the term shapes the pose, never the global orientation).

Frames without a detection get confidence 0: the smoothness term alone carries them between detected frames and
they are flagged in :attr:`FitResult.filled`.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np
import torch

from ..bodymodels.base import SMPLH_JOINT_NAMES
from ..errors import BioposeError
from ..keypoints import layout as get_layout
from ..keypoints import to_layout
from .fit_priors import (anny_fit_body, height_phenotype, hinge_penalty, huber, initial_guess, rest_height,
                         second_difference, world_term)

log = logging.getLogger(__name__)

SMPLH_INDEX = {n: i for i, n in enumerate(SMPLH_JOINT_NAMES)}

#: SMPL-H joints used to place the root in the first stage (torso).
TORSO_JOINTS = ("pelvis", "left_hip", "right_hip", "spine1", "spine2", "spine3", "neck", "left_collar",
                "right_collar", "left_shoulder", "right_shoulder")


class FitError(BioposeError):
    """A keypoint track cannot be fitted (no frames, no detection, inconsistent shapes, bad intrinsics)."""


class TrackLike(Protocol):
    """What :func:`fit_anny` reads from a track (:class:`biopose_opensim.video.tracks.KeypointTrack`)."""

    layout: str
    xy: np.ndarray
    confidence: np.ndarray
    detected: np.ndarray
    image_size: tuple[int, int]


@dataclass(frozen=True)
class FitConfig:
    """Weights and iteration counts of :func:`fit_anny` (energies are means over frames; see the module docstring).

    Attributes:
        iters_root: Adam steps of stage 1 (root rotation and translation, torso joints, rest pose).
        iters_pose: Adam steps of stage 2 (+ local rotations, all joints).
        iters_shape: Adam steps of stage 3 (+ phenotypes).
        lr: Adam step size (radians for rotations, metres for ``cam_t``, logits for phenotypes), decayed by a
            cosine to ``lr * lr_final`` within each stage.
        lr_final: final fraction of ``lr``.
        huber_px: Huber threshold of the reprojection residual, px (quadratic below, linear above).
        w_smooth_pose: weight of squared second differences of the posed bones' orientation matrices.
        w_smooth_root: weight of squared second differences of the root rotation matrix.
        w_smooth_trans: weight of squared second differences of ``cam_t``, per metre squared.
        w_pose: weight of squared local rotation angles (radians squared, mean over bones).
        w_hinge: weight of knee/elbow rotation off the hinge axis and of flexion past the straight limb.
        hinge_margin_deg: hyperextension allowed before the hinge penalty starts, degrees.
        w_shape: weight of squared phenotype offsets from 0.5.
        w_height: weight of the squared rest-height error (per centimetre squared) when ``height_m`` is given.
        w_world: weight of the 3D landmark term (per centimetre squared, Huber at ``huber_world_m``).
        huber_world_m: Huber threshold of the 3D landmark residual, metres.
        min_confidence: keypoints with a lower confidence are ignored.
    """

    iters_root: int = 150
    iters_pose: int = 400
    iters_shape: int = 250
    lr: float = 0.03
    lr_final: float = 0.05
    huber_px: float = 10.0
    w_smooth_pose: float = 20.0
    w_smooth_root: float = 20.0
    w_smooth_trans: float = 2000.0
    w_pose: float = 0.5
    w_hinge: float = 200.0
    hinge_margin_deg: float = 5.0
    w_shape: float = 5.0
    w_height: float = 1.0
    w_world: float = 0.5
    huber_world_m: float = 0.1
    min_confidence: float = 0.1

    def __post_init__(self) -> None:
        for name in ("iters_root", "iters_pose", "iters_shape"):
            if int(getattr(self, name)) < 0:
                raise FitError(f"FitConfig.{name} must be >= 0, got {getattr(self, name)}")


@dataclass(frozen=True, eq=False)
class FitResult:
    """The fitted body over a clip (camera frame: x right, y down, z forward; metres).

    Attributes:
        orientations: ``(T, 104, 3, 3)`` world orientation of every Anny bone in the camera frame.
        phenotypes: ``(6,)`` Anny phenotypes in [0, 1] (:data:`~biopose_opensim.bodymodels.anny.PHENOTYPES`).
        cam_t: ``(T, 3)`` the root-bone head in the camera frame, metres.
        joints: ``(T, 52, 3)`` SMPL-H joints in the camera frame, metres (root-relative joints + ``cam_t``).
        reprojection_px: ``(T,)`` confidence-weighted mean 2D error of the fitted keypoints, px; NaN on filled
            frames.
        filled: ``(T,)`` True where the frame had no detection and was carried by the smoothness term only.
        iterations: optimiser steps taken, all stages.
        seconds: wall time of the fit.
    """

    orientations: np.ndarray
    phenotypes: np.ndarray
    cam_t: np.ndarray
    joints: np.ndarray
    reprojection_px: np.ndarray
    filled: np.ndarray
    iterations: int
    seconds: float


# ---------------------------------------------------------------------------------------------- rotations
def axis_angle_to_matrix(r: torch.Tensor) -> torch.Tensor:
    """``(..., 3)`` rotation vectors (radians) -> ``(..., 3, 3)`` matrices; smooth at zero."""
    theta2 = (r * r).sum(-1, keepdim=True)
    small = theta2 < 1e-8
    theta = torch.sqrt(torch.where(small, torch.ones_like(theta2), theta2))
    a = torch.where(small, 1.0 - theta2 / 6.0, torch.sin(theta) / theta)
    b = torch.where(small, 0.5 - theta2 / 24.0, (1.0 - torch.cos(theta)) / (theta * theta))
    x, y, z = r.unbind(-1)
    zero = torch.zeros_like(x)
    S = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(*r.shape[:-1], 3, 3)
    eye = torch.eye(3, dtype=r.dtype, device=r.device).expand_as(S)
    return eye + a[..., None] * S + b[..., None] * (S @ S)


def local_to_world(local: torch.Tensor, parents: Sequence[int], rest: torch.Tensor) -> torch.Tensor:
    """Compose local bone rotations down a bone tree into world orientations.

    ``local[:, i]`` rotates bone ``i`` relative to its parent, in the axes of the rest pose (the frame ``rest`` is
    given in): with ``G_i = G_parent(i) @ local_i`` (``G_root = local_root``), bone ``i``'s world orientation is
    ``G_i @ rest_i``. Identity locals give the rest orientations; a bone with an identity local turns rigidly with
    its parent.

    Args:
        local: ``(T, NB, 3, 3)`` rotation matrices.
        parents: ``NB`` parent indices, -1 for the root(s); any order.
        rest: ``(NB, 3, 3)`` rest world orientations.

    Returns:
        ``(T, NB, 3, 3)`` world orientations in the frame of ``rest``.
    """
    parents = [int(p) for p in parents]
    NB = len(parents)
    if local.shape[-3:] != (NB, 3, 3) or rest.shape != (NB, 3, 3):
        raise ValueError(f"expected local (T, {NB}, 3, 3) and rest ({NB}, 3, 3), got {tuple(local.shape)} "
                         f"and {tuple(rest.shape)}")
    depth = [-1] * NB

    def depth_of(i: int) -> int:
        if depth[i] < 0:
            depth[i] = 0 if parents[i] < 0 else depth_of(parents[i]) + 1
        return depth[i]

    for i in range(NB):
        depth_of(i)
    G = [None] * NB
    for level in range(max(depth) + 1):
        idx = [i for i in range(NB) if depth[i] == level]
        if level == 0:
            Gl = local[:, idx]
        else:
            Gp = torch.stack([G[parents[i]] for i in idx], 1)
            Gl = Gp @ local[:, idx]
        for k, i in enumerate(idx):
            G[i] = Gl[:, k]
    return torch.stack(G, 1) @ rest.to(local.dtype)


# ---------------------------------------------------------------------------------------------- inputs
@dataclass(frozen=True, eq=False)
class _Observations:
    xy: torch.Tensor  # (T, 52, 2) px
    weight: torch.Tensor  # (T, 52) confidence, 0 where unusable
    world: torch.Tensor | None  # (T, 52, 3) metres
    world_weight: torch.Tensor | None  # (T, 52)
    filled: np.ndarray  # (T,) bool


def _observations(track: TrackLike, config: FitConfig) -> _Observations:
    try:
        lay = get_layout(track.layout)
    except KeyError as exc:
        raise FitError(f"keypoint track: {exc.args[0]}") from None
    xy = np.asarray(track.xy, dtype=np.float64)
    conf = np.asarray(track.confidence, dtype=np.float64)
    detected = np.asarray(track.detected, dtype=bool)
    if xy.ndim != 3 or xy.shape[0] == 0:
        raise FitError(f"keypoint track ({lay.name}) has no frames: xy has shape {xy.shape}, expected (T, K, 2), T > 0")
    T, K = xy.shape[:2]
    if xy.shape != (T, len(lay), 2) or conf.shape != (T, K) or detected.shape != (T,):
        raise FitError(f"keypoint track ({lay.name}, {len(lay)} keypoints): expected xy (T, {len(lay)}, 2), "
                       f"confidence (T, {len(lay)}) and detected (T,), got {xy.shape}, {conf.shape}, "
                       f"{detected.shape}")
    if not detected.any():
        raise FitError(f"keypoint track ({lay.name}, {T} frames): no frame has a detection; nothing to fit")
    usable = detected[:, None] & np.isfinite(xy).all(-1) & np.isfinite(conf) & (conf >= config.min_confidence)
    conf = np.where(usable, conf, 0.0)
    xy = np.where(usable[..., None], xy, 0.0)
    smplh = to_layout(np.concatenate([xy, conf[..., None]], -1), lay.name, "smplh52")
    weight = smplh[..., 2]
    filled = ~(weight > 0).any(-1)
    if filled.all():
        raise FitError(f"keypoint track ({lay.name}, {T} frames): no detected keypoint with confidence >= "
                       f"{config.min_confidence} is a body-model joint; nothing to fit")
    world = world_weight = None
    raw = getattr(track, "world", None)
    if raw is not None:
        w3 = np.asarray(raw, dtype=np.float64)
        if w3.shape != (T, K, 3):
            raise FitError(f"keypoint track ({lay.name}): world has shape {w3.shape}, expected ({T}, {K}, 3)")
        ok = usable & np.isfinite(w3).all(-1)
        w3 = np.where(ok[..., None], w3, 0.0)
        s3 = to_layout(np.concatenate([w3, np.where(ok, conf, 0.0)[..., None]], -1), lay.name, "smplh52")
        world = torch.as_tensor(s3[..., :3], dtype=torch.float32)
        world_weight = torch.as_tensor(s3[..., 3], dtype=torch.float32)
    return _Observations(torch.as_tensor(smplh[..., :2], dtype=torch.float32),
                         torch.as_tensor(weight, dtype=torch.float32), world, world_weight, filled)


def _intrinsics(K) -> torch.Tensor:
    K = np.asarray(K, dtype=np.float64)
    if K.shape != (3, 3) or not np.isfinite(K).all() or K[0, 0] <= 0 or K[1, 1] <= 0:
        raise FitError(f"camera intrinsics must be a finite (3, 3) matrix with positive focal lengths, got {K!r}")
    return torch.as_tensor(K, dtype=torch.float32)


# ---------------------------------------------------------------------------------------------- the fit
def fit_anny(track: TrackLike, K, config: FitConfig = FitConfig(), height_m: float | None = None,
             progress: bool = True) -> FitResult:
    """Fit Anny to a clip's 2D keypoints (see the module docstring for the parameters and the energy).

    Args:
        track: a :class:`~biopose_opensim.video.tracks.KeypointTrack` (or anything with its ``layout``, ``xy
            (T, K, 2)`` px, ``confidence (T, K)``, ``detected (T,)``, ``image_size`` and optional ``world (T, K,
            3)`` metres).
        K: ``(3, 3)`` camera intrinsics, px.
        config: weights and iteration counts.
        height_m: the subject's height (vertical extent of the rest mesh), metres, when known.
        progress: show a progress bar.

    Returns:
        a :class:`FitResult`.

    Raises:
        FitError: no frames, no detection, no keypoint that is a body-model joint, inconsistent shapes, bad
            intrinsics or height.
    """
    from tqdm import tqdm

    start = time.perf_counter()
    obs = _observations(track, config)
    Kt = _intrinsics(K)
    if height_m is not None and not (math.isfinite(height_m) and 0.5 <= height_m <= 2.5):
        raise FitError(f"height_m must be a height in metres between 0.5 and 2.5, got {height_m!r}")
    body = anny_fit_body()
    layer = body.layer
    T, P, NB = obs.xy.shape[0], len(body.posed), len(body.parents)

    phen0 = torch.full((6,), 0.5)
    if height_m is not None:
        phen0[4] = height_phenotype(layer, height_m)
    with torch.no_grad():
        rest_joints = layer(body.rest[None], phen0[None]).joints[0]
    R0, t0 = initial_guess(obs.xy.numpy().astype(np.float64), obs.weight.numpy().astype(np.float64), obs.filled,
                           Kt.numpy().astype(np.float64), rest_joints.numpy().astype(np.float64))
    R0 = torch.as_tensor(R0, dtype=torch.float32)

    r_local = torch.zeros(T, P, 3, requires_grad=True)
    omega = torch.zeros(T, 3, requires_grad=True)
    cam_t = torch.as_tensor(t0, dtype=torch.float32).clone().requires_grad_(True)
    phen_free = torch.logit(phen0).clone().requires_grad_(True)

    torso = torch.zeros(52)
    torso[[SMPLH_INDEX[n] for n in TORSO_JOINTS]] = 1.0
    eye = torch.eye(3).expand(T, NB, 3, 3)
    margin = math.radians(config.hinge_margin_deg)

    def pose() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        root = axis_angle_to_matrix(omega) @ R0
        local = eye.clone()
        local[:, 0] = root
        local[:, body.posed] = axis_angle_to_matrix(r_local)
        world = local_to_world(local, body.parents, body.rest)
        phen = torch.sigmoid(phen_free)
        joints = layer(world, phen.expand(T, 6)).joints
        return world, joints, root

    def project(joints: torch.Tensor) -> torch.Tensor:
        cam = joints + cam_t[:, None]
        uvw = cam @ Kt.T
        return uvw[..., :2] / uvw[..., 2:].clamp_min(1e-3)

    def energy(stage: int) -> torch.Tensor:
        world, joints, root = pose()
        w = obs.weight * (torso if stage == 0 else 1.0)
        err = (project(joints) - obs.xy).pow(2).sum(-1).add(1e-12).sqrt()
        e = (w * huber(err, config.huber_px)).sum() / w.sum().clamp_min(1e-8)
        e = e + config.w_smooth_root * second_difference(root) + config.w_smooth_trans * second_difference(cam_t)
        if stage >= 1:
            e = e + config.w_smooth_pose * second_difference(world[:, body.posed])
            e = e + config.w_pose * r_local.pow(2).sum(-1).mean() + config.w_hinge * hinge_penalty(body, r_local,
                                                                                                     margin)
            if obs.world is not None:
                e = e + config.w_world * world_term(joints, obs.world, obs.world_weight, config.huber_world_m)
        if stage >= 2:
            phen = torch.sigmoid(phen_free)
            e = e + config.w_shape * (phen - 0.5).pow(2).sum()
            if height_m is not None:
                e = e + config.w_height * (100.0 * (rest_height(layer, phen[None])[0] - height_m)).pow(2)
        return e

    stages = ((config.iters_root, [omega, cam_t]), (config.iters_pose, [omega, cam_t, r_local]),
              (config.iters_shape, [omega, cam_t, r_local, phen_free]))
    iterations = 0
    bar = tqdm(total=sum(n for n, _ in stages), desc="fit Anny", disable=not progress, leave=False)
    for stage, (n, params) in enumerate(stages):
        if n == 0:
            continue
        opt = torch.optim.Adam(params, lr=config.lr)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda k: config.lr_final + (1 - config.lr_final) * 0.5 * (1 + math.cos(math.pi * k / n)))
        for _ in range(n):
            opt.zero_grad(set_to_none=True)
            e = energy(stage)
            e.backward()
            opt.step()
            sched.step()
            iterations += 1
            bar.update(1)
        log.info("fit stage %d: %d steps, energy %.4g", stage + 1, n, float(e.detach()))
    bar.close()

    with torch.no_grad():
        world, joints, _ = pose()
        err = (project(joints) - obs.xy).norm(dim=-1)
        wsum = obs.weight.sum(-1)
        rep = (obs.weight * err).sum(-1) / wsum.clamp_min(1e-8)
        rep = torch.where(wsum > 0, rep, torch.full_like(rep, float("nan")))
        result = FitResult(
            orientations=world.numpy().astype(np.float64),
            phenotypes=torch.sigmoid(phen_free).numpy().astype(np.float64),
            cam_t=cam_t.numpy().astype(np.float64),
            joints=(joints + cam_t[:, None]).numpy().astype(np.float64),
            reprojection_px=rep.numpy().astype(np.float64),
            filled=obs.filled.copy(),
            iterations=iterations,
            seconds=time.perf_counter() - start,
        )
    log.info("fitted Anny to %d frames (%d filled) in %.1f s: median reprojection %.2f px", T,
             int(result.filled.sum()), result.seconds, float(np.nanmedian(result.reprojection_px)))
    return result
