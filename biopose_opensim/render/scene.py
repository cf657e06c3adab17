"""One image's random draws: camera, appearance, lighting, background and per-vertex shading jitter.

Every image has its own generator seeded by ``(seed, subject index, trial index, frame)``, so an image is the
same whichever worker renders it and whichever other images are rendered with it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .appearance import Appearance, AppearanceRanges, sample_appearance, sample_lighting
from .background import background
from .camera import Camera, CameraRanges, sample_camera
from .gl import Lighting


@dataclass(frozen=True, eq=False)
class Scene:
    """The random part of one image.

    Attributes:
        camera: the camera (ground -> camera frame, full-frame intrinsics).
        appearance: skin and clothing colours.
        lighting: lights (camera frame).
        background: ``(S, S, 3)`` uint8 background of the stored crop.
        jitter: ``(V,)`` per-vertex brightness factors.
    """

    camera: Camera
    appearance: Appearance
    lighting: Lighting
    background: np.ndarray
    jitter: np.ndarray


def image_rng(seed: int, subject_index: int, trial_index: int, frame: int) -> np.random.Generator:
    """The generator of one image."""
    return np.random.default_rng([int(seed), int(subject_index), int(trial_index), int(frame)])


def sample_scene(seed: int, subject_index: int, trial_index: int, frame: int, joints_ground: np.ndarray,
                 joint_names: tuple[str, ...], n_vertices: int, crop_size: int, camera: CameraRanges,
                 appearance: AppearanceRanges) -> Scene:
    """Draw the scene of one image around a subject whose joints ``(J, 3)`` are in the ground frame."""
    rng = image_rng(seed, subject_index, trial_index, frame)
    j = {n: joints_ground[i] for i, n in enumerate(joint_names)}
    cam = sample_camera(rng, camera, j["pelvis"], j["left_hip"], j["right_hip"])
    app = sample_appearance(rng, appearance)
    light = sample_lighting(rng, appearance)
    bg = background(rng, crop_size)
    jitter = 1.0 + rng.uniform(-0.03, 0.03, size=n_vertices)
    return Scene(cam, app, light, bg, jitter)
