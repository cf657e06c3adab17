"""MQ-HMR training: the tiny configuration overfits 32 rendered crops; ``train mqhmr`` writes, resumes and
refuses like NeurIK's trainer; checkpoints load back to the same predictions."""
from __future__ import annotations

import dataclasses
import json

import torch

from biopose_opensim.hmr.checkpoint import load_mqhmr
from biopose_opensim.hmr.evaluate import joint_errors
from biopose_opensim.hmr.model import body_outputs
from biopose_opensim.hmr.trainer import batch_target
from biopose_opensim.train import main as train_main


def test_tiny_overfits_32_images_below_5_px(overfit_tiny):
    """32 synthetic 256-px crops (2 subjects x 16 frames), one batch, the tiny configuration's loss and learning
    rate, 250 steps (tests/hmr/conftest.py): the mean 2D error of the 22 body joints ends below 5 px (it starts
    above 15 px)."""
    cfg, body, net, batch, start = overfit_tiny
    assert len(batch["image"]) == 32
    target = batch_target(batch, cfg, "cpu")
    with torch.no_grad():
        out = body_outputs(net(batch["image"]), body, cfg)
    err = float(joint_errors(out, target.keypoints_3d, target.keypoints_2d, cfg.crop)["err2d_px"].mean())
    assert start > 15.0
    assert err < 5.0, f"2D error after 250 steps {err:.2f} px (start {start:.2f} px)"


def test_train_cli_writes_resumes_and_refuses(hmr_images, tmp_path):
    out = tmp_path / "run"
    argv = ["mqhmr", "--data", str(hmr_images), "--config", "tiny", "--out", str(out), "--no-progress"]
    assert train_main(argv + ["--epochs", "1"]) == 0
    for name in ("best.safetensors", "best.json", "last.safetensors", "last.json", "last.optim.safetensors",
                 "config.toml", "data.json", "train_log.jsonl", "curves.png", "train.log"):
        assert (out / name).is_file(), name
    meta = json.loads((out / "last.json").read_text())
    assert meta["format"] == "biopose_opensim.mqhmr/1" and meta["epoch"] == 1
    # the tiny dataset has no val split: the training loss ranks checkpoints
    assert "val_mpjpe_mm" not in meta["history"][0]
    # an existing run is refused without --resume / --overwrite
    assert train_main(argv + ["--epochs", "1"]) != 0
    # resume continues at epoch 2 of 2
    assert train_main(argv + ["--resume", str(out / "last.json")]) == 0
    meta = json.loads((out / "last.json").read_text())
    assert meta["epoch"] == 2 and len(meta["history"]) == 2
    # a checkpoint loads back to the same network
    net, body, cfg, _ = load_mqhmr(out / "last.safetensors")
    from safetensors.torch import load_file

    assert all(torch.equal(v, net.state_dict()[k]) for k, v in load_file(str(out / "last.safetensors")).items())
    assert cfg.name == "tiny" and body.name == "anny"


def test_train_cli_bad_input(hmr_images, tmp_path, caplog):
    out = tmp_path / "bad"
    assert train_main(["mqhmr", "--npz", str(tmp_path / "x.npz"), "--config", "tiny", "--out", str(out)]) != 0
    assert "one --images DIR per --npz FILE" in caplog.text
    caplog.clear()
    assert train_main(["mqhmr", "--data", str(tmp_path), "--config", "tiny", "--out", str(out)]) != 0
    assert "manifest.json" in caplog.text
    assert not out.exists()


def test_ddp_two_processes_equal_one(hmr_images, tmp_path):
    """torchrun-style 2-process gloo DDP on the 16 training crops (tiny, batch 8, one epoch: 2 steps): parameters
    identical across ranks, and the same update as one process on the same global batches:
    |delta_ddp - delta_single| <= 1e-3 |delta_single| (float reduction order differs, Adam amplifies it in
    near-zero gradients)."""
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    from biopose_opensim.hmr.config import CONFIGS
    from biopose_opensim.hmr.trainer import train_mqhmr

    tiny = CONFIGS["tiny"]
    cfg = tiny.replace(train=dataclasses.replace(tiny.train, epochs=1))
    single = train_mqhmr(cfg, [hmr_images], tmp_path / "single", progress=False)
    init = train_mqhmr(tiny.replace(train=dataclasses.replace(tiny.train, epochs=0)), [hmr_images],
                       tmp_path / "init", progress=False)
    cfg_path = tmp_path / "tiny1.toml"
    cfg_path.write_text(cfg.to_toml())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = Path(__file__).with_name("hmr_ddp_worker.py")
    procs = []
    for rank in range(2):
        env = dict(os.environ, WORLD_SIZE="2", RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(port), OMP_NUM_THREADS="1", BIOPOSE_DDP_BACKEND="gloo")
        procs.append(subprocess.Popen([sys.executable, str(script), str(cfg_path), str(hmr_images),
                                       str(tmp_path / "ddp"), str(tmp_path / f"rank{rank}.pt")], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    for p in procs:
        out, _ = p.communicate(timeout=600)
        assert p.returncode == 0, out
    s0, s1 = (torch.load(tmp_path / f"rank{r}.pt") for r in range(2))
    for k in single.state:
        assert torch.equal(s0[k], s1[k]), k
    flat = lambda st: torch.cat([st[k].flatten().float() for k in sorted(st)])  # noqa: E731
    d_single, d_ddp = flat(single.state) - flat(init.state), flat(s0) - flat(init.state)
    assert d_single.norm() > 1e-3
    assert (d_ddp - d_single).norm() <= 1e-3 * d_single.norm()
