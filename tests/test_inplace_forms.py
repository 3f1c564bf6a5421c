"""In-place forms of the op functions (``t.sin_()``, ``symgrad.sin_(t)``) and the input
order PyTorch records for a Python number on the left (``2 * t`` is ``mul(t, 2)``)."""

import numpy as np
import pytest

import symgrad as sg

UNARY = ["sin", "cos", "tan", "sinh", "cosh", "atan", "asinh", "erf", "expm1", "log1p",
         "floor", "ceil", "round", "trunc", "frac", "reciprocal", "rsqrt", "square", "sign",
         "log2", "log10", "exp2", "negative"]


@pytest.mark.parametrize("name", UNARY)
def test_unary_in_place_forms_equal_the_op(name):
    x = np.array([0.3, 1.7, 2.5])
    t = sg.tensor(x)
    out = getattr(t, f"{name}_")()
    assert out is t
    np.testing.assert_array_equal(t.numpy(), getattr(sg.tensor(x), name)().numpy())
    assert t._version == 1


def test_in_place_form_records_the_ops_node_and_gradient():
    a = sg.tensor([0.5, 1.5], requires_grad=True)
    b = a * 2
    b.cos_()
    assert b.grad_fn.name() == "CosBackward0"
    b.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), -2 * np.sin(2 * np.array([0.5, 1.5])))


def test_binary_and_comparison_in_place_forms():
    t = sg.tensor([5.0, 7.0])
    t.fmod_(3)
    assert t.tolist() == [2.0, 1.0]
    t.gt_(1.5)
    assert t.tolist() == [1.0, 0.0] and t.dtype == sg.float64
    u = sg.tensor([[1.0, 2.0], [3.0, 4.0]])
    u.tril_()
    assert u.tolist() == [[1.0, 0.0], [3.0, 4.0]]


def test_module_level_in_place_functions():
    t = sg.tensor([0.25, 4.0])
    assert sg.sqrt_(t) is t and t.tolist() == [0.5, 2.0]
    sg.zero_(t)
    assert t.tolist() == [0.0, 0.0]
    leaf = sg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        sg.sin_(leaf)


@pytest.mark.parametrize("expr", [lambda b: 2 * b, lambda b: 1 + b, lambda b: b * 2,
                                  lambda b: b + 1])
def test_number_on_the_left_is_the_second_input(expr):
    y = expr(sg.tensor([1.0, 2.0], requires_grad=True).sin())
    first, second = y.grad_fn.next_functions
    assert first[0].name() == "SinBackward0" and second[0] is None
    y.sum().backward()   # and the gradient still reaches the graph


def test_in_place_forms_match_torch():
    torch = pytest.importorskip("torch")
    x = np.array([0.3, -1.7, 2.5])
    for name in UNARY:
        if not hasattr(torch.Tensor, f"{name}_"):
            continue
        want = getattr(torch.tensor(x), f"{name}_")().numpy()
        got = getattr(sg.tensor(x), f"{name}_")().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-15, equal_nan=True, err_msg=name)


@pytest.mark.parametrize("form", ["gt_", "eq_", "le_"])
def test_in_place_comparison_drops_the_old_history(form):
    """y.gt_(0) overwrites y with a mask: a gradient through y's old history would be
    wrong. d/dx sum(y * x) is y, the mask (as PyTorch gives)."""
    x = sg.tensor([0.5, -1.0], requires_grad=True)
    y = x * 3
    getattr(y, form)(0)
    (y * x).sum().backward()
    assert x.grad.tolist() == y.tolist()
