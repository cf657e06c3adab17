"""Marker files with a wrong length unit in their header are refused before OpenSim runs, with the file, the
figures and the likely unit; a plausible subject gets the figures in its report. Subject mass and height are
checked by one rule in every mode.

The mislabelled files are the Gait2392 tutorial's trials with only the ``Units`` field of the TRC header changed
(the numbers stay as captured, in mm), or rewritten in metres under an ``mm`` header.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from biopose_opensim.errors import ConfigError, InputFileError
from biopose_opensim.io import read_trc, write_trc
from biopose_opensim.label import main
from biopose_opensim.labeling import LabelConfig, SubjectSpec, label_trial, prepare_subject
from biopose_opensim.labeling.config import check_subject_value
from biopose_opensim.labeling.layout import read_subject_toml
from biopose_opensim.labeling.plausibility import check_scale_factors, likely_units, marker_span
from biopose_opensim.labeling.resolve import reference_markers


def relabel_units(src: Path, dst: Path, units: str) -> Path:
    """``src`` with only the header's Units field replaced by ``units`` (the numbers are kept)."""
    lines = src.read_text().splitlines(keepends=True)
    keys, values = lines[1].rstrip("\n").split("\t"), lines[2].rstrip("\n").split("\t")
    values[keys.index("Units")] = units
    lines[2] = "\t".join(values) + "\n"
    dst.write_text("".join(lines))
    return dst


def in_metres_labelled_mm(src: Path, dst: Path) -> Path:
    """``src``'s data written in metres, then the header's unit set to ``mm``."""
    write_trc(dst, read_trc(src), units="m")
    return relabel_units(dst, dst, "mm")


def _argv(d: Path, out: Path, static: Path, trial: Path) -> list[str]:
    return ["--model", str(d / "gait2392_simbody.osim"), "--markers", str(d / "gait2392_Scale_MarkerSet.xml"),
            "--static", str(static), "--trials", str(trial), "--out", str(out), "--subject", "s01"]


def test_trial_in_mm_labelled_m_is_refused_before_scaling(tmp_path, gait2392_dir, caplog):
    trial = relabel_units(gait2392_dir / "subject01_walk1.trc", tmp_path / "walk_mm_as_m.trc", "m")
    out = tmp_path / "out"
    with caplog.at_level(logging.ERROR):
        rc = main(_argv(gait2392_dir, out, gait2392_dir / "subject01_static.trc", trial))
    assert rc == 2
    msg = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    assert str(trial) in msg and "read as 'm'" in msg and "look like mm, not m" in msg, msg
    # nothing scaled, nothing written (checked before OpenSim runs)
    assert not (out / "s01_scaled.osim").exists() and not list(out.glob("*_ik.mot"))


def test_static_and_trial_in_mm_labelled_m_are_refused(tmp_path, gait2392_dir):
    static = relabel_units(gait2392_dir / "subject01_static.trc", tmp_path / "static.trc", "m")
    trial = relabel_units(gait2392_dir / "subject01_walk1.trc", tmp_path / "walk.trc", "m")
    spec = SubjectSpec("s01", static, (trial,))
    cfg = LabelConfig(model=gait2392_dir / "gait2392_simbody.osim",
                      markers=gait2392_dir / "gait2392_Scale_MarkerSet.xml")
    with pytest.raises(InputFileError, match=r"static trial markers span .* look like mm, not m") as err:
        prepare_subject(spec, cfg, tmp_path / "out")
    assert str(static) in str(err.value)
    # the measured span ratio is about 1000 (a unit error), not a small or tall subject
    ratio = float(str(err.value).split("(ratio ")[1].split(",")[0])
    assert 900 < ratio < 1100, str(err.value)
    assert not (tmp_path / "out" / "s01_scaled.osim").exists()


def test_data_in_m_labelled_mm_is_refused(tmp_path, gait2392_dir):
    static = in_metres_labelled_mm(gait2392_dir / "subject01_static.trc", tmp_path / "static.trc")
    cfg = LabelConfig(model=gait2392_dir / "gait2392_simbody.osim",
                      markers=gait2392_dir / "gait2392_Scale_MarkerSet.xml")
    with pytest.raises(InputFileError, match=r"read as 'mm' .* look like m, not mm") as err:
        prepare_subject(SubjectSpec("s01", static, ()), cfg, tmp_path / "out")
    assert str(static) in str(err.value)


def test_trial_check_also_guards_label_trial(tmp_path, gait2392_dir):
    """Dataset mode labels trials one by one: each is checked before its IK, against the prepared subject."""
    cfg = LabelConfig(model=gait2392_dir / "gait2392_simbody.osim",
                      markers=gait2392_dir / "gait2392_Scale_MarkerSet.xml")
    prepared = prepare_subject(SubjectSpec("s01", gait2392_dir / "subject01_static.trc", ()), cfg, tmp_path / "o")
    # the figures of a plausible subject: the tutorial subject against the generic gait2392 model
    assert 0.9 < prepared.static_span.ratio < 1.15, prepared.static_span
    assert 0.9 < prepared.scale_check.median < 1.2, prepared.scale_check
    doc = json.loads(prepared.scale_factors_json.read_text())["unit_plausibility"]
    assert doc["span_ratio"] == pytest.approx(prepared.static_span.ratio)
    bad = in_metres_labelled_mm(gait2392_dir / "subject01_walk1.trc", tmp_path / "walk.trc")
    with pytest.raises(InputFileError, match=r"trial markers span .* look like m, not mm"):
        label_trial(prepared, bad)
    assert not list((tmp_path / "o").glob("walk*"))


