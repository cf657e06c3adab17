"""OpenCap sessions: discover a session folder's trials, its scaled model and its subject metadata.

An OpenCap download (Uhlrich, Falisse, Kidziński et al. 2023) is laid out as::

    <session>/sessionMetadata.yaml            mass_kg, height_m, subjectID, gender_mf, openSimModel, ...
    <session>/MarkerData/<trial>.trc          video keypoints + augmented anatomical markers (*_study), mm
    <session>/OpenSimData/Kinematics/<trial>.mot  OpenCap's own IK (LaiUhlrich2022 coordinates)
    <session>/OpenSimData/Model/<model>_scaled.osim

The static trial is the one named ``neutral`` (OpenCap's calibration pose) or containing ``static``.
Into the dataset, every dynamic trial is labelled again by this package's ``label`` on the default model
(so the labels share one model and one marker protocol with the synthetic data); OpenCap's own IK
becomes ``q_source`` where its coordinate names match the model.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputFileError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenCapTrial:
    """One dynamic trial: its markers and, when present, OpenCap's IK result."""

    name: str
    trc: Path
    mot: Path | None


@dataclass(frozen=True)
class OpenCapSession:
    """A discovered OpenCap session.

    Attributes:
        name: subject id from the metadata (else the folder name).
        root: the session folder.
        static: the static (``neutral``) trial.
        trials: dynamic trials, sorted by name.
        model: OpenCap's scaled model, if present.
        mass: kg; height: m; sex: ``male``/``female`` or ``None``.
    """

    name: str
    root: Path
    static: Path
    trials: tuple[OpenCapTrial, ...]
    model: Path | None
    mass: float | None
    height: float | None
    sex: str | None


def _metadata(root: Path) -> dict:
    path = root / "sessionMetadata.yaml"
    if not path.is_file():
        log.warning("%s: no sessionMetadata.yaml; mass and height unknown", root)
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise InputFileError(path, f"not valid YAML: {exc}", line=None if line is None else line + 1) from None
    if not isinstance(data, dict):
        raise InputFileError(path, "expected a mapping of metadata keys (mass_kg, height_m, ...)")
    return data


def _positive(path: Path, data: dict, key: str) -> float | None:
    if key not in data or data[key] in (None, ""):
        return None
    try:
        v = float(data[key])
    except (TypeError, ValueError):
        raise InputFileError(path, f"{key} must be a number, got {data[key]!r}") from None
    if not v > 0:
        raise InputFileError(path, f"{key} must be positive, got {v}")
    return v


def read_opencap_session(root: str | Path, static: str | None = None) -> OpenCapSession:
    """Discover an OpenCap session folder.

    Args:
        root: the session folder (holding ``MarkerData/``).
        static: name (stem) of the static trial; default: ``neutral`` or a trial whose name contains ``static``.

    Raises:
        InputFileError: ``root`` missing or not a folder, no ``MarkerData/`` or no TRC in it, no static trial,
            or bad metadata values.
    """
    root = Path(root)
    if not root.exists():
        raise InputFileError(root, "OpenCap session folder does not exist")
    if not root.is_dir():
        raise InputFileError(root, "not a folder; expected an OpenCap session folder (holding MarkerData/)")
    markers_dir = root / "MarkerData"
    if not markers_dir.is_dir():
        raise InputFileError(root, "not an OpenCap session: expected a MarkerData/ folder with .trc trials")
    trcs = sorted(markers_dir.glob("*.trc"))
    if not trcs:
        raise InputFileError(markers_dir, "no .trc trials found")
    if static is not None:
        chosen = [p for p in trcs if p.stem == static]
        if not chosen:
            raise InputFileError(markers_dir, f"static trial {static!r} not found; trials: "
                                              f"{', '.join(p.stem for p in trcs)}")
    else:
        chosen = [p for p in trcs if p.stem.lower() == "neutral"] or \
                 [p for p in trcs if "static" in p.stem.lower() or "neutral" in p.stem.lower()]
        if not chosen:
            raise InputFileError(markers_dir, "no static trial (named 'neutral' or containing 'static'); trials: "
                                              f"{', '.join(p.stem for p in trcs)}; name one explicitly")
    static_path = chosen[0]
    kin = root / "OpenSimData" / "Kinematics"
    trials = []
    for p in trcs:
        if p == static_path:
            continue
        mot = kin / f"{p.stem}.mot"
        trials.append(OpenCapTrial(p.stem, p, mot if mot.is_file() else None))
    if not trials:
        raise InputFileError(markers_dir, f"only the static trial {static_path.name} was found; no dynamic trials")
    models = sorted((root / "OpenSimData" / "Model").glob("*.osim"))
    meta = _metadata(root)
    meta_path = root / "sessionMetadata.yaml"
    sex_raw = str(meta.get("gender_mf", meta.get("sex", "")) or "").strip().lower()
    sex = {"m": "male", "male": "male", "f": "female", "female": "female"}.get(sex_raw)
    name = str(meta.get("subjectID") or root.name).strip() or root.name
    return OpenCapSession(name=name, root=root, static=static_path, trials=tuple(trials),
                          model=models[0] if models else None, mass=_positive(meta_path, meta, "mass_kg"),
                          height=_positive(meta_path, meta, "height_m"), sex=sex)
