"""NeurIK training: the tiny network overfits a few windows; resume continues the same run; a 2-process gloo DDP
run equals a one-process run on the same global batch; bad data is refused before training."""
from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from biopose_opensim.errors import ConfigError, InputFileError
from biopose_opensim.neurik.augment import augment
from biopose_opensim.neurik.checkpoint import CheckpointMismatchError
from biopose_opensim.neurik.config import CONFIGS
from biopose_opensim.neurik.data import DatasetMismatchError, load_split
from biopose_opensim.neurik.losses import neurik_loss
from biopose_opensim.neurik.system import NeurIKSystem
from biopose_opensim.neurik.trainer import scale_bounds, train_neurik

TINY = CONFIGS["tiny"]


def _tiny(epochs: int, **train) -> "CONFIGS[str]":
    return TINY.replace(train=dataclasses.replace(TINY.train, epochs=epochs, **train))


def test_tiny_overfits_a_few_windows(fk_dataset):
    """Loss falls by more than an order of magnitude on 4 fixed windows (Adam, 400 steps)."""
    torch.manual_seed(0)
    probe = NeurIKSystem.build(TINY, torch.ones(22, 3), torch.ones(22, 3))
    train = load_split([fk_dataset], "train", probe.marker_names, probe.fk.coordinate_names, probe.fk.body_names)
    mean, amp = scale_bounds(train, 0.0)
    system = NeurIKSystem.build(TINY, mean, amp, fk=probe.fk)
    w = train.window(torch.tensor([10, 30, 70, 150]), TINY.model.window, TINY.model.window - 1)
    opt = torch.optim.Adam(system.net.parameters(), lr=3e-3)
    losses = []
    for _ in range(400):
        inp = system.inputs(w)
        q, s = system.decode(system.net(inp.x, inp.rel), inp, clamp_root=False)
        loss = neurik_loss(TINY.loss, system.fk, q, s, w.q, w.s, w.q_mask, w.present, system.marker_index).total
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0] / 10, (losses[0], losses[-1])


