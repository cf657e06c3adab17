"""Training and evaluation data for NeurIK: a dataset split in memory as tensors, cut into windows.

Markers are put into the network's marker order and labels into the FK layer's coordinate and body order; a
dataset whose markers, coordinates or bodies do not cover the network's is refused before anything runs,
naming what is missing. Windows end at a frame of a trial and reach ``T - 1`` frames back; frames before the
trial's start repeat its first frame (the same padding ``predict`` uses for short trials).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..atomic import atomic_path
from ..errors import BioposeError, InputFileError
from ..datasets import Dataset
from .augment import Window

log = logging.getLogger(__name__)

#: Unit of packed marker coordinates (:meth:`SplitData.save_packed`), metres.
PACK_UNIT_M = 5e-5


class DatasetMismatchError(BioposeError):
    """A dataset does not fit the network (markers, coordinates, bodies or an empty split)."""


@dataclass
class SplitData:
    """One split of one or more datasets, as tensors (CPU).

    Attributes:
        markers: (F, M, 3) float32 m, ground frame, NaN where missing; present: (F, M) bool.
        q: (F, C) float32 labels (independent coordinates, layer order); q_mask: (F, C) bool.
        s: (F, NB, 3) float32 scale factors.
        trial_start, trial_end: (F,) long index of the first / last frame of each frame's trial.
        trial: (F,) long global trial index; trial_names, trial_subjects, trial_activities: per trial.
    """

    markers: torch.Tensor
    present: torch.Tensor
    q: torch.Tensor
    q_mask: torch.Tensor
    s: torch.Tensor
    trial_start: torch.Tensor
    trial_end: torch.Tensor
    trial: torch.Tensor
    trial_names: tuple[str, ...]
    trial_subjects: tuple[str, ...]
    trial_activities: tuple[str, ...]

    @property
    def n_frames(self) -> int:
        return int(self.q.shape[0])

    def save_packed(self, path: str | Path) -> None:
        """Write the split compactly (``.npz``): markers as int16 multiples of 0.05 mm relative to each frame's
        mean present marker (within 1.6 m of it; quantisation error <= 0.025 mm), the rest as is. For moving a
        split to another machine; :meth:`load_packed` reads it back."""
        mk = torch.where(self.present[..., None], self.markers, torch.zeros_like(self.markers)).double()
        n = self.present.sum(-1, keepdim=True).clamp_min(1)
        centre = mk.sum(1) / n
        rel = torch.round((mk - centre[:, None]) / PACK_UNIT_M)
        if rel.abs().max() > 32767:
            raise ValueError("markers farther than 1.6 m from their frame's centroid cannot be packed")
        arrays = {"centre": centre.numpy(), "rel": rel.short().numpy(), "present": self.present.numpy(),
                  "q": self.q.numpy(), "q_mask": self.q_mask.numpy(), "s": self.s.numpy(),
                  "trial": self.trial.numpy(), "trial_names": np.array(self.trial_names),
                  "trial_subjects": np.array(self.trial_subjects), "trial_activities": np.array(self.trial_activities)}
        with atomic_path(path, suffix=".npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, **arrays)

    @classmethod
    def load_packed(cls, path: str | Path) -> "SplitData":
        """Read a split written by :meth:`save_packed`."""
        with np.load(path) as z:
            d = {k: z[k] for k in z.files}
        markers = torch.from_numpy(d["centre"])[:, None] + torch.from_numpy(d["rel"]).double() * PACK_UNIT_M
        present = torch.from_numpy(d["present"])
        markers = torch.where(present[..., None], markers, torch.full_like(markers, float("nan")))
        return _assemble(markers.float(), present, torch.from_numpy(d["q"]), torch.from_numpy(d["q_mask"]),
                         torch.from_numpy(d["s"]), torch.from_numpy(d["trial"]).long(),
                         [str(x) for x in d["trial_names"]], [str(x) for x in d["trial_subjects"]],
                         [str(x) for x in d["trial_activities"]])

    def anchors(self, stride: int = 1) -> torch.Tensor:
        """(W,) long: every ``stride``-th frame of each trial, and each trial's last frame."""
        pos = torch.arange(self.n_frames) - self.trial_start
        return torch.nonzero((pos % max(1, stride) == 0) | (torch.arange(self.n_frames) == self.trial_end)).flatten()

    def window(self, frames: torch.Tensor, T: int, offset: int, device=None) -> Window:
        """Windows of ``T`` frames in which frame ``frames`` (B,) sits at position ``offset``; frames beyond the
        trial repeat its first / last frame. (B, T, ...) tensors on ``device``."""
        idx = frames[:, None] + torch.arange(T)[None] - offset
        idx = torch.minimum(torch.maximum(idx, self.trial_start[frames][:, None]), self.trial_end[frames][:, None])
        pick = lambda t: t[idx].to(device)  # noqa: E731
        return Window(markers=pick(self.markers), present=pick(self.present), q=pick(self.q),
                      q_mask=pick(self.q_mask), s=pick(self.s))


