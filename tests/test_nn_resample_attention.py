"""interpolate, pixel/channel shuffles, scaled_dot_product_attention, embedding_bag,
local_response_norm, multilabel_margin_loss and triplet_margin_with_distance_loss against
PyTorch in float64 (values, gradients, node names where symgrad records PyTorch's node),
their errors, and exactness against the SymPy mirrors."""

import numpy as np
import pytest

import symgrad as sg
from symgrad import verify
from symgrad.nn import functional as F
from torch_parity import raises_as_torch

R = np.random.default_rng(17)


def _compare(torch, name, arrays, consts=(), names=True, **kw):
    """``name(*arrays, *consts, **kw)`` in both libraries: values and the gradients of the
    float ``arrays``; the node name too where symgrad records the same node."""
    import torch.nn.functional as TF

    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    ss = [sg.tensor(a, requires_grad=True) for a in arrays]
    ct = [None if c is None else torch.tensor(c) for c in consts]
    cs = [None if c is None else sg.tensor(c) for c in consts]
    out_t, out_s = getattr(TF, name)(*ts, *ct, **kw), getattr(F, name)(*ss, *cs, **kw)
    assert tuple(out_s.shape) == tuple(out_t.shape)
    np.testing.assert_allclose(out_s.detach().numpy(), out_t.detach().numpy(), rtol=1e-12,
                               atol=1e-13)
    if names:
        assert out_s.grad_fn.name() == out_t.grad_fn.name()
    g = R.standard_normal(tuple(out_t.shape))
    out_t.backward(torch.tensor(g))
    out_s.backward(sg.tensor(g))
    for s, t in zip(ss, ts):
        np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-11, atol=1e-13)


# ================================================================ interpolate
SPATIAL = {1: (7,), 2: (5, 6), 3: (3, 4, 5)}
MODES = {1: ("nearest", "nearest-exact", "linear", "area"),
         2: ("nearest", "nearest-exact", "bilinear", "bicubic", "area"),
         3: ("nearest", "nearest-exact", "trilinear", "area")}
SPECS = ({"size": "up"}, {"size": "down"}, {"scale_factor": 2}, {"scale_factor": 1.7},
         {"scale_factor": 0.6}, {"scale_factor": 1.7, "recompute_scale_factor": True},
         {"size": 1})
INTERP_GRID = [(nd, mode, corners, spec) for nd in (1, 2, 3) for mode in MODES[nd]
               for corners in ((None,) if mode in ("nearest", "nearest-exact", "area")
                               else (False, True))
               for spec in SPECS
               if nd < 3 or spec.get("scale_factor") in (1.7, 0.6)]


