"""Settings of a synthetic dataset build: one typed home for the defaults of ``python -m biopose_opensim.synth``.

A :class:`SynthConfig` is read from a TOML file (``--config FILE.toml``, :func:`load_synth_config`; relative paths
are taken from the file's folder), overridden by the flags given on the command line, and saved beside the
dataset as ``config.toml`` (paths made absolute, :meth:`~biopose_opensim.config.TomlConfig.resolved_toml`),
which ``--config`` reads back.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..activities import check_activity
from ..bodymodels.registry import body_model_spec
from ..config import TomlConfig, load_toml_config
from ..errors import ConfigError
from ..paths import default_model_path

#: Activities built when ``--activities`` is not given.
DEFAULT_ACTIVITIES = ("walk", "squat", "run")
#: The resolved configuration, saved in the dataset folder (TOML, read back by ``--config``).
CONFIG_TOML = "config.toml"


@dataclass(frozen=True)
class SynthConfig(TomlConfig):
    """Everything that determines a synthetic dataset (saved as ``synth_config.json`` and ``config.toml`` beside it).

    Attributes:
        out: dataset root folder.
        subjects: number of virtual subjects.
        seed: master seed (subjects, styles, noise and split all derive from it).
        activities: parametric activities per subject (names of ``biopose_opensim.activities.ACTIVITIES``).
        motions: real-kinematics templates (``.mot``), one trial each per subject, named after the file stem.
        body_model: a name of :data:`~biopose_opensim.bodymodels.registry.SYNTH_BODY_MODELS`: ``"anny"``
            (default, free) or ``"smpl"`` (needs ``smpl_model_dir``).
        smpl_model_dir: folder with the user's licensed SMPL model files.
        shapes: optional JSON/YAML file of subject shapes (replaces sampling).
        model: OpenSim model labels are expressed in.
        fps: frame rate of generated trials, Hz.
        duration: seconds per trial (None: each activity's default).
        noise_mm: standard deviation of Gaussian noise added to the motion trials' virtual markers, mm
            (the static trial stays clean).
        static_duration: seconds of the static trial.
        workers: local worker processes (None: CPU cores; 1: serial).
        scheduler: Dask scheduler address (``tcp://host:port``), used instead of local workers.
        overwrite: replace an existing dataset in ``out``.
        mask_threshold: bony-landmark residual above which coordinates are masked, metres.
        split: train/val/test fractions of subjects.
        shard_frames: frames per shard (trials are never cut).
        accuracy: IK accuracy passed to ``label`` (None: label's default).
        marker_set: virtual-marker set name or YAML (None: the body model's default set).
        plots: let ``label`` draw joint-angle PNGs into each subject's report (slow: about a quarter of a
            build's time).
    """

    out: Path
    subjects: int = 4
    seed: int = 0
    activities: tuple[str, ...] = DEFAULT_ACTIVITIES
    motions: tuple[Path, ...] = ()
    body_model: str = "anny"
    smpl_model_dir: Path | None = None
    shapes: Path | None = None
    model: Path = field(default_factory=default_model_path)
    fps: float = 60.0
    duration: float | None = None
    noise_mm: float = 0.0
    static_duration: float = 1.0
    workers: int | None = None
    scheduler: str | None = None
    overwrite: bool = False
    mask_threshold: float = 0.02
    split: tuple[float, float, float] = (0.7, 0.15, 0.15)
    shard_frames: int = 20000
    accuracy: float | None = None
    marker_set: str | None = None
    plots: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        object.__setattr__(self, "model", Path(self.model))
        object.__setattr__(self, "motions", tuple(Path(m) for m in self.motions))
        object.__setattr__(self, "activities", tuple(self.activities))
        if self.smpl_model_dir is not None:
            object.__setattr__(self, "smpl_model_dir", Path(self.smpl_model_dir))
        if self.shapes is not None:
            object.__setattr__(self, "shapes", Path(self.shapes))
        for a in self.activities:
            check_activity(a)
        if len(set(self.activities)) != len(self.activities):
            raise ConfigError(f"--activities lists an activity twice: {', '.join(self.activities)}")
        if not self.activities and not self.motions:
            raise ConfigError("nothing to generate: give --activities and/or --motion files")
        if body_model_spec(self.body_model, synth=True).needs_model_files and self.smpl_model_dir is None:
            raise ConfigError(f"--body-model {self.body_model} needs --smpl-model-dir, the folder holding your SMPL "
                              "model files (they are licensed and never downloaded)")
        if int(self.subjects) < 1:
            raise ConfigError(f"--subjects must be at least 1, got {self.subjects}")
        for name in ("fps", "static_duration", "mask_threshold"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ConfigError(f"{name.replace('_', '-')} must be a positive number, got {v!r}")
        if self.duration is not None and not (math.isfinite(self.duration) and self.duration > 0):
            raise ConfigError(f"--duration must be a positive number of seconds, got {self.duration!r}")
        if not (math.isfinite(self.noise_mm) and self.noise_mm >= 0):
            raise ConfigError(f"--noise-mm must be >= 0, got {self.noise_mm!r}")
        if self.workers is not None and self.workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {self.workers}")
        if self.shard_frames < 1:
            raise ConfigError(f"shard_frames must be at least 1, got {self.shard_frames}")

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Path):
                v = str(v)
            elif isinstance(v, tuple):
                v = [str(x) if isinstance(x, Path) else x for x in v]
            out[f.name] = v
        return out

    TOML_HEADER = (
        "Synthetic dataset build: python -m biopose_opensim.synth --config THIS_FILE (flags override it).",
        "Keys are the long options without '--' and with '_' for '-' (docs/datasets.md, Options; --motion is",
        "motions, a list); also static_duration (s), mask_threshold (m), split (train/val/test fractions) and",
        "shard_frames (frames per shard).",
        "Relative paths are taken from this file's folder. A key left out keeps its default.",
    )
    TOML_PATHS = ("out", "smpl_model_dir", "shapes", "model")
    TOML_PATH_LISTS = ("motions",)
    TOML_YAML_PATHS = ("marker_set",)

    def identity(self) -> dict[str, Any]:
        """The settings that determine the dataset's content (not where or how fast it is built)."""
        d = self.to_dict()
        for k in ("out", "workers", "scheduler", "overwrite"):
            d.pop(k)
        return d


def load_synth_config(path: str | Path | None, flags: Mapping[str, Any]) -> SynthConfig:
    """The build's configuration: the TOML file ``path`` (if any), then the ``flags`` given (``None``: not given).

    Relative paths in the file (``out``, ``model``, ``shapes``, ``smpl_model_dir``, ``motions``, a ``marker_set``
    YAML) are taken from the file's folder; flags keep the working directory's.

    Raises:
        InputFileError: a missing or malformed TOML file.
        ConfigError: an unknown key or a value of the wrong type (naming the file and key), no ``out`` in either,
            or a bad value (as for flags).
    """
    return load_toml_config(SynthConfig, path, flags,
                            required={"out": 'no dataset folder: give --out DIR or out = "DIR" in the file'})
