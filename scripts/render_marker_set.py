"""Render a virtual-marker set on Anny's default body (front, side and back views) to a PNG.

Usage::

    python scripts/render_marker_set.py                       # docs/img/anny_d3ke_markers.png
    python scripts/render_marker_set.py --set anny_d3ke --out docs/img/anny_d3ke_markers.png

The body is shown at the default OpenSim model's reference pose (q = 0, as in the synthetic static trials),
in OpenSim's ground frame. Markers are coloured by group (bony, surface, joint, midpoint, ground); surface
markers hidden behind the body in a view are not drawn in that view; joint centres and midpoints, inside the
body, are drawn through it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLOURS = {"bony": "#d62728", "surface": "#ff7f0e", "joint": "#1f77b4", "midpoint": "#2ca02c", "ground": "#9467bd"}
LABELS = {"LASI", "RPSI", "C7", "CLAV", "STRN", "LSHO", "LKNE", "LKNI", "LANK", "LHEE", "LTOE", "LMT5", "LELB",
          "LIWR", "LFHD", "RBHD", "LKJC", "LHIPJ", "LSHOULDER", "T8", "Tracking_L3"}


def render(set_name: str, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    from biopose_opensim.atomic import atomic_path
    from biopose_opensim.bodymodels.anny import AnnyBodyModel
    from biopose_opensim.markers.sets import load_marker_set
    from biopose_opensim.markers.virtual import compute_virtual_markers
    from biopose_opensim.motion import calibrate, retarget_poses, to_opensim_frame
    from biopose_opensim.paths import default_model_path

    bm = AnnyBodyModel()
    ms = load_marker_set(set_name)
    calib = calibrate(bm, default_model_path())
    res = bm.forward(None, retarget_poses(calib, calib.reference))
    v = to_opensim_frame(res.vertices)[0].numpy()
    j = to_opensim_frame(res.joints)
    markers = compute_virtual_markers(ms, to_opensim_frame(res.vertices), j, res.joint_names)[0].numpy()
    faces = bm.faces.numpy()
    groups = [m.group for m in ms.markers]

    # views: (name, horizontal axis, sign, depth axis towards the viewer, sign)
    views = [("front", 2, 1.0, 0, 1.0), ("left side", 0, -1.0, 2, -1.0), ("back", 2, -1.0, 0, -1.0)]
    fig, axes = plt.subplots(1, 3, figsize=(15, 9))
    light = np.array([0.5, 0.6, 0.6])
    for ax, (title, h, hs, d, ds) in zip(axes, views):
        xy = np.stack([hs * v[:, h], v[:, 1]], axis=1)
        depth = ds * v[:, d]
        tri = faces[np.argsort(depth[faces].mean(1))]
        n = np.cross(v[tri[:, 1]] - v[tri[:, 0]], v[tri[:, 2]] - v[tri[:, 0]])
        n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
        view_dir = np.zeros(3)
        view_dir[d] = ds
        shade = 0.35 + 0.6 * np.abs(n @ (light + view_dir) / np.linalg.norm(light + view_dir))
        ax.add_collection(PolyCollection(xy[tri], facecolors=np.repeat(shade[:, None], 3, 1) * 0.9,
                                         edgecolors="none"))
        mxy = np.stack([hs * markers[:, h], markers[:, 1]], axis=1)
        mdepth = ds * markers[:, d]
        for i, m in enumerate(ms.markers):
            near = np.linalg.norm(xy - mxy[i], axis=1) < 0.015
            if near.any() and mdepth[i] < depth[near].max() - 0.02 and m.kind == "vertex":
                continue  # a surface marker hidden behind the body in this view (joints are drawn through it)
            ax.scatter(*mxy[i], s=18 if m.kind != "joint" else 10, c=COLOURS[groups[i]], zorder=3,
                       edgecolors="k", linewidths=0.3)
            if m.name in LABELS and title != "back" or (title == "back" and m.name in {"C7", "RPSI", "T8", "RBHD",
                                                                                           "Tracking_L3", "LHEE"}):
                ax.annotate(m.name, mxy[i], xytext=(4, 2), textcoords="offset points", fontsize=6, zorder=4)
        ax.set_title(title)
        ax.set_aspect("equal")
        ax.set_xlim(xy[:, 0].min() - 0.1, xy[:, 0].max() + 0.1)
        ax.set_ylim(-0.05, v[:, 1].max() + 0.05)
        ax.axis("off")
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=g) for g, c in COLOURS.items()]
    fig.legend(handles=handles, loc="lower center", ncol=5, frameon=False)
    fig.suptitle(f"{ms.name}: {len(ms)} virtual markers on Anny's default body at the OpenSim reference pose (q = 0)")
    fig.tight_layout(rect=(0, 0.04, 1, 0.96))
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--set", default="anny_d3ke", help="virtual-marker set on Anny's topology")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "anny_d3ke_markers.png")
    args = p.parse_args(argv)
    print(render(args.set, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
