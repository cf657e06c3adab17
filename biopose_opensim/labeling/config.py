"""Labelling configuration: every knob of Scale + IK labelling, its default, and its commented TOML form.

One typed home for the defaults. A :class:`LabelConfig` is loaded from a commented TOML file
(:meth:`LabelConfig.from_toml`), overridden from the command line (:meth:`LabelConfig.with_overrides`) and the
resolved configuration is saved beside the outputs (:meth:`LabelConfig.to_toml`, ``label_config.toml``).

Units: metres, kilograms, seconds. Relative paths in a TOML file are resolved relative to that file.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError, InputFileError

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

#: IK accuracy used for labels when neither the command line nor an IK setup gives one. OpenSim's own default,
#: 1e-5, leaves up to several degrees of error on weakly observed coordinates (forearm pro_sup up to 7.6 deg on
#: noise-free markers); 1e-6 brings that to about 1.3 deg for roughly twice the IK time.
DEFAULT_ACCURACY = 1e-6

#: open ranges a subject's values must lie in: mass in kg, height in m
SUBJECT_RANGES = {"mass": (0.0, 500.0, "kg"), "height": (0.0, 3.0, "m")}
#: values too large that read as another unit, for the error message: (factor, unit, human range once converted)
_OTHER_UNITS = {"mass": ((1000.0, "g", (1.0, 500.0)),),
                "height": ((1000.0, "mm", (0.4, 2.6)), (100.0, "cm", (0.4, 2.6)))}

_PATH_FIELDS = ("model", "markers", "scale_setup", "ik_setup")
_WINDOW_FIELDS = ("static_window", "time_range")


@dataclass
class LabelConfig:
    """Settings of OpenSim Scale + IK labelling for one subject or a dataset.

    ``None`` means "not set here": the value then comes from the subject (mass, height), from the lab's setup
    XML (accuracy, constraint weight, time ranges), or from the automatic choice documented per field.
    """

    #: Generic OpenSim model (.osim) to scale; overrides the model_file of a Scale setup. None: the Scale setup's
    #: model_file when it exists, else the default model (osim_models/RajagopalLaiUhlrich2023.osim).
    model: Path | None = None
    #: OpenSim MarkerSet XML replacing the model's own markers (e.g. a lab's marker set). None: the model's markers.
    markers: Path | None = None
    #: A lab's ScaleTool setup XML used as the template (measurements, weights, scaling order, manual scales,
    #: time range). None: a protocol is built (the default protocol for the default model's landmarks, or one
    #: derived from the model's own markers).
    scale_setup: Path | None = None
    #: A lab's InverseKinematicsTool setup XML used as the template (marker and coordinate tasks, accuracy,
    #: constraint weight, time range). None: IK tasks built from the protocol.
    ik_setup: Path | None = None
    #: IK accuracy (OpenSim convergence criterion). None: the IK setup's value, else DEFAULT_ACCURACY (1e-6).
    accuracy: float | None = None
    #: Weight of kinematic constraints in IK. None: the IK setup's value, else inf (constraints enforced exactly).
    constraint_weight: float | None = None
    #: Subject mass in kg for every subject that does not give its own. None: the Scale setup's mass, else the
    #: model's mass distribution is scaled without changing the total mass.
    mass: float | None = None
    #: Subject height in m for every subject that does not give its own (recorded in the setup and report).
    height: float | None = None
    #: Pose of the static trial during marker placement: None (solved freely by IK), "zero" (every coordinate
    #: prescribed at 0 except the root joint's), or a .mot/.sto path whose coordinates are prescribed.
    static_pose: str | None = None
    #: IK weight of the coordinate tasks that prescribe the static pose (rad^-2 relative to marker weights in m^-2).
    static_pose_weight: float = 1000.0
    #: Marker gaps up to this long (s) are filled by interpolation; longer gaps are reported and those frames
    #: left to OpenSim, which skips missing markers frame by frame.
    max_gap: float = 0.1
    #: Static window (start, end) in s of the static trial used for scaling and marker placement. None: the Scale
    #: setup's time range, else found automatically (lowest summed marker speed).
    static_window: tuple[float, float] | None = None
    #: Length (s) of the automatically found static window.
    static_window_length: float = 0.5
    #: Fraction of markers a frame must have to be part of an automatically found static window.
    static_min_markers: float = 0.9
    #: IK time range (start, end) in s applied to every trial. None: the IK setup's range clipped to the trial,
    #: else the whole trial.
    time_range: tuple[float, float] | None = None
    #: Fewest trial markers that must match the model's markers for IK to run.
    min_shared_markers: int = 6
    #: Rename trial markers to the model's names through the landmark alias table (e.g. R.ASIS -> RASI).
    marker_aliases: bool = True
    #: Without a Scale setup: add static-trial markers the model lacks to the body their name suggests (R.TH1 ->
    #: femur_r, S2 -> pelvis, ...); marker placement then puts them where the static trial has them.
    add_trial_markers: bool = True
    #: Without a Scale setup: pose the generic model like the static trial before measurement-based scaling, so
    #: marker pairs spanning a joint are measured in the same pose on model and subject.
    measure_in_static_pose: bool = True
    #: Vertical axis of C3D trials ("y" or "z"); TRC trials are taken as y up.
    up_axis: str = "y"
    #: Write PNG plots of the joint angles into the report.
    plots: bool = True

    def __post_init__(self) -> None:
        for name in _PATH_FIELDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                setattr(self, name, Path(value))
        for name in _WINDOW_FIELDS:
            value = getattr(self, name)
            if value is not None:
                try:
                    start, end = (float(v) for v in value)
                except (TypeError, ValueError):
                    raise ConfigError(f"{name} must be two numbers (start, end) in s, got {value!r}") from None
                if not end > start:
                    raise ConfigError(f"{name} must have end > start, got ({start}, {end})")
                setattr(self, name, (start, end))
        if self.static_pose is not None:
            sp = str(self.static_pose)
            if sp != "zero" and Path(sp).suffix.lower() not in (".mot", ".sto"):
                raise ConfigError(f"static_pose must be 'zero' or a .mot/.sto file, got {sp!r}")
            self.static_pose = sp
        if self.accuracy is not None and not (math.isfinite(float(self.accuracy)) and float(self.accuracy) > 0):
            raise ConfigError(f"accuracy must be a positive number, got {self.accuracy!r}")
        for name in ("mass", "height"):
            setattr(self, name, check_subject_value(name, getattr(self, name), "label configuration"))
        if self.constraint_weight is not None and not float(self.constraint_weight) > 0:
            raise ConfigError(f"constraint_weight must be > 0 (inf: exact), got {self.constraint_weight!r}")
        if not self.max_gap >= 0:
            raise ConfigError(f"max_gap must be >= 0 s, got {self.max_gap!r}")
        if not self.static_window_length > 0:
            raise ConfigError(f"static_window_length must be > 0 s, got {self.static_window_length!r}")
        if not 0 < self.static_min_markers <= 1:
            raise ConfigError(f"static_min_markers must be in (0, 1], got {self.static_min_markers!r}")
        if not self.static_pose_weight > 0:
            raise ConfigError(f"static_pose_weight must be > 0, got {self.static_pose_weight!r}")
        if int(self.min_shared_markers) < 1:
            raise ConfigError(f"min_shared_markers must be >= 1, got {self.min_shared_markers!r}")
        if self.up_axis not in ("y", "z"):
            raise ConfigError(f"up_axis must be 'y' or 'z', got {self.up_axis!r}")

    # ------------------------------------------------------------------ overrides
    def with_overrides(self, **overrides: Any) -> "LabelConfig":
        """Return a copy with the given fields replaced; a value of ``None`` leaves that field unchanged.

        Raises:
            ConfigError: an unknown field name (the closest field names are suggested).
        """
        known = {f.name for f in dataclasses.fields(self)}
        for key in overrides:
            if key not in known:
                raise ConfigError(f"unknown label setting {key!r}{_suggest(key, known)}")
        changes = {k: v for k, v in overrides.items() if v is not None}
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ TOML
    @classmethod
    def from_toml(cls, path: str | Path) -> "LabelConfig":
        """Load a configuration from a TOML file (a ``[label]`` table or top-level keys).

        Keys left out keep their defaults. Relative paths are resolved relative to the TOML file.

        Raises:
            InputFileError: the file is missing or is not valid TOML.
            ConfigError: an unknown key or an invalid value (the message names the file and the key).
        """
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputFileError(path, "configuration file not found") from None
        except OSError as exc:
            raise InputFileError(path, f"cannot read configuration file: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            line = getattr(exc, "lineno", None)
            if line is None:
                hit = re.search(r"at line (\d+)", str(exc))
                line = int(hit.group(1)) if hit else None
            raise InputFileError(path, f"not valid TOML: {exc}", line=line) from None
        table = raw.get("label", raw)
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [label] must be a table")
        known = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key not in known:
                raise ConfigError(f"{path}: unknown key {key!r}{_suggest(key, set(known))}")
            _check_toml_type(path, key, value, known[key].type)
            if key in _PATH_FIELDS or (key == "static_pose" and value != "zero"):
                value = _resolve(path.parent, value)
            values[key] = value
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: invalid value: {exc}") from None

    def to_toml(self) -> str:
        """The configuration as commented TOML (a ``[label]`` table); unset (None) values are commented out."""
        lines = [
            "# biopose_opensim label configuration (OpenSim Scale + IK).",
            "# Units: metres, kilograms, seconds. Relative paths are relative to this file.",
            "# Load with `python -m biopose_opensim.label --config FILE.toml`; command-line flags override it.",
            "",
            "[label]",
        ]
        for f in dataclasses.fields(self):
            comment = _FIELD_COMMENTS.get(f.name, "")
            for text in comment.splitlines():
                lines.append(f"# {text}")
            value = getattr(self, f.name)
            if value is None:
                lines.append(f"# {f.name} = ")
            else:
                lines.append(f"{f.name} = {_toml_value(value)}")
            lines.append("")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain values (paths as strings, windows as lists) for JSON or logging."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out


_FIELD_COMMENTS = {
    "model": "Generic OpenSim model (.osim) to scale; overrides a Scale setup's model_file\n"
    "(unset: the Scale setup's model_file if it exists, else osim_models/RajagopalLaiUhlrich2023.osim).",
    "markers": "OpenSim MarkerSet XML replacing the model's markers (unset: the model's own markers).",
    "scale_setup": "A lab's ScaleTool setup XML used as template (unset: protocol built automatically).",
    "ik_setup": "A lab's InverseKinematicsTool setup XML used as template (unset: tasks from the protocol).",
    "accuracy": "IK accuracy (unset: the IK setup's value, else 1e-6; OpenSim's 1e-5 leaves degrees of error).",
    "constraint_weight": "IK constraint weight (unset: the IK setup's value, else inf = exact).",
    "mass": "Subject mass in kg when a subject gives none (unset: Scale setup's mass, else total mass kept).",
    "height": "Subject height in m when a subject gives none (recorded in the setup and the report).",
    "static_pose": 'Static pose during marker placement: unset (free IK), "zero" (all but root at 0), or a .mot.',
    "static_pose_weight": "IK weight of the coordinate tasks prescribing the static pose.",
    "max_gap": "Marker gaps up to this many seconds are interpolated; longer ones are reported and skipped.",
    "static_window": "Static window [start, end] in s (unset: Scale setup's time range, else found automatically).",
    "static_window_length": "Length in s of the automatically found static window (lowest marker speed).",
    "static_min_markers": "Fraction of markers a frame needs to be part of the automatic static window.",
    "time_range": "IK time range [start, end] in s for every trial (unset: IK setup's range, else whole trial).",
    "min_shared_markers": "Fewest trial markers matching model markers for IK to run.",
    "marker_aliases": "Rename trial markers to the model's names through the landmark alias table.",
    "add_trial_markers": "Without a Scale setup, add static-trial markers the model lacks to the body their name\n"
    "suggests (R.TH1 -> femur_r, S2 -> pelvis); marker placement puts them on the static trial.",
    "measure_in_static_pose": "Without a Scale setup, pose the generic model like the static trial before scaling so\n"
    "that marker pairs spanning a joint are measured in the same pose.",
    "up_axis": 'Vertical axis of C3D trials: "y" or "z".',
    "plots": "Write PNG joint-angle plots into the report.",
}


def _check_toml_type(path: Path, key: str, value: Any, annotation: Any) -> None:
    """Raise :class:`ConfigError` naming ``path`` and ``key`` when ``value``'s TOML type does not fit the field
    (``annotation``: the field's type as written in :class:`LabelConfig`)."""
    kind = str(annotation)
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if "bool" in kind:
        ok, want = isinstance(value, bool), "true or false"
    elif "tuple" in kind:
        ok = isinstance(value, list) and len(value) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        want = "two numbers [start, end] in s"
    elif "float" in kind:
        ok, want = is_number, "a number"
    elif "int" in kind:
        ok, want = isinstance(value, int) and not isinstance(value, bool), "a whole number"
    else:  # paths and strings
        ok, want = isinstance(value, str), "a string"
    if not ok:
        raise ConfigError(f"{path}: {key} must be {want}, got {value!r} ({_toml_type(value)})")


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    return type(value).__name__


def _suggest(key: str, known: set[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=3)
    return f" (did you mean {', '.join(close)}?)" if close else f"; known: {', '.join(sorted(known))}"


def _resolve(base: Path, value: Any) -> Any:
    if value is None or value == "":
        return None
    p = Path(str(value)).expanduser()
    return p if p.is_absolute() else (base / p).resolve()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


@dataclass(frozen=True)
class LabelRun:
    """One labelling run: what is labelled (the sample, a dataset, or one subject), where, and with which settings.

    Exactly one mode: ``sample``; ``dataset`` (every subject under that root); or one subject from ``trials`` (IK),
    scaled first from ``static`` when given, else IK only on ``settings.model`` as given (the subject's scaled
    model). Settings apply in this order, later winning: ``settings`` (defaults or a TOML file), the sample's own
    ``subject.toml`` (``sample`` only; for fields ``settings`` leaves at their defaults), ``overrides``.

    Raises:
        ConfigError: not exactly one mode, per-subject values (``subject``, ``mass``, ``height``) with
            ``dataset``, ``workers``/``scheduler`` without it, IK only without ``settings.model``, an unknown
            override, or ``mass`` (kg) / ``height`` (m) outside their ranges.
    """

    #: output folder
    out: Path
    #: settings before the sample's and the overrides (defaults, or a TOML file's)
    settings: LabelConfig = field(default_factory=LabelConfig)
    #: :class:`LabelConfig` field -> value applied last; None leaves the field as it is
    overrides: Mapping[str, Any] = field(default_factory=dict)
    #: label the shipped sample subject
    sample: bool = False
    #: label every subject under this root
    dataset: Path | None = None
    #: layout of ``dataset``: "auto", "folders" or "movi"
    layout: str = "auto"
    #: one subject's static trial (.trc or .c3d); None with ``trials``: IK only
    static: Path | None = None
    #: one subject's motion trials (.trc or .c3d)
    trials: tuple[Path, ...] = ()
    #: subject name in output names (None: from the static trial's or the model's file name, or the sample's)
    subject: str | None = None
    #: subject mass in kg, in (0, 500)
    mass: float | None = None
    #: subject height in m, in (0, 3)
    height: float | None = None
    #: dataset mode: local worker processes (None: the default count)
    workers: int | None = None
    #: dataset mode: Dask scheduler address
    scheduler: str | None = None
    #: replace results already in ``out``
    overwrite: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        object.__setattr__(self, "trials", tuple(Path(t) for t in self.trials))
        if self.static is not None:
            object.__setattr__(self, "static", Path(self.static))
        if self.dataset is not None:
            object.__setattr__(self, "dataset", Path(self.dataset))
        object.__setattr__(self, "overrides", dict(self.overrides))
        self.settings.with_overrides(**self.overrides)  # unknown fields refused here, before anything runs
        if sum((bool(self.sample), self.dataset is not None, self.static is not None or bool(self.trials))) != 1:
            raise ConfigError("a label run needs exactly one of sample, dataset, or trials (with or without static)")
        for name in ("mass", "height"):
            object.__setattr__(self, name, check_subject_value(name, getattr(self, name), "label run"))
        if self.dataset is not None and (self.subject or self.mass is not None or self.height is not None):
            raise ConfigError("subject, mass and height are per subject; in dataset mode each subject's "
                              "subject.toml gives them")
        if self.dataset is None and (self.workers is not None or self.scheduler is not None):
            raise ConfigError("workers and scheduler apply to dataset mode only")
        if self.static is not None and not self.trials:
            raise ConfigError("one subject needs trials to run IK on")
        if self.trials and self.static is None and self.resolved().model is None:
            raise ConfigError("IK only (no static trial) runs on the model as given: set the subject's scaled model")

    def resolved(self, sample_settings: Mapping[str, Any] | None = None) -> LabelConfig:
        """The settings that apply: ``settings``, then ``sample_settings`` where ``settings`` keeps a field's
        default, then ``overrides``."""
        cfg = self.settings
        if sample_settings:
            default = LabelConfig()
            cfg = cfg.with_overrides(**{k: v for k, v in sample_settings.items()
                                        if getattr(cfg, k) == getattr(default, k)})
        return cfg.with_overrides(**self.overrides)


def check_subject_value(key: str, value: Any, where: str, flag: str | None = None) -> float | None:
    """Validate a subject's ``mass`` (kg, in (0, 500)) or ``height`` (m, in (0, 3)); the one rule for the command
    line, ``--config`` files and a dataset's ``subject.toml``.

    Args:
        key: ``"mass"`` or ``"height"``.
        value: the value given (None: not given).
        where: what gave it, for the message (a file, ``"command line"``).
        flag: the option's name for the message (e.g. ``--mass``); ``key`` when None.

    Returns:
        The value as float, or None.

    Raises:
        ConfigError: not a finite number in the range; the message names ``where``, the key, the range and, for
            a value that looks like another unit (72000 -> g, 1780 -> mm), that unit.
    """
    if value is None:
        return None
    low, high, unit = SUBJECT_RANGES[key]
    name = flag or key
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    if ok and low < value < high:
        return float(value)
    hint = ""
    if ok and value >= high:
        for factor, other, plausible in _OTHER_UNITS[key]:
            if plausible[0] <= value / factor <= plausible[1]:
                hint = f" ({value:g} looks like {other}; give {value / factor:g} {unit})"
                break
    raise ConfigError(f"{where}: {name} must be a number in ({low:g}, {high:g}) {unit}, got {value!r}{hint}")
