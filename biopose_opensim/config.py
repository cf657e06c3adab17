"""Typed configurations: frozen dataclasses read from and written to commented TOML.

One home for the machinery every configuration uses (NeurIK, MQ-HMR): nested plain values (TOML / JSON) are
checked against a dataclass's fields and defaults — unknown keys (with a close-match hint) and values of the wrong
type are refused, naming the key and the source file — and values are written back as TOML.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import sys
from pathlib import Path
from typing import Any

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
    defaults = cls()
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=2)
            hint = f" (did you mean {', '.join(close)}?)" if close else f"; known: {', '.join(fields)}"
            raise ConfigError(f"{source}: unknown key '{prefix}{key}'{hint}")
        default = getattr(defaults, key)
        if dataclasses.is_dataclass(default):
            values[key] = build_dataclass(type(default), value, source, f"{prefix}{key}.")
            continue
        values[key] = _coerce(value, default, f"{prefix}{key}", source)
    try:
        return cls(**values)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


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
