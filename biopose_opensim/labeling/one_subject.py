"""Label one subject end to end: check the inputs up front, scale (or reuse an earlier run's scaling), IK every
trial, write the report; a failed or interrupted run leaves no partial outputs (:mod:`.resume`)."""
from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError, InputFileError
from . import resume
from .config import LabelConfig
from .outputs import safe_name
from .results import SubjectResult, SubjectSpec
from .subject import check_units_up_front, finish_subject
from .trials import read_markers


def label_subject(
    spec: SubjectSpec, config: LabelConfig, out_dir: Path, overwrite: bool = False, progress: bool = True
) -> SubjectResult:
    """Scale, IK every trial, report: :func:`.subject.prepare_subject`, :func:`.subject.label_trial` per trial,
    :func:`.subject.finish_subject`.

    A rerun of the same command after a failure or Ctrl-C resumes: the scaling is reused and finished trials
    are skipped (:mod:`.resume`); a run that fails or is interrupted leaves no partial outputs.

    Raises:
        ConfigError: no trials, or two trials with the same name.
        OutputExistsError: ``out_dir`` holds results this run may not continue, and ``overwrite`` is False.
        BioposeError: any bad input (before anything is written when it can be checked up front).
    """
    from tqdm import tqdm

    trials = tuple(Path(t) for t in spec.trials)
    if not trials:
        raise ConfigError("no trials given; give at least one motion trial (--trials T1.trc ...)")
    stems = [safe_name(t.stem) for t in trials]
    dupes = sorted({s for s in stems if stems.count(s) > 1})
    if dupes:
        raise ConfigError(f"trials with the same name: {', '.join(dupes)}; output files would collide")
    for t in trials:
        if not t.is_file():
            raise InputFileError(t, "trial not found")

    reused = resume.reusable(spec, config, out_dir, overwrite)  # refuses results it may not continue
    # malformed trials and IK time ranges outside a trial fail here, before anything is scaled or written
    datas = [(t, read_markers(t, config.up_axis)) for t in trials]
    resume.check_time_ranges(datas, config)
    check_units_up_front(spec, config, datas)
    prepared = reused or resume.prepare_cleanly(spec, config, out_dir, overwrite=overwrite)
    results = []
    bar = tqdm(trials, desc=f"IK {prepared.name}", unit="trial", disable=not progress, leave=False)
    for t in bar:
        bar.set_postfix_str(t.stem)
        results.append(resume.label_trial_cleanly(prepared, t, overwrite=overwrite or reused is None))
    return finish_subject(prepared, results)
