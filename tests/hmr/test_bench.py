"""benchmarks/bench_mqhmr.py end to end on the tiny configuration: its rows, its table and its JSON file."""
from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_mqhmr.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_mqhmr", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiny_run_writes_rows_table_and_json(bench, tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert bench.main(["--configs", "tiny", "--devices", "cpu", "--repeats", "1", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert [r["config"] for r in data["rows"]] == ["tiny"]  # no paper on the CPU without --paper-cpu
    row = data["rows"][0]
    assert row["device"] == "cpu" and row["parameters"] == 864_803
    for key in ["forward_s_per_image_b1", "forward_s_per_image_b16"] + [
            f"refine_{k}_T{T}" for T in (1, 5, 10, 20) for k in ("s_per_image", "opt_s_per_image")]:
        assert math.isfinite(row[key]) and row[key] > 0, key
    for T in (1, 5, 10, 20):
        assert row[f"refine_s_per_iteration_T{T}"] == pytest.approx(row[f"refine_opt_s_per_image_T{T}"] / T,
                                                                    rel=1e-12)
        # the whole call also computes the image features and two predictions
        assert row[f"refine_s_per_image_T{T}"] > row[f"refine_opt_s_per_image_T{T}"]
    assert data["meta"]["paper_refine_s_per_image_rtx_a4000"] == {"1": 0.293, "5": 0.405, "10": 0.62,
                                                                  "20": 0.838}
    assert "random weights" in data["meta"]["note"]
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|")]
    assert len(table) == 4  # header, rule, tiny, the paper's row
    assert table[2].startswith("| tiny | cpu | 864,803 |")
    assert table[3] == "| paper (published) | RTX A4000 | - | - | - | 0.293 | 0.405 | 0.620 | 0.838 | - |"


def test_output_path_names_the_device(bench):
    assert bench.output_path([{"device": "cpu"}]).name == "bench_mqhmr_cpu.json"
    assert bench.output_path([{"device": "cpu"}, {"device": "cuda:0"}]).name == "bench_mqhmr_cuda.json"
