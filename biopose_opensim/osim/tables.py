"""OpenSim's own reading of its tables (``.mot``/``.sto``, ``.trc``) into numpy, for the tool wrappers.

Tables are read with ``opensim.TimeSeriesTable`` / ``TimeSeriesTableVec3``, as OpenSim's tools read them, so
the values are the ones the tools saw. Coordinate columns are found by coordinate name or by state path
(``/jointset/<joint>/<coordinate>/value``, as MarkerPlacer and the state files write them).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ._opensim import import_opensim, read_file


def read_table(path: str | Path, what: str = "motion file", vec3: bool = False):
    """The ``opensim.TimeSeriesTable`` (``TimeSeriesTableVec3`` with ``vec3``) of ``path``.

    Raises:
        InputFileError: OpenSim cannot read the file (``what`` names it in the message).
    """
    osim = import_opensim()
    return read_file(osim.TimeSeriesTableVec3 if vec3 else osim.TimeSeriesTable, Path(path), what)


def table_matrix(table) -> np.ndarray:
    """``(rows, columns)`` float array of a (scalar) OpenSim table."""
    mat = table.getMatrix()
    try:
        return np.asarray(mat.to_numpy(), dtype=float)
    except AttributeError:  # pragma: no cover - older bindings
        return np.array([[mat.getElt(i, j) for j in range(mat.ncol())] for i in range(mat.nrow())])


def table_times(table) -> np.ndarray:
    """``(rows,)`` the table's time column, s."""
    return np.asarray(list(table.getIndependentColumn()), dtype=float)


def coordinate_columns(table) -> dict[str, int]:
    """Column name -> index, state paths (``/jointset/j/<name>/value``) shortened to ``<name>``; the first
    column of a name wins."""
    out: dict[str, int] = {}
    for i, label in enumerate(table.getColumnLabels()):
        parts = label.strip("/").split("/")
        out.setdefault(parts[-2] if len(parts) >= 2 and parts[-1] == "value" else label, i)
    return out


def in_degrees(table) -> bool:
    """Whether the table's header says ``inDegrees=yes`` (rotational columns in degrees)."""
    return table.hasTableMetaDataKey("inDegrees") and table.getTableMetaDataAsString("inDegrees").strip() == "yes"
