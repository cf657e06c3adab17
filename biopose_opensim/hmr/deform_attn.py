"""Multi-scale deformable attention (Deformable-DETR semantics) in pure PyTorch.

Each query attends to a few points per head and per pyramid level. A point is a location in normalised image
coordinates ``(x, y)`` in ``[0, 1]``, with ``x`` along the width and ``y`` along the height of the level's map;
the feature there is read by bilinear interpolation, zero outside the map. With ``align_corners=False`` the
location ``(x, y)`` is the continuous pixel coordinate ``(x * W - 0.5, y * H - 0.5)``: pixel ``(i, j)`` has its
centre at ``((j + 0.5) / W, (i + 0.5) / H)``. The sampled features are summed with the attention weights
(already normalised over levels and points).

Notation: ``N`` batch, ``Lq`` queries, ``M`` heads, ``D`` channels per head, ``L`` levels, ``P`` points per head
and level, ``S = sum_l H_l * W_l`` value tokens (levels concatenated, each flattened row-major).

:func:`ms_deform_attn` is the pure sampling-and-weighting step; :class:`MSDeformCrossAttn` adds the learned
projections (value, sampling offsets, attention weights, output).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ms_deform_attn", "MSDeformCrossAttn", "level_sizes"]


def level_sizes(spatial_shapes: torch.Tensor) -> list[tuple[int, int]]:
    """Per-level ``(H, W)`` as Python ints.

    Args:
        spatial_shapes: ``(L, 2)`` integer tensor of ``(H, W)`` per level.

    Returns:
        ``[(H_0, W_0), ...]``, one pair per level.

    Raises:
        ValueError: ``spatial_shapes`` is not ``(L, 2)`` integers with positive sizes.
    """
    if spatial_shapes.dim() != 2 or spatial_shapes.shape[1] != 2 or spatial_shapes.shape[0] == 0:
        raise ValueError(f"spatial_shapes must be (L, 2) with L >= 1, got shape {tuple(spatial_shapes.shape)}")
    if spatial_shapes.is_floating_point() or spatial_shapes.is_complex():
        raise ValueError(f"spatial_shapes must be an integer tensor, got dtype {spatial_shapes.dtype}")
    sizes = [(int(h), int(w)) for h, w in spatial_shapes.tolist()]
    if any(h <= 0 or w <= 0 for h, w in sizes):
        raise ValueError(f"spatial_shapes must hold positive (H, W) per level, got {sizes}")
    return sizes


def _check_inputs(value: torch.Tensor, spatial_shapes: torch.Tensor, level_start_index: torch.Tensor,
                  sampling_locations: torch.Tensor, attention_weights: torch.Tensor) -> list[tuple[int, int]]:
    """Validate the shapes of :func:`ms_deform_attn`'s arguments; returns the per-level ``(H, W)``."""
    if value.dim() != 4:
        raise ValueError(f"value must be (N, S, heads, D), got shape {tuple(value.shape)}")
    sizes = level_sizes(spatial_shapes)
    n, s, m, _ = value.shape
    n_levels = len(sizes)
    total = sum(h * w for h, w in sizes)
    if s != total:
        raise ValueError(f"value has {s} tokens (shape {tuple(value.shape)}) but spatial_shapes {sizes} "
                         f"sum to {total}")
    starts = [0]
    for h, w in sizes[:-1]:
        starts.append(starts[-1] + h * w)
    if tuple(level_start_index.shape) != (n_levels,) or level_start_index.tolist() != starts:
        raise ValueError(f"level_start_index must be ({n_levels},) = {starts} for spatial_shapes {sizes}, "
                         f"got shape {tuple(level_start_index.shape)} values {level_start_index.tolist()}")
    loc = sampling_locations
    if loc.dim() != 6 or loc.shape[0] != n or loc.shape[2] != m or loc.shape[3] != n_levels or loc.shape[5] != 2:
        raise ValueError(f"sampling_locations must be (N={n}, Lq, heads={m}, L={n_levels}, P, 2), "
                         f"got shape {tuple(loc.shape)}")
    want = tuple(loc.shape[:5])
    if tuple(attention_weights.shape) != want:
        raise ValueError(f"attention_weights must be (N, Lq, heads, L, P) = {want} to match sampling_locations, "
                         f"got shape {tuple(attention_weights.shape)}")
    for name, t in (("value", value), ("sampling_locations", loc), ("attention_weights", attention_weights)):
        if not t.is_floating_point():
            raise ValueError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
    return sizes


