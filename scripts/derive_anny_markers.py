"""Derive the 142-marker D3KE virtual-marker set on Anny's topology, and its OpenSim marker set.

Usage::

    python scripts/derive_anny_markers.py            # writes marker_sets/anny_d3ke*.{yaml,csv,xml}
    python scripts/derive_anny_markers.py --check    # derive and compare with the committed files (YAML exactly,
                                                     # tables and XML to 1e-4 m)

Every surface marker is found on Anny's default body (all phenotypes 0.5) in its rest pose by an anatomical rule
on the skeleton (bone heads) and the mesh (native axes: x = subject's left, y = backward, z = up, metres). The
rules, per landmark, are documented in ``docs/virtual_markers.md`` and printed next to each vertex in the table
``marker_sets/anny_d3ke_vertices.csv``. Left and right markers are derived independently with mirrored rules;
the script fails when a right marker is not the mirror image of its left marker (Anny's mesh is symmetric to
1.6 mm).

The script then writes, for the default OpenSim model:

* ``anny_d3ke_rajagopal2023_markers.xml``: the 142 markers attached to the OpenSim bodies that drive them, at
  the generic model's size (see ``biopose_opensim.motion.placement``);
* ``anny_d3ke_rajagopal2023_Setup_Scale.xml`` and ``..._Setup_IK.xml``: ScaleTool (measurement set, marker
  placement tasks) and InverseKinematicsTool templates with the IK weights of the YAML.
"""
from __future__ import annotations

import argparse
import io
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from biopose_opensim.bodymodels.anny import AnnyBodyModel  # noqa: E402
from biopose_opensim.bodymodels.anny_opensim import anny_bone_bodies  # noqa: E402
from biopose_opensim.markers.d3ke import D3KE_SMPL_VERTICES, d3ke_marker_set  # noqa: E402

log = logging.getLogger("derive_anny_markers")

SET_NAME = "anny_d3ke"
#: ASIS height above the hip centre (m) and lateral position as a fraction of the trunk's half-width there
#: (inter-ASIS breadth is about 80% of the skin breadth at that level in adults).
ASIS_ABOVE_HIP = 0.08
ASIS_WIDTH_FRACTION = 0.78
#: Sternal length (jugular notch to xiphoid) as a fraction of stature.
STERNUM_FRACTION = 0.105
#: Spinous-process levels below C7 along the back, in cm for a 50.4 cm C7-S1 path (thoracic segments 2.4 cm,
#: lumbar 3.6 cm; typical adult proportions), as fractions of the C7 -> S1 path.
_SPINE_CM = {f"T{n}": 2.4 * n for n in range(1, 13)}
_SPINE_CM.update({f"L{n}": 28.8 + 3.6 * n for n in range(1, 6)})
SPINE_FRACTION = {k: v / 50.4 for k, v in _SPINE_CM.items()}


@dataclass
class Found:
    vertex: int
    rule: str


