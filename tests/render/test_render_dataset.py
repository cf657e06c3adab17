"""End to end: ``python -m biopose_opensim.render`` on a tiny real synthetic dataset (see ``conftest.py``).

Tolerances (stated): Anny posed with the stored camera-frame bone orientations at root 0, plus ``cam_t``,
reproduces the stored camera-frame joints and virtual markers within 1e-5 m (float32 storage); projecting
``keypoints_3d`` through ``cam_K`` gives ``keypoints_2d`` within 1e-3 px; the virtual markers' pairwise
distances match the source dataset's marker trial within 1e-5 m (measured 4e-7 m: float32 storage, the
``.trc`` file's 1e-6 mm decimals and the re-read ``_source.mot`` text); background pixels away from the
person match the regenerated background within 1.5 grey levels on average over 8x8-pixel block means (at
most 6; JPEG at quality 95 keeps block means), while on the person at least 30 % of the pixels (60 % on average) differ from it by more than 20 levels.
"""
from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from biopose_opensim.bodymodels.anny import AnnyPose, AnnyShape
from biopose_opensim.io import read_trc
from biopose_opensim.markers.virtual import apply_marker_plan, compile_marker_set
from biopose_opensim.render.__main__ import main
from biopose_opensim.render.appearance import AppearanceRanges
from biopose_opensim.render.camera import CameraRanges, project
from biopose_opensim.render.gl import MeshRenderer
from biopose_opensim.render.scene import sample_scene
from biopose_opensim.render.source import read_source

pytestmark = pytest.mark.slow

KEYS = {
    "imgname": (), "center": (2,), "scale": (), "keypoints_2d": (52, 3), "keypoints_3d": (52, 4), "cam_K": (3, 3),
    "cam_t": (3,), "anny_orientations": (104, 3, 3), "anny_phenotypes": (6,), "virtual_markers": (142, 3),
    "subject": (), "trial": (), "frame": (), "time": (), "focal_px": (), "distance_m": (), "elevation_deg": (),
    "azimuth_deg": (),
}


def _load(out):
    m = json.loads((out / "manifest.json").read_text())
    parts = [dict(np.load(out / s["path"])) for s in m["shards"]]
    return m, {k: np.concatenate([p[k] for p in parts]) for k in KEYS}, parts


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name)


def test_counts_layout_and_card(rendered, synth_source):
    out, _, rc, seconds = rendered
    assert rc == 0
    m, d, _ = _load(out)
    src = json.loads((synth_source / "manifest.json").read_text())
    assert m["format"] == "biopose_opensim.images/1" and m["body_model"] == "anny" and m["crop_size"] == 256
    assert m["splits"] == {k: src["splits"][k] for k in ("train", "val", "test")}
    assert m["source"] == {"path": str(synth_source), "name": "synth", "seed": 3}
    n = 2 * 1 * 3  # subjects x trials x frames per trial
    assert m["totals"]["images"] == n == len(d["imgname"])
    per_split = {s: 3 * len(src["splits"][s]) for s in ("train", "val", "test")}
    assert m["totals"]["images_per_split"] == per_split
    assert sum(s["n_images"] for s in m["shards"]) == n
    jpgs = sorted(str(p.relative_to(out)) for p in (out / "images").rglob("*.jpg"))
    assert jpgs == sorted(d["imgname"])
    for name, subject, trial, frame in zip(d["imgname"], d["subject"], d["trial"], d["frame"]):
        split = next(s for s, subs in m["splits"].items() if subject in subs)
        assert name == f"images/{split}/{subject}/{trial}_{frame:05d}.jpg"
        with Image.open(out / name) as im:
            assert im.format == "JPEG" and im.size == (256, 256) and im.mode == "RGB"
    assert sorted(set(d["frame"])) == [0, 10, 20]  # evenly spaced over the 21 frames, ends included
    assert np.allclose(d["time"][d["frame"] == 10], 0.5)
    assert (out / "card" / "examples.png").stat().st_size > 10_000 and (out / "card" / "cameras.png").is_file()
    card = (out / "dataset_card.md").read_text()
    assert f"| all | 2 | {n} |" in card and "| camera distance from the pelvis (m) | 2.5 - 7.0 |" in card
    assert _leftovers(out.parent) == []
    logging.getLogger(__name__).info("tiny build: %.1f s for %d images (%.2f s per image; render %.1f ms)",
                                     seconds, n, seconds / n, m["timing"]["render_ms_per_image"])


