"""The NeurIK network's spatial encoder: the matrix-product convolution equals ``nn.Conv1d`` across markers."""
import torch
from torch import nn

from biopose_opensim.neurik.config import load_config
from biopose_opensim.neurik.model import build_network, marker_conv


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
    h = net.embed(x.reshape(-1, 11, 4)).transpose(1, 2)
    for conv in net.convs:
        h = h + nn.functional.gelu(conv(h))
    want = net.project(h.flatten(1)).reshape(2, 4, -1)
    assert torch.allclose(net.frame_features(x), want, atol=1e-10, rtol=0)