@pytest.mark.parametrize("nd,mode,align_corners,spec", INTERP_GRID)
def test_interpolate_matches_torch(torch, nd, mode, align_corners, spec):
    spec = dict(spec)
    if spec.get("size") == "up":
        spec["size"] = tuple(2 * s + 1 for s in SPATIAL[nd])
    elif spec.get("size") == "down":
        spec["size"] = tuple(max(1, s // 2) for s in SPATIAL[nd])
    x = R.standard_normal((2, 3) + SPATIAL[nd])
    _compare(torch, "interpolate", [x],
             mode=mode, align_corners=align_corners, **spec)


@pytest.mark.filterwarnings("ignore:`nn.functional.upsample")
def test_upsample_aliases(torch):
    x = R.standard_normal((1, 2, 3, 4))
    with pytest.warns(UserWarning, match="is deprecated. Use `nn.functional.interpolate`"):
        F.upsample(sg.tensor(x), scale_factor=2)
    _compare(torch, "upsample_bilinear", [x], scale_factor=2)
    _compare(torch, "upsample_nearest", [x], size=(5, 7))
    _compare(torch, "upsample", [x], scale_factor=1.5, mode="bicubic", align_corners=False)


INTERP_ERRORS = {
    "both": (lambda F, T: F.interpolate(T.ones(1, 1, 4), size=3, scale_factor=2), ValueError,
             "only one of size or scale_factor should be defined"),
    "neither": (lambda F, T: F.interpolate(T.ones(1, 1, 4)), ValueError,
                "either size or scale_factor should be defined"),
    "corners": (lambda F, T: F.interpolate(T.ones(1, 1, 4), size=3, align_corners=True),
                ValueError, "align_corners option can only be set with the interpolating"),
    "rank": (lambda F, T: F.interpolate(T.ones(1, 1, 4), size=3, mode="bilinear"),
             NotImplementedError, "Got 3D input, but bilinear mode needs 4D input"),
    "mode": (lambda F, T: F.interpolate(T.ones(1, 1, 4), size=3, mode="cubic"),
             NotImplementedError, "Input Error: Only 3D, 4D and 5D input Tensors supported"),
    "scale length": (lambda F, T: F.interpolate(T.ones(1, 1, 4), scale_factor=(2, 2)),
                     ValueError, "Input and scale_factor must have the same number"),
}


@pytest.mark.parametrize("case", sorted(INTERP_ERRORS))
def test_interpolate_errors_as_torch(torch, case):
    raises_as_torch(torch, *INTERP_ERRORS[case])


# ================================================================ shuffles
@pytest.mark.parametrize("name,shape,arg", [
    ("pixel_shuffle", (2, 8, 3, 2), 2), ("pixel_shuffle", (3, 2, 18, 2, 2), 3),
    ("pixel_shuffle", (4, 1, 1), 1), ("pixel_unshuffle", (2, 2, 4, 6), 2),
    ("pixel_unshuffle", (3, 6, 3), 3), ("channel_shuffle", (2, 6, 3), 3),
    ("channel_shuffle", (2, 6, 3, 2), 2)])
def test_shuffles_match_torch(torch, name, shape, arg):
    _compare(torch, name, [R.standard_normal(shape)], (), True, **{
        "pixel_shuffle": {"upscale_factor": arg}, "pixel_unshuffle": {"downscale_factor": arg},
        "channel_shuffle": {"groups": arg}}[name])
    x = R.standard_normal(shape)
    np.testing.assert_array_equal(getattr(sg, name)(sg.tensor(x), arg).numpy(),
                                  getattr(torch, name)(torch.tensor(x), arg).numpy())


@pytest.mark.parametrize("call,gist", [
    (lambda F, T: F.pixel_shuffle(T.ones(1, 3, 2, 2), 2), "divisible by the square"),
    (lambda F, T: F.pixel_unshuffle(T.ones(1, 3, 3, 2), 2), "divisible by downscale_factor"),
    (lambda F, T: F.channel_shuffle(T.ones(1, 5, 2), 2), "divisible by groups"),
    (lambda F, T: F.pixel_shuffle(T.ones(4, 2), 2), "at least 3 dimensions"),
])
def test_shuffle_errors_as_torch(torch, call, gist):
    raises_as_torch(torch, call, RuntimeError, gist)


# ================================================================ attention
MASK = R.random((4, 6)) > 0.4
MASK[1] = False                   # a row with every key masked: zeros, as PyTorch


@pytest.mark.parametrize("shapes,kw,mask", [
    ([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)], {}, None),
    ([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)], {"is_causal": True}, None),
    ([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)], {"scale": 0.3}, None),
    ([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)], {}, MASK),
    ([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)], {}, R.standard_normal((3, 4, 6))),
    ([(2, 4, 4, 5), (2, 2, 6, 5), (2, 2, 6, 7)], {"enable_gqa": True}, None),
    ([(4, 5), (6, 5), (6, 7)], {"is_causal": True}, None),
])
def test_attention_matches_torch(torch, shapes, kw, mask):
    arrays = [R.standard_normal(s) for s in shapes]
    if mask is not None and mask.dtype.kind == "f":
        arrays.append(mask)                 # a float mask is an input with a gradient
        mask = None
    if len(arrays) == 4:
        _compare(torch, "scaled_dot_product_attention", arrays, (), False, **kw)
    else:
        _compare(torch, "scaled_dot_product_attention", arrays, (mask,), False, **kw)


def test_attention_dropout():
    q = sg.randn(2, 3, 4, requires_grad=True)
    out = F.scaled_dot_product_attention(q, q, q, dropout_p=1.0)    # every weight dropped
    assert out.tolist() == np.zeros((2, 3, 4)).tolist()
    sg.manual_seed(0)
    kept = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    assert not np.allclose(kept.detach().numpy(),
                           F.scaled_dot_product_attention(q, q, q).detach().numpy())


def test_names_as_torch(torch):
    """The functions of this change exist where PyTorch has them (nn.functional, torch.*)."""
    import torch.nn.functional as TF

    names = [n for n in F.__all__ if n in dir(TF)]
    assert {"conv2d", "max_pool3d", "interpolate", "embedding_bag", "lp_pool1d"} <= set(names)
    for n in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "max_pool1d", "max_pool2d", "max_pool3d",
              "max_pool1d_with_indices", "avg_pool1d", "adaptive_avg_pool1d",
              "adaptive_max_pool1d", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle"):
        assert callable(getattr(sg, n)) and hasattr(torch, n)


def test_attention_errors(torch):
    q = sg.ones(2, 3, 4)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=sg.ones(3, 3), is_causal=True)
    with pytest.raises(RuntimeError, match="number of heads in key"):
        F.scaled_dot_product_attention(sg.ones(1, 3, 2, 4), sg.ones(1, 2, 2, 4),
                                       sg.ones(1, 2, 2, 4), enable_gqa=True)


# ================================================================ compositions
@pytest.mark.parametrize("shape,size,kw", [
    ((2, 6, 4), 2, {}), ((2, 6, 4), 5, {}), ((2, 6, 3, 2), 3, dict(alpha=0.1, beta=0.5, k=2.0)),
    ((2, 4, 3, 2, 2), 2, {})])