class Landmarks:
    """Anatomical landmark rules on Anny's rest mesh (one side at a time: sgn = +1 left, -1 right)."""

    def __init__(self, bm: AnnyBodyModel):
        self.bm = bm
        out = bm.rest()
        self.v = out.vertices[0].numpy()
        self.heads = bm.bone_heads()[0].numpy()
        self.w = bm.skinning_weights()
        self.bodies = np.array(anny_bone_bodies(bm.bone_labels))
        self.dominant = self.w.argmax(1)
        self.stature = self.v[:, 2].max() - self.v[:, 2].min()
        self.sole = self.v[:, 2].min()
        self.surface = self._outer_surface()

    # ---------------------------------------------------------------- helpers
    def _outer_surface(self) -> np.ndarray:
        """Mask of vertices on the outer skin (eyes, eye and mouth cavities, tongue excluded)."""
        from anny.face_segmentation import get_face_segmentation_mask

        inner = get_face_segmentation_mask(
            self.bm.model, ["eye_back.L", "eye_front.L", "eye_back.R", "eye_front.R", "eye_cavity.L",
                            "eye_cavity.R", "mouth_cavity", "tongue"]).numpy()
        faces = self.bm.faces.numpy()
        mask = np.ones(len(self.v), dtype=bool)
        mask[np.unique(faces[inner])] = False
        # eyeballs and tongue are skinned to their own bones
        for b in ("eye.L", "eye.R"):
            mask &= self.dominant != self.bm.bone_index(b)
        return mask

    def h(self, bone: str) -> np.ndarray:
        return self.heads[self.bm.bone_index(bone)]

    def bones_mask(self, prefixes, side: str | None = None, min_weight: float = 0.5) -> np.ndarray:
        """Vertices whose summed skin weight on bones starting with ``prefixes`` (on ``side``) is >= min_weight."""
        sel = [i for i, b in enumerate(self.bm.bone_labels)
               if b.split(".")[0].startswith(tuple(prefixes)) and (side is None or b.endswith("." + side) or "." not in b)]
        return (self.w[:, sel].sum(1) >= min_weight) & self.surface

    def body_weight(self, vertex: int, body: str) -> float:
        return float(self.w[vertex, self.bodies == body].sum())

    def body_of(self, vertex: int) -> str:
        sums = {b: self.w[vertex, self.bodies == b].sum() for b in set(self.bodies[self.w[vertex] > 0])}
        return max(sums, key=sums.get)

    def extreme(self, mask: np.ndarray, direction, origin=None) -> int:
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            raise RuntimeError("empty candidate region")
        d = np.asarray(direction, dtype=float)
        o = np.zeros(3) if origin is None else origin
        return int(idx[np.argmax((self.v[idx] - o) @ d)])

    def band(self, axis_point, axis_dir, lo, hi) -> np.ndarray:
        """Vertices whose projection on ``axis_dir`` from ``axis_point`` lies in [lo, hi] (metres)."""
        t = (self.v - axis_point) @ axis_dir
        return (t >= lo) & (t <= hi)

    def midline(self, tol=0.004) -> np.ndarray:
        return (np.abs(self.v[:, 0]) <= tol) & self.surface

    def at_height(self, mask: np.ndarray, z: float, tol=0.01) -> np.ndarray:
        return mask & (np.abs(self.v[:, 2] - z) <= tol)

    @staticmethod
    def _unit(x):
        return x / np.linalg.norm(x)

    def lateral(self, axis, sgn) -> np.ndarray:
        """Unit lateral direction (away from the midline) orthogonal to ``axis``."""
        x = np.array([sgn, 0.0, 0.0])
        return self._unit(x - (x @ axis) * axis)

    # ---------------------------------------------------------------- pelvis
    def asis(self, s, sgn) -> Found:
        hip = self.h(f"upperleg01.{s}")
        z = hip[2] + ASIS_ABOVE_HIP
        trunk = self.bones_mask(("root", "pelvis", "spine", "upperleg"), None) & (np.abs(self.v[:, 2] - z) <= 0.01)
        half_width = np.abs(self.v[trunk, 0]).max()
        x = sgn * ASIS_WIDTH_FRACTION * half_width
        m = self.surface & (np.abs(self.v[:, 0] - x) <= 0.012) & (np.abs(self.v[:, 2] - z) <= 0.015)
        m &= self.v[:, 1] < 0
        return Found(self.extreme(m, [0, -1, 0]),
                     f"most anterior skin {100 * ASIS_ABOVE_HIP:.0f} cm above the hip centre at "
                     f"{100 * ASIS_WIDTH_FRACTION:.0f}% of the trunk half-width (ASIS)")

    def psis(self, s, sgn, asis: int) -> Found:
        hip = self.h(f"upperleg01.{s}")
        z = self.v[asis, 2] + 0.02
        x = sgn * 0.5 * abs(hip[0])
        m = self.surface & (np.abs(self.v[:, 2] - z) <= 0.012) & (np.abs(self.v[:, 0] - x) <= 0.012)
        return Found(self.extreme(m, [0, 1, 0]),
                     "most posterior skin 2 cm above the ASIS, half the hip-centre distance from the midline")

    # ---------------------------------------------------------------- legs
    def knee(self, s, sgn, medial: bool) -> Found:
        hip, knee = self.h(f"upperleg01.{s}"), self.h(f"lowerleg01.{s}")
        u = self._unit(knee - hip)
        m = self.bones_mask(("upperleg", "lowerleg"), s) & self.band(knee, u, -0.030, -0.015)
        lat = self.lateral(u, sgn)
        side = "medial" if medial else "lateral"
        return Found(self.extreme(m, -lat if medial else lat),
                     f"most {side} skin 1.5-3 cm above the knee centre along the thigh (femoral epicondyle)")

    def malleolus(self, s, sgn, medial: bool) -> Found:
        knee, ankle = self.h(f"lowerleg01.{s}"), self.h(f"foot.{s}")
        u = self._unit(ankle - knee)
        m = self.bones_mask(("lowerleg", "foot"), s) & self.band(ankle, u, -0.035, -0.025)
        lat = self.lateral(u, sgn)
        side = "medial" if medial else "lateral"
        return Found(self.extreme(m, -lat if medial else lat),
                     f"most {side} skin 2.5-3.5 cm above the ankle centre (malleolus; lower skin follows the foot)")

    def heel(self, s, sgn) -> Found:
        foot = self.bones_mask(("foot", "toe"), s)
        m = foot & (self.v[:, 2] >= self.sole + 0.025) & (self.v[:, 2] <= self.sole + 0.045)
        return Found(self.extreme(m, [0, 1, 0]), "most posterior skin of the foot 2.5-4.5 cm above the sole")

    def big_toe(self, s, sgn) -> Found:
        m = self.bones_mask(("toe1-",), s)
        return Found(self.extreme(m, [0, -1, 0]), "most anterior skin of the big toe (hallux tip)")

    def metatarsal(self, s, sgn, first: bool) -> Found:
        joint = self.h(f"toe{1 if first else 5}-1.{s}")
        m = self.bones_mask(("foot", "toe"), s) & (np.linalg.norm(self.v - joint, axis=1) <= 0.025)
        d = [-sgn, 0, 0] if first else [sgn, 0, 0]
        which = "medial skin at the 1st" if first else "lateral skin at the 5th"
        return Found(self.extreme(m, d), f"most {which} metatarsophalangeal joint (metatarsal head), within 2.5 cm")

    # ---------------------------------------------------------------- arms
    def acromion(self, s, sgn) -> Found:
        sh = self.h(f"upperarm01.{s}")
        m = self.surface & (np.linalg.norm(self.v[:, :2] - sh[:2], axis=1) <= 0.025)
        m &= self.v[:, 2] < self.h("neck01")[2] + 0.05
        return Found(self.extreme(m, [0, 0, 1]), "highest skin within 2.5 cm (horizontally) of the shoulder centre")

    def epicondyle(self, s, sgn, medial: bool) -> Found:
        sh, el, wr = self.h(f"upperarm01.{s}"), self.h(f"lowerarm01.{s}"), self.h(f"wrist.{s}")
        u = self._unit(el - sh)
        axis = self._unit(np.cross(u, self._unit(wr - el)))  # flexion axis
        axis = axis if axis[0] * sgn > 0 else -axis  # pointing laterally (away from the midline)
        m = self.bones_mask(("upperarm", "lowerarm"), s) & self.band(el, u, -0.015, 0.005)
        m &= np.linalg.norm(self.v - el, axis=1) <= 0.06
        side = "medial" if medial else "lateral"
        return Found(self.extreme(m, -axis if medial else axis, el),
                     f"farthest {side} skin along the elbow flexion axis, 1.5 cm above to 0.5 cm below the elbow centre "
                     "(humeral epicondyle)")

    def styloid(self, s, sgn, radial: bool) -> Found:
        el, wr = self.h(f"lowerarm01.{s}"), self.h(f"wrist.{s}")
        u = self._unit(wr - el)
        r = self.h(f"finger2-1.{s}") - self.h(f"finger5-1.{s}")
        r = self._unit(r - (r @ u) * u)
        m = self.bones_mask(("lowerarm", "wrist"), s) & self.band(wr, u, -0.025, -0.012)
        side = "radial (thumb-side)" if radial else "ulnar (little-finger-side)"
        return Found(self.extreme(m, r if radial else -r),
                     f"most {side} skin 1.2-2.5 cm proximal of the wrist centre (styloid process)")

    def fingertip(self, s, sgn, n: int) -> Found:
        a, b = self.h(f"finger{n}-2.{s}"), self.h(f"finger{n}-3.{s}")
        m = self.bones_mask((f"finger{n}-3",), s)
        return Found(self.extreme(m, self._unit(b - a), b), "farthest skin along the distal phalanx (fingertip)")

    def clavicle(self, s, sgn) -> Found:
        p = 0.5 * (self.h(f"clavicle.{s}") + self.h(f"upperarm01.{s}"))
        m = self.surface & (np.abs(self.v[:, 0] - p[0]) <= 0.01) & (self.v[:, 1] < p[1])
        m &= np.abs(self.v[:, 2] - p[2]) <= 0.06
        return Found(self.extreme(m, self._unit(np.array([0, -1.0, 1.0]))),
                     "most anterior-superior skin above the mid-clavicle (halfway sternoclavicular - shoulder)")

    # ---------------------------------------------------------------- trunk and head
    def anterior_midline(self, z: float, what: str) -> Found:
        idx = np.flatnonzero(self.midline() & (self.v[:, 1] < self.h("spine02")[1]))
        return Found(int(idx[np.argmin(np.abs(self.v[idx, 2] - z))]), what)

    def head_marker(self, s, sgn, front: bool) -> Found:
        z = self.h(f"eye.{s}")[2] + 0.025
        head = self.bones_mask(("head", "neck03"), None) & self.at_height(self.surface, z, 0.008)
        ang = np.radians(60.0 if front else 35.0)
        d = np.array([sgn * np.sin(ang), -np.cos(ang) if front else np.cos(ang), 0.0])
        c = self.h("head")
        which = "front (temple)" if front else "back"
        return Found(self.extreme(head, d, c),
                     f"head {which}: farthest skin from the head joint at eye height + 2.5 cm, "
                     f"{np.degrees(ang):.0f} deg lateral of straight {'ahead' if front else 'back'}")

    def spine(self, psis_z: float) -> dict[str, Found]:
        """C7 and the spinous processes T1..L5 on the back (see SPINE_FRACTION)."""
        c7_z = self.h("neck01")[2]
        back = self.surface & (self.v[:, 1] > self.h("spine02")[1])
        mid = np.flatnonzero(self.midline() & back & (self.v[:, 2] <= c7_z + 0.02) & (self.v[:, 2] >= psis_z - 0.02))
        mid = mid[np.argsort(-self.v[mid, 2])]
        c7 = int(mid[np.argmin(np.abs(self.v[mid, 2] - c7_z))])
        s1 = int(mid[np.argmin(np.abs(self.v[mid, 2] - psis_z))])
        prof = [i for i in mid if self.v[s1, 2] <= self.v[i, 2] <= self.v[c7, 2]]
        pts = self.v[prof]
        arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
        near = np.flatnonzero(back & (np.abs(self.v[:, 0]) <= 0.012))
        found = {"C7": Found(c7, "most posterior midline skin at the height of the neck base (neck01 head)")}
        used = {c7}
        for level, f in SPINE_FRACTION.items():
            target = np.array([np.interp(f * arc[-1], arc, pts[:, k]) for k in range(3)])
            order = near[np.argsort(np.linalg.norm(self.v[near] - target, axis=1))]
            k = next(int(i) for i in order if int(i) not in used)
            used.add(k)
            found[level] = Found(k, f"back skin nearest the point {100 * f:.0f}% along the posterior midline from "
                                    "C7 to the PSIS level (typical vertebral heights); distinct vertices, |x| <= 1.2 cm")
        return found


