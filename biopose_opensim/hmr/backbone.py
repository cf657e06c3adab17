"""The ViT encoder: a timm ``VisionTransformer`` (no class token) returning its patch tokens as a feature map.

Input: ``(N, 3, H, W)`` ImageNet-normalised crops (``H, W`` = ``BackboneConfig.img_size``, 256x192 as in HMR 2.0);
output: ``(N, embed_dim, H / patch, W / patch)``. Weights start random; user-provided weights (a ViTPose, HMR 2.0
or timm checkpoint) load from a path with :func:`load_backbone_weights`, which reports matched, missing,
unexpected and mis-shaped keys. Nothing is downloaded.
"""
from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import InputFileError
from .config import BackboneConfig

log = logging.getLogger(__name__)

#: Prefixes stripped from checkpoint keys before matching (ViTPose / HMR 2.0 / Lightning / DDP layouts).
_PREFIXES = ("module.", "model.", "backbone.", "encoder.")


_TORCHVISION_SCHEMAS: list = []


def import_timm():
    """``timm``, imported even where the installed torchvision's compiled ops do not load with the installed torch.

    timm's layers import torchvision's pure-Python parts (e.g. ``torchvision.ops.misc``). A torchvision wheel
    built for another torch (the CUDA torchvision from PyPI beside the CPU torch these machines carry) fails
    while importing: its Python code registers fake kernels for ``torchvision::nms`` and ``torchvision::qnms``,
    which its unloaded extension would have declared. Those two schemas are then declared here (without kernels:
    calling them raises) and the import retried; the ViT uses no torchvision op.
    """
    if "timm" in sys.modules:
        return sys.modules["timm"]
    try:
        import torchvision  # noqa: F401
    except ImportError:
        pass  # timm's own import error then names what is missing
    except RuntimeError as exc:
        log.debug("torchvision's compiled ops do not load with this torch (%s); declaring their schemas", exc)
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        lib = torch.library.Library("torchvision", "FRAGMENT")
        for op in ("nms", "qnms"):
            if not hasattr(torch.ops.torchvision, op) or not torch._C._dispatch_has_kernel(f"torchvision::{op}"):
                try:
                    lib.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
                except RuntimeError:
                    pass  # already declared
        _TORCHVISION_SCHEMAS.append(lib)  # the library must outlive this call
        import torchvision  # noqa: F401,F811
    import timm

    return timm


class ViTBackbone(nn.Module):
    """timm ViT without class token or head; ``forward(images (N, 3, H, W)) -> (N, C, H/p, W/p)``."""

    def __init__(self, config: BackboneConfig):
        super().__init__()
        import_timm()
        from timm.models.vision_transformer import VisionTransformer

        self.config = config
        self.vit = VisionTransformer(
            img_size=tuple(config.img_size), patch_size=config.patch, embed_dim=config.embed_dim,
            depth=config.depth, num_heads=config.heads, mlp_ratio=config.mlp_ratio, num_classes=0,
            global_pool="", class_token=False, drop_path_rate=config.drop_path, dynamic_img_size=False)
        self.grid = (config.img_size[0] // config.patch, config.img_size[1] // config.patch)

    @property
    def out_dim(self) -> int:
        return self.config.embed_dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[-2:] != tuple(self.config.img_size):
            raise ValueError(f"images must be (N, 3, {self.config.img_size[0]}, {self.config.img_size[1]}), "
                             f"got {tuple(images.shape)}")
        tokens = self.vit.forward_features(images)  # (N, h*w, C)
        n, _, c = tokens.shape
        return tokens.transpose(1, 2).reshape(n, c, *self.grid)


@dataclass(frozen=True)
class WeightReport:
    """Outcome of :func:`load_backbone_weights`: key names of the backbone (timm naming)."""

    path: Path
    matched: tuple[str, ...]
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    mismatched: tuple[str, ...]
    resized: tuple[str, ...]

    def summary(self) -> str:
        return (f"{self.path}: {len(self.matched)} tensors loaded, {len(self.missing)} missing, "
                f"{len(self.unexpected)} unexpected, {len(self.mismatched)} of another shape"
                + (f", position embedding resized ({', '.join(self.resized)})" if self.resized else ""))


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` file or a torch checkpoint (``state_dict``/``model`` inside are unwrapped).

    Torch files are read with ``weights_only=True`` (no code runs).
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "backbone weights not found")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - unpickling errors of many kinds
        raise InputFileError(path, f"not a readable torch checkpoint ({exc})") from None
    for key in ("state_dict", "model", "module"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise InputFileError(path, "holds no state dict of tensors")
    return obj


def _strip(key: str) -> str:
    changed = True
    while changed:
        changed = False
        for p in _PREFIXES:
            if key.startswith(p):
                key, changed = key[len(p):], True
    return key


def _resize_pos_embed(pos: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """``(1, n, C)`` position embedding (with or without a class-token slot) -> ``(1, h*w, C)`` for ``grid``,
    resampled bicubically when the source grid differs (a square grid, or ViTPose's 16x12)."""
    import math

    n, c = pos.shape[1], pos.shape[2]
    target = grid[0] * grid[1]
    square = lambda k: k > 0 and math.isqrt(k) ** 2 == k  # noqa: E731
    if n == target + 1 or (not square(n) and n != target and (square(n - 1) or n - 1 == 192)):
        pos, n = pos[:, 1:], n - 1  # drop the class-token slot
    if n == target:
        return pos
    if square(n):
        src = (math.isqrt(n), math.isqrt(n))
    elif n == 192:
        src = (16, 12)
    else:
        raise ValueError(f"cannot tell the grid of a position embedding with {n} positions")
    img = pos.reshape(1, *src, c).permute(0, 3, 1, 2)
    img = torch.nn.functional.interpolate(img.float(), size=grid, mode="bicubic", align_corners=False)
    return img.permute(0, 2, 3, 1).reshape(1, target, c).to(pos.dtype)


def load_backbone_weights(backbone: ViTBackbone, path: str | Path) -> WeightReport:
    """Load user-provided ViT weights into ``backbone`` by name (prefixes ``module.``, ``backbone.`` … stripped).

    A position embedding with a class-token slot or another grid is resampled to the backbone's grid; tensors of
    another shape are left at their initial values and reported. Raises InputFileError when nothing matches.
    """
    path = Path(path)
    source = {_strip(k): v for k, v in read_state_dict(path).items()}
    target = backbone.vit.state_dict()
    load, mismatched, resized = {}, [], []
    for key, value in source.items():
        if key not in target:
            continue
        if key == "pos_embed" and value.shape != target[key].shape and value.ndim == 3:
            try:
                value = _resize_pos_embed(value, backbone.grid)
                resized.append(key)
            except ValueError as exc:
                log.warning("%s: %s; pos_embed left at its initial values", path, exc)
        if value.shape != target[key].shape:
            mismatched.append(f"{key} {tuple(value.shape)} vs {tuple(target[key].shape)}")
            continue
        load[key] = value.to(target[key].dtype)
    if not load:
        raise InputFileError(path, f"no tensor matches the ViT backbone's names (e.g. {next(iter(target))!r}); "
                                   f"the file has e.g. {', '.join(list(source)[:3])}")
    backbone.vit.load_state_dict(load, strict=False)
    report = WeightReport(path, tuple(sorted(load)), tuple(sorted(set(target) - set(load))),
                          tuple(sorted(set(source) - set(target))), tuple(mismatched), tuple(resized))
    log.info("backbone weights %s", report.summary())
    return report
