"""Parity with PyTorch for the cases a differential sweep of the newer ops found wrong
(special, order, cumulative, products, layout, discrete), and for the in-place forms, the
``symgrad.special`` namespace and the ``symgrad.linalg`` additions. Needs PyTorch (skipped
without it)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import symgrad as sg

torch = pytest.importorskip("torch")


def _pair(data, dtype=None, requires_grad=False):
    a = np.asarray(data) if dtype is None else np.asarray(data, dtype=dtype)
    return (sg.tensor(a.copy(), requires_grad=requires_grad),
            torch.tensor(a.copy(), requires_grad=requires_grad))


def _same(s, t, rtol=1e-6, atol=1e-7):
    assert tuple(s.shape) == tuple(t.shape)
    assert s.dtype.name == str(t.dtype).removeprefix("torch.")
    assert s.requires_grad == t.requires_grad
    np.testing.assert_allclose(s.detach().numpy().astype(np.float64),
                               t.detach().numpy().astype(np.float64), rtol=rtol, atol=atol)


# ---------------------------------------------------------------- special
@pytest.mark.parametrize("name", ["lgamma", "digamma", "erfinv", "deg2rad", "rad2deg"])
def test_bool_input_is_read_as_float(torch64, name):
    s, t = _pair([True, False])
    _same(getattr(sg, name)(s), getattr(torch, name)(t))


def test_polygamma_of_bool(torch64):
    s, t = _pair([True, True])
    _same(sg.polygamma(1, s), torch.polygamma(1, t))


@pytest.mark.parametrize("other", [2.5, -1.0, "tensor"])
def test_xlogy_x_gradient_at_zero(torch64, other):
    xs, xt = _pair([0.0, 0.0, 0.0, 1.0, 0.0], requires_grad=True)
    if other == "tensor":
        ys, yt = _pair([2.5, 0.0, -1.0, 2.0, math.nan])
    else:
        ys = yt = other
    sg.xlogy(xs, ys).sum().backward()
    torch.xlogy(xt, yt).sum().backward()
    np.testing.assert_array_equal(xs.grad.numpy(), xt.grad.numpy())


def test_xlogy_float32_tensor_and_number_stays_float32():
    s, t = _pair([0.0, 0.5, 2.0], np.float32, requires_grad=True)
    out_s, out_t = sg.xlogy(s, 2.5), torch.xlogy(t, 2.5)
    _same(out_s, out_t)
    out_s.sum().backward()
    out_t.sum().backward()
    assert s.grad.dtype == sg.float32
    np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-6)


# ---------------------------------------------------------------- order, cumulative
@pytest.mark.parametrize("name", ["median", "nanmedian"])
@pytest.mark.parametrize("shape", [(0,), (3, 0)])
def test_median_of_no_entries_is_nan_in_the_graph(torch64, name, shape):
    s, t = _pair(np.zeros(shape), requires_grad=True)
    out_s, out_t = getattr(sg, name)(s), getattr(torch, name)(t)
    _same(out_s, out_t)
    out_s.backward()
    assert s.grad.shape == s.shape


def test_kthvalue_of_an_empty_dim_raises_index_error():
    with pytest.raises(IndexError):
        torch.kthvalue(torch.zeros(0), 1)
    with pytest.raises(IndexError, match="non-zero size"):
        sg.kthvalue(sg.zeros(0), 1)


@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize("shape, dim", [((0,), 0), ((2, 0), 1), ((2, 0), 0)])
def test_cummax_cummin_of_empty_dims(torch64, name, shape, dim):
    s, t = _pair(np.zeros(shape))
    (vs, is_), (vt, it) = getattr(sg, name)(s, dim), getattr(torch, name)(t, dim)
    _same(vs, vt)
    assert is_.dtype == sg.int64 and tuple(is_.shape) == tuple(it.shape)


# ---------------------------------------------------------------- products
@pytest.mark.parametrize("shape", [(3, 3), (2, 2, 2)])
def test_matrix_power_zero_requires_grad(torch64, shape):
    data = np.random.default_rng(0).standard_normal(shape)
    s, t = _pair(data, requires_grad=True)
    out_s, out_t = sg.matrix_power(s, 0), torch.matrix_power(t, 0)
    _same(out_s, out_t)
    out_s.sum().backward()
    out_t.sum().backward()
    np.testing.assert_array_equal(s.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("sa, sb", [((0,), (0,)), ((2, 0), (3, 0))])
def test_inner_over_an_empty_dim(torch64, sa, sb):
    a_s, a_t = _pair(np.zeros(sa))
    b_s, b_t = _pair(np.zeros(sb))
    _same(sg.inner(a_s, b_s), torch.inner(a_t, b_t))


def test_cross_of_mixed_dtypes_raises():
    with pytest.raises(RuntimeError):
        torch.cross(torch.ones(3, dtype=torch.int64), torch.ones(3, dtype=torch.float64), dim=0)
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Double"):
        sg.cross(sg.ones(3, dtype=sg.int64), sg.ones(3, dtype=sg.float64), dim=0)


def test_cdist_without_pairs_and_p_zero(torch64):
    data = np.random.default_rng(1).standard_normal((3, 2))
    x_s, x_t = _pair(data, requires_grad=True)
    e_s, e_t = _pair(np.zeros((0, 2)))
    _same(sg.cdist(x_s, e_s, math.inf), torch.cdist(x_t, e_t, math.inf))
    y_s, y_t = _pair(np.round(data[::-1]), requires_grad=True)
    out_s, out_t = sg.cdist(x_s, y_s, 0), torch.cdist(x_t, y_t, 0)
    _same(out_s, out_t)
    out_s.sum().backward()
    out_t.sum().backward()
    np.testing.assert_array_equal(x_s.grad.numpy(), x_t.grad.numpy())


# ---------------------------------------------------------------- layout, discrete errors
@pytest.mark.parametrize("call", [
    lambda m: m.dstack([]),
    lambda m: m.column_stack([]),
    lambda m: m.cartesian_prod(m.ones(2, dtype=m.float32), m.ones(2, dtype=m.float64)),
    lambda m: m.histc(m.tensor([1.0, math.nan]), 3),
    lambda m: m.histc(m.tensor([1.0, math.inf]), 3),
    lambda m: m.rot90(m.ones(2, 3), 1, (0, -2)),
])
def test_runtime_errors_as_pytorch(call):
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError):
        call(sg)


@pytest.mark.parametrize("dims", [(0, 2), (-3, 0), (0, 5)])
def test_rot90_dims_out_of_range_raise_index_error(dims):
    with pytest.raises(IndexError):
        torch.rot90(torch.ones(2, 3), 1, dims)
    with pytest.raises(IndexError, match="Dimension out of range"):
        sg.rot90(sg.ones(2, 3), 1, dims)


@pytest.mark.parametrize("data", [[1.0, 2.0], [True, False]])
def test_bincount_of_non_integers_is_not_implemented(data):
    with pytest.raises(NotImplementedError):
        torch.bincount(torch.tensor(data))
    with pytest.raises(NotImplementedError, match="bincount_cpu"):
        sg.bincount(sg.tensor(data))


# ---------------------------------------------------------------- in-place forms
INPLACE = [("lgamma_", ()), ("digamma_", ()), ("polygamma_", (1,)), ("erfinv_", ()),
           ("xlogy_", (2.0,)), ("sinc_", ()), ("deg2rad_", ()), ("rad2deg_", ()),
           ("sgn_", ()), ("addmv_", ("M", "v")), ("float_power_", (2.0,))]


@pytest.mark.parametrize("name, extra", INPLACE)
def test_in_place_forms(torch64, name, extra):
    rng = np.random.default_rng(2)
    base, mat, vec = rng.uniform(0.1, 0.9, 3), rng.uniform(size=(3, 2)), rng.uniform(size=2)
    results = []
    for m in (sg, torch):
        x = m.tensor(base, requires_grad=True)
        y = x * 1
        args = [m.tensor(mat) if e == "M" else m.tensor(vec) if e == "v" else e for e in extra]
        r = getattr(y, name)(*args)
        assert r is y
        r.sum().backward()
        results.append((r.detach().numpy(), x.grad.numpy(force=True) if m is torch
                        else x.grad.numpy()))
    (vs, gs), (vt, gt) = results
    np.testing.assert_allclose(vs, vt, rtol=1e-8)
    # PyTorch's trigamma (the digamma_ / polygamma_ gradients) is good to ~1e-9 only
    np.testing.assert_allclose(gs, gt, rtol=1e-8, atol=1e-12)


def test_heaviside_in_place_and_module_level_forms(torch64):
    s = sg.tensor([-1.0, 0.0, 2.0])
    assert s.heaviside_(sg.tensor([0.5, 0.5, 0.5])).tolist() == [0.0, 0.5, 1.0]
    for name in ("xlogy_", "sinc_", "deg2rad_", "rad2deg_", "addmv_", "exp2_"):
        assert hasattr(torch, name) and callable(getattr(sg, name))
    assert sg.sinc_(sg.tensor([0.0])).tolist() == [1.0]


def test_float_power_in_place_needs_float64():
    with pytest.raises(RuntimeError):
        torch.ones(2, dtype=torch.float32).float_power_(2)
    with pytest.raises(RuntimeError, match="has dtype Float but .* requires dtype Double"):
        sg.ones(2, dtype=sg.float32).float_power_(2)


# ---------------------------------------------------------------- symgrad.special
SPECIAL = [("expit", ()), ("logit", ()), ("erf", ()), ("erfinv", ()), ("gammaln", ()),
           ("digamma", ()), ("psi", ()), ("sinc", ()), ("expm1", ()), ("exp2", ()),
           ("log1p", ()), ("round", ()), ("softmax", (1,)), ("log_softmax", (0,)),
           ("logsumexp", (1,)), ("logit", (0.2,))]


@pytest.mark.parametrize("name, extra", SPECIAL)
def test_special_namespace(torch64, name, extra):
    data = np.random.default_rng(3).uniform(0.05, 0.95, (2, 3))
    s, t = _pair(data, requires_grad=True)
    out_s, out_t = getattr(sg.special, name)(s, *extra), getattr(torch.special, name)(t, *extra)
    _same(out_s, out_t, rtol=1e-12, atol=1e-14)
    out_s.sum().backward()
    out_t.sum().backward()
    # PyTorch's trigamma (the digamma / psi gradients) is good to ~1e-9 only
    np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-8, atol=1e-14)


def test_special_two_argument_forms_and_errors(torch64):
    a_s, a_t = _pair([0.0, 1.5, 2.0])
    b_s, b_t = _pair([0.5, 2.0, 3.0])
    _same(sg.special.xlogy(a_s, b_s), torch.special.xlogy(a_t, b_t))
    _same(sg.special.polygamma(2, b_s), torch.special.polygamma(2, b_t))
    for m in (torch, sg):
        with pytest.raises(TypeError):
            m.special.gammaln(2.0)
        with pytest.raises(TypeError):
            m.special.xlogy(2, 3)
        with pytest.raises(NotImplementedError):
            m.special.round(m.tensor([1, 2]))


# ---------------------------------------------------------------- symgrad.linalg
def test_linalg_matrix_functions(torch64):
    data = np.random.default_rng(4).standard_normal((2, 3, 3)) + 3 * np.eye(3)
    s, t = _pair(data, requires_grad=True)
    for name, extra in (("det", ()), ("inv", ()), ("matrix_power", (-2,))):
        out_s = getattr(sg.linalg, name)(s, *extra)
        out_t = getattr(torch.linalg, name)(t, *extra)
        _same(out_s, out_t, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shapes", [[(3,), (3, 4), (4,)], [(2, 3), (3, 4), (4, 2)],
                                    [(3,), (3,)], [(2, 3), (3,)]])
def test_linalg_multi_dot(torch64, shapes):
    rng = np.random.default_rng(5)
    pairs = [_pair(rng.standard_normal(sh), requires_grad=True) for sh in shapes]
    out_s = sg.linalg.multi_dot([p[0] for p in pairs])
    out_t = torch.linalg.multi_dot([p[1] for p in pairs])
    _same(out_s, out_t, rtol=1e-12, atol=1e-12)
    out_s.sum().backward()
    out_t.sum().backward()
    for s, t in pairs:
        np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("tensors", [lambda m: [m.ones(2, 3)],
                                     lambda m: [m.ones(2, 3), m.ones(4, 2)],
                                     lambda m: [m.ones(2, 3), m.ones(3, 2, 2)]])
def test_linalg_multi_dot_errors(tensors):
    with pytest.raises(RuntimeError):
        torch.linalg.multi_dot(tensors(torch))
    with pytest.raises(RuntimeError, match="multi_dot"):
        sg.linalg.multi_dot(tensors(sg))


def test_linalg_vecdot_and_cross(torch64):
    rng = np.random.default_rng(6)
    a_s, a_t = _pair(rng.standard_normal((2, 3)), requires_grad=True)
    b_s, b_t = _pair(rng.standard_normal(3), requires_grad=True)
    _same(sg.linalg.vecdot(a_s, b_s), torch.linalg.vecdot(a_t, b_t), rtol=1e-12)
    _same(sg.linalg.vecdot(a_s, a_s, dim=0), torch.linalg.vecdot(a_t, a_t, dim=0), rtol=1e-12)
    c_s, c_t = _pair(rng.standard_normal((2, 3)))
    _same(sg.linalg.cross(a_s, c_s), torch.linalg.cross(a_t, c_t), rtol=1e-12)
    for m in (torch, sg):
        with pytest.raises(RuntimeError):
            m.linalg.vecdot(m.ones(3, dtype=m.int64), m.ones(3, dtype=m.int64))
        with pytest.raises(RuntimeError):
            m.linalg.vecdot(m.ones(3, dtype=m.float32), m.ones(3, dtype=m.float64))


# ---------------------------------------------------------------- grids
@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("dtype", ["float32", "uint8", "bool"])
def test_triangle_indices_of_other_dtypes_are_not_implemented(name, dtype):
    with pytest.raises(NotImplementedError):
        getattr(torch, name)(3, 3, dtype=getattr(torch, dtype))
    with pytest.raises(NotImplementedError, match=f'"{name}" not implemented'):
        getattr(sg, name)(3, 3, dtype=getattr(sg, "bool" if dtype == "bool" else dtype))