_SPINE_NAMES = {
    "T1": "T1", "T8": "T8", "T10": "T10", "T12": "T12", "Tracking_L5": "L5", "Tracking_L4": "L4",
    "Tracking_L3": "L3", "Tracking_L2": "L2", "Tracking_L1": "L1", "Tracking_T11": "T11", "Tracking_T9": "T9",
    "Tracking_T7": "T7", "Tracking_T6": "T6", "Tracking_T5": "T5", "Tracking_T4": "T4", "Tracking_T3": "T3",
    "Tracking_T2": "T2",
}


def derive(lm: Landmarks) -> dict[str, Found]:
    """All 66 D3KE surface markers on Anny's rest mesh."""
    out: dict[str, Found] = {}
    for s, sgn in (("L", 1.0), ("R", -1.0)):
        S, low = s, s.lower()
        out[f"{S}ASI"] = lm.asis(s, sgn)
        out[f"{S}PSI"] = lm.psis(s, sgn, out[f"{S}ASI"].vertex)
        out[f"{S}KNE"] = lm.knee(s, sgn, medial=False)
        out[f"{S}KNI"] = lm.knee(s, sgn, medial=True)
        out[f"{S}ANK"] = lm.malleolus(s, sgn, medial=False)
        out[f"{S}ANI"] = lm.malleolus(s, sgn, medial=True)
        out[f"{S}HEE"] = lm.heel(s, sgn)
        out[f"{S}TOE"] = lm.big_toe(s, sgn)
        out[f"{S}MT1"] = lm.metatarsal(s, sgn, first=True)
        out[f"{S}MT5"] = lm.metatarsal(s, sgn, first=False)
        out[f"{S}SHO"] = lm.acromion(s, sgn)
        out[f"{S}ELB"] = lm.epicondyle(s, sgn, medial=False)
        out[f"{S}ELBIN"] = lm.epicondyle(s, sgn, medial=True)
        out[f"{S}IWR"] = lm.styloid(s, sgn, radial=True)
        out[f"{S}OWR"] = lm.styloid(s, sgn, radial=False)
        out[f"{S}CLAV"] = lm.clavicle(s, sgn)
        out[f"{S}FHD"] = lm.head_marker(s, sgn, front=True)
        out[f"{S}BHD"] = lm.head_marker(s, sgn, front=False)
        for n, finger in enumerate(("thumb", "index", "middle", "ring", "pinky"), start=1):
            out[f"{low}{finger}"] = lm.fingertip(s, sgn, n)
    clav_z = lm.h("clavicle.L")[2]
    out["CLAV"] = lm.anterior_midline(clav_z, "anterior midline at the height of the sternoclavicular joints "
                                              "(jugular notch)")
    out["STRN"] = lm.anterior_midline(
        clav_z - STERNUM_FRACTION * lm.stature,
        f"anterior midline {100 * STERNUM_FRACTION:.1f}% of stature below the jugular notch (xiphoid process)")
    psis_z = 0.5 * (lm.v[out["LPSI"].vertex, 2] + lm.v[out["RPSI"].vertex, 2])
    spine = lm.spine(psis_z)
    out["C7"] = spine["C7"]
    for name, level in _SPINE_NAMES.items():
        out[name] = spine[level]
    return {m: out[m] for m in D3KE_SMPL_VERTICES}


