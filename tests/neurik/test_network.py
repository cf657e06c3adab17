"""The NeurIK network's input standardisation and spatial encoder (the matrix-product convolution equals
``nn.Conv1d`` across markers)."""
import pytest
import torch
from torch import nn

from biopose_opensim.neurik.config import load_config
from biopose_opensim.neurik.model import MarkerNorm, build_network, load_network_state, marker_conv


def test_marker_conv_equals_conv1d():
    """Tolerance 1e-12 in float64: the same sums in another order."""
    torch.manual_seed(0)
    for k in (1, 3, 5):
        conv = nn.Conv1d(6, 7, k, padding=k // 2).double()
        h = torch.randn(9, 13, 6, dtype=torch.float64)
        want = conv(h.transpose(1, 2)).transpose(1, 2)
        got = marker_conv(h, conv.weight, conv.bias)
        assert got.shape == (9, 13, 7)
        assert torch.allclose(got, want, atol=1e-12, rtol=0)
        assert torch.allclose(marker_conv(h, conv.weight, None), want - conv.bias, atol=1e-12, rtol=0)


def test_frame_features_equal_the_channel_first_network():
    """The features equal the network written with ``nn.Conv1d`` on (N, E, M) and the markers flattened
    channel-major, as its parameters are laid out (float64, tolerance 1e-10)."""
    torch.manual_seed(1)
    cfg = load_config("tiny").model
    net = build_network(cfg, 11, 5, 3).double()
    x = torch.randn(2, 4, 11, 4, dtype=torch.float64)
    x[..., 3] = (x[..., 3] > 0).double()
    net.marker_norm.fit(x.reshape(-1, 11, 4))
    h = net.embed(net.marker_norm(x.reshape(-1, 11, 4))).transpose(1, 2)
    for conv in net.convs:
        h = h + nn.functional.gelu(conv(h))
    want = net.project(h.flatten(1)).reshape(2, 4, -1)
    assert torch.allclose(net.frame_features(x), want, atol=1e-10, rtol=0)


def test_marker_norm_standardises_present_markers_and_keeps_missing_ones_zero():
    """After ``fit``, each marker axis has mean 0 and standard deviation 1 over its present frames (tolerance
    1e-9, float64); missing markers stay 0 with their presence flag; a fresh module is the identity."""
    torch.manual_seed(2)
    n, M = 500, 7
    x = torch.randn(n, M, 4, dtype=torch.float64) * torch.linspace(0.002, 0.3, M)[:, None] + torch.randn(M, 1)
    present = torch.rand(n, M) > 0.2
    x[..., 3] = present.double()
    x[..., :3] *= present[..., None]
    norm = MarkerNorm(M).double()
    assert torch.equal(norm(x), x)
    norm.fit(x)
    y = norm(x)
    w = present[..., None]
    mean = (y[..., :3] * w).sum(0) / w.sum(0)
    std = (((y[..., :3] - mean) ** 2 * w).sum(0) / w.sum(0)).sqrt()
    assert torch.allclose(mean, torch.zeros_like(mean), atol=1e-9)
    assert torch.allclose(std, torch.ones_like(std), atol=1e-9)
    assert torch.equal(y[~present][:, :3], torch.zeros(int((~present).sum()), 3, dtype=torch.float64))
    assert torch.equal(y[..., 3], x[..., 3])


def test_weights_without_input_statistics_load_as_the_identity():
    """Weights saved before inputs were standardised load with the identity statistics; other missing or
    unexpected weights are still refused."""
    net = build_network(load_config("tiny").model, 11, 5, 3)
    net.marker_norm.mean.fill_(3.0)
    old = {k: v for k, v in net.state_dict().items() if not k.startswith("marker_norm.")}
    fresh = build_network(load_config("tiny").model, 11, 5, 3)
    load_network_state(fresh, old)
    assert torch.equal(fresh.marker_norm.mean, torch.zeros(11, 3))
    assert torch.equal(fresh.marker_norm.std, torch.ones(11, 3))
    del old["embed.weight"]
    with pytest.raises(RuntimeError, match="embed.weight"):
        load_network_state(fresh, old)


def test_frame_features_in_chunks_equal_one_pass(monkeypatch):
    """Large batches go through the spatial encoder in chunks of frames: the same features (float64, 1e-12)."""
    torch.manual_seed(3)
    net = build_network(load_config("tiny").model, 11, 5, 3).double()
    x = torch.randn(3, 7, 11, 4, dtype=torch.float64)
    x[..., 3] = 1.0
    whole = net.frame_features(x)
    monkeypatch.setattr(type(net), "FRAME_CHUNK", 4)
    chunked = net.frame_features(x)
    assert chunked.shape == (3, 7, net.project.out_features)
    assert torch.allclose(chunked, whole, atol=1e-12, rtol=0)
