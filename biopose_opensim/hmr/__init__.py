"""MQ-HMR: image -> body-model parameters and camera, with 2D-informed refinement of the query tokens.

One concept per module: ``config`` (named configurations), ``backbone`` (timm ViT), ``pyramid`` (strides 4/8/16),
``deform_attn`` (multi-scale deformable attention), ``decoder`` (96 query tokens, 4 layers), ``heads`` (Anny and
SMPL parameters, camera), ``camera`` (weak perspective, focal 5000), ``body`` (differentiable body models),
``model`` (the network), ``losses``, ``refine``, ``data``/``crop`` (readers), ``trainer``.
See ``docs/mqhmr.md``.
"""
