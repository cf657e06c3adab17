"""Thin wrappers over the real OpenSim API (the ``opensim`` Python package)."""
from ._opensim import import_opensim

__all__ = ["import_opensim"]
