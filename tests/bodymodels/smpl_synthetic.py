"""Write small random-but-valid SMPL / SMPL-H model files in the layout smplx reads (for tests only).

The body is a stick figure: joints on a humanoid skeleton (metres, SMPL axes: y up, z forward), each vertex
scattered around one joint and skinned mostly to it (weights sum to 1), the joint regressor averaging each
joint's own vertices (rows sum to 1), random triangles, zero pose correctives, random shape directions.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

#: SMPL kinematic tree (parent of each of the 24 joints).
SMPL_PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]
_BODY_JOINTS = np.array([
    [0.0, 0.93, 0.0], [0.09, 0.85, 0.0], [-0.09, 0.85, 0.0], [0.0, 1.03, -0.02], [0.10, 0.47, 0.0],
    [-0.10, 0.47, 0.0], [0.0, 1.16, -0.02], [0.10, 0.08, -0.03], [-0.10, 0.08, -0.03], [0.0, 1.22, -0.01],
    [0.11, 0.02, 0.10], [-0.11, 0.02, 0.10], [0.0, 1.45, -0.02], [0.08, 1.38, -0.01], [-0.08, 1.38, -0.01],
    [0.0, 1.53, 0.01], [0.18, 1.40, -0.02], [-0.18, 1.40, -0.02], [0.44, 1.40, -0.03], [-0.44, 1.40, -0.03],
    [0.68, 1.40, -0.02], [-0.68, 1.40, -0.02],
])


def _skeleton(model_type: str) -> tuple[np.ndarray, list[int]]:
    if model_type == "smpl":
        hands = np.array([[0.76, 1.40, -0.02], [-0.76, 1.40, -0.02]])
        return np.vstack([_BODY_JOINTS, hands]), list(SMPL_PARENTS)
    joints, parents = [*_BODY_JOINTS], list(SMPL_PARENTS[:22])
    for wrist, sign in ((20, 1.0), (21, -1.0)):
        # index, middle, pinky, ring, thumb; three joints each, pointing along the arm (x)
        for k, offset in enumerate((0.02, 0.0, -0.04, -0.02, 0.04)):
            parent = wrist
            for j in range(3):
                joints.append([sign * (0.73 + 0.025 * j), 1.40, -0.02 + offset])
                parents.append(parent)
                parent = len(joints) - 1
    return np.array(joints), parents


def write_smpl_model(path: str | Path, n_vertices: int = 300, model_type: str = "smpl", seed: int = 0,
                     num_betas: int = 10) -> Path:
    """Write a synthetic ``model_type`` (``smpl`` or ``smplh``) model file (``.pkl`` or ``.npz`` by suffix)."""
    rng = np.random.default_rng(seed)
    J, parents = _skeleton(model_type)
    nj = len(J)
    owner = np.arange(n_vertices) % nj
    v = J[owner] + rng.normal(scale=0.02, size=(n_vertices, 3))
    weights = np.full((n_vertices, nj), 0.0)
    weights[np.arange(n_vertices), owner] = 0.9
    par = np.array([max(parents[o], 0) for o in owner])
    weights[np.arange(n_vertices), par] += 0.1
    regressor = np.zeros((nj, n_vertices))
    regressor[owner, np.arange(n_vertices)] = 1.0
    regressor /= regressor.sum(1, keepdims=True)
    faces = rng.integers(0, n_vertices, size=(2 * n_vertices, 3)).astype(np.int64)
    data = {
        "v_template": v,
        "shapedirs": rng.normal(scale=0.005, size=(n_vertices, 3, num_betas)),
        "posedirs": np.zeros((n_vertices, 3, 9 * (nj - 1))),
        "J_regressor": regressor,
        "weights": weights,
        "kintree_table": np.array([[p if p >= 0 else 4294967295 for p in parents], list(range(nj))],
                                  dtype=np.int64),
        "f": faces,
    }
    if model_type == "smplh":
        for side in ("l", "r"):
            data[f"hands_components{side}"] = np.eye(45)
            data[f"hands_mean{side}"] = np.zeros(45)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".npz":
        np.savez(path, **data)
    else:
        with open(path, "wb") as fh:
            pickle.dump(data, fh)
    return path
