"""The image dataset's card: ``dataset_card.md`` with counts and sampling ranges, ``card/examples.png`` (crops
with their 2D keypoints) and ``card/cameras.png`` (histograms of the sampled cameras)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import atomic_write_text
from ..plots import pyplot, save_figure

#: Parent of each of the 22 body joints (SMPL-H order) for drawing the skeleton; -1 for the pelvis.
BODY_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19)


def _load(stage: Path, shards: list[dict], keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    parts = [np.load(stage / s["path"]) for s in shards]
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


def examples_figure(stage: Path, arrays: dict, path: Path, n: int = 16):
    """A grid of up to ``n`` crops (spread over the dataset) with the body keypoints and skeleton drawn."""
    from PIL import Image

    plt = pyplot()
    total = len(arrays["imgname"])
    pick = np.unique(np.linspace(0, total - 1, min(n, total)).round().astype(int))
    cols = min(4, len(pick))
    rows = int(np.ceil(len(pick) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.6 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, pick):
        ax.imshow(np.asarray(Image.open(stage / arrays["imgname"][i])))
        kp = arrays["keypoints_2d"][i]
        for j, p in enumerate(BODY_PARENTS):
            if p >= 0:
                ax.plot(kp[[p, j], 0], kp[[p, j], 1], "-", color="yellow", lw=1)
        ax.plot(kp[:22, 0], kp[:22, 1], "o", ms=2.5, color="red")
        ax.plot(kp[22:, 0], kp[22:, 1], ".", ms=1, color="cyan")
        ax.set_title(f"{arrays['subject'][i]} {arrays['trial'][i]} #{arrays['frame'][i]}", fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def cameras_figure(arrays: dict, focal_mm: np.ndarray, path: Path):
    """Histograms of camera distance, elevation, azimuth and focal length (full-frame mm)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(12, 2.8))
    for ax, values, label in ((axes[0], arrays["distance_m"], "distance (m)"),
                              (axes[1], arrays["elevation_deg"], "elevation (deg)"),
                              (axes[2], arrays["azimuth_deg"], "azimuth from facing (deg)"),
                              (axes[3], focal_mm, "focal length (mm, full frame)")):
        ax.hist(values, bins=20, color="tab:blue")
        ax.set_xlabel(label)
    axes[0].set_ylabel("images")
    fig.tight_layout()
    return save_figure(fig, path)


def write_card(stage: Path, manifest: dict, shards: list[dict]) -> Path:
    """Write ``dataset_card.md`` and its figures into ``stage``."""
    keys = ("imgname", "keypoints_2d", "subject", "trial", "frame", "distance_m", "elevation_deg", "azimuth_deg",
            "focal_px")
    arrays = _load(stage, shards, keys)
    cam = manifest["camera"]
    focal_mm = arrays["focal_px"] * cam["sensor_mm"] / cam["frame_px"][0]
    (stage / "card").mkdir(exist_ok=True)
    examples_figure(stage, arrays, stage / "card" / "examples.png")
    cameras_figure(arrays, focal_mm, stage / "card" / "cameras.png")
    t = manifest["totals"]
    app = manifest["appearance"]
    lines = [
        f"# {manifest['name']}", "",
        f"Synthetic person crops of Anny subjects rendered from the marker dataset `{manifest['source']['name']}` "
        f"(`{manifest['source']['path']}`, seed {manifest['source']['seed']}), format `{manifest['format']}`.", "",
        f"Command: `{manifest['command']}` (version {manifest['version']}, seed {manifest['seed']}).", "",
        "## Counts", "",
        "| split | subjects | images |", "| --- | --- | --- |",
    ]
    for split, n in t["images_per_split"].items():
        rendered = len(set(arrays["subject"][np.char.startswith(arrays["imgname"], f"images/{split}/")]))
        lines.append(f"| {split} | {rendered} | {n} |")
    lines += [
        f"| all | {t['subjects']} | {t['images']} |", "",
        f"{t['trials']} trials, {manifest['frames_per_trial']} evenly spaced frames per trial; crops "
        f"{manifest['crop_size']} x {manifest['crop_size']} px (JPEG quality {manifest['jpeg_quality']}), "
        f"{manifest['crop_enlarge']} x the projected mesh's bounding box. Rendering took "
        f"{manifest['timing']['render_ms_per_image']} ms per image (rasterisation and compositing, CPU), "
        f"{manifest['timing']['seconds']} s for the whole run.", "",
        "## Sampling ranges (uniform)", "",
        "| quantity | range | sampled |", "| --- | --- | --- |",
        f"| camera distance from the pelvis (m) | {cam['distance_m'][0]} - {cam['distance_m'][1]} | "
        f"{arrays['distance_m'].min():.2f} - {arrays['distance_m'].max():.2f} |",
        f"| camera elevation (deg) | {cam['elevation_deg'][0]} - {cam['elevation_deg'][1]} | "
        f"{arrays['elevation_deg'].min():.1f} - {arrays['elevation_deg'].max():.1f} |",
        f"| azimuth from the subject's facing (deg) | {cam['azimuth_deg'][0]} - {cam['azimuth_deg'][1]} | "
        f"{arrays['azimuth_deg'].min():.1f} - {arrays['azimuth_deg'].max():.1f} |",
        f"| focal length (mm, {cam['sensor_mm']} mm sensor) | {cam['focal_mm'][0]} - {cam['focal_mm'][1]} | "
        f"{focal_mm.min():.1f} - {focal_mm.max():.1f} |",
        f"| pelvis off the frame centre (fraction of the half-frame) | 0 - {cam['offcentre']} | |",
        f"| directional light intensity | {app['light_intensity'][0]} - {app['light_intensity'][1]} | |",
        f"| light elevation / azimuth (deg, camera frame) | {app['light_elevation_deg']} / "
        f"{app['light_azimuth_deg']} | |",
        f"| ambient light | {app['ambient'][0]} - {app['ambient'][1]} | |",
        f"| clothing HSV saturation / value | {app['cloth_saturation']} / {app['cloth_value']} | |", "",
        f"Skin tone: one of {app['skin_tones']} palette tones (brightness +-6 %); long sleeves with probability "
        f"{app['long_sleeves']}, long trousers {app['long_trousers']}. Backgrounds: procedural gradients or value "
        "noise, with stripes or rectangles.", "",
        "## Examples", "", "![examples](card/examples.png)", "",
        "## Cameras", "", "![cameras](card/cameras.png)", "",
    ]
    path = stage / "dataset_card.md"
    atomic_write_text(path, "\n".join(lines))
    return path
