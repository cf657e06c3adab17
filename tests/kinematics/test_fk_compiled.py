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
  Calls that need gradients run the batched path: same gradients in q and s.
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
    # float32 inputs: the program computes in float32 like the float32 layer (tolerance 1e-5 m).
    fk32 = fk.to(torch.float32)
    got = run_program(build_program(fk32.plan, scaled=True, lookups=True), q.float(), s.float(), fk32._consts(),
                      fk32.plan)
    assert got[0].dtype == torch.float32
    assert _max_diff([g.double() for g in got], _outputs(fk.to(torch.float64)(q, s))[::-1]) < 1e-5


def test_compiled_layer_matches_eager_values_and_gradients(small_model):
    eager = OsimFK.from_osim(small_model, dtype=torch.float64)
    assert eager.dependent_coordinate_names == ("c3",) and eager.n_bodies == 3
    compiled = OsimFK.from_osim(small_model, dtype=torch.float64, compile=True)
    assert compiled.compiled and not eager.compiled
    rng = np.random.default_rng(12)
    for n in (7, 32):  # dynamic batch size: one compilation for both
        q = torch.tensor(random_poses(eager, n, rng))
        s = torch.tensor(rng.uniform(0.8, 1.2, (n, eager.n_bodies, 3)))
        with torch.no_grad():
            for scale in (None, s):
                err = _max_diff(_outputs(compiled(q, scale)), _outputs(eager(q, scale)))
                assert err < TOL64, f"batch {n}: compiled vs eager {err:.2e}"

    q = torch.tensor(random_poses(eager, 5, rng))
    s = torch.tensor(rng.uniform(0.8, 1.2, (5, eager.n_bodies, 3)))
    w = [torch.tensor(rng.normal(size=t.shape)) for t in _outputs(eager(q, s))]
    grads = []
    for layer in (eager, compiled):
        qg, sg = q.clone().requires_grad_(True), s.clone().requires_grad_(True)
        loss = sum((out * wi).sum() for out, wi in zip(_outputs(layer(qg, sg)), w))
        grads.append(torch.autograd.grad(loss, (qg, sg)))
    for g_eager, g_compiled in zip(*grads):
        assert torch.allclose(g_compiled, g_eager, atol=1e-10, rtol=0), float((g_compiled - g_eager).abs().max())

    compiled.to(torch.float32)
    q32 = torch.tensor(random_poses(eager, 9, rng), dtype=torch.float32)
    with torch.no_grad():
        got = _outputs(compiled(q32))
        ref = _outputs(eager(q32.double()))
    assert got[0].dtype == torch.float32
    assert _max_diff([g.double() for g in got], ref) < 1e-5