PAIRS = [("L", "R"), ("l", "r")]


def mirror_name(name: str) -> str | None:
    for a, b in PAIRS:
        if name.startswith(a) and len(name) > 1:
            return b + name[1:]
    return None


def check_symmetry(lm: Landmarks, found: dict[str, Found], tol: float = 0.003) -> float:
    """Largest distance between a left marker mirrored (x -> -x) and its right marker; fails above ``tol`` m."""
    worst = 0.0
    for name, f in found.items():
        other = mirror_name(name)
        if other is None or other not in found:
            continue
        d = float(np.linalg.norm(lm.v[f.vertex] * [-1, 1, 1] - lm.v[found[other].vertex]))
        worst = max(worst, d)
        if d > tol:
            raise SystemExit(f"asymmetric markers {name}/{other}: mirrored distance {1000 * d:.1f} mm > "
                             f"{1000 * tol:.1f} mm")
    return worst


def vertex_table(lm: Landmarks, found: dict[str, Found], bodies) -> str:
    rows = ["name,vertex,x,y,z,dominant_bone,body,body_skin_weight,rule"]
    for name, f in found.items():
        x, y, z = lm.v[f.vertex]
        mb = bodies[name]
        rule = f.rule.replace('"', "'")
        rows.append(f'{name},{f.vertex},{x:.5f},{y:.5f},{z:.5f},{lm.bm.bone_labels[lm.dominant[f.vertex]]},'
                    f'{mb.body},{mb.weight:.3f},"{rule}"')
    return "\n".join(rows) + "\n"


