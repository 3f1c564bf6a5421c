"""symgrad.* functions and Tensor methods against PyTorch, from the parity sweep
(scripts/torch_sweep.py): a compact grid of dtypes and shapes for common functions
(values, result dtype, shape, node name, gradients), and the cases the sweep found
different: Python numbers where PyTorch requires a Tensor, in-place operators that
rebound instead of writing, dtypes of mixed-type calls, signs of zero, and a few values.
"""

import itertools
import operator

import numpy as np
import pytest

import symgrad as sg
from torch_parity import program_outcome

DTYPES = ("float64", "float32", "int64", "int32", "bool")


def _data(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    if dtype.startswith("float"):
        return rng.standard_normal(shape).astype(dtype)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    return rng.integers(-5, 6, shape).astype(dtype)


def _outcome(m, f, specs):
    """``f(m, *tensors)`` on fresh leaves (floats require grad): a description to compare,
    or the type of the error raised."""
    leaves = [m.tensor(_data(d, s, i), dtype=getattr(m, d), requires_grad=d[0] == "f")
              for i, (d, s) in enumerate(specs)]
    try:
        r = f(m, *leaves)
    except Exception as e:  # noqa: BLE001 - the outcome is the error's type
        return type(e).__name__
    name = None if r.grad_fn is None else r.grad_fn.name()
    # PyTorch records ``//`` but cannot differentiate it; symgrad records no node: the same,
    # no gradient either way
    if name is not None and name.endswith("NotImplemented"):
        name = None
    out = {"dtype": str(r.dtype).split(".")[-1], "shape": tuple(r.shape),
           "value": r.detach().numpy(), "grad_fn": name}
    if name is not None and r.dtype.is_floating_point:
        ct = np.random.default_rng(7).standard_normal(tuple(r.shape))
        wrt = [t for t in leaves if t.requires_grad]
        gs = m.autograd.grad(r, wrt, m.tensor(ct, dtype=r.dtype), allow_unused=True)
        out["grads"] = [None if g is None else g.numpy() for g in gs]
    return out


def _same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, str):
        assert a == b
        return
    for k in ("dtype", "shape", "grad_fn"):
        assert a[k] == b[k], (k, a[k], b[k])
    tol = 1e-5 if b["dtype"] in ("float32",) else 1e-12
    np.testing.assert_allclose(a["value"].astype(float), b["value"].astype(float), rtol=tol,
                               atol=tol)
    assert np.array_equal(np.signbit(a["value"]), np.signbit(b["value"]))
    assert (a.get("grads") is None) == (b.get("grads") is None)
    for x, y in zip(a.get("grads") or (), b.get("grads") or ()):
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


UNARY = {
    "exp": lambda m, x: m.exp(x), "sin": lambda m, x: x.sin(), "abs": lambda m, x: abs(x),
    "neg": lambda m, x: -x, "floor": lambda m, x: m.floor(x), "sign": lambda m, x: x.sign(),
    "sigmoid": lambda m, x: m.sigmoid(x), "sum": lambda m, x: x.sum(),
    "sum_dim": lambda m, x: x.sum(-1, keepdim=True), "mean": lambda m, x: m.mean(x),
    "amax": lambda m, x: x.amax(dim=(0, -1)), "prod": lambda m, x: m.prod(x),
    "invert": lambda m, x: ~x, "logical_not": lambda m, x: m.logical_not(x),
    "hardshrink": lambda m, x: m.hardshrink(x),
}
BINARY = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow, "&": operator.and_,
    "|": operator.or_, "^": operator.xor, "<": operator.lt, "==": operator.eq,
    "<<": operator.lshift, ">>": operator.rshift,
}
SHAPES1 = [(), (2, 3), (0, 3)]
SHAPES2 = [((2, 3), (3,)), ((), (2, 3))]


@pytest.mark.parametrize("name,dtype,shape", [
    (n, d, s) for n, d, s in itertools.product(UNARY, DTYPES, SHAPES1)
    if not (n in ("amax",) and s == ())])
def test_unary_grid_matches_torch(torch, name, dtype, shape):
    f = UNARY[name]
    _same(_outcome(sg, f, [(dtype, shape)]), _outcome(torch, f, [(dtype, shape)]))


DTYPE_PAIRS = [("float64", "float64"), ("float32", "int64"), ("int32", "int64"),
               ("bool", "int32"), ("float32", "float64"), ("bool", "bool"), ("int64", "float64")]


