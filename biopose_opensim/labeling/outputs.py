"""Where one subject's outputs go, and the rule that protects results already there.

Layout of ``OUT`` (one subject)::

    <subject>_scaled.osim         scaled model with placed markers (OpenSim ScaleTool)
    <subject>_scale_set.xml       OpenSim's ScaleSet of the applied factors
    <subject>_static_pose.mot     MarkerPlacer's static pose
    <subject>_generic_posed.osim  generic model in the static pose, scaled by setup_scale.xml (no Scale setup)
    <subject>_markers.xml         generic marker set with added static-trial markers (when markers were added)
    scale_factors.json            per-body (x, y, z) scale factors, settings and static-fit error
    setup_scale.xml               the ScaleTool setup that ran (rerunnable in OpenSim)
    setup_ik.xml                  the IK setup template (tasks, accuracy); per trial: <trial>_setup_ik.xml
    <trial>_ik.mot                IK coordinates (degrees for rotational coordinates, inDegrees=yes)
    <trial>_marker_errors.sto     per-frame total/RMS/max and per-marker errors (m)
    labels/<trial>.npz            training labels (markers, q in rad, s per body, names, rates)
    cleaned/<trial>.trc           the marker data handed to OpenSim (renamed, gaps filled, source units)
    plots/<trial>_angles.png      joint-angle plots; report.md; label_config.toml; label.log
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import OutputExistsError

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")

#: Name of the log file written into the output folder.
LOG_NAME = "label.log"


def safe_name(name: str) -> str:
    """A file-name-safe version of a subject or trial name."""
    out = _SAFE.sub("_", name).strip("._")
    return out or "subject"


def subject_name_from_static(static: Path) -> str:
    """A subject name from a static trial's file name: ``subject01_static.trc`` -> ``subject01``."""
    stem = re.sub(r"(^|[_\-. ])static([_\-. ]|$)", r"\1", Path(static).stem, flags=re.IGNORECASE).strip("_-. ")
    return stem or "subject"


def subject_name_from_model(model: Path) -> str:
    """A subject name from a scaled model's file name: ``subject01_scaled.osim`` -> ``subject01``."""
    stem = re.sub(r"[_\-. ]scaled$", "", Path(model).stem, flags=re.IGNORECASE).strip("_-. ")
    return stem or "subject"


@dataclass(frozen=True)
class TrialPaths:
    name: str
    ik_mot: Path
    marker_errors: Path
    labels: Path
    setup_ik: Path
    cleaned_trc: Path
    plot: Path


@dataclass(frozen=True)
class SubjectPaths:
    out_dir: Path
    name: str

    def _p(self, rel: str) -> Path:
        return self.out_dir / rel

    @property
    def scaled_model(self) -> Path:
        return self._p(f"{self.name}_scaled.osim")

    @property
    def scale_set(self) -> Path:
        return self._p(f"{self.name}_scale_set.xml")

    @property
    def markers_xml(self) -> Path:
        """The generic model's markers plus the static-trial markers added to it (when any were added)."""
        return self._p(f"{self.name}_markers.xml")

    @property
    def generic_posed(self) -> Path:
        """The generic model posed like the static trial, which the ScaleTool scales."""
        return self._p(f"{self.name}_generic_posed.osim")

    @property
    def static_pose(self) -> Path:
        return self._p(f"{self.name}_static_pose.mot")

    @property
    def scale_factors_json(self) -> Path:
        return self._p("scale_factors.json")

    @property
    def setup_scale(self) -> Path:
        return self._p("setup_scale.xml")

    @property
    def setup_ik(self) -> Path:
        return self._p("setup_ik.xml")

    @property
    def report(self) -> Path:
        return self._p("report.md")

    @property
    def config_toml(self) -> Path:
        return self._p("label_config.toml")

    @property
    def cleaned_dir(self) -> Path:
        return self._p("cleaned")

    @property
    def labels_dir(self) -> Path:
        return self._p("labels")

    @property
    def plots_dir(self) -> Path:
        return self._p("plots")

    def cleaned_static(self, static: Path) -> Path:
        return self.cleaned_dir / f"{safe_name(Path(static).stem)}.trc"

    def trial(self, trial: Path) -> TrialPaths:
        n = safe_name(Path(trial).stem)
        return TrialPaths(
            name=n, ik_mot=self._p(f"{n}_ik.mot"), marker_errors=self._p(f"{n}_marker_errors.sto"),
            labels=self.labels_dir / f"{n}.npz", setup_ik=self._p(f"{n}_setup_ik.xml"),
            cleaned_trc=self.cleaned_dir / f"{n}.trc", plot=self.plots_dir / f"{n}_angles.png",
        )

    def existing_results(self) -> list[Path]:
        """Result files already in the folder (label.log and dot-files do not count)."""
        found = [p for p in (self.scaled_model, self.scale_factors_json, self.report, self.setup_scale)
                 if p.exists()]
        if self.out_dir.is_dir():
            found += sorted(self.out_dir.glob("*_ik.mot"))
        if self.labels_dir.is_dir():
            found += sorted(self.labels_dir.glob("*.npz"))
        return found


def claim_output_dir(out: Path, overwrite: bool, holds: str | None, replace: str = "replace them",
                     resumable: bool = False) -> bool:
    """The one rule for an output folder that may hold an earlier run's results (``label``, ``synth``, the
    dataset adapters): True when this run continues the earlier, unfinished run, False when it starts afresh.

    Args:
        out: the output folder.
        overwrite: replace what the folder holds; the run always starts afresh.
        holds: what the folder holds that the run could lose, worded for the message (``"already holds a
            dataset (manifest.json)"``); None when it holds nothing of the kind (the run starts afresh).
        replace: what ``overwrite`` would do to it, for the message (``"replace them"``, ``"rebuild it"``).
        resumable: the folder holds an unfinished run of the same inputs and settings, which this run continues.

    Raises:
        OutputExistsError: ``holds`` is given, and neither ``overwrite`` nor ``resumable``; nothing was changed.
    """
    if overwrite or holds is None:
        return False
    if resumable:
        return True
    raise OutputExistsError(f"{out} {holds}; nothing was changed. Pass --overwrite to {replace}, or choose another "
                            "--out folder")


def shown_names(found: list[Path], limit: int = 4) -> str:
    """The first ``limit`` file names of ``found`` for a message (``a, b, c, d ...``)."""
    return ", ".join(p.name for p in found[:limit]) + (" ..." if len(found) > limit else "")


def refuse_existing(paths: SubjectPaths, overwrite: bool) -> None:
    """Raise :class:`OutputExistsError` if ``paths.out_dir`` holds results and ``overwrite`` is False
    (:func:`claim_output_dir`)."""
    found = [] if overwrite else paths.existing_results()
    claim_output_dir(paths.out_dir, overwrite, f"already holds results ({shown_names(found)})" if found else None)


@contextmanager
def staging_dir(out_dir: Path) -> Iterator[Path]:
    """A temporary folder inside ``out_dir`` (same file system, so results move in with an atomic rename)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_dir))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def move_into_place(src: Path, dst: Path) -> Path:
    """Atomically replace ``dst`` by ``src`` (same file system)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dst)
    return dst