def test_span_and_scale_figures(gait2392_dir):
    """The check's figures on the real tutorial data: factors of 1000 in both directions, 1 when correct."""
    ref = reference_markers(LabelConfig(model=gait2392_dir / "gait2392_simbody.osim",
                                        markers=gait2392_dir / "gait2392_Scale_MarkerSet.xml"), ik_only=False)
    walk = read_trc(gait2392_dir / "subject01_walk1.trc")
    good = marker_span(walk, ref)
    assert good.markers >= 20 and 0.9 < good.ratio < 1.1 and good.header_units == "mm"
    big = marker_span(walk.with_positions(walk.positions * 1000.0), ref)
    assert big.ratio == pytest.approx(1000.0 * good.ratio, rel=1e-9)
    assert likely_units("m", big.ratio) == "mm" and likely_units("mm", good.ratio) is None
    assert likely_units("mm", good.ratio / 1000.0) == "m" and likely_units("m", good.ratio * 100.0) == "cm"
    # after scaling: a median factor of 1057.7 (both files mislabelled) is refused and names the static trial
    factors = (("pelvis", (1057.7, 1057.7, 1057.7)), ("femur_r", (1100.0, 1100.0, 1100.0)), ("ground", (1, 1, 1)))
    with pytest.raises(InputFileError, match=r"static.trc: OpenSim's ScaleTool scaled the model by a median "
                                             r"factor of 1079 \(range 1058-1100 over 2 bodies.* look like mm, not m"):
        check_scale_factors(factors, Path("static.trc"), "m")
    ok = check_scale_factors((("pelvis", (1.05, 1.1, 1.0)), ("femur_r", (1.0, 1.02, 1.04)),
                              ("hand_r", (2.4, 2.4, 2.4))), Path("s.trc"), "mm")
    assert ok.median == pytest.approx(1.05) and ok.outside == ("hand_r",)  # one body outside: listed, accepted


def test_report_shows_the_sanity_figures(tmp_path, gait2392_dir):
    out = tmp_path / "out"
    d = gait2392_dir
    assert main(_argv(d, out, d / "subject01_static.trc", d / "subject01_walk1.trc")) == 0
    report = (out / "report.md").read_text()
    section = report.split("## Unit plausibility")[1].split("\n## ")[0]
    lines = [ln for ln in section.splitlines() if ln.startswith("- ")]
    assert lines[0].startswith("- static trial (mm): ") and lines[1].startswith("- subject01_walk1: ")
    assert lines[2].startswith("- scale factors: median ")
    ratio = float(lines[1].split("ratio ")[1])
    assert 0.9 < ratio < 1.15, section


@pytest.mark.parametrize("argv_extra, message", [
    (["--mass", "72000"], "command line: --mass must be a number in (0, 500) kg, got 72000.0 (72000 looks like g; "
                          "give 72 kg)"),
    (["--height", "1780"], "command line: --height must be a number in (0, 3) m, got 1780.0 (1780 looks like mm; "
                           "give 1.78 m)"),
    (["--height", "178"], "--height must be a number in (0, 3) m, got 178.0 (178 looks like cm; give 1.78 m)"),
    (["--mass", "0"], "--mass must be a number in (0, 500) kg, got 0.0"),
    (["--mass", "nan"], "--mass must be a number in (0, 500) kg, got nan"),
])
def test_one_subject_mass_and_height_validated(tmp_path, gait2392_dir, caplog, argv_extra, message):
    d = gait2392_dir
    out = tmp_path / "out"
    with caplog.at_level(logging.ERROR):
        rc = main(_argv(d, out, d / "subject01_static.trc", d / "subject01_walk1.trc") + argv_extra)
    assert rc == 2
    assert any(message in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]
    assert not out.exists()  # refused before anything is written


def test_one_rule_for_every_path(tmp_path):
    """The command line, a --config file and a dataset's subject.toml share check_subject_value."""
    assert check_subject_value("mass", 72.6, "x") == 72.6 and check_subject_value("height", None, "x") is None
    with pytest.raises(ConfigError, match=r"subject.toml: mass must be a number in \(0, 500\) kg, got 72000"):
        toml = tmp_path / "subject.toml"
        toml.write_text("mass = 72000\n")
        read_subject_toml(toml)
    with pytest.raises(ConfigError, match=r"height must be a number in \(0, 3\) m, got 1780"):
        LabelConfig(height=1780)
    with pytest.raises(ConfigError, match=r"mass must be a number in \(0, 500\) kg, got True"):
        check_subject_value("mass", True, "x")
    assert LabelConfig(mass=499.0, height=2.99).mass == 499.0
    assert np.isfinite(check_subject_value("height", 0.5, "x"))
