"""Energy terms and the initial guess of :func:`biopose_opensim.video.fit.fit_anny`.

Frames and units as in :mod:`biopose_opensim.video.fit`: camera frame (x right, y down, z forward), metres,
pixels, radians. Every term is a mean over frames so that the weights of
:class:`~biopose_opensim.video.fit.FitConfig` do not depend on the clip's length.
"""
from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass

import numpy as np
import torch

from ..bodymodels.base import SMPLH_JOINT_NAMES

log = logging.getLogger(__name__)

_J = {n: i for i, n in enumerate(SMPLH_JOINT_NAMES)}

#: Anny bones with free local rotations (the SMPL body joints: hips, knees, ankles, three spine bones, neck, head,
#: collars, shoulders, elbows, wrists); the root's rotation is a separate parameter.
POSED_BONES: tuple[str, ...] = (
    "upperleg01.L", "upperleg01.R", "lowerleg01.L", "lowerleg01.R", "foot.L", "foot.R",
    "spine05", "spine03", "spine01", "neck01", "head",
    "clavicle.L", "clavicle.R", "upperarm01.L", "upperarm01.R", "lowerarm01.L", "lowerarm01.R",
    "wrist.L", "wrist.R",
)
#: Hinge joints: bone -> (proximal, hinge and distal SMPL-H joints, flexion direction in the rest camera frame).
#: The hinge axis is ``normalize(proximal segment x flexion direction)`` in the rest pose.
#: Knees flex backward (+z, away from the camera the rest pose faces), elbows forward (-z).
HINGES: dict[str, tuple[str, str, str, tuple[float, float, float]]] = {
    "lowerleg01.L": ("left_hip", "left_knee", "left_ankle", (0.0, 0.0, 1.0)),
    "lowerleg01.R": ("right_hip", "right_knee", "right_ankle", (0.0, 0.0, 1.0)),
    "lowerarm01.L": ("left_shoulder", "left_elbow", "left_wrist", (0.0, 0.0, -1.0)),
    "lowerarm01.R": ("right_shoulder", "right_elbow", "right_wrist", (0.0, 0.0, -1.0)),
}


@dataclass(frozen=True, eq=False)
class AnnyFitBody:
    """Anny's constants for fitting.

    Attributes:
        layer: the differentiable :class:`~biopose_opensim.hmr.body.AnnyLayer`.
        parents: ``NB`` parent bone indices (-1 for the root).
        rest: ``(NB, 3, 3)`` rest orientations facing the camera upright (the layer's ``mean_orientations``).
        posed: ``(P,)`` indices of the bones with free local rotations.
        hinge_index: ``(H,)`` positions in ``posed`` of the hinge bones (knees, elbows).
        hinge_axis: ``(H, 3)`` unit flexion axes in the rest camera frame.
        hinge_rest: ``(H,)`` rest flexion angles, radians (positive: flexed).
    """

    layer: torch.nn.Module
    parents: tuple[int, ...]
    rest: torch.Tensor
    posed: torch.Tensor
    hinge_index: torch.Tensor
    hinge_axis: torch.Tensor
    hinge_rest: torch.Tensor


@functools.lru_cache(maxsize=1)
def anny_fit_body() -> AnnyFitBody:
    """The process's :class:`AnnyFitBody` (built once; loading Anny takes about a second from its cache)."""
    from ..bodymodels.anny import AnnyBodyModel
    from ..hmr.body import AnnyLayer

    body = AnnyBodyModel()
    layer = AnnyLayer(body).eval()
    rest = layer.mean_orientations
    posed = [body.bone_index(b) for b in POSED_BONES]
    with torch.no_grad():
        J = layer(rest[None], torch.full((1, 6), 0.5)).joints[0].double()
    index, axes, angles = [], [], []
    for bone, (a, b, c, flex) in HINGES.items():
        u = J[_J[b]] - J[_J[a]]
        d = J[_J[c]] - J[_J[b]]
        axis = torch.linalg.cross(u, torch.tensor(flex, dtype=u.dtype))
        axis = axis / axis.norm()
        index.append(POSED_BONES.index(bone))
        axes.append(axis)
        angles.append(math.atan2(float(torch.linalg.cross(u, d) @ axis), float(u @ d)))
    return AnnyFitBody(layer=layer, parents=tuple(body.bone_parents), rest=rest,
                       posed=torch.as_tensor(posed), hinge_index=torch.as_tensor(index),
                       hinge_axis=torch.stack(axes).float(), hinge_rest=torch.as_tensor(angles, dtype=torch.float32))