@pytest.mark.parametrize("name,d1,d2,shapes", [
    (n, d1, d2, s) for n, (d1, d2), s in itertools.product(BINARY, DTYPE_PAIRS, SHAPES2)])
def test_binary_operator_grid_matches_torch(torch, name, d1, d2, shapes):
    f = lambda m, x, y: BINARY[name](x, y)  # noqa: E731
    specs = [(d1, shapes[0]), (d2, shapes[1])]   # (an integer divisor 0: both raise)
    _same(_outcome(sg, f, specs), _outcome(torch, f, specs))


# ---------------------------------------------------------------- a number as ``input``
NUMBER_INPUT = [
    "abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "exp2",
    "expm1", "floor", "frac", "log", "log10", "log1p", "log2", "neg", "negative",
    "positive", "reciprocal", "relu", "round", "rsqrt", "sigmoid", "sign", "sin", "sinc",
    "sinh", "sqrt", "tan", "tanh", "trunc", "logical_not", "isnan", "isinf", "isfinite",
    "isposinf", "isneginf", "signbit", "sgn", "all", "any", "count_nonzero", "nansum",
    "nanmean", "frexp", "nan_to_num", "logit", "fix", "sort", "argsort", "conj", "is_neg",
    "resolve_conj", "nonzero", "unique", "histc", "sin_", "exp_",
    "flatten", "t", "squeeze", "i0", "cov", "corrcoef",
]
NUMBER_FIRST = [
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "less_equal", "not_equal", "maximum",
    "minimum", "atan2", "arctan2", "fmod", "logaddexp", "logical_and", "logical_or",
    "logical_xor", "copysign", "nextafter", "kron", "inner", "dist", "isclose", "equal",
]


@pytest.mark.parametrize("name", NUMBER_INPUT)
def test_a_number_as_input_is_a_type_error(torch, name):
    with pytest.raises(TypeError):
        getattr(torch, name)(2.0)
    with pytest.raises(TypeError, match="must be Tensor, not float"):
        getattr(sg, name)(2.0)
    getattr(sg, name)(sg.tensor([2.0, 3.0]))   # a tensor still works


@pytest.mark.parametrize("name", NUMBER_FIRST)
def test_a_number_first_in_a_binary_function_is_a_type_error(torch, name):
    with pytest.raises(TypeError):
        getattr(torch, name)(2.0, torch.tensor([1.0, 3.0]))
    with pytest.raises(TypeError, match="must be Tensor"):
        getattr(sg, name)(2.0, sg.tensor([1.0, 3.0]))


OTHER_TENSOR = ["atan2", "fmax", "fmin", "logaddexp", "logaddexp2", "logical_and",
                "logical_or", "logical_xor", "kron", "inner", "dist", "isclose", "allclose",
                "equal", "is_same_size"]


@pytest.mark.parametrize("name", OTHER_TENSOR)
def test_a_number_as_other_is_a_type_error_where_torch_wants_a_tensor(torch, name):
    with pytest.raises(TypeError):
        getattr(torch, name)(torch.tensor([1.0, 3.0]), 2)
    with pytest.raises(TypeError, match="argument 'other' \\(position 2\\) must be Tensor"):
        getattr(sg, name)(sg.tensor([1.0, 3.0]), 2)


def test_isclose_wants_one_dtype(torch):
    for m in (torch, sg):
        with pytest.raises(RuntimeError, match="Double did not match Float"):
            m.isclose(m.ones(2), m.ones(2, dtype=m.float32))


def test_diff_of_order_0_is_a_copy(torch):
    for m in (torch, sg):
        x = m.ones(3)
        r = m.diff(x, n=0)
        r.add_(1)
        assert x.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("name", ["broadcast_tensors", "block_diag", "meshgrid", "atleast_1d",
                                  "atleast_2d"])
def test_a_number_among_tensors_is_a_type_error(torch, name):
    with pytest.raises(TypeError):
        getattr(torch, name)(torch.ones(2), 2.0)
    with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 0"):
        getattr(sg, name)(sg.ones(2), 2.0)


@pytest.mark.parametrize("name", ["remainder", "xlogy", "bitwise_left_shift"])
def test_two_numbers_are_a_type_error_one_is_not(torch, name):
    for m in (torch, sg):
        with pytest.raises(TypeError):
            getattr(m, name)(2, 3)
        assert getattr(m, name)(2, m.tensor([3, 1])).tolist() == getattr(torch, name)(
            2, torch.tensor([3, 1])).tolist()


