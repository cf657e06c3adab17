"""``python -m biopose_opensim.label`` under interruption, failure and odd output paths: Ctrl-C stops the run with
one message and exit status 130 and leaves no partial files; a failed or interrupted run resumes; errors knowable
up front leave the output folder untouched (no ``label.log`` either); outputs get the ordinary file mode."""
from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.interrupts import assert_one_interrupt_message, default_sigint

from biopose_opensim.atomic import atomic_path, atomic_write_text, new_file_mode
from biopose_opensim.label import main

PROJECT = Path(__file__).resolve().parents[2]
#: a line OpenSim's InverseKinematicsTool logs per solved frame (the marker placer's lines read "Frame at")
IK_FRAME = re.compile(r"Frame \d+ \(t = ")
#: how long to wait for IK to start (a slow, shared machine), s; not a timing assertion
START_TIMEOUT = 300


def _one_subject(d: Path, out: Path, *extra: str) -> list[str]:
    return ["--model", str(d / "gait2392_simbody.osim"), "--markers", str(d / "gait2392_Scale_MarkerSet.xml"),
            "--static", str(d / "subject01_static.trc"), "--trials", str(d / "subject01_walk1.trc"),
            "--out", str(out), "--subject", "s01", "--mass", "72.6", *extra]


def _interrupt_during_ik(argv: list[str], log_file: Path) -> tuple[int, str]:
    """Run ``label`` in a subprocess, send SIGINT once OpenSim's IK has solved a frame (seen in ``log_file``);
    return the exit status and everything the process printed."""
    proc = subprocess.Popen([sys.executable, "-m", "biopose_opensim.label", *argv], cwd=PROJECT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=default_sigint)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"label ended (status {proc.returncode}) before IK started:\n{proc.stdout.read()}")
            if log_file.is_file() and IK_FRAME.search(log_file.read_text(encoding="utf-8", errors="replace")):
                break
            if time.monotonic() > deadline:
                pytest.fail("IK did not start")
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, output


def _no_partial_files(out: Path) -> None:
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".") and p.name != ".prepared.pkl"]
    assert leftovers == [], leftovers


def test_sigint_during_ik_stops_cleanly_and_the_rerun_resumes(tmp_path, gait2392_dir, caplog):
    out = tmp_path / "out"
    rc, output = _interrupt_during_ik(_one_subject(gait2392_dir, out), out / "label.log")
    assert_one_interrupt_message(rc, output)
    _no_partial_files(out)
    # the interrupted trial left nothing; the finished scaling stays, recorded for the rerun
    trial_outputs = [out / "subject01_walk1_ik.mot", out / "subject01_walk1_marker_errors.sto",
                     out / "subject01_walk1_setup_ik.xml", out / "labels" / "subject01_walk1.npz",
                     out / "cleaned" / "subject01_walk1.trc"]
    assert [p for p in trial_outputs if p.exists()] == []
    assert not (out / "report.md").exists()
    scaled = out / "s01_scaled.osim"
    assert scaled.is_file() and (out / ".prepared.pkl").is_file()
    scaled_mtime = scaled.stat().st_mtime_ns

    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert main(_one_subject(gait2392_dir, out)) == 0
    assert "resuming the earlier run" in caplog.text
    assert scaled.stat().st_mtime_ns == scaled_mtime  # scaling reused, not redone
    assert all(p.is_file() for p in trial_outputs) and (out / "report.md").is_file()
    # every output has the ordinary mode of a new file (umask), including those written through a temporary file
    mode = new_file_mode()
    wrong = {str(p.relative_to(out)): oct(p.stat().st_mode & 0o777) for p in out.rglob("*")
             if p.is_file() and p.stat().st_mode & 0o777 != mode}
    assert wrong == {}, f"expected {oct(mode)}"

    # a refused rerun (other settings) changes nothing, label.log included
    log_before = (out / "label.log").read_bytes()
    caplog.clear()
    assert main(_one_subject(gait2392_dir, out, "--static-window", "1", "2")) == 2
    assert "already holds results" in caplog.text and "nothing was changed" in caplog.text
    assert (out / "label.log").read_bytes() == log_before


