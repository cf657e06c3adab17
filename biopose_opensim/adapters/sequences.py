"""SMPL-family motion sequences as published by AMASS (BML-MoVi fits, SMPL-H) and BEDLAM (SMPL-X).

AMASS ``.npz`` (one file per motion; public AMASS layout): ``poses`` (T, 156) axis-angle = root (3), 21 body
joints (63), left hand (45), right hand (45); ``trans`` (T, 3) metres; ``betas`` (16,); ``mocap_framerate``
(BML-MoVi: 120); ``gender`` (``male``/``female``/``neutral``, str or bytes). The world is **z up**.

BEDLAM SMPL-X ground truth ``.npz`` (``neutral_ground_truth_motioninfo``; layout of the public BEDLAM
processing code): ``poses`` (T, 165) = root (3), body (63), jaw (3), left eye (3), right eye (3), left hand
(45), right hand (45); ``trans`` (T, 3); ``betas`` (10 or 11; 11 for the neutral model); ``gender``; an
optional ``motion_info``. The world is **y up**; BEDLAM renders at 30 fps and the files carry no rate, so a
``mocap_frame_rate``/``mocap_framerate``/``fps`` key is used when present and 30 fps otherwise.

:meth:`SmplSequence.aligned` rotates the world into OpenSim's axes (y up) and turns it about the vertical
so that the subject faces +x (OpenSim forward) in the first frame, with the pelvis above the origin. The
OpenSim root has ``pelvis_rotation`` within ±90°, so an unaligned subject walking "backwards" would leave
the model's range.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from ..errors import InputFileError

log = logging.getLogger(__name__)

#: Rotation taking a z-up world (AMASS) to y-up (x kept): (x, y, z) -> (x, z, -y).
Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
BEDLAM_DEFAULT_FPS = 30.0


@dataclass(frozen=True, eq=False)
class SmplSequence:
    """A motion of an SMPL-family body (axis-angle poses, metres).

    Attributes:
        source: the file read.
        model_type: ``"smplh"`` or ``"smplx"``.
        gender: ``"male"``, ``"female"`` or ``"neutral"``.
        betas: (K,) shape coefficients.
        global_orient: (T, 3) root rotation, axis-angle, world frame given by ``up_axis``.
        body_pose: (T, 63) 21 body joints.
        left_hand_pose, right_hand_pose: (T, 45).
        jaw_pose, leye_pose, reye_pose: (T, 3) for SMPL-X, else ``None``.
        trans: (T, 3) metres, root translation.
        fps: frames per second.
        up_axis: ``"z"`` (AMASS) or ``"y"`` (BEDLAM, and after :meth:`aligned`).
    """

    source: Path
    model_type: str
    gender: str
    betas: np.ndarray
    global_orient: np.ndarray
    body_pose: np.ndarray
    left_hand_pose: np.ndarray
    right_hand_pose: np.ndarray
    trans: np.ndarray
    fps: float
    up_axis: str
    jaw_pose: np.ndarray | None = None
    leye_pose: np.ndarray | None = None
    reye_pose: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        return int(self.trans.shape[0])

    def subsample(self, fps: float) -> "SmplSequence":
        """Every k-th frame so that the rate is as close to ``fps`` as an integer step allows (never above)."""
        step = max(1, int(round(self.fps / fps)))
        if step == 1:
            return self
        sl = slice(None, None, step)
        opt = lambda a: None if a is None else a[sl]  # noqa: E731
        return replace(self, global_orient=self.global_orient[sl], body_pose=self.body_pose[sl],
                       left_hand_pose=self.left_hand_pose[sl], right_hand_pose=self.right_hand_pose[sl],
                       trans=self.trans[sl], fps=self.fps / step, jaw_pose=opt(self.jaw_pose),
                       leye_pose=opt(self.leye_pose), reye_pose=opt(self.reye_pose))

    def aligned(self, root_offset: np.ndarray) -> "SmplSequence":
        """The sequence in a y-up world turned so the subject faces +x at frame 0, pelvis over the origin.

        Args:
            root_offset: (3,) the rest-pose root joint of this body (``J[0]`` of the shape), metres, body
                frame. SMPL rotates about the root joint, so a world rotation ``R`` maps ``trans`` to
                ``R (trans + j0) − j0``.
        """
        up = np.eye(3) if self.up_axis == "y" else Z_UP_TO_Y_UP
        R0 = Rotation.from_rotvec(self.global_orient[0])
        # SMPL's body faces +z in its own axes; the heading is that direction in the y-up world
        fwd = up @ R0.apply([0.0, 0.0, 1.0])
        yaw = np.arctan2(fwd[2], fwd[0])  # rotation about +y by this angle turns fwd onto +x
        turn = Rotation.from_rotvec([0.0, yaw, 0.0]).as_matrix()
        # SMPL's own axes (x left, y up, z forward) relate to OpenSim's by a fixed rotation; facing +x in
        # OpenSim = SMPL forward (+z) turned onto +x. Apply world rotation W = turn @ up.
        W = turn @ up
        orient = (Rotation.from_matrix(W) * Rotation.from_rotvec(self.global_orient)).as_rotvec()
        j0 = np.asarray(root_offset, dtype=float)
        trans = (self.trans + j0) @ W.T - j0
        pelvis0 = trans[0] + j0
        trans = trans - np.array([pelvis0[0], 0.0, pelvis0[2]])
        return replace(self, global_orient=orient, trans=trans, up_axis="y")


def _load(path: Path) -> dict:
    if not path.is_file():
        raise InputFileError(path, "motion file not found")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except ValueError:
        # some releases store gender as a pickled object array
        try:
            with np.load(path, allow_pickle=True) as z:
                return {k: z[k] for k in z.files}
        except Exception as exc:
            raise InputFileError(path, f"cannot read as .npz: {exc}") from None
    except Exception as exc:
        raise InputFileError(path, f"cannot read as .npz: {exc}") from None


def _gender(path: Path, raw) -> str:
    g = raw.item() if isinstance(raw, np.ndarray) and raw.shape == () else raw
    if isinstance(g, np.ndarray) and g.size == 1:
        g = g.reshape(-1)[0]
    if isinstance(g, bytes):
        g = g.decode("utf-8", "replace")
    g = str(g).strip().lower()
    if g not in ("male", "female", "neutral"):
        raise InputFileError(path, f"gender {g!r} is not one of male, female, neutral")
    return g


def _require(path: Path, d: dict, key: str, shape_tail: tuple[int, ...] | None, what: str) -> np.ndarray:
    if key not in d:
        raise InputFileError(path, f"key {key!r} missing ({what}); keys present: {', '.join(sorted(d))}")
    a = np.asarray(d[key], dtype=np.float64)
    if shape_tail is not None and (a.ndim != 1 + len(shape_tail) or a.shape[1:] != shape_tail):
        raise InputFileError(path, f"{key!r} has shape {a.shape}; expected (T, {', '.join(map(str, shape_tail))}) "
                                   f"({what})")
    if not np.isfinite(a).all():
        raise InputFileError(path, f"{key!r} contains NaN or infinite values")
    return a


def _motion(path: Path, d: dict, n_pose: int, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``poses`` (T, n_pose), ``trans`` (T, 3) metres and ``betas`` (K,) of a sequence file, checked."""
    poses = _require(path, d, "poses", (n_pose,), what)
    trans = _require(path, d, "trans", (3,), "root translation, metres")
    if trans.shape[0] != poses.shape[0]:
        raise InputFileError(path, f"'trans' has {trans.shape[0]} frames but 'poses' has {poses.shape[0]}")
    if "betas" not in d:
        raise InputFileError(path, f"key 'betas' missing (shape coefficients); keys present: {', '.join(sorted(d))}")
    return poses, trans, np.asarray(d["betas"], dtype=np.float64).reshape(-1)


