"""What an activity generator returns before grounding: joint angles plus contact information."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class Draft:
    """Joint angles of an activity and how its feet meet the floor.

    Attributes:
        q: (T, C) radians / metres; pelvis translations other than forward progression are filled in
            by grounding.
        lift: (T,) metres above the floor (box, flight phases), or ``None``.
        contacts: frame intervals ``[start, stop)`` with the anchor foot fixed on the floor (no sliding).
        displacements: forward travel (m) between consecutive contacts.
        anchor_side: ``"r"``, ``"l"`` or ``None`` (both feet) for the horizontal anchor.
    """

    q: np.ndarray
    lift: np.ndarray | None = None
    contacts: tuple[tuple[int, int], ...] = field(default=())
    displacements: tuple[float, ...] = field(default=())
    anchor_side: str | None = None
