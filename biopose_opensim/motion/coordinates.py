"""OpenSim coordinate trajectories for a given model: reading ``.mot`` files, mapping coordinate names, static poses.

A :class:`CoordinateMotion` holds every coordinate of the model (model order), radians for rotational and metres
for translational coordinates. Coordinates a motion file lacks take the model's default values (e.g. the
default model's ``pelvis_ty = 0.94`` m, standing on the floor at y = 0).

``gait2392`` mapping: the OpenSim example motions (``tests/data/motions/*.mot``) use gait2392/2354 coordinate
names, which the default Rajagopal-family model shares except for the knee sign
(:data:`~biopose_opensim.osim.coordinate_maps.GAIT2392_TO_RAJAGOPAL`). Which columns are mapped, passed through,
recomputed or ignored follows the rules that motion templates follow too: the table in ``docs/datasets.md``
("Motion files"), implemented by :func:`~biopose_opensim.osim.coordinate_maps.map_motion_columns`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..errors import CoordinateMismatchError
from ..osim.coordinate_maps import (  # noqa: F401 (COORDINATE_MAPS, GAIT2392_TO_RAJAGOPAL re-exported)
    COORDINATE_MAPS,
    GAIT2392_TO_RAJAGOPAL,
    map_motion_columns,
    resolve_map,
)
from ..osim.coordinate_space import CoordinateSpace

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class CoordinateMotion:
    """Coordinate trajectories of one model: the one motion type from activities to body models to files.

    Attributes:
        times: ``(T,)`` seconds.
        q: ``(T, N)`` radians (rotational) / metres (translational), columns in ``coordinate_names`` order.
        coordinate_names: ``N`` model coordinate names.
        rotational: ``(N,)`` bool, columns written in degrees in a ``.mot``.
        name: trial name (activity name or motion-file stem, plus an index).
        activity: the activity or template a generated motion came from (``walk``, ``squat``, ``normal`` …);
            ``None`` for a motion read from a file or a static pose.
        params: the per-subject parameters a generated motion was drawn with (JSON-friendly); empty otherwise.
    """

    times: np.ndarray
    q: np.ndarray
    coordinate_names: tuple[str, ...]
    rotational: np.ndarray
    name: str = "motion"
    activity: str | None = None
    params: Mapping[str, float | str] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return int(self.q.shape[0])

    @property
    def fps(self) -> float:
        """Frames per second (0 for a single frame), from the first and last of ``times``."""
        return float((self.n_frames - 1) / (self.times[-1] - self.times[0])) if self.n_frames > 1 else 0.0

    def column(self, name: str) -> np.ndarray:
        """``(T,)`` values of coordinate ``name``."""
        try:
            return self.q[:, self.coordinate_names.index(name)]
        except ValueError:
            raise CoordinateMismatchError(f"coordinate {name!r} is not in motion {self.name!r}") from None

    def frames(self, index) -> "CoordinateMotion":
        """The rows ``index`` (a slice or index array) of this motion."""
        return replace(self, times=self.times[index], q=self.q[index])

    def write(self, path: str | Path) -> Path:
        """Write the motion as an OpenSim ``.mot`` (degrees for rotational coordinates, ``inDegrees=yes``)."""
        from ..io import write_coordinates_mot

        write_coordinates_mot(path, self.times, self.q, list(self.coordinate_names), self.rotational)
        return Path(path)


def motion_from_columns(
    coords: CoordinateSpace,
    times: np.ndarray,
    values: np.ndarray,
    names: Sequence[str],
    coordinate_map: str | Mapping[str, tuple[str, float]] | None = None,
    name: str = "motion",
    source: str = "motion",
) -> CoordinateMotion:
    """Place columns ``values`` ``(T, K)`` (radians/metres) named ``names`` into the model's coordinate order.

    Columns follow :func:`~biopose_opensim.osim.coordinate_maps.map_motion_columns` (the table in
    ``docs/datasets.md``, "Motion files"): mapped with the map's sign, model-named columns unchanged, coupled
    coordinates recomputed from their coupler, marker locations and forces ignored (logged). Model coordinates
    without a column keep their default value.

    Raises:
        CoordinateMismatchError: columns that are neither model coordinates nor known non-coordinates (listed), or
            no column matches any model coordinate.
    """
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    values = np.asarray(values, dtype=np.float64)
    cols = map_motion_columns(names, coords.names, coordinate_map, coupled=coords.coupled)
    if cols.unknown:
        raise CoordinateMismatchError(
            f"{source}: {len(cols.unknown)} column(s) do not match coordinates of the model: "
            f"{', '.join(cols.unknown)} (read in the {cols.convention} convention; not marker locations "
            f"<marker>_tx/_ty/_tz or forces either); the model's coordinates are {', '.join(coords.names)}")
    if not cols.mapped:
        raise CoordinateMismatchError(
            f"{source}: none of its columns ({', '.join(names)}) is a coordinate of the model "
            f"({', '.join(coords.names)})"
        )
    q = np.tile(coords.default, (times.shape[0], 1))
    index = {n: j for j, n in enumerate(names)}
    for col, target, sign in cols.mapped:
        q[:, coords.index(target)] = sign * values[:, index[col]]
    q = coords.apply_couplers(q)
    if cols.ignored or cols.coupled:
        log.info("%s: %d column(s) not read: coupled coordinates (follow their coupler) %s; marker locations and "
                 "forces %d", source, len(cols.ignored) + len(cols.coupled), ", ".join(cols.coupled) or "none",
                 len(cols.ignored))
    used = {t for _, t, _ in cols.mapped}
    missing = [c for c in coords.names if c not in used and c not in coords.coupled]
    if missing:
        log.info("%s: %d model coordinate(s) not in the motion keep their defaults: %s", source, len(missing),
                 ", ".join(missing))
    return CoordinateMotion(times, q, coords.names, coords.rotational.copy(), name)


def read_motion(
    path: str | Path, model, coordinate_map: str | Mapping[str, tuple[str, float]] | None = None
) -> CoordinateMotion:
    """Read a ``.mot``/``.sto`` as a :class:`CoordinateMotion` of ``model`` (path or ``opensim.Model``).

    Columns follow the rules of ``docs/datasets.md`` ("Motion files"); unlike motion templates the convention is
    not guessed but given.

    Args:
        coordinate_map: ``None`` or ``"model"`` (names as in the model), ``"gait2392"``
            (:data:`GAIT2392_TO_RAJAGOPAL`; other model-named columns, e.g. full-body arms, unchanged), or a
            mapping source column -> (model coordinate, sign).

    Raises:
        CoordinateMismatchError: an unknown map name, or columns the rules cannot place (listed).
        InputFileError: an unreadable file or model.
    """
    from ..io import read_coordinates

    _, table = resolve_map(coordinate_map)
    coords = CoordinateSpace.from_osim(model)
    rotational = {}
    for n, r in zip(coords.names, coords.rotational):
        rotational[n] = bool(r)
    for src, (dst, _) in table.items():
        if dst in coords.names:
            rotational[src] = bool(coords.rotational[coords.names.index(dst)])
    times, q, names = read_coordinates(path, rotational=rotational)
    return motion_from_columns(coords, times, q, names, coordinate_map, name=Path(path).stem, source=str(path))


def static_motion(
    model, pose: str | Path | Mapping[str, float] = "zero", duration: float = 1.0, rate: float = 60.0,
    coordinate_map: str | Mapping[str, tuple[str, float]] | None = None,
) -> CoordinateMotion:
    """A static trial: the same pose for ``duration`` seconds at ``rate`` Hz.

    Args:
        pose: ``"zero"`` (every coordinate 0 except the root joint's translations, which keep the model's
            defaults: standing on the floor), a mapping coordinate -> value (radians/metres, others as for
            ``"zero"``), or a ``.mot``/``.sto`` file whose first row is used.
    """
    coords = CoordinateSpace.from_osim(model)
    q0 = np.where(np.isin(coords.names, coords.root_translations), coords.default, 0.0)
    if isinstance(pose, Mapping):
        for k, v in pose.items():
            q0[coords.index(k)] = float(v)
    elif str(pose) != "zero":
        q0 = read_motion(pose, model, coordinate_map).q[0]
    n = max(2, int(round(duration * rate)) + 1)
    times = np.arange(n) / rate
    return CoordinateMotion(times, np.tile(q0, (n, 1)), coords.names, coords.rotational.copy(), "static")
