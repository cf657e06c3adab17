"""Parity with nimblephysics 0.10.52.1, run in its own environment (``.venvs/nimble``, numpy < 2).

The environment is an install step, ``python scripts/nimble_env.py create`` (``.ci/run`` calls it after the main
install); without it the test fails with a message naming that command. nimble loads ``Rajagopal2015.osim`` with
its own OpenSim parser and computes marker world positions frame by frame. Coordinates are mapped by name
(``nimble_coordinate_map``): nimble drops the patella bodies and the coupled ``knee_angle_*_beta`` coordinates,
which are not layer inputs either. Tolerance: 1e-5 m on every marker at 60 random poses (locked coordinates
varied too; nimble does not lock them).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers.nimble import load_nimble_env
from opensim_reference import PROJECT_DIR

from biopose_opensim.kinematics import OsimFK, random_poses

nimble_env = load_nimble_env()
nimble_coordinate_map = nimble_env.nimble_coordinate_map
nimble_marker_positions = nimble_env.nimble_marker_positions
nimble_model_info = nimble_env.nimble_model_info

MODEL = PROJECT_DIR / "tests" / "data" / "models" / "Rajagopal2015.osim"


@pytest.fixture(scope="session")
def nimble_python():
    """The environment's python; a missing environment fails the test (it is an install step, never skipped)."""
    try:
        return nimble_env.require_nimble_env()
    except nimble_env.NimbleEnvError as exc:
        pytest.fail(str(exc), pytrace=False)


def test_marker_parity_with_nimblephysics(nimble_python):
    fk = OsimFK.from_osim(MODEL, dtype=torch.float64)
    info = nimble_model_info(MODEL, python=nimble_python)
    assert set(fk.body_names) - set(info.body_names) == {"patella_r", "patella_l"}
    cmap = nimble_coordinate_map(fk.coordinate_names, info.dof_names)
    assert cmap.dropped == ()
    assert sorted(info.dof_names) == sorted(fk.coordinate_names)

    q = random_poses(fk, 60, np.random.default_rng(11), hold_locked=False)
    markers, names = nimble_marker_positions(MODEL, cmap.to_nimble(q), python=nimble_python)
    assert set(names) == set(fk.marker_names)
    ours = fk(torch.tensor(q)).markers.numpy()[:, [fk.marker_names.index(n) for n in names]]
    dist = np.linalg.norm(ours - markers, axis=-1)
    print(f"\nnimblephysics vs layer on {MODEL.name}: {q.shape[0]} poses x {len(names)} markers, "
          f"max {dist.max():.2e} m, mean {dist.mean():.2e} m")
    assert dist.max() < 1e-5
    # The comparison is sensitive: a different pose moves markers by centimetres.
    other = fk(torch.tensor(q[::-1].copy())).markers.numpy()[:, [fk.marker_names.index(n) for n in names]]
    assert np.linalg.norm(other - markers, axis=-1).max() > 1e-2


def test_coordinate_map_rejects_unknown_dofs():
    with pytest.raises(nimble_env.NimbleEnvError, match="extra_dof"):
        nimble_coordinate_map(["a", "b"], ["b", "extra_dof"])
    m = nimble_coordinate_map(["a", "b", "c"], ["c", "a"])
    assert m.layer_index.tolist() == [2, 0] and m.dropped == ("b",)
    assert m.to_nimble(np.array([[1.0, 2.0, 3.0]])).tolist() == [[3.0, 1.0]]


def test_missing_environment_names_the_install_command(tmp_path):
    with pytest.raises(nimble_env.NimbleEnvError, match=r"python scripts/nimble_env\.py create"):
        nimble_env.require_nimble_env(tmp_path / "absent")
