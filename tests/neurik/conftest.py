"""Fixtures for the NeurIK tests: a small dataset in the project's format whose markers and labels come from the
real FK layer of the default model with the Anny D3KE marker set (exact labels, no OpenSim IK needed)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from biopose_opensim.neurik.config import CONFIGS
from biopose_opensim.datasets import DatasetNames, LabelledTrial, ShardWriter, SubjectRecord, write_manifest


def smooth_motion(fk, n_frames: int, rng: np.random.Generator, rate: float = 30.0) -> np.ndarray:
    """(n_frames, C) float64: each unlocked coordinate a sum of two sinusoids inside the middle of its range,
    the pelvis walking forward along +x at 1.2 m/s at a standing height."""
    lo, hi = fk.coordinate_ranges.double().numpy().T
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    t = np.arange(n_frames) / rate
    C = lo.size
    amp = 0.25 * half * rng.uniform(0.3, 1.0, C)
    f1, f2 = rng.uniform(0.3, 1.2, C), rng.uniform(0.8, 2.0, C)
    p1, p2 = rng.uniform(0, 2 * np.pi, (2, C))
    q = mid + amp * (np.sin(2 * np.pi * f1 * t[:, None] + p1) + 0.5 * np.sin(2 * np.pi * f2 * t[:, None] + p2)) / 1.5
    names = fk.coordinate_names
    q[:, names.index("pelvis_tx")] = -1.5 + 1.2 * t
    q[:, names.index("pelvis_ty")] = 0.95 + 0.02 * np.sin(2 * np.pi * 1.8 * t)
    q[:, names.index("pelvis_tz")] = 0.1 * np.sin(2 * np.pi * 0.5 * t)
    for n in ("pelvis_tilt", "pelvis_list", "pelvis_rotation"):
        q[:, names.index(n)] *= 0.3
    locked = fk.locked.numpy()
    q[:, locked] = fk.default_values.double().numpy()[locked]
    return q


def write_fk_dataset(root: Path, n_subjects: int = 4, n_trials: int = 2, n_frames: int = 48, seed: int = 0) -> Path:
    """A dataset (shards + manifest) of FK-generated trials: subjects 0..n-3 train, n-2 val, n-1 test."""
    from biopose_opensim.neurik.system import NeurIKSystem

    cfg = CONFIGS["tiny"]
    system = NeurIKSystem.build(cfg, torch.ones(22, 3), torch.ones(22, 3) * 0.2)
    fk = system.fk.double()
    rng = np.random.default_rng(seed)
    names = DatasetNames(marker_names=system.marker_names, coordinate_names=fk.coordinate_names,
                         body_names=fk.body_names, bony_markers=("LASI", "RASI", "LPSI", "RPSI", "RKNE", "LKNE"))
    writer = ShardWriter(root, names, shard_frames=10_000)
    subjects = []
    for i in range(n_subjects):
        split = "train" if i < n_subjects - 2 else ("val" if i == n_subjects - 2 else "test")
        s = np.clip(rng.normal(1.0, 0.06, (fk.n_bodies, 3)), 0.85, 1.15)
        subjects.append(SubjectRecord(name=f"s{i}", split=split, sex=None, age=None, height=None, mass=None,
                                      body_model="none", shape={}, scaled_model="", source="fk"))
        for k in range(n_trials):
            q = smooth_motion(fk, n_frames, rng)
            with torch.no_grad():
                mk = fk(torch.from_numpy(q), torch.from_numpy(s)[None]).markers[:, system.marker_index].numpy()
            writer.add(LabelledTrial(subject=f"s{i}", name=f"t{k}", activity="wave" if k % 2 else "walk",
                                     times=np.arange(n_frames) / 30.0, markers=mk, q=q,
                                     q_mask=np.ones_like(q, dtype=bool), s=s, marker_error=np.zeros(mk.shape[:2]),
                                     q_source=q, rate=30.0), split)
    writer.close()
    write_manifest(root, names, subjects, writer, {"command": "tests", "model": str(cfg.model_path())})
    return root


@pytest.fixture(scope="session")
def fk_dataset(tmp_path_factory) -> Path:
    return write_fk_dataset(tmp_path_factory.mktemp("fk_dataset"))
