"""Settings of an adapter build (``python -m biopose_opensim.adapters``): one typed home, read from TOML.

An :class:`AdaptersConfig` is read from a TOML file (``--config FILE.toml``, :func:`load_adapters_config`; relative
paths are taken from the file's folder), overridden by the flags given on the command line, and saved beside the
dataset as ``config.toml`` (paths made absolute), which ``--config`` reads back.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..atomic import atomic_write_text
from ..config import TomlConfig, load_toml_config
from ..errors import ConfigError

#: The resolved configuration, saved in the dataset folder (TOML, read back by ``--config``).
CONFIG_TOML = "config.toml"
#: Sources and the option naming their model-file folder (``model_dir`` in a file).
SOURCES = {"amass": "--smplh-dir", "bedlam": "--smplx-dir", "opencap": None}


@dataclass(frozen=True)
class AdaptersConfig(TomlConfig):
    """Everything that determines an adapter build.

    Attributes:
        source: ``amass`` (SMPL-H sequences), ``bedlam`` (SMPL-X) or ``opencap`` (session folders): the
            subcommand.
        out: dataset folder.
        inputs: ``.npz`` sequences or folders of them (amass, bedlam); session folders (opencap).
        model_dir: folder with the user's licensed SMPL-H / SMPL-X files (``--smplh-dir`` / ``--smplx-dir``).
        fps: sequences are subsampled to at most this rate, Hz (amass, bedlam).
        marker_set: virtual-marker set name or YAML (amass: default ``smpl_d3ke``; bedlam: required).
        static: name of the static trial of each OpenCap session (None: ``neutral``).
        seed: seed of the subject-wise split.
        model: OpenSim model of the labels (None: the default model).
        accuracy: IK accuracy (None: label's default).
        workers: local worker processes (None: CPU cores).
        scheduler: Dask scheduler address (``tcp://host:port``), used instead of local workers.
        overwrite: replace an existing dataset in ``out``.
    """

    source: str
    out: Path
    inputs: tuple[Path, ...] = ()
    model_dir: Path | None = None
    fps: float = 60.0
    marker_set: str | None = None
    static: str | None = None
    seed: int = 0
    model: Path | None = None
    accuracy: float | None = None
    workers: int | None = None
    scheduler: str | None = None
    overwrite: bool = False

    TOML_HEADER = (
        "Adapter build: python -m biopose_opensim.adapters SOURCE --config THIS_FILE (flags override it).",
        "Keys are the long options without '--' and with '_' for '-' (docs/datasets.md, Adapters); inputs is the",
        "list of input paths, model_dir the --smplh-dir / --smplx-dir folder; source is the subcommand's.",
        "Relative paths are taken from this file's folder. A key left out keeps its default.",
    )
    TOML_PATHS = ("out", "model_dir", "model")
    TOML_PATH_LISTS = ("inputs",)
    TOML_YAML_PATHS = ("marker_set",)

    def __post_init__(self) -> None:
        for name in ("out", "model_dir", "model"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, Path(getattr(self, name)))
        object.__setattr__(self, "inputs", tuple(Path(p) for p in self.inputs))
        if self.source not in SOURCES:
            raise ConfigError(f"unknown source {self.source!r}; expected one of {', '.join(SOURCES)}")
        if not self.inputs:
            raise ConfigError(f"no inputs given for {self.source}: name them on the command line or as inputs = [...]")
        option = SOURCES[self.source]
        if option is not None and self.model_dir is None:
            raise ConfigError(f"{self.source} needs {option} (model_dir), the folder holding your model files")
        if self.source == "bedlam" and self.marker_set is None:
            raise ConfigError("bedlam needs --marker-set (marker_set): no SMPL-X virtual-marker set ships")


def load_adapters_config(path: str | Path | None, flags: Mapping[str, Any]) -> AdaptersConfig:
    """The build's configuration: the TOML file ``path`` (if any), then the ``flags`` given (``None``: not given).

    Raises:
        InputFileError: a missing or malformed TOML file.
        ConfigError: an unknown key or a value of the wrong type (naming the file and key), no ``out`` in either,
            or a missing setting of the source (model folder, BEDLAM's marker set, inputs).
    """
    return load_toml_config(AdaptersConfig, path, flags,
                            required={"out": 'no dataset folder: give --out DIR or out = "DIR" in the file'})


def build_adapter_dataset(config: AdaptersConfig, progress: bool = True, argv: list[str] | None = None):
    """Build the dataset ``config`` describes, then save the resolved configuration as ``config.toml`` in it.

    Returns:
        the :class:`~biopose_opensim.synth.assemble.DatasetResult` of the build.
    """
    from .build import build_opencap_dataset, build_smpl_dataset

    common = dict(seed=config.seed, model=config.model, workers=config.workers, scheduler=config.scheduler,
                  overwrite=config.overwrite, accuracy=config.accuracy, progress=progress, argv=argv)
    if config.source == "opencap":
        result = build_opencap_dataset(list(config.inputs), config.out, static=config.static, **common)
    else:
        result = build_smpl_dataset(config.source, list(config.inputs), config.out, config.model_dir,
                                    fps=config.fps, marker_set=config.marker_set, **common)
    atomic_write_text(config.out / CONFIG_TOML, config.resolved_toml())
    return result
