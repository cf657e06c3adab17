"""Subject appearance and lighting: skin tone, clothing colours per body region, lights.

Regions come from Anny's skinning: every vertex takes the region whose bones weigh most on it
(:func:`vertex_regions`). A top covers the trunk and shoulders, with short sleeves (upper arm) or long ones
(down to the wrist); a bottom covers the pelvis and thighs (shorts) or down to the ankles (trousers); shoes
cover the feet; the rest (neck, head, hands, bare arms and legs) shows skin; the eyes are dark.
"""
from __future__ import annotations

import colorsys
from dataclasses import asdict, dataclass

import numpy as np

from .gl import Lighting

#: Skin tones (sRGB in [0, 1]) from very light to very dark, spread over the range of human skin.
SKIN_TONES = np.array([
    [255, 224, 196], [241, 194, 167], [224, 172, 138], [198, 134, 103], [176, 120, 86],
    [141, 85, 54], [117, 71, 46], [94, 58, 38], [72, 44, 30], [56, 36, 26],
]) / 255.0

REGIONS = ("skin", "top", "sleeve", "bottom", "leg", "shoe", "eye")


def bone_region(bone: str) -> str:
    """Region of an Anny bone (``sleeve`` and ``leg`` become clothing or skin per sample)."""
    base = bone.split(".")[0]
    if base.startswith(("foot", "toe")):
        return "shoe"
    if base in ("root", "pelvis") or base.startswith("upperleg"):
        return "bottom"
    if base.startswith("lowerleg"):
        return "leg"
    if base.startswith("spine") or base in ("clavicle", "shoulder01", "upperarm01"):
        return "top"
    if base in ("upperarm02", "lowerarm01", "lowerarm02"):
        return "sleeve"
    if base == "eye":
        return "eye"
    return "skin"


def vertex_regions(bone_names: tuple[str, ...], skinning_weights: np.ndarray) -> np.ndarray:
    """``(V,)`` index into :data:`REGIONS` of every vertex: the region whose bones weigh most in
    ``skinning_weights (V, NB)``."""
    onehot = np.zeros((len(bone_names), len(REGIONS)))
    for b, name in enumerate(bone_names):
        onehot[b, REGIONS.index(bone_region(name))] = 1.0
    return np.argmax(np.asarray(skinning_weights) @ onehot, axis=1).astype(np.int8)


@dataclass(frozen=True)
class AppearanceRanges:
    """Sampling of appearance and lights.

    Attributes:
        long_sleeves, long_trousers: probability of long sleeves / trousers (else short sleeves / shorts).
        cloth_saturation, cloth_value: HSV saturation and value ranges of clothing colours (hue uniform).
        light_intensity: directional light intensity range.
        light_elevation_deg: elevation of the light source above the camera's horizon.
        light_azimuth_deg: light source azimuth about the camera's vertical (0 = from behind the camera).
        ambient: ambient light level range (grey).
    """

    long_sleeves: float = 0.5
    long_trousers: float = 0.7
    cloth_saturation: tuple[float, float] = (0.0, 0.9)
    cloth_value: tuple[float, float] = (0.08, 0.95)
    light_intensity: tuple[float, float] = (1.5, 5.0)
    light_elevation_deg: tuple[float, float] = (10.0, 75.0)
    light_azimuth_deg: tuple[float, float] = (-110.0, 110.0)
    ambient: tuple[float, float] = (0.15, 0.5)

    def to_dict(self) -> dict:
        d = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        d["skin_tones"] = len(SKIN_TONES)
        return d


@dataclass(frozen=True)
class Appearance:
    """Colours of one rendered subject (sRGB in [0, 1]): ``skin``, ``top``, ``bottom``, ``shoe`` ``(3,)`` and
    whether sleeves and trousers are long."""

    skin: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    shoe: np.ndarray
    long_sleeves: bool
    long_trousers: bool

    def vertex_colours(self, regions: np.ndarray, jitter: np.ndarray | None = None) -> np.ndarray:
        """``(V, 3)`` vertex colours for ``regions (V,)`` (:func:`vertex_regions`); ``jitter (V,)`` scales the
        brightness per vertex (e.g. 1 +- 0.03)."""
        table = np.stack([
            self.skin, self.top, self.top if self.long_sleeves else self.skin, self.bottom,
            self.bottom if self.long_trousers else self.skin, self.shoe, np.array([0.12, 0.08, 0.06]),
        ])
        c = table[regions]
        if jitter is not None:
            c = c * jitter[:, None]
        return np.clip(c, 0.0, 1.0)


def _cloth(rng: np.random.Generator, r: AppearanceRanges) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(*r.cloth_saturation),
                                        rng.uniform(*r.cloth_value)))


def sample_appearance(rng: np.random.Generator, ranges: AppearanceRanges) -> Appearance:
    """Draw a skin tone (a palette entry, brightness varied +-6 %) and clothing colours."""
    skin = SKIN_TONES[rng.integers(len(SKIN_TONES))] * rng.uniform(0.94, 1.06)
    return Appearance(skin=np.clip(skin, 0, 1), top=_cloth(rng, ranges), bottom=_cloth(rng, ranges),
                      shoe=_cloth(rng, ranges) * 0.6, long_sleeves=bool(rng.uniform() < ranges.long_sleeves),
                      long_trousers=bool(rng.uniform() < ranges.long_trousers))


def sample_lighting(rng: np.random.Generator, ranges: AppearanceRanges) -> Lighting:
    """Draw a directional light (source direction relative to the camera) and an ambient level."""
    el = np.radians(rng.uniform(*ranges.light_elevation_deg))
    az = np.radians(rng.uniform(*ranges.light_azimuth_deg))
    source = np.array([np.sin(az) * np.cos(el), -np.sin(el), -np.cos(az) * np.cos(el)])  # camera frame, to light
    warmth = rng.uniform(-0.08, 0.08)
    colour = (min(1.0, 1.0 + warmth), 1.0, min(1.0, 1.0 - warmth))
    return Lighting(direction=-source, intensity=float(rng.uniform(*ranges.light_intensity)),
                    ambient=np.full(3, rng.uniform(*ranges.ambient)), colour=colour)
