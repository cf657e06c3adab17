"""Entry point behind ``python -m biopose_opensim.label``: resolve the configuration and label.

Precedence of settings: command-line flags > ``--config`` TOML > the sample's ``subject.toml`` (with
``--sample``) > :class:`~biopose_opensim.labeling.config.LabelConfig` defaults.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Sequence

from ..atomic import check_output_dir
from ..cli import setup_logging
from ..errors import ConfigError
from .config import LabelConfig, check_subject_value
from .subject import SubjectSpec, label_subject

log = logging.getLogger(__name__)

#: Name of the log file written into the output folder.
LOG_NAME = "label.log"


def run_label(
    out: Path,
    model: Path | None = None,
    static: Path | None = None,
    trials: Sequence[Path] | None = None,
    subject: str | None = None,
    mass: float | None = None,
    height: float | None = None,
    sample: bool = False,
    markers: Path | None = None,
    scale_setup: Path | None = None,
    ik_setup: Path | None = None,
    accuracy: float | None = None,
    static_pose: str | None = None,
    static_window: Sequence[float] | None = None,
    time_range: Sequence[float] | None = None,
    max_gap: float | None = None,
    config: Path | None = None,
    dataset: Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    layout: str = "auto",
    overwrite: bool = False,
    verbosity: int = 0,
) -> int:
    """Label one subject (``static`` + ``trials``, or ``sample``) or a dataset (``dataset``) into ``out``.

    One subject without ``static``: IK only on ``model`` as given (the subject's scaled model); nothing is scaled
    and the labels carry scale factors of 1. ``mass`` (kg) and ``height`` (m) are checked by
    :func:`~biopose_opensim.labeling.config.check_subject_value` in every mode.

    Returns the exit status (0; in dataset mode 1 when a subject or trial failed). Bad input raises a
    :class:`~biopose_opensim.errors.BioposeError`.
    """
    out = Path(out)
    setup_logging(verbosity)  # console first, so that argument errors are reported too
    modes = [bool(sample), dataset is not None, static is not None or bool(trials)]
    if sum(modes) != 1:
        raise ConfigError("give exactly one of --sample, --dataset ROOT, or [--static S.trc] --trials T.trc ...")
    mass = check_subject_value("mass", mass, "command line", "--mass")  # one rule for every mode
    height = check_subject_value("height", height, "command line", "--height")
    check_output_dir(out)
    setup_logging(verbosity, log_file=_log_file(out))  # the file appears once the run writes into out

    cfg = LabelConfig.from_toml(config) if config is not None else LabelConfig()
    spec: SubjectSpec | None = None
    if sample:
        from .sample import sample_subject

        spec, sample_overrides = sample_subject()
        cfg = cfg.with_overrides(**{k: v for k, v in sample_overrides.items() if _is_default(cfg, k, config)})
    cfg = cfg.with_overrides(
        model=model, markers=markers, scale_setup=scale_setup, ik_setup=ik_setup, accuracy=accuracy,
        static_pose=static_pose, static_window=tuple(static_window) if static_window else None,
        time_range=tuple(time_range) if time_range else None, max_gap=max_gap,
    )

    if dataset is not None:
        if subject or mass is not None or height is not None:
            raise ConfigError("--subject, --mass and --height are per subject; in dataset mode give them in each "
                              "subject's subject.toml")
        from .dataset import label_dataset

        cfg = cfg.with_overrides(mass=None, height=None)
        summary = label_dataset(dataset, out, cfg, workers=workers, scheduler=scheduler, overwrite=overwrite,
                                layout=layout)
        return summary.exit_code  # 1 when any subject or trial failed (listed in OUT/summary.json)

    if workers is not None or scheduler is not None:
        raise ConfigError("--workers and --scheduler apply to --dataset only")
    if spec is None:
        if not trials:
            raise ConfigError("one subject needs --trials T1.trc [T2.trc ...], with --static S.trc to scale "
                              "--model first, or without --static for IK only on --model as given")
        if static is None and cfg.model is None:
            raise ConfigError("IK only (no --static) runs on the model as given: give the subject's scaled model "
                              "with --model, or a static trial with --static to scale the generic model")
        name = subject or (subject_name_from_static(Path(static)) if static is not None
                           else subject_name_from_model(Path(cfg.model)))
        spec = SubjectSpec(name=name, static=Path(static) if static is not None else None,
                           trials=tuple(Path(t) for t in trials), mass=mass, height=height)
    else:
        spec = SubjectSpec(name=subject or spec.name, static=spec.static, trials=spec.trials,
                           mass=mass if mass is not None else spec.mass,
                           height=height if height is not None else spec.height, sex=spec.sex)
    result = label_subject(spec, cfg, out, overwrite=overwrite, progress=True)
    log.info("labelled %s: %d trial(s) -> %s (report %s)", result.name, len(result.trials), out, result.report)
    return 0


def subject_name_from_static(static: Path) -> str:
    """A subject name from a static trial's file name: ``subject01_static.trc`` -> ``subject01``."""
    stem = re.sub(r"(^|[_\-. ])static([_\-. ]|$)", r"\1", Path(static).stem, flags=re.IGNORECASE).strip("_-. ")
    return stem or "subject"


def subject_name_from_model(model: Path) -> str:
    """A subject name from a scaled model's file name: ``subject01_scaled.osim`` -> ``subject01``."""
    stem = re.sub(r"[_\-. ]scaled$", "", Path(model).stem, flags=re.IGNORECASE).strip("_-. ")
    return stem or "subject"


def _log_file(out: Path) -> Path:
    return out / LOG_NAME


def _is_default(cfg: LabelConfig, key: str, config: Path | None) -> bool:
    """True when ``key`` was not set by a --config file (so the sample's own value applies)."""
    if config is None:
        return True
    return getattr(cfg, key) == getattr(LabelConfig(), key)