def rest_height(layer, phenotypes: torch.Tensor) -> torch.Tensor:
    """``(B,)`` metres: vertical extent of the rest mesh for ``phenotypes (B, 6)`` (differentiable), measured as
    :meth:`biopose_opensim.synth.bodies.AnnySubjectBody.measures` does (native z is up)."""
    anny = layer.anny
    phen = phenotypes.to(layer.joint_matrix.dtype)
    local = phen.new_zeros((phen.shape[0], len(anny.local_change_labels)))
    coef = anny._get_phenotype_blendshape_coefficients(phen, local, phen.new_zeros((phen.shape[0], 0)))
    z = anny.get_rest_model(coef)["rest_vertices"][..., 2]
    return z.amax(-1) - z.amin(-1)


def height_phenotype(layer, height_m: float) -> float:
    """The ``height`` phenotype (others at 0.5) whose rest mesh is ``height_m`` tall, clamped to [0.02, 0.98]."""
    lo, hi = 0.02, 0.98
    with torch.no_grad():
        def h(x: float) -> float:
            p = torch.full((1, 6), 0.5)
            p[0, 4] = x
            return float(rest_height(layer, p)[0])

        h_lo, h_hi = h(lo), h(hi)
        if not h_lo <= height_m <= h_hi:
            log.warning("height %.3f m is outside the %.3f-%.3f m the height phenotype reaches at default "
                        "gender/age; the fit relies on the height penalty", height_m, h_lo, h_hi)
            return lo if height_m < h_lo else hi
        for _ in range(30):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if h(mid) < height_m else (lo, mid)
    return 0.5 * (lo + hi)


# ---------------------------------------------------------------------------------------------- energy terms
def huber(e: torch.Tensor, delta: float) -> torch.Tensor:
    """Huber of non-negative residual norms ``e``: ``e^2/2`` below ``delta``, ``delta (e - delta/2)`` above."""
    return torch.where(e <= delta, 0.5 * e * e, delta * (e - 0.5 * delta))


def second_difference(x: torch.Tensor) -> torch.Tensor:
    """Mean over frames of the squared second difference of ``x (T, ...)`` summed over the other axes; 0 if T<3."""
    if x.shape[0] < 3:
        return x.new_zeros(())
    dd = x[2:] - 2.0 * x[1:-1] + x[:-2]
    return dd.pow(2).reshape(dd.shape[0], -1).sum(-1).sum() / x.shape[0]


def hinge_penalty(body: AnnyFitBody, r_local: torch.Tensor, margin_rad: float) -> torch.Tensor:
    """Mean over frames of knee/elbow penalties, radians squared: the rotation off the hinge axis plus the
    flexion beyond straight by more than ``margin_rad`` (bending the wrong way). ``r_local (T, P, 3)``."""
    r = r_local[:, body.hinge_index]
    axis = body.hinge_axis.to(r.dtype)
    flex = (r * axis).sum(-1)
    off = (r - flex[..., None] * axis).pow(2).sum(-1)
    wrong = torch.relu(-(body.hinge_rest.to(r.dtype) + flex) - margin_rad).pow(2)
    return (off + wrong).sum(-1).mean()


def world_term(joints: torch.Tensor, world: torch.Tensor, weight: torch.Tensor, delta_m: float) -> torch.Tensor:
    """Weighted Huber distance (centimetres) between model joints and detector landmarks after a per-frame
    rigid alignment.

    Args:
        joints: ``(T, J, 3)`` root-relative model joints, camera frame, metres.
        world: ``(T, J, 3)`` detector landmarks, metres, any orientation.
        weight: ``(T, J)`` confidences (0: absent).
        delta_m: Huber threshold, metres.

    Each frame's landmarks are centred on the weighted centroid and turned by the Kabsch rotation onto the
    centred model joints; the rotation is computed without gradient so the term constrains the body's pose and
    proportions, not its orientation in the camera.
    """
    w = weight[..., None]
    n = w.sum(1, keepdim=True).clamp_min(1e-8)
    cm = (w * joints).sum(1, keepdim=True) / n
    cw = (w * world).sum(1, keepdim=True) / n
    a, b = joints - cm, world - cw
    with torch.no_grad():
        H = (w * b).transpose(1, 2) @ a.detach()  # (T, 3, 3)
        U, _, Vt = torch.linalg.svd(H.double())
        d = torch.sign(torch.linalg.det(Vt.transpose(1, 2) @ U.transpose(1, 2)))
        D = torch.diag_embed(torch.stack([torch.ones_like(d), torch.ones_like(d), d], -1))
        Q = (Vt.transpose(1, 2) @ D @ U.transpose(1, 2)).to(joints.dtype)
    e = (a - b @ Q.transpose(1, 2)).norm(dim=-1) * 100.0
    return (weight * huber(e, delta_m * 100.0)).sum() / weight.sum().clamp_min(1e-8)


