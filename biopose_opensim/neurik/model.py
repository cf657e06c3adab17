"""The NeurIK network: virtual markers of a window of frames -> OpenSim coordinates ``q`` and bone scales ``s``.

Architecture (sizes from :class:`~.config.ModelConfig`; ``M`` markers, ``T`` window, ``E`` embedding, ``D`` model):

0. per marker and axis, canonical xyz standardised by the training data's mean and standard deviation
   (:class:`MarkerNorm`, stored with the weights); missing markers stay 0                        (B, T, M, 4)
1. per frame and marker, standardised xyz + presence (4) -> ``Linear(4, E)``                      (B, T, M, E)
2. spatial encoder: ``conv_layers`` x [Conv1d(E, E, k) across the marker axis, GELU], residual      (B, T, M, E)
   (computed as one matrix product per layer, :func:`marker_conv`)
3. flatten the markers, ``Linear(M*E, D)``; plus ``Linear(5, D)`` of the frame's root offset and
   heading change relative to the window's last frame (:func:`.frames.relative_root`)              (B, T, D)
4. learnable temporal positional embedding, transformer encoder (pre-norm), final LayerNorm        (B, T, D)
5. heads on the last frame (``output="last"``) or every frame (``"all"``): free coordinates
   (``n_free``, squashed into their ranges by :class:`~.outputs.OutputMap`), root rotation (6D) and
   translation (3, m) in the frame's canonical frame, per-body scale residuals (``n_bodies*3``).

Steps 1-3 depend on one frame only (:meth:`NeurIK.frame_features`): inference computes them once per frame and
reuses them across overlapping windows (:meth:`NeurIK.temporal`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import torch
from torch import nn

from .config import ModelConfig


@dataclass
class RawOutput:
    """Unsquashed network outputs for the output frames ``K`` (1 in ``last`` mode, ``T`` in ``all`` mode).

    Attributes:
        coords: (B, K, n_free) pre-sigmoid values of the free coordinates.
        root_rot6d: (B, K, 6) root rotation in the frame's canonical frame (6D).
        root_trans: (B, K, 3) root translation in the frame's canonical frame, metres.
        scales: (B, K, n_bodies, 3) pre-tanh scale residuals.
    """

    coords: torch.Tensor
    root_rot6d: torch.Tensor
    root_trans: torch.Tensor
    scales: torch.Tensor


def split_head(out: torch.Tensor, n_free: int, n_bodies: int) -> RawOutput:
    """(..., n_free + 9 + 3 * n_bodies) head output -> :class:`RawOutput`."""
    nf = n_free
    return RawOutput(coords=out[..., :nf], root_rot6d=out[..., nf:nf + 6], root_trans=out[..., nf + 6:nf + 9],
                     scales=out[..., nf + 9:].reshape(*out.shape[:-1], n_bodies, 3))


def marker_conv(h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """A 1D convolution across the marker axis on channels-last features (zero padding, odd kernel).

    Args:
        h: (N, M, E) features per marker.
        weight: (E_out, E, k) and bias (E_out,): an ``nn.Conv1d``'s parameters.

    Returns:
        (N, M, E_out): ``Conv1d(E, E_out, k, padding=k // 2)`` of ``h.transpose(1, 2)``, transposed back. Written
        as one matrix product over the ``k`` shifted copies of ``h``: with a handful of channels and a batch of
        thousands of frames this is several times faster on a CPU than the convolution kernels.
    """
    k = weight.shape[-1]
    pad = k // 2
    M = h.shape[1]
    padded = nn.functional.pad(h, (0, 0, pad, pad))  # (N, M + 2 pad, E)
    stacked = torch.cat([padded[:, j:j + M] for j in range(k)], dim=-1)  # (N, M, k E), index j E + i
    out = stacked @ weight.permute(2, 1, 0).reshape(k * weight.shape[1], weight.shape[0])
    return out if bias is None else out + bias


class MarkerNorm(nn.Module):
    """Standardises canonical marker coordinates per marker and axis: ``(x - mean) / std`` where the marker is
    present, 0 where it is missing (the presence flag passes through).

    ``mean`` and ``std`` (M, 3) are persistent buffers, saved with the weights; :meth:`fit` sets them from the
    training data before training (a fresh module is the identity). Canonical markers span a few decimetres
    around the pelvis with standard deviations from millimetres (pelvis landmarks) to decimetres (hands): without
    this, weights on the quiet markers need to be hundreds of times larger than the others, which plain Adam with
    weight decay does not reach.
    """

    def __init__(self, n_markers: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_markers, 3))
        self.register_buffer("std", torch.ones(n_markers, 3))

    @torch.no_grad()
    def fit(self, x: torch.Tensor | Iterable[torch.Tensor], min_std: float = 1e-3) -> None:
        """Set the statistics from network inputs ``x`` (N, M, 4) (canonical xyz in metres + presence), or from
        chunks of them, over the frames in which each marker is present; ``std`` is at least ``min_std`` metres.
        Chunks are summed one at a time (float64), so a dataset need not be in memory as one tensor."""
        chunks = [x] if isinstance(x, torch.Tensor) else x
        n = total = total_sq = 0.0
        for c in chunks:
            w = c[..., 3:4].double()
            xyz = c[..., :3].double() * w
            n, total, total_sq = n + w.sum(0), total + xyz.sum(0), total_sq + (xyz * xyz).sum(0)
        n = torch.as_tensor(n, dtype=torch.float64).clamp_min(1.0)
        mean = total / n
        var = (total_sq / n - mean * mean).clamp_min(0.0)
        self.mean.copy_(mean.to(self.mean.dtype))
        self.std.copy_(var.sqrt().clamp_min(min_std).to(self.std.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., M, 4) canonical xyz (m) + presence -> (..., M, 4) standardised xyz + presence."""
        present = x[..., 3:4]
        return torch.cat([(x[..., :3] - self.mean) / self.std * present, present], dim=-1)


def _init_head(head: nn.Linear, n_free: int) -> None:
    """Start at mid-range coordinates, identity root rotation, no root offset, mean scales."""
    with torch.no_grad():
        head.weight.mul_(0.1)
        head.bias.zero_()
        head.bias[n_free:n_free + 6] = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])


