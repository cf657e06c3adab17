"""``synth`` and ``adapters`` under interruption and odd output paths: Ctrl-C stops the run with one message and
exit status 130 (not "no trial could be labelled"), local worker pools stop without tracebacks, and an ``--out``
that cannot be a folder, or a missing OpenCap session, gets one clear message and exit status 2."""
from __future__ import annotations

import logging
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers.interrupts import assert_one_interrupt_message, default_sigint

from biopose_opensim.adapters.__main__ import main as adapters_main
from biopose_opensim.synth.__main__ import main as synth_main

PROJECT = Path(__file__).resolve().parents[2]
#: how long to wait for the run to reach the awaited stage on a slow, shared machine, s; not a timing assertion
START_TIMEOUT = 600


def _popen_until(argv: list[str], marker: str) -> subprocess.Popen:
    """Start ``argv`` (stdout and stderr merged) and return once a printed line contains ``marker``."""
    proc = subprocess.Popen(argv, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=default_sigint)
    seen = []
    deadline = time.monotonic() + START_TIMEOUT
    for line in proc.stdout:
        seen.append(line)
        if marker in line:
            proc.seen = "".join(seen)  # type: ignore[attr-defined]
            return proc
        if time.monotonic() > deadline:
            break
    proc.kill()
    proc.wait()
    pytest.fail(f"{marker!r} never printed (status {proc.returncode}):\n{''.join(seen)[-3000:]}")


def _interrupt(proc: subprocess.Popen) -> tuple[int, str]:
    try:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, rest


def _assert_one_interrupt_message(rc: int, output: str) -> None:
    assert_one_interrupt_message(rc, output)
    assert "no trial could be labelled" not in output


def test_synth_sigint_during_scaling(tmp_path):
    out = tmp_path / "ds"
    proc = _popen_until([sys.executable, "-m", "biopose_opensim.synth", "--out", str(out), "--subjects", "1",
                         "--activities", "squat", "--duration", "1", "--fps", "30", "--workers", "1",
                         "--no-progress", "-v"],
                        "Processing subject")  # OpenSim's ScaleTool started (its log, at -v)
    rc, output = _interrupt(proc)
    _assert_one_interrupt_message(rc, output)
    subject = out / "subjects" / "s000"
    assert (subject / "subject.json").is_file()  # generation had finished: kept for the rerun
    # the interrupted scaling left nothing: no scaled model, no setups, no cleaned static, no temporary files
    assert not list(subject.glob("*_scaled.osim")) and not (subject / "setup_scale.xml").exists()
    cleaned = subject / "cleaned"
    assert not cleaned.exists() or not any(cleaned.iterdir())
    assert [p for p in out.rglob(".*")] == []
    assert not (out / "manifest.json").exists()


_POOL_SCRIPT = textwrap.dedent('''
    import sys, time
    from pathlib import Path

    from biopose_opensim.cli import run_cli, setup_logging
    from biopose_opensim.distributed import Task, run_tasks


    def work(path):
        time.sleep(2.0)
        Path(path).write_text("done")
        return path


    if __name__ == "__main__":
        setup_logging()
        out = Path(sys.argv[1])
        tasks = [Task(f"t{i}", work, (str(out / f"t{i}.txt"),)) for i in range(8)]
        print("STARTED", flush=True)
        raise SystemExit(run_cli(lambda: run_tasks(tasks, workers=2, progress=False) and 0))
''')


def test_process_pool_stops_on_sigint_without_worker_tracebacks(tmp_path):
    script = tmp_path / "pool.py"
    script.write_text(_POOL_SCRIPT)
    out = tmp_path / "out"
    out.mkdir()
    proc = _popen_until([sys.executable, str(script), str(out)], "STARTED")
    deadline = time.monotonic() + START_TIMEOUT
    while not list(out.glob("*.txt")):  # the first tasks ran in the workers
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    rc, output = _interrupt(proc)
    _assert_one_interrupt_message(rc, output)
    assert "KeyboardInterrupt" not in output
    done = sorted(p.name for p in out.glob("*.txt"))
    assert 1 <= len(done) < 8, done  # queued tasks were cancelled
    assert all(p.read_text() == "done" for p in out.glob("*.txt"))  # the running ones finished their files


def _errors(caplog) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


def test_synth_out_that_cannot_be_a_folder(tmp_path, caplog):
    a_file = tmp_path / "data.bin"
    a_file.write_bytes(b"x")
    caplog.clear()
    assert synth_main(["--out", str(a_file), "--no-progress"]) == 2
    assert f"--out {a_file} is an existing file, not a folder" in _errors(caplog)
    caplog.clear()
    assert synth_main(["--out", str(a_file / "ds"), "--no-progress"]) == 2
    assert f"lies below {a_file}, which is a file" in _errors(caplog)
    assert a_file.read_bytes() == b"x"


def _opencap_session(root: Path, gait2392_dir: Path) -> Path:
    markers = root / "MarkerData"
    markers.mkdir(parents=True)
    (markers / "neutral.trc").write_bytes((gait2392_dir / "subject01_static.trc").read_bytes())
    (markers / "walk.trc").write_bytes((gait2392_dir / "subject01_walk1.trc").read_bytes())
    return root


def test_adapters_out_that_cannot_be_a_folder(tmp_path, gait2392_dir, caplog):
    session = _opencap_session(tmp_path / "session", gait2392_dir)
    a_file = tmp_path / "data.bin"
    a_file.write_bytes(b"x")
    for out, expected in ((a_file, "is an existing file, not a folder"), (a_file / "ds", "which is a file")):
        caplog.clear()
        assert adapters_main(["opencap", "--out", str(out), "--no-progress", str(session)]) == 2
        assert expected in _errors(caplog)
    assert a_file.read_bytes() == b"x"


def test_adapters_missing_opencap_session(tmp_path, caplog):
    missing = tmp_path / "OpenCapData_missing"
    assert adapters_main(["opencap", "--out", str(tmp_path / "ds"), "--no-progress", str(missing)]) == 2
    assert f"{missing}: OpenCap session folder does not exist" in _errors(caplog)
    assert not (tmp_path / "ds").exists()