def test_sigint_in_dataset_mode_with_one_worker_stops_the_run(tmp_path, gait2392_dir):
    root = tmp_path / "ds"
    subject = root / "s01"
    (subject / "trials").mkdir(parents=True)
    (subject / "static.trc").write_bytes((gait2392_dir / "subject01_static.trc").read_bytes())
    (subject / "trials" / "walk.trc").write_bytes((gait2392_dir / "subject01_walk1.trc").read_bytes())
    (subject / "subject.toml").write_text("mass = 72.6\n")
    out = tmp_path / "out"
    argv = ["--dataset", str(root), "--workers", "1", "--model", str(gait2392_dir / "gait2392_simbody.osim"),
            "--markers", str(gait2392_dir / "gait2392_Scale_MarkerSet.xml"), "--out", str(out)]
    rc, output = _interrupt_during_ik(argv, out / "label.log")
    assert_one_interrupt_message(rc, output)  # not swallowed as a failed trial
    _no_partial_files(out)
    assert not (out / "summary.json").exists()
    assert not (out / "s01" / "walk_ik.mot").exists() and not (out / "s01" / "labels" / "walk.npz").exists()
    assert (out / "s01" / ".prepared.pkl").is_file()

    # the rerun resumes; an invalid subject's reason is printed, not only written to summary.json
    bad = root / "s02"
    (bad / "trials").mkdir(parents=True)
    (bad / "static.trc").write_bytes((gait2392_dir / "subject01_static.trc").read_bytes())
    (bad / "trials" / "walk.trc").write_bytes((gait2392_dir / "subject01_walk1.trc").read_bytes())
    (bad / "subject.toml").write_text("mass = -3\n")
    done = subprocess.run([sys.executable, "-m", "biopose_opensim.label", *argv], cwd=PROJECT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr  # 1: the invalid subject
    assert re.search(r"invalid subject s02 .*mass", done.stderr), done.stderr
    import json

    summary = json.loads((out / "summary.json").read_text())
    s01 = next(s for s in summary["subjects"] if s["name"] == "s01")
    assert s01["status"] == "skipped" and s01["trials"][0]["status"] == "done"


def test_time_range_outside_the_trials_is_refused_before_anything_is_written(tmp_path, gait2392_dir, caplog):
    out = tmp_path / "out"
    assert main(_one_subject(gait2392_dir, out, "--time-range", "10", "20")) == 2
    assert "subject01_walk1.trc: IK time range 10-20 s does not exist in this trial, which covers 0-2.5 s" \
        in caplog.text
    assert not out.exists()

    # the same from a lab's IK setup; the folder exists and stays as it was (no label.log)
    out.mkdir()
    setup = tmp_path / "ik_setup.xml"
    text = (gait2392_dir / "subject01_Setup_IK.xml").read_text()
    text, n = re.subn(r"<time_range>[^<]*</time_range>", "<time_range> 5 6</time_range>", text)
    assert n == 1
    setup.write_text(text)
    caplog.clear()
    assert main(_one_subject(gait2392_dir, out, "--ik-setup", str(setup))) == 2
    assert "IK time range 5-6 s does not exist in this trial" in caplog.text
    assert list(out.iterdir()) == []


def test_out_that_cannot_be_a_folder(tmp_path, gait2392_dir, caplog):
    a_file = tmp_path / "results.txt"
    a_file.write_text("not a folder\n")
    for out, expected in ((a_file, f"--out {a_file} is an existing file, not a folder"),
                          (a_file / "sub", f"--out {a_file / 'sub'} lies below {a_file}, which is a file")):
        caplog.clear()
        assert main(_one_subject(gait2392_dir, out)) == 2
        assert expected in caplog.text
        assert main(["--sample", "--out", str(out)]) == 2
    assert a_file.read_text() == "not a folder\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in any folder, so no folder is unwritable to it")
def test_out_in_an_unwritable_folder(tmp_path, gait2392_dir, caplog):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    assert main(_one_subject(gait2392_dir, locked / "out")) == 2
    assert "no permission to write in" in caplog.text and str(locked) in caplog.text


def test_subprocess_out_below_a_file_prints_one_line(tmp_path, gait2392_dir):
    a_file = tmp_path / "f"
    a_file.write_text("x")
    res = subprocess.run([sys.executable, "-m", "biopose_opensim.label", *_one_subject(gait2392_dir, a_file / "o")],
                         cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and "NotADirectoryError" not in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("ERROR") and "which is a file" in res.stderr


def test_wrong_type_in_config_names_the_key(tmp_path, gait2392_dir, caplog):
    cfg = tmp_path / "label.toml"
    cfg.write_text('[label]\naccuracy = "fast"\n')
    out = tmp_path / "out"
    assert main(_one_subject(gait2392_dir, out, "--config", str(cfg))) == 2
    assert f"{cfg}: accuracy must be a number, got 'fast' (string)" in caplog.text
    assert not out.exists()


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_atomic_writes_get_the_umask_mode(tmp_path, umask):
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "a.txt", "x\n")
        with atomic_path(tmp_path / "b.sto") as tmp:  # the path another library (OpenSim) writes into
            tmp.write_text("y\n")
        plain = tmp_path / "c.txt"
        plain.write_text("z\n")
    finally:
        os.umask(old)
    expected = 0o666 & ~umask
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == expected
    assert (tmp_path / "b.sto").stat().st_mode & 0o777 == expected
    assert plain.stat().st_mode & 0o777 == expected  # the same as an ordinary write