def outputs(out_dir: Path) -> dict[str, Path]:
    return {
        "smpl_yaml": out_dir / "smpl_d3ke.yaml",
        "smpl_markers": out_dir / "smpl_d3ke_rajagopal2023_markers.xml",
        "smpl_scale": out_dir / "smpl_d3ke_rajagopal2023_Setup_Scale.xml",
        "smpl_ik": out_dir / "smpl_d3ke_rajagopal2023_Setup_IK.xml",
        "yaml": out_dir / f"{SET_NAME}.yaml",
        "csv": out_dir / f"{SET_NAME}_vertices.csv",
        "markers": out_dir / f"{SET_NAME}_rajagopal2023_markers.xml",
        "scale": out_dir / f"{SET_NAME}_rajagopal2023_Setup_Scale.xml",
        "ik": out_dir / f"{SET_NAME}_rajagopal2023_Setup_IK.xml",
    }


def build(out_dir: Path) -> dict[str, str]:
    """Derive everything; returns file name -> text (the XML setups are written by OpenSim to ``out_dir``)."""
    from biopose_opensim.osim.markerset import markerset_xml
    from biopose_opensim.markers.sets import marker_set_to_yaml, parse_marker_set
    from biopose_opensim.motion.placement import place_markers
    from biopose_opensim.paths import default_model_path

    bm = AnnyBodyModel()
    lm = Landmarks(bm)
    found = derive(lm)
    worst = check_symmetry(lm, found)
    log.info("left/right symmetry: worst mirrored distance %.2f mm", 1000 * worst)
    ms = d3ke_marker_set(
        {k: f.vertex for k, f in found.items()}, name=SET_NAME, body_model="anny", n_vertices=bm.n_vertices,
        description="D3KE 142-marker layout on Anny's default topology (derived by scripts/derive_anny_markers.py)",
        descriptions={k: f.rule for k, f in found.items()},
    )
    header = ("D3KE 142-marker virtual-marker set on Anny (anny 0.6.2, default rig and topology).\n"
              "Generated by scripts/derive_anny_markers.py; do not edit by hand. See docs/virtual_markers.md.\n"
              "Vertex markers: anatomical rules on the default body's rest mesh (description = rule).\n"
              "Joint markers: SMPL-H joint names, computed from Anny bone heads "
              "(biopose_opensim.bodymodels.anny.ANNY_SMPLH_JOINTS).\n"
              "IK weights: bony 10, surface 2, joint 2, midpoint 1, ground 0.")
    text_yaml = marker_set_to_yaml(ms, header)
    parse_marker_set(__import__("yaml").safe_load(text_yaml))  # round-trip validation
    placement = place_markers(bm, default_model_path(), ms)
    paths = outputs(out_dir)
    texts = {
        paths["yaml"].name: text_yaml,
        paths["csv"].name: vertex_table(lm, found, placement.bodies),
        paths["markers"].name: markerset_xml(
            placement.markers, name=SET_NAME,
            comment="D3KE virtual markers on RajagopalLaiUhlrich2023 at its generic size, placed from Anny's "
                    "default body by scripts/derive_anny_markers.py"),
    }
    smpl = d3ke_marker_set(
        D3KE_SMPL_VERTICES, name="smpl_d3ke", body_model="smpl", n_vertices=6890,
        description="D3KE 142-marker layout on the SMPL/SMPL-H topology (vertex ids from D3KE, Bittner et al. 2023)")
    texts[paths["smpl_yaml"].name] = marker_set_to_yaml(smpl, (
        "D3KE 142-marker virtual-marker set on the SMPL / SMPL-H mesh (6890 vertices).\n"
        "Surface-marker vertex ids as published by D3KE (Bittner et al., Sensors 2023); joints are SMPL-H joints\n"
        "(SMPL-H or SMPL-X models needed for the hand joints). Written by scripts/derive_anny_markers.py.\n"
        "The OpenSim files smpl_d3ke_rajagopal2023_*.xml carry the same marker names and generic positions as\n"
        "the Anny set's; ScaleTool marker placement moves them to each subject's static trial."))
    texts[paths["smpl_markers"].name] = texts[paths["markers"].name].replace(
        f'<MarkerSet name="{SET_NAME}">', '<MarkerSet name="smpl_d3ke">')
    for body, r in sorted(placement.ratios.items()):
        log.info("size ratio OpenSim/Anny %-10s %s", body, np.round(r, 4))
    log.info("Anny/OpenSim hip-height ratio k = %.4f", placement.calibration.scale)
    return texts, ms


