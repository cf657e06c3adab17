"""MQ-HMR configurations: frozen dataclasses, a named registry (``paper``, ``small``, ``tiny``) and TOML files.

``paper`` is the published architecture: a ViT-H/16 backbone (1280 wide, 32 blocks, 16 heads) on 256x192 crops,
a feature pyramid at strides 4, 8 and 16, 96 query tokens, 4 multi-scale deformable cross-attention layers, the
paper's loss weights (pose 1e-3, shape 5e-4, 3D 5e-2, 2D 1e-2) and Adam at 1e-5, batch 48 (a GPU recipe). The
decoder's width, heads and sampling points are not given by the paper; ours follow Deformable-DETR (8 heads,
4 points per level) at the backbone's scale. ``small`` trains on a 2-core CPU on the project's synthetic renders;
``tiny`` is for tests. :meth:`MQHMRConfig.to_toml` writes a commented TOML that :func:`load_config` reads back.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import TomlConfig, read_toml
from ..errors import ConfigError

BODY_MODELS = ("anny", "smpl")


@dataclass(frozen=True)
class BackboneConfig:
    """The ViT encoder (timm ``VisionTransformer``, no class token).

    Attributes:
        img_size: ``(H, W)`` pixels the ViT sees: the middle ``W`` columns of the square crop (HMR 2.0's 256x192).
        patch: patch size (stride of the feature map).
        embed_dim, depth, heads, mlp_ratio: the ViT's width, blocks, attention heads and MLP expansion.
        drop_path: stochastic-depth rate during training.
    """

    img_size: tuple[int, ...] = (256, 192)
    patch: int = 16
    embed_dim: int = 1280
    depth: int = 32
    heads: int = 16
    mlp_ratio: float = 4.0
    drop_path: float = 0.0

    def __post_init__(self):
        if len(self.img_size) != 2 or any(s % self.patch for s in self.img_size):
            raise ConfigError(f"backbone.img_size must be two multiples of backbone.patch ({self.patch}), "
                              f"got {self.img_size}")
        if self.embed_dim % self.heads:
            raise ConfigError(f"backbone.embed_dim ({self.embed_dim}) must be a multiple of backbone.heads")


@dataclass(frozen=True)
class DecoderConfig:
    """The multi-query deformable decoder.

    Attributes:
        d_model: width of the pyramid maps and the query tokens.
        queries: number of query tokens (96 in the paper), zero-initialised.
        layers: decoder layers (4 in the paper): self-attention, deformable cross-attention, FFN.
        heads, points: attention heads and sampling points per head and pyramid level.
        ffn: hidden width of each layer's FFN.
        head_dim: per-query width kept when the query tokens are flattened into the parameter heads.
        dropout: dropout inside the decoder.
    """

    d_model: int = 512
    queries: int = 96
    layers: int = 4
    heads: int = 8
    points: int = 4
    ffn: int = 2048
    head_dim: int = 32
    dropout: float = 0.0

    def __post_init__(self):
        if self.d_model % self.heads:
            raise ConfigError(f"decoder.d_model ({self.d_model}) must be a multiple of decoder.heads ({self.heads})")
        for name in ("d_model", "queries", "layers", "heads", "points", "ffn", "head_dim"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"decoder.{name} must be >= 1, got {getattr(self, name)!r}")


@dataclass(frozen=True)
class LossConfig:
    """Loss weights ``L = pose*Lpose + shape*Lshape + kp3d*L3D + kp2d*L2D`` (the paper's 1e-3, 5e-4, 5e-2, 1e-2).

    ``Lpose``: squared error of the rotation matrices; ``Lshape``: squared error of the shape parameters;
    ``L3D``: L1 of root-relative 3D joints (metres); ``L2D``: confidence-weighted L1 of 2D joints in normalised
    crop coordinates ([-0.5, 0.5]); each summed over its elements and averaged over the batch.
    """

    pose: float = 1e-3
    shape: float = 5e-4
    kp3d: float = 5e-2
    kp2d: float = 1e-2


@dataclass(frozen=True)
class RefineConfig:
    """2D-informed refinement: only the query tokens are optimised (Adam), the network frozen.

    Attributes:
        iterations: optimisation steps ``T`` (default 10).
        lr: Adam learning rate on the query tokens.
        pose_weight: ``lambda_theta`` of the pose prior ``||theta - theta_0||^2`` (rotation-matrix entries, against
            squared crop pixels of the reprojection term). Chosen on 16 synthetic validation renders with the
            ``small`` network (T = 10, lr 1e-2; body-joint 2D error from 15.3 px): 1 -> 9.5 px, 10 -> 9.8 px,
            100 -> 11.1 px; a stronger prior keeps the pose nearer the network's at some cost in fit.
    """

    iterations: int = 10
    lr: float = 1e-2
    pose_weight: float = 1.0


@dataclass(frozen=True)
class AugmentConfig:
    """Training augmentation of the person crop (see :class:`~.data.Augmentation`; 0 turns a part off).

    Attributes:
        scale_jitter: box side multiplied by ``clip(1 + s N(0, 1), 1 - s, 1 + s)``.
        translation_jitter: box centre moved by up to this fraction of the box side.
        rotation_deg, rotation_prob: in-plane rotation ``clip(r N(0, 1), -2r, 2r)`` degrees, with this probability.
        colour_jitter: per-channel gains in ``[1 - c, 1 + c]``.
        flip_prob: probability of a horizontal flip (Anny samples then train on keypoints and shape only).
    """

    scale_jitter: float = 0.1
    translation_jitter: float = 0.05
    rotation_deg: float = 0.0
    rotation_prob: float = 0.0
    colour_jitter: float = 0.2
    flip_prob: float = 0.0


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation: Adam with weight decay, exponential learning-rate decay from ``lr`` to ``lr_final``.

    Attributes:
        epochs: passes over the training images.
        batch_size: images per step (global: split over DDP processes).
        lr, lr_final, weight_decay: the schedule.
        grad_clip: gradient-norm clipping (0: off).
        val_images: validation images evaluated after each epoch (0: all).
    """

    epochs: int = 20
    batch_size: int = 48
    lr: float = 1e-5
    lr_final: float = 1e-6
    weight_decay: float = 1e-4
    grad_clip: float = 1.0
    val_images: int = 512


@dataclass(frozen=True)
class MQHMRConfig(TomlConfig):
    """A complete MQ-HMR configuration.

    Attributes:
        name: registry name or file stem.
        body_model: ``"anny"`` (default; its 104 bone orientations and 6 phenotypes) or ``"smpl"`` (24 joint
            rotations and 10 betas; needs the user's SMPL model files).
        crop: side of the square person crop, pixels.
        focal: focal length of the weak-perspective camera, pixels (5000; rotation identity, translation only).
    """

    TOML_HEADER = ("MQ-HMR configuration (biopose_opensim). Pixels, metres, degrees where named _deg.",
                   "Train with: python -m biopose_opensim.train mqhmr --config THIS.toml --data DIR --out DIR")

    name: str = "custom"
    body_model: str = "anny"
    crop: int = 256
    focal: float = 5000.0
    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    refine: RefineConfig = field(default_factory=RefineConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        if self.body_model not in BODY_MODELS:
            raise ConfigError(f"body_model must be one of {', '.join(BODY_MODELS)}, got {self.body_model!r}")
        if self.backbone.img_size[0] != self.crop or self.backbone.img_size[1] > self.crop:
            raise ConfigError(f"backbone.img_size {self.backbone.img_size} must be ({self.crop}, W <= {self.crop})")


#: Named configurations. ``paper``: ViT-H/16 and the paper's weights and schedule (GPU). ``small``: a narrow ViT
#: that trains on a 2-core CPU on the synthetic renders (stronger learning rate, no drop-path). ``tiny``: tests.
CONFIGS: dict[str, MQHMRConfig] = {
    "paper": MQHMRConfig(name="paper"),
    "small": MQHMRConfig(
        name="small",
        backbone=BackboneConfig(embed_dim=256, depth=6, heads=4),
        decoder=DecoderConfig(d_model=128, heads=4, points=4, ffn=256, head_dim=16),
        train=TrainConfig(epochs=8, batch_size=32, lr=3e-4, lr_final=1e-5, weight_decay=1e-4, val_images=256)),
    "tiny": MQHMRConfig(
        name="tiny",
        backbone=BackboneConfig(embed_dim=64, depth=2, heads=2),
        decoder=DecoderConfig(d_model=64, heads=2, points=2, ffn=128, head_dim=8),
        augment=AugmentConfig(scale_jitter=0.0, translation_jitter=0.0, colour_jitter=0.0),
        train=TrainConfig(epochs=2, batch_size=8, lr=1e-3, lr_final=1e-4, val_images=16)),
}


def load_config(name_or_path: str | Path) -> MQHMRConfig:
    """A registry name (``paper``, ``small``, ``tiny``) or a TOML file written by :meth:`MQHMRConfig.to_toml`."""
    key = str(name_or_path)
    if key in CONFIGS:
        return CONFIGS[key]
    path = Path(key)
    if path.suffix.lower() != ".toml":
        raise ConfigError(f"unknown MQ-HMR config {key!r}: use one of {', '.join(CONFIGS)} or a .toml file")
    raw = read_toml(path)
    raw.setdefault("name", path.stem)
    return MQHMRConfig.from_dict(raw, source=str(path))
