"""A small synthetic SMPL-family body in the published file layout, for tests (no licensed files needed).

The body is a stick-figure-like adult in the SMPL rest T-pose (SMPL axes: x left, y up, z forward, feet at
y = 0): every bone is a cylinder of skin vertices skinned to the bone's proximal joint, and four vertices at
each joint (off every coordinate axis through it) define the joint regressor. Vertex counts default to the
real topologies' (SMPL/SMPL-H 6890, SMPL-X 10475), so smplx loads the files exactly as it loads the licensed
ones; smaller bodies are allowed. Shape coefficient 0 scales the body about the floor point (4 % per unit),
coefficient 1 its width; pose correctives are zero. Files are written as ``.npz`` or latin-1 readable
``.pkl`` (:func:`write_smpl_model`), or as a folder of smplx-named files (:func:`write_synthetic_model`).

:func:`landmark_marker_set` writes a virtual-marker set whose markers carry the default OpenSim model's
marker names (ASIS, PSIS, epicondyles, malleoli, ...), placed on this body's skin by nearest vertex.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import yaml

BODY22 = ("pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
          "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
          "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist")
PARENTS22 = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19)
FINGERS = ("index", "middle", "pinky", "ring", "thumb")
N_VERTICES = {"smpl": 6890, "smplh": 6890, "smplx": 10475}

# rest T-pose joints of the left side (x > 0) and the midline, metres
_LEFT = {"hip": (0.085, 0.90, 0.0), "knee": (0.09, 0.49, 0.01), "ankle": (0.09, 0.08, -0.02),
         "foot": (0.10, 0.02, 0.11), "collar": (0.07, 1.40, 0.0), "shoulder": (0.18, 1.42, -0.01),
         "elbow": (0.45, 1.42, -0.02), "wrist": (0.70, 1.42, -0.01)}
_MID = {"pelvis": (0.0, 0.96, 0.0), "spine1": (0.0, 1.07, -0.01), "spine2": (0.0, 1.20, 0.0),
        "spine3": (0.0, 1.27, 0.01), "neck": (0.0, 1.48, -0.01), "head": (0.0, 1.58, 0.02)}


def _joint_table(model_type: str) -> tuple[list[str], list[int], np.ndarray]:
    pos = {}
    for n, p in _MID.items():
        pos[n] = p
    for n, (x, y, z) in _LEFT.items():
        pos[f"left_{n}"] = (x, y, z)
        pos[f"right_{n}"] = (-x, y, z)
    names, parents = list(BODY22), list(PARENTS22)
    if model_type == "smpl":
        names += ["left_hand", "right_hand"]
        parents += [20, 21]
        pos["left_hand"], pos["right_hand"] = (0.78, 1.42, 0.0), (-0.78, 1.42, 0.0)
    else:
        if model_type == "smplx":
            names += ["jaw", "left_eye_smplhf", "right_eye_smplhf"]
            parents += [15, 15, 15]
            pos["jaw"], pos["left_eye_smplhf"], pos["right_eye_smplhf"] = \
                (0.0, 1.53, 0.06), (0.03, 1.62, 0.08), (-0.03, 1.62, 0.08)
        for side, s, wrist in (("left", 1.0, 20), ("right", -1.0, 21)):
            for f_i, finger in enumerate(FINGERS):
                dz = {"index": 0.02, "middle": 0.0, "pinky": -0.03, "ring": -0.015, "thumb": 0.04}[finger]
                for k in (1, 2, 3):
                    names.append(f"{side}_{finger}{k}")
                    parents.append(wrist if k == 1 else len(names) - 2)
                    pos[f"{side}_{finger}{k}"] = (s * (0.76 + 0.025 * (k - 1)), 1.42, dz)
    return names, parents, np.array([pos[n] for n in names])


_RADIUS = {"hip": 0.075, "knee": 0.05, "ankle": 0.035, "spine": 0.13, "neck": 0.05, "head": 0.09,
           "collar": 0.05, "shoulder": 0.045, "elbow": 0.035, "wrist": 0.02, "pelvis": 0.13}


def _radius(name: str) -> float:
    for k, r in _RADIUS.items():
        if k in name:
            return r
    return 0.01


def _segments(names, parents, J):
    """(start, end, radius, joint index the skin follows) of every bone, plus tips of the end bones."""
    segs = []
    for j, p in enumerate(parents):
        if p < 0:
            continue
        segs.append((J[p], J[j], _radius(names[p]), p))
    idx = {n: i for i, n in enumerate(names)}
    tips = {"head": (0.0, 1.76, 0.02), "left_foot": (0.10, 0.02, 0.19), "right_foot": (-0.10, 0.02, 0.19),
            "pelvis": (0.0, 0.84, 0.0)}
    for n, tip in tips.items():
        segs.append((J[idx[n]], np.array(tip), _radius(n) if n != "pelvis" else 0.13, idx[n]))
    return segs


def synthetic_model_data(model_type: str, n_vertices: int | None = None, seed: int = 0) -> dict[str, np.ndarray]:
    """The arrays of a synthetic ``model_type`` (``smpl``, ``smplh`` or ``smplx``) model file.

    ``n_vertices`` defaults to the real topology's count; ``seed`` places the skin vertices on the cylinders.
    """
    names, parents, J = _joint_table(model_type)
    nJ, V = len(names), n_vertices or N_VERTICES[model_type]
    rng = np.random.default_rng(seed)
    verts = np.zeros((V, 3))
    weights = np.zeros((V, nJ))
    # four vertices per joint (joint regressor), skinned to that joint; none lies on an axis through the joint,
    # so each moves when its joint rotates about any coordinate axis
    offs = np.array([[1e-3, 1e-3, 0], [-1e-3, -1e-3, 0], [0, 1e-3, 1e-3], [0, -1e-3, -1e-3]])
    Jreg = np.zeros((nJ, V))
    for j in range(nJ):
        verts[4 * j:4 * j + 4] = J[j] + offs
        weights[4 * j:4 * j + 4, j] = 1.0
        Jreg[j, 4 * j:4 * j + 4] = 0.25
    segs = _segments(names, parents, J)
    area = np.array([np.linalg.norm(b - a) * r + 1e-4 for a, b, r, _ in segs])
    n_free = V - 4 * nJ
    counts = np.floor(area / area.sum() * n_free).astype(int)
    counts[np.argmax(counts)] += n_free - counts.sum()
    k = 4 * nJ
    for (a, b, r, j), c in zip(segs, counts):
        axis = b - a
        length = np.linalg.norm(axis)
        u = axis / max(length, 1e-9)
        tmp = np.array([0.0, 0.0, 1.0]) if abs(u[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
        e1 = np.cross(u, tmp)
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(u, e1)
        s = rng.uniform(0.0, 1.0, c)
        th = rng.uniform(0.0, 2 * np.pi, c)
        verts[k:k + c] = a + s[:, None] * axis + r * (np.cos(th)[:, None] * e1 + np.sin(th)[:, None] * e2)
        weights[k:k + c, j] = 1.0
        k += c
    n_shape = {"smpl": 10, "smplh": 16, "smplx": 400}[model_type]
    shapedirs = np.zeros((V, 3, n_shape))
    shapedirs[:, :, 0] = 0.04 * verts
    shapedirs[:, 0, 1] = 0.04 * verts[:, 0]
    shapedirs[:, 2, 1] = 0.04 * verts[:, 2]
    faces = np.stack([np.arange(0, V - 2), np.arange(1, V - 1), np.arange(2, V)], axis=1)[::3].astype(np.int64)
    data = {
        "v_template": verts, "shapedirs": shapedirs, "posedirs": np.zeros((V, 3, (nJ - 1) * 9)),
        "J_regressor": Jreg, "weights": weights, "kintree_table": np.stack([np.array(parents), np.arange(nJ)]),
        "f": faces,
    }
    if model_type in ("smplh", "smplx"):
        data.update(hands_componentsl=np.eye(45), hands_componentsr=np.eye(45), hands_meanl=np.zeros(45),
                    hands_meanr=np.zeros(45))
    if model_type == "smplx":
        data.update(lmk_faces_idx=np.arange(51, dtype=np.int64), lmk_bary_coords=np.full((51, 3), 1.0 / 3.0))
    return data


def write_smpl_model(path: str | Path, model_type: str = "smpl", n_vertices: int | None = None,
                     seed: int = 0) -> Path:
    """Write one synthetic model file (``.npz``, or a ``.pkl`` as the SMPL releases are) at ``path``."""
    data = synthetic_model_data(model_type, n_vertices, seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".npz":
        np.savez(path, **data)
    else:
        with open(path, "wb") as fh:
            pickle.dump(data, fh)
    return path


def write_synthetic_model(folder: Path, model_type: str, genders=("female", "male", "neutral")) -> Path:
    """Write ``<folder>/<MODEL>_<GENDER>.npz`` for each gender; returns ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = synthetic_model_data(model_type)
    for g in genders:
        np.savez(folder / f"{model_type.upper()}_{g.upper()}.npz", **data)
    return folder


