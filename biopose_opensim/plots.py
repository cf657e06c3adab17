"""Figures for reports: matplotlib without a display, and PNGs written atomically."""
from __future__ import annotations

from pathlib import Path

from .atomic import atomic_path


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | Path, dpi: int = 90) -> Path:
    """Write ``fig`` to ``path`` (PNG) atomically and close it."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi)
    pyplot().close(fig)
    return path
