"""The MQ-HMR network: crop -> ViT -> pyramid (strides 4, 8, 16) -> 96 queries x 4 deformable layers -> heads.

``MQHMR.forward(images)`` runs it all; :meth:`MQHMR.encode` and :meth:`MQHMR.decode` split it at the query
tokens so that 2D-informed refinement (:mod:`.refine`) can optimise the tokens against fixed image features.
The body model (:mod:`.body`) is held beside the network, not inside it: its data are not weights and never
enter a checkpoint. :func:`body_outputs` turns the heads' parameters into joints, camera translation and 2D
keypoints.

Input images are square crops ``(N, 3, S, S)`` (ImageNet-normalised, ``S = config.crop``); the ViT sees their
middle ``img_size[1]`` columns (256x192 of a 256x256 crop, as HMR 2.0).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .backbone import ViTBackbone
from .body import AnnyLayer, BodyPoints, SmplLayer
from .camera import cam_translation, project_normalised
from .config import MQHMRConfig
from .decoder import QueryDecoder
from .heads import HeadOutput, ParamHead
from .pyramid import FeaturePyramid, PyramidTokens


@dataclass(frozen=True, eq=False)
class HMROutput:
    """Predictions for a batch of crops.

    Attributes:
        params: the heads' :class:`~.heads.HeadOutput` (rotations, shape, pred_cam).
        joints: ``(B, J, 3)`` root-relative joints, metres, camera axes.
        cam_t: ``(B, 3)`` camera-frame root translation, metres.
        keypoints_2d: ``(B, J, 2)`` normalised crop coordinates in [-0.5, 0.5].
        vertices: ``(B, V, 3)`` root-relative mesh when asked for.
    """

    params: HeadOutput
    joints: torch.Tensor
    cam_t: torch.Tensor
    keypoints_2d: torch.Tensor
    vertices: torch.Tensor | None = None


def make_body(config: MQHMRConfig, smpl_model_dir=None) -> AnnyLayer | SmplLayer:
    """The body layer of ``config.body_model`` (SMPL reads the user's files from ``smpl_model_dir``)."""
    return AnnyLayer() if config.body_model == "anny" else SmplLayer(smpl_model_dir)


class MQHMR(nn.Module):
    """The network (weights only). ``body`` gives the head its pose size and mean pose."""

    def __init__(self, config: MQHMRConfig, body: AnnyLayer | SmplLayer):
        super().__init__()
        self.config = config
        d = config.decoder
        self.backbone = ViTBackbone(config.backbone)
        self.pyramid = FeaturePyramid(config.backbone.embed_dim, d.d_model)
        self.decoder = QueryDecoder(d_model=d.d_model, n_queries=d.queries, n_layers=d.layers, n_heads=d.heads,
                                    n_points=d.points, n_levels=3, ffn_dim=d.ffn, dropout=d.dropout)
        self.head = ParamHead(d.d_model, d.queries, d.head_dim, body.mean_orientations, body.n_shape,
                              sigmoid_shape=body.name == "anny")
        w = config.backbone.img_size[1]
        self._cols = slice((config.crop - w) // 2, (config.crop - w) // 2 + w)

    def encode(self, images: torch.Tensor) -> PyramidTokens:
        """Image features: ``images (N, 3, S, S)`` -> pyramid tokens ``(N, 21 h w, d_model)`` (see pyramid)."""
        S = self.config.crop
        if images.ndim != 4 or images.shape[1:] != (3, S, S):
            raise ValueError(f"images must be (N, 3, {S}, {S}) crops, got {tuple(images.shape)}")
        return self.pyramid.encode(self.backbone(images[..., self._cols]))

    def decode(self, features: PyramidTokens, queries: torch.Tensor | None = None) -> HeadOutput:
        """Body parameters from features and query tokens (``None``: the learned ones) ``(N, Q, d_model)``."""
        q = self.decoder(features.tokens, features.spatial_shapes, features.level_start_index, queries)
        return self.head(q)

    def forward(self, images: torch.Tensor) -> HeadOutput:
        return self.decode(self.encode(images))


def body_outputs(params: HeadOutput, body: AnnyLayer | SmplLayer, config: MQHMRConfig,
                 vertices: bool = False) -> HMROutput:
    """Joints, camera translation and normalised 2D keypoints of the heads' parameters."""
    points: BodyPoints = body(params.rotations, params.shape, vertices=vertices)
    cam_t = cam_translation(params.pred_cam, config.focal, config.crop)
    kp2d = project_normalised(points.joints, cam_t, config.focal, config.crop)
    return HMROutput(params=params, joints=points.joints, cam_t=cam_t, keypoints_2d=kp2d, vertices=points.vertices)


def count_parameters(module: nn.Module) -> int:
    """Number of parameters (works on the meta device)."""
    return sum(p.numel() for p in module.parameters())
