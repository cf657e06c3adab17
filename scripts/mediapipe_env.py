"""MediaPipe BlazePose in its own virtual environment, for offline 2D pose detection on video.

An install step, not part of the package: ``python scripts/mediapipe_env.py create`` makes the environment (pip
downloads ``mediapipe==0.10.21`` and numpy < 2 into ``.venvs/mediapipe``; a minute or two, once). At run time
nothing is installed: :func:`biopose_opensim.video.detector.require_mediapipe_env` returns the environment's python
or raises an error naming that command. ``check`` exits 0 when the environment works (it runs the worker on a tiny
synthetic image) and 1 otherwise; ``path`` prints the environment's python.

mediapipe 0.10.21 pins numpy < 2, while the project (``opensim`` 4.6) needs numpy >= 2.1: the two never share a
process. The worker (``biopose_opensim/video/mediapipe_worker.py``, run with the environment's python) receives
frames on stdin and writes its landmarks to an ``.npz`` file. Only ``model_complexity=1`` is used: its model
(``pose_landmark_full``) ships inside the wheel, so detection needs no network.
"""
from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from biopose_opensim.video.detector import (
    CREATE_COMMAND,
    MEDIAPIPE_ENV_DIR,
    MEDIAPIPE_REQUIREMENTS,
    WORKER_SCRIPT,
    MediapipeEnvError,
    env_ok,
    mediapipe_python,
    require_mediapipe_env,
)

log = logging.getLogger(__name__)

__all__ = ["CREATE_COMMAND", "ensure_mediapipe_env", "check_mediapipe_env", "main"]


def ensure_mediapipe_env(env_dir: str | Path = MEDIAPIPE_ENV_DIR, base_python: str | None = None) -> Path:
    """Create the MediaPipe environment if it is missing or broken; return its python.

    The environment is made with ``python -m venv`` and ``pip install`` of :data:`MEDIAPIPE_REQUIREMENTS` (binary
    wheels only). A lock file serialises concurrent creators.
    """
    import fcntl

    env_dir = Path(env_dir)
    python = mediapipe_python(env_dir)
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = env_dir.parent / f".{env_dir.name}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if env_ok(python):
            return python
        log.info("creating the MediaPipe environment in %s (one-off, 1-2 minutes)", env_dir)
        base = base_python or sys.executable
        steps = [
            [base, "-m", "venv", "--clear", str(env_dir)],
            [str(python), "-m", "pip", "install", "-q", "--only-binary", ":all:", *MEDIAPIPE_REQUIREMENTS],
        ]
        for cmd in steps:
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                raise MediapipeEnvError(
                    f"{env_dir}: creating the MediaPipe environment failed at `{' '.join(cmd)}`:\n"
                    f"{res.stderr.strip()[-2000:]}"
                )
        if not env_ok(python):
            raise MediapipeEnvError(f"{env_dir}: mediapipe does not import in the new environment")
    return python


def check_mediapipe_env(env_dir: str | Path = MEDIAPIPE_ENV_DIR) -> str:
    """Run the worker's ``check`` (the tracker on a tiny synthetic image); return its one-line JSON report.

    Raises:
        MediapipeEnvError: the environment is missing (naming :data:`CREATE_COMMAND`) or the worker failed.
    """
    python = require_mediapipe_env(env_dir)
    cmd = [str(python), str(WORKER_SCRIPT), "check"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        raise MediapipeEnvError(f"mediapipe worker check failed (`{' '.join(cmd)}`):\n{res.stderr.strip()[-3000:]}")
    return res.stdout.strip().splitlines()[-1]


def main(argv: Sequence[str] | None = None) -> int:
    """``create``: make the environment if missing or broken; ``check``: run the worker; ``path``: print python."""
    parser = argparse.ArgumentParser(description="Create or check the MediaPipe environment (.venvs/mediapipe).")
    parser.add_argument("action", choices=("create", "check", "path"))
    parser.add_argument("--env", type=Path, default=MEDIAPIPE_ENV_DIR,
                        help="environment folder (default: %(default)s, or $BIOPOSE_MEDIAPIPE_ENV)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.action == "create":
            python = ensure_mediapipe_env(args.env)
            log.info("MediaPipe environment ready: %s (%s)", python, check_mediapipe_env(args.env))
        elif args.action == "check":
            log.info("MediaPipe environment works: %s", check_mediapipe_env(args.env))
        else:
            sys.stdout.write(f"{require_mediapipe_env(args.env)}\n")
    except MediapipeEnvError as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
