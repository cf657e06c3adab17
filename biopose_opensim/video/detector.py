"""Offline 2D pose detection with MediaPipe BlazePose, run in its own environment.

``mediapipe==0.10.21`` pins numpy < 2 while the project needs numpy >= 2, so MediaPipe lives in
``.venvs/mediapipe`` (gitignored; an install step: ``python scripts/mediapipe_env.py create``). At run time nothing
is installed: :func:`require_mediapipe_env` returns the environment's python or raises
:class:`MediapipeEnvError` naming that command. :func:`detect_mediapipe` streams the frames as raw RGB to
``mediapipe_worker.py`` running in that environment (no copy of the clip on disk) and reads its ``.npz`` back.

The tracker is ``mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1)``: one person, tracked from
frame to frame. Complexity 1 (``pose_landmark_full``) ships inside the wheel; complexities 0 and 2 download their
model at run time and are never used, so detection works without a network.
"""
from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from pathlib import Path

import numpy as np

from ..errors import BioposeError
from ..paths import PROJECT_DIR
from .frames import Frames
from .tracks import KeypointTrack

log = logging.getLogger(__name__)

#: Packages of the MediaPipe environment: the release whose wheel carries the complexity-1 models, numpy < 2.
MEDIAPIPE_REQUIREMENTS = ("mediapipe==0.10.21", "numpy<2")
#: The environment's folder; ``BIOPOSE_MEDIAPIPE_ENV`` overrides it.
MEDIAPIPE_ENV_DIR = Path(os.environ.get("BIOPOSE_MEDIAPIPE_ENV", PROJECT_DIR / ".venvs" / "mediapipe"))
#: The worker script, run with the environment's python.
WORKER_SCRIPT = Path(__file__).resolve().parent / "mediapipe_worker.py"
#: The install command, named by every message about a missing environment.
CREATE_COMMAND = "python scripts/mediapipe_env.py create"
#: Layout of the detector's keypoints (:mod:`biopose_opensim.keypoints`).
LAYOUT = "mediapipe33"


class MediapipeEnvError(BioposeError):
    """The MediaPipe environment is missing or broken, or its worker failed."""


def mediapipe_python(env_dir: str | Path = MEDIAPIPE_ENV_DIR) -> Path:
    """Path of the python interpreter inside the MediaPipe environment."""
    return Path(env_dir) / "bin" / "python"


def env_ok(python: str | Path) -> bool:
    """Whether ``python`` exists and imports mediapipe's pose solution with numpy 1.x."""
    python = Path(python)
    if not python.exists():
        return False
    probe = ("import numpy, mediapipe; mediapipe.solutions.pose; "
             "assert numpy.__version__.split('.')[0] == '1'")
    res = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    return res.returncode == 0


def require_mediapipe_env(env_dir: str | Path = MEDIAPIPE_ENV_DIR) -> Path:
    """Python of an existing, working MediaPipe environment; never installs anything.

    Raises:
        MediapipeEnvError: the environment is missing or broken; the message names :data:`CREATE_COMMAND`.
    """
    python = mediapipe_python(env_dir)
    if not env_ok(python):
        raise MediapipeEnvError(
            f"{env_dir}: no working MediaPipe environment ({', '.join(MEDIAPIPE_REQUIREMENTS)}); "
            f"create it with `{CREATE_COMMAND}` (an install step that downloads packages with pip)"
        )
    return python


def _feed(proc: subprocess.Popen, frames: Frames, progress: bool, errors: list) -> None:
    """Write every frame to the worker's stdin as raw RGB bytes (run in a thread)."""
    start = time.perf_counter()
    try:
        for i, img in enumerate(frames.iter()):
            proc.stdin.write(np.ascontiguousarray(img, dtype=np.uint8).tobytes())
            if progress and ((i + 1) % 100 == 0 or i + 1 == frames.n_frames):
                rate = (i + 1) / max(time.perf_counter() - start, 1e-9)
                log.info("mediapipe: %d/%d frames (%.1f frames/s)", i + 1, frames.n_frames, rate)
    except BrokenPipeError:
        pass  # the worker stopped early; its exit status and log say why
    except BaseException as exc:  # noqa: BLE001 - re-raised by the caller
        errors.append(exc)
    finally:
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass


def detect_mediapipe(frames: Frames, work_dir: str | Path, progress: bool = True,
                     python: str | Path | None = None, timeout: float | None = None) -> KeypointTrack:
    """Track one person's 33 BlazePose landmarks through ``frames`` with MediaPipe, offline.

    Args:
        frames: the clip (:func:`biopose_opensim.video.frames.open_frames`).
        work_dir: folder for the worker's output (``mediapipe_landmarks.npz``) and log (``mediapipe_worker.log``);
            created if missing and kept afterwards.
        progress: log progress every 100 frames.
        python: the MediaPipe environment's python (default: :func:`require_mediapipe_env`).
        timeout: seconds after which the worker is stopped (default: none).

    Returns:
        A :class:`KeypointTrack` in layout ``mediapipe33``: ``xy (T, 33, 2)`` pixels of the frame (x right, y down,
        origin at the top-left corner of the top-left pixel), ``confidence`` = MediaPipe's visibility in [0, 1]
        (0 in frames without a person), ``world (T, 33, 3)`` metres, origin midway between the hips, axes of the
        image (x right, y down, z away from the camera), zero where no person was found.

    Raises:
        MediapipeEnvError: no environment (the message names ``python scripts/mediapipe_env.py create``) or the
            worker failed (the message quotes the end of its log).
    """
    python = Path(python) if python is not None else require_mediapipe_env()
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    out = work_dir / "mediapipe_landmarks.npz"
    log_path = work_dir / "mediapipe_worker.log"
    if out.exists():
        out.unlink()
    w, h = frames.size
    cmd = [str(python), str(WORKER_SCRIPT), "detect", "--width", str(w), "--height", str(h),
           "--frames", str(frames.n_frames), "--output", str(out)]
    env = dict(os.environ, GLOG_minloglevel="2", TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("PYTHONPATH", None)
    start = time.perf_counter()
    errors: list = []
    with open(log_path, "wb") as log_fh:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=log_fh, stderr=subprocess.STDOUT, env=env)
        feeder = threading.Thread(target=_feed, args=(proc, frames, progress, errors), daemon=True)
        feeder.start()
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise MediapipeEnvError(f"mediapipe worker did not finish within {timeout} s; log: {log_path}") from None
        finally:
            feeder.join()
    if errors:
        raise errors[0]
    if rc != 0 or not out.exists():
        tail = log_path.read_text(errors="replace").strip()[-3000:]
        raise MediapipeEnvError(f"mediapipe worker failed (exit {rc}, `{' '.join(cmd)}`); {log_path}:\n{tail}")
    elapsed = time.perf_counter() - start
    with np.load(out) as data:
        image, world, detected = data["image"], data["world"], data["detected"]
        version = str(data["mediapipe_version"])
    log.info("mediapipe %s: %d frames in %.1f s (%.3f s/frame), person found in %d",
             version, frames.n_frames, elapsed, elapsed / max(frames.n_frames, 1), int(detected.sum()))
    return KeypointTrack(
        layout=LAYOUT, xy=image[..., :2].astype(np.float64), confidence=image[..., 2].astype(np.float64),
        detected=detected.astype(bool), image_size=(w, h), world=world.astype(np.float64),
        source=f"mediapipe {version} pose (model_complexity=1)",
    )
