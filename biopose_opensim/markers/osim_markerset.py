"""A virtual-marker set as OpenSim data: IK marker tasks, and Scale/IK setup templates.

The set's IK weights become :class:`~biopose_opensim.osim.setups.MarkerTask` s (weight 0: ``apply = false``);
:func:`ik_setup` and :func:`scale_setup` wrap them in the :mod:`biopose_opensim.osim.setups` dataclasses, which
:func:`~biopose_opensim.osim.setups.write_ik_setup` / :func:`~biopose_opensim.osim.setups.write_scale_setup`
write as OpenSim setup files. The markers themselves, placed on a model, are
:class:`~biopose_opensim.osim.model.MarkerInfo` s written by :func:`~biopose_opensim.osim.markerset.write_markers`.
Model and trial files stay unassigned in these templates; the labelling pipeline fills them in.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from ..osim.setups import IKSetup, MarkerTask, Measurement, ScaleSetup


def marker_tasks(weights: Mapping[str, float]) -> tuple[MarkerTask, ...]:
    """IK marker tasks with ``weights`` (marker name -> weight, in order); weight 0 is not applied."""
    return tuple(MarkerTask(name, float(w), bool(w > 0)) for name, w in weights.items())


def ik_setup(weights: Mapping[str, float], name: str = "ik", accuracy: float = 1e-6) -> IKSetup:
    """An InverseKinematicsTool setup template: marker tasks with ``weights`` (0: not applied)."""
    return IKSetup(name=name, accuracy=accuracy, marker_tasks=marker_tasks(weights))


def scale_setup(measurements: Sequence[Measurement], weights: Mapping[str, float], name: str = "scale",
                time_range: tuple[float, float] = (0.0, 0.5)) -> ScaleSetup:
    """A ScaleTool setup template: measurement-based scaling, then marker placement with ``weights``.

    ``time_range`` (s) is the static window of scaling and marker placement: the first half second, which the
    synthetic static trials (1 s from t = 0) cover. Subject mass and height are left unspecified.
    """
    return ScaleSetup(name=name, scaling_order=("measurements",), measurements=tuple(measurements),
                      time_range=tuple(float(t) for t in time_range), preserve_mass_distribution=True,
                      marker_tasks=marker_tasks(weights))
