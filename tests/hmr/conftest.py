"""32 rendered person crops of the tiny synthetic dataset (2 subjects x 16 frames of a squat), once per session."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def hmr_images(synth_source, tmp_path_factory):
    """An image dataset (``biopose_opensim.images/1``) of 32 crops: 16 evenly spaced frames per subject."""
    from biopose_opensim.render.__main__ import main

    out = tmp_path_factory.mktemp("hmr") / "images"
    rc = main(["--data", str(synth_source), "--out", str(out), "--frames-per-trial", "16", "--seed", "1",
               "--workers", "1", "--no-progress"])
    assert rc == 0
    return out


@pytest.fixture(scope="session")
def overfit_tiny(hmr_images):
    """The tiny configuration trained 250 steps on all 32 crops as one batch (its loss and learning rate).

    Returns ``(config, body, net, batch, start_err2d_px)``; the network is left in eval mode.
    """
    import torch

    from biopose_opensim.hmr.config import CONFIGS
    from biopose_opensim.hmr.data import RenderDataset
    from biopose_opensim.hmr.evaluate import joint_errors
    from biopose_opensim.hmr.losses import hmr_loss
    from biopose_opensim.hmr.model import MQHMR, body_outputs, make_body
    from biopose_opensim.hmr.trainer import batch_target

    cfg = CONFIGS["tiny"]
    data = torch.utils.data.ConcatDataset([RenderDataset(hmr_images, s) for s in ("train", "test")])
    batch = next(iter(torch.utils.data.DataLoader(data, batch_size=32)))
    torch.manual_seed(0)
    body = make_body(cfg)
    net = MQHMR(cfg, body)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.train.lr)
    target = batch_target(batch, cfg, "cpu")
    start = None
    for _ in range(250):
        out = body_outputs(net(batch["image"]), body, cfg)
        if start is None:
            start = float(joint_errors(out, target.keypoints_3d, target.keypoints_2d, cfg.crop)["err2d_px"].mean())
        loss = hmr_loss(out, target, cfg.loss).total
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.train.grad_clip)
        opt.step()
    return cfg, body, net.eval(), batch, start