def ms_deform_attn(value: torch.Tensor, spatial_shapes: torch.Tensor, level_start_index: torch.Tensor,
                   sampling_locations: torch.Tensor, attention_weights: torch.Tensor) -> torch.Tensor:
    """Sample every level at the given locations and sum the samples with the attention weights.

    Args:
        value: ``(N, S, M, D)`` value tokens split into heads; levels concatenated in ``spatial_shapes`` order,
            each level flattened row-major (token ``start_l + i * W_l + j`` is pixel row ``i``, column ``j``).
        spatial_shapes: ``(L, 2)`` int64, ``(H_l, W_l)`` per level.
        level_start_index: ``(L,)`` int64, index of each level's first token in ``value`` (exclusive cumulative
            sum of ``H_l * W_l``).
        sampling_locations: ``(N, Lq, M, L, P, 2)``, ``(x, y)`` normalised by each level's ``(W, H)``; ``[0, 1]``
            covers the map, locations outside read zeros (partly, within half a pixel of the edge).
        attention_weights: ``(N, Lq, M, L, P)``, already normalised (softmax over ``L * P``); used as given.

    Returns:
        ``(N, Lq, M * D)``: per query, the heads' weighted sums concatenated head-major (head ``m`` is channels
        ``m * D : (m + 1) * D``). Computed in the promoted floating dtype of the three float inputs;
        differentiable with respect to ``value``, ``sampling_locations`` and ``attention_weights``.

    Raises:
        ValueError: a shape does not match (the message names the argument and its shape).
    """
    sizes = _check_inputs(value, spatial_shapes, level_start_index, sampling_locations, attention_weights)
    dtype = torch.promote_types(torch.promote_types(value.dtype, sampling_locations.dtype), attention_weights.dtype)
    value = value.to(dtype)
    grid = sampling_locations.to(dtype) * 2.0 - 1.0  # grid_sample's [-1, 1] convention
    weights = attention_weights.to(dtype)
    n, _, m, d = value.shape
    n_q, n_p = grid.shape[1], grid.shape[4]

    out = value.new_zeros(n * m, d, n_q)
    start = 0
    for lvl, (h, w) in enumerate(sizes):
        # (N, h*w, M, D) -> (N*M, D, h, w): one image per (sample, head)
        v = value[:, start:start + h * w].permute(0, 2, 3, 1).reshape(n * m, d, h, w)
        start += h * w
        # (N, Lq, M, P, 2) -> (N*M, Lq, P, 2): output "pixels" are (query, point)
        g = grid[:, :, :, lvl].permute(0, 2, 1, 3, 4).reshape(n * m, n_q, n_p, 2)
        sampled = F.grid_sample(v, g, mode="bilinear", padding_mode="zeros", align_corners=False)  # (N*M, D, Lq, P)
        a = weights[:, :, :, lvl].permute(0, 2, 1, 3).reshape(n * m, 1, n_q, n_p)
        out = out + (sampled * a).sum(dim=-1)
    # (N*M, D, Lq) -> (N, Lq, M*D)
    return out.view(n, m, d, n_q).permute(0, 3, 1, 2).reshape(n, n_q, m * d)


