"""The unrolled per-frame program (``biopose_opensim.kinematics.unrolled``) and the compiled layer
(``OsimFK.compile``) against the batched eager path.

- The program run eagerly (no compiler) equals the batched path on every test model, unscaled and scaled, with
  and without the spline lookups inside the program, float64, within 1e-12 m (same constants, same spline
  intervals; only the summation order differs), and
  within 1e-5 m with float32 inputs.
- The compiled layer (``torch.compile``, dynamic batch size) on a three-body model built here (free joint,
  spline-driven custom joint, a coupled pin joint, rotated offset frames, a marker on ground), small so that
  compiling stays quick (about a minute on a cold cache, seconds on a warm one): same markers, joint centres
  and transforms as eager within 1e-12 (float64) and 1e-5 m (float32, lookups inside the program), for two batch
  sizes (one compilation each, unscaled and scaled).
  Each call's path is checked through ``OsimFK.last_path`` (the C++ kernel ran, not the batched fallback).
  Calls that need gradients run the batched path: its gradients in q and s match central finite differences of
  the compiled program (float64, step 1e-6) within 1e-7.
- float32 results are compared with an independently loaded float64 layer (constants never rounded to float32).
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from opensim_reference import PROJECT_DIR
from synthetic_model import add_coupler, build_synthetic_model, simm_spline

from biopose_opensim.kinematics import OsimFK, random_poses
from biopose_opensim.kinematics.unrolled import build_program, count_operations, run_program
from biopose_opensim.osim import import_opensim

MODELS = {
    "RajagopalLaiUhlrich2023": ("osim_models/RajagopalLaiUhlrich2023.osim", None),
    "Rajagopal2015": ("tests/data/models/Rajagopal2015.osim", None),
    "gait2392": (
        "tests/data/gait2392_tutorial/gait2392_simbody.osim",
        "tests/data/gait2392_tutorial/gait2392_Scale_MarkerSet.xml",
    ),
}
TOL64 = 1e-12


@pytest.fixture(scope="module")
def synthetic_path(tmp_path_factory):
    return build_synthetic_model(tmp_path_factory.mktemp("synthetic") / "synthetic.osim")


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    """ground -FreeJoint- b1 -CustomJoint(c2: spline rotation, spline translation)- b2 -PinJoint(c3)- b3, with
    c3 = 0.7 * spline(c2) (a coupler), a marker on a rotated offset frame of b2 and one on the ground."""
    osim = import_opensim()
    model = osim.Model()
    model.setName("small_compiled_fk")
    v = osim.Vec3
    bodies = {}
    for name in ("b1", "b2", "b3"):
        bodies[name] = osim.Body(name, 1.0, v(0), osim.Inertia(0.01, 0.01, 0.01))
        model.addBody(bodies[name])
    free = osim.FreeJoint("free", model.getGround(), v(0.1, 0.9, 0), v(0, 0.2, 0), bodies["b1"], v(0, 0.1, 0), v(0))
    st = osim.SpatialTransform()
    for i, (coords, axis, f) in enumerate([
        (["c2"], (0, 0, 1), osim.LinearFunction(1.0, 0.0)),
        (["c2"], (1, 0, 0), simm_spline(osim, [-1.0, 0.0, 0.5, 1.5], [0.1, 0.0, -0.2, 0.3])),
        ([], (0, 1, 0), osim.Constant(0.2)),
        (["c2"], (1, 0, 0), simm_spline(osim, [-1.0, 0.0, 0.5, 1.5], [0.0, 0.01, 0.03, 0.02])),
        ([], (0, 1, 0), osim.Constant(-0.3)),
        ([], (0, 0, 1), osim.Constant(0.0)),
    ]):
        ta = st.updTransformAxis(i)
        names = osim.ArrayStr()
        for c in coords:
            names.append(c)
        ta.setCoordinateNames(names)
        ta.setAxis(v(*axis))
        ta.set_function(f)
    custom = osim.CustomJoint("custom", bodies["b1"], v(0, -0.2, 0.05), v(0.1, 0, 0), bodies["b2"], v(0, 0.1, 0),
                              v(0, 0, 0.2), st)
    pin = osim.PinJoint("pin", bodies["b2"], v(0.02, -0.25, 0), v(0, 0.3, 0), bodies["b3"], v(0, 0.05, 0), v(0))
    for j in (free, custom, pin):
        model.addJoint(j)
        for i in range(j.numCoordinates()):
            c = j.upd_coordinates(i)
            c.setRangeMin(-1.0 if c.getMotionType() != 2 else -0.3)
            c.setRangeMax(1.2 if c.getMotionType() != 2 else 0.3)
    custom.upd_coordinates(0).setName("c2")
    pin.upd_coordinates(0).setName("c3")
    add_coupler(osim, model, "c3_from_c2", "c2", "c3", simm_spline(osim, [-1.0, 0.0, 1.0, 1.5], [-0.5, 0.1, 0.8, 0.9]),
                scale_factor=0.7)
    offset = osim.PhysicalOffsetFrame("b2_offset", bodies["b2"],
                                      osim.Transform(osim.Rotation(0.5, v(0, 0, 1)), v(0.03, -0.1, 0.02)))
    bodies["b2"].addComponent(offset)
    for name, frame, loc in [("m1", bodies["b1"], (0.05, -0.1, 0.02)), ("m2", offset, (0.02, 0.03, -0.05)),
                             ("m3", bodies["b3"], (0.0, -0.1, 0.04)), ("m0", model.getGround(), (0.5, 0.0, 0.2))]:
        model.addMarker(osim.Marker(name, frame, v(*loc)))
    model.finalizeConnections()
    model.initSystem()
    path = tmp_path_factory.mktemp("small") / "small.osim"
    model.printToXML(str(path))
    return path


def _max_diff(a, b) -> float:
    return max(float((x - y).abs().max()) if x.numel() else 0.0 for x, y in zip(a, b))


def _outputs(res):
    return res.markers, res.joint_centers, res.body_transforms


@pytest.mark.parametrize("name", [*MODELS, "synthetic", "small"])
def test_program_run_eagerly_equals_batched_path(name, synthetic_path, small_model):
    if name in ("synthetic", "small"):
        path, marker_set = (synthetic_path if name == "synthetic" else small_model), None
    else:
        model, markers = MODELS[name]
        path, marker_set = PROJECT_DIR / model, (PROJECT_DIR / markers if markers else None)
    fk = OsimFK.from_osim(path, dtype=torch.float64, marker_set=marker_set)
    rng = np.random.default_rng(11)
    q = torch.tensor(random_poses(fk, 16, rng)).reshape(4, 4, -1)
    s = torch.tensor(rng.uniform(0.8, 1.2, (4, 4, fk.n_bodies, 3)))
    for scale, lookups in itertools.product((None, s), (False, True)):
        program = build_program(fk.plan, scaled=scale is not None, lookups=lookups)
        assert count_operations(program) > 0
        got = run_program(program, q, scale, fk._consts(), fk.plan)
        ref = _outputs(fk(q, scale))
        assert [g.shape for g in got] == [r.shape for r in ref[::-1]]
        err = _max_diff(got, ref[::-1])
        assert err < TOL64, f"{name} scaled={scale is not None} lookups={lookups}: max difference {err:.2e}"
    # float32 inputs: the program computes in float32 like the float32 layer (tolerance 1e-5 m). The float32
    # layer is loaded on its own, so the float64 reference keeps the file's constants unrounded.
    fk32 = OsimFK.from_osim(path, dtype=torch.float32, marker_set=marker_set)
    got = run_program(build_program(fk32.plan, scaled=True, lookups=True), q.float(), s.float(), fk32._consts(),
                      fk32.plan)
    assert got[0].dtype == torch.float32 and fk.default_values.dtype == torch.float64
    assert _max_diff([g.double() for g in got], _outputs(fk(q, s))[::-1]) < 1e-5


def _frame_losses(layer, q, s, w) -> torch.Tensor:
    """(..., N) per-frame weighted sums of all outputs: frame f's loss depends on frame f's inputs only."""
    return sum((out * wi).flatten(-out.dim() + 1).sum(-1) for out, wi in zip(_outputs(layer(q, s)), w))


def test_compiled_layer_matches_eager_values_and_gradients(small_model):
    eager = OsimFK.from_osim(small_model, dtype=torch.float64)
    assert eager.dependent_coordinate_names == ("c3",) and eager.n_bodies == 3
    compiled = OsimFK.from_osim(small_model, dtype=torch.float64, compile=True)
    assert compiled.compiled and not eager.compiled and compiled.last_path is None
    rng = np.random.default_rng(12)
    for n in (7, 32):  # dynamic batch size: one compilation for both
        q = torch.tensor(random_poses(eager, n, rng))
        s = torch.tensor(rng.uniform(0.8, 1.2, (n, eager.n_bodies, 3)))
        with torch.no_grad():
            for scale in (None, s):
                err = _max_diff(_outputs(compiled(q, scale)), _outputs(eager(q, scale)))
                # the compiled program ran (the C++ kernel on CPU), not the batched fallback
                assert compiled.last_path == "native", compiled.last_path
                assert eager.last_path == "batched"
                assert err < TOL64, f"batch {n}: compiled vs eager {err:.2e}"

    # Gradients (calls that need them run the batched path) against central finite differences of the compiled
    # program itself (a separate implementation: the C++ kernel), float64, step 1e-6: tolerance 1e-7 per entry.
    n, eps = 5, 1e-6
    q = torch.tensor(random_poses(eager, n, rng))
    s = torch.tensor(rng.uniform(0.8, 1.2, (n, eager.n_bodies, 3)))
    w = [torch.tensor(rng.normal(size=t.shape)) for t in _outputs(eager(q, s))]
    qg, sg = q.clone().requires_grad_(True), s.clone().requires_grad_(True)
    grad_q, grad_s = torch.autograd.grad(_frame_losses(compiled, qg, sg, w).sum(), (qg, sg))
    assert compiled.last_path == "batched"
    x = torch.cat([q, s.flatten(1)], dim=1)  # (n, n_q + 3 * n_bodies) per-frame inputs
    k = x.shape[1]
    steps = torch.eye(k, dtype=x.dtype) * eps  # (k, k)
    xp = x[None] + steps[:, None, :]  # (k, n, k): input j of every frame moved by +eps
    xm = x[None] - steps[:, None, :]
    w_rep = [wi.repeat(k, *([1] * (wi.dim() - 1))) for wi in w]  # the weights of each frame, k times

    def losses(xx):  # (k, n, k) inputs -> (k, n) per-frame losses, one call of the compiled program
        nq = q.shape[1]
        flat = xx.reshape(k * n, k)
        return _frame_losses(compiled, flat[:, :nq], flat[:, nq:].reshape(-1, eager.n_bodies, 3), w_rep).reshape(k, n)

    with torch.no_grad():
        fd = ((losses(xp) - losses(xm)) / (2 * eps)).T  # (n, k): d loss_f / d x[f, j]
    assert compiled.last_path == "native"
    auto = torch.cat([grad_q, grad_s.flatten(1)], dim=1)
    err = float((auto - fd).abs().max())
    print(f"\ngradients vs central differences of the compiled program: max |diff| {err:.2e} "
          f"(max |grad| {float(auto.abs().max()):.2e})")
    assert err < 1e-7
    assert float(auto.abs().max()) > 1e-2  # a non-trivial gradient

    # float32: the compiled layer converted in place, against the independently loaded float64 layer.
    compiled.to(torch.float32)
    q32 = torch.tensor(random_poses(eager, 9, rng), dtype=torch.float32)
    with torch.no_grad():
        got = _outputs(compiled(q32))
        assert compiled.last_path == "native"
        ref = _outputs(eager(q32.double()))
    assert got[0].dtype == torch.float32
    assert _max_diff([g.double() for g in got], ref) < 1e-5
