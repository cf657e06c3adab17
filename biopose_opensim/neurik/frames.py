"""Input normalisation and root placement for NeurIK: pure batched maths (torch), no modules.

Every frame is expressed in its own *canonical frame*: origin at the centroid of the root markers (the pelvis
landmarks), axes those of OpenSim's ground (y up) turned about the vertical by the frame's *heading* ``h`` so
that the subject faces +x. The heading is the horizontal direction from the back markers' centroid (PSIS) to the
front markers' centroid (ASIS): ``Ry(h) @ [1, 0, 0] = forward``, i.e. ``h = atan2(-f_z, f_x)``.

The network therefore sees the same input wherever the subject stands and whichever way it faces; the motion of
the root across a window enters as each frame's root offset and heading change relative to the window's
reference frame (:func:`relative_root`). The network predicts the root joint's rotation (6D) and translation in
the output frame's canonical frame, and :func:`restore_root` puts them back into ground exactly
(``R = Ry(h) R_c``, ``t = o + Ry(h) t_c``), from which :class:`RootJoint` reads the root coordinates.

Shapes: ``(..., M, 3)`` markers in metres, ground frame, y up; ``(...,)`` headings in radians.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from ..errors import UnsupportedModelError


def rot_y(angle: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) rotation about +y by ``angle`` (...,) radians."""
    c, s = torch.cos(angle), torch.sin(angle)
    z, o = torch.zeros_like(angle), torch.ones_like(angle)
    return torch.stack([c, z, s, z, o, z, -s, z, c], dim=-1).reshape(*angle.shape, 3, 3)