class MSDeformCrossAttn(nn.Module):
    """Multi-scale deformable cross-attention of queries over flattened pyramid tokens.

    Per query and head, ``n_points`` sampling offsets per level and ``n_levels * n_points`` attention weights
    (softmax) are predicted from the query by linear layers. Offsets are in pixels of each level and are
    divided by the level's ``(W, H)`` before being added to the query's reference point, so one offset unit is one
    pixel on every level.

    Initialisation (as in Deformable DETR): the offset layer has zero weights and a bias that puts head ``m``'s
    point ``p`` at ``(p + 1)`` pixels along direction ``m`` of ``n_heads`` directions evenly spread on the circle
    (each direction scaled so its larger component is 1), the same on every level; the attention-weight layer is
    all zeros (uniform weights ``1 / (n_levels * n_points)``); value and output projections are Xavier-uniform
    with zero bias.

    Args:
        d_model: channels ``C`` of queries and value tokens; divisible by ``n_heads``.
        n_levels: pyramid levels ``L``.
        n_heads: attention heads ``M``.
        n_points: sampling points ``P`` per head and level.
    """

    def __init__(self, d_model: int, n_levels: int, n_heads: int, n_points: int):
        super().__init__()
        if d_model % n_heads != 0:
            raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
        if min(d_model, n_levels, n_heads, n_points) <= 0:
            raise ValueError(f"sizes must be positive, got d_model={d_model}, n_levels={n_levels}, "
                             f"n_heads={n_heads}, n_points={n_points}")
        self.d_model, self.n_levels, self.n_heads, self.n_points = d_model, n_levels, n_heads, n_points
        self.sampling_offsets = nn.Linear(d_model, n_heads * n_levels * n_points * 2)
        self.attention_weights = nn.Linear(d_model, n_heads * n_levels * n_points)
        self.value_proj = nn.Linear(d_model, d_model)
        self.output_proj = nn.Linear(d_model, d_model)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Deformable-DETR initialisation (see the class docstring)."""
        nn.init.zeros_(self.sampling_offsets.weight)
        angle = torch.arange(self.n_heads, dtype=torch.float64) * (2.0 * math.pi / self.n_heads)
        direction = torch.stack([angle.cos(), angle.sin()], dim=-1)  # (M, 2) as (x, y)
        direction = direction / direction.abs().max(dim=-1, keepdim=True).values
        scale = torch.arange(1, self.n_points + 1, dtype=torch.float64)  # point p -> p + 1
        bias = direction[:, None, None, :] * scale[None, None, :, None]  # (M, 1, P, 2)
        bias = bias.expand(self.n_heads, self.n_levels, self.n_points, 2)
        with torch.no_grad():
            self.sampling_offsets.bias.copy_(bias.reshape(-1))
        nn.init.zeros_(self.attention_weights.weight)
        nn.init.zeros_(self.attention_weights.bias)
        for lin in (self.value_proj, self.output_proj):
            nn.init.xavier_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)

    def sampling(self, query: torch.Tensor, reference_points: torch.Tensor,
                 spatial_shapes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Sampling locations and attention weights predicted from the queries.

        Args:
            query: ``(N, Lq, C)``.
            reference_points: ``(N, Lq, 2)``, ``(x, y)`` in ``[0, 1]`` (shared by all levels).
            spatial_shapes: ``(L, 2)`` int64 ``(H, W)`` per level.

        Returns:
            ``sampling_locations`` ``(N, Lq, M, L, P, 2)`` normalised ``(x, y)`` and ``attention_weights``
            ``(N, Lq, M, L, P)`` summing to 1 over ``(L, P)``.
        """
        n, n_q, c = query.shape
        if c != self.d_model:
            raise ValueError(f"query must be (N, Lq, {self.d_model}), got shape {tuple(query.shape)}")
        if tuple(reference_points.shape) != (n, n_q, 2):
            raise ValueError(f"reference_points must be (N, Lq, 2) = {(n, n_q, 2)}, "
                             f"got shape {tuple(reference_points.shape)}")
        if tuple(spatial_shapes.shape) != (self.n_levels, 2):
            raise ValueError(f"spatial_shapes must be ({self.n_levels}, 2), got shape {tuple(spatial_shapes.shape)}")
        m, lv, p = self.n_heads, self.n_levels, self.n_points
        offsets = self.sampling_offsets(query).view(n, n_q, m, lv, p, 2)
        logits = self.attention_weights(query).view(n, n_q, m, lv * p)
        weights = logits.softmax(dim=-1).view(n, n_q, m, lv, p)
        # offsets are in pixels of each level: divide by (W, H)
        wh = spatial_shapes.flip(-1).to(device=offsets.device, dtype=offsets.dtype)  # (L, 2) as (W, H)
        locations = reference_points[:, :, None, None, None, :] + offsets / wh[None, None, None, :, None, :]
        return locations, weights

    def forward(self, query: torch.Tensor, reference_points: torch.Tensor, value_tokens: torch.Tensor,
                spatial_shapes: torch.Tensor, level_start_index: torch.Tensor,
                value_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Attend from the queries to the value tokens.

        Args:
            query: ``(N, Lq, C)`` (content plus positional embedding).
            reference_points: ``(N, Lq, 2)``, ``(x, y)`` in ``[0, 1]`` of the image.
            value_tokens: ``(N, S, C)``, levels concatenated (see :func:`ms_deform_attn`).
            spatial_shapes: ``(L, 2)`` int64 ``(H, W)`` per level.
            level_start_index: ``(L,)`` int64.
            value_padding_mask: optional ``(N, S)`` bool, ``True`` where a token is padding (its value is zeroed).

        Returns:
            ``(N, Lq, C)``.
        """
        n, s, c = value_tokens.shape if value_tokens.dim() == 3 else (None, None, None)
        if c != self.d_model or n != query.shape[0]:
            raise ValueError(f"value_tokens must be (N={query.shape[0]}, S, {self.d_model}), "
                             f"got shape {tuple(value_tokens.shape)}")
        value = self.value_proj(value_tokens)
        if value_padding_mask is not None:
            if tuple(value_padding_mask.shape) != (n, s) or value_padding_mask.dtype != torch.bool:
                raise ValueError(f"value_padding_mask must be bool (N, S) = {(n, s)}, got shape "
                                 f"{tuple(value_padding_mask.shape)} dtype {value_padding_mask.dtype}")
            value = value.masked_fill(value_padding_mask[..., None], 0.0)
        value = value.view(n, s, self.n_heads, c // self.n_heads)
        locations, weights = self.sampling(query, reference_points, spatial_shapes)
        out = ms_deform_attn(value, spatial_shapes, level_start_index, locations, weights)
        return self.output_proj(out)
