"""Training samples for MQ-HMR from the project's image datasets and from the public HMR npz files.

Every reader returns samples as ``dict[str, torch.Tensor | str | int]`` with the keys below (``S`` crop side,
``J`` keypoints of ``layout``, ``NB`` Anny bones (104), ``M`` virtual markers). Flags are float32 scalars, 1 where
the quantity is known. Frames: the camera frame of the source image (OpenCV: x right, y down, z forward), after
the augmentation's in-plane rotation and flip.

========================  ============  =================================================================
``image``                 (3, S, S)     float32, ImageNet-normalised RGB crop
``keypoints_2d``          (J, 3)        float32, x, y normalised to the crop (``px / S - 0.5``), confidence
``keypoints_3d``          (J, 4)        float32, metres, camera frame, relative to the pelvis, confidence
``layout``                str           keypoint layout of both keypoint arrays (:mod:`biopose_opensim.keypoints`)
``global_orient``         (1, 3, 3)     float32, SMPL root rotation in the camera frame (identity if unknown)
``body_pose``             (23, 3, 3)    float32, SMPL joint rotations relative to their parents
``betas``                 (10,)         float32, SMPL shape
``has_body_pose``         ()            flag for ``global_orient`` and ``body_pose``
``has_betas``             ()            flag for ``betas``
``anny_orientations``     (NB, 3, 3)    float32, world orientation of every Anny bone in the camera frame
``anny_phenotypes``       (6,)          float32, Anny phenotypes
``has_anny_orientations`` ()            flag (0 after a flip: mirrored Anny orientations are not derived)
``has_anny_phenotypes``   ()            flag
``cam_t``                 (3,)          float32, metres, camera frame: the pelvis (image datasets) or the
                                        body model's translation parameter (BEDLAM)
``has_cam_t``             ()            flag
``cam_K``                 (3, 3)        float32, px, intrinsics of the source image (zeros if unknown)
``box_center``            (2,)          float32, px, the (augmented) box centre in the source image
``box_size``              ()            float32, px, the (augmented) box side
``img_size``              (2,)          float32, px, source image width and height
``rot``, ``flip``         ()            float32, the augmentation drawn (degrees; 1 if mirrored)
``virtual_markers``       (M, 4)        float32, metres, camera frame, confidence (image datasets only)
``imgname``               str           the image file
``index``                 int           the sample's index in its dataset
========================  ============  =================================================================

The rotation and flip act on 3D quantities as rotating the camera about its optical axis and mirroring x: exact
for orientations, keypoints relative to the pelvis and the SMPL pose; for ``cam_t`` and virtual markers it holds
when the box centre is at the principal point (the usual HMR approximation).
"""
from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .. import keypoints as kp
from ..errors import InputFileError
from .crop import BOX_UNIT_PX, crop_image, crop_transform, normalize_image, normalize_keypoints, transform_points

log = logging.getLogger(__name__)

#: Number of Anny bones in the image datasets' ``anny_orientations``.
ANNY_NUM_BONES = 104
#: Format tag of the project's image datasets.
IMAGES_FORMAT = "biopose_opensim.images/1"
_MIRROR = np.diag([-1.0, 1.0, 1.0])


@dataclass(frozen=True)
class Augmentation:
    """Training augmentation; all off by default (then a sample is the plain crop).

    Attributes:
        scale_jitter: box side multiplied by ``clip(1 + s * N(0, 1), 1 - s, 1 + s)``.
        translation_jitter: box centre moved by ``U(-t, t) * box side`` along x and y.
        rotation_deg: in-plane rotation ``clip(r * N(0, 1), -2 r, 2 r)`` degrees, drawn with ``rotation_prob``.
        rotation_prob: probability of a rotation.
        colour_jitter: each RGB channel multiplied by ``U(1 - c, 1 + c)`` (clipped to [0, 255]).
        flip_prob: probability of a horizontal flip (left/right keypoints swapped via the layout).
    """

    scale_jitter: float = 0.0
    translation_jitter: float = 0.0
    rotation_deg: float = 0.0
    rotation_prob: float = 1.0
    colour_jitter: float = 0.0
    flip_prob: float = 0.0

    def draw(self, rng: np.random.Generator) -> "AugmentationDraw":
        """One random draw (a fixed number of ``rng`` calls, so a seed gives the same draw every time)."""
        z = rng.standard_normal(2)
        u = rng.uniform(-1.0, 1.0, size=2)
        gains = rng.uniform(1.0 - self.colour_jitter, 1.0 + self.colour_jitter, size=3)
        r_on, f_on = rng.uniform(size=2)
        s = self.scale_jitter
        rot = float(np.clip(self.rotation_deg * z[1], -2 * self.rotation_deg, 2 * self.rotation_deg))
        return AugmentationDraw(
            scale=float(np.clip(1.0 + s * z[0], 1.0 - s, 1.0 + s)),
            shift=tuple(float(v) * self.translation_jitter for v in u),
            rot=rot if r_on < self.rotation_prob else 0.0,
            gains=tuple(float(g) for g in gains),
            flip=bool(f_on < self.flip_prob),
        )