def test_clamp_of_a_number_is_a_type_error(torch):
    for m in (torch, sg):
        for call in (lambda: m.clamp(2.0, 0, 1), lambda: m.clamp_min(2.0, 0),
                     lambda: m.clamp_max(2.0, 1)):
            with pytest.raises(TypeError):
                call()


def test_rules_with_constant_inputs_still_differentiate_twice():
    """A rule may apply a function to a number (``xp.log(2)`` for ``2 ** a``):
    create_graph runs it on a constant tensor."""
    a = sg.tensor([0.4, -1.1], requires_grad=True)
    (g,) = sg.autograd.grad((2 ** a).sum(), a, create_graph=True)
    (h,) = sg.autograd.grad(g.sum(), a)
    np.testing.assert_allclose(h.numpy(), 2 ** a.detach().numpy() * np.log(2) ** 2)


# ---------------------------------------------------------------- in-place operators
@pytest.mark.parametrize("op,dtype", [
    ("//=", "float32"), ("%=", "float32"), ("//=", "int32"), ("%=", "int64"),
    ("<<=", "int32"), (">>=", "int64")])
def test_augmented_assignment_writes_in_place(torch, op, dtype):
    fn = {"//=": operator.ifloordiv, "%=": operator.imod, "<<=": operator.ilshift,
          ">>=": operator.irshift}[op]
    if op in ("<<=", ">>="):
        other = [2, 3, 1]
    else:
        other = [2, 3, -4] if dtype[0] == "i" else [2.0, 3.0, -4.0]

    def run(m):
        x = before = m.tensor([5, -7, 9], dtype=getattr(m, dtype))
        x = fn(x, m.tensor(other))
        return x is before, str(x.dtype).split(".")[-1], x.tolist()

    assert run(sg) == run(torch)
    assert run(sg)[0]


@pytest.mark.parametrize("expr", [
    "m.tensor([1, -8], dtype=m.int32) << 2", "m.tensor([1, -8], dtype=m.int32) >> 1",
    "2 << m.tensor([1, 2], dtype=m.int32)", "m.tensor([True]) << 1",
    "m.bitwise_left_shift(m.tensor([1, 2], dtype=m.int32), m.tensor(2))",
    "m.tensor([True, False]) << m.tensor([True, True])",
    "m.gcd(m.tensor([4, 6], dtype=m.int32), m.tensor(4))",
    "m.lcm(m.tensor([4, 6], dtype=m.int32), m.tensor(4))",
    "m.ldexp(m.tensor([1.0, 2.0], dtype=m.float32), m.tensor([1, 2]))",
    "m.ldexp(m.tensor([1, 2]), m.tensor([1.0, 2.0], dtype=m.float32))",
    "m.nextafter(m.tensor([1.0, 2.0], dtype=m.float32), m.tensor([2, 1]))",
    "m.igamma(m.tensor([1, 2]), m.tensor([1.0, 2.0], dtype=m.float32))",
    "m.fill(m.tensor([1, 2, 3]), -1.5)",
    "m.fill(m.ones(2, dtype=m.float32), m.tensor(2.0))",
    "m.ones(2, 3, dtype=m.bool).repeat(1, 1)", "m.tile(m.tensor([True, False]), (2,))",
    "m.tensor([3.0, -3.0, 0.0, -0.0, 2.0]) % -1.5", "m.tensor([3, -3, 0, 2]) % -1.5",
    "m.hardshrink(m.tensor([-0.3, 0.2, 0.7]))",
    "m.ones(2, 3).sum(m.tensor(1))", "m.ones(2, 3).amax(m.tensor(0))",
    "m.where(m.tensor(True))[0]", "m.where(m.tensor([0.0, 2.0]))[0]",
    "m.gcd(m.tensor([4, 6]), m.tensor([True, False]))", "m.repeat_interleave(m.tensor([1, 2]))",
    "m.repeat_interleave(m.tensor([1, 2], dtype=m.int32))", "m.unique_consecutive(m.ones(0))",
    "m.unique_consecutive(m.ones(0, 3), dim=0)",
    "m.copysign(m.tensor([True, False]), m.tensor([-1.0, 2.0], dtype=m.float32))",
    "m.ones(2, 3).tile(2, 1)", "m.ones(2, 3).tile((1, 2))",
    "m.block_diag(m.ones(2, dtype=m.float32), m.tensor(2.0))",
    "m.block_diag(m.tensor(2.0), m.ones(2, dtype=m.float32))",
    "m.trapezoid(m.tensor([1, 2]), m.tensor([1.0, 3.0], dtype=m.float32))",
    "m.cumulative_trapezoid(m.tensor([1, 2, 4]), m.tensor([1.0, 3.0, 4.0], dtype=m.float32))",
])
def test_values_and_dtypes_match_torch(torch, expr):
    a = program_outcome(sg, f"out = {expr}")
    b = program_outcome(torch, f"out = {expr}")
    if isinstance(b, str):   # PyTorch raised: the same error type
        assert a == b
        return
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
    np.testing.assert_allclose(a.numpy().astype(float), b.numpy().astype(float), rtol=1e-6)
    assert np.array_equal(np.signbit(a.numpy()), np.signbit(b.numpy()))


