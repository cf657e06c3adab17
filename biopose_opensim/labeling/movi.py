"""BML-MoVi adapter: one ``F_v3d_Subject_N.mat`` file becomes a subject folder of TRC marker trials.

Public layout of the MoVi "F" round V3D files (Ghorbani et al. 2021, MoVi toolbox), as read here:

* the file holds one struct ``Subject_N_F`` with fields ``move`` and ``subject``;
* ``move`` (a struct, or a 1-element cell holding it) has
  ``markerLocation`` ``(T, M, 3)`` optical marker positions in **mm**, lab frame with **z up**, at **120 Hz**,
  the whole capture with all motions back to back; a missing sample is NaN or the zero vector;
  ``markerGaps``: gap flags; when it is an array of shape ``(T, M)``, non-zero entries mark missing samples;
  ``virtualMarkerLocation`` ``(T, J, 3)`` mm, the joint centres V3D computed (read, not exported);
  ``flags120`` ``(21, 2)`` first and last frame of each motion at 120 Hz, **1-based and inclusive** (MATLAB
  indexing, as the MoVi toolbox slices ``markerLocation(flags120(i,1):flags120(i,2),:,:)``);
  ``flags30`` the same at the 30 fps of the videos (not used); ``motions_list`` the 21 motion names;
  ``markerName`` (when present) the marker names;
* ``subject`` has ``sex`` (and, in some releases, further fields; numeric ``height``/``weight`` are used when
  present).

Marker names: ``move.markerName`` when the file has it; else a names file given by the user (one name per line,
``movi_markers.txt`` beside the .mat files in dataset mode); else ``M01``, ``M02``, ... (IK then needs a marker set
using those names). Conversion rotates z-up to OpenSim's y-up (``(x, y, z) -> (x, z, -y)``) and keeps the
original frame numbers and times (frame / 120 s), so trials stay in sync with the capture.

Static trial: the F round has no separate static capture, so a window is derived: the stillest
``static_seconds`` of the capture (lowest mean marker speed) among frames where every marker is present (or the
most markers present, if no frame has them all). Its quality is logged; check ``static.trc`` before trusting
the scaling.
"""
from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..atomic import atomic_write_text
from ..errors import InputFileError
from ..io import Z_UP_TO_Y_UP, MarkerData, write_trc

log = logging.getLogger(__name__)

MOVI_RATE = 120.0
#: marker samples with every coordinate below this (mm) in magnitude are missing (V3D writes zeros)
ZERO_MM = 1e-6
MARKER_NAMES_FILE = "movi_markers.txt"
_MAT_NAME = re.compile(r"^F_v3d_(Subject_\d+)\.mat$", re.IGNORECASE)
_DONE_FILE = ".converted"


@dataclass(frozen=True)
class MoviMotion:
    """One motion of the capture: frames ``start <= f < stop`` (0-based, half-open) of the 120 Hz arrays."""

    name: str
    start: int
    stop: int


@dataclass(frozen=True, eq=False)
class MoviSubject:
    """One MoVi subject file, read.

    Attributes:
        name: ``"Subject_N"``.
        source: the .mat file.
        marker_names: ``M`` names (from the file, a names file, or generated).
        markers: ``(T, M, 3)`` float64 mm, MoVi lab frame (z up) as stored; NaN where missing (zero vectors and
            ``markerGaps`` applied).
        virtual_markers: ``(T, J, 3)`` mm as stored, or None when the file has none.
        motions: the motions, in file order.
        rate: Hz (120).
        sex: "female"/"male" as in the file (lower case), or None.
        height: m, or None.
        mass: kg, or None.
        names_from_file: True when ``marker_names`` came from the .mat file.
    """

    name: str
    source: Path
    marker_names: tuple[str, ...]
    markers: np.ndarray
    virtual_markers: np.ndarray | None
    motions: tuple[MoviMotion, ...]
    rate: float = MOVI_RATE
    sex: str | None = None
    height: float | None = None
    mass: float | None = None
    names_from_file: bool = False

    def motion_data(self, motion: MoviMotion) -> MarkerData:
        """Markers of one motion in metres, OpenSim frame (y up); times = original frame / rate (s)."""
        return self._data(motion.start, motion.stop)

    def _data(self, start: int, stop: int) -> MarkerData:
        pos_mm = self.markers[start:stop]
        pos = (pos_mm * 1e-3) @ Z_UP_TO_Y_UP.T
        frames = np.arange(start, stop, dtype=np.int64) + 1
        return MarkerData(self.marker_names, pos, (frames - 1) / self.rate, self.rate, frames, "mm", self.source)


