"""Dataset writer: shards (``.npz``) of labelled frames, a ``manifest.json``, and subject-wise splits.

Layout under the dataset root::

    manifest.json                 everything needed to read the shards (names, units, trials, splits)
    shards/<split>-<k>.npz        frames of whole trials of one split
    dataset_card.md, card/*.png   the dataset card (see :mod:`.card`)
    subjects/<subject>/...        label outputs per subject (.osim, *_ik.mot, *_marker_errors.sto, .trc)

Shard keys (``F`` frames, ``M`` markers, ``C`` coordinates, ``B`` bodies, ``N`` trials in the shard):

    markers       (F, M, 3) float32  metres, ground frame, y up (NaN where missing)
    marker_mask   (F, M)    bool     marker present
    marker_error  (F, M)    float32  metres, IK residual per marker (NaN where missing / not in model)
    q             (F, C)    float32  radians (rotational) / metres (translational), OpenSim IK labels
    q_mask        (F, C)    bool     label trusted (bony residuals within the threshold)
    q_source      (F, C)    float32  generating motion (NaN when the source has none)
    s             (F, B, 3) float32  per-body scale factors (constant within a subject)
    time          (F,)      float32  seconds from the trial start
    frame         (F,)      int32    frame index within the trial
    trial         (F,)      int32    index into ``trial_names`` of this shard
    trial_names, trial_subjects, trial_activities (N,) str
    marker_names (M,), coordinate_names (C,), body_names (B,) str

Trials are never cut across shards, so windows of consecutive frames stay within one trial.
Every file is written atomically; the manifest is written last.
"""
from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..atomic import atomic_write_bytes, atomic_write_text
from ..errors import ConfigError
from .records import LabelledTrial, SubjectRecord

log = logging.getLogger(__name__)

FORMAT = "biopose_opensim.dataset/1"
SPLITS = ("train", "val", "test")
#: Frames per shard before a new one is started (a trial is never split).
DEFAULT_SHARD_FRAMES = 20000


@dataclass(frozen=True)
class DatasetNames:
    """Column names shared by every shard: markers (M,), coordinates (C,), bodies (B,), bony markers."""

    marker_names: tuple[str, ...]
    coordinate_names: tuple[str, ...]
    body_names: tuple[str, ...]
    bony_markers: tuple[str, ...]


@dataclass(frozen=True)
class ShardInfo:
    path: str
    split: str
    n_frames: int
    n_trials: int


@dataclass(frozen=True)
class TrialEntry:
    """A trial as listed in the manifest."""

    subject: str
    name: str
    activity: str
    split: str
    n_frames: int
    rate: float
    shard: str
    offset: int
    ik_rms_median: float
    ik_rms_max: float
    masked_fraction: float
    files: Mapping[str, str] = field(default_factory=dict)


class ShardWriter:
    """Accumulates trials per split and writes a shard whenever ``shard_frames`` is reached."""

    def __init__(self, root: Path, names: DatasetNames, shard_frames: int = DEFAULT_SHARD_FRAMES):
        self.root = Path(root)
        self.names = names
        self.shard_frames = int(shard_frames)
        self._buffers: dict[str, list[LabelledTrial]] = {s: [] for s in SPLITS}
        self._count: dict[str, int] = {s: 0 for s in SPLITS}
        self.shards: list[ShardInfo] = []
        self.trials: list[TrialEntry] = []

    def add(self, trial: LabelledTrial, split: str) -> None:
        if split not in SPLITS:
            raise ConfigError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
        self._check(trial)
        self._buffers[split].append(trial)
        if sum(t.n_frames for t in self._buffers[split]) >= self.shard_frames:
            self._flush(split)

    def close(self) -> None:
        for split in SPLITS:
            if self._buffers[split]:
                self._flush(split)

    def _check(self, t: LabelledTrial) -> None:
        M, C, B = len(self.names.marker_names), len(self.names.coordinate_names), len(self.names.body_names)
        T = t.n_frames
        shapes = {"markers": (t.markers.shape, (T, M, 3)), "q": (t.q.shape, (T, C)),
                  "q_mask": (t.q_mask.shape, (T, C)), "s": (t.s.shape, (B, 3)),
                  "marker_error": (t.marker_error.shape, (T, M)), "times": (t.times.shape, (T,))}
        if t.q_source is not None:
            shapes["q_source"] = (t.q_source.shape, (T, C))
        for key, (got, want) in shapes.items():
            if tuple(got) != want:
                raise ValueError(f"trial {t.subject}/{t.name}: {key} has shape {tuple(got)}, expected {want}")

    def _flush(self, split: str) -> None:
        trials = self._buffers[split]
        self._buffers[split] = []
        k = self._count[split]
        self._count[split] += 1
        rel = f"shards/{split}-{k:05d}.npz"
        F = sum(t.n_frames for t in trials)
        C = len(self.names.coordinate_names)
        offsets = np.cumsum([0] + [t.n_frames for t in trials])
        arrays: dict[str, np.ndarray] = {
            "markers": np.concatenate([t.markers for t in trials]).astype(np.float32),
            "marker_error": np.concatenate([t.marker_error for t in trials]).astype(np.float32),
            "q": np.concatenate([t.q for t in trials]).astype(np.float32),
            "q_mask": np.concatenate([t.q_mask for t in trials]).astype(bool),
            "q_source": np.concatenate([t.q_source if t.q_source is not None else np.full((t.n_frames, C), np.nan)
                                        for t in trials]).astype(np.float32),
            "s": np.concatenate([np.broadcast_to(t.s, (t.n_frames,) + t.s.shape) for t in trials]).astype(np.float32),
            "time": np.concatenate([t.times - t.times[0] for t in trials]).astype(np.float32),
            "frame": np.concatenate([np.arange(t.n_frames) for t in trials]).astype(np.int32),
            "trial": np.repeat(np.arange(len(trials)), [t.n_frames for t in trials]).astype(np.int32),
            "trial_names": np.array([t.name for t in trials]),
            "trial_subjects": np.array([t.subject for t in trials]),
            "trial_activities": np.array([t.activity for t in trials]),
            "marker_names": np.array(self.names.marker_names),
            "coordinate_names": np.array(self.names.coordinate_names),
            "body_names": np.array(self.names.body_names),
        }
        arrays["marker_mask"] = np.isfinite(arrays["markers"]).all(axis=-1)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        atomic_write_bytes(self.root / rel, buf.getvalue())
        self.shards.append(ShardInfo(rel, split, int(F), len(trials)))
        for t, off in zip(trials, offsets[:-1]):
            rms = t.frame_rms()
            finite = rms[np.isfinite(rms)]
            self.trials.append(TrialEntry(
                subject=t.subject, name=t.name, activity=t.activity, split=split, n_frames=t.n_frames,
                rate=float(t.rate), shard=rel, offset=int(off),
                ik_rms_median=float(np.median(finite)) if finite.size else float("nan"),
                ik_rms_max=float(finite.max()) if finite.size else float("nan"),
                masked_fraction=float(1.0 - t.q_mask.mean()), files=dict(t.files)))
        log.info("wrote %s: %d trials, %d frames", rel, len(trials), F)


