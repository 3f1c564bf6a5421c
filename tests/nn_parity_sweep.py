"""The nn.functional parity sweep: one table of calls, each run in symgrad and PyTorch on
the same float64 data, compared aspect by aspect (values, gradients, second derivatives,
node names, float32 dtypes, misuse errors).

``scripts/nn_parity_sweep.py`` runs the whole table and prints every difference;
``tests/test_nn_parity_sweep.py`` asserts the table (less the differences kept on purpose).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

import numpy as np

import symgrad as sg


@dataclass(frozen=True)
class ND:
    """A floating input that does not require grad (running statistics, fixed targets)."""

    a: np.ndarray


@dataclass
class Case:
    """``call(F, *tensors)``; ``name`` says which function and options."""

    name: str
    call: Callable[..., Any]
    inputs: tuple
    second: bool = True        # compare second derivatives
    f32: bool = True           # compare the float32 output dtype
    rtol: float = 1e-12
    skip: frozenset = field(default_factory=frozenset)   # aspects not compared (on purpose)


_R = np.random.default_rng(0)


def rn(*shape):
    return _R.standard_normal(shape)


def pos(*shape):
    return _R.uniform(0.2, 1.5, shape)


def prob(*shape):
    return _R.uniform(0.05, 0.95, shape)


def ints(high, *shape):
    return _R.integers(0, high, shape).astype(np.int64)


def sign(*shape):
    return np.where(_R.random(shape) < 0.5, -1.0, 1.0)


CASES: list[Case] = []


def case(name: str, *inputs, call=None, fn: str | None = None, clone=False, **kw) -> Case:
    """A case calling ``F.<fn or name>(*tensors, **kw)`` unless ``call`` is given; ``clone``
    clones the first input first (for ``inplace=True`` on a leaf)."""
    opts = {k: kw.pop(k) for k in ("second", "f32", "rtol", "skip") if k in kw}
    if "skip" in opts:
        opts["skip"] = frozenset(opts["skip"])
    fname = fn or name.split("[")[0]
    if call is None:
        def call(F, *ts):
            if clone:
                ts = (ts[0].clone(),) + ts[1:]
            return getattr(F, fname)(*ts, **kw)
    c = Case(name, call, inputs, **opts)
    CASES.append(c)
    return c


# ------------------------------------------------------------------ activations
for _n in ("relu", "relu6", "sigmoid", "tanh", "silu", "mish", "selu", "logsigmoid", "softsign",
           "tanhshrink", "hardswish", "hardsigmoid", "elu", "celu", "gelu", "softplus",
           "hardtanh", "leaky_relu", "hardshrink", "softshrink"):
    case(_n, rn(3, 4))
    case(_n + "[0d]", rn())
for _n in ("relu", "relu6", "selu", "elu", "celu", "hardtanh", "leaky_relu", "silu", "mish",
           "hardswish", "hardsigmoid"):
    case(_n + "[inplace]", rn(3, 4), clone=True, inplace=True)
for _n in ("relu_", "elu_", "selu_", "celu_", "leaky_relu_", "hardtanh_"):
    case(_n, rn(3, 4), clone=True)
for _c in CASES:   # PyTorch's hardsigmoid backward multiplies by a float32 1/6
    if _c.name.startswith("hardsigmoid"):
        _c.rtol = 1e-7
case("threshold_", rn(3, 4), 0.1, 2.0, call=lambda F, x, *a: F.threshold_(x.clone(), 0.1, 2.0))
case("elu[alpha]", rn(3, 4), alpha=0.5)
case("celu[alpha]", rn(3, 4), alpha=2.0)
case("gelu[tanh]", rn(3, 4), approximate="tanh")
case("softplus[beta]", rn(3, 4), beta=2.0, threshold=1.0)
case("hardtanh[range]", rn(3, 4), min_val=-0.5, max_val=0.7)
case("leaky_relu[slope]", rn(3, 4), negative_slope=0.2)
case("hardshrink[l]", rn(3, 4), lambd=0.3)
case("softshrink[l]", rn(3, 4), lambd=0.3)
case("threshold", rn(3, 4), call=lambda F, x: F.threshold(x, 0.1, 2.0))
case("threshold[inplace]", rn(3, 4), call=lambda F, x: F.threshold(x.clone(), 0.1, 2.0, True))
case("prelu", rn(2, 3, 4), pos(3))
case("prelu[1]", rn(2, 3, 4), pos(1))
case("prelu[2d]", rn(3, 4), pos(4))
case("prelu[0d]", rn(), pos(1))
case("prelu[1d]", rn(4), pos(1))
case("rrelu[eval]", rn(3, 4))
case("glu", rn(3, 4))
case("glu[dim0]", rn(4, 3), dim=0)
for _n in ("softmax", "log_softmax", "softmin"):
    case(_n, rn(3, 4), dim=1)
    case(_n + "[dim0]", rn(3, 4, 2), dim=0)
case("softmax[f64dtype]", rn(3, 4), dim=1, dtype=None)

# ------------------------------------------------------------------ linear & friends
case("linear", rn(5, 3), rn(4, 3), rn(4))
case("linear[nobias]", rn(2, 5, 3), rn(4, 3))
case("linear[1d]", rn(3), rn(4, 3), rn(4))
case("bilinear", rn(5, 3), rn(5, 2), rn(4, 3, 2), rn(4))
case("bilinear[nobias]", rn(5, 3), rn(5, 2), rn(4, 3, 2))
case("embedding", ints(6, 2, 3), rn(6, 4), second=False)
case("embedding[pad]", ints(6, 2, 3), rn(6, 4), padding_idx=1, second=False)
case("one_hot", ints(4, 5), f32=False)
case("cosine_similarity", rn(4, 3), rn(4, 3))
case("cosine_similarity[dim0]", rn(4, 3), rn(4, 3), dim=0)
case("cosine_similarity[zero row]", np.vstack([np.zeros(3), rn(3, 3)]), rn(4, 3))
case("pairwise_distance", rn(4, 3), rn(4, 3))
case("pairwise_distance[p1]", rn(4, 3), rn(4, 3), p=1.0, keepdim=True)
case("pdist", rn(4, 3))
case("pdist[p1]", rn(4, 3), p=1)
case("pdist[p3]", rn(4, 3), p=3.0)
case("pdist[pinf]", rn(4, 3), p=float("inf"))
case("pdist[p0]", rn(4, 3), p=0)
case("pdist[p0.5]", rn(4, 3), p=0.5)
case("pdist[equal rows]", np.vstack([np.ones((2, 3)), rn(2, 3)]))
case("normalize", rn(4, 3))
case("normalize[p1dim0]", rn(4, 3), p=1.0, dim=0)

# ------------------------------------------------------------------ normalization
case("layer_norm", rn(2, 3, 4), (4,), rn(4), rn(4))
case("layer_norm[noaffine]", rn(2, 3, 4), (3, 4))
case("batch_norm[train]", rn(4, 3), ND(rn(3)), ND(pos(3)), rn(3), rn(3), training=True)
case("batch_norm[train4d]", rn(2, 3, 2, 2), ND(rn(3)), ND(pos(3)), rn(3), rn(3), training=True)
case("batch_norm[eval]", rn(4, 3, 2), ND(rn(3)), ND(pos(3)), rn(3), rn(3))
case("batch_norm[nostats]", rn(4, 3), None, None, training=True,
     call=lambda F, x: F.batch_norm(x, None, None, training=True))
case("batch_norm[train,updated stats]", rn(4, 3, 2), ND(rn(3)), ND(pos(3)),
     call=lambda F, x, rm, rv: (F.batch_norm(x, rm, rv, training=True, momentum=0.3), rm, rv))
case("instance_norm", rn(2, 3, 4))
case("instance_norm[updated stats]", rn(2, 3, 4), ND(rn(3)), ND(pos(3)),
     call=lambda F, x, rm, rv: (F.instance_norm(x, rm, rv, momentum=0.2), rm, rv))
case("instance_norm[running stats]", rn(2, 3, 4), ND(rn(3)), ND(pos(3)), rn(3), rn(3),
     call=lambda F, x, rm, rv, w, b: F.instance_norm(x, rm, rv, w, b, use_input_stats=False))
case("instance_norm[affine]", rn(2, 3, 4), None, None, rn(3), rn(3))
case("group_norm", rn(2, 4, 3), 2, rn(4), rn(4))
case("group_norm[noaffine]", rn(2, 4, 3, 2), 4)
case("rms_norm", rn(2, 3, 4), (4,), rn(4))
case("rms_norm[eps]", rn(2, 3, 4), (3, 4), eps=1e-3)
case("local_response_norm", rn(2, 4, 3), 2)

# ------------------------------------------------------------------ losses
_RED = ("mean", "sum", "none")
for _r in _RED:
    case(f"mse_loss[{_r}]", rn(3, 4), rn(3, 4), reduction=_r)
    case(f"l1_loss[{_r}]", rn(3, 4), rn(3, 4), reduction=_r)
    case(f"smooth_l1_loss[{_r}]", rn(3, 4), rn(3, 4), reduction=_r, beta=0.5)
    case(f"huber_loss[{_r}]", rn(3, 4), rn(3, 4), reduction=_r, delta=0.5)
    case(f"binary_cross_entropy[{_r}]", prob(3, 4), prob(3, 4), reduction=_r)
    case(f"binary_cross_entropy[w,{_r}]", prob(3, 4), prob(3, 4), ND(pos(4)),
         call=lambda F, x, y, w, r=_r: F.binary_cross_entropy(x, y, w, reduction=r))
    case(f"binary_cross_entropy_with_logits[{_r}]", rn(3, 4), prob(3, 4), reduction=_r)
    case(f"binary_cross_entropy_with_logits[pw,{_r}]", rn(3, 4), prob(3, 4), pos(4), pos(4),
         call=lambda F, x, y, w, pw, r=_r: F.binary_cross_entropy_with_logits(
             x, y, w, reduction=r, pos_weight=pw))
    case(f"kl_div[{_r}]", rn(3, 4), prob(3, 4), reduction=_r)
    case(f"nll_loss[{_r}]", rn(5, 4), ints(4, 5), reduction=_r)
    case(f"nll_loss[w,ii,{_r}]", rn(5, 4), np.array([0, 1, 2, 1, 3]), pos(4), reduction=_r,
         call=lambda F, x, t, w, r=_r: F.nll_loss(x, t, w, ignore_index=1, reduction=r))
    case(f"cross_entropy[{_r}]", rn(5, 4), ints(4, 5), reduction=_r)
    case(f"cross_entropy[probs,{_r}]", rn(5, 4), prob(5, 4), reduction=_r)
    case(f"cross_entropy[ls,{_r}]", rn(5, 4), ints(4, 5), reduction=_r, label_smoothing=0.1)
    case(f"cross_entropy[w,ls,ii,{_r}]", rn(5, 4), np.array([0, 1, 2, 1, 3]), pos(4),
         call=lambda F, x, t, w, r=_r: F.cross_entropy(x, t, w, ignore_index=1, reduction=r,
                                                       label_smoothing=0.2))
    case(f"cross_entropy[probs,w,ls,{_r}]", rn(5, 4), prob(5, 4), pos(4),
         call=lambda F, x, t, w, r=_r: F.cross_entropy(x, t, w, reduction=r,
                                                       label_smoothing=0.2))
    case(f"margin_ranking_loss[{_r}]", rn(5), rn(5), sign(5), reduction=_r, margin=0.3)
    case(f"hinge_embedding_loss[{_r}]", rn(3, 4), sign(3, 4), reduction=_r)
    case(f"soft_margin_loss[{_r}]", rn(3, 4), sign(3, 4), reduction=_r)
    case(f"multilabel_soft_margin_loss[{_r}]", rn(3, 4), ND((_R.random((3, 4)) < .5) * 1.),
         reduction=_r)
    case(f"cosine_embedding_loss[{_r}]", rn(3, 4), rn(3, 4), ND(sign(3)), reduction=_r)
    case(f"triplet_margin_loss[{_r}]", rn(3, 4), rn(3, 4), rn(3, 4), reduction=_r)
    case(f"multi_margin_loss[{_r}]", rn(5, 4), ints(4, 5), reduction=_r)
    case(f"multi_margin_loss[p2,w,{_r}]", rn(5, 4), ints(4, 5), pos(4),
         call=lambda F, x, t, w, r=_r: F.multi_margin_loss(x, t, p=2, weight=w, reduction=r))
    case(f"multilabel_margin_loss[{_r}]", rn(3, 4), np.array([[3, 0, -1, 1], [0, 1, 2, 3],
                                                             [1, -1, 0, 0]]), reduction=_r)
    case(f"poisson_nll_loss[{_r}]", rn(3, 4), pos(3, 4), reduction=_r)
    case(f"poisson_nll_loss[nolog,full,{_r}]", pos(3, 4), pos(3, 4) * 3, reduction=_r,
         log_input=False, full=True)
    case(f"gaussian_nll_loss[{_r}]", rn(3, 4), rn(3, 4), pos(3, 4), reduction=_r)
    case(f"triplet_margin_with_distance_loss[{_r}]", rn(3, 4), rn(3, 4), rn(3, 4),
         reduction=_r)
case("nll_loss[3d]", rn(2, 4, 3), ints(4, 2, 3))
case("nll_loss[1d]", rn(4), np.array(2))
case("cross_entropy[3d]", rn(2, 4, 3), ints(4, 2, 3))
case("cross_entropy[1d]", rn(4), np.array(2))
case("cross_entropy[probs3d]", rn(2, 4, 3), prob(2, 4, 3))
case("kl_div[batchmean]", rn(3, 4), prob(3, 4), reduction="batchmean")
case("kl_div[logtarget]", rn(3, 4), rn(3, 4), log_target=True)
case("gaussian_nll_loss[full,bcast]", rn(3, 4), rn(3, 4), pos(3, 1), full=True)
case("triplet_margin_loss[swap,p1]", rn(3, 4), rn(3, 4), rn(3, 4), swap=True, p=1.0)
case("huber_loss[1d]", rn(4), rn(4))

# ------------------------------------------------------------------ conv, pool, resample
case("conv1d", rn(2, 3, 7), rn(4, 3, 3), rn(4))
case("conv1d[unbatched,stride,pad]", rn(3, 7), rn(4, 3, 3), stride=2, padding=1)
case("conv1d[groups,dil]", rn(2, 4, 9), rn(6, 2, 3), groups=2, dilation=2)
case("conv1d[same]", rn(2, 3, 7), rn(4, 3, 3), padding="same")
case("conv2d", rn(2, 3, 5, 5), rn(4, 3, 3, 3), rn(4))
case("conv2d[stride,pad]", rn(2, 3, 6, 5), rn(4, 3, 3, 2), stride=(2, 1), padding=(1, 0))
case("conv3d", rn(1, 2, 4, 4, 4), rn(3, 2, 2, 2, 2), rn(3))
case("conv_transpose1d", rn(2, 3, 5), rn(3, 4, 3), rn(4), stride=2)
case("conv_transpose2d", rn(2, 3, 4, 4), rn(3, 2, 3, 3), rn(2), stride=2, padding=1,
     output_padding=1)
case("conv_transpose3d", rn(1, 2, 3, 3, 3), rn(2, 2, 2, 2, 2))
case("conv_tbc", rn(7, 2, 3), rn(3, 3, 4), rn(4))
for _d, _s in ((1, (2, 3, 8)), (2, (2, 3, 6, 6)), (3, (1, 2, 4, 4, 4))):
    case(f"max_pool{_d}d", rn(*_s), 2)
    case(f"max_pool{_d}d[stride,pad]", rn(*_s), 3, stride=2, padding=1)
    case(f"avg_pool{_d}d", rn(*_s), 2)
    case(f"avg_pool{_d}d[pad,ceil,nocip]", rn(*_s), 3, stride=2, padding=1, ceil_mode=True,
         count_include_pad=False)
    case(f"adaptive_avg_pool{_d}d", rn(*_s), 3)
    case(f"adaptive_max_pool{_d}d", rn(*_s), 3)
    case(f"lp_pool{_d}d", pos(*_s), 2.0, 2)
    case(f"max_pool{_d}d_with_indices", rn(*_s), 2)
    case(f"adaptive_max_pool{_d}d_with_indices", rn(*_s), 2)
case("max_pool2d[unbatched]", rn(3, 6, 6), 2)
case("max_pool2d[dilation]", rn(2, 3, 7, 7), 2, dilation=2)
case("avg_pool2d[divisor]", rn(2, 3, 6, 6), 2, divisor_override=3)
case("max_unpool2d", rn(2, 3, 3, 3),
     np.broadcast_to(np.array([[12 * r + 2 * c + (r + c) % 2 for c in range(3)]
                               for r in range(3)]), (2, 3, 3, 3)).copy(),
     call=lambda F, x, i: F.max_unpool2d(x, i, 2))
case("max_unpool1d", rn(2, 3, 3), np.broadcast_to(np.array([1, 2, 5]), (2, 3, 3)).copy(),
     call=lambda F, x, i: F.max_unpool1d(x, i, 2))
case("max_unpool3d", rn(1, 2, 1, 1, 2), np.array([[[[[0, 7]]], [[[1, 6]]]]]),
     call=lambda F, x, i: F.max_unpool3d(x, i, 2))
# PyTorch has no derivative for native_channel_shuffle (a NotImplemented node); symgrad
# differentiates it as channel_shuffle: only values and dtypes compare
case("native_channel_shuffle", rn(2, 4, 3, 3), 2, skip={"names", "edges", "grad", "second"})
case("upsample", rn(2, 3, 4), scale_factor=2)
case("upsample_nearest", rn(2, 3, 4, 4), scale_factor=2)
case("upsample_bilinear", rn(2, 3, 4, 4), size=(5, 7))
case("pixel_shuffle", rn(2, 8, 3, 3), 2)
case("pixel_unshuffle", rn(2, 2, 4, 4), 2)
case("channel_shuffle", rn(2, 4, 3, 3), 2)
case("interpolate[nearest]", rn(2, 3, 4), scale_factor=2)
case("interpolate[linear]", rn(2, 3, 4), size=7, mode="linear")
case("interpolate[linear,ac]", rn(2, 3, 4), size=7, mode="linear", align_corners=True)
case("interpolate[bilinear]", rn(2, 3, 4, 4), scale_factor=1.5, mode="bilinear")
case("interpolate[bicubic]", rn(1, 2, 4, 4), size=(5, 6), mode="bicubic")
case("interpolate[trilinear]", rn(1, 2, 3, 3, 3), scale_factor=2, mode="trilinear")
case("interpolate[nearest-exact]", rn(2, 3, 4, 4), size=(6, 5), mode="nearest-exact")
case("interpolate[area]", rn(2, 3, 6, 6), size=(3, 4), mode="area")
case("unfold", rn(2, 3, 5, 5), 2)
case("unfold[pad,stride,dil]", rn(2, 3, 6, 6), (2, 3), dilation=(1, 2), padding=1, stride=2)
case("fold", rn(2, 12, 16), (5, 5), 2)
case("pad[constant]", rn(2, 3, 4), (1, 2))
case("pad[constant,value]", rn(2, 3, 4), (1, 2, 0, 1), value=0.5)
case("pad[reflect]", rn(2, 3, 4), (1, 2), mode="reflect")
case("pad[reflect2d]", rn(2, 3, 4, 4), (1, 2, 2, 1), mode="reflect")
case("pad[replicate]", rn(2, 3, 4), (1, 2), mode="replicate")
case("pad[replicate2d]", rn(2, 3, 4, 4), (1, 2, 2, 1), mode="replicate")
case("pad[circular]", rn(2, 3, 4), (1, 2), mode="circular")
case("pad[circular2d]", rn(2, 3, 4, 4), (1, 2, 2, 1), mode="circular")
case("scaled_dot_product_attention", rn(2, 3, 4), rn(2, 5, 4), rn(2, 5, 3))
case("scaled_dot_product_attention[causal]", rn(2, 4, 4), rn(2, 4, 4), rn(2, 4, 3),
     is_causal=True)
case("embedding_bag", ints(6, 2, 3), rn(6, 4), second=False)
case("embedding_bag[sum]", ints(6, 2, 3), rn(6, 4), mode="sum")
case("embedding_bag[max]", ints(6, 2, 3), rn(6, 4), mode="max", second=False)
case("embedding_bag[max,dup,empty]", np.array([2, 2, 4, 1]), rn(6, 4), np.array([0, 2, 2]),
     mode="max", second=False)
case("embedding_bag[psw,offsets]", np.array([0, 5, 1, 1, 3]), rn(6, 4), np.array([0, 2]),
     pos(5), call=lambda F, i, w, o, p: F.embedding_bag(i, w, o, mode="sum",
                                                        per_sample_weights=p))
case("embedding_bag[mean,pad,last]", np.array([0, 5, 1, 1, 3]), rn(6, 4), np.array([0, 2, 5]),
     call=lambda F, i, w, o: F.embedding_bag(i, w, o, include_last_offset=True, padding_idx=1))

# ------------------------------------------------------------------ edges of the options
case("interpolate[nearest,1.7]", rn(1, 2, 5, 4), scale_factor=1.7)
case("interpolate[bilinear,recompute]", rn(1, 2, 5, 4), scale_factor=(1.7, 0.6),
     mode="bilinear", recompute_scale_factor=True)
case("interpolate[bilinear,antialias]", rn(1, 2, 8, 8), size=(3, 5), mode="bilinear",
     antialias=True)
case("interpolate[bicubic,antialias]", rn(1, 2, 8, 8), size=(3, 5), mode="bicubic",
     antialias=True)
case("interpolate[bilinear,antialias,up,ac]", rn(1, 2, 3, 4), size=(7, 5), mode="bilinear",
     antialias=True, align_corners=True)
case("interpolate[bicubic,antialias,scale]", rn(2, 1, 9, 7), scale_factor=0.4, mode="bicubic",
     antialias=True)
case("interpolate[area,3d]", rn(1, 2, 6, 6, 4), size=(3, 2, 3), mode="area")
case("interpolate[linear,down]", rn(2, 3, 9), size=4, mode="linear")
case("pad[negative]", rn(2, 3, 6), (-1, 2))
case("pad[replicate3d]", rn(1, 2, 3, 3, 3), (1, 0, 2, 1, 0, 1), mode="replicate")
case("pad[reflect3d]", rn(1, 2, 3, 3, 3), (1, 0, 2, 1, 0, 1), mode="reflect")
case("pad[circular3d]", rn(1, 2, 3, 3, 3), (1, 0, 2, 1, 0, 1), mode="circular")
case("nll_loss[all ignored]", rn(2, 3), np.array([1, 1]),
     call=lambda F, x, t: F.nll_loss(x, t, ignore_index=1))
case("cross_entropy[4d,w,ii]", rn(2, 3, 2, 2), ints(3, 2, 2, 2), pos(3),
     call=lambda F, x, t, w: F.cross_entropy(x, t, w, ignore_index=0))
case("cross_entropy[extreme]", rn(3, 4) * 800, ints(4, 3))
case("log_softmax[extreme]", rn(3, 4) * 800, dim=1)
case("softmax[dtype f32]", rn(3, 4), dim=1, dtype=None, f32=False,
     call=lambda F, x: F.softmax(x, 1, dtype=__import__("symgrad").float32)
     if type(x).__module__.startswith("symgrad") else F.softmax(
         x, 1, dtype=__import__("torch").float32), rtol=1e-5, second=False)
case("binary_cross_entropy[0 and 1]", np.array([0.0, 1.0, 0.5]), np.array([0.0, 1.0, 0.25]),
     skip={"grad", "second"})
case("softplus[large]", rn(3, 4) * 40)
case("smooth_l1_loss[beta0]", rn(3, 4), rn(3, 4), beta=0.0)
case("gaussian_nll_loss[tiny var]", rn(3, 4), rn(3, 4), np.full((3, 4), 1e-9))
case("kl_div[logtarget,batchmean]", rn(3, 4), rn(3, 4), log_target=True,
     reduction="batchmean")
case("one_hot[classes]", ints(3, 4), num_classes=5, f32=False)
case("embedding[max_norm]", ints(6, 2, 3), rn(6, 4) * 3, max_norm=1.0, second=False)
case("embedding[scale_grad_by_freq]", np.array([[0, 1, 1], [1, 2, 0]]), rn(6, 4),
     scale_grad_by_freq=True, second=False)
case("max_pool1d[ceil]", rn(2, 3, 9), 2, stride=2, ceil_mode=True)
case("avg_pool2d[ceil,pad]", rn(1, 2, 5, 5), 2, stride=2, padding=1, ceil_mode=True)
case("max_unpool2d[output_size]", rn(1, 1, 2, 2), np.array([[[[0, 3], [10, 15]]]]),
     call=lambda F, x, i: F.max_unpool2d(x, i, 2, output_size=(5, 5)))
case("local_response_norm[2d]", rn(2, 5, 3, 3), 3, alpha=0.1, beta=0.5, k=2.0)
case("conv2d[valid,dil,stride]", rn(1, 2, 7, 7), rn(3, 2, 3, 3), None, 2, "valid", 2,
     call=lambda F, x, w: F.conv2d(x, w, None, 2, 0, 2))
case("triplet_margin_with_distance_loss[swap,fn]", rn(3, 4), rn(3, 4), rn(3, 4),
     call=lambda F, a, p, n: F.triplet_margin_with_distance_loss(
         a, p, n, distance_function=lambda x, y: (x - y).abs().sum(-1), swap=True,
         margin=0.5))
case("dropout[inplace,p1]", rn(3, 4), call=lambda F, x: F.dropout(x.clone(), 1.0, True, True))
case("hardtanh_[range]", rn(3, 4), call=lambda F, x: F.hardtanh_(x.clone(), -0.2, 0.3))
case("gelu[none]", rn(3, 4), approximate="none")
case("group_norm[2d input]", rn(3, 4), 2)
case("layer_norm[0 eps,big]", rn(2, 5) * 1e3 + 1e4, (5,), eps=0.0)


# ------------------------------------------------------------------ dropout family
for _n in ("dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d",
           "dropout3d"):
    _shape = {"dropout1d": (2, 3, 4), "dropout2d": (2, 3, 2, 2),
              "dropout3d": (1, 3, 2, 2, 2)}.get(_n, (3, 4, 2))
    case(f"{_n}[eval]", rn(*_shape), training=False)
    case(f"{_n}[p0]", rn(*_shape), p=0.0, training=True)


# ------------------------------------------------------------------ misuse
@dataclass
class Misuse:
    name: str
    call: Callable[..., Any]
    inputs: tuple


MISUSES: list[Misuse] = []


def misuse(name: str, *inputs, call):
    MISUSES.append(Misuse(name, call, inputs))


misuse("mse_loss[bad reduction]", rn(3), rn(3),
       call=lambda F, x, y: F.mse_loss(x, y, reduction="avg"))
misuse("l1_loss[bad reduction]", rn(3), rn(3),
       call=lambda F, x, y: F.l1_loss(x, y, reduction="bogus"))
misuse("cross_entropy[bad reduction]", rn(2, 3), ints(3, 2),
       call=lambda F, x, t: F.cross_entropy(x, t, reduction="bogus"))
misuse("nll_loss[bad reduction]", rn(2, 3), ints(3, 2),
       call=lambda F, x, t: F.nll_loss(x, t, reduction="bogus"))
misuse("nll_loss[float target]", rn(2, 3), rn(2), call=lambda F, x, t: F.nll_loss(x, t))
misuse("nll_loss[batch mismatch]", rn(2, 3), ints(3, 3), call=lambda F, x, t: F.nll_loss(x, t))
misuse("nll_loss[target out of range]", rn(2, 3), np.array([0, 5]),
       call=lambda F, x, t: F.nll_loss(x, t))
misuse("cross_entropy[float target shape]", rn(2, 3), rn(2),
       call=lambda F, x, t: F.cross_entropy(x, t))
misuse("cross_entropy[batch mismatch]", rn(2, 3), ints(3, 3),
       call=lambda F, x, t: F.cross_entropy(x, t))
misuse("cross_entropy[label_smoothing>1]", rn(2, 3), ints(3, 2),
       call=lambda F, x, t: F.cross_entropy(x, t, label_smoothing=1.5))
misuse("mse_loss[shape]", rn(2, 3), rn(4, 3), call=lambda F, x, y: F.mse_loss(x, y))
misuse("binary_cross_entropy[shape]", prob(2, 3), prob(3),
       call=lambda F, x, y: F.binary_cross_entropy(x, y))
misuse("binary_cross_entropy_with_logits[shape]", rn(2, 3), prob(3),
       call=lambda F, x, y: F.binary_cross_entropy_with_logits(x, y))
misuse("linear[shape]", rn(2, 3), rn(4, 5), call=lambda F, x, w: F.linear(x, w))
misuse("conv2d[channels]", rn(1, 3, 5, 5), rn(4, 2, 3, 3), call=lambda F, x, w: F.conv2d(x, w))
misuse("conv2d[dims]", rn(3, 5), rn(4, 3, 3, 3), call=lambda F, x, w: F.conv2d(x, w))
misuse("layer_norm[shape]", rn(2, 3), call=lambda F, x: F.layer_norm(x, (4,)))
misuse("batch_norm[channels]", rn(4, 3), ND(rn(2)), ND(pos(2)),
       call=lambda F, x, m, v: F.batch_norm(x, m, v))
misuse("batch_norm[one value]", rn(1, 3), call=lambda F, x: F.batch_norm(x, None, None,
                                                                          training=True))
misuse("group_norm[groups]", rn(2, 4, 3), call=lambda F, x: F.group_norm(x, 3))
misuse("softmax[dim]", rn(2, 3), call=lambda F, x: F.softmax(x, dim=2))
misuse("glu[odd]", rn(2, 3), call=lambda F, x: F.glu(x))
misuse("dropout[p]", rn(2, 3), call=lambda F, x: F.dropout(x, p=1.5))
misuse("max_pool2d[kernel too big]", rn(1, 1, 2, 2), call=lambda F, x: F.max_pool2d(x, 3))
misuse("embedding[float index]", rn(2), rn(4, 3), call=lambda F, i, w: F.embedding(i, w))
misuse("one_hot[negative]", np.array([-1, 0]), call=lambda F, t: F.one_hot(t))
misuse("pad[reflect too big]", rn(1, 2, 3), call=lambda F, x: F.pad(x, (3, 3), mode="reflect"))
misuse("pad[bad mode]", rn(1, 2, 3), call=lambda F, x: F.pad(x, (1, 1), mode="wrap"))
misuse("kl_div[bad reduction]", rn(3), prob(3),
       call=lambda F, x, y: F.kl_div(x, y, reduction="bogus"))
misuse("interpolate[bad mode]", rn(1, 2, 3), call=lambda F, x: F.interpolate(x, 4, mode="cube"))
misuse("interpolate[antialias linear]", rn(1, 2, 6),
       call=lambda F, x: F.interpolate(x, 3, mode="linear", antialias=True))
misuse("interpolate[no size]", rn(1, 2, 3), call=lambda F, x: F.interpolate(x))
misuse("multi_margin_loss[p3]", rn(2, 3), ints(3, 2),
       call=lambda F, x, t: F.multi_margin_loss(x, t, p=3))
misuse("pixel_shuffle[channels]", rn(1, 3, 2, 2), call=lambda F, x: F.pixel_shuffle(x, 2))


# ------------------------------------------------------------------ running
def _lib(name: str):
    if name == "symgrad":
        return sg, sg.nn.functional
    import torch
    import torch.nn.functional as TF

    return torch, TF


def _tensors(m, inputs, dtype, grad=True):
    out = []
    for a in inputs:
        nd = isinstance(a, ND)
        a = a.a if nd else a
        if isinstance(a, np.ndarray) or isinstance(a, np.floating):
            arr = np.asarray(a)
            if arr.dtype.kind == "f":
                arr = arr.astype(dtype)
            t = m.tensor(arr)
            if grad and arr.dtype.kind == "f" and not nd:
                t.requires_grad_(True)
            out.append(t)
        else:
            out.append(a)
    return out


def _np(t):
    if t is None:
        return None
    return np.asarray(t.detach().cpu().numpy() if hasattr(t, "cpu") else t.detach().numpy())


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def _names(fn, depth=3):
    """The node name and the names along next_functions, ``depth`` levels deep."""
    if fn is None:
        return None
    kids = tuple(_names(f, depth - 1) if depth > 1 else (type(f).__name__ if f else None)
                 for f, _ in fn.next_functions) if depth > 0 else ()
    return (type(fn).__name__, kids)


def _no_slots(tree):
    """The name tree without the empty (None) edges: symgrad keeps one for each argument
    of a node, PyTorch none for the arguments it never differentiates (targets, masks)."""
    if not isinstance(tree, tuple):
        return tree
    return (tree[0], tuple(_no_slots(k) for k in tree[1] if k is not None))


def observe(lib: str, c: Case) -> dict:
    """Everything compared, for one library: values, names, gradients, second derivatives,
    the float32 dtype; an aspect whose call raised holds ``("raised", type name, message)``."""
    m, F = _lib(lib)
    res: dict = {}
    try:
        ts = _tensors(m, c.inputs, np.float64)
        out = c.call(F, *ts)
    except Exception as e:  # noqa: BLE001 - the outcome is compared
        return {"forward": ("raised", type(e).__name__, str(e)[:200])}
    outs = out if isinstance(out, (tuple, list)) else (out,)
    res["forward"] = [_np(o) for o in outs]
    first = _first(out)
    tree = _names(first.grad_fn)
    res["names"] = tree and tree[0]
    res["edges"] = _no_slots(tree)
    res["slots"] = tree
    leaves = [t for t in ts if isinstance(t, (m.Tensor,)) and t.requires_grad]
    if first.requires_grad and leaves:
        ct = m.tensor(np.random.default_rng(1).standard_normal(tuple(first.shape)))
        try:
            gs = m.autograd.grad(first, leaves, ct, create_graph=c.second, allow_unused=True)
            res["grad"] = [_np(g) for g in gs]
        except Exception as e:  # noqa: BLE001
            res["grad"] = ("raised", type(e).__name__, str(e)[:200])
            gs = None
        if c.second and gs is not None:
            try:
                rng = np.random.default_rng(2)
                tot = None
                for g in gs:
                    if g is None or not g.requires_grad:
                        continue
                    term = (g * m.tensor(rng.standard_normal(tuple(g.shape)))).sum()
                    tot = term if tot is None else tot + term
                if tot is None:
                    res["second"] = "constant"
                else:
                    g2 = m.autograd.grad(tot, leaves, allow_unused=True)
                    res["second"] = [_np(g) for g in g2]
            except Exception as e:  # noqa: BLE001
                res["second"] = ("raised", type(e).__name__, str(e)[:200])
    if c.f32:
        try:
            o32 = _first(c.call(F, *_tensors(m, c.inputs, np.float32)))
            res["f32"] = str(o32.dtype).split(".")[-1]
        except Exception as e:  # noqa: BLE001
            res["f32"] = ("raised", type(e).__name__, str(e)[:120])
    return res


def _close(a, b, rtol) -> bool:
    if a is None or b is None:
        return (a is None or not np.any(a)) and (b is None or not np.any(b))
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        return bool(np.allclose(a, b, rtol=rtol, atol=1e-12, equal_nan=True))
    return bool(np.array_equal(a, b))


def _same(x, y, rtol) -> bool:
    if isinstance(x, tuple) and x and x[0] == "raised":
        return isinstance(y, tuple) and y[:2] == x[:2]
    if isinstance(y, tuple) and y and y[0] == "raised":
        return False
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_close(a, b, rtol) for a, b in zip(x, y))
    return x == y


def compare(c: Case) -> dict[str, tuple]:
    """The aspects where symgrad differs from PyTorch: aspect -> (symgrad, torch)."""
    s, t = observe("symgrad", c), observe("torch", c)
    diffs = {}
    for key in ("forward", "names", "edges", "grad", "second", "f32"):
        if key in c.skip:
            continue
        a, b = s.get(key), t.get(key)
        if key == "second":
            if isinstance(b, tuple):
                continue    # PyTorch has no double backward here
            if "constant" in (a, b):
                # a gradient that does not depend on the inputs: PyTorch still records a
                # node (its double backward gives zeros), symgrad records none
                other = b if a == "constant" else a
                if other != "constant" and not (isinstance(other, list) and all(
                        o is None or not np.any(o) for o in other)):
                    diffs[key] = (a, b)
                continue
        if (key in t or key in s) and not _same(a, b, max(c.rtol, 1e-9) if key == "second"
                                                 else c.rtol):
            diffs[key] = (a, b)
    return diffs


def misuse_outcome(lib: str, u: Misuse):
    m, F = _lib(lib)
    try:
        u.call(F, *_tensors(m, u.inputs, np.float64))
    except Exception as e:  # noqa: BLE001 - the outcome is compared
        return type(e).__name__, str(e)
    return None


def compare_misuse(u: Misuse):
    """None when both raise the same error type, else (symgrad, torch) outcomes."""
    s, t = misuse_outcome("symgrad", u), misuse_outcome("torch", u)
    if (s and s[0]) == (t and t[0]):
        return None
    return s, t
