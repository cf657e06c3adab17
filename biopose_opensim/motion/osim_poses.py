"""World poses of an OpenSim model's bodies along a coordinate motion, computed by OpenSim itself.

For each frame the model's coordinates are set (locks released in the working state, constraints not
enforced: in the default model that leaves only the patellae, which no body-model bone follows, off their
coupled path), the state is realised to positions, and every body's transform in ground is read.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from tqdm import tqdm

from ..errors import CoordinateMismatchError
from ..osim.model import load_model
from .coordinates import CoordinateMotion

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class BodyPoses:
    """Body transforms in OpenSim's ground frame (x forward, y up, z right; metres).

    Attributes:
        times: ``(T,)`` seconds.
        body_names: ``NB`` body names.
        rotations: ``(T, NB, 3, 3)`` body orientation in ground (columns: body axes in ground).
        positions: ``(T, NB, 3)`` body origin in ground, metres.
    """

    times: np.ndarray
    body_names: tuple[str, ...]
    rotations: np.ndarray
    positions: np.ndarray

    def index(self, body: str) -> int:
        try:
            return self.body_names.index(body)
        except ValueError:
            raise KeyError(f"body {body!r} not in {', '.join(self.body_names)}") from None

    def rotation(self, body: str) -> np.ndarray:
        """``(T, 3, 3)`` orientation of ``body`` in ground."""
        return self.rotations[:, self.index(body)]

    def position(self, body: str) -> np.ndarray:
        """``(T, 3)`` origin of ``body`` in ground, metres."""
        return self.positions[:, self.index(body)]

    def to_ground(self, body: str, points: np.ndarray) -> np.ndarray:
        """Points ``(..., 3)`` given in ``body``'s frame -> ``(T, ..., 3)`` in ground."""
        R, p = self.rotation(body), self.position(body)
        pts = np.asarray(points, dtype=np.float64)
        flat = pts.reshape(-1, 3)
        out = np.einsum("tij,nj->tni", R, flat) + p[:, None, :]
        return out.reshape((R.shape[0],) + pts.shape)


def _load(model):
    if hasattr(model, "getBodySet"):
        return model
    return load_model(model)


def body_poses(model, motion: CoordinateMotion, bodies: Sequence[str] | None = None,
               progress: bool = False) -> BodyPoses:
    """Body poses of ``model`` (path or ``opensim.Model``) at every frame of ``motion``.

    Raises:
        CoordinateMismatchError: the motion's coordinates are not the model's.
    """
    model = _load(model)
    state = model.initSystem()
    cs = model.getCoordinateSet()
    names = [cs.get(i).getName() for i in range(cs.getSize())]
    if tuple(names) != tuple(motion.coordinate_names):
        missing = sorted(set(names) - set(motion.coordinate_names))
        extra = sorted(set(motion.coordinate_names) - set(names))
        raise CoordinateMismatchError(
            f"motion {motion.name!r} coordinates do not match the model's: missing {missing or 'none'}, "
            f"extra {extra or 'none'}; build the motion with biopose_opensim.motion.read_motion(path, model)"
        )
    coords = [cs.get(i) for i in range(cs.getSize())]
    for c in coords:
        c.setLocked(state, False)
    body_set = model.getBodySet()
    all_bodies = [body_set.get(i).getName() for i in range(body_set.getSize())]
    bodies = tuple(bodies) if bodies is not None else tuple(all_bodies)
    handles = []
    for b in bodies:
        if b not in all_bodies:
            raise KeyError(f"body {b!r} is not in the model; bodies: {', '.join(all_bodies)}")
        handles.append(body_set.get(b))
    T = motion.n_frames
    R = np.empty((T, len(bodies), 3, 3))
    P = np.empty((T, len(bodies), 3))
    frames = range(T)
    for t in tqdm(frames, desc="OpenSim body poses", disable=not progress, leave=False):
        for c, v in zip(coords, motion.q[t]):
            c.setValue(state, float(v), False)
        model.realizePosition(state)
        for k, body in enumerate(handles):
            X = body.getTransformInGround(state)
            rot, pos = X.R(), X.p()
            for i in range(3):
                P[t, k, i] = pos.get(i)
                for j in range(3):
                    R[t, k, i, j] = rot.get(i, j)
    return BodyPoses(times=motion.times.copy(), body_names=bodies, rotations=R, positions=P)
