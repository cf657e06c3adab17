"""LabelConfig: commented TOML round trip, overrides, and clear errors for bad settings."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from biopose_opensim.errors import ConfigError, InputFileError
from biopose_opensim.labeling import DEFAULT_ACCURACY, LabelConfig


def test_defaults_and_round_trip(tmp_path):
    cfg = LabelConfig()
    assert cfg.model is None and cfg.accuracy is None and DEFAULT_ACCURACY == 1e-6 and cfg.max_gap == 0.1
    full = LabelConfig(model=tmp_path / "m.osim", markers=tmp_path / "set.xml", accuracy=1e-6,
                       constraint_weight=math.inf, mass=72.5, height=1.8, static_pose="zero",
                       static_window=(1, 2), time_range=(0.5, 2.5), marker_aliases=False, up_axis="z")
    text = full.to_toml()
    assert "# IK accuracy" in text and "[label]" in text and "constraint_weight = inf" in text
    path = tmp_path / "label.toml"
    path.write_text(text)
    again = LabelConfig.from_toml(path)
    assert again == full
    # unset values are commented out and load as None
    path.write_text(LabelConfig().to_toml())
    assert LabelConfig.from_toml(path) == LabelConfig()


def test_relative_paths_resolve_against_the_file(tmp_path):
    (tmp_path / "cfg").mkdir()
    path = tmp_path / "cfg" / "label.toml"
    path.write_text('[label]\nmodel = "../models/x.osim"\nstatic_pose = "pose.mot"\n')
    cfg = LabelConfig.from_toml(path)
    assert cfg.model == (tmp_path / "models" / "x.osim").resolve()
    assert Path(cfg.static_pose) == (tmp_path / "cfg" / "pose.mot").resolve()


def test_overrides():
    cfg = LabelConfig(accuracy=1e-5)
    assert cfg.with_overrides(accuracy=None, mass=70).accuracy == 1e-5  # None leaves a value alone
    assert cfg.with_overrides(mass=70).mass == 70
    with pytest.raises(ConfigError, match="did you mean accuracy"):
        cfg.with_overrides(acuracy=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    ({"accuracy": -1}, "accuracy must be a positive number"),
    ({"static_window": (2, 1)}, "static_window must have end > start"),
    ({"static_pose": "upright"}, "static_pose must be 'zero' or a .mot/.sto file"),
    ({"up_axis": "x"}, "up_axis must be 'y' or 'z'"),
    ({"static_min_markers": 1.5}, "static_min_markers must be in"),
])
def test_invalid_values(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        LabelConfig(**kwargs)


def test_bad_files(tmp_path):
    with pytest.raises(InputFileError, match="configuration file not found"):
        LabelConfig.from_toml(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[label]\naccuracy = = 1\n")
    with pytest.raises(InputFileError, match=r"bad.toml, line 2: not valid TOML"):
        LabelConfig.from_toml(bad)
    bad.write_text("[label]\nmax_gapp = 0.2\n")
    with pytest.raises(ConfigError, match=r"bad.toml: unknown key 'max_gapp' \(did you mean max_gap"):
        LabelConfig.from_toml(bad)
