"""Multi-scale deformable attention against a per-sample loop with explicit bilinear interpolation."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from biopose_opensim.hmr.deform_attn import MSDeformCrossAttn, ms_deform_attn

SIZES = [(5, 7), (3, 4), (2, 2)]  # (H, W) per level, all different


def _shapes(sizes):
    shapes = torch.tensor(sizes, dtype=torch.int64)
    starts = torch.tensor([0] + np.cumsum([h * w for h, w in sizes])[:-1].tolist(), dtype=torch.int64)
    return shapes, starts


def _random_inputs(gen, n=2, n_q=4, m=2, d=3, p=3, sizes=SIZES, dtype=torch.float64, lo=-0.2, hi=1.2):
    s = sum(h * w for h, w in sizes)
    value = torch.randn(n, s, m, d, generator=gen, dtype=dtype)
    loc = lo + (hi - lo) * torch.rand(n, n_q, m, len(sizes), p, 2, generator=gen, dtype=dtype)
    logits = torch.randn(n, n_q, m, len(sizes) * p, generator=gen, dtype=dtype)
    weights = logits.softmax(-1).view(n, n_q, m, len(sizes), p)
    return value, loc, weights


def _naive(value, sizes, loc, weights):
    """Loop over batch, query, head, level, point; bilinear with zero padding, pixel centre at (j + 0.5) / W."""
    value, loc, weights = value.numpy(), loc.numpy(), weights.numpy()
    n, _, m, d = value.shape
    n_q, n_p = loc.shape[1], loc.shape[4]
    starts = np.concatenate([[0], np.cumsum([h * w for h, w in sizes])[:-1]])
    out = np.zeros((n, n_q, m * d))
    for b in range(n):
        for q in range(n_q):
            for h in range(m):
                acc = np.zeros(d)
                for lv, (hh, ww) in enumerate(sizes):
                    for p in range(n_p):
                        x = loc[b, q, h, lv, p, 0] * ww - 0.5
                        y = loc[b, q, h, lv, p, 1] * hh - 0.5
                        x0, y0 = math.floor(x), math.floor(y)
                        fx, fy = x - x0, y - y0
                        sample = np.zeros(d)
                        for yi, wy in ((y0, 1.0 - fy), (y0 + 1, fy)):
                            for xi, wx in ((x0, 1.0 - fx), (x0 + 1, fx)):
                                if 0 <= xi < ww and 0 <= yi < hh:
                                    sample += wy * wx * value[b, starts[lv] + yi * ww + xi, h]
                        acc += weights[b, q, h, lv, p] * sample
                out[b, q, h * d:(h + 1) * d] = acc
    return out


def test_matches_naive_loop_float64():
    """Tolerance: atol 1e-12 in float64 (same arithmetic up to rounding order)."""
    gen = torch.Generator().manual_seed(0)
    value, loc, weights = _random_inputs(gen)
    outside = ((loc < 0) | (loc > 1)).any(-1)
    assert outside.any() and (~outside).any()  # the test covers both in- and out-of-map locations
    shapes, starts = _shapes(SIZES)
    got = ms_deform_attn(value, shapes, starts, loc, weights)
    assert got.shape == (2, 4, 2 * 3) and got.dtype == torch.float64
    want = _naive(value, SIZES, loc, weights)
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-12)
    assert np.abs(want).max() > 0.1  # not trivially zero


def test_far_outside_reads_zero():
    gen = torch.Generator().manual_seed(1)
    value, loc, weights = _random_inputs(gen)
    shapes, starts = _shapes(SIZES)
    far = torch.full_like(loc, 3.0)
    assert torch.count_nonzero(ms_deform_attn(value, shapes, starts, far, weights)) == 0


def test_pixel_centre_reads_the_pixel():
    """A location on pixel (i, j)'s centre ((j + 0.5) / W, (i + 0.5) / H) returns that pixel exactly (1e-15)."""
    sizes = [(3, 4)]
    shapes, starts = _shapes(sizes)
    value = torch.arange(12, dtype=torch.float64).view(1, 12, 1, 1)
    loc = torch.tensor([(2 + 0.5) / 4, (1 + 0.5) / 3], dtype=torch.float64).view(1, 1, 1, 1, 1, 2)
    out = ms_deform_attn(value, shapes, starts, loc, torch.ones(1, 1, 1, 1, 1, dtype=torch.float64))
    assert abs(out.item() - (1 * 4 + 2)) < 1e-15


def test_gradcheck_float64():
    gen = torch.Generator().manual_seed(2)
    sizes = [(3, 3), (2, 3)]
    value, loc, weights = _random_inputs(gen, n=1, n_q=2, m=2, d=2, p=2, sizes=sizes, lo=-0.1, hi=1.1)
    # keep clear of pixel centres and cell borders (kinks of bilinear interpolation): fractional pixel part in
    # [0.1, 0.9] on every level
    for lv, (h, w) in enumerate(sizes):
        for k, size in ((0, w), (1, h)):
            px = loc[:, :, :, lv, :, k] * size - 0.5
            frac = px - px.floor()
            loc[:, :, :, lv, :, k] = (px.floor() + 0.1 + 0.8 * frac + 0.5) / size
    shapes, starts = _shapes(sizes)
    value.requires_grad_(True)
    loc.requires_grad_(True)
    weights.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v, lo, a: ms_deform_attn(v, shapes, starts, lo, a),
                                    (value, loc, weights), eps=1e-6, atol=1e-7, rtol=1e-5)