# ---------------------------------------------------------------------------------------------- reading
def _unwrap(x: Any) -> Any:
    """Strip MATLAB's 1-element cells/arrays around a value."""
    while isinstance(x, (list, tuple)) and len(x) == 1:
        x = x[0]
    while isinstance(x, np.ndarray) and x.dtype == object and x.size == 1:
        x = x.reshape(-1)[0]
    return x


def _strings(x: Any) -> list[str]:
    """A MATLAB cell array of strings (or one string) as a list of stripped strings."""
    if isinstance(x, str):
        return [x.strip()]
    items = np.empty(len(x), dtype=object) if isinstance(x, (list, tuple)) else None
    if items is not None:
        items[:] = list(x)
    else:
        items = np.asarray(x, dtype=object)
    return [str(_unwrap(v)).strip() for v in items.reshape(-1)]


def _field(struct: dict, name: str, path: Path, where: str) -> Any:
    if name not in struct:
        raise InputFileError(path, f"{where} has no field {name!r}; fields present: {', '.join(sorted(struct))}")
    return struct[name]


def read_movi(path: str | Path, marker_names: Sequence[str] | None = None) -> MoviSubject:
    """Read a BML-MoVi ``F_v3d_Subject_N.mat`` file.

    Args:
        path: the .mat file.
        marker_names: names to use when the file has no ``markerName`` field (default ``M01``, ``M02``, ...).

    Raises:
        InputFileError: not a readable MAT file, fields missing or of the wrong shape, motion flags out of range.
    """
    from scipy.io import loadmat

    path = Path(path)
    try:
        mat = loadmat(path, simplify_cells=True)
    except FileNotFoundError:
        raise InputFileError(path, "file not found") from None
    except Exception as exc:  # noqa: BLE001 - scipy raises several types for a bad file
        raise InputFileError(path, f"not a readable MATLAB .mat file: {exc}") from None
    keys = [k for k in mat if not k.startswith("__")]
    structs = [k for k in keys if isinstance(mat[k], dict) and "move" in mat[k]]
    if len(structs) != 1:
        raise InputFileError(path, f"expected one struct Subject_N_F with a 'move' field, found variables: "
                                   f"{', '.join(keys) or 'none'}")
    var = structs[0]
    top = mat[var]
    move = _unwrap(top["move"])
    if isinstance(move, (list, np.ndarray)):
        raise InputFileError(path, f"{var}.move holds {len(move)} captures; only the F round (one capture) is "
                                   "supported")
    if not isinstance(move, dict):
        raise InputFileError(path, f"{var}.move is not a struct")
    where = f"{var}.move"

    markers = np.asarray(_field(move, "markerLocation", path, where), dtype=np.float64)
    if markers.ndim != 3 or markers.shape[2] != 3:
        raise InputFileError(path, f"{where}.markerLocation must have shape (frames, markers, 3), got {markers.shape}")
    n_frames, n_markers, _ = markers.shape
    markers = markers.copy()
    markers[np.all(np.abs(markers) < ZERO_MM, axis=2)] = np.nan
    markers[np.isnan(markers).any(axis=2)] = np.nan
    gaps = move.get("markerGaps")
    if gaps is not None:
        gaps = np.asarray(gaps)
        if gaps.shape == (n_frames, n_markers):
            markers[gaps.astype(bool)] = np.nan
        else:
            log.debug("%s: markerGaps of shape %s is not (frames, markers); not used", path, gaps.shape)

    virtual = move.get("virtualMarkerLocation")
    if virtual is not None:
        virtual = np.asarray(virtual, dtype=np.float64)
        if virtual.ndim != 3 or virtual.shape[0] != n_frames or virtual.shape[2] != 3:
            raise InputFileError(path, f"{where}.virtualMarkerLocation must have shape ({n_frames}, joints, 3), "
                                       f"got {virtual.shape}")

    motions = _motions(path, where, move, n_frames)
    names, from_file = _marker_names(path, where, move, n_markers, marker_names)
    subject = _unwrap(top.get("subject")) if isinstance(_unwrap(top.get("subject")), dict) else {}
    sex = subject.get("sex")
    sex = str(_unwrap(sex)).strip().lower() if sex is not None and np.size(sex) else None
    height = _number(subject.get("height"))
    if height is not None and height > 3.0:  # given in cm
        height /= 100.0
    mass = _number(subject.get("weight", subject.get("mass")))
    m = re.match(r"^(Subject_\d+)", var)
    name = m.group(1) if m else path.stem
    return MoviSubject(name, path, names, markers, virtual, motions, MOVI_RATE, sex or None, height, mass, from_file)


