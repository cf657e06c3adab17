"""2D-informed refinement: only the query tokens move, the 2D error falls, frames refine independently."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from biopose_opensim.hmr.refine import refine


@pytest.fixture(scope="module")
def setup(overfit_tiny):
    """The overfitted tiny network (tests/hmr/conftest.py) and 4 of its crops with their true 2D keypoints."""
    cfg, body, net, batch, _ = overfit_tiny
    return cfg, body, net, {k: v[:4] for k, v in batch.items() if isinstance(v, torch.Tensor)}


def test_refinement_lowers_the_2d_error_and_moves_only_the_queries(setup):
    cfg, body, net, batch = setup
    before = {k: v.clone() for k, v in net.state_dict().items()}
    res = refine(net, body, cfg, batch["image"], batch["keypoints_2d"])
    assert res.reprojection.shape == (2, 4)
    assert (res.reprojection[1] < res.reprojection[0]).all(), res.reprojection
    assert res.reprojection[1].mean() < 0.9 * res.reprojection[0].mean(), res.reprojection
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert all(p.requires_grad for p in net.parameters()) and not net.training  # its mode is restored
    assert not torch.equal(res.queries, net.decoder.query.expand(4, -1, -1))
    # T = 0 returns the network's own prediction
    zero = refine(net, body, cfg, batch["image"], batch["keypoints_2d"],
                  settings=dataclasses.replace(cfg.refine, iterations=0))
    assert zero.reprojection.shape == (1, 4)
    assert torch.allclose(zero.refined.keypoints_2d, res.initial.keypoints_2d)


def test_frames_refine_independently_of_their_batch(setup):
    """The energy is a sum over frames and Adam steps per element: frame 0 refined alone or with three others
    ends at the same tokens (1e-5)."""
    cfg, body, net, batch = setup
    settings = dataclasses.replace(cfg.refine, iterations=5)
    together = refine(net, body, cfg, batch["image"], batch["keypoints_2d"], settings=settings)
    alone = refine(net, body, cfg, batch["image"][:1], batch["keypoints_2d"][:1], settings=settings)
    assert torch.allclose(together.queries[:1], alone.queries, atol=1e-5)


def test_zero_confidence_keypoints_do_not_move_the_body(setup):
    """Without any keypoint (confidence 0) only the pose prior acts: the prediction stays where it started."""
    cfg, body, net, batch = setup
    kp = batch["keypoints_2d"].clone()
    kp[..., 2] = 0.0
    res = refine(net, body, cfg, batch["image"][:2], kp[:2])
    assert torch.allclose(res.refined.params.rotations, res.initial.params.rotations, atol=1e-4)
