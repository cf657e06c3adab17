"""File formats: TRC and C3D marker trials, MOT/STO motions, and marker gap filling.

Inside the package, lengths are metres and angles radians; files keep their own units, which these readers
and writers convert (see ``docs/file_formats.md``).
"""
from .c3d import Z_UP_TO_Y_UP, read_c3d
from .gaps import GapReport, fill_gaps
from .markerdata import MarkerData
from .mot import MotionData, read_coordinates, read_mot, write_coordinates_mot, write_mot
from .trc import read_trc, write_trc

__all__ = [
    "MarkerData",
    "read_trc",
    "write_trc",
    "read_c3d",
    "Z_UP_TO_Y_UP",
    "MotionData",
    "read_mot",
    "write_mot",
    "write_coordinates_mot",
    "read_coordinates",
    "GapReport",
    "fill_gaps",
]
