"""Feature pyramid at strides 4, 8 and 16 from a plain ViT feature map, flattened into tokens for the decoder.

The ViT gives one map at stride 16, ``(N, in_dim, h, w)`` with ``h = H / 16``, ``w = W / 16`` for an ``H x W``
image. :class:`FeaturePyramid` makes three levels from it, finest first:

========  ======  ===============================================================================
level     stride  layers
========  ======  ===============================================================================
0         4       ConvTranspose(in, in/2, 2, 2), GroupNorm, GELU, ConvTranspose(in/2, in/4, 2, 2)
1         8       ConvTranspose(in, in/2, 2, 2)
2         16      (the ViT map itself)
========  ======  ===============================================================================

each followed by a 1x1 convolution to ``d_model`` channels and a GroupNorm (``gcd(32, channels)`` groups).

Tokens (:meth:`FeaturePyramid.encode`): every level is flattened row-major and concatenated
(:func:`flatten_levels`), and a positional code is *added* to every token:

* a fixed 2D sine code of the pixel centre in normalised image coordinates (:func:`sine_position_encoding`),
  so a location has the same code on every level, and
* a learned per-level embedding (``level_embed``, ``(3, d_model)``), which tells the levels apart.

The decoder's deformable attention projects these tokens (content plus position) to its values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["FeaturePyramid", "PyramidTokens", "flatten_levels", "sine_position_encoding", "STRIDES"]

STRIDES = (4, 8, 16)
"""Strides of the pyramid levels in image pixels, finest first."""


def _groups(channels: int) -> int:
    return math.gcd(32, channels)


@dataclass(frozen=True)
class PyramidTokens:
    """Flattened pyramid tokens for :class:`~.decoder.QueryDecoder`.

    Attributes:
        tokens: ``(N, S, d_model)``, ``S = sum_l H_l * W_l``; levels finest first, each row-major; positional
            code and level embedding already added.
        spatial_shapes: ``(L, 2)`` int64 ``(H_l, W_l)`` per level.
        level_start_index: ``(L,)`` int64, index of each level's first token.
    """

    tokens: torch.Tensor
    spatial_shapes: torch.Tensor
    level_start_index: torch.Tensor


def flatten_levels(maps: list[torch.Tensor] | tuple[torch.Tensor, ...]
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Flatten feature maps row-major and concatenate them.

    Args:
        maps: ``L`` maps ``(N, C, H_l, W_l)`` with the same ``N`` and ``C``.

    Returns:
        ``tokens`` ``(N, sum_l H_l * W_l, C)`` (token ``start_l + i * W_l + j`` is pixel ``(i, j)`` of level
        ``l``), ``spatial_shapes`` ``(L, 2)`` int64 ``(H_l, W_l)`` and ``level_start_index`` ``(L,)`` int64, both
        on the CPU whatever the maps' device (small integer metadata that the attention reads as Python
        numbers: no device synchronisation on CUDA, and defined on the meta device).

    Raises:
        ValueError: no maps, a map not 4-D, or maps disagreeing in batch size or channels.
    """
    if len(maps) == 0:
        raise ValueError("maps must hold at least one (N, C, H, W) map, got none")
    n, c = maps[0].shape[:2] if maps[0].dim() == 4 else (None, None)
    for k, m in enumerate(maps):
        if m.dim() != 4 or m.shape[0] != n or m.shape[1] != c:
            raise ValueError(f"maps[{k}] must be (N={n}, C={c}, H, W) like maps[0], got shape {tuple(m.shape)}")
    tokens = torch.cat([m.flatten(2).transpose(1, 2) for m in maps], dim=1)
    spatial_shapes = torch.tensor([tuple(m.shape[2:]) for m in maps], dtype=torch.int64, device="cpu")
    sizes = spatial_shapes.prod(dim=1)
    level_start_index = torch.cat([sizes.new_zeros(1), sizes.cumsum(0)[:-1]])
    return tokens, spatial_shapes, level_start_index


