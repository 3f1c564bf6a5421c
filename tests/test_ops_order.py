"""symgrad.ops.order: median, nanmedian, kthvalue, mode, quantile, nanquantile, msort,
aminmax, nansum, nanmean: values, indices, gradients (to the returned index; ties of the
full median shared evenly), nan handling, errors, and parity with PyTorch."""

import math

import numpy as np
import pytest

import symgrad as sg
from symgrad import verify
from torch_parity import compare

T = sg.tensor
NAN = float("nan")


def _r(*shape, seed=0):
    return np.random.default_rng(seed + 31 * len(shape)).standard_normal(shape)


def _with_nans(*shape, seed=1):
    a = _r(*shape, seed=seed)
    a[np.random.default_rng(seed).random(shape) < 0.3] = NAN
    return a


CASES = {  # id -> (f(m, x), data); every output (values and indices) is compared
    "median": (lambda m, x: m.median(x), _r(3, 5)),
    "median_even": (lambda m, x: x.median(), _r(2, 3)),
    "median_dim": (lambda m, x: m.median(x, 1), _r(3, 5)),
    "median_dim_keepdim": (lambda m, x: m.median(x, 0, keepdim=True), _r(4, 3)),
    "median_nan": (lambda m, x: m.median(x), _with_nans(3, 4)),
    "median_dim_nan": (lambda m, x: m.median(x, 1), _with_nans(4, 5)),
    "nanmedian": (lambda m, x: m.nanmedian(x), _with_nans(3, 4)),
    "nanmedian_dim": (lambda m, x: x.nanmedian(1), _with_nans(4, 5, seed=3)),
    "kthvalue": (lambda m, x: m.kthvalue(x, 2), _r(3, 5)),
    "kthvalue_dim0": (lambda m, x: x.kthvalue(4, 0, True), _r(4, 3)),
    "mode": (lambda m, x: m.mode(x), np.array([[1.0, 2.0, 2.0, 3.0, 3.0], [4.0, 1.0, 4.0, 0.5,
                                                                           0.5]])),
    "mode_dim0": (lambda m, x: x.mode(0), _r(3, 4)),
    "quantile": (lambda m, x: m.quantile(x, 0.3), _r(3, 5)),
    "quantile_dim": (lambda m, x: m.quantile(x, m.tensor([0.1, 0.5, 1.0]), dim=1), _r(3, 5)),
    "quantile_keepdim": (lambda m, x: x.quantile(m.tensor([0.25, 0.75]), dim=0, keepdim=True),
                         _r(4, 3)),
    "quantile_all_keepdim": (lambda m, x: m.quantile(x, 0.6, keepdim=True), _r(2, 3)),
    "quantile_nan": (lambda m, x: m.quantile(x, 0.4, dim=1), _with_nans(4, 5)),
    "nanquantile": (lambda m, x: m.nanquantile(x, m.tensor([0.2, 0.9]), dim=1),
                    _with_nans(4, 5, seed=3)),
    "quantile_lower": (lambda m, x: m.quantile(x, 0.3, 1, interpolation="lower"), _r(3, 5)),
    "quantile_higher": (lambda m, x: m.quantile(x, 0.3, 1, interpolation="higher"), _r(3, 5)),
    "quantile_midpoint": (lambda m, x: m.quantile(x, 0.3, 1, interpolation="midpoint"),
                          _r(3, 5)),
    "quantile_nearest": (lambda m, x: m.quantile(x, m.tensor([0.375, 0.625]), 1,
                                                 interpolation="nearest"), _r(3, 5)),
    "msort": (lambda m, x: m.msort(x), _r(4, 3)),
    "aminmax": (lambda m, x: m.aminmax(x), _r(3, 4)),
    "aminmax_dim": (lambda m, x: x.aminmax(dim=1, keepdim=True), _r(3, 4)),
    "nansum": (lambda m, x: m.nansum(x), _with_nans(3, 4)),
    "nansum_dim": (lambda m, x: x.nansum(1), _with_nans(3, 4)),
    "nanmean": (lambda m, x: m.nanmean(x), _with_nans(3, 4)),
    "nanmean_dim": (lambda m, x: x.nanmean(0, keepdim=True), _with_nans(3, 4)),
}
# gathers and interpolations recorded as PyTorch's nodes where symgrad has one
SAME_NAMES = {"median", "median_even", "median_dim", "median_dim_keepdim", "median_nan",
              "median_dim_nan", "nanmedian", "nanmedian_dim", "kthvalue", "kthvalue_dim0",
              "mode", "mode_dim0"}




@pytest.mark.parametrize("key", sorted(CASES))
def test_matches_pytorch(key, torch):
    f, data = CASES[key]
    compare(torch, f, [data], names=key in SAME_NAMES)