def _centroid(markers: torch.Tensor, present: torch.Tensor, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Centroid (..., 3) of the present markers among ``idx``, and whether any was present (...,)."""
    w = present[..., idx].to(markers.dtype)
    n = w.sum(-1)
    c = (markers[..., idx, :] * w[..., None]).sum(-2) / n.clamp_min(1.0)[..., None]
    return c, n > 0


def root_frames(markers: torch.Tensor, present: torch.Tensor, root_idx: torch.Tensor, front_idx: torch.Tensor,
                back_idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Origin (..., 3) and heading (...,) of each frame's canonical frame.

    Args:
        markers: (..., M, 3) metres, ground frame; values where ``present`` is False are ignored (may be NaN).
        present: (..., M) bool.
        root_idx, front_idx, back_idx: marker indices (long) of the root, front and back landmarks.

    When every root marker is missing the origin is the centroid of all present markers; when the front or back
    markers are missing the heading is 0 (facing +x).
    """
    markers = torch.where(present[..., None], markers, torch.zeros_like(markers))
    origin, ok = _centroid(markers, present, root_idx)
    all_idx = torch.arange(markers.shape[-2], device=markers.device)
    fallback, _ = _centroid(markers, present, all_idx)
    origin = torch.where(ok[..., None], origin, fallback)
    front, ok_f = _centroid(markers, present, front_idx)
    back, ok_b = _centroid(markers, present, back_idx)
    f = front - back
    heading = torch.atan2(-f[..., 2], f[..., 0])
    heading = torch.where(ok_f & ok_b, heading, torch.zeros_like(heading))
    return origin, heading


def to_canonical(points: torch.Tensor, origin: torch.Tensor, heading: torch.Tensor) -> torch.Tensor:
    """(..., K, 3) ground points -> the canonical frame of (origin (..., 3), heading (...,)): ``Ry(-h)(p - o)``."""
    r = rot_y(-heading)
    return torch.einsum("...ij,...kj->...ki", r, points - origin[..., None, :])


def relative_root(origin: torch.Tensor, heading: torch.Tensor, ref: int = -1) -> torch.Tensor:
    """(B, T, 5) each frame's root relative to frame ``ref`` of its window: offset (3, m, in the reference's
    canonical frame), sin and cos of the heading change.

    Args:
        origin: (B, T, 3); heading: (B, T).
    """
    o_ref, h_ref = origin[:, ref], heading[:, ref]
    d = torch.einsum("bij,btj->bti", rot_y(-h_ref), origin - o_ref[:, None])
    dh = heading - h_ref[:, None]
    return torch.cat([d, torch.sin(dh)[..., None], torch.cos(dh)[..., None]], dim=-1)


def rotation_6d_to_matrix(x: torch.Tensor) -> torch.Tensor:
    """(..., 6) two 3-vectors -> (..., 3, 3) rotation (Gram-Schmidt; the vectors are the first two columns)."""
    a, b = x[..., :3], x[..., 3:]
    c1 = torch.nn.functional.normalize(a, dim=-1, eps=1e-8)
    b = b - (c1 * b).sum(-1, keepdim=True) * c1
    c2 = torch.nn.functional.normalize(b, dim=-1, eps=1e-8)
    c3 = torch.cross(c1, c2, dim=-1)
    return torch.stack([c1, c2, c3], dim=-1)


def matrix_to_rotation_6d(r: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 6): the first two columns."""
    return torch.cat([r[..., :, 0], r[..., :, 1]], dim=-1)


def restore_root(rot_c: torch.Tensor, trans_c: torch.Tensor, origin: torch.Tensor,
                 heading: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Canonical root rotation (..., 3, 3) and translation (..., 3) -> ground: ``Ry(h) R_c``, ``o + Ry(h) t_c``."""
    r = rot_y(heading)
    return r @ rot_c, origin + torch.einsum("...ij,...j->...i", r, trans_c)


@dataclass(frozen=True)
class RootJoint:
    """The model's root joint: a ground-parented joint with three rotations about (signed) coordinate axes,
    composed body-fixed (``R = R(a1, q1) R(a2, q2) R(a3, q3)``, as OpenSim's CustomJoint does), and three
    translations along the ground axes.

    Attributes:
        rot_index, trans_index: positions of its rotational / translational coordinates in the layer's ``q``.
        axes: (3,) ground axis (0 x, 1 y, 2 z) of each rotation; signs: (3,) +1 / -1 of each rotation axis.
        trans_axes, trans_signs: the same for the translations.
    """

    rot_index: tuple[int, int, int]
    trans_index: tuple[int, int, int]
    axes: tuple[int, int, int]
    signs: tuple[float, float, float]
    trans_axes: tuple[int, int, int]
    trans_signs: tuple[float, float, float]

    @classmethod
    def from_fk(cls, fk) -> "RootJoint":
        """Read the root joint of an :class:`~biopose_opensim.kinematics.OsimFK` layer.

        Raises:
            UnsupportedModelError: the model's first joint is not a 6-coordinate free joint of that form.
        """
        tree = fk.tree
        joint = tree.joints[0]
        where = f"{tree.path}: root joint {joint.name!r}"

        def axis_of(spec, kind):
            a = torch.as_tensor(spec.axis, dtype=torch.float64)
            k = int(a.abs().argmax())
            if spec.coordinate is None or abs(abs(float(a[k])) - 1.0) > 1e-9 or float(a.abs().sum()) - 1.0 > 1e-9:
                raise UnsupportedModelError(f"{where}: NeurIK needs {kind} about/along coordinate axes driven by "
                                            f"one coordinate each (got axis {list(spec.axis)} for {spec.coordinate})")
            return k, float(torch.sign(a[k])), fk.coordinate_names.index(spec.coordinate)

        if (abs(joint.parent_frame.rotation - torch.eye(3).numpy()).max() > 1e-12
                or abs(joint.parent_frame.origin_matrix).max() > 1e-12):
            raise UnsupportedModelError(f"{where}: NeurIK needs the root joint's parent frame to be ground itself")
        try:
            rot = [axis_of(s, "rotations") for s in joint.rotations]
            tra = [axis_of(s, "translations") for s in joint.translations]
        except ValueError:
            raise UnsupportedModelError(f"{where}: its coordinates must be independent model coordinates") from None
        if sorted(r[0] for r in rot) != [0, 1, 2] or sorted(t[0] for t in tra) != [0, 1, 2]:
            raise UnsupportedModelError(f"{where}: NeurIK needs three rotations and three translations about/along "
                                        "distinct axes (a free joint)")
        return cls(rot_index=tuple(r[2] for r in rot), trans_index=tuple(t[2] for t in tra),
                   axes=tuple(r[0] for r in rot), signs=tuple(r[1] for r in rot),
                   trans_axes=tuple(t[0] for t in tra), trans_signs=tuple(t[1] for t in tra))

    @property
    def index(self) -> tuple[int, ...]:
        return self.rot_index + self.trans_index

    def matrix(self, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Root rotation (..., 3, 3) and translation (..., 3) in ground from ``q`` (..., C)."""
        r = None
        for k, sign, i in zip(self.axes, self.signs, self.rot_index):
            m = _axis_rotation(k, sign * q[..., i])
            r = m if r is None else r @ m
        cols = [None, None, None]
        for k, sign, i in zip(self.trans_axes, self.trans_signs, self.trans_index):
            cols[k] = sign * q[..., i]
        return r, torch.stack(cols, dim=-1)

    def coordinates(self, rot: torch.Tensor, trans: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Inverse of :meth:`matrix`: root rotation angles (..., 3) and translations (..., 3), ``rot_index`` /
        ``trans_index`` order. Angles are the body-fixed Tait-Bryan angles of ``rot`` (middle angle in
        [-pi/2, pi/2])."""
        perm = torch.zeros(3, 3, dtype=rot.dtype, device=rot.device)
        for row, k in enumerate(self.axes):
            perm[row, k] = 1.0
        det = float(torch.linalg.det(perm))
        r = perm @ rot @ perm.T  # = Rx(d a1) Ry(d a2) Rz(d a3), d = det(perm)
        a1 = torch.atan2(-r[..., 1, 2], r[..., 2, 2])
        a2 = torch.asin(r[..., 0, 2].clamp(-1.0, 1.0))
        a3 = torch.atan2(-r[..., 0, 1], r[..., 0, 0])
        angles = torch.stack([a1, a2, a3], dim=-1) * det
        angles = angles * torch.tensor(self.signs, dtype=rot.dtype, device=rot.device)
        trans_q = torch.stack([trans[..., k] * sign for k, sign in zip(self.trans_axes, self.trans_signs)], dim=-1)
        return angles, trans_q


def _axis_rotation(axis: int, angle: torch.Tensor) -> torch.Tensor:
    c, s = torch.cos(angle), torch.sin(angle)
    z, o = torch.zeros_like(angle), torch.ones_like(angle)
    if axis == 0:
        m = [o, z, z, z, c, -s, z, s, c]
    elif axis == 1:
        m = [c, z, s, z, o, z, -s, z, c]
    else:
        m = [c, -s, z, s, c, z, z, z, o]
    return torch.stack(m, dim=-1).reshape(*angle.shape, 3, 3)


def marker_indices(names: Sequence[str], wanted: Sequence[str], what: str) -> torch.Tensor:
    """Indices of ``wanted`` in ``names`` (long); a missing one is an error naming it."""
    missing = [w for w in wanted if w not in names]
    if missing:
        from ..errors import MarkerMismatchError

        raise MarkerMismatchError(f"{what} markers {missing} are not in the marker set ({len(names)} markers)")
    return torch.tensor([list(names).index(w) for w in wanted], dtype=torch.long)


@dataclass
class WindowInputs:
    """Network inputs of a batch of windows.

    Attributes:
        x: (B, T, M, 4) canonical marker xyz (m; 0 where missing) and presence (0 / 1).
        rel: (B, T, 5) root offset and heading change of each frame relative to the window's last frame.
        origin: (B, T, 3) each frame's canonical origin in ground, m.
        heading: (B, T) each frame's heading, rad.
    """

    x: torch.Tensor
    rel: torch.Tensor
    origin: torch.Tensor
    heading: torch.Tensor


def frame_inputs(markers: torch.Tensor, present: torch.Tensor, root_idx: torch.Tensor, front_idx: torch.Tensor,
                 back_idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Ground markers (..., M, 3) with presence (..., M) -> network input ``x`` (..., M, 4): canonical xyz (m, 0
    where missing) and the presence flag; with each frame's origin (..., 3) and heading (...,)."""
    origin, heading = root_frames(markers, present, root_idx, front_idx, back_idx)
    clean = torch.where(present[..., None], markers, torch.zeros_like(markers))
    canon = to_canonical(clean, origin, heading) * present[..., None]
    return torch.cat([canon, present[..., None].to(canon.dtype)], dim=-1), origin, heading


def window_inputs(markers: torch.Tensor, present: torch.Tensor, root_idx: torch.Tensor, front_idx: torch.Tensor,
                  back_idx: torch.Tensor) -> WindowInputs:
    """Ground markers (B, T, M, 3) with presence (B, T, M) -> :class:`WindowInputs`."""
    x, origin, heading = frame_inputs(markers, present, root_idx, front_idx, back_idx)
    return WindowInputs(x=x, rel=relative_root(origin, heading), origin=origin, heading=heading)
