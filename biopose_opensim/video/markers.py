"""A clip's body sequence -> mesh per frame -> virtual markers in OpenSim's ground frame, filtered in time.

Frames: the front ends work in the camera frame (OpenCV: x right, y down, z forward). The camera is taken as
level (its x axis horizontal, its y axis vertical), so the ground frame is the camera frame turned 180 degrees
about x: ``(x, y, z)_ground = (x, -y, -z)_camera`` (y up; the heading does not matter to NeurIK, which
normalises it), then shifted so that the floor — the lowest vertex of the whole clip, where the ground-projection
markers sit — is at y = 0 and the clip's mean root position is above the origin, as in a motion-capture lab (the
camera's position means nothing to OpenSim).

Temporal filtering: a zero-lag 4th-order Butterworth low-pass (``cutoff_hz``, default 6 Hz, the usual choice
for human movement) over each marker coordinate, applied within runs of observed frames only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..bodymodels.anny import AnnyBodyModel, AnnyPose, AnnyShape, PHENOTYPES
from ..markers.sets import VirtualMarkerSet
from ..markers.virtual import apply_marker_plan, compile_marker_set
from .frontends import BodySequence

#: Camera frame -> OpenSim ground frame for a level camera (180 degrees about x).
CAMERA_TO_GROUND = np.diag([1.0, -1.0, -1.0])


@dataclass(frozen=True, eq=False)
class MeshSequence:
    """The clip's mesh in the camera frame: ``vertices (T, V, 3)`` float32 and ``joints (T, 52, 3)``, metres."""

    vertices: np.ndarray
    joints: np.ndarray
    faces: np.ndarray


def body_mesh(seq: BodySequence, body: AnnyBodyModel | None = None, batch: int = 32) -> MeshSequence:
    """Pose Anny at every frame of ``seq`` (camera frame)."""
    body = body or AnnyBodyModel()
    shape = AnnyShape(**{n: float(np.clip(v, 0.0, 1.0)) for n, v in zip(PHENOTYPES, seq.phenotypes)})
    T = len(seq.cam_t)
    V, J = [], []
    for start in range(0, T, batch):
        stop = min(T, start + batch)
        pose = AnnyPose(orientations=torch.as_tensor(seq.orientations[start:stop], dtype=body.dtype),
                        root_position=torch.as_tensor(seq.cam_t[start:stop], dtype=body.dtype))
        out = body.forward(shape, pose)
        V.append(out.vertices.to(torch.float32).numpy())
        J.append(out.joints.numpy())
    return MeshSequence(np.concatenate(V), np.concatenate(J), body.faces.numpy())


def lowpass(x: np.ndarray, fps: float, cutoff_hz: float = 6.0, keep: np.ndarray | None = None) -> np.ndarray:
    """Zero-lag Butterworth low-pass of ``x (T, ...)`` along time within runs of ``keep`` (default all frames);
    runs too short to filter (or a cutoff at or above Nyquist) are returned as they are."""
    from scipy.signal import butter, filtfilt

    x = np.array(x, dtype=float)
    if cutoff_hz <= 0 or cutoff_hz >= fps / 2.0:
        return x
    b, a = butter(4, cutoff_hz / (fps / 2.0))
    keep = np.ones(len(x), bool) if keep is None else np.asarray(keep, bool)
    t = 0
    while t < len(x):
        if not keep[t]:
            t += 1
            continue
        end = t
        while end < len(x) and keep[end]:
            end += 1
        if end - t > 3 * max(len(a), len(b)):
            x[t:end] = filtfilt(b, a, x[t:end], axis=0)
        t = end
    return x


def virtual_markers(mesh: MeshSequence, marker_set: VirtualMarkerSet, joint_names) -> np.ndarray:
    """``(T, M, 3)`` virtual markers in the ground frame (metres, y up) of a camera-frame mesh."""
    R = torch.as_tensor(CAMERA_TO_GROUND)
    verts = torch.as_tensor(mesh.vertices, dtype=torch.float64) @ R.T
    joints = torch.as_tensor(mesh.joints, dtype=torch.float64) @ R.T
    plan = compile_marker_set(marker_set, joint_names)
    markers = apply_marker_plan(plan, verts, joints, up_axis=1, ground="sequence").numpy()
    shift = np.zeros(3)
    shift[1] = float(verts[..., 1].min())
    shift[[0, 2]] = joints[:, 0, :].mean(0).numpy()[[0, 2]]
    return markers - shift