class NeurIK(nn.Module):
    """Spatial 1D-conv encoder + temporal transformer with coordinate, root and scale heads."""

    def __init__(self, cfg: ModelConfig, n_markers: int, n_free: int, n_bodies: int):
        super().__init__()
        self.cfg = cfg
        self.n_markers, self.n_free, self.n_bodies = int(n_markers), int(n_free), int(n_bodies)
        E, D = cfg.embed_dim, cfg.d_model
        self.marker_norm = MarkerNorm(n_markers)
        self.embed = nn.Linear(4, E)
        self.convs = nn.ModuleList(nn.Conv1d(E, E, cfg.conv_kernel, padding=cfg.conv_kernel // 2)
                                   for _ in range(cfg.conv_layers))
        self.project = nn.Linear(n_markers * E, D)
        self.root_motion = nn.Linear(5, D)
        self.position = nn.Parameter(torch.zeros(1, cfg.window, D))
        nn.init.trunc_normal_(self.position, std=0.02)
        layer = nn.TransformerEncoderLayer(D, cfg.heads, cfg.ffn, cfg.dropout, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(D)
        self.head = nn.Linear(D, n_free + 6 + 3 + n_bodies * 3)
        _init_head(self.head, n_free)

    def frame_features(self, x: torch.Tensor) -> torch.Tensor:
        """(..., M, 4) canonical markers + presence of single frames -> (..., D) frame features.

        Frames go through in chunks of :attr:`FRAME_CHUNK`, which bounds the per-marker temporaries (``(N, M, 3E)``
        floats inside :func:`marker_conv`) for large batches."""
        lead = x.shape[:-2]
        flat = x.reshape(-1, self.n_markers, 4)
        n = flat.shape[0]
        c = self.FRAME_CHUNK
        out = self._frame_features(flat) if n <= c else torch.cat([self._frame_features(flat[i:i + c])
                                                                     for i in range(0, n, c)])
        return out.reshape(*lead, -1)

    #: Frames per chunk in :meth:`frame_features`.
    FRAME_CHUNK = 8192

    def _frame_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, M, 4) -> (N, D)."""
        h = self.embed(self.marker_norm(x))  # (N, M, E), channels last
        for conv in self.convs:
            h = h + nn.functional.gelu(marker_conv(h, conv.weight, conv.bias))
        # ``project`` takes the markers flattened channel-major (index e M + m): its weight is read in that order
        D, E = self.project.out_features, h.shape[-1]
        weight = self.project.weight.reshape(D, E, self.n_markers).transpose(1, 2).reshape(D, -1)
        return nn.functional.linear(h.flatten(1), weight, self.project.bias)

    def temporal(self, feats: torch.Tensor, rel: torch.Tensor) -> RawOutput:
        """(B, T, D) frame features and (B, T, 5) relative root motion -> heads for the output frames."""
        h = feats + self.root_motion(rel) + self.position
        h = self.norm(self.encoder(h))
        offset = self.cfg.output_offset
        if offset is not None:
            h = h[:, offset:offset + 1]
        return split_head(self.head(h), self.n_free, self.n_bodies)

    def forward(self, x: torch.Tensor, rel: torch.Tensor) -> RawOutput:
        """(B, T, M, 4) canonical markers + presence, (B, T, 5) relative root motion -> :class:`RawOutput`."""
        return self.temporal(self.frame_features(x), rel)


class FrameMLP(nn.Module):
    """The per-frame baseline: a window's standardised canonical markers and root motion, flattened, through an MLP
    (``layers`` hidden layers of ``ffn`` units, GELU) to the heads of the output frame. Same interface as
    :class:`NeurIK` (``frame_features`` is the flattened frame)."""

    def __init__(self, cfg: ModelConfig, n_markers: int, n_free: int, n_bodies: int):
        super().__init__()
        if cfg.output == "all":
            raise ValueError("the MLP baseline predicts one frame per window (output 'last' or 'center')")
        self.cfg = cfg
        self.n_markers, self.n_free, self.n_bodies = int(n_markers), int(n_free), int(n_bodies)
        self.marker_norm = MarkerNorm(n_markers)
        width = cfg.window * (n_markers * 4 + 5)
        layers: list[nn.Module] = []
        for _ in range(cfg.layers):
            layers += [nn.Linear(width, cfg.ffn), nn.GELU()]
            width = cfg.ffn
        self.mlp = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_free + 6 + 3 + n_bodies * 3)
        _init_head(self.head, n_free)

    def frame_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.marker_norm(x).flatten(-2)

    def temporal(self, feats: torch.Tensor, rel: torch.Tensor) -> RawOutput:
        h = self.mlp(torch.cat([feats, rel], dim=-1).flatten(1))
        return split_head(self.head(h)[:, None], self.n_free, self.n_bodies)

    def forward(self, x: torch.Tensor, rel: torch.Tensor) -> RawOutput:
        return self.temporal(self.frame_features(x), rel)


def load_network_state(net: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load weights into ``net`` (strict); weights saved before inputs were standardised lack the
    :class:`MarkerNorm` statistics and keep the identity ones, which is what those networks were trained with."""
    own = net.state_dict()
    missing = {k: own[k] for k in ("marker_norm.mean", "marker_norm.std") if k in own and k not in state}
    net.load_state_dict({**state, **missing})


def build_network(cfg: ModelConfig, n_markers: int, n_free: int, n_bodies: int) -> nn.Module:
    """The network a :class:`ModelConfig` describes (``kind``)."""
    cls = FrameMLP if cfg.kind == "mlp" else NeurIK
    return cls(cfg, n_markers, n_free, n_bodies)
