"""Bad input raises PyTorch's exception type (never numpy's, never a quiet answer).

Each case is a program over a module ``m`` (symgrad or torch) and its ``F``
(nn.functional), with the type PyTorch raises. The type is compared exactly:
NotImplementedError is a RuntimeError, and numpy's UFuncTypeError a TypeError, so
``pytest.raises`` alone would let a wrong one through.
"""

import math
import warnings

import numpy as np
import pytest

import symgrad as sg
from symgrad.nn import functional as SF


def _mse_shapes(m, F):
    return F.mse_loss(m.ones(2, 3), m.ones(4, 5))


CASES = [
    # numpy's exceptions used to escape
    ("mse_loss_shapes", _mse_shapes, RuntimeError),
    ("mse_loss_shapes_none", lambda m, F: F.mse_loss(m.ones(2, 3), m.ones(4, 5),
                                                     reduction="none"), RuntimeError),
    ("l1_loss_shapes", lambda m, F: F.l1_loss(m.ones(2, 3), m.ones(4, 5)), RuntimeError),
    ("smooth_l1_shapes", lambda m, F: F.smooth_l1_loss(m.ones(2, 3), m.ones(4, 5)),
     RuntimeError),
    ("huber_shapes", lambda m, F: F.huber_loss(m.ones(2, 3), m.ones(4, 5)), RuntimeError),
    ("neg_bool", lambda m, F: -m.tensor([True, False]), RuntimeError),
    ("neg_bool_0d", lambda m, F: m.neg(m.tensor(True)), RuntimeError),
    ("sub_bools", lambda m, F: m.tensor([True]) - m.tensor([False]), RuntimeError),
    ("sub_bool_python_bool", lambda m, F: m.sub(m.tensor([True]), True), RuntimeError),
    ("sub_float_bool", lambda m, F: m.tensor([1.0]) - m.tensor([True]), RuntimeError),
    ("sub_bool_int", lambda m, F: m.tensor([True]) - 1, RuntimeError),
    ("rsub_int_bool", lambda m, F: 1 - m.tensor([True]), RuntimeError),
    ("sum_duplicate_dims", lambda m, F: m.ones(2, 3).sum(dim=(1, -1)), RuntimeError),
    ("amax_duplicate_dims", lambda m, F: m.ones(2, 3).amax(dim=(0, 0)), RuntimeError),
    ("linspace_negative_steps", lambda m, F: m.linspace(0, 1, -1), RuntimeError),
    ("tensor_none", lambda m, F: m.tensor(None), RuntimeError),
    ("tensor_nested_none", lambda m, F: m.tensor([[1], [None]]), RuntimeError),
    ("tensor_none_with_dtype", lambda m, F: m.tensor([None], dtype=m.float32), TypeError),
    # index_select: PyTorch's dim-1 kernel of a contiguous tensor raises a RuntimeError,
    # the general one an IndexError
    ("index_select_1d", lambda m, F: m.zeros(3).index_select(0, m.tensor([5])), IndexError),
    ("index_select_dim0", lambda m, F: m.zeros(2, 3).index_select(0, m.tensor([2])),
     IndexError),
    ("index_select_dim1", lambda m, F: m.zeros(2, 3).index_select(1, m.tensor([3])),
     RuntimeError),
    ("index_select_dim1_negative", lambda m, F: m.zeros(2, 3).index_select(
        1, m.tensor([-1])), RuntimeError),
    ("index_select_dim2", lambda m, F: m.zeros(2, 3, 4).index_select(2, m.tensor([4])),
     IndexError),
    ("gather_negative", lambda m, F: m.zeros(3).gather(0, m.tensor([-1])), RuntimeError),
    # integer division and remainder by zero
    ("floordiv_zero", lambda m, F: m.tensor([5]) // 0, RuntimeError),
    ("floordiv_zero_tensor", lambda m, F: m.tensor([5, 6]) // m.tensor([1, 0]), RuntimeError),
    ("rfloordiv_zero", lambda m, F: 5 // m.tensor([0]), RuntimeError),
    ("remainder_zero", lambda m, F: m.tensor([5]) % 0, RuntimeError),
    ("remainder_false", lambda m, F: m.tensor([5]) % False, RuntimeError),
    ("rremainder_zero", lambda m, F: 5 % m.tensor([0]), RuntimeError),
    ("fmod_zero", lambda m, F: m.fmod(m.tensor([5]), 0), RuntimeError),
    ("fmod_zero_tensor", lambda m, F: m.fmod(m.tensor([5]), m.tensor([0])), RuntimeError),
    ("uint8_floordiv_zero", lambda m, F: m.tensor([5], dtype=m.uint8) // 0, RuntimeError),
    ("div_trunc_zero", lambda m, F: m.div(m.tensor([5]), 0, rounding_mode="trunc"),
     RuntimeError),
    ("div_floor_zero", lambda m, F: m.div(m.tensor([5]), 0, rounding_mode="floor"),
     RuntimeError),
    ("floordiv_bools", lambda m, F: m.tensor([True]) // m.tensor([True]), NotImplementedError),
    ("remainder_bools", lambda m, F: m.tensor([True]) % m.tensor([True]), NotImplementedError),
    ("fmod_bools", lambda m, F: m.fmod(m.tensor([True]), m.tensor([True])),
     NotImplementedError),
    ("div_trunc_bools", lambda m, F: m.div(m.tensor([True]), m.tensor([True]),
                                           rounding_mode="trunc"), NotImplementedError),
    # dtypes PyTorch has no kernel for
    ("abs_bool", lambda m, F: m.abs(m.tensor([True])), NotImplementedError),
    ("abs_builtin_bool", lambda m, F: abs(m.tensor([True])), NotImplementedError),
    ("floor_bool", lambda m, F: m.floor(m.tensor([True])), NotImplementedError),
    ("ceil_bool", lambda m, F: m.ceil(m.tensor([True])), NotImplementedError),
    ("trunc_bool", lambda m, F: m.trunc(m.tensor([True])), NotImplementedError),
    ("round_bool", lambda m, F: m.round(m.tensor([True])), NotImplementedError),
    ("round_decimals_bool", lambda m, F: m.round(m.tensor([True]), decimals=1),
     NotImplementedError),
    ("relu_bool", lambda m, F: m.relu(m.tensor([True])), RuntimeError),
    ("F_relu_bool", lambda m, F: F.relu(m.tensor([True])), RuntimeError),
    ("matmul_bool", lambda m, F: m.tensor([[True]]) @ m.tensor([[True]]), NotImplementedError),
    ("mv_bool", lambda m, F: m.mv(m.ones(2, 3, dtype=m.bool), m.ones(3, dtype=m.bool)),
     NotImplementedError),
    ("dot_bool", lambda m, F: m.dot(m.tensor([True]), m.tensor([True])), NotImplementedError),
    ("bmm_bool", lambda m, F: m.bmm(m.ones(2, 1, 1, dtype=m.bool), m.ones(2, 1, 1,
                                                                          dtype=m.bool)),
     NotImplementedError),
    ("addmm_bool", lambda m, F: m.addmm(m.ones(2, 2, dtype=m.bool), m.ones(2, 3, dtype=m.bool),
                                        m.ones(3, 2, dtype=m.bool)), NotImplementedError),
    ("linear_bool", lambda m, F: F.linear(m.ones(2, 3, dtype=m.bool), m.ones(4, 3, dtype=m.bool)),
     NotImplementedError),
    ("gelu_long", lambda m, F: F.gelu(m.tensor([1, 2])), NotImplementedError),
    ("gelu_tanh_bool", lambda m, F: F.gelu(m.tensor([True]), approximate="tanh"),
     NotImplementedError),
    ("silu_long", lambda m, F: F.silu(m.tensor([1, 2])), NotImplementedError),
    ("silu_long_inplace", lambda m, F: F.silu(m.tensor([1, 2]), inplace=True),
     NotImplementedError),
    ("elu_int32", lambda m, F: F.elu(m.tensor([1], dtype=m.int32)), NotImplementedError),
    ("leaky_relu_uint8", lambda m, F: F.leaky_relu(m.tensor([1], dtype=m.uint8)),
     NotImplementedError),
    ("softplus_long", lambda m, F: F.softplus(m.tensor([1])), NotImplementedError),
    ("logsigmoid_bool", lambda m, F: F.logsigmoid(m.tensor([True])), NotImplementedError),
    ("mse_loss_long", lambda m, F: F.mse_loss(m.tensor([1, 2]), m.tensor([1, 2]),
                                              reduction="sum"), NotImplementedError),
    ("mse_loss_bool", lambda m, F: F.mse_loss(m.tensor([True]), m.tensor([True])),
     NotImplementedError),
    ("logaddexp_long", lambda m, F: m.logaddexp(m.tensor([1]), m.tensor([2])),
     NotImplementedError),
    ("logaddexp_shapes", lambda m, F: m.logaddexp(m.ones(2), m.ones(3)), RuntimeError),
    ("arange_backwards", lambda m, F: m.arange(5, 0), RuntimeError),
    ("arange_negative_end", lambda m, F: m.arange(-3), RuntimeError),
    ("arange_float_backwards", lambda m, F: m.arange(0.0, -1.0), RuntimeError),
    ("arange_wrong_step_sign", lambda m, F: m.arange(0, 5, -1), RuntimeError),
    ("arange_infinite", lambda m, F: m.arange(0, math.inf), RuntimeError),
    ("arange_nan", lambda m, F: m.arange(0, math.nan), RuntimeError),
]


def _raised(prog, m, F) -> BaseException:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            prog(m, F)
        except Exception as e:  # noqa: BLE001 - the type is the test
            return e
    raise AssertionError("no exception raised")


@pytest.mark.parametrize("name,prog,exc", CASES, ids=[c[0] for c in CASES])
def test_symgrad_raises_pytorchs_type(name, prog, exc):
    e = _raised(prog, sg, SF)
    assert type(e) is exc, f"{name}: {type(e).__module__}.{type(e).__name__}: {e}"
    assert str(e)


@pytest.mark.parametrize("name,prog,exc", CASES, ids=[c[0] for c in CASES])
def test_pytorch_raises_the_same_type(name, prog, exc):
    torch = pytest.importorskip("torch")
    e = _raised(prog, torch, torch.nn.functional)
    assert type(e) is exc, f"{name}: {type(e).__name__}: {e}"


def test_messages_say_what_went_wrong():
    cases = [
        (lambda: -sg.tensor([True]), "Negation, the `-` operator, on a bool tensor"),
        (lambda: sg.tensor([True]) - sg.tensor([True]), "with two bool tensors"),
        (lambda: sg.tensor([1.0]) - sg.tensor([True]), "with a bool tensor"),
        (lambda: sg.tensor([5]) // 0, "ZeroDivisionError"),
        (lambda: sg.abs(sg.tensor([True])), "\"abs_cpu\" not implemented for 'Bool'"),
        (lambda: SF.gelu(sg.tensor([1])), "\"GeluKernelImpl\" not implemented for 'Long'"),
        (lambda: sg.tensor([[True]]) @ sg.tensor([[True]]),
         "\"addmm_impl_cpu_\" not implemented for 'Bool'"),
        (lambda: sg.ones(2, 3).sum(dim=(1, -1)), "dim 1 appears multiple times"),
        (lambda: sg.linspace(0, 1, -1), "number of steps must be non-negative"),
        (lambda: sg.tensor(None), "Could not infer dtype of NoneType"),
        (lambda: sg.arange(5, 0), "upper bound and lower bound inconsistent with step sign"),
        (lambda: sg.zeros(2, 3).index_select(1, sg.tensor([3])),
         "index 3 is out of bounds for dimension 1 with size 3"),
    ]
    for fn, words in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(Exception) as e:
                fn()
        assert words in str(e.value), (words, str(e.value))
    with pytest.warns(UserWarning, match="different to the input size"), \
            pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match"):
        _mse_shapes(sg, SF)


# ---------------------------------------------------------------- what still works
def test_float_division_by_zero_is_still_ieee():
    np.testing.assert_array_equal((sg.tensor([5.0, -5.0, 0.0]) // 0).numpy(),
                                  [np.inf, -np.inf, np.nan])
    assert np.isnan((sg.tensor([5.0]) % 0).numpy()).all()
    assert np.isnan(sg.fmod(sg.tensor([5.0]), 0).numpy()).all()
    assert (sg.tensor([5]) / 0).numpy().tolist() == [np.inf]
    assert (sg.tensor([5]) // 0.0).numpy().tolist() == [np.inf]
    assert (sg.tensor([5]) // sg.tensor([0.0])).numpy().tolist() == [np.inf]


def test_integer_division_by_nonzero_and_empty_operands_still_work():
    assert (sg.tensor([7, -7]) // 2).tolist() == [3, -4]
    assert (sg.tensor([7, -7]) % sg.tensor([2, 2])).tolist() == [1, 1]
    assert sg.fmod(sg.tensor([-7]), 2).tolist() == [-1]
    assert (sg.tensor([True]) // 2).tolist() == [0]     # a bool and an int: int64 division
    assert (sg.tensor([], dtype=sg.int64) % 0).shape == (0,)
    assert (sg.tensor([5]) // sg.tensor([[]], dtype=sg.int64)).shape == (1, 0)


def test_bool_sign_and_integer_ops_pytorch_allows():
    s = sg.sign(sg.tensor([True, False]))
    assert s.dtype == sg.bool and s.tolist() == [True, False]
    assert sg.abs(sg.tensor([-2])).tolist() == [2]
    assert sg.floor(sg.tensor([3])).tolist() == [3]
    assert sg.relu(sg.tensor([-1, 2])).tolist() == [0, 2]
    assert (sg.tensor([[1]]) @ sg.tensor([[2]])).tolist() == [[2]]
    assert (sg.tensor([3]) - sg.tensor([1])).tolist() == [2]
    assert sg.sigmoid(sg.tensor([0])).tolist() == [0.5]   # int -> float, as PyTorch
    assert SF.gelu(sg.tensor([0.0])).tolist() == [0.0]


def test_factories_still_accept_good_ranges():
    assert sg.arange(5, 5).shape == (0,)
    assert sg.arange(1, 1, -1).shape == (0,)
    assert sg.arange(0, -1, -0.5).tolist() == [0.0, -0.5]
    assert sg.arange(5.0, 0, -2).tolist() == [5.0, 3.0, 1.0]
    assert sg.linspace(0, 1, 0).shape == (0,)
    assert sg.linspace(0, 1, 1).tolist() == [0.0]


def test_mse_loss_broadcasting_shapes_still_work():
    with pytest.warns(UserWarning):
        out = SF.mse_loss(sg.ones(2, 3), sg.zeros(3))
    assert out.item() == 1.0
    assert SF.mse_loss(sg.tensor([1, 2]), sg.tensor([1.0, 3.0])).item() == 0.5


# ---------------------------------------------------------------- logaddexp
_INF_CASES = [(math.inf, 1.0), (1.0, math.inf), (-math.inf, 1.0), (1.0, -math.inf),
              (math.inf, -math.inf), (math.inf, math.inf), (-math.inf, -math.inf),
              (1000.0, 1.0), (2.0, 2.0), (-800.0, -800.0)]


def _logaddexp_at(m, a, b):
    x = m.tensor(a, dtype=m.float64, requires_grad=True)
    y = m.tensor(b, dtype=m.float64, requires_grad=True)
    out = m.logaddexp(x, y)
    out.backward()
    return out.item(), x.grad.item(), y.grad.item()


def test_logaddexp_at_infinities():
    # an infinite side takes all of the gradient; the same infinity twice is nan
    assert _logaddexp_at(sg, math.inf, 1.0) == (math.inf, 1.0, 0.0)
    assert _logaddexp_at(sg, 1.0, -math.inf) == (1.0, 1.0, 0.0)
    v, gx, gy = _logaddexp_at(sg, math.inf, math.inf)
    assert v == math.inf and math.isnan(gx) and math.isnan(gy)


@pytest.mark.parametrize("a,b", _INF_CASES)
def test_logaddexp_values_and_gradients_as_pytorch(a, b):
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(_logaddexp_at(sg, a, b), _logaddexp_at(torch, a, b),
                               rtol=1e-15, equal_nan=True)


def test_logaddexp_is_one_node_as_pytorch():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    assert sg.logaddexp(x, sg.tensor([0.5, -3.0])).grad_fn.name() == "LogaddexpBackward0"
    assert x.logaddexp(sg.tensor([0.0, 0.0])).grad_fn.name() == "LogaddexpBackward0"


def test_logaddexp_on_symbolic_tensors():
    import sympy

    from symgrad import symbolic as S

    a, b = S.symbols("a", (2,)), S.symbols("b", (2,))
    out = sg.logaddexp(a, b)
    a0, b0 = sympy.Symbol("a[0]", real=True), sympy.Symbol("b[0]", real=True)
    e = out._data[0]
    assert sympy.simplify(e - sympy.log(sympy.exp(a0) + sympy.exp(b0))) == 0
    # derivative: the softmax weight, as the numeric rule
    w = sympy.diff(e, a0).subs({a0: 3, b0: 1})
    assert abs(float(w) - 1 / (1 + math.exp(-2))) < 1e-15
    mixed = sg.logaddexp(a, sg.tensor([1.0, 2.0]))._data[1]
    assert float(mixed.subs(sympy.Symbol("a[1]", real=True), 2)) == pytest.approx(
        2 + math.log(2))


def test_logaddexp_rules_are_proved():
    from symgrad import verify

    (res,) = verify.check_rules(["logaddexp"])
    assert res.verdict == "proved", res


def test_logaddexp_second_derivative():
    x = sg.tensor([0.3, -1.0], dtype=sg.float64, requires_grad=True)
    y = sg.tensor([1.5, 2.0], dtype=sg.float64)
    (g,) = sg.autograd.grad(sg.logaddexp(x, y).sum(), x, create_graph=True)
    (h,) = sg.autograd.grad(g.sum(), x)
    s = 1 / (1 + np.exp(-(x.detach().numpy() - y.numpy())))
    np.testing.assert_allclose(h.numpy(), s * (1 - s), rtol=1e-14)


# ---------------------------------------------------------------- BCE with logits
def _bce_logits(m, weight_grad: bool, pos_weight_grad: bool):
    z = m.tensor([[0.5, -1.0, 2.0]], dtype=m.float64, requires_grad=True)
    y = m.tensor([[1.0, 0.0, 0.5]], dtype=m.float64)
    w = m.tensor([0.5, 2.0, 1.5], dtype=m.float64, requires_grad=weight_grad)
    pw = m.tensor([1.5, 0.3, 2.0], dtype=m.float64, requires_grad=pos_weight_grad)
    return m.nn.functional.binary_cross_entropy_with_logits(z, y, weight=w, pos_weight=pw)


@pytest.mark.parametrize("weight_grad,pos_weight_grad,arg", [
    (True, False, "'weight'"), (False, True, "'pos_weight'"), (True, True, "'weight'")])
def test_bce_with_logits_refuses_differentiable_weights(weight_grad, pos_weight_grad, arg):
    with pytest.raises(RuntimeError, match=f"not differentiable with respect to argument {arg}"):
        _bce_logits(sg, weight_grad, pos_weight_grad)
    with sg.no_grad():   # nothing is recorded: no derivative is needed
        assert np.isfinite(_bce_logits(sg, weight_grad, pos_weight_grad).item())


@pytest.mark.parametrize("weight_grad,pos_weight_grad", [(True, False), (False, True)])
def test_bce_with_logits_weights_as_pytorch(weight_grad, pos_weight_grad):
    torch = pytest.importorskip("torch")
    for m in (sg, torch):
        with pytest.raises(RuntimeError, match="not differentiable"):
            _bce_logits(m, weight_grad, pos_weight_grad)
    sg_out, t_out = _bce_logits(sg, False, False), _bce_logits(torch, False, False)
    np.testing.assert_allclose(sg_out.item(), t_out.item(), rtol=1e-14)


def test_scatter_and_index_add_refuse_bad_indices_and_mixed_dtypes():
    x = sg.zeros(3, 3)
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 0"):
        x.scatter(0, sg.tensor([[5, 0, 0]]), 1.0)
    with pytest.raises(RuntimeError, match="index -1 is out of bounds"):
        x.scatter_add(0, sg.tensor([[-1, 0, 0]]), sg.ones(1, 3))
    with pytest.raises(RuntimeError, match="Expected self.dtype to be equal to src.dtype"):
        x.scatter(0, sg.tensor([[0, 0, 0]]), sg.ones(1, 3, dtype=sg.float32))
    with pytest.raises(RuntimeError, match="must have the same scalar type"):
        x.index_add(0, sg.tensor([0]), sg.ones(1, 3, dtype=sg.float32))
    assert x.scatter(0, sg.tensor([[1, 0, 2]]), 1.0).sum().item() == 3.0
