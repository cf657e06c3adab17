"""Typed configurations: frozen dataclasses read from and written to commented TOML.

One home for the machinery every configuration uses (NeurIK, MQ-HMR, synth, adapters): nested plain values
(TOML / JSON) are checked against a dataclass's fields, defaults and annotations — unknown keys (with a close-match
hint) and values of the wrong type are refused, naming the key and the source file — and values are written back
as TOML. Fields without a default are allowed (the caller supplies them); ``X | None`` fields unset by default are
checked as ``X`` (``int``, ``float``, ``bool``; paths and strings as strings).
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import sys
import typing
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError, InputFileError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[no-redef]


def read_toml(path: str | Path) -> dict[str, Any]:
    """The TOML file ``path`` as nested plain values; a missing or malformed file raises InputFileError."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(path, "configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(path, f"not valid TOML: {exc}") from None


def plain(value: Any) -> Any:
    """``value`` with tuples as lists and paths as strings (what TOML and JSON hold)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def build_dataclass(cls, data: dict[str, Any], source: str, prefix: str = ""):
    """An instance of dataclass ``cls`` from nested plain values; fields left out keep their defaults.

    Raises:
        ConfigError: an unknown key or a value of the wrong type, naming ``source`` and the dotted key.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: {prefix.rstrip('.') or 'config'} must be a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    defaults = _defaults(cls)
    hints = _type_hints(cls)
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=2)
            hint = f" (did you mean {', '.join(close)}?)" if close else f"; known: {', '.join(fields)}"
            raise ConfigError(f"{source}: unknown key '{prefix}{key}'{hint}")
        default = defaults[key]
        if value is None and default is None:  # JSON null for a field that is unset by default
            values[key] = None
            continue
        if dataclasses.is_dataclass(default):
            values[key] = build_dataclass(type(default), value, source, f"{prefix}{key}.")
            continue
        values[key] = _coerce(value, _example(default, hints.get(key)), f"{prefix}{key}", source)
    try:
        return cls(**values)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _is_yaml(value: Any) -> bool:
    return isinstance(value, (str, Path)) and Path(value).suffix.lower() in (".yaml", ".yml")


def load_toml_config(cls, path: str | Path | None, flags: Mapping[str, Any], *,
                     required: Mapping[str, str] | None = None):
    """A command's configuration: :class:`TomlConfig` ``cls`` from the TOML file ``path`` (if any), then ``flags``.

    ``flags`` maps field names to the command line's values, ``None`` meaning "not given": those given override the
    file, fields in neither keep their defaults. Without a file the dataclass is built from the flags as they are.
    Relative paths in the file are taken from its folder: the fields ``cls.TOML_PATHS`` (one path),
    ``cls.TOML_PATH_LISTS`` (a list of paths) and ``cls.TOML_YAML_PATHS`` (a name, or a path when it ends in
    ``.yaml``/``.yml``).

    Raises:
        InputFileError: a missing or malformed file.
        ConfigError: an unknown key or a value of the wrong type (naming the file and key); a field of
            ``required`` (name -> what to give) in neither the file nor the flags.
    """
    given = {k: v for k, v in flags.items() if v is not None}
    if path is None:
        return cls(**given)
    path = Path(path)
    data = read_toml(path)
    base = path.parent
    for name in cls.TOML_PATHS:
        if isinstance(data.get(name), str):
            data[name] = str(base / data[name])
    for name in cls.TOML_PATH_LISTS:
        if isinstance(data.get(name), list):
            data[name] = [str(base / v) if isinstance(v, str) else v for v in data[name]]
    for name in cls.TOML_YAML_PATHS:
        if isinstance(data.get(name), str) and _is_yaml(data[name]):
            data[name] = str(base / data[name])
    merged = {**data, **plain(given)}
    for name, what in (required or {}).items():
        if name not in merged:
            raise ConfigError(f"{path}: {what}")
    return build_dataclass(cls, merged, str(path))


