"""The symbolic side: symbols, mirror replay, closed-form derivatives, exact evaluation."""

import numpy as np
import pytest
import sympy

import symgrad as sg
from symgrad import symbolic as S
from symgrad.nn import functional as F


def test_symbols_run_through_ordinary_code():
    w = S.symbols("w", (2, 3))
    x = S.symbols("x", (3,))
    z = (w @ x).sigmoid().sum()
    e = z.numpy().item() if False else z._data[()]
    w00, x0 = sympy.Symbol("w[0,0]", real=True), sympy.Symbol("x[0]", real=True)
    assert e.has(w00) and e.has(x0)
    assert z.dtype == sg.symbolic.symbols("q").dtype
    assert not z.requires_grad and z.grad_fn is None


def test_mirror_names_leaves_after_caller_variables():
    w = sg.randn(5, 3, requires_grad=True)
    b = sg.randn(3, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(sg.matmul(sg.ones(5), w) + b, sg.zeros(3))
    m = S.mirror(loss)
    names = sorted(str(s) for s in m._data[()].free_symbols)
    assert "w[0,0]" in names and "b[2]" in names and len(names) == 18


def test_mirror_detach_is_a_constant():
    w = sg.tensor([1.5, -2.0], requires_grad=True)
    y = (w * w).detach() * w
    m = S.mirror(y.sum())
    e = m._data[()]
    ws = S.info(m).symbols_of(w)
    assert sympy.diff(e, ws[0]) == sympy.Rational(9, 4)


def test_gradient_jacobian_hessian_closed_forms():
    x = S.symbols("x", (2,))
    f = (x.exp() * x).sum()
    g = S.gradient(f, x)
    x0 = sympy.Symbol("x[0]", real=True)
    assert sympy.simplify(g._data[0] - (sympy.exp(x0) * (x0 + 1))) == 0
    J = S.jacobian(x.exp(), x)
    assert J.shape == (2, 2) and J._data[0, 1] == 0
    H = S.hessian(f, x)
    assert H._data[0, 1] == 0 and sympy.simplify(H._data[0, 0] - sympy.exp(x0) * (x0 + 2)) == 0


def test_evaluate_at_recorded_point_is_exact():
    w = sg.tensor([0.5, -1.25], requires_grad=True)
    loss = (w.sigmoid() * w).sum()
    m = S.mirror(loss)
    g = S.evaluate(S.gradient(m, w))
    loss.backward()
    np.testing.assert_allclose(g, w.grad.numpy(), rtol=1e-15)


def test_evaluate_survives_cancellation_that_breaks_sympy_evalf():
    z = S.symbols("z")
    e = -sympy.log(1 - 1 / (sympy.exp(-z._data[()]) + 1)) / 3
    val = S.evaluate(e, at={z._data[()]: 800})
    assert float(val) == pytest.approx(800 / 3, rel=1e-15)


def test_directional_derivative_matches_gradient():
    x = S.symbols("x", (3,))
    f = (x * x * x).sum()
    syms = list(x._data)
    d = S.directional(f, {syms[0]: 1, syms[1]: 2, syms[2]: -1})
    assert sympy.expand(d._data[()] - (3 * syms[0] ** 2 + 6 * syms[1] ** 2 - 3 * syms[2] ** 2)) == 0


def test_symbolic_constants_give_textbook_forms():
    x, y = sg.ones(2), sg.zeros(1)
    w = sg.randn(2, 1, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x @ w, y)
    m = S.mirror(loss, constants="symbols")
    names = {str(s) for s in m._data[()].free_symbols}
    assert {"x[0]", "y[0]", "w[0,0]"} <= names
