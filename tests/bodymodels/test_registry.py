"""The body-model registry: names, default marker sets on the right topology, mesh builders, user model files."""
from __future__ import annotations

import pytest

from biopose_opensim.bodymodels.registry import BODY_MODELS, SYNTH_BODY_MODELS, body_model_spec
from biopose_opensim.errors import ConfigError
from biopose_opensim.markers.sets import load_marker_set


def test_unknown_name_lists_the_registered_ones():
    with pytest.raises(ConfigError, match=r"unknown body model 'star'; valid body models: anny, smpl, smplh, smplx$"):
        body_model_spec("star")
    # synth drives only some of them
    assert SYNTH_BODY_MODELS == ("anny", "smpl")
    with pytest.raises(ConfigError, match=r"unknown body model 'smplx'; valid body models: anny, smpl$"):
        body_model_spec("smplx", synth=True)


@pytest.mark.parametrize("name", ["anny", "smpl", "smplh"])
def test_default_marker_set_fits_the_family(name):
    spec = body_model_spec(name)
    ms = load_marker_set(spec.default_marker_set)
    assert ms.body_model == spec.family
    assert spec.needs_model_files == (spec.family != "anny")


def test_every_registered_model_has_a_family_and_default_set():
    for name, spec in BODY_MODELS.items():
        assert spec.name == name and spec.family in ("anny", "smpl", "smplx")
        assert spec.default_marker_set == f"{spec.family}_d3ke"
        assert (spec.load is not None) == spec.synth


def test_anny_mesh_builder(anny_body):
    body = body_model_spec("anny").load(None, "female")
    assert body.n_vertices == anny_body.n_vertices == 13718


def test_smpl_builder_prefers_smplh_and_checks_both_sexes(tmp_path, smpl_dir):
    spec = body_model_spec("smpl")
    with pytest.raises(ConfigError, match=r"no SMPLH model file.*SMPL_FEMALE\.pkl.*licensed"):
        spec.check_files(tmp_path)
    body = spec.load(smpl_dir, "neutral")
    assert body.model_type == "smplh" and body.n_vertices == 6890
