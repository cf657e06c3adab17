"""Query decoder: learned query tokens refined by self-attention and multi-scale deformable cross-attention.

``Q`` query tokens (96 by default) of ``d_model`` channels each go through ``n_layers`` post-norm layers:

1. self-attention among the queries (``nn.MultiheadAttention``; queries and keys are tokens plus the query
   positional embedding, values the tokens), residual, LayerNorm;
2. deformable cross-attention (:class:`~.deform_attn.MSDeformCrossAttn`) from tokens plus positional embedding
   to the pyramid tokens around each query's reference point, residual, LayerNorm;
3. feed-forward ``Linear(d_model, ffn_dim), GELU, Linear(ffn_dim, d_model)``, residual, LayerNorm.

The learned tokens start at zero (``self.query``); the query positional embedding (``self.query_pos``,
``N(0, 1)``) gives every query its identity and, through ``Linear(d_model, 2)`` and a sigmoid, its reference point
``(x, y)`` in ``[0, 1]`` of the image (shared by all layers and levels).

2D-informed refinement optimises the tokens themselves with the network frozen: pass them as ``queries`` to
:meth:`QueryDecoder.forward`; the output is differentiable with respect to them. The reference points depend on
the positional embedding only, so they stay fixed while the tokens are optimised.
"""
from __future__ import annotations

import torch
from torch import nn

from .deform_attn import MSDeformCrossAttn

__all__ = ["QueryDecoder", "DecoderLayer"]


class DecoderLayer(nn.Module):
    """One post-norm decoder layer (self-attention, deformable cross-attention, FFN); see the module docstring.

    Args:
        d_model: channels ``C``.
        n_heads: heads of both attentions.
        n_points: sampling points per head and level.
        n_levels: pyramid levels.
        ffn_dim: hidden width of the feed-forward block.
        dropout: dropout after each block (before the residual sum) and inside the self-attention.
    """

    def __init__(self, d_model: int, n_heads: int, n_points: int, n_levels: int, ffn_dim: int, dropout: float):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True)
        self.cross_attn = MSDeformCrossAttn(d_model, n_levels, n_heads, n_points)
        self.ffn = nn.Sequential(nn.Linear(d_model, ffn_dim), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(ffn_dim, d_model))
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d_model), nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.drop1, self.drop2, self.drop3 = nn.Dropout(dropout), nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, pos: torch.Tensor, reference_points: torch.Tensor, tokens: torch.Tensor,
                spatial_shapes: torch.Tensor, level_start_index: torch.Tensor,
                padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Args: ``x`` ``(N, Q, C)`` query tokens, ``pos`` ``(N, Q, C)`` or ``(1, Q, C)`` positional embedding,
        ``reference_points`` ``(N, Q, 2)`` in ``[0, 1]``, ``tokens`` ``(N, S, C)`` pyramid tokens,
        ``spatial_shapes`` ``(L, 2)``, ``level_start_index`` ``(L,)``, ``padding_mask`` ``(N, S)`` bool or None.
        Returns ``(N, Q, C)``."""
        q = x + pos
        x = self.norm1(x + self.drop1(self.self_attn(q, q, x, need_weights=False)[0]))
        cross = self.cross_attn(x + pos, reference_points, tokens, spatial_shapes, level_start_index, padding_mask)
        x = self.norm2(x + self.drop2(cross))
        return self.norm3(x + self.drop3(self.ffn(x)))


class QueryDecoder(nn.Module):
    """Decode ``n_queries`` learned tokens against the pyramid tokens (see the module docstring).

    Args:
        d_model: channels ``C`` of tokens and queries; divisible by ``n_heads``.
        n_queries: query tokens ``Q``.
        n_layers: decoder layers.
        n_heads: attention heads.
        n_points: deformable sampling points per head and level.
        n_levels: pyramid levels ``L``.
        ffn_dim: hidden width of the feed-forward blocks.
        dropout: dropout rate (0 disables it).
    """

    def __init__(self, d_model: int = 256, n_queries: int = 96, n_layers: int = 4, n_heads: int = 8,
                 n_points: int = 4, n_levels: int = 3, ffn_dim: int = 1024, dropout: float = 0.0):
        super().__init__()
        if min(d_model, n_queries, n_layers, n_heads, n_points, n_levels, ffn_dim) <= 0:
            raise ValueError(f"sizes must be positive, got d_model={d_model}, n_queries={n_queries}, "
                             f"n_layers={n_layers}, n_heads={n_heads}, n_points={n_points}, n_levels={n_levels}, "
                             f"ffn_dim={ffn_dim}")
        self.d_model, self.n_queries, self.n_levels = d_model, n_queries, n_levels
        self.query = nn.Parameter(torch.zeros(n_queries, d_model))
        self.query_pos = nn.Parameter(torch.empty(n_queries, d_model))
        nn.init.normal_(self.query_pos)
        self.ref_point = nn.Linear(d_model, 2)
        nn.init.xavier_uniform_(self.ref_point.weight)
        nn.init.zeros_(self.ref_point.bias)
        self.layers = nn.ModuleList(DecoderLayer(d_model, n_heads, n_points, n_levels, ffn_dim, dropout)
                                    for _ in range(n_layers))

    def initial_queries(self, batch: int) -> torch.Tensor:
        """The learned tokens for a batch: ``(batch, Q, C)``, an expanded view of ``self.query`` (clone it before
        optimising it in place)."""
        return self.query.expand(batch, -1, -1)

    def reference_points(self) -> torch.Tensor:
        """Reference points of the queries, ``(Q, 2)`` as ``(x, y)`` in ``[0, 1]`` of the image."""
        return self.ref_point(self.query_pos).sigmoid()

    def forward(self, tokens: torch.Tensor, spatial_shapes: torch.Tensor, level_start_index: torch.Tensor,
                queries: torch.Tensor | None = None, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Decode the queries.

        Args:
            tokens: ``(N, S, C)`` pyramid tokens (:meth:`~.pyramid.FeaturePyramid.encode`).
            spatial_shapes: ``(L, 2)`` int64 ``(H_l, W_l)``.
            level_start_index: ``(L,)`` int64.
            queries: optional ``(N, Q, C)`` tokens used instead of the learned ones (refinement).
            padding_mask: optional ``(N, S)`` bool, ``True`` for padding tokens.

        Returns:
            ``(N, Q, C)`` decoded query tokens.
        """
        if tokens.dim() != 3 or tokens.shape[2] != self.d_model:
            raise ValueError(f"tokens must be (N, S, {self.d_model}), got shape {tuple(tokens.shape)}")
        if tuple(spatial_shapes.shape) != (self.n_levels, 2):
            raise ValueError(f"spatial_shapes must be ({self.n_levels}, 2), got shape {tuple(spatial_shapes.shape)}")
        n = tokens.shape[0]
        if queries is None:
            x = self.initial_queries(n)
        elif tuple(queries.shape) != (n, self.n_queries, self.d_model):
            raise ValueError(f"queries must be (N, Q, C) = {(n, self.n_queries, self.d_model)}, "
                             f"got shape {tuple(queries.shape)}")
        else:
            x = queries
        pos = self.query_pos[None].expand(n, -1, -1)
        ref = self.reference_points()[None].expand(n, -1, -1)
        for layer in self.layers:
            x = layer(x, pos, ref, tokens, spatial_shapes, level_start_index, padding_mask)
        return x
