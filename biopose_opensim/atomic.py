"""Atomic file writes: write to a temporary file beside the target, then rename.

A crash or an error half-way through never leaves a truncated output, and an existing file is only
replaced once the new one is complete. Files get the ordinary mode of a new file (``0o666`` less the process's
umask, usually ``0o644``), not the private ``0o600`` of a temporary file.

:func:`check_output_dir` checks an output folder option (``--out``) up front, without creating anything.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

from .errors import ConfigError


def current_umask() -> int:
    """The process's file-mode creation mask (read from ``/proc`` where possible, which changes nothing)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # pragma: no cover - no /proc: read it by setting it (briefly)
    os.umask(mask)  # pragma: no cover
    return mask  # pragma: no cover


def new_file_mode() -> int:
    """Mode a file created with ``open(path, "w")`` gets: ``0o666`` less the umask (e.g. ``0o644``)."""
    return 0o666 & ~current_umask()


def check_output_dir(out: str | Path, option: str = "--out") -> None:
    """Check that ``out`` can be (or already is) a writable folder; create nothing.

    Raises:
        ConfigError: ``out`` is an existing file, lies below a file, or its nearest existing folder is not
            writable; the message names the path and ``option``.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{option} {out} is an existing file, not a folder; choose a folder")
    existing = out
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise ConfigError(f"{option} {out} lies below {existing}, which is a file, not a folder")
    if existing.is_dir() and not os.access(existing, os.W_OK | os.X_OK):
        where = "this folder" if existing == out else f"{existing}, its nearest existing folder"
        raise ConfigError(f"{option} {out}: no permission to write in {where}")


@contextlib.contextmanager
def atomic_path(target: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it onto ``target`` if the block succeeds.

    Use this when another library (e.g. OpenSim) writes the file itself. The temporary file keeps
    ``target``'s suffix so that tools choosing a format by extension still work.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=suffix or target.suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, new_file_mode())
    try:
        yield tmp_path
        if not tmp_path.exists():
            raise FileNotFoundError(f"{tmp_path} was not written (target {target})")
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_open(target: str | Path, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temporary file for writing; it replaces ``target`` only when the block succeeds."""
    if not any(c in mode for c in "wx"):
        raise ValueError(f"atomic_open is for writing, got mode {mode!r}")
    with atomic_path(target) as tmp:
        with open(tmp, mode.replace("x", "w"), **kwargs) as fh:
            yield fh


def atomic_write_text(target: str | Path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``target`` atomically."""
    with atomic_open(target, "w", encoding=encoding, newline="\n") as fh:
        fh.write(text)


def atomic_write_bytes(target: str | Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_open(target, "wb") as fh:
        fh.write(data)


def replace_dir(stage: str | Path, out: str | Path) -> None:
    """Move the finished folder ``stage`` to ``out`` (same file system), replacing an existing ``out``: the old one
    is moved aside first and removed only once the new one is in place."""
    import shutil

    stage, out = Path(stage), Path(out)
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / out.name)
        os.replace(stage, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(stage, out)
