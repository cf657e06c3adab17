"""Feature pyramid and query decoder: shapes, token layout, zero-initialised queries, gradients, use of features."""
from __future__ import annotations

import math

import pytest
import torch

from biopose_opensim.hmr.decoder import QueryDecoder
from biopose_opensim.hmr.pyramid import FeaturePyramid, flatten_levels, sine_position_encoding

IN_DIM, D_MODEL = 32, 32
VIT_H, VIT_W = 16, 12  # a 256 x 192 image at stride 16


def _pyramid():
    torch.manual_seed(0)
    return FeaturePyramid(IN_DIM, D_MODEL)


def _decoder(**kw):
    torch.manual_seed(1)
    args = dict(d_model=D_MODEL, n_queries=96, n_layers=4, n_heads=4, n_points=2, n_levels=3, ffn_dim=64)
    args.update(kw)
    return QueryDecoder(**args)


def _feat(n=2, seed=2):
    return torch.randn(n, IN_DIM, VIT_H, VIT_W, generator=torch.Generator().manual_seed(seed))


def test_pyramid_shapes_and_flatten_layout():
    pyr = _pyramid()
    maps = pyr(_feat())
    assert [tuple(m.shape) for m in maps] == [(2, D_MODEL, 64, 48), (2, D_MODEL, 32, 24), (2, D_MODEL, 16, 12)]
    tokens, shapes, starts = flatten_levels(maps)
    assert tokens.shape == (2, 64 * 48 + 32 * 24 + 16 * 12, D_MODEL)
    assert shapes.dtype == torch.int64 and starts.dtype == torch.int64
    assert shapes.tolist() == [[64, 48], [32, 24], [16, 12]]
    assert starts.tolist() == [0, 3072, 3840]
    # token start_l + i * W_l + j is pixel (i, j) of level l
    for lvl, (i, j) in ((0, (63, 5)), (1, (7, 23)), (2, (15, 11)), (2, (0, 0))):
        w = shapes[lvl, 1].item()
        torch.testing.assert_close(tokens[:, starts[lvl] + i * w + j], maps[lvl][:, :, i, j], rtol=0, atol=0)


def test_pyramid_encode_adds_sine_code_and_level_embedding():
    pyr = _pyramid()
    feat = _feat()
    enc = pyr.encode(feat)
    plain, shapes, starts = flatten_levels(pyr(feat))
    assert torch.equal(enc.spatial_shapes, shapes) and torch.equal(enc.level_start_index, starts)
    added = enc.tokens - plain  # (N, S, C), the same for every sample
    torch.testing.assert_close(added[0], added[1], rtol=0, atol=1e-6)
    # level 1, pixel (i, j) = (3, 5): sine code of its centre ((5 + 0.5) / 24, (3 + 0.5) / 32) plus level_embed[1]
    f = D_MODEL // 4
    freq = [2 * math.pi / 10000 ** (k / f) for k in range(f)]
    y, x = 3.5 / 32, 5.5 / 24
    code = [math.sin(y * w) for w in freq] + [math.cos(y * w) for w in freq] \
        + [math.sin(x * w) for w in freq] + [math.cos(x * w) for w in freq]
    want = torch.tensor(code) + pyr.level_embed[1].detach()
    torch.testing.assert_close(added[0, 3072 + 3 * 24 + 5], want, rtol=0, atol=1e-5)  # float32 tolerance
    # the level embedding tells levels apart: same normalised location, different level -> different code
    assert not torch.allclose(pyr.level_embed[0], pyr.level_embed[1])
    assert sine_position_encoding(2, 2, 8).shape == (4, 8)


def test_pyramid_bad_input_raises():
    pyr = _pyramid()
    with pytest.raises(ValueError, match=r"feat must be \(N, 32, h, w\), got shape \(2, 16, 16, 12\)"):
        pyr(torch.zeros(2, 16, VIT_H, VIT_W))
    with pytest.raises(ValueError, match=r"maps\[1\] must be \(N=2, C=4, H, W\)"):
        flatten_levels([torch.zeros(2, 4, 3, 3), torch.zeros(2, 5, 3, 3)])


