"""OpenSim motion -> Anny mesh -> virtual-marker trajectories (``MarkerData``) and ``.trc`` files.

The functions here turn (body model, shape, OpenSim model, coordinate motion) into virtual markers in OpenSim's
ground frame (metres, y up), and write the files a labelling run needs: the motion trial(s), a static trial at
a known pose, and that pose as a ``.mot`` for ``label --static-pose``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from tqdm import tqdm

from ..bodymodels.anny import AnnyBodyModel, AnnyPose, AnnyShape
from ..io import MarkerData, write_coordinates_mot, write_trc
from ..markers.sets import VirtualMarkerSet
from ..markers.virtual import apply_marker_plan, compile_marker_set
from .coordinates import CoordinateMotion, static_motion
from .osim_poses import body_poses
from .retarget import AnnyOsimCalibration, calibrate, retarget_poses, to_opensim_frame

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class MeshMotion:
    """Retargeted mesh sequence in OpenSim's ground frame.

    Attributes:
        times: ``(T,)`` seconds.
        vertices: ``(T, V, 3)`` float32 metres (float32 keeps long sequences small).
        joints: ``(T, J, 3)`` float64 metres, named ``joint_names``.
        joint_names: SMPL-H joint names.
    """

    times: np.ndarray
    vertices: np.ndarray
    joints: np.ndarray
    joint_names: tuple[str, ...]


def _frames(poses: AnnyPose, start: int, stop: int) -> AnnyPose:
    return AnnyPose(poses.orientations[start:stop], poses.root_position[start:stop])


def virtual_marker_trajectories(
    body_model: AnnyBodyModel,
    model,
    motion: CoordinateMotion,
    marker_set: VirtualMarkerSet,
    shape: AnnyShape | None = None,
    calibration: AnnyOsimCalibration | None = None,
    ground: str | float = "sequence",
    batch: int = 64,
    progress: bool = False,
) -> MarkerData:
    """Virtual markers ``(T, M, 3)`` (OpenSim ground, metres) of Anny driven by ``motion`` on ``model``.

    Args:
        body_model: the Anny body model.
        model: the OpenSim model (path or ``opensim.Model``) whose coordinates ``motion`` holds.
        motion: coordinate trajectories of ``model`` (see :func:`~biopose_opensim.motion.read_motion`).
        marker_set: an Anny virtual-marker set.
        shape: Anny phenotypes (default body when None); ignored when ``calibration`` is given.
        calibration: a precomputed :func:`~biopose_opensim.motion.retarget.calibrate` result.
        ground: ground level of ground projections (``"sequence"``: lowest vertex over the whole motion;
            ``"frame"``; or a level in metres).
        batch: frames per Anny forward pass.
    """
    marker_set.check_body_model(body_model.n_vertices, body_model.joint_names, "Anny model")
    calib = calibration or calibrate(body_model, model, shape)
    poses = retarget_poses(calib, body_poses(model, motion, progress=progress))
    plan = compile_marker_set(marker_set, body_model.joint_names)
    T = motion.n_frames
    out = np.empty((T, len(marker_set), 3))
    lowest = np.empty(T)
    for start in tqdm(range(0, T, batch), desc="virtual markers", disable=not progress, leave=False):
        stop = min(T, start + batch)
        res = body_model.forward(calib.shape, _frames(poses, start, stop))
        verts, joints = to_opensim_frame(res.vertices), to_opensim_frame(res.joints)
        out[start:stop] = apply_marker_plan(plan, verts, joints, up_axis=1, ground="frame").numpy()
        lowest[start:stop] = verts[..., 1].min(dim=-1).values.numpy()
    if len(plan.ground_rows):
        if isinstance(ground, (int, float)) and not isinstance(ground, bool):
            level = np.full(T, float(ground))
        elif ground == "sequence":
            level = np.full(T, lowest.min())
        elif ground == "frame":
            level = lowest
        else:
            raise ValueError(f"ground must be 'sequence', 'frame' or a number, got {ground!r}")
        out[:, plan.ground_rows.numpy(), 1] = level[:, None]
    rate = 1.0 / float(np.median(np.diff(motion.times))) if T > 1 else 1.0
    return MarkerData(
        marker_names=marker_set.names, positions=out, times=motion.times - motion.times[0], rate=rate,
        frame_numbers=np.arange(1, T + 1), source_units="m",
    )


def mesh_motion(body_model: AnnyBodyModel, model, motion: CoordinateMotion, shape: AnnyShape | None = None,
                calibration: AnnyOsimCalibration | None = None, batch: int = 64) -> MeshMotion:
    """The retargeted mesh and joints of every frame, in OpenSim's ground frame."""
    calib = calibration or calibrate(body_model, model, shape)
    poses = retarget_poses(calib, body_poses(model, motion))
    V, J = [], []
    for start in range(0, motion.n_frames, batch):
        res = body_model.forward(calib.shape, _frames(poses, start, start + batch))
        V.append(to_opensim_frame(res.vertices).to(torch.float32).numpy())
        J.append(to_opensim_frame(res.joints).numpy())
    return MeshMotion(motion.times.copy(), np.concatenate(V), np.concatenate(J), body_model.joint_names)


