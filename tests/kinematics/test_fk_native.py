"""The unrolled program as one C++ kernel (``biopose_opensim.kinematics.native``, what ``OsimFK.compile()`` runs
on CPU) against the batched eager path.

- float64, within 1e-12 m (same constants and spline intervals; only the summation order differs): the
  three-body model of ``test_fk_compiled`` and the synthetic model, unscaled and scaled, a leading batch shape
  (3, 70) = 210 frames (full tiles of 32 frames and a short one), with 1 and 2 threads; a single frame.
- float32 on Rajagopal2015 (the benchmark model), 300 frames, within 1e-5 m.
- The rows of the outputs are padded apart (``row_stride``) only by whole cache lines.
- Wrong input shapes are refused with messages that name the expected shape.
- With ``torch.compile`` options, ``compile()`` still runs the program through ``torch.compile`` (the fallback).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from opensim_reference import PROJECT_DIR
from synthetic_model import build_synthetic_model
from test_fk_compiled import TOL64, _max_diff, _outputs, small_model  # noqa: F401  (fixture)

from biopose_opensim.kinematics import OsimFK, random_poses
from biopose_opensim.kinematics.native import NativeProgram, row_stride
from biopose_opensim.kinematics.unrolled import build_program


@pytest.fixture(scope="module")
def synthetic_path(tmp_path_factory):
    return build_synthetic_model(tmp_path_factory.mktemp("synthetic_native") / "synthetic.osim")


@pytest.fixture
def threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("name", ["small", "synthetic"])
def test_native_kernel_matches_batched_path_float64(name, small_model, synthetic_path, threads):
    path = small_model if name == "small" else synthetic_path
    eager = OsimFK.from_osim(path, dtype=torch.float64)
    compiled = OsimFK.from_osim(path, dtype=torch.float64, compile=True)
    rng = np.random.default_rng(5)
    q = torch.tensor(random_poses(eager, 210, rng)).reshape(3, 70, -1)
    s = torch.tensor(rng.uniform(0.8, 1.2, (3, 70, eager.n_bodies, 3)))
    with torch.no_grad():
        for n_threads in (1, 2):
            torch.set_num_threads(n_threads)
            for scale in (None, s):
                got, ref = _outputs(compiled(q, scale)), _outputs(eager(q, scale))
                assert [g.shape for g in got] == [r.shape for r in ref]
                err = _max_diff(got, ref)
                assert err < TOL64, f"{name} threads={n_threads} scaled={scale is not None}: {err:.2e}"
        one = _max_diff(_outputs(compiled(q[0, :1], s[0, :1])), _outputs(eager(q[0, :1], s[0, :1])))
        assert one < TOL64
    for scaled in (False, True):  # the kernel, not torch.compile, ran
        assert isinstance(compiled._programs[(scaled, torch.float64, torch.device("cpu"))], NativeProgram)


def test_native_kernel_float32_rajagopal():
    path = PROJECT_DIR / "tests/data/models/Rajagopal2015.osim"
    eager = OsimFK.from_osim(path, dtype=torch.float64)
    compiled = OsimFK.from_osim(path, dtype=torch.float32, compile=True)
    q = torch.tensor(random_poses(eager, 300, np.random.default_rng(6)))
    with torch.no_grad():
        got = _outputs(compiled(q.float()))
        ref = _outputs(eager(q))
    assert got[0].dtype == torch.float32
    assert isinstance(compiled._programs[(False, torch.float32, torch.device("cpu"))], NativeProgram)
    err = _max_diff([g.double() for g in got], ref)
    assert err < 1e-5, f"float32 kernel vs float64 batched path: {err:.2e} m"


def test_row_stride():
    for n, itemsize in [(4096, 4), (4096, 8), (1, 4), (100, 8), (256, 4)]:
        ld = row_stride(n, itemsize)
        assert n <= ld <= n + 2 * 64 // itemsize
        assert (ld * itemsize) % 64 == 0 and (ld * itemsize) % 1024 != 0


def test_native_kernel_refuses_wrong_shapes(small_model):
    fk = OsimFK.from_osim(small_model, dtype=torch.float64)
    program = NativeProgram(build_program(fk.plan, scaled=False, lookups=True), torch.float64, fk.n_coordinates)
    with pytest.raises(ValueError, match=rf"q must be \(N, {fk.n_coordinates}\)"):
        program(torch.zeros(4, fk.n_coordinates + 1, dtype=torch.float64))
    with pytest.raises(ValueError, match="s must be"):
        program(torch.zeros(4, fk.n_coordinates, dtype=torch.float64), torch.ones(4, 3 * fk.n_bodies))


def test_compile_with_options_uses_torch_compile(small_model):
    eager = OsimFK.from_osim(small_model, dtype=torch.float32)
    compiled = OsimFK.from_osim(small_model, dtype=torch.float32).compile(options={"cpp_wrapper": True})
    q = torch.tensor(random_poses(eager, 9, np.random.default_rng(7)), dtype=torch.float32)
    with torch.no_grad():
        got, ref = _outputs(compiled(q)), _outputs(eager(q))
    assert isinstance(compiled._programs[(False, torch.float32, torch.device("cpu"))], tuple)
    assert _max_diff(got, ref) < 1e-5