#: Default-model marker name -> (joint, offset in SMPL axes for the left side; x mirrored for the right).
_LANDMARKS = {
    "ASI": ("hip", (-0.03, 0.08, 0.09)), "PSI": ("pelvis", (0.045, 0.05, -0.11)),
    "LFC": ("knee", (0.05, 0.0, 0.0)), "MFC": ("knee", (-0.05, 0.0, 0.0)),
    "LMAL": ("ankle", (0.035, 0.0, 0.0)), "MMAL": ("ankle", (-0.035, 0.0, 0.0)),
    "CAL": ("ankle", (0.0, -0.03, -0.05)), "TOE": ("foot", (0.0, 0.0, 0.08)), "MT5": ("foot", (0.04, 0.0, 0.0)),
    "ACR": ("shoulder", (0.0, 0.05, 0.0)), "LEL": ("elbow", (0.0, 0.035, 0.0)), "MEL": ("elbow", (0.0, -0.035, 0.0)),
    "FAradius": ("wrist", (0.0, 0.0, 0.02)), "FAulna": ("wrist", (0.0, 0.0, -0.02)),
}
_JOINT_MARKERS = {"HJC": "hip", "KJC": "knee", "AJC": "ankle", "SJC": "shoulder", "EJC": "elbow"}


def landmark_marker_set(path: Path, model_type: str) -> Path:
    """Write a virtual-marker YAML for the synthetic body with the default OpenSim model's marker names."""
    data = synthetic_model_data(model_type)
    names, _, J = _joint_table(model_type)
    V = data["v_template"]
    idx = {n: i for i, n in enumerate(names)}
    markers = []
    free = np.arange(4 * len(names), V.shape[0])

    def nearest(p):
        return int(free[np.argmin(np.linalg.norm(V[free] - p, axis=1))])

    for side, s in (("L", 1.0), ("R", -1.0)):
        full = "left" if side == "L" else "right"
        for key, (joint, off) in _LANDMARKS.items():
            j = idx["pelvis"] if joint == "pelvis" else idx[f"{full}_{joint}"]
            p = J[j] + np.array([s * off[0], off[1], off[2]])
            markers.append({"name": f"{side}{key}", "kind": "vertex", "vertex": nearest(p), "weight": 10.0,
                            "group": "bony"})
        for key, joint in _JOINT_MARKERS.items():
            markers.append({"name": f"{side}{key}", "kind": "joint", "joint": f"{full}_{joint}", "weight": 2.0,
                            "group": "joint"})
    for name, (joint, off) in {"C7": ("neck", (0.0, 0.0, -0.06)), "CLAV": ("neck", (0.0, -0.06, 0.07))}.items():
        markers.append({"name": name, "kind": "vertex", "vertex": nearest(J[idx[joint]] + np.array(off)),
                        "weight": 10.0, "group": "bony"})
    family = "smpl" if model_type in ("smpl", "smplh") else "smplx"
    path = Path(path)
    path.write_text(yaml.safe_dump({"name": path.stem, "body_model": family, "n_vertices": int(V.shape[0]),
                                    "markers": markers}, sort_keys=False))
    return path
