"""NeurIK configurations: registry, TOML round trip, refusals naming the key."""
from __future__ import annotations

import pytest

from biopose_opensim.errors import ConfigError
from biopose_opensim.neurik.config import CONFIGS, NeurIKConfig, load_config


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_toml_round_trip(name, tmp_path):
    cfg = CONFIGS[name]
    path = tmp_path / f"{name}.toml"
    path.write_text(cfg.to_toml())
    back = load_config(path)
    assert back == cfg.replace(name=cfg.name)
    assert cfg.model_path().is_file() and cfg.marker_set_path().is_file()


def test_paper_sizes():
    m = CONFIGS["paper"].model
    assert (m.window, m.d_model, m.heads, m.layers, m.ffn, m.output) == (64, 256, 8, 3, 512, "last")
    loss = CONFIGS["paper"].loss
    assert (loss.joints, loss.markers, loss.scales, loss.coords) == (1.0, 2.0, 0.1, 0.06)


@pytest.mark.parametrize("text, message", [
    ('[train]\nlr = "fast"\n', "train.lr must be a finite number"),
    ("[model]\nwindwo = 3\n", "unknown key 'model.windwo'"),
    ('[model]\noutput = "middle"\n', "model.output must be one of"),
    ("[augment]\nrotation = 1\n", "augment.rotation must be true or false"),
])
def test_bad_values_name_the_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
        load_config(path)


def test_unknown_name():
    with pytest.raises(ConfigError, match="unknown NeurIK config 'huge'"):
        load_config("huge")
    assert isinstance(NeurIKConfig().replace(name="x"), NeurIKConfig)