def write_manifest(root: Path, names: DatasetNames, subjects: Sequence[SubjectRecord],
                   writer: ShardWriter, meta: Mapping[str, Any]) -> Path:
    """Write ``manifest.json`` (atomically) describing the shards, trials, subjects and splits."""
    splits = {s: [r.name for r in subjects if r.split == s] for s in SPLITS}
    manifest = {
        "format": FORMAT,
        **dict(meta),
        "units": {"markers": "m", "q": "rad (rotational), m (translational)", "s": "ratio", "time": "s",
                  "marker_error": "m"},
        "frame": "OpenSim ground: x forward, y up, z right",
        "marker_names": list(names.marker_names),
        "coordinate_names": list(names.coordinate_names),
        "body_names": list(names.body_names),
        "bony_markers": list(names.bony_markers),
        "splits": splits,
        "subjects": [_jsonable(r.__dict__) for r in subjects],
        "trials": [_jsonable(t.__dict__) for t in writer.trials],
        "shards": [s.__dict__ for s in writer.shards],
        "totals": {"subjects": len(subjects), "trials": len(writer.trials),
                   "frames": int(sum(t.n_frames for t in writer.trials)),
                   "frames_per_split": {s: int(sum(t.n_frames for t in writer.trials if t.split == s))
                                        for s in SPLITS}},
    }
    path = Path(root) / "manifest.json"
    atomic_write_text(path, json.dumps(manifest, indent=1, allow_nan=True))
    return path


def _jsonable(d: Mapping[str, Any]) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, Path):
            v = str(v)
        elif isinstance(v, np.generic):
            v = v.item()
        elif isinstance(v, Mapping):
            v = _jsonable(v)
        out[k] = v
    return out


@dataclass(frozen=True, eq=False)
class Dataset:
    """A dataset on disk, read back through its manifest."""

    root: Path
    manifest: Mapping[str, Any]

    @classmethod
    def open(cls, root: str | Path) -> "Dataset":
        root = Path(root)
        path = root / "manifest.json"
        if not path.is_file():
            from ..errors import InputFileError

            raise InputFileError(path, "no dataset manifest here; build one with python -m biopose_opensim.synth")
        return cls(root, json.loads(path.read_text(encoding="utf-8")))

    def shards(self, split: str | None = None) -> list[Path]:
        return [self.root / s["path"] for s in self.manifest["shards"] if split is None or s["split"] == split]

    def load(self, split: str | None = None) -> dict[str, np.ndarray]:
        """Concatenate the frame arrays of every shard of ``split`` (trial indices made global to the split)."""
        parts: list[dict[str, np.ndarray]] = []
        n_trials = 0
        for p in self.shards(split):
            with np.load(p) as z:
                d = {k: z[k] for k in z.files}
            d["trial"] = d["trial"] + n_trials
            n_trials += len(d["trial_names"])
            parts.append(d)
        if not parts:
            return {}
        frame_keys = ("markers", "marker_mask", "marker_error", "q", "q_mask", "q_source", "s", "time", "frame",
                      "trial", "trial_names", "trial_subjects", "trial_activities")
        out = {k: np.concatenate([d[k] for d in parts]) for k in frame_keys}
        for k in ("marker_names", "coordinate_names", "body_names"):
            out[k] = parts[0][k]
        return out


def iter_trials(dataset: Dataset, split: str | None = None) -> Iterable[tuple[str, str, dict[str, np.ndarray]]]:
    """Yield ``(subject, trial, arrays)`` per trial, with each trial's frames only."""
    for p in dataset.shards(split):
        with np.load(p) as z:
            d = {k: z[k] for k in z.files}
        for i, (name, subj) in enumerate(zip(d["trial_names"], d["trial_subjects"])):
            sel = d["trial"] == i
            yield str(subj), str(name), {k: d[k][sel] for k in ("markers", "q", "q_mask", "q_source", "s", "time",
                                                                 "marker_error", "marker_mask")}
