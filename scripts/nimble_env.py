"""nimblephysics in its own virtual environment, for FK parity checks and speed comparisons.

An install step, not part of the package: ``python scripts/nimble_env.py create`` makes the environment (pip
downloads nimblephysics and numpy < 2 into ``.venvs/nimble``; a few minutes, once). ``.ci/run`` calls it after
the main install. At test and benchmark time nothing is installed: :func:`require_nimble_env` returns the
environment's python or raises :class:`NimbleEnvError` naming that command. ``python scripts/nimble_env.py check``
exits 0 when the environment works and 1 otherwise.

nimblephysics 0.10.52.1 (the latest release) crashes on any numpy array argument under numpy 2, while the
``opensim`` 4.6 wheel needs numpy >= 2.1. The two therefore never share a process: nimblephysics lives in
``.venvs/nimble`` (gitignored, created by :func:`ensure_nimble_env`) with numpy < 2, and a
worker script (``_nimble_worker.py``, run with that environment's python) exchanges arrays with this process
through ``.npz`` files.

Coordinate mapping (see :func:`nimble_coordinate_map`): nimblephysics' OpenSim parser drops the patella bodies
(``patella_r``, ``patella_l``: 20 bodies instead of OpenSim's 22) and the coupled coordinates that drive them
(``knee_angle_r_beta``, ``knee_angle_l_beta``), and names its degrees of freedom after the OpenSim coordinates it
keeps. The layer's inputs are the *independent* coordinates, which excludes the same coupled coordinates, so on
Rajagopal2015 the two sets are equal (37 each) and differ only in order; they are matched by name. A nimble DOF
without a layer coordinate is an error; layer coordinates without a nimble DOF are listed in
``NimbleCoordinateMap.dropped`` (none for Rajagopal2015). Markers are matched by name (nimble returns them
sorted by name).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from biopose_opensim.errors import BioposeError

PROJECT_DIR = Path(__file__).resolve().parents[1]

log = logging.getLogger(__name__)

#: Pinned versions: the last nimblephysics release, numpy < 2 for it, and the CPU torch build that the
#: project's machines carry locally (nimblephysics imports torch; an unpinned install would pull a CUDA build).
NIMBLE_REQUIREMENTS = ("nimblephysics==0.10.52.1", "numpy<2", "torch==2.13.0")
NIMBLE_ENV_DIR = Path(os.environ.get("BIOPOSE_NIMBLE_ENV", PROJECT_DIR / ".venvs" / "nimble"))
WORKER_SCRIPT = Path(__file__).resolve().parent / "_nimble_worker.py"


class NimbleEnvError(BioposeError):
    """The nimblephysics environment could not be created or its worker failed."""


def nimble_python(env_dir: str | Path = NIMBLE_ENV_DIR) -> Path:
    """Path of the python interpreter inside the nimblephysics environment."""
    return Path(env_dir) / "bin" / "python"


def _env_ok(python: Path) -> bool:
    if not python.exists():
        return False
    probe = "import numpy, nimblephysics; assert numpy.__version__.split('.')[0] == '1'"
    res = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    return res.returncode == 0


def ensure_nimble_env(env_dir: str | Path = NIMBLE_ENV_DIR, base_python: str | None = None) -> Path:
    """Create the nimblephysics environment if it is missing or broken; return its python.

    The environment is made with ``python -m venv`` and ``pip install`` of :data:`NIMBLE_REQUIREMENTS`
    (a one-off of about 1-2 minutes). A lock file serialises concurrent creators. After installing, the
    environment is checked for CUDA packages (``nvidia-*``): their presence means pip picked a CUDA torch build,
    which is reported as an error rather than silently kept.
    """
    import fcntl

    env_dir = Path(env_dir)
    python = nimble_python(env_dir)
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = env_dir.parent / f".{env_dir.name}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _env_ok(python):
            return python
        log.info("creating the nimblephysics environment in %s (one-off, 1-2 minutes)", env_dir)
        base = base_python or sys.executable
        steps = [
            [base, "-m", "venv", "--clear", str(env_dir)],
            [str(python), "-m", "pip", "install", "-q", "--only-binary", ":all:", *NIMBLE_REQUIREMENTS],
        ]
        for cmd in steps:
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                raise NimbleEnvError(
                    f"{env_dir}: creating the nimblephysics environment failed at `{' '.join(cmd)}`:\n"
                    f"{res.stderr.strip()[-2000:]}"
                )
        res = subprocess.run([str(python), "-m", "pip", "list", "--format=json"], capture_output=True, text=True)
        names = [d["name"].lower() for d in json.loads(res.stdout or "[]")]
        cuda = [n for n in names if n.startswith("nvidia-")]
        if cuda:
            raise NimbleEnvError(
                f"{env_dir}: pip installed CUDA packages {cuda[:3]}...; expected the CPU torch build "
                f"({NIMBLE_REQUIREMENTS[-1]}). Remove {env_dir} and make the CPU wheel available to pip."
            )
        if not _env_ok(python):
            raise NimbleEnvError(f"{env_dir}: nimblephysics does not import in the new environment")
    return python


#: The install command, named by every message about a missing environment.
CREATE_COMMAND = "python scripts/nimble_env.py create"


def require_nimble_env(env_dir: str | Path = NIMBLE_ENV_DIR) -> Path:
    """Python of an existing, working nimblephysics environment; never installs anything.

    Raises:
        NimbleEnvError: the environment is missing or broken; the message names :data:`CREATE_COMMAND`.
    """
    python = nimble_python(env_dir)
    if not _env_ok(python):
        raise NimbleEnvError(
            f"{env_dir}: no working nimblephysics environment (nimblephysics with numpy < 2); "
            f"create it with `{CREATE_COMMAND}` (an install step that downloads packages with pip)"
        )
    return python


def run_worker(args: Sequence[str], python: str | Path | None = None, timeout: float | None = 900) -> None:
    """Run the nimblephysics worker script with ``args`` in the nimblephysics environment."""
    python = Path(python) if python is not None else require_nimble_env()
    cmd = [str(python), str(WORKER_SCRIPT), *args]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise NimbleEnvError(f"nimblephysics worker failed (`{' '.join(cmd)}`):\n{res.stderr.strip()[-3000:]}")


@dataclass(frozen=True)
class NimbleModelInfo:
    """What nimblephysics made of an ``.osim`` file.

    Attributes:
        dof_names: nimble's degrees of freedom, the order of its position vector.
        marker_names: markers nimble kept, the order of its marker outputs.
        body_names: bodies (nimble body nodes) nimble kept.
    """

    dof_names: tuple[str, ...]
    marker_names: tuple[str, ...]
    body_names: tuple[str, ...]


def nimble_model_info(osim_path: str | Path, python: str | Path | None = None) -> NimbleModelInfo:
    """Load ``osim_path`` with nimblephysics' OpenSim parser and list its DOFs, markers and bodies."""
    with tempfile.TemporaryDirectory(prefix="nimble_info_") as tmp:
        out = Path(tmp) / "info.json"
        run_worker(["info", "--model", str(osim_path), "--output", str(out)], python=python)
        info = json.loads(out.read_text())
    return NimbleModelInfo(tuple(info["dofs"]), tuple(info["markers"]), tuple(info["bodies"]))


