"""The body models by name: what the pipelines need to know of each (mesh builder, marker set, model files).

``synth``, ``adapters`` and the virtual-marker files choose a body model by the name given on the command line
(``--body-model anny``) or found in a sequence file (``smplh``); this table is the one place that name is
looked up. Unknown names raise one :class:`~biopose_opensim.errors.ConfigError` listing the registered ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ConfigError
from .base import BodyModel


def _load_anny(model_dir: Path | None, sex: str) -> BodyModel:
    from .anny import AnnyBodyModel

    return AnnyBodyModel()


def _load_smpl(model_dir: Path | None, sex: str) -> BodyModel:
    """SMPL-H if its files are in ``model_dir`` (the D3KE set reads SMPL-H joints), else SMPL."""
    from .smpl import SMPLBodyModel, find_model_file

    errors = []
    for model_type in ("smplh", "smpl"):
        try:
            find_model_file(model_dir, model_type, sex)
        except ConfigError as exc:
            errors.append(str(exc))
            continue
        return SMPLBodyModel(model_dir, model_type, sex, num_betas=10)
    raise ConfigError("; ".join(errors))


def _check_smpl_files(model_dir: Path | None) -> None:
    from .smpl import find_model_file

    for sex in ("female", "male"):
        errors = []
        for model_type in ("smplh", "smpl"):
            try:
                find_model_file(model_dir, model_type, sex)
                break
            except ConfigError as exc:
                errors.append(str(exc))
        else:
            raise ConfigError("; ".join(errors) + " (SMPL-family files are licensed: download them yourself)")


@dataclass(frozen=True)
class BodyModelSpec:
    """One registered body model.

    Attributes:
        name: the name used on the command line, in marker sets and in dataset manifests.
        family: mesh topology family, the ``body_model`` of the virtual-marker sets that fit it
            (``anny``, ``smpl`` for SMPL and SMPL-H, ``smplx``).
        default_marker_set: virtual-marker set used when none is given (a name under ``marker_sets/``).
        needs_model_files: whether the user must supply the model files (licensed, never downloaded).
        synth: whether ``synth`` can drive it from OpenSim coordinates (``--body-model``).
        load: ``load(model_dir, sex)`` builds the mesh model for one subject (``model_dir`` holds the user's
            files when ``needs_model_files``; ``sex`` is ``male`` or ``female``).
        check_files: ``check_files(model_dir)`` raises :class:`ConfigError` naming the files looked for unless
            the user's files of both sexes are there (``None``: nothing to check).
    """

    name: str
    family: str
    default_marker_set: str
    needs_model_files: bool
    synth: bool = False
    load: Callable[[Path | None, str], BodyModel] | None = None
    check_files: Callable[[Path | None], None] | None = None


BODY_MODELS: dict[str, BodyModelSpec] = {
    spec.name: spec for spec in (
        BodyModelSpec("anny", "anny", "anny_d3ke", needs_model_files=False, synth=True, load=_load_anny),
        BodyModelSpec("smpl", "smpl", "smpl_d3ke", needs_model_files=True, synth=True, load=_load_smpl,
                      check_files=_check_smpl_files),
        BodyModelSpec("smplh", "smpl", "smpl_d3ke", needs_model_files=True),
        BodyModelSpec("smplx", "smplx", "smplx_d3ke", needs_model_files=True),
    )
}

#: Body models ``synth`` drives from OpenSim coordinates, in registry order.
SYNTH_BODY_MODELS = tuple(name for name, spec in BODY_MODELS.items() if spec.synth)


def body_model_spec(name: str, synth: bool = False) -> BodyModelSpec:
    """The registered body model ``name`` (with ``synth``: one ``synth`` can drive).

    Raises:
        ConfigError: an unknown name (or one ``synth`` cannot drive), listing the valid names.
    """
    valid = SYNTH_BODY_MODELS if synth else tuple(BODY_MODELS)
    if name not in valid:
        raise ConfigError(f"unknown body model {name!r}; valid body models: {', '.join(valid)}")
    return BODY_MODELS[name]