def test_shard_keys_shapes_and_ranges(rendered):
    out = rendered[0]
    m, d, parts = _load(out)
    for p in parts:
        assert set(p) == set(KEYS) | {"joint_names", "marker_names", "bone_names"}
        assert list(p["joint_names"]) == m["joint_names"] and list(p["marker_names"]) == m["marker_names"]
        assert len(p["bone_names"]) == 104 and p["bone_names"][0] == "root"
    for k, shape in KEYS.items():
        assert d[k].shape[1:] == shape, k
        assert d[k].dtype.kind == ("U" if k in ("imgname", "subject", "trial") else "i" if k == "frame" else "f"), k
    assert np.allclose(d["center"], 128.0) and np.allclose(d["scale"], 256 / 200)
    assert (d["keypoints_3d"][..., 3] == 1).all()
    r = CameraRanges()
    assert ((d["distance_m"] >= r.distance_m[0]) & (d["distance_m"] <= r.distance_m[1])).all()
    assert ((d["elevation_deg"] >= -10) & (d["elevation_deg"] <= 35)).all()
    assert ((d["focal_px"] >= 35 / 36 * 1920) & (d["focal_px"] <= 85 / 36 * 1920)).all()
    # pelvis depth within the sampled distance (it is the look-at point)
    assert np.allclose(np.linalg.norm(d["keypoints_3d"][:, 0, :3], axis=1), d["distance_m"], atol=1e-4)


def test_anny_reproduces_the_camera_frame_joints_and_markers(rendered, anny_body, anny_set):
    """Anny(phenotypes, anny_orientations, root=0) + cam_t == the joints projected (1e-5 m) and the markers."""
    _, d, _ = _load(rendered[0])
    plan = compile_marker_set(anny_set, anny_body.joint_names)
    ground = plan.ground_rows.numpy()
    free = np.setdiff1d(np.arange(len(anny_set)), ground)
    for i in range(len(d["imgname"])):
        shape = AnnyShape(*[float(x) for x in d["anny_phenotypes"][i]])
        pose = AnnyPose(torch.as_tensor(d["anny_orientations"][i], dtype=torch.float64)[None],
                        torch.zeros(1, 3, dtype=torch.float64))
        res = anny_body.forward(shape, pose)
        t = torch.as_tensor(d["cam_t"][i], dtype=torch.float64)
        joints = (res.joints[0] + t).numpy()
        assert np.abs(joints - d["keypoints_3d"][i, :, :3]).max() < 1e-5
        markers = apply_marker_plan(plan, res.vertices + t, res.joints + t, ground=0.0)[0].numpy()
        assert np.abs(markers[free] - d["virtual_markers"][i, free]).max() < 1e-5
        assert np.allclose(d["keypoints_3d"][i, 0, :3], d["cam_t"][i], atol=1e-6)  # pelvis = root head


def test_keypoints_2d_are_the_projections_through_cam_K(rendered):
    _, d, _ = _load(rendered[0])
    for i in range(len(d["imgname"])):
        uv = project(d["keypoints_3d"][i, :, :3].astype(np.float64), d["cam_K"][i].astype(np.float64))
        assert np.abs(uv - d["keypoints_2d"][i, :, :2]).max() < 1e-3
        inside = ((uv >= 0) & (uv < 256)).all(axis=1)
        assert np.array_equal(d["keypoints_2d"][i, :, 2] == 1, inside)
    # the crop holds the whole body: every joint inside, the box 1.2 x the mesh's extent
    assert (d["keypoints_2d"][..., 2] == 1).all()
    assert (d["keypoints_2d"][..., :2].min() > 256 * 0.1 / 1.2 - 1) and (d["keypoints_2d"][..., :2].max() < 256)


