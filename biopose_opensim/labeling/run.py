"""One labelling run (:class:`~biopose_opensim.labeling.config.LabelRun`): the sample, a dataset, or one subject.

``python -m biopose_opensim.label`` parses its arguments into a ``LabelRun`` and calls :func:`run_label`.
"""
from __future__ import annotations

import logging
from pathlib import Path

from .config import LabelRun
from .outputs import subject_name_from_model, subject_name_from_static
from .one_subject import label_subject
from .results import SubjectSpec

log = logging.getLogger(__name__)


def run_label(run: LabelRun) -> int:
    """Label ``run``'s sample, dataset or subject into ``run.out``.

    One subject without ``run.static``: IK only on the model as given (the subject's scaled model); nothing is
    scaled and the labels carry scale factors of 1.

    Returns the exit status (0; in dataset mode 1 when a subject or trial failed, listed in
    ``OUT/summary.json``). Bad input raises a :class:`~biopose_opensim.errors.BioposeError`.
    """
    if run.dataset is not None:
        from .dataset import label_dataset

        summary = label_dataset(run.dataset, run.out, run.resolved(), workers=run.workers, scheduler=run.scheduler,
                                overwrite=run.overwrite, layout=run.layout)
        return summary.exit_code

    if run.sample:
        from .sample import sample_subject

        spec, sample_settings = sample_subject()
        cfg = run.resolved(sample_settings)
        spec = SubjectSpec(name=run.subject or spec.name, static=spec.static, trials=spec.trials,
                           mass=run.mass if run.mass is not None else spec.mass,
                           height=run.height if run.height is not None else spec.height, sex=spec.sex)
    else:
        cfg = run.resolved()
        name = run.subject or (subject_name_from_static(run.static) if run.static is not None
                               else subject_name_from_model(Path(cfg.model)))
        spec = SubjectSpec(name=name, static=run.static, trials=run.trials, mass=run.mass, height=run.height)
    result = label_subject(spec, cfg, run.out, overwrite=run.overwrite, progress=True)
    log.info("labelled %s: %d trial(s) -> %s (report %s)", result.name, len(result.trials), run.out, result.report)
    return 0