def _defaults(cls) -> dict[str, Any]:
    """Field name -> default of dataclass ``cls`` (from ``cls()``; fields without a default map to ``None``)."""
    try:
        instance = cls()
    except TypeError:  # required fields: the declared defaults
        out = {}
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING:
                out[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                out[f.name] = f.default_factory()
            else:
                out[f.name] = None
        return out
    return {f.name: getattr(instance, f.name) for f in dataclasses.fields(cls)}


def _type_hints(cls) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception:  # annotations that do not resolve: the defaults alone decide
        return {}


def _example(default: Any, hint: Any) -> Any:
    """A value of the type ``_coerce`` should check: ``default`` unless it says nothing the annotation does.

    ``None`` defaults take the non-``None`` type of an ``X | None`` annotation (``int``, ``float``, ``bool``;
    strings and paths stay strings); tuples of numbers are checked as numbers (``(0.0,)``).
    """
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if default is None and len(args) == 1 and args[0] in (bool, int, float):
        return args[0]()
    if default is None and len(args) == 1 and typing.get_origin(args[0]) is tuple:
        hint, default = args[0], ()
    if isinstance(default, tuple) and typing.get_origin(hint) is tuple:
        items = [a for a in typing.get_args(hint) if a is not Ellipsis]
        if items and all(a is float for a in items):
            return _FLOATS
    return default


#: Stands for a tuple of numbers in ``_coerce``.
_FLOATS = (0.0,)


def _coerce(value: Any, default: Any, key: str, source: str) -> Any:
    """Check ``value`` against the type of ``default`` (ints accepted for floats; lists for tuples)."""
    def bad(expected: str):
        return ConfigError(f"{source}: {key} must be {expected}, got {value!r}")

    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
            raise bad("a finite number")
        return float(value)
    if isinstance(default, tuple):
        if default is _FLOATS:
            if not isinstance(value, (list, tuple)) or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v)) for v in value):
                raise bad("a list of finite numbers")
            return tuple(float(v) for v in value)
        if default and all(isinstance(v, int) and not isinstance(v, bool) for v in default):
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, int) and not isinstance(v, bool)
                                                               for v in value):
                raise bad("a list of integers")
            return tuple(value)
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise bad("a list of strings")
        return tuple(value)
    if value is None or isinstance(value, str):
        return value
    raise bad("a string")


def toml_value(value: Any) -> str:
    """``value`` written as a TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


class TomlConfig:
    """Mixin for a frozen dataclass configuration: ``replace``, plain-value ``to_dict`` / ``from_dict`` and
    commented TOML (``TOML_HEADER`` lines, top-level values, then one table per nested dataclass)."""

    TOML_HEADER: tuple[str, ...] = ()
    #: Fields holding one path, a list of paths, or a name-or-YAML-path: taken from a TOML file's folder when
    #: relative (:func:`load_toml_config`), made absolute by :meth:`resolved_toml`.
    TOML_PATHS: tuple[str, ...] = ()
    TOML_PATH_LISTS: tuple[str, ...] = ()
    TOML_YAML_PATHS: tuple[str, ...] = ()

    def replace(self, **changes: Any):
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config"):
        """Build from nested plain values (as in TOML / JSON); unknown keys and wrong types name the key."""
        return build_dataclass(cls, data, source)

    def to_toml(self) -> str:
        """Commented TOML that the configuration's loader reads back (a ``None`` value is left commented out)."""
        d = self.to_dict()
        lines = [f"# {line}" for line in self.TOML_HEADER] + [""]
        for key, value in d.items():
            if not isinstance(value, dict):
                lines.append(f"{key} = {toml_value(value)}" if value is not None else f"# {key} = ")
        for section, values in d.items():
            if isinstance(values, dict):
                lines += ["", f"[{section}]"] + [f"{k} = {toml_value(v)}" for k, v in values.items()]
        return "\n".join(lines) + "\n"

    def resolved_toml(self) -> str:
        """:meth:`to_toml` with every path field made absolute (what a command saves beside its outputs)."""
        changes: dict[str, Any] = {}
        for name in self.TOML_PATHS:
            if getattr(self, name) is not None:
                changes[name] = Path(getattr(self, name)).resolve()
        for name in self.TOML_PATH_LISTS:
            changes[name] = tuple(Path(v).resolve() for v in getattr(self, name))
        for name in self.TOML_YAML_PATHS:
            if _is_yaml(getattr(self, name)):
                changes[name] = str(Path(getattr(self, name)).resolve())
        return dataclasses.replace(self, **changes).to_toml()