def _numbers(text: str) -> tuple[list[str], np.ndarray]:
    """Split ``text`` into its non-numeric words and its numbers."""
    import re

    tokens = re.split(r"(-?\d+\.\d+)", text)
    return tokens[0::2], np.array([float(t) for t in tokens[1::2]])


def _same(name: str, committed: str, derived: str) -> bool:
    """Equal up to floating-point noise: the same words and integers, decimals within 1e-4 (metres)."""
    if name.endswith(".yaml"):
        return committed == derived
    words_a, nums_a = _numbers(committed)
    words_b, nums_b = _numbers(derived)
    return words_a == words_b and nums_a.shape == nums_b.shape and bool(np.all(np.abs(nums_a - nums_b) <= 1e-4))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "marker_sets", help="output folder (default marker_sets/)")
    p.add_argument("--check", action="store_true", help="only compare with the committed files")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from biopose_opensim.atomic import atomic_write_text
    from biopose_opensim.markers.osim_markerset import ik_setup, scale_setup
    from biopose_opensim.motion.placement import MEASUREMENTS
    from biopose_opensim.osim.setups import write_ik_setup, write_scale_setup

    texts, ms = build(args.out)
    weights = {m.name: m.weight for m in ms.markers}
    if args.check:
        stale = [n for n, t in texts.items() if not (args.out / n).exists() or not _same(n, (args.out / n).read_text(), t)]
        if stale:
            log.error("out of date: %s", ", ".join(stale))
            return 1
        log.info("committed files are up to date")
        return 0
    for name, text in texts.items():
        atomic_write_text(args.out / name, text)
        log.info("wrote %s", args.out / name)
    paths = outputs(args.out)
    for key, name in (("", SET_NAME), ("smpl_", "smpl_d3ke")):
        write_scale_setup(scale_setup(MEASUREMENTS, weights, name=f"{name}_scale"), paths[f"{key}scale"])
        write_ik_setup(ik_setup(weights, name=f"{name}_ik"), paths[f"{key}ik"])
        log.info("wrote %s and %s", paths[f"{key}scale"], paths[f"{key}ik"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
