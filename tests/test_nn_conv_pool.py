"""Convolutions and pooling against PyTorch in float64: values, gradients with respect to
every tensor argument, node names, returned indices (ties, NaN and -inf included), errors,
double backward of the convolutions, and exactness against the SymPy mirrors."""

import itertools

import numpy as np
import pytest

import symgrad as sg
from symgrad import verify
from symgrad.nn import functional as F
from torch_parity import raises_as_torch

R = np.random.default_rng(5)
pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same.:UserWarning")


def _both(torch, arrays):
    ts = [None if a is None else torch.tensor(a, requires_grad=a.dtype.kind == "f")
          for a in arrays]
    ss = [None if a is None else sg.tensor(a, requires_grad=a.dtype.kind == "f")
          for a in arrays]
    return ts, ss


def _compare(torch, name, arrays, kw, indices=False, tf=None):
    """Run ``name`` in both libraries; compare values, indices, node name and gradients."""
    import torch.nn.functional as TF

    ts, ss = _both(torch, arrays)
    out_t = getattr(tf or TF, name)(*ts, **kw)
    out_s = getattr(F, name)(*ss, **kw)
    if indices:
        np.testing.assert_array_equal(out_s[1].numpy(), out_t[1].numpy())
        assert out_s[1].dtype == sg.int64
        out_t, out_s = out_t[0], out_s[0]
    assert tuple(out_s.shape) == tuple(out_t.shape)
    np.testing.assert_allclose(out_s.detach().numpy(), out_t.detach().numpy(), rtol=1e-12,
                               atol=1e-13)
    assert out_s.grad_fn.name() == out_t.grad_fn.name()
    g = R.standard_normal(tuple(out_t.shape))
    out_t.backward(torch.tensor(g))
    out_s.backward(sg.tensor(g))
    for s, t in zip(ss, ts):
        if t is not None and t.requires_grad:
            np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-13)


# ================================================================ convolution
SPATIAL = {1: (7,), 2: (6, 5), 3: (5, 6, 5)}
KERNEL = {1: (3,), 2: (3, 2), 3: (2, 3, 2)}
CONV_GRID = [(nd, stride, pad, dil, groups)
             for nd in (1, 2)
             for stride, pad, dil, groups in itertools.product(
                 (1, 2), (0, (1, 0, 2)[:nd] if nd > 1 else 2, "same"), (1, 2), (1, 2))
             if not (pad == "same" and stride != 1)] + [
    (3, 1, 1, 1, 1), (3, 2, (0, 1, 2), 2, 2), (3, 1, "same", 2, 1), (3, 2, "valid", 1, 2)]