def test_virtual_markers_match_the_source_trials(rendered, synth_source):
    """Rotation-free check against the synth marker trial: pairwise marker distances (ground projections too)."""
    _, d, _ = _load(rendered[0])
    for i in range(len(d["imgname"])):
        trc = read_trc(synth_source / "subjects" / d["subject"][i] / f"{d['trial'][i]}.trc")
        ref = trc.positions[d["frame"][i]]  # metres
        got = d["virtual_markers"][i].astype(np.float64)
        dist = lambda p: np.linalg.norm(p[:, None] - p[None], axis=-1)  # noqa: E731
        err = np.abs(dist(got) - dist(ref)).max()
        assert err < 1e-5, err


def test_ground_level_from_the_trc_equals_posing_the_whole_trial(synth_source):
    """The shortcut for noise-free sources (ground level read off the .trc) gives the markers that posing every
    frame of the trial gives (1e-9 m: the .trc's 1e-6 mm decimals)."""
    from biopose_opensim.osim import import_opensim
    from biopose_opensim.render.source import pose_trial, trc_ground_level
    from biopose_opensim.synth.bodies import AnnySubjectBody

    source = read_source(synth_source)
    subject = source.subjects[0]
    trial = subject.trials[0]
    body = AnnySubjectBody(subject.shape(), source.model, source.marker_set)
    model = import_opensim().Model(str(source.model))
    plan = compile_marker_set(body.marker_set, body.body.joint_names)
    level = trc_ground_level(trial.trc, plan)
    assert level is not None and len(plan.ground_rows) > 0
    fast = pose_trial(body, model, trial.source_mot, 3, level)
    full = pose_trial(body, model, trial.source_mot, 3)
    assert np.array_equal(fast.frames, full.frames) and np.array_equal(fast.vertices, full.vertices)
    assert np.abs(fast.markers - full.markers).max() < 1e-9
    assert np.allclose(full.markers[:, plan.ground_rows.numpy(), 1], level, atol=1e-9)


def test_person_pixels_differ_from_the_background(rendered, anny_body, synth_source):
    """The image equals the regenerated background away from the person and differs from it on the person."""
    _, d, _ = _load(rendered[0])
    source = read_source(synth_source)
    subjects = {s.name: s for s in source.subjects}
    renderer = MeshRenderer(256, 256)
    faces = anny_body.faces.numpy()
    fractions = []
    for i in range(len(d["imgname"])):
        s = subjects[d["subject"][i]]
        t_index = [t.name for t in s.trials].index(d["trial"][i])
        shape = AnnyShape(*[float(x) for x in d["anny_phenotypes"][i]])
        pose = AnnyPose(torch.as_tensor(d["anny_orientations"][i], dtype=torch.float64)[None],
                        torch.zeros(1, 3, dtype=torch.float64))
        res = anny_body.forward(shape, pose)
        verts = (res.vertices[0] + torch.as_tensor(d["cam_t"][i], dtype=torch.float64)).numpy()
        _, alpha = renderer.render(verts, faces, d["cam_K"][i].astype(np.float64), np.full((len(verts), 3), 0.5))
        # the scene draws depend on the ground-frame joints only through the camera; the background is drawn
        # after camera, appearance and lighting from the same generator
        joints_ground = np.zeros((52, 3))
        joints_ground[1], joints_ground[2] = [0, 0, -0.1], [0, 0, 0.1]
        scene = sample_scene(5, s.index, t_index, int(d["frame"][i]), joints_ground, anny_body.joint_names,
                             len(verts), 256, CameraRanges(), AppearanceRanges())
        image = np.asarray(Image.open(rendered[0] / d["imgname"][i])).astype(float)
        diff = np.abs(image - scene.background.astype(float)).mean(axis=-1)
        person = alpha > 0.99
        assert person.sum() > 0.05 * 256 * 256  # the person fills a good part of the crop
        # background where there is no person: 8x8-block means (JPEG keeps them; the drawn pixel noise and the
        # JPEG error average out) of every block without any person pixel
        blocks = lambda a: a.reshape(32, 8, 32, 8, -1).mean(axis=(1, 3))  # noqa: E731
        empty = blocks(alpha[..., None].astype(float))[..., 0] == 0
        block_err = np.abs(blocks(image) - blocks(scene.background.astype(float)))[empty]
        assert empty.sum() > 100 and block_err.mean() < 1.5 and block_err.max() < 6.0, block_err.max()
        fractions.append((diff[person] > 20).mean())
    assert min(fractions) > 0.3 and np.mean(fractions) > 0.6, fractions


