"""The nimblephysics environment helpers of ``scripts/nimble_env.py``, imported for the tests.

The environment is an install step (``python scripts/nimble_env.py create``, which ``.ci/run`` calls); the tests
never create it. ``scripts/`` is not a package, so the module is loaded from its path.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "nimble_env.py"


def load_nimble_env():
    """The ``scripts/nimble_env.py`` module (loaded once, cached in ``sys.modules`` as ``nimble_env``)."""
    if "nimble_env" not in sys.modules:
        spec = importlib.util.spec_from_file_location("nimble_env", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules["nimble_env"] = module
        spec.loader.exec_module(module)
    return sys.modules["nimble_env"]