# ---------------------------------------------------------------------------------------------- initial guess
def _rot_z(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _rot_y(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _pair(xy: np.ndarray, w: np.ndarray, a: str, b: str) -> np.ndarray | None:
    """Midpoint or difference inputs: the two keypoints when both are present, else None."""
    if w[_J[a]] > 0 and w[_J[b]] > 0:
        return np.stack([xy[_J[a]], xy[_J[b]]])
    return None


def initial_guess(xy: np.ndarray, weight: np.ndarray, filled: np.ndarray, K: np.ndarray,
                  rest_joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame root rotation ``R0 (T, 3, 3)`` and root position ``cam_t (T, 3)`` (metres) from 2D keypoints.

    Depth: focal length times the rest torso length (shoulder to hip, mean of both sides) over its length in
    pixels (the RMS spread of the present joints when the torso is missing). Rotation: roll from the hip-centre to
    shoulder-centre line, facing the camera (yaw 0) or away (yaw 180 degrees) from the sign of the subject's
    left-right line in the image; a frame whose left-right line is too short to tell keeps the previous frame's
    facing. Frames without keypoints (or too few) take interpolated positions and the nearest frame's rotation.

    Args:
        xy: ``(T, 52, 2)`` px; weight: ``(T, 52)``; filled: ``(T,)``; K: ``(3, 3)`` px;
        rest_joints: ``(52, 3)`` root-relative rest joints facing the camera, metres.
    """
    T = xy.shape[0]
    f = 0.5 * (K[0, 0] + K[1, 1])
    Kinv = np.linalg.inv(K)
    J0 = rest_joints
    torso3 = 0.5 * (np.linalg.norm(J0[_J["left_shoulder"]] - J0[_J["left_hip"]])
                    + np.linalg.norm(J0[_J["right_shoulder"]] - J0[_J["right_hip"]]))
    R0 = np.tile(np.eye(3), (T, 1, 1))
    t = np.full((T, 3), np.nan)
    facing = 0.0
    for i in range(T):
        w = weight[i]
        present = w > 0
        if filled[i] or present.sum() < 2:
            continue
        sides = [np.linalg.norm(xy[i, _J[f"{s}_shoulder"]] - xy[i, _J[f"{s}_hip"]])
                 for s in ("left", "right") if w[_J[f"{s}_shoulder"]] > 0 and w[_J[f"{s}_hip"]] > 0]
        if sides and np.mean(sides) > 1.0:
            z, torso_px = f * torso3 / np.mean(sides), np.mean(sides)
        else:
            p2, p3 = xy[i, present], J0[present, :2]
            s2 = np.sqrt(((p2 - p2.mean(0)) ** 2).sum(-1).mean())
            s3 = np.sqrt(((p3 - p3.mean(0)) ** 2).sum(-1).mean())
            if s2 < 1.0:
                continue
            z, torso_px = f * s3 / s2, None
        roll = 0.0
        hips, shoulders = _pair(xy[i], w, "left_hip", "right_hip"), _pair(xy[i], w, "left_shoulder", "right_shoulder")
        if hips is not None and shoulders is not None:
            down = hips.mean(0) - shoulders.mean(0)
            if np.linalg.norm(down) > 1.0:
                roll = math.atan2(-down[0], down[1])
        lr = [p[0] - p[1] for p in (hips, shoulders) if p is not None]
        if lr:
            v = _rot_z(-roll)[:2, :2] @ np.mean(lr, 0)
            if torso_px is None or abs(v[0]) > 0.2 * torso_px:
                facing = 0.0 if v[0] > 0 else math.pi
        R0[i] = _rot_z(roll) @ _rot_y(facing)
        c2 = (w[present, None] * xy[i, present]).sum(0) / w[present].sum()
        c3 = (w[present, None] * J0[present]).sum(0) / w[present].sum()
        ray = Kinv @ np.array([c2[0], c2[1], 1.0])
        t[i] = z * ray - R0[i] @ c3
    have = np.isfinite(t[:, 0])
    if not have.any():
        t[:] = np.array([0.0, 0.0, 4.0])
        return R0, t
    frames = np.arange(T)
    for k in range(3):
        t[:, k] = np.interp(frames, frames[have], t[have, k])
    nearest = frames[have][np.abs(frames[:, None] - frames[have][None]).argmin(1)]
    R0 = R0[nearest]
    return R0, t