def read_amass(path: str | Path) -> SmplSequence:
    """Read an AMASS/BML-MoVi SMPL-H fit (``poses`` (T, 156), ``trans``, ``betas``, ``mocap_framerate``, ``gender``).

    Raises:
        InputFileError: a missing key, a wrong shape (the message names the key and the expected shape),
            a non-positive frame rate or an unknown gender.
    """
    path = Path(path)
    d = _load(path)
    poses, trans, betas = _motion(path, d, 156, "SMPL-H axis-angle: root, 21 body, 2 x 15 hand joints")
    rate_key = next((k for k in ("mocap_framerate", "mocap_frame_rate") if k in d), None)
    if rate_key is None:
        raise InputFileError(path, "key 'mocap_framerate' missing (frames per second)")
    fps = float(np.asarray(d[rate_key]).reshape(-1)[0])
    if not fps > 0:
        raise InputFileError(path, f"'{rate_key}' must be positive, got {fps}")
    if "gender" not in d:
        raise InputFileError(path, "key 'gender' missing (male, female or neutral)")
    if poses.shape[0] < 2:
        raise InputFileError(path, f"needs at least 2 frames, found {poses.shape[0]}")
    return SmplSequence(source=path, model_type="smplh", gender=_gender(path, d["gender"]), betas=betas,
                        global_orient=poses[:, :3], body_pose=poses[:, 3:66], left_hand_pose=poses[:, 66:111],
                        right_hand_pose=poses[:, 111:156], trans=trans, fps=fps, up_axis="z")


def read_bedlam(path: str | Path, fps: float | None = None) -> SmplSequence:
    """Read a BEDLAM SMPL-X ground-truth motion (``poses`` (T, 165), ``trans``, ``betas``, ``gender``).

    Args:
        fps: frame rate when the file has none (default: 30, BEDLAM's rate).
    """
    path = Path(path)
    d = _load(path)
    poses, trans, betas = _motion(path, d, 165, "SMPL-X axis-angle: root, 21 body, jaw, 2 eyes, 2 x 15 hand joints")
    rate_key = next((k for k in ("mocap_frame_rate", "mocap_framerate", "fps") if k in d), None)
    rate = float(np.asarray(d[rate_key]).reshape(-1)[0]) if rate_key else float(fps or BEDLAM_DEFAULT_FPS)
    if not rate > 0:
        raise InputFileError(path, f"frame rate must be positive, got {rate}")
    gender = _gender(path, d["gender"]) if "gender" in d else "neutral"
    if poses.shape[0] < 2:
        raise InputFileError(path, f"needs at least 2 frames, found {poses.shape[0]}")
    return SmplSequence(source=path, model_type="smplx", gender=gender, betas=betas,
                        global_orient=poses[:, :3], body_pose=poses[:, 3:66], jaw_pose=poses[:, 66:69],
                        leye_pose=poses[:, 69:72], reye_pose=poses[:, 72:75], left_hand_pose=poses[:, 75:120],
                        right_hand_pose=poses[:, 120:165], trans=trans, fps=rate, up_axis="y")
