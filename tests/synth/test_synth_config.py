"""``python -m biopose_opensim.synth --config FILE.toml``: the TOML form of :class:`SynthConfig`.

A configuration written as ``config.toml`` reads back to the same settings; flags override the file; relative
paths in the file are taken from its folder; unknown keys and values of the wrong type stop the command with one
message naming the file and the key (exit status 2, nothing built).
"""
from __future__ import annotations

import logging

import pytest

from biopose_opensim.errors import ConfigError
from biopose_opensim.synth.__main__ import main
from biopose_opensim.synth.config import SynthConfig, load_synth_config


def _run(caplog, argv) -> tuple[int, str]:
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        rc = main([*argv, "--no-progress"])
    return rc, "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


def test_toml_round_trip(tmp_path, data_dir):
    config = SynthConfig(out=tmp_path / "ds", subjects=3, seed=11, activities=("walk", "lunge"),
                         motions=(data_dir / "motions" / "normal.mot",), fps=30.0, duration=1.5, noise_mm=2.0,
                         split=(0.5, 0.25, 0.25), workers=2, accuracy=1e-5, marker_set="anny_d3ke", plots=True)
    path = tmp_path / "config.toml"
    path.write_text(config.resolved_toml())
    text = path.read_text()
    assert text.startswith("# Synthetic dataset build") and "# scheduler = \n" in text
    back = load_synth_config(path, {})
    assert back.to_dict() == config.to_dict()
    assert back.split == (0.5, 0.25, 0.25) and back.duration == 1.5 and back.workers == 2


def test_flags_override_the_file_and_paths_are_file_relative(tmp_path):
    folder = tmp_path / "settings"
    folder.mkdir()
    path = folder / "synth.toml"
    path.write_text('# a small build\nout = "ds"\nsubjects = 7\nseed = 3\nactivities = ["squat"]\nfps = 50\n')
    config = load_synth_config(path, {"subjects": 2, "seed": None, "fps": None})
    assert config.subjects == 2  # the flag given
    assert config.seed == 3 and config.activities == ("squat",) and config.fps == 50.0  # the file's
    assert config.out == folder / "ds"  # relative to the file
    assert config.noise_mm == 0.0  # neither: the default
    assert load_synth_config(path, {"out": tmp_path / "other"}).out == tmp_path / "other"


@pytest.mark.parametrize("text, message", [
    ("subjcts = 3\n", "unknown key 'subjcts' (did you mean subjects?)"),
    ('fps = "fast"\n', "fps must be a finite number, got 'fast'"),
    ("duration = [1, 2]\n", "duration must be a finite number, got [1, 2]"),
    ('split = ["a", 0.2, 0.1]\n', "split must be a list of finite numbers"),
    ("workers = 1.5\n", "workers must be an integer, got 1.5"),
    ('activities = ["cartwheel"]\n', "unknown activity 'cartwheel'"),
])
def test_bad_file_values_name_the_file_and_key(tmp_path, caplog, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(f'out = "ds"\n{text}')
    with pytest.raises(ConfigError) as err:
        load_synth_config(path, {})
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)
    rc, msg = _run(caplog, ["--config", str(path)])
    assert rc == 2 and message in msg and str(path) in msg
    assert not (tmp_path / "ds").exists()


def test_config_without_out_and_missing_file(tmp_path, caplog):
    path = tmp_path / "no_out.toml"
    path.write_text("subjects = 2\n")
    rc, msg = _run(caplog, ["--config", str(path)])
    assert rc == 2 and f"{path}: no dataset folder: give --out DIR" in msg
    rc, msg = _run(caplog, ["--config", str(tmp_path / "missing.toml")])
    assert rc == 2 and "missing.toml" in msg and "configuration file not found" in msg
