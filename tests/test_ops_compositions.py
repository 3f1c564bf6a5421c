"""The functions composed of recorded ops: symgrad.ops.layout, .products and .calculus.
Their gradients are the proved rules of the ops they are made of; here: values, shapes,
dtypes, errors, the verifier on a few, and values and gradients against PyTorch."""

import warnings

import numpy as np
import pytest

import symgrad as sg
from symgrad import verify
from torch_parity import compare

T = sg.tensor


def _r(*shape, seed=0, lo=-2.0, hi=2.0):
    return np.random.default_rng(seed + 17 * len(shape)).uniform(lo, hi, shape)


def _first(x):
    return x[0] if isinstance(x, tuple) else x


# id -> (f(m, *tensors), input arrays); outputs and gradients are compared with PyTorch
CASES = {
    # layout
    "atleast_1d": (lambda m, x: m.atleast_1d(x) * 2, [_r()]),
    "atleast_2d": (lambda m, x, y: m.atleast_2d(x, y)[0] * m.atleast_2d([x, y])[1],
                   [_r(3), _r()]),
    "atleast_3d": (lambda m, x, y: m.atleast_3d(x) + m.atleast_3d(y)[..., :1],
                   [_r(2, 3), _r(3)]),
    "broadcast_tensors": (lambda m, x, y: m.stack(m.broadcast_tensors(x, y)),
                          [_r(2, 1), _r(3)]),
    "block_diag": (lambda m, x, y, z: m.block_diag(x, y, z, m.ones(0, 2)),
                   [_r(2, 2), _r(), _r(3)]),
    "diag_embed": (lambda m, x: m.diag_embed(x), [_r(2, 3)]),
    "diag_embed_offset": (lambda m, x: x.diag_embed(offset=-2, dim1=0, dim2=2), [_r(2, 3)]),
    "diagflat": (lambda m, x: m.diagflat(x, 1), [_r(2, 2)]),
    "rot90": (lambda m, x: m.rot90(x), [_r(2, 3)]),
    "rot90_k3": (lambda m, x: x.rot90(3, [2, 0]), [_r(2, 3, 2)]),
    "rot90_k2": (lambda m, x: m.rot90(x, -2, [0, 1]), [_r(2, 3)]),
    "take": (lambda m, x: m.take(x, m.tensor([[0, -1], [2, 2]])), [_r(2, 3)]),
    "dstack": (lambda m, x, y: m.dstack([x, y]), [_r(3), _r(3)]),
    "column_stack": (lambda m, x, y: m.column_stack([x, y]), [_r(3), _r(3, 2)]),
    "cartesian_prod": (lambda m, x, y: m.cartesian_prod(x, y), [_r(2), _r(3)]),
    "combinations": (lambda m, x: m.combinations(x, 2), [_r(4)]),
    "combinations_repl": (lambda m, x: m.combinations(x, 3, with_replacement=True), [_r(3)]),
    # products
    "kron": (lambda m, x, y: m.kron(x, y), [_r(2, 1, 3), _r(2, 2)]),
    "inner": (lambda m, x, y: m.inner(x, y), [_r(2, 3), _r(4, 3)]),
    "inner_scalar": (lambda m, x, y: x.inner(y), [_r(), _r(3)]),
    "tensordot": (lambda m, x, y: m.tensordot(x, y), [_r(2, 3, 4), _r(3, 4, 2)]),
    "tensordot_pairs": (lambda m, x, y: m.tensordot(x, y, dims=([1, 2], [1, 0])),
                        [_r(2, 3, 4), _r(4, 3, 2)]),
    "tensordot_0": (lambda m, x, y: m.tensordot(x, y, dims=0), [_r(2), _r(3)]),
    "vdot": (lambda m, x, y: m.vdot(x, y), [_r(3), _r(3)]),
    "cross": (lambda m, x, y: m.cross(x, y, dim=1), [_r(2, 3), _r(2, 3)]),
    "linalg_cross_broadcast": (lambda m, x, y: m.cross(x, y, dim=-1), [_r(2, 1, 3), _r(1, 4, 3)]),
    "addmv": (lambda m, b, a, v: m.addmv(b, a, v, beta=0.5, alpha=2.0), [_r(2), _r(2, 3), _r(3)]),
    "addr": (lambda m, b, u, v: b.addr(u, v, alpha=-1.0), [_r(2, 3), _r(2), _r(3)]),
    "addbmm": (lambda m, b, x, y: m.addbmm(b, x, y), [_r(2, 2), _r(3, 2, 4), _r(3, 4, 2)]),
    "baddbmm": (lambda m, b, x, y: m.baddbmm(b, x, y, beta=2.0), [_r(2), _r(3, 2, 4), _r(3, 4, 2)]),
    "beta_zero_drops_nan": (lambda m, b, a, v: m.addmv(b * np.nan, a, v, beta=0),
                            [_r(2), _r(2, 3), _r(3)]),
    "matrix_power": (lambda m, x: m.matrix_power(x, 5), [_r(2, 3, 3) / 2]),
    "matrix_power_0": (lambda m, x: m.matrix_power(x, 0) + x, [_r(3, 3)]),
    "cdist": (lambda m, x, y: m.cdist(x, y), [_r(3, 2), _r(4, 2)]),
    "cdist_p1_batched": (lambda m, x, y: m.cdist(x, y, p=1), [_r(2, 3, 2), _r(4, 2)]),
    "cdist_p3": (lambda m, x, y: m.cdist(x, y, p=3.0), [_r(3, 2), _r(4, 2)]),
    "cdist_inf": (lambda m, x, y: m.cdist(x, y, p=float("inf")), [_r(3, 2), _r(4, 2)]),
    "dist": (lambda m, x, y: m.dist(x, y), [_r(2, 3), _r(3)]),
    "dist_p3": (lambda m, x, y: x.dist(y, 3), [_r(2, 3), _r(3)]),
    # calculus
    "diff": (lambda m, x: m.diff(x), [_r(2, 4)]),
    "diff_n2_dim0": (lambda m, x, p, a: x.diff(2, 0, prepend=p, append=a),
                     [_r(3, 2), _r(1, 2), _r(2, 2)]),
    "trapezoid": (lambda m, y: m.trapezoid(y), [_r(2, 4)]),
    "trapezoid_x": (lambda m, y, x: m.trapezoid(y, x, dim=0), [_r(4, 2), _r(4)]),
    "trapezoid_full_x": (lambda m, y, x: m.trapezoid(y, x), [_r(2, 4), _r(2, 4)]),
    "trapezoid_dx": (lambda m, y: m.trapezoid(y, dx=0.5), [_r(2, 4)]),
    "trapz": (lambda m, y, x: m.trapz(y, x), [_r(2, 4), _r(4)]),
    "cumulative_trapezoid": (lambda m, y, x: m.cumulative_trapezoid(y, x), [_r(2, 4), _r(4)]),
    "cumulative_trapezoid_dx": (lambda m, y: m.cumulative_trapezoid(y, dx=2.0, dim=0),
                                [_r(3, 2)]),
}