def test_decoder_shape_and_zero_initial_queries():
    pyr, dec = _pyramid(), _decoder()
    assert torch.count_nonzero(dec.query) == 0 and dec.query.shape == (96, D_MODEL)
    init = dec.initial_queries(3)
    assert init.shape == (3, 96, D_MODEL) and torch.count_nonzero(init) == 0
    enc = pyr.encode(_feat())
    with torch.no_grad():
        out = dec(enc.tokens, enc.spatial_shapes, enc.level_start_index)
        given = dec(enc.tokens, enc.spatial_shapes, enc.level_start_index, queries=dec.initial_queries(2))
    assert out.shape == (2, 96, D_MODEL) and torch.isfinite(out).all()
    torch.testing.assert_close(given, out, rtol=0, atol=0)
    ref = dec.reference_points()
    assert ref.shape == (96, 2) and (ref > 0).all() and (ref < 1).all()
    assert ref.std(dim=0).min() > 0.05  # the queries look at different places


def test_decoder_bad_queries_raise():
    pyr, dec = _pyramid(), _decoder(n_layers=1)
    enc = pyr.encode(_feat())
    with pytest.raises(ValueError, match=r"queries must be \(N, Q, C\) = \(2, 96, 32\), got shape \(2, 95, 32\)"):
        dec(enc.tokens, enc.spatial_shapes, enc.level_start_index, queries=torch.zeros(2, 95, D_MODEL))


def test_gradient_flows_to_given_queries():
    """Frozen network, tokens as the only leaf; the autograd directional derivative matches a central difference
    (float64, step 1e-6, tolerance 1e-6 relative)."""
    pyr, dec = _pyramid().double(), _decoder(n_layers=2).double()
    for p in list(pyr.parameters()) + list(dec.parameters()):
        p.requires_grad_(False)
    with torch.no_grad():
        enc = pyr.encode(_feat().double())
    gen = torch.Generator().manual_seed(3)
    queries = torch.randn(2, 96, D_MODEL, generator=gen, dtype=torch.float64, requires_grad=True)
    target = torch.randn(2, 96, D_MODEL, generator=gen, dtype=torch.float64)

    def loss(q):
        return (dec(enc.tokens, enc.spatial_shapes, enc.level_start_index, queries=q) * target).sum()

    loss(queries).backward()
    grad = queries.grad
    assert grad is not None and torch.isfinite(grad).all()
    assert (grad.norm(dim=-1) > 1e-6).all()  # every query of every sample receives gradient
    direction = torch.randn(queries.shape, generator=gen, dtype=torch.float64)
    h = 1e-6
    with torch.no_grad():
        numeric = (loss(queries + h * direction) - loss(queries - h * direction)) / (2 * h)
    analytic = (grad * direction).sum()
    assert abs(numeric - analytic) <= 1e-6 * abs(analytic)

    # refinement starts from the learned tokens, which are zero at initialisation: gradient there too
    start = dec.initial_queries(2).detach().clone().requires_grad_(True)
    loss(start).backward()
    assert torch.isfinite(start.grad).all() and (start.grad.norm(dim=-1) > 1e-6).all()


def test_image_features_change_the_output():
    """Perturbing one sample's pyramid level changes that sample's output (each level is read) and leaves the other
    sample's output as it was (tolerance 1e-6, float32)."""
    pyr, dec = _pyramid(), _decoder()
    with torch.no_grad():
        enc = pyr.encode(_feat())
        base = dec(enc.tokens, enc.spatial_shapes, enc.level_start_index)
        for lvl in range(3):
            start = enc.level_start_index[lvl].item()
            stop = start + enc.spatial_shapes[lvl].prod().item()
            tokens = enc.tokens.clone()
            tokens[1, start:stop] += torch.randn(stop - start, D_MODEL, generator=torch.Generator().manual_seed(lvl))
            out = dec(tokens, enc.spatial_shapes, enc.level_start_index)
            torch.testing.assert_close(out[0], base[0], rtol=0, atol=1e-6)
            assert (out[1] - base[1]).abs().max() > 1e-2, f"level {lvl} does not reach the output"