def test_indices_at_ties_match_pytorch_for_median_and_mode(torch):
    rng = np.random.default_rng(0)
    for _ in range(100):
        a = rng.integers(0, 4, (3, int(rng.integers(1, 8)))).astype(float)
        for name in ("median", "nanmedian", "mode"):
            got = getattr(sg, name)(T(a), 1)
            want = getattr(torch, name)(torch.tensor(a), 1)
            assert got.indices.tolist() == want.indices.tolist(), (name, a)
            assert got.values.tolist() == want.values.tolist(), (name, a)


# ---------------------------------------------------------------- conventions (no torch)
def test_full_median_shares_ties_evenly():
    x = T([2.0, 2.0, 2.0, 1.0], requires_grad=True)
    m = sg.median(x)
    assert m.item() == 2.0 and m.grad_fn.name() == "MedianBackward0"
    m.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 / 3, 1 / 3, 1 / 3, 0.0])
    z = T([1.0, 2.0, 2.0, 3.0], requires_grad=True)
    sg.median(z).backward()                # the lower median of an even count
    assert z.grad.tolist() == [0.0, 0.5, 0.5, 0.0]
    inf = float("inf")
    for data, grad in (([-inf, -inf, 1.0], [0.5, 0.5, 0.0]), ([inf, inf, -1.0], [0.5, 0.5, 0.0]),
                       ([-inf, 2.0, 5.0], [0.0, 1.0, 0.0])):
        w = T(data, requires_grad=True)
        sg.median(w).backward()
        assert w.grad.tolist() == grad, data


def test_median_with_nan_sends_the_gradient_to_the_nans():
    x = T([1.0, NAN, 3.0, NAN], requires_grad=True)
    m = sg.median(x)
    assert math.isnan(m.item())
    m.backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.0, 0.5]
    v, i = sg.median(T([[1.0, NAN, 3.0, 2.0]]), 1)
    assert math.isnan(v.item()) and i.tolist() == [1]
    assert sg.nanmedian(T([1.0, NAN, 3.0, 2.0])).item() == 2.0
    assert math.isnan(sg.nanmedian(T([NAN, NAN])).item())


def test_dim_forms_send_the_gradient_to_the_returned_index():
    x = T([[3.0, 1.0, 2.0, 1.0]], requires_grad=True)
    v, i = sg.kthvalue(x, 2, 1)
    assert v.tolist() == [1.0] and i.tolist() == [3]   # sorted stably: 1 (at 1), 1 (at 3)
    v.sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 0.0, 1.0]]
    v, i = sg.mode(T([[1.0, 2.0, 2.0, 1.0, 3.0]]), 1)
    assert v.tolist() == [1.0] and i.tolist() == [3]   # the smallest, last occurrence


def test_values_and_shapes():
    x = T([[1.0, 2.0, 3.0, 4.0]])
    assert sg.quantile(x, T([0.5, 0.1, 0.9]), 1).reshape(-1).tolist() == pytest.approx(
        [2.5, 1.3, 3.7])
    assert sg.quantile(x, 0.5, 1, interpolation="nearest").tolist() == [3.0]
    assert sg.quantile(T(3.0), 0.5).shape == ()
    assert sg.median(T(3.0), 0).values.item() == 3.0
    assert sg.nansum(T([1, 2])).dtype == sg.int64
    assert sg.nanmean(T([[NAN, 1.0], [2.0, NAN]]), 0).tolist() == [2.0, 1.0]
    assert sg.aminmax(T([[1.0, 2.0], [0.0, 5.0]]), dim=0).max.tolist() == [1.0, 5.0]
    assert math.isnan(sg.median(sg.ones(0)).item())
    assert sg.median(T([3, 1, 2])).tolist() == 2 and sg.median(T([3, 1, 2])).dtype == sg.int64
    assert sg.median(T([-(2 ** 63), 5, -(2 ** 63)])).item() == -(2 ** 63)


def test_errors():
    x = sg.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"range \[0, 1\]"):
        sg.quantile(x, 1.5)
    with pytest.raises(RuntimeError, match="float or double"):
        sg.quantile(T([1, 2]), 0.5)
    with pytest.raises(RuntimeError, match="non-empty"):
        sg.quantile(sg.ones(0), 0.5)
    with pytest.raises(RuntimeError, match="interpolation must be one of"):
        sg.quantile(x, 0.5, interpolation="foo")
    with pytest.raises(RuntimeError, match="out of range"):
        sg.kthvalue(sg.ones(3), 4)
    with pytest.raises(RuntimeError, match="floating point"):
        sg.nanmean(T([1, 2]))
    with pytest.raises(IndexError):
        sg.median(x, 2)


def test_verifier_agrees():
    x = T(_r(3, 4))
    for f in (lambda a: sg.median(a) * a.sum(), lambda a: sg.kthvalue(a, 2, 1).values.sum(),
              lambda a: sg.quantile(a, T([0.3, 0.8]), 1).sin().sum(),
              lambda a: sg.nanmean(a, 1).exp().sum()):
        rep = verify.check(f, x)
        assert rep.ok, rep.table()