def _number(x: Any) -> float | None:
    x = _unwrap(x)
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def _motions(path: Path, where: str, move: dict, n_frames: int) -> tuple[MoviMotion, ...]:
    names = _strings(_field(move, "motions_list", path, where))
    flags = np.asarray(_field(move, "flags120", path, where))
    if flags.ndim == 1 and flags.size == 2:
        flags = flags.reshape(1, 2)
    if flags.ndim != 2 or flags.shape[1] != 2 or flags.shape[0] != len(names):
        raise InputFileError(path, f"{where}.flags120 must have shape ({len(names)}, 2) for {len(names)} motions in "
                                   f"motions_list, got {flags.shape}")
    motions = []
    for name, (first, last) in zip(names, flags):
        if not (float(first).is_integer() and float(last).is_integer()):
            raise InputFileError(path, f"{where}.flags120 of motion {name!r} must be whole frame numbers, "
                                       f"got ({first}, {last})")
        first, last = int(first), int(last)
        if not 1 <= first <= last <= n_frames:
            raise InputFileError(path, f"{where}.flags120 of motion {name!r} is ({first}, {last}); expected "
                                       f"1 <= first <= last <= {n_frames} (1-based frames of markerLocation)")
        motions.append(MoviMotion(name, first - 1, last))
    return tuple(motions)


def _marker_names(path: Path, where: str, move: dict, n_markers: int,
                  given: Sequence[str] | None) -> tuple[tuple[str, ...], bool]:
    for key in ("markerName", "markerNames"):
        if key in move:
            names = _strings(move[key])
            if len(names) != n_markers:
                raise InputFileError(path, f"{where}.{key} has {len(names)} names for {n_markers} markers")
            return tuple(names), True
    if given is not None:
        names = [str(n).strip() for n in given]
        if len(names) != n_markers:
            raise InputFileError(path, f"{n_markers} markers in {where}.markerLocation but {len(names)} marker "
                                       "names were given")
        return tuple(names), False
    width = max(2, len(str(n_markers)))
    return tuple(f"M{i + 1:0{width}d}" for i in range(n_markers)), False


def read_marker_names(path: Path) -> list[str]:
    """Marker names from a text file: one per line; blank lines and ``#`` comments ignored."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputFileError(path, f"cannot read marker names: {exc.strerror}") from None
    names = [ln.split("#", 1)[0].strip() for ln in lines]
    return [n for n in names if n]


# ---------------------------------------------------------------------------------------------- static window
def find_static_window(markers: np.ndarray, rate: float, seconds: float) -> tuple[int, int]:
    """The stillest window of ``seconds`` among frames with the most markers present.

    Args:
        markers: ``(T, M, 3)`` positions (any length unit), NaN where missing.
        rate: Hz.
        seconds: window length.

    Returns:
        ``(start, stop)`` 0-based, half-open frame range of length ``round(seconds * rate)`` (or ``T`` if shorter).
    """
    n = markers.shape[0]
    length = max(2, min(n, int(round(seconds * rate))))
    present = (~np.isnan(markers).any(axis=2)).sum(axis=1)  # (T,)
    # speed per frame: mean over markers of |p[t+1] - p[t]|, NaN-aware; frames lacking markers are not eligible
    step = np.linalg.norm(np.diff(markers, axis=0), axis=2)  # (T-1, M), NaN where a marker is missing
    counts = (~np.isnan(step)).sum(axis=1)
    speed = np.where(counts > 0, np.nansum(step, axis=1) / np.maximum(counts, 1), np.nan)
    speed = np.concatenate([speed, speed[-1:]]) if speed.size else np.zeros(n)
    best = present.max()
    eligible = (present == best) & np.isfinite(speed)
    cost = np.where(eligible, speed, np.inf)
    # windows whose frames are all eligible; pick the lowest summed speed
    csum = np.concatenate([[0.0], np.cumsum(np.where(np.isfinite(cost), cost, 0.0))])
    cbad = np.concatenate([[0], np.cumsum(~np.isfinite(cost))])
    starts = np.arange(0, n - length + 1)
    total = csum[starts + length] - csum[starts]
    bad = cbad[starts + length] - cbad[starts]
    total = np.where(bad == 0, total, np.inf)
    if not np.isfinite(total).any():  # no run of eligible frames that long: least-bad window
        total = (csum[starts + length] - csum[starts]) + 1e12 * bad
    i = int(np.argmin(total))
    return i, i + length


# ---------------------------------------------------------------------------------------------- conversion
def motion_file_stem(index: int, name: str) -> str:
    """File stem of the ``index``-th (0-based) motion: ``"03_jumping_jacks"`` (order kept, safe characters)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower() or "motion"
    return f"{index + 1:02d}_{slug}"


