"""``predict --video`` end to end on the shipped clip: OpenSim reads what it writes; gaps are reported, not
invented; bad input fails with one line and writes nothing."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from biopose_opensim.predict import main as predict_main

SAMPLE = Path(__file__).resolve().parents[2] / "biopose_opensim" / "data" / "video_sample"


@pytest.fixture(scope="module")
def video_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("video") / "out"
    rc = predict_main(["--video", str(SAMPLE / "clip.mp4"), "--keypoints", str(SAMPLE / "keypoints_coco.json"),
                       "--frontend", "mqhmr", "--refine-iterations", "2", "--out", str(out), "--no-progress"])
    return rc, out


def test_video_to_opensim_files_that_opensim_reads(video_run):
    from biopose_opensim.osim import import_opensim
    from biopose_opensim.video.frames import open_frames

    rc, out = video_run
    assert rc == 0
    osim = import_opensim()
    trc = out / "clip_virtual_markers.trc"
    table = osim.TimeSeriesTableVec3(str(trc))
    assert table.getNumRows() == 30 and table.getNumColumns() == 142
    mot = out / "clip_virtual_markers_neurik.mot"
    q = osim.TimeSeriesTable(str(mot))
    assert q.getNumRows() == 30
    model = osim.Model(str(out / "clip_neurik_scaled.osim"))
    model.initSystem()
    coords = {model.getCoordinateSet().get(i).getName() for i in range(model.getCoordinateSet().getSize())}
    assert set(q.getColumnLabels()) <= coords
    summary = json.loads((out / "video.json").read_text())
    assert summary["frontend"] == "mqhmr" and summary["refine_iterations"] == 2
    assert summary["gaps"] == [] and summary["trials"] == [[0, 30]]
    assert summary["keypoint_layout"] == "coco17"
    for stage in ("keypoints", "frontend_network", "frontend_refinement", "mesh_and_markers", "neurik_and_opensim",
                  "overlay", "total"):
        assert summary["seconds"][stage] >= 0.0
    overlay = open_frames(out / "clip_overlay.mp4")
    assert overlay.n_frames == 30 and overlay.size == (320, 240)
    for name in ("clip_overlay_frame0000.png", "clip_overlay_frame0029.png", "video_report.md", "report.md",
                 "predict.json", "clip_body.npz", "clip_keypoints.npz", "clip_virtual_markers_neurik_angles.png"):
        assert (out / name).is_file(), name
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]
    # the markers stand on a floor at y = 0 (mm in the file), around the origin
    from biopose_opensim.io import read_trc

    m = read_trc(trc).positions
    assert abs(np.nanmin(m[..., 1])) < 1e-6
    assert np.abs(np.nanmean(m[..., [0, 2]], axis=(0, 1))).max() < 0.5


def test_frames_without_a_person_are_reported_not_invented(tmp_path):
    """Frames 10-13 lose their keypoints: the clip becomes two trials (0-10, 14-30) and the gap is reported."""
    from biopose_opensim.video.frames import open_frames
    from biopose_opensim.video.keypoint_files import read_keypoints
    from biopose_opensim.video.tracks import KeypointTrack

    frames = open_frames(SAMPLE / "clip.mp4")
    track = read_keypoints(SAMPLE / "keypoints_coco.json", frames=frames)
    detected = np.asarray(track.detected).copy()
    detected[10:14] = False
    conf = np.asarray(track.confidence).copy()
    conf[10:14] = 0.0
    gappy = KeypointTrack(layout=track.layout, xy=np.asarray(track.xy), confidence=conf, detected=detected,
                          image_size=track.image_size, source="gaps")
    kp = tmp_path / "gappy.npz"
    gappy.save(kp)
    out = tmp_path / "out"
    rc = predict_main(["--video", str(SAMPLE / "clip.mp4"), "--keypoints", str(kp), "--frontend", "mqhmr",
                       "--refine-iterations", "0", "--out", str(out), "--no-progress"])
    assert rc == 0
    summary = json.loads((out / "video.json").read_text())
    assert summary["gaps"] == [[10, 14]]
    assert summary["trials"] == [[0, 10], [14, 30]]
    from biopose_opensim.io import read_trc

    assert read_trc(out / "clip_part1_virtual_markers.trc").positions.shape[0] == 10
    assert read_trc(out / "clip_part2_virtual_markers.trc").positions.shape[0] == 16
    assert "[[10, 14]]" in (out / "video_report.md").read_text()


def test_bad_video_input_fails_cleanly(tmp_path, caplog):
    bad = tmp_path / "broken.mp4"
    bad.write_text("not a video")
    out = tmp_path / "out"
    assert predict_main(["--video", str(bad), "--keypoints", str(SAMPLE / "keypoints_coco.json"),
                         "--out", str(out), "--no-progress"]) == 2
    assert str(bad) in caplog.text
    assert not (out / "video.json").exists() and not list(out.glob("*.trc"))
    caplog.clear()
    # keypoints of another clip: 20 frames of annotations for a 30-frame video
    coco = json.loads((SAMPLE / "keypoints_coco.json").read_text())
    keep = {im["id"] for im in coco["images"][:20]}
    coco["images"] = coco["images"][:20]
    coco["annotations"] = [a for a in coco["annotations"] if a["image_id"] in keep]
    short = tmp_path / "short.json"
    short.write_text(json.dumps(coco))
    assert predict_main(["--video", str(SAMPLE / "clip.mp4"), "--keypoints", str(short), "--out", str(out),
                         "--no-progress"]) == 2
    assert "short.json" in caplog.text and "20" in caplog.text and "30" in caplog.text
    assert not (out / "video.json").exists()
    caplog.clear()
    # the fit front end without keypoints
    assert predict_main(["--video", str(SAMPLE / "clip.mp4"), "--frontend", "fit", "--out", str(out),
                         "--no-progress"]) == 2
    assert "--frontend fit needs 2D keypoints" in caplog.text
    assert not (out / "video.json").exists()