@pytest.mark.parametrize("nd,stride,padding,dilation,groups", CONV_GRID)
def test_conv_matches_torch(torch, nd, stride, padding, dilation, groups):
    x = R.standard_normal((2, 4) + SPATIAL[nd])
    w = R.standard_normal((6, 4 // groups) + KERNEL[nd])
    b = R.standard_normal(6) if stride == 1 else None
    _compare(torch, f"conv{nd}d", [x, w, b],
             dict(stride=stride, padding=padding, dilation=dilation, groups=groups))


CONVT_GRID = [(nd, stride, pad, out_pad, dil, 1 + pad)
              for nd in (1, 2)
              for stride, pad, out_pad, dil in itertools.product((1, 3), (0, 1), (0, 1), (1, 2))
              if out_pad < stride or out_pad < dil] + [
    (3, 2, 0, 1, 1, 1), (3, 1, 1, 1, 2, 2), (3, 3, (1, 0, 1), 0, 2, 1)]


@pytest.mark.parametrize("nd,stride,padding,output_padding,dilation,groups", CONVT_GRID)
def test_conv_transpose_matches_torch(torch, nd, stride, padding, output_padding, dilation,
                                      groups):
    x = R.standard_normal((2, 4) + SPATIAL[nd][:nd])
    w = R.standard_normal((4, 6 // groups) + KERNEL[nd])
    b = R.standard_normal(6) if padding == 0 else None
    _compare(torch, f"conv_transpose{nd}d", [x, w, b],
             dict(stride=stride, padding=padding, output_padding=output_padding,
                  dilation=dilation, groups=groups))


def test_conv_unbatched_and_integer_inputs(torch):
    x, w = R.standard_normal((4, 7)), R.standard_normal((3, 4, 2))
    _compare(torch, "conv1d", [x, w], {})   # (C, L): Unsqueeze -> Convolution -> Squeeze
    _compare(torch, "conv_transpose2d", [R.standard_normal((4, 3, 3)),
                                         R.standard_normal((4, 2, 2, 2))], dict(stride=2))
    xi = np.arange(12).reshape(1, 2, 6) - 5
    wi = np.array([[[1, -2], [3, 0]]])
    out = sg.conv1d(sg.tensor(xi), sg.tensor(wi))
    assert out.dtype == sg.int64
    assert out.tolist() == torch.conv1d(torch.tensor(xi), torch.tensor(wi)).tolist()


@pytest.mark.parametrize("pad", [0, 2])
def test_conv_tbc_matches_torch(torch, pad):
    """(time, batch, channel) convolution; composed of permutes around conv1d, so its node
    is PermuteBackward0 where PyTorch records ConvTbcBackward0."""
    arrays = [R.standard_normal((5, 2, 3)), R.standard_normal((3, 3, 4)), R.standard_normal(4)]
    ts, ss = _both(torch, arrays)
    out_t, out_s = torch.conv_tbc(*ts, pad), sg.conv_tbc(*ss, pad)
    np.testing.assert_allclose(out_s.detach().numpy(), out_t.detach().numpy(), rtol=1e-12)
    g = R.standard_normal(tuple(out_t.shape))
    out_t.backward(torch.tensor(g))
    out_s.backward(sg.tensor(g))
    for s, t in zip(ss, ts):
        np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-13)


def test_torch_namespace_signatures(torch):
    x, w = R.standard_normal((1, 2, 5, 5)), R.standard_normal((2, 2, 3, 3))
    for name in ("conv2d", "conv_transpose2d"):
        got = getattr(sg, name)(sg.tensor(x), sg.tensor(w), None, 2, 1)
        want = getattr(torch, name)(torch.tensor(x), torch.tensor(w), None, 2, 1)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    a = R.standard_normal((2, 3, 8))
    for name, args in (("max_pool1d", (3, 2, 1)), ("avg_pool1d", (3, 2, 1, True, False)),
                       ("adaptive_avg_pool1d", (3,)), ("max_pool2d", ((2, 3),)),
                       ("max_pool3d", (2,))):
        shaped = a.reshape((1,) * (int(name[-2]) - 1) + a.shape) if name[-2] in "23" else a
        got = getattr(sg, name)(sg.tensor(shaped), *args)
        want = getattr(torch, name)(torch.tensor(shaped), *args)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    values, idx = sg.adaptive_max_pool1d(sg.tensor(a), 3)     # torch's: always a pair
    want = torch.adaptive_max_pool1d(torch.tensor(a), 3)
    np.testing.assert_array_equal(idx.numpy(), want[1].numpy())
    values, idx = sg.max_pool1d_with_indices(sg.tensor(a), 2)
    np.testing.assert_array_equal(idx.numpy(), torch.max_pool1d_with_indices(
        torch.tensor(a), 2)[1].numpy())


@pytest.mark.parametrize("name,shapes,kw", [
    ("conv2d", [(2, 4, 5, 5), (6, 2, 3, 2), (6,)],
     dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2)),
    ("conv1d", [(2, 2, 6), (3, 2, 3), (3,)], dict(padding="same")),
    ("conv_transpose2d", [(2, 4, 3, 3), (4, 3, 2, 2), (6,)],
     dict(stride=2, padding=1, output_padding=1, groups=2)),
])
def test_conv_double_backward(torch, name, shapes, kw):
    arrays = [R.standard_normal(s) for s in shapes]
    results = []
    for lib in (torch, sg):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = getattr(lib, name)(*ts, **kw)
        grads = lib.autograd.grad((out * out).sum(), ts, create_graph=True)
        total = sum((g * g * g).sum() for g in grads)
        results.append([g.detach().numpy() for g in lib.autograd.grad(total, ts)])
    for s, t in zip(results[1], results[0]):
        np.testing.assert_allclose(s, t, rtol=1e-11, atol=1e-12)


CONV_ERRORS = {
    "input rank": (lambda F, T: F.conv2d(T.ones(4, 5), T.ones(6, 4, 3, 3)),
                   RuntimeError, "Expected 3D (unbatched) or 4D (batched) input to conv2d"),
    "channels": (lambda F, T: F.conv2d(T.ones(2, 5, 5, 5), T.ones(6, 4, 3, 3)),
                 RuntimeError, "to have 4 channels, but got 5 channels instead"),
    "groups": (lambda F, T: F.conv2d(T.ones(2, 4, 5, 5), T.ones(5, 2, 3, 3), groups=2),
               RuntimeError, "expected weight to be divisible by 2 at dimension 0"),
    "kernel too big": (lambda F, T: F.conv2d(T.ones(2, 4, 2, 2), T.ones(6, 4, 3, 3)),
                       RuntimeError, "Kernel size can't be greater than actual input size"),
    "stride": (lambda F, T: F.conv2d(T.ones(2, 4, 5, 5), T.ones(6, 4, 3, 3), stride=0),
               RuntimeError, "non-positive stride is not supported"),
    "padding": (lambda F, T: F.conv2d(T.ones(2, 4, 5, 5), T.ones(6, 4, 3, 3), padding=-1),
                RuntimeError, "negative padding is not supported"),
    "dilation": (lambda F, T: F.conv2d(T.ones(2, 4, 5, 5), T.ones(6, 4, 3, 3), dilation=0),
                 RuntimeError, "non-positive dilation is not supported"),
    "same strided": (lambda F, T: F.conv2d(T.ones(2, 4, 5, 5), T.ones(6, 4, 3, 3), stride=2,
                                           padding="same"),
                     RuntimeError, "padding='same' is not supported for strided"),
    "padding string": (lambda F, T: F.conv2d(T.ones(2, 4, 5, 5), T.ones(6, 4, 3, 3),
                                             padding="full"),
                       RuntimeError, "Invalid padding string: 'full'"),
    "bias": (lambda F, T: F.conv2d(T.ones(2, 4, 5, 5), T.ones(6, 4, 3, 3), T.ones(5)),
             RuntimeError, "expected bias to be 1-dimensional with 6 elements"),
    "stride length": (lambda F, T: F.conv2d(T.ones(2, 4, 5, 5), T.ones(6, 4, 3, 3),
                                            stride=(1, 1, 1)),
                      RuntimeError, "expected stride to be a single integer value or a list"),
    "dtypes": (lambda F, T: F.conv2d(T.ones(2, 4, 5, 5), T.ones(6, 4, 3, 3,
                                                                dtype=T.float32)),
               RuntimeError, "expected scalar type Double but found Float"),
    "output padding": (lambda F, T: F.conv_transpose2d(T.ones(2, 4, 5, 5), T.ones(4, 2, 3, 3),
                                                       output_padding=1),
                       RuntimeError, "output padding must be smaller than either stride"),
    "transposed channels": (lambda F, T: F.conv_transpose2d(T.ones(2, 4, 5, 5),
                                                            T.ones(3, 2, 3, 3)),
                            RuntimeError, "expected input[2, 4, 5, 5] to have 3 channels"),
    "transposed same": (lambda F, T: F.conv_transpose2d(T.ones(2, 4, 5, 5), T.ones(4, 2, 3, 3),
                                                        padding="same"),
                        TypeError, "argument 'padding' must be tuple of ints, not str"),
    "bool": (lambda F, T: F.conv1d(T.ones(1, 1, 3, dtype=T.bool), T.ones(1, 1, 2,
                                                                          dtype=T.bool)),
             RuntimeError, "not implemented for 'Bool'"),
}


@pytest.mark.parametrize("case", sorted(CONV_ERRORS))
def test_conv_errors_as_torch(torch, case):
    raises_as_torch(torch, *CONV_ERRORS[case])


# ================================================================ pooling
POOL_GRID = [(nd, k, s, p, d, (k + p + d) % 2 == 0)
             for nd in (1, 2)
             for k, s, p, d in itertools.product((2, 3), (None, 2), (0, 1), (1, 2))] + [
    (3, 2, None, 1, 1, True), (3, 3, 2, 1, 2, False), (3, 2, 1, 0, 2, True)]


@pytest.mark.parametrize("nd,k,stride,padding,dilation,ceil_mode", POOL_GRID)
def test_max_pool_matches_torch(torch, nd, k, stride, padding, dilation, ceil_mode):
    shape = ((2, 3) if k == 2 else (3,)) + SPATIAL[nd]
    _compare(torch, f"max_pool{nd}d", [R.standard_normal(shape)],
             dict(kernel_size=k, stride=stride, padding=padding, dilation=dilation,
                  ceil_mode=ceil_mode, return_indices=True), indices=True)


@pytest.mark.parametrize("nd,k,stride,padding,ceil_mode,include_pad,divisor", [
    (nd, k, s, p, c, i, 5 if nd > 1 and i and k == 3 else None) for nd in (1, 2)
    for k, s, p, c, i in itertools.product((2, 3), (None, 2), (0, 1), (False, True),
                                           (True, False)) if (k + p) % 2 or c == i] + [
    (3, 2, None, 1, True, False, None), (3, 3, 2, 1, False, True, 4)])
def test_avg_pool_matches_torch(torch, nd, k, stride, padding, ceil_mode, include_pad,
                                divisor):
    kw = dict(kernel_size=k, stride=stride, padding=padding, ceil_mode=ceil_mode,
              count_include_pad=include_pad)
    if divisor is not None:
        kw["divisor_override"] = divisor
    shape = ((2, 3) if ceil_mode else (3,)) + SPATIAL[nd]
    _compare(torch, f"avg_pool{nd}d", [R.standard_normal(shape)], kw)


@pytest.mark.parametrize("nd,size", [(nd, s) for nd in (1, 2, 3)
                                     for s in (1, 2, 3, 4, (None, 2, 3)[:nd] if nd > 1 else 6)])
def test_adaptive_pools_match_torch(torch, nd, size):
    x = R.standard_normal((2, 3) + SPATIAL[nd])
    _compare(torch, f"adaptive_avg_pool{nd}d", [x], dict(output_size=size))
    _compare(torch, f"adaptive_max_pool{nd}d", [x[0]], dict(output_size=size,
                                                            return_indices=True),
             indices=True)


@pytest.mark.parametrize("nd,norm,ceil", [(1, 2, False), (1, 3.0, True), (2, 1, False),
                                          (2, 2.5, True), (3, 2, False)])
def test_lp_pool_matches_torch(torch, nd, norm, ceil):
    x = np.abs(R.standard_normal((2, 3) + SPATIAL[nd])) + 0.1
    _compare(torch, f"lp_pool{nd}d", [x], dict(norm_type=norm, kernel_size=2,
                                               ceil_mode=ceil))


def test_max_pool_ties_nan_and_infinite_padding(torch):
    """PyTorch's choices: the first maximum in scan order, the last NaN, and the first
    entry inside the input when a window holds only -inf (padding is never returned)."""
    ties = np.round(R.standard_normal((2, 2, 6, 6)))
    _compare(torch, "max_pool2d", [ties], dict(kernel_size=3, stride=1, padding=1,
                                               return_indices=True), indices=True)
    _compare(torch, "adaptive_max_pool2d", [ties], dict(output_size=4, return_indices=True),
             indices=True)
    _compare(torch, "max_pool2d", [np.full((1, 1, 4, 4), -np.inf)],
             dict(kernel_size=3, stride=2, padding=1, return_indices=True), indices=True)
    nan = R.standard_normal((1, 1, 5, 5))
    nan[0, 0, 1, 1] = nan[0, 0, 1, 2] = np.nan
    _compare(torch, "max_pool2d", [nan], dict(kernel_size=3, stride=1, padding=1,
                                              return_indices=True), indices=True)
    ints = np.arange(16).reshape(1, 4, 4) - 9
    assert (F.max_pool2d(sg.tensor(ints), 2, padding=1).tolist()
            == torch.nn.functional.max_pool2d(torch.tensor(ints), 2, padding=1).tolist())
    assert (F.avg_pool1d(sg.tensor(ints), 3, 1, 1).tolist()        # integer division: to 0
            == torch.nn.functional.avg_pool1d(torch.tensor(ints), 3, 1, 1).tolist())


@pytest.mark.parametrize("name,kw", [
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("adaptive_max_pool3d", dict(output_size=(2, 3, 2))),
    ("adaptive_avg_pool1d", dict(output_size=4))])
def test_pool_double_backward(torch, name, kw):
    import torch.nn.functional as TF

    x = R.standard_normal((2, 3) + SPATIAL[int(name[-2])])
    results = []
    for lib, fn in ((torch, TF), (sg, F)):
        t = lib.tensor(x, requires_grad=True)
        y = getattr(fn, name)(t, **kw)
        (g,) = lib.autograd.grad((y ** 3).sum(), t, create_graph=True)
        (gg,) = lib.autograd.grad((g ** 2).sum(), t)
        results.append(gg.detach().numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("nd,shape,k,stride,padding,output_size", [
    (2, (2, 3, 4, 4), 2, None, 0, None), (2, (2, 3, 5, 5), 2, None, 0, (5, 5)),
    (1, (2, 3, 7), 2, None, 0, None), (1, (2, 7), 3, 3, 1, None),
    (3, (1, 2, 4, 4, 4), 2, None, 0, None), (2, (3, 5, 5), 2, None, 0, (1, 3, 5, 5))])
def test_max_unpool_matches_torch(torch, nd, shape, k, stride, padding, output_size):
    import torch.nn.functional as TF

    _, idx = getattr(TF, f"max_pool{nd}d")(torch.tensor(R.standard_normal(shape)), k, stride,
                                           padding, return_indices=True)
    _compare(torch, f"max_unpool{nd}d", [R.standard_normal(tuple(idx.shape)), idx.numpy()],
             dict(kernel_size=k, stride=stride, padding=padding, output_size=output_size))


def test_max_unpool_writes_a_repeated_index_once(torch):
    """Overlapping windows can return an index twice: the last write stays (as PyTorch),
    and the shadowed copy, which the output does not depend on, gets no gradient (PyTorch
    gives it the gradient of the position too)."""
    import torch.nn.functional as TF

    _, idx = TF.max_pool1d(torch.tensor([[[0.0, 5.0, 1.0, 2.0]]]), 2, 1, return_indices=True)
    assert idx.tolist() == [[[1, 1, 3]]]
    v = sg.tensor([[[1.0, 2.0, 3.0]]], requires_grad=True)
    out = F.max_unpool1d(v, sg.tensor(idx.numpy()), 2, 1)
    want = TF.max_unpool1d(torch.tensor([[[1.0, 2.0, 3.0]]]), idx, 2, 1)
    assert out.tolist() == want.tolist() == [[[0.0, 2.0, 0.0, 3.0]]]
    out.backward(sg.tensor([[[1.0, 10.0, 100.0, 1000.0]]]))
    assert v.grad.tolist() == [[[0.0, 10.0, 1000.0]]]
    assert verify.check(lambda v: (F.max_unpool1d(v, sg.tensor(idx.numpy()), 2, 1) ** 2).sum(),
                        v).ok


POOL_ERRORS = {
    "unpool size": (lambda F, T: F.max_unpool2d(T.ones(1, 2, 2), T.zeros(1, 2, 2,
                                                                          dtype=T.int64), 2,
                                                output_size=(9, 9)),
                    ValueError, "invalid output_size"),
    "unpool size length": (lambda F, T: F.max_unpool2d(T.ones(1, 2, 2), T.zeros(
        1, 2, 2, dtype=T.int64), 2, output_size=(1, 4, 4)), ValueError,
        "output_size should be a sequence containing 2 or 4 elements"),
    "unpool dtype": (lambda F, T: F.max_unpool2d(T.ones(1, 2, 2), T.zeros(1, 2, 2), 2),
                     RuntimeError, "elements in indices should be type int64"),
    "unpool index": (lambda F, T: F.max_unpool2d(T.ones(1, 2, 2), T.full((1, 2, 2), 17,
                                                                         dtype=T.int64), 2),
                     RuntimeError, "Found an invalid max index: 17"),
    "pad": (lambda F, T: F.max_pool2d(T.ones(1, 5, 5), 3, padding=2), RuntimeError,
            "pad should be at most half of effective kernel size"),
    "avg pad": (lambda F, T: F.avg_pool2d(T.ones(1, 5, 5), 2, padding=2), RuntimeError,
                "pad should be at most half of effective kernel size"),
    "rank": (lambda F, T: F.max_pool2d(T.ones(5, 5), 2), RuntimeError,
             "non-empty 3D or 4D (batch mode) tensor expected for input"),
    "too small": (lambda F, T: F.max_pool2d(T.ones(1, 2, 2), 3), RuntimeError,
                  "Output size is too small"),
    "divisor": (lambda F, T: F.avg_pool2d(T.ones(1, 4, 4), 2, divisor_override=0),
                RuntimeError, "divisor must be not zero"),
    "adaptive size": (lambda F, T: F.adaptive_avg_pool2d(T.ones(1, 1, 4, 4), (1, 2, 3)),
                      RuntimeError, "output_size must be 2"),
    "bool": (lambda F, T: F.max_pool1d(T.ones(1, 1, 4, dtype=T.bool), 2), RuntimeError,
             "not implemented for 'Bool'"),
}


@pytest.mark.parametrize("case", sorted(POOL_ERRORS))
def test_pool_errors_as_torch(torch, case):
    raises_as_torch(torch, *POOL_ERRORS[case])


# ================================================================ exact, against SymPy
def test_rules_proved():
    results = verify.check_rules(["convolution", "conv_transpose", "window_max",
                                  "window_mean", "window_unpool"])
    assert [r.verdict for r in results] == ["proved"] * 5


@pytest.mark.parametrize("program,shapes", [
    (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1).sum(),
     [(1, 2, 4, 4), (3, 2, 2, 2), (3,)]),
    (lambda x, w: (F.conv1d(x, w, padding="same", dilation=2, groups=2) ** 2).sum(),
     [(1, 2, 5), (2, 1, 2)]),
    (lambda x, w: (F.conv_transpose2d(x, w, stride=2, output_padding=1) ** 2).sum(),
     [(1, 2, 2, 2), (2, 1, 2, 2)]),
    (lambda x: (F.max_pool2d(x, 3, 2, 1) ** 2).sum(), [(1, 2, 5, 5)]),
    (lambda x: (F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False) ** 2).sum(),
     [(1, 2, 5, 5)]),
    (lambda x: (F.adaptive_avg_pool1d(x, 3) ** 2).sum(), [(2, 7)]),
])
def test_verifier_agrees(program, shapes):
    inputs = [sg.tensor(R.standard_normal(s), requires_grad=True) for s in shapes]
    assert verify.check(program, *inputs).ok


def test_max_pool_tie_is_a_declared_kink():
    x = sg.tensor([[[1.0, 3.0, 3.0, 0.0]]], requires_grad=True)
    report = verify.check(lambda x: F.max_pool1d(x, 3, 1).sum(), x)
    assert report.ok
    assert "first maximum" in report.table()
    F.max_pool1d(x, 3, 1).sum().backward()
    assert x.grad.tolist() == [[[0.0, 2.0, 0.0, 0.0]]]