@dataclass(frozen=True)
class AugmentationDraw:
    """The augmentation applied to one sample: box side factor, centre shift (box sides), rotation (degrees),
    per-channel colour gains and flip."""

    scale: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)
    rot: float = 0.0
    gains: tuple[float, float, float] = (1.0, 1.0, 1.0)
    flip: bool = False


def _rot_z(rot_deg: float) -> np.ndarray:
    """3D rotation about the camera z axis matching :func:`crop_transform`'s in-plane rotation."""
    t = math.radians(rot_deg)
    return np.array([[math.cos(t), math.sin(t), 0.0], [-math.sin(t), math.cos(t), 0.0], [0.0, 0.0, 1.0]])


def load_rgb(path: Path) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB image. Raises InputFileError naming ``path`` if missing or unreadable."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except FileNotFoundError:
        raise InputFileError(path, "image not found") from None
    except OSError as exc:
        raise InputFileError(path, f"image could not be read: {exc}") from None


@dataclass(frozen=True)
class _Record:
    """One person in one image, in source px / camera metres, keypoints in ``layout``."""

    image_path: Path
    center: np.ndarray  # (2,)
    box_size: float  # px
    keypoints_2d: np.ndarray  # (K, 3) px
    keypoints_3d: np.ndarray  # (K, 4) camera metres, absolute or relative
    layout: str
    pose: np.ndarray | None = None  # (24, 3, 3) SMPL rotations
    betas: np.ndarray | None = None  # (10,)
    anny_orientations: np.ndarray | None = None  # (NB, 3, 3)
    anny_phenotypes: np.ndarray | None = None  # (6,)
    cam_t: np.ndarray | None = None
    cam_K: np.ndarray | None = None
    virtual_markers: np.ndarray | None = None  # (M, 3)
    marker_names: tuple[str, ...] = ()


