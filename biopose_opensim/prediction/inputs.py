"""Marker trials for prediction: find the TRC files, read them, put their markers in the network's order, and
refuse what cannot be predicted before anything is written.

A trial is refused (``InputFileError`` naming the file) when it lacks markers the network needs (they are
listed) or has frames in which no marker is present (the frames are named). Markers missing in some frames are
kept as missing (the network's presence mask, as in training) and reported.
"""
from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ConfigError, InputFileError
from ..io import read_trc
from ..io.c3d import Z_UP_TO_Y_UP

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class TrialInput:
    """One trial ready for the network.

    Attributes:
        name: the TRC file's stem; path: the TRC file.
        times: (F,) s, from the TRC.
        markers: (F, M, 3) metres, ground frame (y up; a z-up TRC is rotated, see :func:`orient_y_up`), network
            marker order; NaN where missing.
        present: (F, M) bool, True where the marker is present.
        source_units: the TRC's length unit (converted to metres on reading).
    """

    name: str
    path: Path
    times: np.ndarray
    markers: np.ndarray
    present: np.ndarray
    source_units: str

    @property
    def n_frames(self) -> int:
        return int(self.times.shape[0])

    def incomplete_frames(self) -> np.ndarray:
        """Indices of the frames with at least one marker missing."""
        return np.flatnonzero(~self.present.all(axis=1))

    def absent_markers(self, names: Sequence[str]) -> list[str]:
        """Markers (of ``names``, the network's order) missing in at least one frame."""
        return [n for n, ok in zip(names, self.present.all(axis=0)) if not ok]


def find_trials(paths: Sequence[str | Path]) -> list[Path]:
    """The TRC files named by ``paths``: files as given, folders expanded to their ``*.trc`` (sorted).

    Raises:
        InputFileError: a path does not exist, is not a .trc file, or a folder holds no .trc file.
        ConfigError: no trial at all, or two trials share a name (their outputs would collide).
    """
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            trcs = sorted(q for q in p.iterdir() if q.suffix.lower() == ".trc" and q.is_file())
            if not trcs:
                raise InputFileError(p, "folder holds no .trc file")
            found.extend(trcs)
        elif not p.exists():
            raise InputFileError(p, "marker file not found")
        elif p.suffix.lower() != ".trc":
            raise InputFileError(p, f"not a TRC marker file (suffix {p.suffix!r}; expected .trc)")
        else:
            found.append(p)
    if not found:
        raise ConfigError("no trials given: pass --trc with TRC files or folders")
    stems: dict[str, Path] = {}
    for p in found:
        if p.stem in stems and stems[p.stem].resolve() != p.resolve():
            raise ConfigError(f"two trials are named {p.stem!r} ({stems[p.stem]} and {p}); their outputs would collide")
        stems[p.stem] = p
    return list(dict.fromkeys(found))


#: Markers whose centroids give the subject's up direction (feet -> head), when the marker set has them.
HEAD_MARKERS = ("LFHD", "RFHD", "LBHD", "RBHD")
FOOT_MARKERS = ("LANK", "RANK", "LHEE", "RHEE", "LTOE", "RTOE")


def orient_y_up(path: Path, markers: np.ndarray, marker_names: Sequence[str]) -> np.ndarray:
    """``markers`` (F, M, 3) in OpenSim's y-up frame: kept when the subject's feet-to-head direction is +y,
    rotated ``(x, y, z) -> (x, z, -y)`` when it is +z (a z-up lab frame; said in the log), refused otherwise.
    Without head and foot markers in ``marker_names`` the data are taken as y up."""
    head = [i for i, n in enumerate(marker_names) if n in HEAD_MARKERS]
    feet = [i for i, n in enumerate(marker_names) if n in FOOT_MARKERS]
    if not head or not feet:
        return markers
    with warnings.catch_warnings():  # frames missing every head or foot marker: their mean is NaN, left out
        warnings.simplefilter("ignore", RuntimeWarning)
        up = np.nanmean(np.nanmean(markers[:, head], axis=1) - np.nanmean(markers[:, feet], axis=1), axis=0)
    if not np.all(np.isfinite(up)) or np.linalg.norm(up) == 0:
        return markers
    axis = int(np.argmax(np.abs(up)))
    if axis == 1 and up[1] > 0:
        return markers
    if axis == 2 and up[2] > 0:
        log.info("%s: the subject stands along +z (a z-up lab frame): markers rotated to OpenSim's y up, "
                 "(x, y, z) -> (x, z, -y)", path)
        return markers @ Z_UP_TO_Y_UP.T
    names = "xyz"
    raise InputFileError(path, f"the subject's feet-to-head direction is {'-' if up[axis] < 0 else '+'}"
                               f"{names[axis]}; expected +y (OpenSim's up) or +z (a z-up lab frame, converted)")


def read_trial(path: str | Path, marker_names: Sequence[str]) -> TrialInput:
    """Read a TRC and select the network's markers (``marker_names`` order).

    Raises:
        InputFileError: unreadable or malformed file; markers the network needs are absent (listed); frames in
            which no marker is present (listed by frame number and time).
    """
    data = read_trc(path)
    path = Path(path)
    if data.source_units != "m":
        log.info("%s: marker units %s converted to metres", path, data.source_units)
    have = set(data.marker_names)
    lacking = [n for n in marker_names if n not in have]
    if lacking:
        shown = ", ".join(lacking[:30]) + (f" ... ({len(lacking)} in all)" if len(lacking) > 30 else "")
        raise InputFileError(path, f"lacks {len(lacking)} marker(s) the network needs: {shown}")
    extra = len(have) - len(marker_names)
    if extra > 0:
        log.info("%s: %d marker(s) the network does not use are ignored", path, extra)
    idx = [data.marker_names.index(n) for n in marker_names]
    markers = orient_y_up(path, data.positions[:, idx], marker_names)
    present = np.isfinite(markers).all(axis=-1)
    empty = np.flatnonzero(~present.any(axis=1))
    if empty.size:
        shown = ", ".join(f"{data.frame_numbers[i]} (t={data.times[i]:g} s)" for i in empty[:10])
        raise InputFileError(path, f"{empty.size} frame(s) have none of the network's markers: frame {shown}"
                                   + (" ..." if empty.size > 10 else "") + "; remove those frames")
    return TrialInput(name=path.stem, path=path, times=data.times.copy(), markers=markers, present=present,
                      source_units=data.source_units)