def sine_position_encoding(height: int, width: int, dim: int, temperature: float = 10000.0,
                           device: torch.device | None = None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Fixed 2D sine code of the pixel centres of a ``height x width`` map.

    Pixel ``(i, j)`` has normalised centre ``y = (i + 0.5) / height``, ``x = (j + 0.5) / width`` in ``[0, 1]``.
    With ``F = dim / 4`` frequencies ``w_k = 2 pi / temperature ** (k / F)``, ``k = 0 .. F-1``, the code is
    ``[sin(y w), cos(y w), sin(x w), cos(x w)]`` (each block ``F`` channels).

    Args:
        height, width: map size in pixels.
        dim: code size; divisible by 4.
        temperature: longest wavelength factor.

    Returns:
        ``(height * width, dim)``, row-major over the pixels (like :func:`flatten_levels`).
    """
    if dim % 4 != 0:
        raise ValueError(f"dim must be divisible by 4 for a 2D sine code, got {dim}")
    f = dim // 4
    freq = 2.0 * math.pi / temperature ** (torch.arange(f, device=device, dtype=torch.float64) / f)  # (F,)
    y = (torch.arange(height, device=device, dtype=torch.float64) + 0.5) / height
    x = (torch.arange(width, device=device, dtype=torch.float64) + 0.5) / width
    yy, xx = torch.meshgrid(y, x, indexing="ij")  # (h, w)
    ay = yy.reshape(-1, 1) * freq
    ax = xx.reshape(-1, 1) * freq
    return torch.cat([ay.sin(), ay.cos(), ax.sin(), ax.cos()], dim=1).to(dtype)


class FeaturePyramid(nn.Module):
    """Three-level pyramid (strides 4, 8, 16) from a stride-16 ViT map; see the module docstring.

    Args:
        in_dim: ViT channels; divisible by 4.
        d_model: channels of every level and of the tokens; divisible by 4.
    """

    n_levels = len(STRIDES)

    def __init__(self, in_dim: int, d_model: int):
        super().__init__()
        if in_dim % 4 != 0 or in_dim <= 0:
            raise ValueError(f"in_dim must be a positive multiple of 4, got {in_dim}")
        if d_model % 4 != 0 or d_model <= 0:
            raise ValueError(f"d_model must be a positive multiple of 4, got {d_model}")
        self.in_dim, self.d_model = in_dim, d_model
        half, quarter = in_dim // 2, in_dim // 4
        self.up4 = nn.Sequential(
            nn.ConvTranspose2d(in_dim, half, kernel_size=2, stride=2),
            nn.GroupNorm(_groups(half), half),
            nn.GELU(),
            nn.ConvTranspose2d(half, quarter, kernel_size=2, stride=2),
        )
        self.up2 = nn.ConvTranspose2d(in_dim, half, kernel_size=2, stride=2)
        self.proj = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c, d_model, kernel_size=1, bias=False), nn.GroupNorm(_groups(d_model), d_model))
            for c in (quarter, half, in_dim))
        self.level_embed = nn.Parameter(torch.empty(self.n_levels, d_model))
        nn.init.normal_(self.level_embed)

    def forward(self, feat: torch.Tensor) -> list[torch.Tensor]:
        """Pyramid maps.

        Args:
            feat: ``(N, in_dim, h, w)`` ViT map at stride 16.

        Returns:
            ``[(N, d_model, 4h, 4w), (N, d_model, 2h, 2w), (N, d_model, h, w)]`` at strides 4, 8, 16.
        """
        if feat.dim() != 4 or feat.shape[1] != self.in_dim:
            raise ValueError(f"feat must be (N, {self.in_dim}, h, w), got shape {tuple(feat.shape)}")
        return [proj(x) for proj, x in zip(self.proj, (self.up4(feat), self.up2(feat), feat))]

    def position_codes(self, spatial_shapes: torch.Tensor | list[tuple[int, int]],
                       dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Sine code plus level embedding for every token of maps of the given sizes.

        Args:
            spatial_shapes: ``(L, 2)`` int64 ``(H_l, W_l)`` (or a list of ``(H_l, W_l)``), ``L = 3``.

        Returns:
            ``(S, d_model)``, the term :meth:`encode` adds to the flattened maps.
        """
        sizes = spatial_shapes.tolist() if isinstance(spatial_shapes, torch.Tensor) else list(spatial_shapes)
        if len(sizes) != self.n_levels or any(len(hw) != 2 for hw in sizes):
            raise ValueError(f"spatial_shapes must be ({self.n_levels}, 2), got {sizes}")
        codes = [sine_position_encoding(h, w, self.d_model, device=self.level_embed.device, dtype=dtype)
                 + self.level_embed[lvl].to(dtype)
                 for lvl, (h, w) in enumerate(sizes)]
        return torch.cat(codes, dim=0)

    def encode(self, feat: torch.Tensor) -> PyramidTokens:
        """Pyramid tokens with positional code and level embedding added.

        Args:
            feat: ``(N, in_dim, h, w)`` ViT map at stride 16.

        Returns:
            :class:`PyramidTokens` with ``tokens`` ``(N, 16 h w + 4 h w + h w, d_model)``.
        """
        maps = self(feat)
        tokens, shapes, starts = flatten_levels(maps)
        # sizes from the maps themselves (works on the meta device, where tensors hold no values)
        tokens = tokens + self.position_codes([tuple(m.shape[2:]) for m in maps], dtype=tokens.dtype)[None]
        return PyramidTokens(tokens=tokens, spatial_shapes=shapes, level_start_index=starts)
