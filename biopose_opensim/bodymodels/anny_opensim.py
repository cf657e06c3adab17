"""Which OpenSim body drives each Anny bone, for the default model (Rajagopal-family body names).

The table follows where Anny skins the skin of each region (measured with anny 0.6.2): the ASIS/PSIS skin is
skinned mostly to ``spine04``, so ``spine05`` and ``spine04`` move with the OpenSim ``pelvis``; the rest of the
spine, the neck, the head, the clavicles and ``shoulder01`` (scapula) move with ``torso``; forearm bone
``lowerarm01`` with ``ulna`` and the twist bone ``lowerarm02`` with ``radius``.

Left/right: Anny's ``.L`` (x > 0, the subject's left) is OpenSim's ``_l``.
"""
from __future__ import annotations

#: Bone-name prefix -> OpenSim body stem (``_l``/``_r`` is added for sided bones). Longest prefix wins.
_PREFIX_TO_BODY: dict[str, str] = {
    "root": "pelvis",
    "pelvis": "pelvis",
    "spine05": "pelvis",
    "spine04": "pelvis",
    "spine03": "torso",
    "spine02": "torso",
    "spine01": "torso",
    "neck": "torso",
    "head": "torso",
    "eye": "torso",
    "jaw": "torso",
    "clavicle": "torso",
    "shoulder01": "torso",
    "upperleg": "femur",
    "lowerleg": "tibia",
    "foot": "calcn",
    "toe": "toes",
    "upperarm": "humerus",
    "lowerarm01": "ulna",
    "lowerarm02": "radius",
    "wrist": "hand",
    "metacarpal": "hand",
    "finger": "hand",
}
_UNSIDED = {"pelvis", "torso"}


def anny_bone_body(bone: str) -> str:
    """OpenSim body (default model) that drives Anny bone ``bone``, e.g. ``'lowerleg01.L' -> 'tibia_l'``.

    Raises:
        KeyError: no rule covers the bone.
    """
    base, _, side = bone.partition(".")
    matches = [p for p in _PREFIX_TO_BODY if base.startswith(p)]
    if not matches:
        raise KeyError(f"no OpenSim body is assigned to Anny bone {bone!r}")
    body = _PREFIX_TO_BODY[max(matches, key=len)]
    if body in _UNSIDED:
        return body
    if side not in ("L", "R"):
        raise KeyError(f"Anny bone {bone!r} maps to the sided body {body!r} but has no .L/.R suffix")
    return f"{body}_{side.lower()}"


def anny_bone_bodies(bone_labels) -> tuple[str, ...]:
    """OpenSim body for every bone in ``bone_labels`` (Anny's order)."""
    return tuple(anny_bone_body(b) for b in bone_labels)