def test_float32_agrees_with_float64():
    """Tolerance: atol 1e-5 (float32 rounding on O(1) values)."""
    gen = torch.Generator().manual_seed(3)
    value, loc, weights = _random_inputs(gen)
    shapes, starts = _shapes(SIZES)
    d64 = ms_deform_attn(value, shapes, starts, loc, weights)
    d32 = ms_deform_attn(value.float(), shapes, starts, loc.float(), weights.float())
    assert d32.dtype == torch.float32
    np.testing.assert_allclose(d32.double().numpy(), d64.numpy(), rtol=0, atol=1e-5)


@pytest.mark.parametrize("which, message", [
    ("value", "value must be (N, S, heads, D)"),
    ("tokens", "value has 52 tokens"),
    ("shapes", "spatial_shapes must be (L, 2)"),
    ("starts", "level_start_index must be (3,)"),
    ("loc", "sampling_locations must be (N=2, Lq, heads=2, L=3, P, 2)"),
    ("weights", "attention_weights must be (N, Lq, heads, L, P) = (2, 4, 2, 3, 3)"),
])
def test_bad_shapes_raise(which, message):
    gen = torch.Generator().manual_seed(4)
    value, loc, weights = _random_inputs(gen)
    shapes, starts = _shapes(SIZES)
    args = dict(value=value, spatial_shapes=shapes, level_start_index=starts, sampling_locations=loc,
                attention_weights=weights)
    if which == "value":
        args["value"] = value[0]
    elif which == "tokens":
        args["value"] = torch.cat([value, value[:, :1]], dim=1)
    elif which == "shapes":
        args["spatial_shapes"] = shapes[:, :1]
    elif which == "starts":
        args["level_start_index"] = starts + 1
    elif which == "loc":
        args["sampling_locations"] = loc[:, :, :, :2]
    else:
        args["attention_weights"] = weights[..., :2]
    with pytest.raises(ValueError) as exc:
        ms_deform_attn(**args)
    assert message in str(exc.value)


def _module_inputs(gen, n=2, n_q=5, c=16):
    shapes, starts = _shapes(SIZES)
    s = sum(h * w for h, w in SIZES)
    return (torch.randn(n, n_q, c, generator=gen), torch.rand(n, n_q, 2, generator=gen),
            torch.randn(n, s, c, generator=gen), shapes, starts)


def test_module_shape_and_initial_sampling():
    torch.manual_seed(0)
    attn = MSDeformCrossAttn(d_model=16, n_levels=3, n_heads=4, n_points=2)
    query, ref, tokens, shapes, starts = _module_inputs(torch.Generator().manual_seed(5))
    out = attn(query, ref, tokens, shapes, starts)
    assert out.shape == (2, 5, 16)
    assert torch.isfinite(out).all()

    loc, weights = attn.sampling(query, ref, shapes)
    assert loc.shape == (2, 5, 4, 3, 2, 2) and weights.shape == (2, 5, 4, 3, 2)
    # zero-initialised weight layer -> uniform 1 / (L * P) whatever the query (tolerance 1e-7, float32)
    torch.testing.assert_close(weights, torch.full_like(weights, 1.0 / 6), rtol=0, atol=1e-7)
    # offsets: head m's point p at (p + 1) pixels along direction 2*pi*m/M (larger component 1) on every level
    dirs = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    for lv, (h, w) in enumerate(SIZES):
        for p in range(2):
            want = ref[:, :, None, :] + (p + 1) * dirs[None, None] / torch.tensor([w, h], dtype=torch.float32)
            torch.testing.assert_close(loc[:, :, :, lv, p], want, rtol=0, atol=1e-6)


def test_module_padding_mask_hides_tokens():
    torch.manual_seed(1)
    attn = MSDeformCrossAttn(d_model=16, n_levels=3, n_heads=4, n_points=2)
    query, ref, tokens, shapes, starts = _module_inputs(torch.Generator().manual_seed(6))
    mask = torch.zeros(tokens.shape[:2], dtype=torch.bool)
    mask[:, 35:] = True  # the two coarser levels are padding
    base = attn(query, ref, tokens, shapes, starts, value_padding_mask=mask)
    changed = tokens.clone()
    changed[:, 35:] += 10.0
    torch.testing.assert_close(attn(query, ref, changed, shapes, starts, value_padding_mask=mask), base,
                               rtol=0, atol=0)
    assert (attn(query, ref, changed, shapes, starts) - attn(query, ref, tokens, shapes, starts)).abs().max() > 1e-2


def test_module_bad_query_raises():
    attn = MSDeformCrossAttn(d_model=16, n_levels=3, n_heads=4, n_points=2)
    query, ref, tokens, shapes, starts = _module_inputs(torch.Generator().manual_seed(7))
    with pytest.raises(ValueError, match=r"reference_points must be \(N, Lq, 2\)"):
        attn(query, ref[:, :3], tokens, shapes, starts)
    with pytest.raises(ValueError, match=r"value_tokens must be \(N=2, S, 16\)"):
        attn(query, ref, tokens[..., :8], shapes, starts)
    with pytest.raises(ValueError, match="must be divisible by n_heads"):
        MSDeformCrossAttn(d_model=15, n_levels=3, n_heads=4, n_points=2)
