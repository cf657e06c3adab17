"""Recorded data sets in the synthetic dataset format: AMASS/BML-MoVi (SMPL-H), BEDLAM (SMPL-X), OpenCap.

``python -m biopose_opensim.adapters {amass,bedlam,opencap} ...``; see ``docs/datasets.md``.
"""
from .opencap import OpenCapSession, OpenCapTrial, read_opencap_session
from .sequences import SmplSequence, read_amass, read_bedlam

__all__ = ["OpenCapSession", "OpenCapTrial", "SmplSequence", "read_amass", "read_bedlam", "read_opencap_session"]
