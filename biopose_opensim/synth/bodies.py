"""Body meshes driven by OpenSim kinematics: model coordinates -> posed mesh -> virtual markers.

For Anny (the default) a subject is an :class:`~biopose_opensim.bodymodels.anny.AnnyShape`; its calibration
against the OpenSim model (:func:`biopose_opensim.motion.retarget.calibrate`) fixes how each bone follows
the OpenSim body that drives it; every frame of a coordinate motion then poses the mesh, and the
virtual-marker set reads its markers off the mesh (OpenSim ground frame, metres, y up), through
:func:`biopose_opensim.motion.trials.virtual_marker_trajectories`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..bodymodels.registry import body_model_spec
from ..errors import ConfigError
from ..markers.sets import VirtualMarkerSet, load_marker_set
from ..motion.coordinates import CoordinateMotion
from .subjects import SubjectShape

log = logging.getLogger(__name__)

#: Density used to turn mesh volume into mass, kg/m^3 (Anny's anthropometry uses the same value).
BODY_DENSITY = 980.0


@dataclass(frozen=True)
class BodyMeasures:
    """Anthropometry of a rest mesh: height (m, vertical extent) and mass (kg, volume × density)."""

    height: float
    mass: float


def mesh_volume(vertices: np.ndarray, faces: np.ndarray) -> float:
    """Enclosed volume (m³) of a closed triangle mesh, by the divergence theorem."""
    v0, v1, v2 = vertices[faces[:, 0]], vertices[faces[:, 1]], vertices[faces[:, 2]]
    return float(abs(np.einsum("ij,ij->i", np.cross(v0, v1), v2).sum() / 6.0))


class AnnySubjectBody:
    """One Anny subject, calibrated against an OpenSim model, producing virtual markers from coordinates.

    Args:
        shape: the subject (Anny phenotypes).
        model_path: the OpenSim model the coordinates belong to.
        marker_set: virtual-marker set (name or YAML) on Anny's topology.
    """

    def __init__(self, shape: SubjectShape, model_path: str | Path, marker_set: str | Path | VirtualMarkerSet):
        from ..bodymodels.anny import AnnyShape
        from ..motion.retarget import calibrate

        spec = body_model_spec(shape.body_model, synth=True)
        if spec.family != "anny":
            raise ConfigError(f"subject {shape.name!r} is not an Anny subject")
        self.shape = AnnyShape.from_dict(shape.phenotype_dict())
        self.body = spec.load(None, shape.sex)
        self.model_path = str(model_path)
        self.calib = calibrate(self.body, self.model_path, self.shape)
        self.marker_set = marker_set if isinstance(marker_set, VirtualMarkerSet) else load_marker_set(marker_set)
        self.marker_set.check_body_model(self.body.n_vertices, self.body.joint_names, "Anny")

    @property
    def marker_names(self) -> tuple[str, ...]:
        return self.marker_set.names

    def measures(self) -> BodyMeasures:
        """Height and mass of the subject's rest mesh."""
        rest = self.body.rest(self.shape)
        v = rest.vertices[0].numpy()
        return BodyMeasures(height=float(np.ptp(v[:, 2])),
                            mass=BODY_DENSITY * mesh_volume(v, self.body.faces.numpy()))

    def markers(self, motion: CoordinateMotion) -> np.ndarray:
        """(T, M, 3) virtual markers, metres, OpenSim ground frame, for a coordinate ``motion`` of the model.

        Ground projections use the lowest vertex of the whole trial, as a floor would.
        """
        from ..motion.trials import virtual_marker_trajectories

        data = virtual_marker_trajectories(self.body, self.model_path, motion, self.marker_set,
                                           calibration=self.calib, ground="sequence")
        return data.positions