@dataclass(frozen=True)
class NimbleCoordinateMap:
    """Explicit mapping between the layer's independent coordinates and nimblephysics' DOFs.

    ``q_nimble[..., j] = q_layer[..., layer_index[j]]`` for every nimble DOF ``j``.

    Attributes:
        layer_index: (n_nimble_dofs,) index into the layer's ``coordinate_names`` for each nimble DOF.
        dropped: layer coordinates nimble does not have (they must be held at 0 for a comparison).
    """

    layer_index: np.ndarray
    dropped: tuple[str, ...]

    def to_nimble(self, q_layer: np.ndarray) -> np.ndarray:
        """(..., n_layer_coords) layer order -> (..., n_nimble_dofs) nimble order."""
        return np.asarray(q_layer)[..., self.layer_index]


def nimble_coordinate_map(layer_coordinates: Sequence[str], nimble_dofs: Sequence[str]) -> NimbleCoordinateMap:
    """Match the layer's independent coordinates to nimble's DOFs by name (see the module docstring)."""
    pos = {name: i for i, name in enumerate(layer_coordinates)}
    missing = [d for d in nimble_dofs if d not in pos]
    if missing:
        raise NimbleEnvError(f"nimblephysics DOFs {missing} have no coordinate of that name in the layer")
    index = np.array([pos[d] for d in nimble_dofs], dtype=np.int64)
    dropped = tuple(c for c in layer_coordinates if c not in set(nimble_dofs))
    return NimbleCoordinateMap(index, dropped)


def nimble_marker_positions(
    osim_path: str | Path, q_nimble: np.ndarray, python: str | Path | None = None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Marker world positions computed by nimblephysics, frame by frame.

    Args:
        osim_path: the model, loaded by nimble's own OpenSim parser.
        q_nimble: (N, n_nimble_dofs) positions in nimble's DOF order (radians / metres).

    Returns:
        markers (N, M, 3) metres in nimble's world frame (= OpenSim ground), and the M marker names.
    """
    with tempfile.TemporaryDirectory(prefix="nimble_fk_") as tmp:
        inp, out = Path(tmp) / "q.npz", Path(tmp) / "markers.npz"
        np.savez(inp, q=np.asarray(q_nimble, dtype=np.float64))
        run_worker(["fk", "--model", str(osim_path), "--input", str(inp), "--output", str(out)], python=python)
        with np.load(out) as data:
            return data["markers"], tuple(str(n) for n in data["marker_names"])


def nimble_fk_timing(
    osim_path: str | Path, q_nimble: np.ndarray, python: str | Path | None = None, repeats: int = 3
) -> float:
    """Best-of-``repeats`` seconds per frame of nimble's per-frame FK (set positions, read all markers)."""
    with tempfile.TemporaryDirectory(prefix="nimble_bench_") as tmp:
        inp, out = Path(tmp) / "q.npz", Path(tmp) / "timing.json"
        np.savez(inp, q=np.asarray(q_nimble, dtype=np.float64))
        run_worker(
            ["bench", "--model", str(osim_path), "--input", str(inp), "--output", str(out), "--repeats", str(repeats)],
            python=python,
        )
        return float(json.loads(out.read_text())["seconds_per_frame"])


def main(argv: Sequence[str] | None = None) -> int:
    """``create``: make the environment if missing or broken (pip); ``check``: exit 0 if it works, else 1."""
    parser = argparse.ArgumentParser(description="Create or check the nimblephysics environment (.venvs/nimble).")
    parser.add_argument("action", choices=("create", "check"))
    parser.add_argument("--env", type=Path, default=NIMBLE_ENV_DIR,
                        help="environment folder (default: %(default)s, or $BIOPOSE_NIMBLE_ENV)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        python = ensure_nimble_env(args.env) if args.action == "create" else require_nimble_env(args.env)
    except NimbleEnvError as exc:
        log.error("%s", exc)
        return 1
    log.info("nimblephysics environment ready: %s", python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