def make_sample(rec: _Record, index: int, size: int, out_layout: str, draw: AugmentationDraw) -> dict:
    """Crop, augment and convert one record into a sample (keys in the module docstring)."""
    img = load_rgb(rec.image_path)
    box = rec.box_size * draw.scale
    center = rec.center + np.asarray(draw.shift) * rec.box_size
    A = crop_transform(center, box / BOX_UNIT_PX, size, draw.rot, draw.flip)
    crop = crop_image(img, center, box / BOX_UNIT_PX, size, draw.rot, draw.flip)
    if draw.gains != (1.0, 1.0, 1.0):
        crop = np.clip(crop.astype(np.float32) * np.asarray(draw.gains, np.float32), 0, 255).round().astype(np.uint8)

    lay = kp.layout(rec.layout)
    k2 = np.array(rec.keypoints_2d, dtype=np.float64)
    k2[:, :2] = normalize_keypoints(transform_points(k2[:, :2], A), size)
    k3 = np.array(rec.keypoints_3d, dtype=np.float64)
    pelvis = kp.to_layout(k3, lay, "smplh52")[kp.layout("smplh52").index("pelvis")]
    if pelvis[3] > 0:
        k3[:, :3] -= pelvis[:3]
    else:
        k3[:, 3] = 0.0
    R3 = _MIRROR @ _rot_z(draw.rot) if draw.flip else _rot_z(draw.rot)
    k3[:, :3] = k3[:, :3] @ R3.T
    if draw.flip:
        perm = lay.flip_permutation()
        k2, k3 = k2[perm], k3[perm]
    k2 = kp.to_layout(k2, lay, out_layout)
    k3 = kp.to_layout(k3, lay, out_layout)

    has_pose = rec.pose is not None
    pose = np.tile(np.eye(3), (24, 1, 1)) if rec.pose is None else np.array(rec.pose, dtype=np.float64)
    pose[0] = _rot_z(draw.rot) @ pose[0]
    if draw.flip:
        pose = _MIRROR @ pose[kp.layout("smpl24").flip_permutation()] @ _MIRROR
    has_anny_o = rec.anny_orientations is not None and not draw.flip
    anny_o = np.tile(np.eye(3), (ANNY_NUM_BONES, 1, 1)) if rec.anny_orientations is None else rec.anny_orientations
    anny_o = _rot_z(draw.rot) @ np.asarray(anny_o, dtype=np.float64)

    def cam(v):
        return None if v is None else np.asarray(v, dtype=np.float64) @ R3.T

    H, W = img.shape[:2]
    f32 = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float32))  # noqa: E731
    flag = lambda b: torch.tensor(1.0 if b else 0.0)  # noqa: E731
    sample = {
        "image": normalize_image(crop),
        "keypoints_2d": f32(k2),
        "keypoints_3d": f32(k3),
        "layout": kp.layout(out_layout).name,
        "global_orient": f32(pose[:1]),
        "body_pose": f32(pose[1:]),
        "betas": f32(np.zeros(10) if rec.betas is None else rec.betas),
        "has_body_pose": flag(has_pose),
        "has_betas": flag(rec.betas is not None),
        "anny_orientations": f32(anny_o),
        "anny_phenotypes": f32(np.zeros(6) if rec.anny_phenotypes is None else rec.anny_phenotypes),
        "has_anny_orientations": flag(has_anny_o),
        "has_anny_phenotypes": flag(rec.anny_phenotypes is not None),
        "cam_t": f32(np.zeros(3) if rec.cam_t is None else cam(rec.cam_t)),
        "has_cam_t": flag(rec.cam_t is not None),
        "cam_K": f32(np.zeros((3, 3)) if rec.cam_K is None else rec.cam_K),
        "box_center": f32(center),
        "box_size": f32(box),
        "img_size": f32([W, H]),
        "rot": f32(draw.rot),
        "flip": flag(draw.flip),
        "imgname": str(rec.image_path),
        "index": int(index),
    }
    if rec.virtual_markers is not None:
        vm = cam(rec.virtual_markers)
        if draw.flip:
            vm = vm[kp.flip_permutation(rec.marker_names)] if len(rec.marker_names) == len(vm) else vm
        sample["virtual_markers"] = f32(np.concatenate([vm, np.ones((len(vm), 1))], axis=1))
    return sample