@dataclass(frozen=True)
class MoviConversion:
    """A MoVi subject written as a "folders"-layout subject.

    Attributes:
        name: ``"Subject_N"``.
        folder: the subject folder (``static.trc``, ``trials/*.trc``, ``subject.toml``).
        static_frames: ``(start, stop)`` 0-based half-open frames of the capture used as the static trial.
        n_trials: motion trials written.
        skipped: True when an up-to-date conversion was found and reused.
    """

    name: str
    folder: Path
    static_frames: tuple[int, int]
    n_trials: int
    skipped: bool


def convert_movi_subject(mat_path: Path, out_root: Path, marker_names: Sequence[str] | None = None,
                         static_seconds: float = 2.0, overwrite: bool = False) -> MoviConversion:
    """Write ``out_root/Subject_N/{static.trc, trials/NN_<motion>.trc, subject.toml}`` from one MoVi file.

    A previous conversion newer than the .mat file is reused unless ``overwrite``. Files are written atomically
    and the conversion is marked complete only when every file is written.
    """
    mat_path = Path(mat_path)
    m = _MAT_NAME.match(mat_path.name)
    name = m.group(1) if m else mat_path.stem
    folder = Path(out_root) / name
    done = folder / _DONE_FILE
    if not overwrite and done.is_file() and done.stat().st_mtime >= mat_path.stat().st_mtime:
        start, stop, n_trials = (int(v) for v in done.read_text(encoding="utf-8").split())
        log.info("%s: conversion up to date in %s, reused", mat_path.name, folder)
        return MoviConversion(name, folder, (start, stop), n_trials, True)
    subject = read_movi(mat_path, marker_names)
    if subject.name != name:
        log.warning("%s holds %s; using the file's name %s for the folder", mat_path, subject.name, name)
    if done.exists():
        done.unlink()
    start, stop = find_static_window(subject.markers, subject.rate, static_seconds)
    static = subject._data(start, stop)
    present = (~np.isnan(static.positions).any(axis=2)).all(axis=0).sum()
    steps = np.linalg.norm(np.diff(static.positions, axis=0), axis=2)
    speed = float(np.nanmean(steps)) * subject.rate if np.isfinite(steps).any() else float("nan")
    log.info("%s: static window frames %d-%d (%.2f-%.2f s), %d/%d markers present throughout, mean marker "
             "speed %.3f m/s", name, start + 1, stop, start / subject.rate, (stop - 1) / subject.rate, present,
             len(subject.marker_names), speed)
    write_trc(folder / "static.trc", static, units="mm")
    for i, motion in enumerate(subject.motions):
        trial = folder / "trials" / f"{motion_file_stem(i, motion.name)}.trc"
        write_trc(trial, subject.motion_data(motion), units="mm")
    lines = [f"# {name}, converted from {mat_path.name} (BML-MoVi F round)"]
    if subject.mass is not None:
        lines.append(f"mass = {subject.mass!r}")
    if subject.height is not None:
        lines.append(f"height = {subject.height!r}")
    if subject.sex in ("female", "male"):
        lines.append(f'sex = "{subject.sex}"')
    atomic_write_text(folder / "subject.toml", "\n".join(lines) + "\n")
    atomic_write_text(done, f"{start} {stop} {len(subject.motions)}\n")
    return MoviConversion(name, folder, (start, stop), len(subject.motions), False)


def find_movi_files(root: Path) -> list[Path]:
    """``F_v3d_Subject_*.mat`` files directly under ``root``, in subject-number order."""
    files = [p for p in Path(root).glob("*.mat") if _MAT_NAME.match(p.name)]

    def number(p: Path) -> int:
        return int(re.search(r"(\d+)\.mat$", p.name).group(1))

    return sorted(files, key=number)
