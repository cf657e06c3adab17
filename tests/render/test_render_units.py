"""The pieces of the renderer: projection convention of real renders, cameras, crops, appearance, backgrounds.

Tolerances: a rendered square's coverage-weighted centroid lies within 0.1 px of its projected centre and its
covered area within 1 % of the projected area (a half-pixel convention error would move the centroid by 0.5 px);
geometry checks are exact to 1e-9.
"""
from __future__ import annotations

import numpy as np
import pytest

from biopose_opensim.errors import ConfigError
from biopose_opensim.render.appearance import REGIONS, AppearanceRanges, sample_appearance, vertex_regions
from biopose_opensim.render.background import background
from biopose_opensim.render.camera import CameraRanges, person_crop, project, sample_camera
from biopose_opensim.render.gl import MeshRenderer, render_frames


def _square(centre, half):
    c = np.asarray(centre, float)
    v = np.array([[-half, -half, 0], [half, -half, 0], [half, half, 0], [-half, half, 0]]) + c
    return v, np.array([[0, 1, 2], [0, 2, 3], [0, 2, 1], [0, 3, 2]])  # both windings: visible either way


def test_render_matches_pinhole_projection():
    W, H = 128, 96
    K = np.array([[500.0, 0, 64.3], [0, 500.0, 40.7], [0, 0, 1]])
    verts, faces = _square([0.05, -0.02, 3.0], 0.2)
    rgb, alpha = MeshRenderer(W, H).render(verts, faces, K, np.full((4, 3), 0.8))
    uv = project(verts, K)
    area = np.prod(uv.max(0) - uv.min(0))
    ys, xs = np.mgrid[0:H, 0:W] + 0.5  # pixel centres in the origin-at-corner convention
    cx, cy = (alpha * xs).sum() / alpha.sum(), (alpha * ys).sum() / alpha.sum()
    assert abs(alpha.sum() - area) / area < 0.01
    assert np.hypot(cx - uv[:, 0].mean(), cy - uv[:, 1].mean()) < 0.1
    assert rgb[alpha > 0.99].mean() > 0.2  # lit, not black


def test_render_frames_sequence_over_background():
    verts, faces = _square([0.0, 0.0, 2.0], 0.3)
    seq = np.stack([verts + [0.1 * t, 0, 0] for t in range(3)])
    bg = np.full((64, 64, 3), 17, np.uint8)
    K = np.array([[60.0, 0, 32], [0, 60.0, 32], [0, 0, 1]])
    out = render_frames(seq, faces, K, (64, 64), np.full((4, 3), 0.9), bg)
    assert out.shape == (3, 64, 64, 3) and out.dtype == np.uint8
    assert (out[:, 0, 0] == 17).all()  # background where nothing was drawn
    col = [np.nonzero((np.abs(o.astype(int) - 17).sum(-1) > 30).any(0))[0].mean() for o in out]
    assert col[0] < col[1] < col[2]  # the square moves right (x right in the camera frame)
    with pytest.raises(ValueError, match="in front of the camera"):
        render_frames(seq - [0, 0, 3], faces, K, (64, 64), np.full((4, 3), 0.9), bg)


def test_sampled_camera_sees_the_pelvis_where_drawn():
    r = CameraRanges()
    pelvis, lh, rh = np.array([1.0, 0.9, -0.3]), np.array([1.0, 0.9, -0.4]), np.array([1.0, 0.9, -0.2])
    for k in range(20):
        cam = sample_camera(np.random.default_rng(k), r, pelvis, lh, rh)
        assert np.allclose(cam.R @ cam.R.T, np.eye(3), atol=1e-12) and np.isclose(np.linalg.det(cam.R), 1.0)
        p = cam.to_camera(pelvis)
        assert np.isclose(np.linalg.norm(p), cam.distance_m, atol=1e-9) and p[2] > 0
        u, v = project(p, cam.K)
        assert abs(u - 960) <= 0.3 * 960 + 1e-6 and abs(v - 540) <= 0.3 * 540 + 1e-6
        # elevation: height of the camera above the pelvis; azimuth 0 = in front (+x, the facing direction)
        assert np.isclose(cam.centre[1] - pelvis[1], cam.distance_m * np.sin(np.radians(cam.elevation_deg)))
        d = cam.centre - pelvis
        assert np.isclose(np.degrees(np.arctan2(d[2], d[0])) % 360, cam.azimuth_deg % 360, atol=1e-6)
        assert 35 / 36 * 1920 <= cam.focal_px <= 85 / 36 * 1920


def test_person_crop_frames_the_mesh():
    rng = np.random.default_rng(0)
    verts = rng.normal([0.2, -0.1, 4.0], [0.2, 0.5, 0.1], size=(500, 3))
    K = np.array([[2000.0, 0, 960], [0, 2000.0, 540], [0, 0, 1]])
    crop = person_crop(verts, K, 256, 1.2)
    uv = project(verts, K @ np.eye(3))
    uvc = project(verts, crop.K)
    span = uvc.max(0) - uvc.min(0)
    assert np.isclose(span.max(), 256 / 1.2)  # the longer side fills 1/1.2 of the crop
    assert np.allclose(0.5 * (uvc.max(0) + uvc.min(0)), 128.0)  # centred
    x0, y0, side = crop.box
    assert np.allclose((uv - [x0, y0]) * 256 / side, uvc)  # the crop is a scaled window of the full frame


def test_camera_ranges_are_checked():
    with pytest.raises(ConfigError, match="distance must be at least 1.5 m"):
        CameraRanges(distance_m=(0.5, 3.0))
    with pytest.raises(ConfigError, match="focal_mm must be MIN,MAX"):
        CameraRanges(focal_mm=(85.0, 35.0))


def test_clothing_regions_follow_the_skinning(anny_body):
    regions = vertex_regions(anny_body.bone_labels, anny_body.skinning_weights())
    rest = anny_body.rest().vertices[0].numpy()  # native: z up
    z = rest[:, 2]
    counts = {REGIONS[k]: int((regions == k).sum()) for k in range(len(REGIONS))}
    assert all(counts[r] > 50 for r in ("skin", "top", "sleeve", "bottom", "leg", "shoe", "eye")), counts
    assert z[regions == REGIONS.index("shoe")].max() < z.min() + 0.2  # shoes at the feet
    assert z[regions == REGIONS.index("eye")].min() > z.max() - 0.2  # eyes in the head
    top, bottom = (z[regions == REGIONS.index(r)].mean() for r in ("top", "bottom"))
    assert top > bottom
    app = sample_appearance(np.random.default_rng(1), AppearanceRanges())
    colours = app.vertex_colours(regions)
    assert colours.shape == (len(rest), 3) and np.allclose(colours[regions == REGIONS.index("shoe")], app.shoe)


def test_backgrounds_are_seeded_and_varied():
    a = background(np.random.default_rng(3), 64)
    assert a.shape == (64, 64, 3) and a.dtype == np.uint8
    assert np.array_equal(a, background(np.random.default_rng(3), 64))
    means = [background(np.random.default_rng(k), 64).reshape(-1, 3).mean(0) for k in range(10)]
    assert np.ptp(np.array(means), axis=0).max() > 60  # different colours across seeds
    assert a.std() > 1.0  # not flat