@pytest.mark.parametrize("key", sorted(CASES))
def test_values_and_gradients_match_pytorch(key, torch):
    f, datas = CASES[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(torch, lambda m, *xs: _first(f(m, *xs)), datas, names=False)


@pytest.mark.parametrize("key", ["kron", "cross", "cdist", "rot90_k3", "diag_embed_offset",
                                 "trapezoid_x", "tensordot_pairs", "matrix_power",
                                 "combinations_repl", "block_diag"])
def test_verifier_agrees(key):
    f, datas = CASES[key]
    rep = verify.check(lambda *xs: _first(f(sg, *xs)).sin().sum(), *[T(d) for d in datas])
    assert rep.ok, rep.table()


# ---------------------------------------------------------------- values without PyTorch
def test_small_values():
    x = sg.arange(6.).reshape(2, 3)
    assert sg.rot90(x).tolist() == [[2.0, 5.0], [1.0, 4.0], [0.0, 3.0]]
    assert sg.rot90(x, -1, [1, 0]).tolist() == [[2.0, 5.0], [1.0, 4.0], [0.0, 3.0]]
    assert sg.kron(T([[1, 2]]), T([[1], [10]])).tolist() == [[1, 2], [10, 20]]
    assert sg.take(x, T([0, -1])).tolist() == [0.0, 5.0]
    assert sg.diff(T([True, False, False])).tolist() == [True, False]
    assert sg.diff(x, n=5).shape == (2, 0)
    assert sg.trapezoid(T([1, 2, 3])).item() == 4.0
    assert sg.trapezoid(T([[1.0, 2, 4]]), T([0.0, 1, 3])).tolist() == [7.5]
    assert sg.cumulative_trapezoid(T([1.0, 2, 4]), dx=2.0).tolist() == [3.0, 9.0]
    assert sg.cross(T([1.0, 0, 0]), T([0.0, 1, 0]), dim=0).tolist() == [0.0, 0.0, 1.0]
    assert sg.block_diag(T([[1]]), T(2.0)).tolist() == [[1.0, 0.0], [0.0, 2.0]]
    assert sg.diag_embed(T([1, 2])).tolist() == [[1, 0], [0, 2]]
    assert sg.combinations(T([1.0, 2.0, 3.0])).tolist() == [[1, 2], [1, 3], [2, 3]]
    assert sg.combinations(T([1.0, 2.0]), 3).shape == (0, 3)
    assert sg.cartesian_prod(T([1, 2]), T([3, 4])).tolist() == [[1, 3], [1, 4], [2, 3], [2, 4]]
    assert sg.atleast_3d(T([1.0, 2.0])).shape == (1, 2, 1)
    assert sg.broadcast_shapes((2, 1), (3,)) == (2, 3)
    assert sg.dist(T([1.0, 1.0]), T([0.0, 1.0]), 0).item() == 1.0
    assert sg.matrix_power(T([[2.0]]), 0).tolist() == [[1.0]]


def test_gradients_without_pytorch():
    a = T([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    sg.matrix_power(a, 2).sum().backward()   # d sum(A^2) = 1 A^T + A^T 1
    assert a.grad.tolist() == [[7.0, 11.0], [9.0, 13.0]]
    x = T([0.0, 0.0], requires_grad=True)
    sg.cdist(x.reshape(1, 2), T([[0.0, 0.0]])).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]     # coincident points: 0, as PyTorch


def test_errors():
    x = sg.ones(2, 3)
    with pytest.raises(RuntimeError, match="rotation dims to be different"):
        sg.rot90(x, 1, [0, 0])
    with pytest.raises(RuntimeError, match="total rotation dims == 2"):
        sg.rot90(x, 1, [0])
    with pytest.raises(IndexError, match="out of range"):
        sg.take(x, T([6]))
    with pytest.raises(RuntimeError, match="last dimension must match"):
        sg.inner(x, sg.ones(2))
    with pytest.raises(RuntimeError, match="must have length 3"):
        sg.cross(sg.ones(2), sg.ones(2), dim=0)
    with pytest.raises(RuntimeError, match="1D tensors expected"):
        sg.vdot(x, sg.ones(3))
    with pytest.raises(RuntimeError, match="same dimension as input"):
        sg.diff(x, prepend=sg.zeros(3))
    with pytest.raises(RuntimeError, match="non-negative"):
        sg.diff(x, n=-1)
    with pytest.raises(RuntimeError, match="one `x` value for each sample"):
        sg.trapezoid(x, T([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="square matrices"):
        sg.matrix_power(x, 2)
    with pytest.raises(RuntimeError, match="same number of columns"):
        sg.cdist(x, sg.ones(2, 2))
    with pytest.raises(RuntimeError, match="2 or fewer dimensions"):
        sg.block_diag(sg.ones(1, 1, 1))
    with pytest.raises(RuntimeError, match="1D vector"):
        sg.combinations(x)
    with pytest.warns(UserWarning, match="deprecated"):
        sg.chain_matmul(x, sg.ones(3, 2))
    with pytest.warns(UserWarning, match="without specifying the dim"):
        sg.cross(sg.ones(3, 2), sg.ones(3, 2))


def test_methods_and_functions():
    x = sg.ones(2, 2)
    for name in ("kron", "inner", "vdot", "cross", "addmv", "addr", "addbmm", "baddbmm",
                 "matrix_power", "dist", "diag_embed", "diagflat", "rot90", "take", "diff"):
        assert callable(getattr(x, name)) and callable(getattr(sg, name))
    for name in ("tensordot", "chain_matmul", "cdist", "trapezoid", "dstack", "block_diag"):
        assert callable(getattr(sg, name)) and not hasattr(x, name)