def manifest_hash(root: str | Path) -> str:
    """sha256 of a dataset's ``manifest.json`` (identifies the data a network was trained on)."""
    return hashlib.sha256((Path(root) / "manifest.json").read_bytes()).hexdigest()


def open_dataset(root: str | Path) -> Dataset:
    """Open a dataset folder; a folder without a manifest is an :class:`InputFileError` naming it."""
    root = Path(root)
    if not root.is_dir():
        raise InputFileError(root, "dataset folder does not exist")
    return Dataset.open(root)


def load_split(roots: Sequence[str | Path], split: str, marker_names: Sequence[str],
               coordinate_names: Sequence[str], body_names: Sequence[str]) -> SplitData:
    """Load ``split`` (``train``, ``val``, ``test`` or ``all``) of every dataset in ``roots``.

    Raises:
        DatasetMismatchError: a dataset lacks markers, coordinates or bodies of the network, or the split holds
            no frame in any of them.
    """
    parts = []
    for root in roots:
        ds = open_dataset(root)
        names = ds.manifest
        _require(root, "markers", names["marker_names"], marker_names)
        _require(root, "coordinates", names["coordinate_names"], coordinate_names)
        _require(root, "bodies", names["body_names"], body_names)
        arrays = ds.load(None if split == "all" else split)
        if not arrays:
            continue
        mi = [list(arrays["marker_names"]).index(n) for n in marker_names]
        ci = [list(arrays["coordinate_names"]).index(n) for n in coordinate_names]
        bi = [list(arrays["body_names"]).index(n) for n in body_names]
        parts.append({
            "markers": arrays["markers"][:, mi], "present": arrays["marker_mask"][:, mi],
            "q": arrays["q"][:, ci], "q_mask": arrays["q_mask"][:, ci], "s": arrays["s"][:, bi],
            "trial": arrays["trial"], "trial_names": arrays["trial_names"],
            "trial_subjects": arrays["trial_subjects"], "trial_activities": arrays["trial_activities"]})
    if not parts:
        raise DatasetMismatchError(f"split {split!r} holds no frames in {', '.join(str(r) for r in roots)}")
    offset, trials, names, subjects, activities = 0, [], [], [], []
    for p in parts:
        trials.append(p["trial"].astype(np.int64) + offset)
        offset += len(p["trial_names"])
        names += [str(x) for x in p["trial_names"]]
        subjects += [str(x) for x in p["trial_subjects"]]
        activities += [str(x) for x in p["trial_activities"]]
    cat = lambda k: torch.from_numpy(np.ascontiguousarray(np.concatenate([p[k] for p in parts])))  # noqa: E731
    data = _assemble(cat("markers").float(), cat("present").bool(), cat("q").float(), cat("q_mask").bool(),
                     cat("s").float(), torch.from_numpy(np.concatenate(trials)), names, subjects, activities)
    bad = ~torch.isfinite(data.q)
    data.q_mask &= ~bad
    data.q[bad] = 0.0
    data.present &= torch.isfinite(data.markers).all(-1)
    log.info("%s: %d frames, %d trials, %d subjects", split, data.n_frames, len(names), len(set(subjects)))
    return data


def _assemble(markers, present, q, q_mask, s, trial, names, subjects, activities) -> SplitData:
    change = torch.ones_like(trial, dtype=torch.bool)
    change[1:] = trial[1:] != trial[:-1]
    starts = torch.nonzero(change).flatten()
    seg = torch.cumsum(change.long(), 0) - 1
    ends = torch.cat([starts[1:] - 1, torch.tensor([trial.numel() - 1])])
    return SplitData(markers=markers, present=present, q=q, q_mask=q_mask, s=s, trial_start=starts[seg],
                     trial_end=ends[seg], trial=trial, trial_names=tuple(names), trial_subjects=tuple(subjects),
                     trial_activities=tuple(activities))


def _require(root, what: str, have: Sequence[str], need: Sequence[str]) -> None:
    missing = [n for n in need if n not in set(have)]
    if missing:
        more = f" (and {len(missing) - 8} more)" if len(missing) > 8 else ""
        raise DatasetMismatchError(f"{root}: the dataset lacks {len(missing)} {what} the network needs: "
                                   f"{', '.join(missing[:8])}{more}")