@dataclass(frozen=True)
class SyntheticTrials:
    """Files written by :func:`write_synthetic_trials` (paths)."""

    static_trc: Path
    static_pose_mot: Path
    trials: tuple[Path, ...]
    truth: tuple[Path, ...]


def write_synthetic_trials(
    out_dir: str | Path,
    body_model: AnnyBodyModel,
    model,
    motions: Sequence[CoordinateMotion],
    marker_set: VirtualMarkerSet,
    shape: AnnyShape | None = None,
    static_pose="zero",
    static_duration: float = 1.0,
    rate: float | None = None,
) -> SyntheticTrials:
    """Write a static trial, its pose, and one virtual-marker trial per motion into ``out_dir``.

    Files: ``static.trc`` (Anny at ``static_pose`` for ``static_duration`` s), ``static_pose.mot`` (that pose
    without the root joint's translations, for ``label --static-pose``), and per motion ``<name>.trc`` plus ``<name>_truth.mot`` (the source
    coordinates on ``model``, degrees for rotations). All TRC files are in millimetres, y up.
    """
    out_dir = Path(out_dir)
    calib = calibrate(body_model, model, shape)
    rate = rate or (1.0 / float(np.median(np.diff(motions[0].times))) if motions and motions[0].n_frames > 1
                    else 60.0)
    static = static_motion(model, static_pose, duration=static_duration, rate=rate)
    static_markers = virtual_marker_trajectories(body_model, model, static, marker_set, calibration=calib)
    static_trc = write_trc(out_dir / "static.trc", static_markers)
    # The pose only: the root joint's translations stay free during marker placement (the scaled model's pelvis
    # height differs from the generic one).
    from ..osim.coordinate_space import CoordinateSpace

    root = set(CoordinateSpace.from_osim(model).root_translations)
    keep = [i for i, n in enumerate(static.coordinate_names) if n not in root]
    static_mot = write_coordinates_mot(out_dir / "static_pose.mot", static.times[:1], static.q[:1, keep],
                                       [static.coordinate_names[i] for i in keep], static.rotational[keep],
                                       name="static_pose")
    trials, truth = [], []
    for motion in motions:
        data = virtual_marker_trajectories(body_model, model, motion, marker_set, calibration=calib)
        trials.append(write_trc(out_dir / f"{motion.name}.trc", data))
        truth.append(write_coordinates_mot(out_dir / f"{motion.name}_truth.mot", motion.times, motion.q,
                                           motion.coordinate_names, motion.rotational, name=motion.name))
        log.info("wrote %s (%d frames, %d markers)", trials[-1], data.n_frames, data.n_markers)
    return SyntheticTrials(static_trc, static_mot, tuple(trials), tuple(truth))
