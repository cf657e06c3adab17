"""NeurIK configurations: frozen dataclasses, a named registry (``paper``, ``cpu``, ``tiny``) and TOML files.

A configuration says everything a training run needs besides the data: the network's sizes, the loss weights,
the augmentation and the optimisation schedule, and which OpenSim model and marker set the network belongs to.
``NeurIKConfig.to_toml()`` writes a commented TOML file that :func:`load_config` reads back (unknown keys and
values of the wrong type are refused, naming the key).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import TomlConfig, read_toml
from ..errors import ConfigError
from ..paths import DEFAULT_MODEL_NAME, MARKER_SETS_DIR, OSIM_MODELS_DIR

OUTPUT_MODES = ("last", "center", "all")
MODEL_KINDS = ("neurik", "mlp")


@dataclass(frozen=True)
class ModelConfig:
    """Network sizes.

    Attributes:
        window: frames per window ``T`` (the temporal receptive field).
        embed_dim: per-marker embedding width ``E`` (marker xyz + presence -> E).
        conv_layers, conv_kernel: 1D convolutions across the marker axis (the spatial encoder).
        d_model, heads, layers, ffn: the temporal transformer encoder.
        dropout: dropout inside the transformer.
        output: ``"last"`` (one output per window, its last frame; the paper's default), ``"center"`` (its
            middle frame) or ``"all"`` (every frame of the window).
        kind: ``"neurik"`` (the network above) or ``"mlp"`` (the per-frame baseline: the window's canonical
            markers flattened into an MLP with ``layers`` hidden layers of ``ffn`` units).
    """

    window: int = 64
    embed_dim: int = 32
    conv_layers: int = 2
    conv_kernel: int = 3
    d_model: int = 256
    heads: int = 8
    layers: int = 3
    ffn: int = 512
    dropout: float = 0.1
    output: str = "last"
    kind: str = "neurik"

    @property
    def output_offset(self) -> int | None:
        """Index of the output frame within the window (``None``: every frame)."""
        return {"last": self.window - 1, "center": self.window // 2, "all": None}[self.output]

    def __post_init__(self):
        if self.kind not in MODEL_KINDS:
            raise ConfigError(f"model.kind must be one of {', '.join(MODEL_KINDS)}, got {self.kind!r}")
        if self.output not in OUTPUT_MODES:
            raise ConfigError(f"model.output must be one of {', '.join(OUTPUT_MODES)}, got {self.output!r}")
        for name in ("window", "embed_dim", "d_model", "heads", "layers", "ffn", "conv_kernel"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"model.{name} must be >= 1, got {getattr(self, name)!r}")
        if self.d_model % self.heads:
            raise ConfigError(f"model.d_model ({self.d_model}) must be a multiple of model.heads ({self.heads})")
        if self.conv_kernel % 2 == 0:
            raise ConfigError(f"model.conv_kernel must be odd, got {self.conv_kernel}")


@dataclass(frozen=True)
class LossConfig:
    """Loss weights ``L = joints*Lj + markers*Lm + scales*Ls + coords*Lq`` (the paper's 1.0, 2.0, 0.1, 0.06)."""

    joints: float = 1.0
    markers: float = 2.0
    scales: float = 0.1
    coords: float = 0.06


@dataclass(frozen=True)
class AugmentConfig:
    """Training augmentation, each part switchable (0 / false turns it off).

    Attributes:
        rotation: rotate each window about the vertical axis by an angle drawn from the full circle.
        translation_m: shift each window horizontally by up to this many metres (uniform, x and z).
        scaling: scale the subject about its root by a factor in ``[1 - scaling, 1 + scaling]`` (markers, bone
            scales and root translation together).
        noise_mm: Gaussian marker noise, sigma drawn per window uniformly in ``[0, noise_mm]`` millimetres.
        dropout: probability that a window has occluded markers; such a window drops each marker with
            probability ``dropout_fraction`` for a random run of frames.
        dropout_fraction: fraction of markers dropped in an occluded window.
    """

    rotation: bool = True
    translation_m: float = 1.0
    scaling: float = 0.05
    noise_mm: float = 12.0
    dropout: float = 0.5
    dropout_fraction: float = 0.15


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation: Adam with weight decay, exponential learning-rate decay from ``lr`` to ``lr_final``.

    Attributes:
        epochs: passes over the training windows.
        batch_size: windows per optimiser step (global: split over DDP processes).
        lr, lr_final: learning rate at the start and at the end of training.
        weight_decay: Adam weight decay (coupled, as torch.optim.Adam).
        window_stride: frames between the ends of consecutive training windows within a trial.
        windows_per_epoch: cap on windows per epoch (0: all), drawn at random each epoch.
        grad_clip: gradient-norm clipping (0: off).
        val_windows: validation windows evaluated after each epoch (0: all).
    """

    epochs: int = 25
    batch_size: int = 128
    lr: float = 1e-3
    lr_final: float = 5e-6
    weight_decay: float = 1e-3
    window_stride: int = 1
    windows_per_epoch: int = 0
    grad_clip: float = 1.0
    val_windows: int = 4096


@dataclass(frozen=True)
class NeurIKConfig(TomlConfig):
    """A complete NeurIK configuration.

    Attributes:
        name: registry name or file stem.
        osim_model: the OpenSim model the network predicts coordinates and scales of (a bare file name is
            looked up in ``osim_models/``).
        marker_set: the OpenSim MarkerSet XML of the virtual markers (a bare file name is looked up in
            ``marker_sets/``; ``None``: the model's own markers).
        root_markers: markers whose centroid is the root of the input normalisation (pelvis landmarks).
        front_markers, back_markers: markers whose centroids give the heading (back -> front, horizontal).
        model, loss, augment, train: see their classes.
    """

    TOML_HEADER = ("NeurIK configuration (biopose_opensim). Units: metres, radians, millimetres where named _mm.",
                   "Train with: python -m biopose_opensim.train neurik --config THIS.toml --data DIR --out DIR")

    name: str = "custom"
    osim_model: str = DEFAULT_MODEL_NAME
    marker_set: str | None = "anny_d3ke_rajagopal2023_markers.xml"
    root_markers: tuple[str, ...] = ("LASI", "RASI", "LPSI", "RPSI")
    front_markers: tuple[str, ...] = ("LASI", "RASI")
    back_markers: tuple[str, ...] = ("LPSI", "RPSI")
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def model_path(self) -> Path:
        """The OpenSim model file."""
        return _asset(self.osim_model, OSIM_MODELS_DIR)

    def marker_set_path(self) -> Path | None:
        """The OpenSim MarkerSet XML, or ``None`` for the model's own markers."""
        return None if not self.marker_set else _asset(self.marker_set, MARKER_SETS_DIR)


def _asset(name: str, folder: Path) -> Path:
    p = Path(name).expanduser()
    if p.is_absolute() or p.exists() or len(p.parts) > 1:
        return p
    return folder / p


#: The named configurations. ``paper``: the paper's sizes, loss weights and schedule (a GPU recipe). ``cpu``:
#: trains on a 2-core CPU in well under an hour (every frame of a 32-frame window supervised, smaller network,
#: batches of 8 windows, the coordinate loss weighted 1.0 and the FK losses 0.25 / 0.5, lighter noise and occlusion,
#: no weight decay; chosen on validation, see docs/neurik.md). ``mlp``: the per-frame baseline (±4 frames of
#: context, no FK loss, no augmentation). ``tiny``: tests.
CONFIGS: dict[str, NeurIKConfig] = {
    "paper": NeurIKConfig(name="paper"),
    "cpu": NeurIKConfig(
        name="cpu",
        model=ModelConfig(window=32, embed_dim=16, d_model=128, heads=4, layers=2, ffn=256, dropout=0.05,
                          output="all"),
        loss=LossConfig(joints=0.25, markers=0.5, scales=0.1, coords=1.0),
        augment=AugmentConfig(noise_mm=4.0, dropout=0.2),
        train=TrainConfig(epochs=60, batch_size=8, lr=1e-3, lr_final=2e-5, weight_decay=0.0, window_stride=8,
                          val_windows=1024)),
    "mlp": NeurIKConfig(
        name="mlp",
        model=ModelConfig(kind="mlp", window=9, layers=3, ffn=512, d_model=512, heads=1, dropout=0.0,
                          output="center"),
        loss=LossConfig(joints=0.0, markers=0.0, scales=0.1, coords=1.0),
        augment=AugmentConfig(rotation=False, translation_m=0.0, scaling=0.0, noise_mm=0.0, dropout=0.0),
        train=TrainConfig(epochs=60, batch_size=64, lr=1e-3, lr_final=2e-5, weight_decay=0.0, window_stride=4,
                          val_windows=1024)),
    "tiny": NeurIKConfig(
        name="tiny",
        model=ModelConfig(window=8, embed_dim=4, conv_layers=1, d_model=32, heads=2, layers=1, ffn=64, dropout=0.0,
                          output="all"),
        augment=AugmentConfig(rotation=False, translation_m=0.0, scaling=0.0, noise_mm=0.0, dropout=0.0),
        train=TrainConfig(epochs=2, batch_size=8, lr=3e-3, lr_final=1e-3, window_stride=4, val_windows=64)),
}


def load_config(name_or_path: str | Path) -> NeurIKConfig:
    """A registry name (``paper``, ``cpu``, ``tiny``) or a TOML file written by :meth:`NeurIKConfig.to_toml`."""
    key = str(name_or_path)
    if key in CONFIGS:
        return CONFIGS[key]
    path = Path(key)
    if path.suffix.lower() != ".toml":
        raise ConfigError(f"unknown NeurIK config {key!r}: use one of {', '.join(CONFIGS)} or a .toml file")
    raw = read_toml(path)
    raw.setdefault("name", path.stem)
    return NeurIKConfig.from_dict(raw, source=str(path))
