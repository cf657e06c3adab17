"""Settings of a render run (``python -m biopose_opensim.render``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from .appearance import AppearanceRanges
from .camera import CameraRanges
from .source import SPLITS


@dataclass(frozen=True)
class RenderConfig:
    """What to render and where.

    Attributes:
        data: the source synthetic dataset folder.
        out: the image dataset folder to write.
        seed: master seed; every image's camera, appearance, light and background derive from
            ``(seed, subject index, trial index, frame)``, whatever the number of workers.
        frames_per_trial: evenly spaced frames rendered per trial.
        splits: the source splits whose subjects are rendered.
        crop_size: stored image side, px.
        crop_enlarge: crop side over the longer side of the projected mesh's bounding box.
        shard_images: images per shard at most.
        camera, appearance: sampling ranges.
        workers, scheduler: process pool size (default: CPU cores) or a Dask scheduler address.
        overwrite: replace an existing ``out``.
    """

    data: Path
    out: Path
    seed: int = 0
    frames_per_trial: int = 8
    splits: tuple[str, ...] = SPLITS
    crop_size: int = 256
    crop_enlarge: float = 1.2
    shard_images: int = 5000
    camera: CameraRanges = field(default_factory=CameraRanges)
    appearance: AppearanceRanges = field(default_factory=AppearanceRanges)
    workers: int | None = None
    scheduler: str | None = None
    overwrite: bool = False

    def __post_init__(self) -> None:
        if self.frames_per_trial < 1:
            raise ConfigError(f"--frames-per-trial must be at least 1, got {self.frames_per_trial}")
        bad = [s for s in self.splits if s not in SPLITS]
        if bad or not self.splits:
            raise ConfigError(f"--split {','.join(self.splits)}: expected a comma-separated subset of "
                              f"{','.join(SPLITS)}")
        if not 32 <= self.crop_size <= 2048:
            raise ConfigError(f"--crop-size must lie in [32, 2048] px, got {self.crop_size}")
        if not 1.0 <= self.crop_enlarge <= 3.0:
            raise ConfigError(f"--crop-enlarge must lie in [1, 3], got {self.crop_enlarge}")
        if self.shard_images < 1:
            raise ConfigError(f"--shard-images must be at least 1, got {self.shard_images}")
        if self.workers is not None and self.workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {self.workers}")
