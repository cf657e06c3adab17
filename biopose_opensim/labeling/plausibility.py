"""Plausibility of marker units, checked before OpenSim runs: mislabelled TRC/C3D units are refused, not labelled.

A trial whose header names the wrong length unit (data in mm under ``Units m``, data in m under ``Units mm``)
is read 1000 times too large or too small. OpenSim then scales a pelvis by 1000 or fits IK with errors of
hundreds of metres, and reports success. Two checks catch this:

* **marker span** (before Scale and before IK): per frame, the largest distance between two markers the trial
  shares with the model; its median over frames is compared with the same markers' span on the model in its
  default pose. A ratio outside :data:`SPAN_RATIO_RANGE` cannot be a person measured in the header's unit
  (a child against an adult model is about 0.5, a factor-of-ten unit error 10 or 0.1).
* **scale factors** (after Scale): the median of the scale factors over the scaled bodies outside
  :data:`SCALE_RANGE` is refused (it would scale the model, not fit a human).

Both raise :class:`~biopose_opensim.errors.InputFileError` naming the file, the figures and the likely unit.
The figures go to ``report.md`` ("Unit plausibility").
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..errors import InputFileError
from ..io import MarkerData

log = logging.getLogger(__name__)

#: accepted subject/model marker-span ratio (a unit error is a factor of 10, 100 or 1000)
SPAN_RATIO_RANGE = (1.0 / 3.0, 3.0)
#: accepted median scale factor over the scaled bodies (a human against a generic adult model)
SCALE_RANGE = (0.5, 2.0)
#: length units a marker file may declare, in metres
UNITS_M = {"mm": 1e-3, "cm": 1e-2, "m": 1.0}
#: frames used for the span (evenly spaced); enough for a median
_MAX_FRAMES = 200
#: markers must hold data in at least this share of the frames to enter the span
_MIN_PRESENT = 0.5


@dataclass(frozen=True)
class SpanCheck:
    """Marker span of one trial against the model.

    Attributes:
        source: the marker file.
        header_units: the length unit the file declares ("mm", "cm" or "m").
        markers: how many markers (shared by trial and model) entered the span.
        subject_span: m, median over frames of the largest distance between two of those markers.
        model_span: m, the largest distance between the same markers on the model in its default pose.
    """

    source: Path | None
    header_units: str
    markers: int
    subject_span: float
    model_span: float

    @property
    def ratio(self) -> float:
        """subject_span / model_span (about 1 for an adult on a generic adult model or on their scaled model)."""
        return self.subject_span / self.model_span if self.model_span > 0 else float("nan")


@dataclass(frozen=True)
class ScaleCheck:
    """Scale factors OpenSim applied: median, min and max over every factor (x, y, z) of the scaled bodies
    (bodies left at exactly 1 are not counted), and the bodies with a factor outside :data:`SCALE_RANGE`."""

    median: float
    low: float
    high: float
    bodies: int
    outside: tuple[str, ...]


def likely_units(header_units: str, ratio: float) -> str | None:
    """The unit that would bring the span ratio closest to 1, when it differs from the header's; else None."""
    if not (math.isfinite(ratio) and ratio > 0) or header_units not in UNITS_M:
        return None
    # positions scale with the unit's size: declaring u instead of the header's unit multiplies them by
    # UNITS_M[u] / UNITS_M[header]
    best = min(UNITS_M, key=lambda u: abs(math.log(ratio * UNITS_M[u] / UNITS_M[header_units])))
    return None if best == header_units else best


def marker_span(data: MarkerData, model_markers: Mapping[str, Sequence[float]]) -> SpanCheck | None:
    """The span of ``data`` against ``model_markers`` (name -> (x, y, z) m, model's default pose, model names).

    Returns None when fewer than 3 markers are shared (nothing to compare; the marker-name checks report it).
    """
    pos = np.asarray(data.positions, dtype=float)
    if pos.shape[0] == 0:
        return None
    present = np.isfinite(pos).all(axis=-1)
    shared = [j for j, n in enumerate(data.marker_names)
              if n in model_markers and present[:, j].mean() >= _MIN_PRESENT]
    if len(shared) < 3:
        return None
    frames = np.unique(np.linspace(0, pos.shape[0] - 1, min(_MAX_FRAMES, pos.shape[0])).astype(int))
    sel = pos[np.ix_(frames, shared)]  # (F, K, 3)
    with np.errstate(invalid="ignore"):
        d = np.linalg.norm(sel[:, :, None, :] - sel[:, None, :, :], axis=-1)  # (F, K, K), NaN where missing
    per_frame = np.nanmax(np.where(np.isfinite(d), d, -1.0), axis=(1, 2))
    per_frame = per_frame[per_frame > 0]
    if per_frame.size == 0:
        return None
    model = np.array([model_markers[data.marker_names[j]] for j in shared], dtype=float)
    model_span = float(np.linalg.norm(model[:, None, :] - model[None, :, :], axis=-1).max())
    return SpanCheck(data.source, data.source_units, len(shared), float(np.median(per_frame)), model_span)