def test_fill_node_names_match_torch(torch):
    def names(m):
        a = m.tensor([1.0, 2.0], requires_grad=True)
        return (m.fill(a, 2).grad_fn.name(), m.fill(a, m.tensor(2.0)).grad_fn.name(),
                a.clone().fill_(2).grad_fn.name(), a.clone().fill_(m.tensor(1.0)).grad_fn.name())

    assert names(sg) == names(torch)


def test_broadcast_tensors_returns_a_tensor_already_at_the_shape(torch):
    for m in (torch, sg):
        a, b = m.ones(2, 3), m.ones(3)
        r = m.broadcast_tensors(a, b)
        assert r[0] is a and r[1] is not b and tuple(r[1].shape) == (2, 3)


def test_a_missing_derivative_raises_at_backward_as_torch(torch):
    """igamma has no derivative in ``input``: the forward runs, backward raises."""
    for m in (torch, sg):
        a = m.tensor([1.0, 2.0], requires_grad=True)
        r = m.igamma(a, m.tensor([1.0, 2.0]))
        assert r.requires_grad
        with pytest.raises(NotImplementedError, match="the derivative for 'igamma"):
            r.sum().backward()


@pytest.mark.parametrize("case", ["nextafter", "frexp", "ldexp", "copysign", "copysign_number"])
def test_nextafter_frexp_ldexp_differentiate_as_torch(torch, case):
    from torch_parity import compare

    x = [1.0, -2.0, 3.0, 0.1]
    if case == "nextafter":
        compare(torch, lambda m, a, b: m.nextafter(a, b), [x, [2.0, -3.0, 3.0, 0.0]])
    elif case == "ldexp":
        compare(torch, lambda m, a, b: m.ldexp(a, b), [x, [2.0, -3.0, 0.5, 0.0]])
    elif case == "copysign":
        compare(torch, lambda m, a, b: m.copysign(a, b), [[1.0, -2.0, 0.0, -0.0],
                                                         [-1.0, 2.0, -3.0, 4.0]])
    elif case == "copysign_number":
        compare(torch, lambda m, a: m.copysign(a, -2.0), [[1.0, -2.0, 0.0, -0.0]])
    else:
        compare(torch, lambda m, a: m.frexp(a).mantissa, [x])
    for m in (torch, sg):   # nextafter of infinities and nan: numpy's values, as PyTorch's
        r = m.nextafter(m.tensor([np.inf, -np.inf, np.nan]), m.tensor([0.0, 0.0, 1.0]))
        assert np.array_equal(r.numpy(), [np.finfo(float).max, -np.finfo(float).max, np.nan],
                              equal_nan=True)


def test_igamma_of_two_integer_tensors_has_no_kernel(torch):
    for m in (torch, sg):
        with pytest.raises(NotImplementedError, match="igamma_cpu"):
            m.igamma(m.tensor([1, 2]), m.tensor([1, 2]))


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_inverse_and_solve_read_one_triangle(torch, upper):
    a = np.random.default_rng(3).standard_normal((3, 3)) + 3 * np.eye(3)
    b = np.random.default_rng(4).standard_normal((3, 2))
    for f in (lambda m: m.cholesky_inverse(m.tensor(a), upper=upper),
              lambda m: m.cholesky_solve(m.tensor(b), m.tensor(a), upper=upper)):
        np.testing.assert_allclose(f(sg).numpy(), f(torch).numpy(), rtol=1e-10, atol=1e-10)


def test_take_with_a_0d_index_is_a_copy():
    x = sg.arange(6.0).reshape(2, 3)
    r = sg.take(x, sg.tensor(4))
    assert r.shape == () and r.item() == 4.0 and r._base is not x
    r.add_(1)
    assert x[1, 1].item() == 4.0