class _Base(torch.utils.data.Dataset):
    """Shared sampling: deterministic augmentation from ``(seed, epoch, index)``."""

    def __init__(self, size: int, layout: str, augment: Augmentation | None, seed: int):
        self.size = int(size)
        self.layout = kp.layout(layout).name
        self.augment = augment
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Draw a fresh (still deterministic) augmentation per epoch."""
        self.epoch = int(epoch)

    def draw(self, index: int) -> AugmentationDraw:
        if self.augment is None:
            return AugmentationDraw()
        return self.augment.draw(np.random.default_rng([self.seed, self.epoch, index]))

    def record(self, index: int) -> _Record:  # pragma: no cover - abstract
        raise NotImplementedError

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples")
        return make_sample(self.record(index), index, self.size, self.layout, self.draw(index))


def _require(data, key: str, path: Path, n: int | None = None, shape: tuple | None = None) -> np.ndarray:
    """``data[key]`` checked for presence, length ``n`` and trailing ``shape`` (None entries: any)."""
    if key not in data:
        raise InputFileError(path, f"missing key {key!r} (keys present: {', '.join(sorted(data.keys()))})")
    try:
        arr = data[key]
    except ValueError as exc:  # object arrays without allow_pickle
        raise InputFileError(path, f"key {key!r} could not be read: {exc} (pass allow_pickle=True for a "
                                   "trusted file)") from None
    if n is not None and len(arr) != n:
        raise InputFileError(path, f"key {key!r} has {len(arr)} rows, expected {n} (as 'imgname')")
    if shape is not None:
        tail = arr.shape[1:]
        if len(tail) != len(shape) or any(s is not None and s != t for s, t in zip(shape, tail)):
            want = ", ".join("N" if i == 0 else ("*" if s is None else str(s)) for i, s in enumerate((0,) + shape))
            raise InputFileError(path, f"key {key!r} has shape {arr.shape}, expected ({want})")
    return arr


def _strings(arr: np.ndarray) -> list[str]:
    return [a.decode("utf-8") if isinstance(a, bytes) else str(a) for a in arr]


class RenderDataset(_Base):
    """Samples of one split of the project's image dataset (``manifest.json`` + ``shards/`` + ``images/``).

    Args:
        root: dataset folder holding ``manifest.json`` (format ``biopose_opensim.images/1``).
        split: a split listed by the manifest's ``shards``.
        size: crop side S px (default: the manifest's ``crop_size``).
        layout: output keypoint layout (the shards hold ``smplh52``).
        augment: training augmentation (None: plain crops).
        seed: augmentation seed.

    All shards of the split are read into memory on construction. Raises InputFileError naming the manifest,
    shard and key at fault.
    """

    def __init__(self, root: str | Path, split: str, size: int | None = None, layout: str = "smplh52",
                 augment: Augmentation | None = None, seed: int = 0):
        self.root = Path(root)
        mpath = self.root / "manifest.json"
        try:
            manifest = json.loads(mpath.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputFileError(mpath, "manifest not found (is this an image dataset folder?)") from None
        except json.JSONDecodeError as exc:
            raise InputFileError(mpath, f"not valid JSON: {exc.msg}", line=exc.lineno) from None
        if manifest.get("format") != IMAGES_FORMAT:
            raise InputFileError(mpath, f"format {manifest.get('format')!r}, expected {IMAGES_FORMAT!r}")
        for key in ("shards", "crop_size"):
            if key not in manifest:
                raise InputFileError(mpath, f"missing key {key!r}")
        shards = [s for s in manifest["shards"] if s.get("split") == split]
        if not shards:
            known = sorted({str(s.get("split")) for s in manifest["shards"]})
            raise InputFileError(mpath, f"no shards for split {split!r}; splits: {', '.join(known)}")
        super().__init__(size or int(manifest["crop_size"]), layout, augment, seed)
        self.split = split
        self.manifest = manifest
        self._rows: list[tuple[dict, int]] = []
        smplh = kp.layout("smplh52")
        for entry in shards:
            spath = self.root / entry["path"]
            try:
                with np.load(spath, allow_pickle=False) as z:
                    n = len(_require(z, "imgname", spath))
                    arrays = {
                        "imgname": _strings(z["imgname"]),
                        "center": _require(z, "center", spath, n, (2,)),
                        "scale": _require(z, "scale", spath, n, ()),
                        "keypoints_2d": _require(z, "keypoints_2d", spath, n, (len(smplh), 3)),
                        "keypoints_3d": _require(z, "keypoints_3d", spath, n, (len(smplh), 4)),
                        "cam_K": _require(z, "cam_K", spath, n, (3, 3)),
                        "cam_t": _require(z, "cam_t", spath, n, (3,)),
                        "anny_orientations": _require(z, "anny_orientations", spath, n, (None, 3, 3)),
                        "anny_phenotypes": _require(z, "anny_phenotypes", spath, n, (6,)),
                    }
                    if "virtual_markers" in z:
                        arrays["virtual_markers"] = _require(z, "virtual_markers", spath, n, (None, 3))
                        arrays["marker_names"] = tuple(_strings(z["marker_names"])) if "marker_names" in z else ()
                    if "joint_names" in z and tuple(_strings(z["joint_names"])) != smplh.names:
                        raise InputFileError(spath, "key 'joint_names' is not the 52 SMPL-H joints in order")
            except FileNotFoundError:
                raise InputFileError(spath, "shard listed in manifest.json not found") from None
            except (OSError, ValueError) as exc:
                raise InputFileError(spath, f"not a readable npz: {exc}") from None
            arrays["path"] = spath
            self._rows.extend((arrays, i) for i in range(n))

    def __len__(self) -> int:
        return len(self._rows)

    def record(self, index: int) -> _Record:
        a, i = self._rows[index]
        vm = a.get("virtual_markers")
        return _Record(
            image_path=self.root / a["imgname"][i],
            center=np.asarray(a["center"][i], dtype=np.float64),
            box_size=float(a["scale"][i]) * BOX_UNIT_PX,
            keypoints_2d=a["keypoints_2d"][i],
            keypoints_3d=a["keypoints_3d"][i],
            layout="smplh52",
            anny_orientations=a["anny_orientations"][i],
            anny_phenotypes=a["anny_phenotypes"][i],
            cam_t=a["cam_t"][i],
            cam_K=a["cam_K"][i],
            virtual_markers=None if vm is None else vm[i],
            marker_names=a.get("marker_names", ()),
        )



def axis_angle_to_matrix(aa: np.ndarray) -> np.ndarray:
    """Rodrigues: ``(..., 3)`` axis-angle radians -> ``(..., 3, 3)`` rotation matrices."""
    aa = np.asarray(aa, dtype=np.float64)
    theta = np.linalg.norm(aa, axis=-1, keepdims=True)
    axis = aa / np.where(theta > 1e-12, theta, 1.0)
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zero = np.zeros_like(x)
    Kx = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], axis=-1).reshape(aa.shape[:-1] + (3, 3))
    s, c = np.sin(theta)[..., None], np.cos(theta)[..., None]
    return np.eye(3) + s * Kx + (1.0 - c) * (Kx @ Kx)


_GTKPS_LAYOUTS = {24: "smpl24", 25: "openpose_body25", 44: "hmr44", 52: "smplh52"}


class HMRNpzDataset(_Base):
    """Samples from a public HMR training npz (SPIN, ProHMR / HMR 2.0, or BEDLAM) and its image folder.

    Keys read (``N`` people; every array's first axis must be ``N``; see ``docs/mqhmr.md (Training data)``):

    * always: ``imgname`` (N,) paths relative to ``image_dir``; ``center`` (N, 2) px; ``scale`` (N,) or (N, 2)
      (the larger side is used).
    * BEDLAM (recognised by ``pose_cam``): ``pose_cam`` (N, 72) SMPL or (N, >=66) SMPL-X axis-angle in the
      camera frame (the first 22 joints; SMPL's two hand joints are then identity), ``shape`` (N, >=10),
      optional ``gtkps`` (N, K, 2|3) px with K in 24 / 25 / 44 / 52 or >= 127 (SMPL-X joints: the first 22 body
      joints are used), ``cam_int`` (N, 3, 3), ``trans_cam`` (N, 3) plus ``cam_ext`` (N, 4, 4) translation.
    * otherwise 2D keypoints from ``body_keypoints_2d`` (N, 25, 3) and/or ``extra_keypoints_2d`` (N, 19, 3)
      (ProHMR / HMR 2.0), or ``openpose`` (N, 25, 3) and/or ``part`` (N, 24, 3) (SPIN) -- at least one is
      required; 3D keypoints from ``body_keypoints_3d`` (N, 25, 4) / ``extra_keypoints_3d`` (N, 19, 4) or ``S``
      (N, 24, 4), metres; SMPL pose from ``pose`` (N, 72), or ``body_pose`` (N, 72) including the root, or
      ``global_orient`` (N, 3) + ``body_pose`` (N, 69), axis-angle, with ``has_smpl`` / ``has_body_pose``
      (default 1 where the pose is present); shape from ``betas`` or ``shape`` (N, 10) with ``has_betas`` /
      ``has_smpl``.

    ``scale_unit``: ``"box200"`` (side / 200 px: SPIN, BEDLAM), ``"px"`` (side in px: ProHMR / HMR 2.0 files,
    which the readers of those projects divide by 200) or ``"auto"`` (``"px"`` when any ProHMR-style key --
    ``body_keypoints_2d``, ``extra_keypoints_2d``, ``body_keypoints_3d``, ``extra_keypoints_3d``,
    ``has_body_pose`` -- is present, else ``"box200"``). Keypoint px are used as stored.

    Raises InputFileError naming the npz and key (missing key, wrong shape or length), or the image path.
    """

    def __init__(self, npz: str | Path, image_dir: str | Path, size: int = 256, layout: str = "hmr44",
                 augment: Augmentation | None = None, seed: int = 0, scale_unit: str = "auto",
                 allow_pickle: bool = False):
        super().__init__(size, layout, augment, seed)
        self.path = Path(npz)
        self.image_dir = Path(image_dir)
        if scale_unit not in ("auto", "px", "box200"):
            raise ValueError(f"scale_unit must be 'auto', 'px' or 'box200', got {scale_unit!r}")
        try:
            with np.load(self.path, allow_pickle=allow_pickle) as z:
                self._read(z, scale_unit)
        except FileNotFoundError:
            raise InputFileError(self.path, "npz file not found") from None
        except (OSError, ValueError) as exc:
            raise InputFileError(self.path, f"not a readable npz: {exc}") from None

    def _read(self, z, scale_unit: str) -> None:
        p = self.path
        self.imgname = _strings(_require(z, "imgname", p))
        n = len(self.imgname)
        self.center = np.asarray(_require(z, "center", p, n, (2,)), dtype=np.float64)
        scale = np.asarray(_require(z, "scale", p, n), dtype=np.float64).reshape(n, -1).max(axis=1)
        if scale_unit == "auto":
            prohmr = ("body_keypoints_2d", "extra_keypoints_2d", "body_keypoints_3d", "extra_keypoints_3d",
                      "has_body_pose")
            scale_unit = "px" if any(k in z for k in prohmr) else "box200"
        self.scale_unit = scale_unit
        self.box_size = scale if scale_unit == "px" else scale * BOX_UNIT_PX
        self.cam_K = self.cam_t = None
        if "pose_cam" in z:
            self._read_bedlam(z, n)
        else:
            self._read_standard(z, n)

    def _read_bedlam(self, z, n: int) -> None:
        p = self.path
        pose = np.asarray(_require(z, "pose_cam", p, n), dtype=np.float64).reshape(n, -1)
        if pose.shape[1] != 72 and (pose.shape[1] < 66 or pose.shape[1] % 3):
            raise InputFileError(p, f"key 'pose_cam' has shape {pose.shape}, expected (N, 72) or (N, 3 * J >= 66)")
        aa = pose[:, :72] if pose.shape[1] == 72 else np.concatenate([pose[:, :66], np.zeros((n, 6))], axis=1)
        self.pose = axis_angle_to_matrix(aa.reshape(n, 24, 3))
        self.has_pose = np.ones(n)
        shape = np.asarray(_require(z, "shape", p, n), dtype=np.float64).reshape(n, -1)
        if shape.shape[1] < 10:
            raise InputFileError(p, f"key 'shape' has shape {shape.shape}, expected (N, >= 10)")
        self.betas, self.has_betas = shape[:, :10], np.ones(n)
        self.k3, self.layout_src = None, "smpl24"
        if "gtkps" in z:
            g = np.asarray(_require(z, "gtkps", p, n), dtype=np.float64)
            if g.ndim != 3 or g.shape[2] not in (2, 3) or (g.shape[1] not in _GTKPS_LAYOUTS and g.shape[1] < 127):
                raise InputFileError(p, f"key 'gtkps' has shape {g.shape}, expected (N, K, 2 or 3) with K in "
                                        "24, 25, 44, 52 or >= 127")
            if g.shape[2] == 2:
                g = np.concatenate([g, np.ones(g.shape[:2] + (1,))], axis=2)
            if g.shape[1] in _GTKPS_LAYOUTS:
                self.layout_src = _GTKPS_LAYOUTS[g.shape[1]]
            else:
                g = np.concatenate([g[:, :22], np.zeros((n, 2, 3))], axis=1)
            self.k2 = g
        else:
            self.k2 = np.zeros((n, 24, 3))
        if "cam_int" in z:
            self.cam_K = np.asarray(_require(z, "cam_int", p, n, (3, 3)), dtype=np.float64)
        if "trans_cam" in z:
            t = np.asarray(_require(z, "trans_cam", p, n, (3,)), dtype=np.float64)
            if "cam_ext" in z:
                t = t + np.asarray(_require(z, "cam_ext", p, n, (4, 4)), dtype=np.float64)[:, :3, 3]
            self.cam_t = t

    def _read_standard(self, z, n: int) -> None:
        p = self.path
        empty2, empty3 = (lambda k: np.zeros((n, k, 3))), (lambda k: np.zeros((n, k, 4)))

        def opt(key, k, c):
            return np.asarray(_require(z, key, p, n, (k, c)), dtype=np.float64) if key in z else None

        body2, extra2 = opt("body_keypoints_2d", 25, 3), opt("extra_keypoints_2d", 19, 3)
        op2, part2 = opt("openpose", 25, 3), opt("part", 24, 3)
        if body2 is not None or extra2 is not None:
            self.k2, self.layout_src = np.concatenate([body2 if body2 is not None else empty2(25),
                                                       extra2 if extra2 is not None else empty2(19)], 1), "hmr44"
        elif op2 is not None or part2 is not None:
            a = kp.to_layout(op2 if op2 is not None else empty2(25), "openpose_body25", "hmr44")
            b = kp.to_layout(part2 if part2 is not None else empty2(24), "spin24", "hmr44")
            self.k2, self.layout_src = _merge(a, b), "hmr44"
            # spin24's face points have a home in hmr44 (body25's nose/eyes/ears): nothing is lost.
        else:
            raise InputFileError(p, "missing 2D keypoints: none of 'body_keypoints_2d', 'extra_keypoints_2d', "
                                    "'openpose', 'part'")
        body3, extra3, S = opt("body_keypoints_3d", 25, 4), opt("extra_keypoints_3d", 19, 4), opt("S", 24, 4)
        if body3 is not None or extra3 is not None:
            self.k3 = np.concatenate([body3 if body3 is not None else empty3(25),
                                      extra3 if extra3 is not None else empty3(19)], 1)
        elif S is not None:
            self.k3 = kp.to_layout(S, "spin24", "hmr44")
        else:
            self.k3 = None

        def flag(keys, default):
            for key in keys:
                if key in z:
                    return np.asarray(_require(z, key, p, n), dtype=np.float64).reshape(n)
            return np.full(n, default)

        if "global_orient" in z:
            go = _require(z, "global_orient", p, n, (3,))
            bp = _require(z, "body_pose", p, n, (69,))
            aa = np.concatenate([go, bp], axis=1)
        elif "pose" in z:
            aa = _require(z, "pose", p, n, (72,))
        elif "body_pose" in z:
            aa = _require(z, "body_pose", p, n, (72,))
        else:
            aa = None
        self.pose = None if aa is None else axis_angle_to_matrix(np.asarray(aa, np.float64).reshape(n, 24, 3))
        self.has_pose = flag(("has_body_pose", "has_smpl"), 1.0 if aa is not None else 0.0)
        key_b = "betas" if "betas" in z else ("shape" if "shape" in z else None)
        self.betas = None if key_b is None else np.asarray(_require(z, key_b, p, n, (10,)), dtype=np.float64)
        self.has_betas = flag(("has_betas", "has_smpl"), 1.0 if key_b is not None else 0.0)

    def __len__(self) -> int:
        return len(self.imgname)

    def record(self, index: int) -> _Record:
        i = index
        has_pose = self.pose is not None and self.has_pose[i] > 0
        has_betas = self.betas is not None and self.has_betas[i] > 0
        k3 = self.k3[i] if self.k3 is not None else np.zeros((len(kp.layout(self.layout_src)), 4))
        return _Record(
            image_path=self.image_dir / self.imgname[i],
            center=self.center[i],
            box_size=float(self.box_size[i]),
            keypoints_2d=self.k2[i],
            keypoints_3d=k3,
            layout=self.layout_src,
            pose=self.pose[i] if has_pose else None,
            betas=self.betas[i] if has_betas else None,
            cam_t=None if self.cam_t is None else self.cam_t[i],
            cam_K=None if self.cam_K is None else self.cam_K[i],
        )


def _merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per keypoint, the one of two same-layout arrays ``(..., K, C)`` with the higher confidence (``a`` on ties)."""
    return np.where((b[..., -1] > a[..., -1])[..., None], b, a)
