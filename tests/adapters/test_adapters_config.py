"""``python -m biopose_opensim.adapters SOURCE --config FILE.toml``: the TOML form of :class:`AdaptersConfig`.

A configuration written as ``config.toml`` reads back to the same settings; flags override the file; relative
paths in the file are taken from its folder; unknown keys and values of the wrong type stop the command with one
message naming the file and the key (exit status 2, nothing built). A real OpenCap session built from a file saves
its resolved configuration beside the dataset.
"""
from __future__ import annotations

import json
import logging

import pytest
from test_opencap import _session

from biopose_opensim.adapters.__main__ import main
from biopose_opensim.adapters.config import AdaptersConfig, load_adapters_config
from biopose_opensim.errors import ConfigError


def _run(caplog, argv) -> tuple[int, str]:
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        rc = main([*argv, "--no-progress"])
    return rc, "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


def test_config_toml_round_trip(tmp_path):
    config = AdaptersConfig(source="amass", out=tmp_path / "ds", inputs=(tmp_path / "a.npz", tmp_path / "movi"),
                            model_dir=tmp_path / "models", fps=30.0, marker_set="smpl_d3ke", seed=4, accuracy=1e-5,
                            workers=2, overwrite=True)
    path = tmp_path / "config.toml"
    path.write_text(config.resolved_toml())
    assert path.read_text().startswith("# Adapter build") and "# static = \n" in path.read_text()
    back = load_adapters_config(path, {})
    assert back == config and back.to_dict() == config.to_dict()


def test_flags_override_the_file_and_paths_are_file_relative(tmp_path):
    folder = tmp_path / "settings"
    folder.mkdir()
    path = folder / "movi.toml"
    path.write_text('out = "ds"\ninputs = ["seqs/a.npz"]\nmodel_dir = "models"\nseed = 5\nworkers = 3\nfps = 30\n')
    config = load_adapters_config(path, {"source": "amass", "seed": 1, "workers": None, "inputs": None})
    assert config.seed == 1  # the flag given
    assert config.workers == 3 and config.fps == 30.0  # the file's
    assert config.out == folder / "ds" and config.inputs == (folder / "seqs" / "a.npz",)
    assert config.model_dir == folder / "models" and config.marker_set is None  # default: smpl_d3ke later


@pytest.mark.parametrize("text, message", [
    ("seeed = 3\n", "unknown key 'seeed' (did you mean seed?)"),
    ('fps = "fast"\n', "fps must be a finite number, got 'fast'"),
    ("seed = 1.5\n", "seed must be an integer, got 1.5"),
    ("model = 3\n", "model must be a string, got 3"),
    ("overwrite = 1\n", "overwrite must be true or false, got 1"),
])
def test_bad_file_values_name_the_file_and_key(tmp_path, caplog, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(f'out = "ds"\ninputs = ["session"]\n{text}')
    with pytest.raises(ConfigError) as err:
        load_adapters_config(path, {"source": "opencap"})
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)
    rc, msg = _run(caplog, ["opencap", "--config", str(path)])
    assert rc == 2 and message in msg and str(path) in msg
    assert not (tmp_path / "ds").exists()


def test_file_settings_reach_the_build(tmp_path, caplog):
    path = tmp_path / "cap.toml"
    path.write_text('out = "ds"\ninputs = ["OpenCapData_missing"]\n')
    rc, msg = _run(caplog, ["opencap", "--config", str(path)])
    assert rc == 2 and f"{tmp_path / 'OpenCapData_missing'}: OpenCap session folder does not exist" in msg
    assert not (tmp_path / "ds").exists()
    bedlam = tmp_path / "bedlam.toml"
    bedlam.write_text(f'out = "ds"\ninputs = ["seq.npz"]\nmodel_dir = "{tmp_path}"\n')
    rc, msg = _run(caplog, ["bedlam", "--config", str(bedlam)])
    assert rc == 2 and "bedlam needs --marker-set (marker_set): no SMPL-X virtual-marker set ships" in msg
    rc, msg = _run(caplog, ["opencap", "--config", str(tmp_path / "none.toml")])
    assert rc == 2 and "none.toml" in msg and "configuration file not found" in msg


@pytest.mark.slow
def test_session_built_from_a_config_file_saves_it(tmp_path, data_dir, default_model):
    _session(tmp_path / "sessions" / "OpenCapData_a", data_dir, default_model)
    path = tmp_path / "cap.toml"
    path.write_text('# one session\nout = "ds"\ninputs = ["sessions/OpenCapData_a"]\nseed = 2\nworkers = 2\n')
    assert main(["opencap", "--config", str(path), "--workers", "1", "--no-progress"]) == 0
    m = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert [s["name"] for s in m["subjects"]] == ["subj_07"]
    saved = load_adapters_config(tmp_path / "ds" / "config.toml", {})
    assert saved.source == "opencap" and saved.seed == 2 and saved.workers == 1  # the flag over the file
    assert saved.out == (tmp_path / "ds").resolve()
    assert saved.inputs == ((tmp_path / "sessions" / "OpenCapData_a").resolve(),)