def test_augmentation_keeps_labels_consistent(fk_dataset):
    """After rotation, translation and subject scaling, the FK layer on the augmented labels reproduces the
    augmented markers exactly (tolerance 1e-4 m), since the markers of this dataset are the FK layer's own."""
    system = NeurIKSystem.build(TINY, torch.ones(22, 3), torch.ones(22, 3))
    train = load_split([fk_dataset], "train", system.marker_names, system.fk.coordinate_names, system.fk.body_names)
    w = train.window(torch.tensor([5, 60, 120]), 8, 7)
    cfg = dataclasses.replace(TINY.augment, rotation=True, translation_m=2.0, scaling=0.1)
    a = augment(w, cfg, system.out_map.root, system.root_idx, generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(a.markers, w.markers, atol=1e-2)
    with torch.no_grad():
        fk_markers = system.fk(a.q, a.s).markers[..., system.marker_index, :]
    assert (fk_markers - a.markers).abs().max() < 1e-4


def test_resume_continues_the_run(fk_dataset, tmp_path):
    """Two epochs in one go and one epoch + resume for the second give the same losses and weights (the input
    statistics included)."""
    full = train_neurik(_tiny(2), [fk_dataset], tmp_path / "full", progress=False)
    half = train_neurik(_tiny(2), [fk_dataset], tmp_path / "half", progress=False, stop_after=1)
    assert half.epochs == 1
    with pytest.raises(CheckpointMismatchError, match="another configuration"):
        train_neurik(_tiny(2, lr=1e-2), [fk_dataset], tmp_path / "half", resume=tmp_path / "half" / "last.json",
                     progress=False)
    resumed = train_neurik(_tiny(2), [fk_dataset], tmp_path / "half", resume=tmp_path / "half" / "last.json",
                           progress=False)
    assert resumed.epochs == 2
    for a, b in zip(full.history, resumed.history):
        assert a["train_total"] == pytest.approx(b["train_total"], rel=1e-5)
        assert a["val_mae_angle_deg"] == pytest.approx(b["val_mae_angle_deg"], rel=1e-5)
    for k, v in full.state.items():
        assert torch.allclose(v, resumed.state[k], atol=1e-6), k
    # a fresh run standardises its inputs by the training data; the resumed run keeps the checkpoint's statistics
    assert not torch.equal(full.state["marker_norm.std"], torch.ones_like(full.state["marker_norm.std"]))
    log = [json.loads(x) for x in (tmp_path / "half" / "train_log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2]
    assert (tmp_path / "half" / "curves.png").stat().st_size > 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_two_processes_equal_one(fk_dataset, tmp_path):
    """torchrun-style 2-process gloo DDP: parameters identical across ranks, and the same update as a one-process
    run on the same global batches: |delta_ddp - delta_single| <= 1e-3 |delta_single| over all parameters but the
    attention's key bias (Adam turns float-rounding differences in near-zero gradients into steps of up to lr, so
    elementwise equality is not expected). The key bias's gradient is exactly zero in exact arithmetic (softmax
    does not change when every key score of a query moves by the same amount), so what Adam does with it is the
    sign of rounding noise: there both runs are only held to Adam's bound of lr per step."""
    single = train_neurik(_tiny(1, windows_per_epoch=16), [fk_dataset], tmp_path / "single", progress=False)
    cfg_path = tmp_path / "tiny1.toml"
    cfg_path.write_text(_tiny(1, windows_per_epoch=16).to_toml())
    port = _free_port()
    script = Path(__file__).with_name("ddp_worker.py")
    procs = []
    for rank in range(2):
        env = dict(os.environ, WORLD_SIZE="2", RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(port), OMP_NUM_THREADS="1")
        procs.append(subprocess.Popen([sys.executable, str(script), str(cfg_path), str(fk_dataset),
                                       str(tmp_path / "ddp"), str(tmp_path / f"rank{rank}.pt")], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    for p in procs:
        out, _ = p.communicate(timeout=600)
        assert p.returncode == 0, out
    s0, s1 = (torch.load(tmp_path / f"rank{r}.pt") for r in range(2))
    init = train_neurik(_tiny(0), [fk_dataset], tmp_path / "init", progress=False).state
    for k in single.state:
        assert torch.equal(s0[k], s1[k]), k
    key_bias = {}
    for st in (single.state, s0, init):
        for k in [k for k in st if k.endswith("self_attn.in_proj_bias")]:
            D = st[k].numel() // 3
            key_bias.setdefault(k, []).append(st[k][D:2 * D].clone())
            st[k] = torch.cat([st[k][:D], st[k][2 * D:]])
    steps, lr = 2, _tiny(1).train.lr
    for k, (b_single, b_ddp, b_init) in key_bias.items():
        assert (b_single - b_init).abs().max() <= steps * lr * 1.001, k
        assert (b_ddp - b_init).abs().max() <= steps * lr * 1.001, k
    flat = lambda st: torch.cat([st[k].flatten() for k in sorted(st)])  # noqa: E731
    d_single, d_ddp = flat(single.state) - flat(init), flat(s0) - flat(init)
    assert d_single.norm() > 1e-3
    assert (d_ddp - d_single).norm() <= 1e-3 * d_single.norm()


def test_bad_data_refused_before_training(fk_dataset, tmp_path):
    with pytest.raises(InputFileError, match="no dataset manifest"):
        train_neurik(_tiny(1), [tmp_path], tmp_path / "out", progress=False)
    with pytest.raises(InputFileError, match="does not exist"):
        train_neurik(_tiny(1), [tmp_path / "nowhere"], tmp_path / "out", progress=False)
    manifest = json.loads((fk_dataset / "manifest.json").read_text())
    other = tmp_path / "other"
    (other / "shards").mkdir(parents=True)
    for shard in (fk_dataset / "shards").iterdir():
        (other / "shards" / shard.name).write_bytes(shard.read_bytes())
    bad = dict(manifest, marker_names=manifest["marker_names"][:-3])
    (other / "manifest.json").write_text(json.dumps(bad))
    with pytest.raises(DatasetMismatchError, match=r"lacks 3 markers the network needs: .*"
                       + manifest["marker_names"][-1]):
        train_neurik(_tiny(1), [other], tmp_path / "out", progress=False)
    empty = dict(manifest, shards=[s for s in manifest["shards"] if s["split"] != "val"])
    (other / "manifest.json").write_text(json.dumps(empty))
    with pytest.raises(DatasetMismatchError, match="split 'val' holds no frames"):
        train_neurik(_tiny(1), [other], tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
    with pytest.raises(ConfigError, match="multiple of the number of processes"):
        os.environ["WORLD_SIZE"] = "3"
        try:
            train_neurik(_tiny(1), [fk_dataset], tmp_path / "out", progress=False)
        finally:
            del os.environ["WORLD_SIZE"]


def test_train_cli_refusals(fk_dataset, tmp_path):
    """The command line: a folder that is no dataset -> one message, exit 2; an existing run needs --resume or
    --overwrite."""
    run = lambda *a: subprocess.run([sys.executable, "-m", "biopose_opensim.train", "neurik", *a],  # noqa: E731
                                    capture_output=True, text=True, timeout=600)
    r = run("--data", str(tmp_path), "--config", "tiny", "--out", str(tmp_path / "o"), "--no-progress")
    assert r.returncode == 2 and "no dataset manifest" in r.stderr and "Traceback" not in r.stderr
    r = run("--data", str(fk_dataset), "--config", "tiny", "--out", str(tmp_path / "o"), "--no-progress",
            "--epochs", "1")
    assert r.returncode == 0, r.stderr
    assert {"best.safetensors", "best.json", "last.safetensors", "last.optim.safetensors", "config.toml",
            "train_log.jsonl", "train.log", "curves.png", "data.json"} <= {p.name for p in (tmp_path / "o").iterdir()}
    r = run("--data", str(fk_dataset), "--config", "tiny", "--out", str(tmp_path / "o"), "--no-progress")
    assert r.returncode == 2 and "already holds a training run" in r.stderr
