"""A small model built with the real OpenSim API that exercises every supported joint and function type.

Chain: ground -FreeJoint- b1 -BallJoint- b2 -GimbalJoint- b3 -UniversalJoint- b4 -SliderJoint- b5
-PlanarJoint- b6 -WeldJoint- b7, plus b1 -CustomJoint- b8 -CustomJoint- b9 and b3 -PinJoint- b10.
The CustomJoints use PiecewiseLinearFunction, PolynomialFunction, MultiplierFunction(SimmSpline),
SimmSpline, LinearFunction and Constant on unit, negative and oblique axes; b9's coordinate is coupled to
b8's by a CoordinateCouplerConstraint (scale factor 0.7, SimmSpline). Frames include a chain of two rotated
PhysicalOffsetFrames on b2 with a marker on it, and a marker on the ground.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from biopose_opensim.osim import import_opensim


def simm_spline(osim, x, y):
    f = osim.SimmSpline()
    for a, b in zip(x, y):
        f.addPoint(float(a), float(b))
    return f


def _owned_by_opensim(obj):
    """Hand a Python-created object to an OpenSim setter that takes ownership of the pointer."""
    obj.thisown = False
    return obj


def add_coupler(osim, model, name: str, independent: str, dependent: str, function, scale_factor: float):
    """Add ``dependent = scale_factor * function(independent)`` to ``model`` (the constraint owns ``function``)."""
    coupler = osim.CoordinateCouplerConstraint()
    coupler.setName(name)
    ind = osim.ArrayStr()
    ind.append(independent)
    coupler.setIndependentCoordinateNames(ind)
    coupler.setDependentCoordinateName(dependent)
    coupler.setFunction(_owned_by_opensim(function))
    osim.PropertyHelper.setValueDouble(scale_factor, coupler.updPropertyByName("scale_factor"))
    model.addConstraint(coupler)


def _axis(osim, st, i, coords, axis, function):
    ta = st.updTransformAxis(i)
    names = osim.ArrayStr()
    for c in coords:
        names.append(c)
    ta.setCoordinateNames(names)
    ta.setAxis(osim.Vec3(*axis))
    ta.set_function(function)  # copies (setFunction would take ownership of a Python-owned object)


def build_synthetic_model(path: str | Path, natural_cubic_spline: bool = False) -> Path:
    """Write the synthetic model to ``path``; with ``natural_cubic_spline`` its splines are written under the
    ``NaturalCubicSpline`` tag (which OpenSim reads as a SimmSpline)."""
    osim = import_opensim()
    model = osim.Model()
    model.setName("synthetic_all_joints")
    ground = model.getGround()
    v = osim.Vec3

    def body(name):
        b = osim.Body(name, 1.0, v(0), osim.Inertia(0.01, 0.01, 0.01))
        model.addBody(b)
        return b

    b = {n: body(n) for n in ("b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10")}
    joints = [
        osim.FreeJoint("free", ground, v(0.1, 0.9, -0.2), v(0.1, -0.2, 0.3), b["b1"], v(0.02, -0.05, 0.01), v(0, 0.2, 0)),
        osim.BallJoint("ball", b["b1"], v(0.0, -0.3, 0.05), v(0.2, 0, -0.1), b["b2"], v(0, 0.1, 0), v(0, 0, 0.3)),
        osim.GimbalJoint("gimbal", b["b2"], v(0.05, -0.25, 0), v(0, 0.4, 0), b["b3"], v(0.01, 0.12, 0), v(-0.2, 0, 0)),
        osim.UniversalJoint("universal", b["b3"], v(0, -0.2, 0.02), v(0.3, 0, 0), b["b4"], v(0, 0.1, 0), v(0, 0, 0)),
        osim.SliderJoint("slider", b["b4"], v(0.03, -0.1, 0), v(0, 0, 0.5), b["b5"], v(0, 0.02, 0), v(0, 0.1, 0)),
        osim.PlanarJoint("planar", b["b5"], v(0, -0.15, 0), v(0.1, 0.2, 0), b["b6"], v(0.01, 0, 0), v(0, 0, 0)),
        osim.WeldJoint("weld", b["b6"], v(0.02, -0.1, 0.01), v(0, 0.3, 0.1), b["b7"], v(0, 0.05, 0), v(0.1, 0, 0)),
        osim.PinJoint("pin", b["b3"], v(0.04, -0.05, 0.06), v(0, 0, 0.2), b["b10"], v(0, 0.08, 0), v(0.3, 0, 0)),
    ]

    st8 = osim.SpatialTransform()
    pl = osim.PiecewiseLinearFunction()
    for x, y in ((-1.5, -0.9), (-0.2, -0.1), (0.4, 0.5), (1.5, 0.7)):
        pl.addPoint(x, y)
    poly = osim.PolynomialFunction(osim.Vector([0.05, -0.2, 0.3, 0.01]))
    mult = osim.MultiplierFunction()
    mult.setFunction(_owned_by_opensim(simm_spline(osim, np.linspace(-1, 1, 6), [0.1, -0.2, 0.05, 0.3, -0.1, 0.2])))
    mult.setScale(1.7)
    axis_oblique = np.array([0.3, 0.8, -0.52])
    axis_oblique /= np.linalg.norm(axis_oblique)
    _axis(osim, st8, 0, ["c8a"], (1, 0, 0), pl)
    _axis(osim, st8, 1, ["c8a"], (0, -1, 0), poly)
    _axis(osim, st8, 2, ["c8b"], tuple(axis_oblique), mult)
    _axis(osim, st8, 3, ["c8b"], (0.6, 0.0, 0.8), simm_spline(osim, [-1, -0.3, 0.2, 0.9], [0.01, 0.03, -0.02, 0.04]))
    _axis(osim, st8, 4, ["c8a"], (0, -1, 0), osim.LinearFunction(0.02, 0.05))
    _axis(osim, st8, 5, [], (0, 0, 1), osim.Constant(0.03))
    joints.append(osim.CustomJoint("custom8", b["b1"], v(0.1, 0, 0.1), v(0, 0, -0.3), b["b8"], v(0, 0.1, 0), v(0.1, 0, 0), st8))

    st9 = osim.SpatialTransform()
    _axis(osim, st9, 0, ["c9"], (0, 0, 1), osim.LinearFunction(1.0, 0.0))
    _axis(osim, st9, 1, [], (1, 0, 0), osim.Constant(0.1))
    _axis(osim, st9, 2, [], (0, 1, 0), osim.Constant(0.0))
    _axis(osim, st9, 3, ["c9"], tuple(axis_oblique), simm_spline(osim, [-1, 0, 0.5, 1.2, 2], [0.0, 0.02, 0.01, 0.05, 0.03]))
    _axis(osim, st9, 4, [], (0, 1, 0), osim.Constant(-0.2))
    _axis(osim, st9, 5, ["c9"], (0, 0, 1), osim.LinearFunction(1.0, 0.0))
    joints.append(osim.CustomJoint("custom9", b["b8"], v(0, -0.2, 0), v(0, 0, 0), b["b9"], v(0, 0.05, 0.01), v(0, 0, 0), st9))
    for j in joints:
        model.addJoint(j)

    ranges = {"c8a": (-1.2, 1.2), "c8b": (-0.9, 0.9), "c9": (-1.0, 2.0)}
    for j in joints:
        for i in range(j.numCoordinates()):
            c = j.upd_coordinates(i)
            lo, hi = ranges.get(c.getName(), (-1.0, 1.0) if c.getMotionType() != 2 else (-0.3, 0.3))
            c.setRangeMin(lo)
            c.setRangeMax(hi)
    add_coupler(osim, model, "c9_from_c8b", "c8b", "c9",
                simm_spline(osim, [-1, -0.4, 0.1, 0.6, 1.0], [-0.8, -0.1, 0.3, 0.9, 1.6]), scale_factor=0.7)

    f1 = osim.PhysicalOffsetFrame("b2_off1", b["b2"], osim.Transform(osim.Rotation(0.4, v(0, 0, 1)), v(0.03, -0.1, 0.02)))
    b["b2"].addComponent(f1)
    f2 = osim.PhysicalOffsetFrame("b2_off2", f1, osim.Transform(osim.Rotation(-0.7, v(1, 0, 0)), v(0.05, 0.02, -0.04)))
    b["b2"].addComponent(f2)
    markers = [
        ("m_b1", b["b1"], (0.05, -0.1, 0.02)),
        ("m_b2_nested", f2, (0.02, 0.03, -0.05)),
        ("m_b3", b["b3"], (0.0, -0.1, 0.04)),
        ("m_b4", b["b4"], (0.03, 0.0, 0.0)),
        ("m_b5", b["b5"], (0.0, -0.05, 0.02)),
        ("m_b6", b["b6"], (0.01, 0.01, 0.01)),
        ("m_b7", b["b7"], (-0.02, 0.04, 0.0)),
        ("m_b8", b["b8"], (0.06, -0.02, 0.03)),
        ("m_b9", b["b9"], (0.0, -0.07, 0.05)),
        ("m_b10", b["b10"], (0.02, -0.03, 0.0)),
        ("m_ground", ground, (0.5, 0.0, 0.2)),
    ]
    for name, frame, loc in markers:
        model.addMarker(osim.Marker(name, frame, v(*loc)))
    model.finalizeConnections()
    model.initSystem()
    path = Path(path)
    model.printToXML(str(path))
    if natural_cubic_spline:
        text = path.read_text().replace("<SimmSpline", "<NaturalCubicSpline")
        path.write_text(text.replace("</SimmSpline>", "</NaturalCubicSpline>"))
        assert text.count("<NaturalCubicSpline") >= 4
    return path