def test_reproducible_split_subset_and_rerun_refused(rendered, synth_source, tmp_path, caplog):
    out, argv, _, _ = rendered
    m0, d0, _ = _load(out)
    again = tmp_path / "again"
    base = ["--data", str(synth_source), "--out", str(again), "--frames-per-trial", "3", "--seed", "5",
            "--workers", "1", "--no-progress"]
    assert main([*base, "--split", "test"]) == 0
    m1, d1, _ = _load(again)
    assert m1["totals"]["images_per_split"] == {"train": 0, "val": 0, "test": 3} and m1["splits"] == m0["splits"]
    rows = [list(d0["imgname"]).index(n) for n in d1["imgname"]]
    for k in KEYS:
        assert np.array_equal(d0[k][rows], d1[k]), k  # same images whatever the workers and subset
    for n in d1["imgname"]:
        assert (out / n).read_bytes() == (again / n).read_bytes()
    # an existing --out is refused without --overwrite, and left as it was
    before = {p: p.stat().st_mtime_ns for p in again.rglob("*")}
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        assert main([*base, "--split", "test"]) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "already holds an image dataset" in errors[0] and "--overwrite" in errors[0]
    assert {p: p.stat().st_mtime_ns for p in again.rglob("*")} == before
    assert main([*base, "--split", "test", "--seed", "6", "--overwrite"]) == 0
    _, d2, _ = _load(again)
    assert list(d2["imgname"]) == list(d1["imgname"]) and not np.array_equal(d2["distance_m"], d1["distance_m"])
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("case", ["missing", "no_manifest", "bad_json", "marker_dataset_format"])
def test_bad_data_is_one_line_and_writes_nothing(tmp_path, caplog, case):
    data = tmp_path / "data"
    if case != "missing":
        data.mkdir()
    if case == "bad_json":
        (data / "manifest.json").write_text("{not json")
    if case == "marker_dataset_format":
        (data / "manifest.json").write_text(json.dumps({"format": "biopose_opensim.images/1"}))
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        rc = main(["--data", str(data), "--out", str(tmp_path / "out"), "--no-progress"])
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert rc == 2 and len(errors) == 1 and "\n" not in errors[0]
    assert str(data) in errors[0]
    expected = {"missing": "--data folder not found", "no_manifest": "no dataset manifest here",
                "bad_json": "not valid JSON", "marker_dataset_format": "expected a synthetic dataset"}[case]
    assert expected in errors[0]
    assert not (tmp_path / "out").exists() and _leftovers(tmp_path) == []


def test_a_failing_subject_leaves_nothing(synth_source, tmp_path, caplog):
    data = tmp_path / "data"
    shutil.copytree(synth_source, data)
    m = json.loads((data / "manifest.json").read_text())
    victim = m["trials"][-1]
    (data / victim["files"]["source_mot"]).write_text("not a motion file\n")
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        rc = main(["--data", str(data), "--out", str(tmp_path / "out"), "--frames-per-trial", "2",
                   "--workers", "1", "--no-progress"])
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert rc == 2 and len(errors) == 1 and victim["subject"] in errors[0] and "nothing was written" in errors[0]
    assert not (tmp_path / "out").exists() and _leftovers(tmp_path) == []
