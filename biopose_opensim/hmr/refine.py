"""2D-informed refinement: only the query tokens are optimised against 2D keypoints, the network frozen.

For each image the image features are computed once; the query tokens ``Q`` (``(B, 96, d_model)``, starting
from the learned tokens) are then optimised with Adam for ``T`` iterations on

    E(Q) = sum_j c_j ||Pi(K(J3D_j(Q))) - J2D_j||^2 + lambda_theta ||theta(Q) - theta_0||^2

where ``Pi(K(.))`` is the network's own camera projection into the crop, in pixels of the crop (normalised crop
coordinates times the crop side), ``c_j`` the keypoint confidences, ``theta`` the predicted rotation matrices and
``theta_0`` the network's first prediction (``lambda_theta`` therefore weighs squared rotation-matrix entries
against squared crop pixels).
The energy is summed over the batch, so every frame's tokens follow only their own image (Adam's steps are
per element): a batch of frames refines exactly as each frame alone.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from .body import AnnyLayer, SmplLayer
from .config import MQHMRConfig, RefineConfig
from .model import MQHMR, HMROutput, body_outputs
from .pyramid import PyramidTokens


@dataclass(frozen=True, eq=False)
class RefineResult:
    """Outcome of :func:`refine`.

    Attributes:
        initial: the network's prediction before refinement.
        refined: the prediction after ``iterations`` steps (equal to ``initial`` for 0 steps).
        queries: ``(B, Q, d_model)`` the refined tokens.
        reprojection: ``(2, B)`` confidence-weighted mean 2D distance (normalised crop units) before and after
            refinement (one row for 0 iterations).
        seconds: wall time of the optimisation (features excluded).
    """

    initial: HMROutput
    refined: HMROutput
    queries: torch.Tensor
    reprojection: torch.Tensor
    seconds: float


def reprojection_error(pred_2d: torch.Tensor, keypoints_2d: torch.Tensor) -> torch.Tensor:
    """``(B,)`` confidence-weighted mean Euclidean 2D distance; ``pred_2d (B, J, 2)``, ``keypoints_2d (B, J, 3)``."""
    c = keypoints_2d[..., 2]
    d = (pred_2d - keypoints_2d[..., :2]).norm(dim=-1)
    return (c * d).sum(-1) / c.sum(-1).clamp_min(1e-9)


def refine(net: MQHMR, body: AnnyLayer | SmplLayer, config: MQHMRConfig, images: torch.Tensor | None,
           keypoints_2d: torch.Tensor, settings: RefineConfig | None = None,
           features: PyramidTokens | None = None) -> RefineResult:
    """Refine the query tokens of ``images`` (``(B, 3, S, S)`` crops) against ``keypoints_2d``.

    Args:
        keypoints_2d: ``(B, J, 3)`` normalised crop x, y (see :mod:`.camera`) and confidence, in the body
            layer's joint order (confidence 0 for joints the detector does not give).
        settings: iterations ``T``, learning rate and ``lambda_theta`` (default: ``config.refine``).
        features: precomputed :meth:`MQHMR.encode` output (then ``images`` may be None).
    """
    settings = settings or config.refine
    was_training = net.training
    net.eval()
    flags = [p.requires_grad for p in net.parameters()]
    for p in net.parameters():
        p.requires_grad_(False)
    try:
        if features is None:
            with torch.no_grad():
                features = net.encode(images)
        B = features.tokens.shape[0]
        kp = keypoints_2d.to(features.tokens.dtype)
        with torch.no_grad():
            q0 = net.decoder.initial_queries(B).clone()
            initial = body_outputs(net.decode(features, q0), body, config)
        theta0 = initial.params.rotations.detach()
        queries = q0.clone().requires_grad_(True)
        opt = torch.optim.Adam([queries], lr=settings.lr)
        errors = [reprojection_error(initial.keypoints_2d, kp)]
        t0 = time.perf_counter()
        out = initial
        for _ in range(settings.iterations):
            out = body_outputs(net.decode(features, queries), body, config)
            c = kp[..., 2:]
            energy = (c * (config.crop * (out.keypoints_2d - kp[..., :2])) ** 2).sum() \
                + settings.pose_weight * ((out.params.rotations - theta0) ** 2).sum()
            opt.zero_grad(set_to_none=True)
            energy.backward()
            opt.step()
        if settings.iterations:
            with torch.no_grad():
                out = body_outputs(net.decode(features, queries), body, config)
        seconds = time.perf_counter() - t0
        if settings.iterations:
            with torch.no_grad():
                errors.append(reprojection_error(out.keypoints_2d, kp))
        return RefineResult(initial=initial, refined=_detached(out), queries=queries.detach(),
                            reprojection=torch.stack(errors), seconds=seconds)
    finally:
        for p, f in zip(net.parameters(), flags):
            p.requires_grad_(f)
        net.train(was_training)


def _detached(out: HMROutput) -> HMROutput:
    from .heads import HeadOutput

    p = out.params
    return HMROutput(params=HeadOutput(p.rotations.detach(), p.shape.detach(), p.pred_cam.detach()),
                     joints=out.joints.detach(), cam_t=out.cam_t.detach(), keypoints_2d=out.keypoints_2d.detach(),
                     vertices=None if out.vertices is None else out.vertices.detach())
