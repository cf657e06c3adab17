"""MQ-HMR data: crops, normalisation, the image-dataset and HMR-npz readers, augmentation, bad input.

Every dataset here is real files the tests write: JPEG/PNG images (PIL), npz shards and a manifest.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from biopose_opensim.bodymodels.base import SMPLH_JOINT_NAMES
from biopose_opensim.errors import InputFileError
from biopose_opensim.hmr.crop import (
    crop_image, crop_transform, denormalize_image, denormalize_keypoints, invert_transform, normalize_image,
    normalize_keypoints, transform_points,
)
from biopose_opensim.hmr.data import Augmentation, HMRNpzDataset, RenderDataset, axis_angle_to_matrix

S = 64  # crop side of the tiny datasets
F = 80.0  # focal length px of the tiny image dataset
LW, RW = SMPLH_JOINT_NAMES.index("left_wrist"), SMPLH_JOINT_NAMES.index("right_wrist")


def _blob_centre(img: np.ndarray) -> np.ndarray:
    """Intensity-weighted centre (x, y) px (corner-origin convention) of the bright pixels of channel 0."""
    w = img[..., 0].astype(float)
    w = np.where(w > 0.5 * w.max(), w, 0.0)
    yy, xx = np.mgrid[: img.shape[0], : img.shape[1]]
    return np.array([(w * (xx + 0.5)).sum() / w.sum(), (w * (yy + 0.5)).sum() / w.sum()])


@pytest.mark.parametrize("rot, flip, scale", [(0.0, False, 1.0), (30.0, True, 1.0), (-45.0, False, 2.5),
                                              (12.0, True, 0.6)])
def test_marked_pixel_lands_where_transform_points_says(rot, flip, scale):
    img = np.zeros((300, 400, 3), np.uint8)
    img[100:103, 250:253] = 255  # a 3x3 mark centred on (251.5, 101.5) px
    crop = crop_image(img, (200.0, 150.0), scale, 128, rot, flip)
    assert crop.shape == (128, 128, 3) and crop.dtype == np.uint8
    want = transform_points(np.array([251.5, 101.5]), crop_transform((200.0, 150.0), scale, 128, rot, flip))
    # Tolerance 1 px (the brief's); bilinear sampling of a symmetric mark keeps its centre.
    assert np.abs(_blob_centre(crop) - want).max() < 1.0


def test_box_corners_normalise_to_half_and_round_trip():
    A = crop_transform((50.0, 40.0), 0.5, 256)  # box side 100 px
    corners = transform_points(np.array([[0.0, -10.0], [100.0, 90.0]]), A)
    assert np.allclose(normalize_keypoints(corners, 256), [[-0.5, -0.5], [0.5, 0.5]], atol=1e-12)
    pts = np.random.default_rng(1).uniform(0, 100, size=(5, 2))
    back = transform_points(denormalize_keypoints(normalize_keypoints(transform_points(pts, A), 256), 256),
                            invert_transform(A))
    assert np.allclose(back, pts, atol=1e-9)
    t = torch.as_tensor(pts)
    assert torch.allclose(transform_points(t, A), torch.as_tensor(transform_points(pts, A)))


def test_image_normalisation_round_trip():
    img = np.random.default_rng(2).integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    x = normalize_image(img)
    assert x.shape == (3, 8, 8) and x.dtype == torch.float32
    assert np.array_equal(denormalize_image(x), img)
    assert abs(float(x[0, 0, 0]) - (img[0, 0, 0] / 255 - 0.485) / 0.229) < 1e-5


# ----------------------------------------------------------------------------------------------- image dataset
def _project(p3: np.ndarray) -> np.ndarray:
    return F * p3[..., :2] / p3[..., 2:3] + S / 2


def write_render_dataset(root: Path, n: int = 3, nb: int = 104) -> dict:
    """A tiny dataset in the image-dataset format: n JPEG crops, one shard, a manifest."""
    rng = np.random.default_rng(3)
    names, k2s, k3s, cam_ts = [], [], [], []
    for i in range(n):
        pelvis = np.array([0.05 * i, -0.02, 3.0])
        k3 = pelvis + rng.uniform(-0.4, 0.4, size=(52, 3)) * [1, 1, 0.2]
        k3[0] = pelvis
        k2 = np.concatenate([_project(k3), np.ones((52, 1))], axis=1)
        img = np.full((S, S, 3), 40, np.uint8)
        x, y = np.floor(k2[LW, :2]).astype(int)  # mark the left wrist's pixel and its neighbours
        img[y - 1: y + 2, x - 1: x + 2] = 255
        rel = f"images/train/s01/walk_{i:05d}.jpg"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(root / rel, quality=95)
        # Keypoint at the mark's centre so the blob test is exact.
        k2[LW, :2] = [x + 0.5, y + 0.5]
        names.append(rel), k2s.append(k2), k3s.append(np.concatenate([k3, np.ones((52, 1))], 1)), cam_ts.append(pelvis)
    K = np.array([[F, 0, S / 2], [0, F, S / 2], [0, 0, 1]])
    shard = dict(
        imgname=np.array(names), center=np.full((n, 2), S / 2, np.float32), scale=np.full(n, S / 200, np.float32),
        keypoints_2d=np.array(k2s, np.float32), keypoints_3d=np.array(k3s, np.float32),
        cam_K=np.tile(K, (n, 1, 1)).astype(np.float32), cam_t=np.array(cam_ts, np.float32),
        anny_orientations=np.tile(np.eye(3, dtype=np.float32), (n, nb, 1, 1)),
        anny_phenotypes=np.full((n, 6), 0.5, np.float32),
        virtual_markers=np.array(k3s, np.float32)[:, :4, :3], marker_names=np.array(["LASI", "RASI", "C7", "x"]),
        subject=np.array(["s01"] * n), trial=np.array(["walk"] * n), frame=np.arange(n, dtype=np.int32),
        joint_names=np.array(SMPLH_JOINT_NAMES),
    )
    (root / "shards").mkdir(parents=True, exist_ok=True)
    np.savez(root / "shards" / "train-0.npz", **shard)
    manifest = {"format": "biopose_opensim.images/1", "name": "tiny", "crop_size": S, "body_model": "anny",
                "splits": {"train": ["s01"]}, "shards": [{"path": "shards/train-0.npz", "split": "train",
                                                            "n_images": n}],
                "totals": {"images": n, "images_per_split": {"train": n}}}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return shard


def test_render_dataset_keys_shapes_and_values(tmp_path):
    shard = write_render_dataset(tmp_path)
    ds = RenderDataset(tmp_path, "train")
    assert len(ds) == 3
    s = ds[1]
    shapes = {"image": (3, S, S), "keypoints_2d": (52, 3), "keypoints_3d": (52, 4), "global_orient": (1, 3, 3),
              "body_pose": (23, 3, 3), "betas": (10,), "anny_orientations": (104, 3, 3), "anny_phenotypes": (6,),
              "cam_t": (3,), "cam_K": (3, 3), "virtual_markers": (4, 4), "box_center": (2,), "img_size": (2,)}
    for key, shape in shapes.items():
        assert tuple(s[key].shape) == shape, key
        assert s[key].dtype == torch.float32, key
    assert s["layout"] == "smplh52" and s["index"] == 1
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=3)))
    assert batch["image"].shape == (3, 3, S, S) and batch["layout"] == ["smplh52"] * 3
    assert float(s["has_anny_orientations"]) == 1 and float(s["has_body_pose"]) == 0
    # 2D: normalised crop coordinates (the crop is the stored image itself here).
    want = shard["keypoints_2d"][1, :, :2] / S - 0.5
    assert np.allclose(s["keypoints_2d"][:, :2].numpy(), want, atol=1e-5)
    # 3D: root-relative metres, confidence kept.
    k3 = shard["keypoints_3d"][1]
    assert np.allclose(s["keypoints_3d"][:, :3].numpy(), k3[:, :3] - k3[0, :3], atol=1e-6)
    assert torch.all(s["keypoints_3d"][:, 3] == 1)
    assert np.allclose(s["cam_t"].numpy(), shard["cam_t"][1])
    # The marked pixel of the image is where the keypoint says (1 px; JPEG q=95).
    img = denormalize_image(s["image"])
    assert np.abs(_blob_centre(img) - denormalize_keypoints(s["keypoints_2d"][LW, :2].numpy(), S)).max() < 1.0


def test_render_dataset_other_layout(tmp_path):
    write_render_dataset(tmp_path)
    s = RenderDataset(tmp_path, "train", layout="coco17", size=32)[0]
    assert s["image"].shape == (3, 32, 32) and s["keypoints_2d"].shape == (17, 3) and s["layout"] == "coco17"
    assert float(s["keypoints_2d"][0, 2]) == 0.0  # nose: no SMPL-H joint


def test_flip_swaps_left_right_and_mirrors_x(tmp_path):
    write_render_dataset(tmp_path)
    plain = RenderDataset(tmp_path, "train")[2]
    flipped = RenderDataset(tmp_path, "train", augment=Augmentation(flip_prob=1.0))[2]
    assert float(flipped["flip"]) == 1
    k, f = plain["keypoints_2d"], flipped["keypoints_2d"]
    assert torch.allclose(f[LW, 0], -k[RW, 0], atol=1e-6) and torch.allclose(f[LW, 1], k[RW, 1], atol=1e-6)
    assert torch.allclose(f[RW, 0], -k[LW, 0], atol=1e-6)
    k3, f3 = plain["keypoints_3d"], flipped["keypoints_3d"]
    assert torch.allclose(f3[LW], k3[RW] * torch.tensor([-1.0, 1, 1, 1]), atol=1e-6)
    # The image is the mirror image (same sample positions, so equal up to rounding: 1 grey level).
    a, b = denormalize_image(plain["image"]).astype(int), denormalize_image(flipped["image"]).astype(int)
    assert np.abs(a[:, ::-1] - b).max() <= 1
    # Markers: LASI <-> RASI swapped, mirrored; Anny orientations not derived for a mirror image.
    vm, fv = plain["virtual_markers"], flipped["virtual_markers"]
    assert torch.allclose(fv[0], vm[1] * torch.tensor([-1.0, 1, 1, 1]), atol=1e-6)
    assert float(flipped["has_anny_orientations"]) == 0 and float(flipped["has_anny_phenotypes"]) == 1


@pytest.mark.parametrize("flip_prob", [0.0, 1.0])
def test_rotation_keeps_3d_and_2d_consistent(tmp_path, flip_prob):
    """Projecting the rotated (and mirrored) 3D joints, pelvis at cam_t, gives the augmented 2D keypoints: the box
    is centred on the principal point, where the in-plane rotation is exact. Tolerance 1e-4 of the crop."""
    write_render_dataset(tmp_path)
    aug = Augmentation(rotation_deg=20.0, flip_prob=flip_prob)
    ds = RenderDataset(tmp_path, "train", augment=aug, seed=7)
    rots = []
    for i in range(len(ds)):
        s = ds[i]
        rots.append(float(s["rot"]))
        p3 = (s["keypoints_3d"][:, :3] + s["cam_t"]).numpy().astype(float)
        uv = F * p3[:, :2] / p3[:, 2:3] + S / 2
        keep = np.arange(52) != (RW if float(s["flip"]) else LW)  # the marked wrist was moved off its projection
        assert np.allclose(normalize_keypoints(uv, S)[keep], s["keypoints_2d"][keep, :2].numpy(), atol=1e-4)
        assert float(s["flip"]) == flip_prob
    assert any(abs(r) > 1 for r in rots)


def test_augmentation_is_deterministic_given_seed(tmp_path):
    write_render_dataset(tmp_path)
    aug = Augmentation(scale_jitter=0.2, translation_jitter=0.1, rotation_deg=15, colour_jitter=0.3, flip_prob=0.5)
    a = RenderDataset(tmp_path, "train", augment=aug, seed=5)[0]
    b = RenderDataset(tmp_path, "train", augment=aug, seed=5)[0]
    assert torch.equal(a["image"], b["image"]) and torch.equal(a["keypoints_2d"], b["keypoints_2d"])
    ds = RenderDataset(tmp_path, "train", augment=aug, seed=5)
    ds.set_epoch(1)
    c = ds[0]
    assert not torch.equal(a["keypoints_2d"], c["keypoints_2d"])
    off = RenderDataset(tmp_path, "train")[0]
    assert float(off["rot"]) == 0 and float(off["flip"]) == 0 and float(off["box_size"]) == pytest.approx(S)


def test_render_dataset_bad_input(tmp_path):
    with pytest.raises(InputFileError, match="manifest.json"):
        RenderDataset(tmp_path, "train")
    shard = write_render_dataset(tmp_path)
    with pytest.raises(InputFileError, match="split 'val'.*train"):
        RenderDataset(tmp_path, "val")
    del shard["cam_t"]
    np.savez(tmp_path / "shards" / "train-0.npz", **shard)
    with pytest.raises(InputFileError, match=r"train-0\.npz.*missing key 'cam_t'"):
        RenderDataset(tmp_path, "train")
    shard["cam_t"] = np.zeros((2, 3))
    np.savez(tmp_path / "shards" / "train-0.npz", **shard)
    with pytest.raises(InputFileError, match=r"'cam_t' has 2 rows, expected 3"):
        RenderDataset(tmp_path, "train")
    shard["cam_t"] = np.zeros((3, 3))
    np.savez(tmp_path / "shards" / "train-0.npz", **shard)
    (tmp_path / "images/train/s01/walk_00001.jpg").unlink()
    ds = RenderDataset(tmp_path, "train")
    with pytest.raises(InputFileError, match=r"walk_00001\.jpg: image not found"):
        ds[1]


# -------------------------------------------------------------------------------------------------- HMR npz
def _write_images(folder: Path, n: int, size=(120, 100)) -> list[str]:
    names = []
    for i in range(n):
        img = np.full((size[1], size[0], 3), 30, np.uint8)
        img[48:51, 70:73] = 255  # a mark centred on (71.5, 49.5)
        rel = f"seq/img_{i}.png"
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(folder / rel)
        names.append(rel)
    return names


def test_hmr2_npz(tmp_path):
    names = _write_images(tmp_path / "img", 2)
    n = 2
    body2 = np.zeros((n, 25, 3))
    body2[:, 4] = [71.5, 49.5, 1.0]  # right wrist on the mark
    pose = np.zeros((n, 72))
    pose[:, 2] = np.pi / 2  # root: 90 degrees about z
    pose[:, 3 * 16 + 0] = 0.3  # left shoulder about x
    np.savez(tmp_path / "hmr2.npz", imgname=np.array(names), center=np.tile([60.0, 50.0], (n, 1)),
             scale=np.full((n, 2), 80.0), body_keypoints_2d=body2, extra_keypoints_2d=np.zeros((n, 19, 3)),
             body_keypoints_3d=np.zeros((n, 25, 4)), extra_keypoints_3d=np.zeros((n, 19, 4)),
             body_pose=pose, has_body_pose=np.ones(n), betas=np.full((n, 10), 0.1), has_betas=np.array([1.0, 0.0]))
    ds = HMRNpzDataset(tmp_path / "hmr2.npz", tmp_path / "img", size=S)
    assert ds.scale_unit == "px" and len(ds) == 2
    s = ds[0]
    assert s["layout"] == "hmr44" and s["keypoints_2d"].shape == (44, 3) and s["image"].shape == (3, S, S)
    # 80 px box centred on (60, 50): the wrist lands at (71.5 - 60) / 80 in normalised crop units.
    assert np.allclose(s["keypoints_2d"][4].numpy(), [11.5 / 80, -0.5 / 80, 1.0], atol=1e-6)
    img = denormalize_image(s["image"])
    assert np.abs(_blob_centre(img) - denormalize_keypoints(s["keypoints_2d"][4, :2].numpy(), S)).max() < 1.0
    Rz = np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])
    assert np.allclose(s["global_orient"][0].numpy(), Rz, atol=1e-6)
    assert np.allclose(s["body_pose"][15].numpy(), axis_angle_to_matrix(np.array([0.3, 0, 0])), atol=1e-6)
    assert float(s["has_body_pose"]) == 1 and float(s["has_betas"]) == 1 and float(ds[1]["has_betas"]) == 0
    assert np.allclose(s["betas"].numpy(), 0.1)
    # An in-plane rotation turns the root orientation about the camera z axis.
    r = HMRNpzDataset(tmp_path / "hmr2.npz", tmp_path / "img", size=S,
                      augment=Augmentation(rotation_deg=30.0), seed=3)[0]
    t = np.radians(float(r["rot"]))
    Rc = np.array([[np.cos(t), np.sin(t), 0], [-np.sin(t), np.cos(t), 0], [0, 0, 1]])
    assert abs(float(r["rot"])) > 1 and np.allclose(r["global_orient"][0].numpy(), Rc @ Rz, atol=1e-6)
    # A flip mirrors the SMPL pose: R -> M R M with left/right joints swapped.
    f = HMRNpzDataset(tmp_path / "hmr2.npz", tmp_path / "img", size=S, augment=Augmentation(flip_prob=1.0))[0]
    M = np.diag([-1.0, 1, 1])
    assert np.allclose(f["body_pose"][16].numpy(), M @ axis_angle_to_matrix(np.array([0.3, 0, 0])) @ M, atol=1e-6)
    assert np.allclose(f["keypoints_2d"][7].numpy(), [-11.5 / 80, -0.5 / 80, 1.0], atol=1e-6)  # now left wrist


def test_spin_npz(tmp_path):
    names = _write_images(tmp_path / "img", 3)
    n = 3
    part = np.zeros((n, 24, 3))
    part[:, 6] = [71.5, 49.5, 1.0]  # right wrist (LSP)
    part[:, 19] = [60.0, 30.0, 1.0]  # nose
    S3 = np.zeros((n, 24, 4))
    S3[:, 14] = [0.1, 0.2, 0.3, 1.0]  # pelvis (MPII)
    S3[:, 0] = [0.1, 1.2, 0.3, 1.0]  # right ankle
    np.savez(tmp_path / "spin.npz", imgname=np.array(names), center=np.tile([60.0, 50.0], (n, 1)),
             scale=np.full(n, 0.4), part=part, S=S3, pose=np.zeros((n, 72)), shape=np.zeros((n, 10)),
             has_smpl=np.array([1.0, 0.0, 1.0]))
    ds = HMRNpzDataset(tmp_path / "spin.npz", tmp_path / "img", size=S, layout="smplh52")
    assert ds.scale_unit == "box200"
    s = ds[0]
    assert float(s["box_size"]) == pytest.approx(80.0)
    assert np.allclose(s["keypoints_2d"][SMPLH_JOINT_NAMES.index("right_wrist")].numpy(), [11.5 / 80, -0.5 / 80, 1])
    assert np.allclose(s["keypoints_3d"][SMPLH_JOINT_NAMES.index("right_ankle")].numpy(), [0, 1.0, 0, 1], atol=1e-6)
    assert np.allclose(s["keypoints_3d"][0].numpy(), [0, 0, 0, 1])
    assert float(ds[1]["has_body_pose"]) == 0 and float(ds[1]["has_betas"]) == 0
    nose = HMRNpzDataset(tmp_path / "spin.npz", tmp_path / "img", size=S)[0]["keypoints_2d"][0]
    assert np.allclose(nose.numpy(), [0.0, -0.25, 1.0])  # SPIN's nose lands on BODY_25's


def test_bedlam_npz(tmp_path):
    names = _write_images(tmp_path / "img", 2)
    n = 2
    gtkps = np.zeros((n, 127, 3))
    gtkps[:, 21] = [71.5, 49.5, 1.0]  # SMPL-X joint 21: right wrist
    gtkps[:, 60] = [1.0, 1.0, 1.0]  # a face/hand joint: not used
    pose = np.zeros((n, 165))
    pose[:, 0] = np.pi
    cam_ext = np.tile(np.eye(4), (n, 1, 1))
    cam_ext[:, :3, 3] = [0.0, 0.0, 5.0]
    np.savez(tmp_path / "bedlam.npz", imgname=np.array(names), center=np.tile([60.0, 50.0], (n, 1)),
             scale=np.full(n, 0.4), pose_cam=pose, shape=np.full((n, 11), 0.2), gtkps=gtkps,
             cam_int=np.tile(np.diag([1000.0, 1000.0, 1.0]), (n, 1, 1)), trans_cam=np.tile([0.1, 0.2, 0.3], (n, 1)),
             cam_ext=cam_ext)
    s = HMRNpzDataset(tmp_path / "bedlam.npz", tmp_path / "img", size=S, layout="smpl24")[1]
    assert np.allclose(s["keypoints_2d"][21].numpy(), [11.5 / 80, -0.5 / 80, 1])
    assert torch.all(s["keypoints_2d"][22:, 2] == 0)
    assert np.allclose(s["global_orient"][0].numpy(), np.diag([1.0, -1, -1]), atol=1e-6)
    assert np.allclose(s["cam_t"].numpy(), [0.1, 0.2, 5.3]) and float(s["has_cam_t"]) == 1
    assert np.allclose(s["betas"].numpy(), 0.2) and s["cam_K"][0, 0] == 1000


def test_npz_bad_input_names_file_and_key(tmp_path):
    names = _write_images(tmp_path / "img", 2)
    base = dict(imgname=np.array(names), center=np.zeros((2, 2)), scale=np.ones(2),
                part=np.zeros((2, 24, 3)))
    np.savez(tmp_path / "a.npz", **{k: v for k, v in base.items() if k != "center"})
    with pytest.raises(InputFileError, match=r"a\.npz: missing key 'center'"):
        HMRNpzDataset(tmp_path / "a.npz", tmp_path / "img")
    np.savez(tmp_path / "b.npz", **{**base, "scale": np.ones(3)})
    with pytest.raises(InputFileError, match=r"b\.npz: key 'scale' has 3 rows, expected 2"):
        HMRNpzDataset(tmp_path / "b.npz", tmp_path / "img")
    np.savez(tmp_path / "c.npz", **{k: v for k, v in base.items() if k != "part"})
    with pytest.raises(InputFileError, match=r"c\.npz: missing 2D keypoints.*'part'"):
        HMRNpzDataset(tmp_path / "c.npz", tmp_path / "img")
    np.savez(tmp_path / "d.npz", **{**base, "part": np.zeros((2, 25, 3))})
    with pytest.raises(InputFileError, match=r"d\.npz: key 'part' has shape \(2, 25, 3\), expected \(N, 24, 3\)"):
        HMRNpzDataset(tmp_path / "d.npz", tmp_path / "img")
    with pytest.raises(InputFileError, match=r"nothere\.npz: npz file not found"):
        HMRNpzDataset(tmp_path / "nothere.npz", tmp_path / "img")
    np.savez(tmp_path / "e.npz", **base)
    ds = HMRNpzDataset(tmp_path / "e.npz", tmp_path / "elsewhere")
    with pytest.raises(InputFileError, match=r"elsewhere/seq/img_0\.png: image not found"):
        ds[0]