def check_span(data: MarkerData, model_markers: Mapping[str, Sequence[float]], what: str) -> SpanCheck | None:
    """:func:`marker_span`, refused when its ratio is outside :data:`SPAN_RATIO_RANGE`.

    Args:
        what: what the file is, for the message ("static trial", "trial").

    Raises:
        InputFileError: the markers span implausibly much or little for the declared unit; the message names
            the file, both spans, the declared unit and the likely one.
    """
    span = marker_span(data, model_markers)
    if span is None:
        return None
    low, high = SPAN_RATIO_RANGE
    if not low <= span.ratio <= high:
        unit = likely_units(span.header_units, span.ratio)
        likely = (f"the data look like {unit}, not {span.header_units}: correct the Units in the file's header"
                  if unit else "check the file's units and that it belongs to this model")
        raise InputFileError(
            data.source or what,
            f"{what} markers span {_length(span.subject_span)} read as {span.header_units!r} (the header's unit), "
            f"but the same {span.markers} markers span {_length(span.model_span)} on the model (ratio "
            f"{span.ratio:.3g}, accepted {low:.2g}-{high:g}); {likely}")
    log.debug("%s: marker span %.3f m vs model %.3f m (ratio %.2f)", data.source, span.subject_span,
              span.model_span, span.ratio)
    return span


def check_scale_factors(factors: Sequence[tuple[str, tuple[float, float, float]]], static: Path,
                        header_units: str) -> ScaleCheck | None:
    """Refuse scale factors whose median is outside :data:`SCALE_RANGE`; bodies outside it are only listed.

    Raises:
        InputFileError: the median scale factor is outside the range; the message names the static trial, the
            median and the likely unit of the static trial.
    """
    scaled = [(b, f) for b, f in factors if any(abs(v - 1.0) > 1e-12 for v in f)]
    if not scaled:
        return None
    values = np.array([v for _, f in scaled for v in f], dtype=float)
    low, high = SCALE_RANGE
    outside = tuple(b for b, f in scaled if any(not low <= v <= high for v in f))
    check = ScaleCheck(float(np.median(values)), float(values.min()), float(values.max()), len(scaled), outside)
    if not low <= check.median <= high:
        unit = likely_units(header_units, check.median)
        likely = (f"the static trial's data look like {unit}, not {header_units}: correct the Units in its header"
                  if unit else "check the static trial's units, the model and the scale setup")
        raise InputFileError(
            static, f"OpenSim's ScaleTool scaled the model by a median factor of {check.median:.4g} (range "
                    f"{check.low:.4g}-{check.high:.4g} over {check.bodies} bodies; a human is within "
                    f"{low:g}-{high:g}); {likely}")
    if outside:
        log.warning("%s: scale factors outside %g-%g on %s", static, low, high, ", ".join(outside))
    return check


def report_lines(static_span: SpanCheck | None, scale: ScaleCheck | None, trial_spans: Sequence[
        tuple[str, float, float]], ik_only: bool) -> list[str]:
    """The "Unit plausibility" section of ``report.md``.

    Args:
        trial_spans: (trial, subject span m, model span m) per trial.
    """
    low, high = SPAN_RATIO_RANGE
    model = "the model as given" if ik_only else "the generic model"
    lines = ["## Unit plausibility", "",
             f"Marker span (median over frames of the largest distance between two markers shared with the model) "
             f"against the same markers on {model} in its default pose; accepted ratio {low:.2g}-{high:g}, "
             f"median scale factor {SCALE_RANGE[0]:g}-{SCALE_RANGE[1]:g}.", ""]
    if static_span is not None:
        lines.append(f"- static trial ({static_span.header_units}): {static_span.subject_span:.3f} m vs "
                     f"{static_span.model_span:.3f} m, ratio {static_span.ratio:.3f} ({static_span.markers} markers)")
    for name, subj, mod in trial_spans:
        if math.isfinite(subj) and math.isfinite(mod) and mod > 0:
            lines.append(f"- {name}: {subj:.3f} m vs {mod:.3f} m, ratio {subj / mod:.3f}")
    if scale is not None:
        lines.append(f"- scale factors: median {scale.median:.4f}, range {scale.low:.4f}-{scale.high:.4f} over "
                     f"{scale.bodies} scaled bodies"
                     + (f"; outside {SCALE_RANGE[0]:g}-{SCALE_RANGE[1]:g}: {', '.join(scale.outside)}"
                        if scale.outside else ""))
    elif ik_only:
        lines.append("- scale factors: none applied (IK only on the model as given; labels carry factors of 1)")
    return lines + [""]


def _length(metres: float) -> str:
    if metres >= 10.0 or metres < 0.01:
        return f"{metres:.4g} m"
    return f"{metres:.3f} m"
