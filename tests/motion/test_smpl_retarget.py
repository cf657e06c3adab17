"""SMPL-family retargeting (motion.smpl_retarget) on a synthetic SMPL-H body and the default OpenSim model.

At the reference pose (every coordinate 0, standing) the pelvis keeps SMPL's rest orientation and the body
stands on the floor: the root translation lifts the lowest rest vertex to y = 0 (exact up to 1e-9 m). A walk
moves the hips and knees by tens of degrees.
"""
from __future__ import annotations

import numpy as np
import torch
from synthetic_smpl import write_synthetic_model

from biopose_opensim.activities import CoordinateSpace, generate_activity, sample_params
from biopose_opensim.bodymodels.registry import body_model_spec
from biopose_opensim.motion import body_poses, static_motion
from biopose_opensim.motion.smpl_retarget import calibrate_smpl, retarget_smpl_poses


def test_reference_pose_stands_on_the_floor_and_walk_moves_the_legs(tmp_path, default_model):
    models = write_synthetic_model(tmp_path / "models", "smplh", genders=("female", "male"))
    body = body_model_spec("smpl").load(models, "female")
    rest = body.forward(torch.zeros(1, body.num_betas, dtype=torch.float64))
    verts = rest.vertices[0].numpy()
    calib = calibrate_smpl(default_model, body.joint_names, rest.joints[0].numpy(), verts,
                           int(body.model.NUM_BODY_JOINTS))
    assert 0.5 < calib.scale < 2.0
    go, bp, tr = retarget_smpl_poses(calib, calib.ref)
    np.testing.assert_allclose(go, 0.0, atol=1e-9)
    assert abs(tr[0, 1] + verts[:, 1].min()) < 1e-9
    space = CoordinateSpace.from_osim(default_model)
    walk = generate_activity("walk", space, sample_params("walk", np.random.default_rng(0), 1.0), fps=30.0)
    go, bp, tr = retarget_smpl_poses(calib, body_poses(str(default_model), walk))
    assert go.shape == (walk.n_frames, 3) and bp.shape == (walk.n_frames, 3 * calib.n_body)
    left_hip = bp[:, 0:3]  # body_pose joint 0 is the left hip
    assert np.degrees(np.ptp(np.linalg.norm(left_hip, axis=1))) > 15.0
    static = static_motion(str(default_model), "zero", duration=0.1, rate=30.0)
    _, bp0, _ = retarget_smpl_poses(calib, body_poses(str(default_model), static))
    np.testing.assert_allclose(bp0, bp0[:1].repeat(len(bp0), 0), atol=1e-12)