def test_local_response_norm_matches_torch(torch, shape, size, kw):
    _compare(torch, "local_response_norm", [R.standard_normal(shape)], (), False, size=size,
             **kw)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_margin_losses_match_torch(torch, reduction):
    a, p, n = (R.standard_normal((4, 5)) for _ in range(3))
    _compare(torch, "triplet_margin_with_distance_loss", [a, p, n], (), False,
             reduction=reduction)
    _compare(torch, "triplet_margin_with_distance_loss", [a, p, n], (), False,
             reduction=reduction, swap=True, margin=2.0)
    x = R.standard_normal((3, 5))
    t = np.array([[3, 0, -1, 1, 2], [1, 1, 4, -1, -1], [-1, 2, 3, 0, 0]])
    _compare(torch, "multilabel_margin_loss", [x], (t,), False, reduction=reduction)
    _compare(torch, "multilabel_margin_loss", [x[0]], (t[0],), False, reduction=reduction)


def test_triplet_with_a_custom_distance(torch):
    import torch.nn.functional as TF

    a, p, n = (R.standard_normal((4, 5)) for _ in range(3))
    got = F.triplet_margin_with_distance_loss(
        *map(sg.tensor, (a, p, n)),
        distance_function=lambda x, y: 1 - F.cosine_similarity(x, y))
    want = TF.triplet_margin_with_distance_loss(
        *map(torch.tensor, (a, p, n)),
        distance_function=lambda x, y: 1 - TF.cosine_similarity(x, y))
    assert got.item() == pytest.approx(want.item(), rel=1e-12)
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_with_distance_loss(*map(sg.tensor, (a, p, n)), margin=0)
    with pytest.raises(RuntimeError, match="inconsistent target size"):
        F.multilabel_margin_loss(sg.ones(2, 4), sg.tensor([[1, 2, -1]]))


W = R.standard_normal((7, 3))
IDX = np.array([1, 2, 4, 5, 4, 3, 2, 0, 6, 6])


@pytest.mark.parametrize("kw", [
    {"offsets": np.array([0, 4, 4, 7])},
    {"offsets": np.array([0, 4, 4, 7]), "padding_idx": 4},
    {"offsets": np.array([0, 4, 4, 7, 10]), "include_last_offset": True},
    {"input": IDX.reshape(2, 5)}])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_torch(torch, kw, mode):
    import torch.nn.functional as TF

    kw = {"input": IDX, **kw, "mode": mode}
    if mode == "sum":
        kw["per_sample_weights"] = R.standard_normal(np.size(kw["input"])).reshape(
            np.shape(kw["input"]))
    wt, ws = torch.tensor(W, requires_grad=True), sg.tensor(W, requires_grad=True)
    t_kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    s_kw = {k: sg.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    out_t, out_s = TF.embedding_bag(weight=wt, **t_kw), F.embedding_bag(weight=ws, **s_kw)
    np.testing.assert_allclose(out_s.detach().numpy(), out_t.detach().numpy(), rtol=1e-12)
    g = R.standard_normal(tuple(out_t.shape))
    out_t.backward(torch.tensor(g))
    out_s.backward(sg.tensor(g))
    np.testing.assert_allclose(ws.grad.numpy(), wt.grad.numpy(), rtol=1e-12, atol=1e-13)


def test_embedding_bag_errors():
    w = sg.ones(4, 2)
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(sg.tensor([[1, 2]]), w, sg.tensor([0]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(sg.tensor([1, 2]), w)
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(sg.tensor([1, 2]), w, sg.tensor([1]))
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(sg.tensor([1, 2]), w, sg.tensor([0]), per_sample_weights=sg.ones(2))


# ================================================================ exact, against SymPy
def test_rules_proved():
    results = verify.check_rules(["pixel_shuffle", "channel_shuffle", "upsample"])
    assert [r.verdict for r in results] == ["proved"] * 3


@pytest.mark.parametrize("program,shapes", [
    (lambda x: (F.interpolate(x, scale_factor=1.5, mode="bicubic") ** 2).sum(), [(1, 1, 3, 3)]),
    (lambda x: (F.interpolate(x, size=5, mode="linear", align_corners=True) ** 2).sum(),
     [(1, 2, 3)]),
    (lambda x: (F.pixel_shuffle(x, 2) * F.pixel_shuffle(x, 2)).sum(), [(1, 4, 2, 1)]),
    (lambda q, k, v: (F.scaled_dot_product_attention(q, k, v, is_causal=True) ** 2).sum(),
     [(3, 2), (3, 2), (3, 2)]),
    (lambda x: F.local_response_norm(x, 2).sum(), [(1, 3, 2)]),
])
def test_verifier_agrees(program, shapes):
    inputs = [sg.tensor(R.standard_normal(s), requires_grad=True) for s in shapes]
    assert verify.check(program, *inputs).ok


def test_interpolate_double_backward(torch):
    import torch.nn.functional as TF

    x = R.standard_normal((1, 2, 3, 4))
    results = []
    for lib, fn in ((torch, TF), (sg, F)):
        t = lib.tensor(x, requires_grad=True)
        y = fn.interpolate(t, scale_factor=2, mode="bicubic", align_corners=False)
        (g,) = lib.autograd.grad((y ** 3).sum(), t, create_graph=True)
        (gg,) = lib.autograd.grad((g ** 2).sum(), t)
        results.append(gg.detach().numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-11, atol=1e-12)
