"""Synthetic person-crop images of Anny for image -> mesh training (``python -m biopose_opensim.render``).

A synthetic marker dataset (``python -m biopose_opensim.synth``) gives subjects and motions; each selected frame
is posed exactly as the dataset was generated, seen by a randomly placed camera, dressed and lit at random over
a procedural background, rendered headless on the CPU (``pyrender`` on EGL) and cropped around the person. The
format is described in ``docs/renders.md``. :func:`~biopose_opensim.render.gl.render_frames` renders mesh
sequences for other uses (e.g. video clips).
"""
from .build import FORMAT, RenderResult, render_dataset
from .config import RenderConfig

__all__ = ["FORMAT", "RenderConfig", "RenderResult", "render_dataset"]
