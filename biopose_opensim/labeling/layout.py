"""Dataset discovery: which subjects a dataset folder holds, with their static trial, motion trials and settings.

The "folders" layout, one folder per subject::

    ROOT/
      <subject>/
        static.trc            static trial for scaling (or static.c3d); without it: IK only on the subject's
                              own model as given (model.osim or [label] model; nothing is scaled)
        trials/*.trc|*.c3d    motion trials, one IK run each (sorted by name; names must be unique)
        subject.toml          optional: mass (kg), height (m), sex, and a [label] table of per-subject settings
        model.osim            optional: this subject's model (label setting ``model``): the generic model to
                              scale, or without a static trial the scaled model IK runs on
        markers.xml           optional: OpenSim MarkerSet for this subject (label setting ``markers``)
        scale_setup.xml       optional: ScaleTool setup template (label setting ``scale_setup``)
        ik_setup.xml          optional: InverseKinematicsTool setup template (label setting ``ik_setup``)

Folders whose names start with ``.`` or ``_`` and folders holding neither a static trial nor ``trials/`` are not
subjects. A subject folder that is incomplete or has a bad ``subject.toml`` is listed as invalid with the reason,
so that one bad subject never stops a dataset run.

The "movi" layout is a folder of BML-MoVi ``F_v3d_Subject_N.mat`` files (see :mod:`.movi`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BioposeError, ConfigError, InputFileError
from .config import LabelConfig, check_subject_value

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

log = logging.getLogger(__name__)

LAYOUTS = ("auto", "folders", "movi")
TRIAL_SUFFIXES = (".trc", ".c3d")
SUBJECT_TOML = "subject.toml"
#: per-subject files that set a label setting when present: file name -> LabelConfig field
SUBJECT_FILES = {"model.osim": "model", "markers.xml": "markers", "scale_setup.xml": "scale_setup",
                 "ik_setup.xml": "ik_setup"}
#: glob of BML-MoVi subject files recognised by the "auto" layout
MOVI_GLOB = "F_v3d_Subject_*.mat"
_SEXES = ("female", "male", "other")
_CONFIG_PATH_KEYS = ("model", "markers", "scale_setup", "ik_setup")


@dataclass(frozen=True)
class SubjectEntry:
    """A subject found in a dataset.

    Attributes:
        name: the subject folder's name (used for the output folder).
        folder: the subject folder.
        static: the static trial (None: IK only on the subject's model as given).
        trials: motion trials, sorted by file name.
        mass: kg, from ``subject.toml`` (None: not given).
        height: m, from ``subject.toml`` (None: not given).
        sex: "female", "male" or "other" (None: not given).
        overrides: label settings for this subject only (from ``subject.toml`` [label] and the optional XML files),
            as ``(field, value)`` pairs applied with :meth:`LabelConfig.with_overrides`.
    """

    name: str
    folder: Path
    static: Path | None
    trials: tuple[Path, ...]
    mass: float | None = None
    height: float | None = None
    sex: str | None = None
    overrides: tuple[tuple[str, Any], ...] = ()

    def config(self, base: LabelConfig) -> LabelConfig:
        """``base`` with this subject's settings applied."""
        return base.with_overrides(**dict(self.overrides)) if self.overrides else base


@dataclass(frozen=True)
class InvalidSubject:
    """A subject folder that cannot be labelled, and why (it is reported, never silently dropped)."""

    name: str
    folder: Path
    reason: str


@dataclass(frozen=True)
class DatasetLayout:
    """What :func:`discover` found: valid subjects and invalid ones, both sorted by name."""

    root: Path
    layout: str
    subjects: tuple[SubjectEntry, ...]
    invalid: tuple[InvalidSubject, ...] = ()


def detect_layout(root: Path) -> str:
    """``"movi"`` if ``root`` holds ``F_v3d_Subject_*.mat`` files, else ``"folders"``.

    Raises:
        InputFileError: ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputFileError(root, "dataset root is not a folder")
    if any(root.glob(MOVI_GLOB)):
        return "movi"
    return "folders"


def discover(root: Path, layout: str = "folders") -> DatasetLayout:
    """Find the subjects of a "folders" dataset (``layout`` "auto" is resolved by :func:`detect_layout`).

    Raises:
        InputFileError: ``root`` is not a folder, or holds no subject folder at all.
        ConfigError: an unknown layout, or "movi" (convert first with :func:`.movi.convert_movi_dataset`).
    """
    root = Path(root)
    if layout not in LAYOUTS:
        raise ConfigError(f"--layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if layout == "auto":
        layout = detect_layout(root)
    if layout == "movi":
        raise ConfigError("the movi layout is converted to subject folders first (labeling.movi)")
    if not root.is_dir():
        raise InputFileError(root, "dataset root is not a folder")
    subjects: list[SubjectEntry] = []
    invalid: list[InvalidSubject] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name.startswith((".", "_")):
            continue
        statics = [folder / f"static{s}" for s in TRIAL_SUFFIXES if (folder / f"static{s}").is_file()]
        has_trials_dir = (folder / "trials").is_dir()
        if not statics and not has_trials_dir:
            log.debug("%s: not a subject folder (no static trial, no trials/)", folder)
            continue
        try:
            subjects.append(_read_subject(folder, statics))
        except BioposeError as exc:
            invalid.append(InvalidSubject(folder.name, folder, str(exc)))
    if not subjects and not invalid:
        raise InputFileError(
            root,
            "no subject folders found; expected ROOT/<subject>/static.trc (or .c3d) and "
            "ROOT/<subject>/trials/*.trc|*.c3d, or BML-MoVi F_v3d_Subject_*.mat files (--layout movi)",
        )
    return DatasetLayout(root, "folders", tuple(subjects), tuple(invalid))


def _read_subject(folder: Path, statics: list[Path]) -> SubjectEntry:
    if len(statics) > 1:
        raise InputFileError(folder, "both static.trc and static.c3d present; keep one")
    trials_dir = folder / "trials"
    trials = sorted(p for p in trials_dir.glob("*") if p.is_file() and p.suffix.lower() in TRIAL_SUFFIXES) \
        if trials_dir.is_dir() else []
    if not trials:
        raise InputFileError(trials_dir, "no motion trials; expected trials/*.trc or trials/*.c3d")
    stems = [p.stem for p in trials]
    dupes = sorted({s for s in stems if stems.count(s) > 1})
    if dupes:
        raise InputFileError(trials_dir, f"trial names must be unique; {', '.join(dupes)} appear with two suffixes")
    mass = height = sex = None
    overrides: dict[str, Any] = {}
    toml_path = folder / SUBJECT_TOML
    if toml_path.is_file():
        mass, height, sex, overrides = read_subject_toml(toml_path)
    for filename, key in SUBJECT_FILES.items():
        if (folder / filename).is_file():
            if key in overrides:
                raise ConfigError(f"{toml_path}: [label] {key} conflicts with {folder / filename}; keep one")
            overrides[key] = (folder / filename).resolve()
    if overrides:  # validate now so that a bad setting fails this subject alone, before any work
        LabelConfig().with_overrides(**overrides)
    if not statics:
        if "model" not in overrides:  # the dataset-wide model is the generic one to scale, never IK-only's model
            raise InputFileError(folder / "static.trc", "no static trial (static.trc or static.c3d) to scale the "
                                 "model, and no model of this subject's own for IK only (model.osim in the folder "
                                 f"or [label] model in {SUBJECT_TOML})")
        log.info("%s: no static trial: IK only on the subject's model as given", folder)
    return SubjectEntry(folder.name, folder, statics[0] if statics else None, tuple(trials), mass, height, sex,
                        tuple(sorted(overrides.items())))


def read_subject_toml(path: Path) -> tuple[float | None, float | None, str | None, dict[str, Any]]:
    """Read ``subject.toml``: ``mass`` (kg), ``height`` (m), ``sex``, and a ``[label]`` table of settings.

    Relative paths in ``[label]`` are resolved relative to the file.

    Raises:
        InputFileError: not valid TOML.
        ConfigError: an unknown key or a value out of range (the message names the file and the key).
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(path, f"not valid TOML: {exc}", line=getattr(exc, "lineno", None)) from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror}") from None
    allowed = {"mass", "height", "sex", "label"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}; expected mass (kg), height (m), sex, [label]")
    mass = check_subject_value("mass", raw.get("mass"), str(path))
    height = check_subject_value("height", raw.get("height"), str(path))
    sex = raw.get("sex")
    if sex is not None:
        if not isinstance(sex, str) or sex.strip().lower() not in _SEXES:
            raise ConfigError(f"{path}: sex must be one of {', '.join(_SEXES)}, got {sex!r}")
        sex = sex.strip().lower()
    label = raw.get("label", {})
    if not isinstance(label, dict):
        raise ConfigError(f"{path}: [label] must be a table of label settings")
    overrides = {}
    for key, value in label.items():
        if key in _CONFIG_PATH_KEYS or (key == "static_pose" and value != "zero"):
            p = Path(str(value)).expanduser()
            value = p if p.is_absolute() else (path.parent / p).resolve()
        overrides[key] = value
    try:
        LabelConfig().with_overrides(**overrides)
    except ConfigError as exc:
        raise ConfigError(f"{path}: [label]: {exc}") from None
    return mass, height, sex, overrides

