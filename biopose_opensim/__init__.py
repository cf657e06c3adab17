"""biopose_opensim: biomechanically accurate 3D pose from video and markers, validated by OpenSim.

An implementation of the BioPose system (Koleini, Saleem et al., 2025) as an OpenSim plugin:
OpenSim ground truth (``label``), a differentiable OpenSim forward-kinematics layer (``kinematics``),
virtual markers on body meshes (``markers``, ``bodymodels``) and synthetic OpenSim-labelled datasets (``synth``).
"""
import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
