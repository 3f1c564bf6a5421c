"""Index notation: one verified formula for every entry of a gradient, or None."""


import numpy as np
import pytest
import sympy

import symgrad as sg
from symgrad import symbolic as S
from symgrad.nn import functional as F
from symgrad.symbolic.index_form import _instantiate, _Ctx, index_form, index_template


def _bce_gradients(x, y=None):
    """The tutorial: z = x@w + b, loss = BCE-with-logits(z, y); closed forms in w, b."""
    w, b = S.symbols("w", (5, 3)), S.symbols("b", 3)
    y = sg.zeros(3) if y is None else y
    z = sg.matmul(x, w) + b
    loss = F.binary_cross_entropy_with_logits(z, y)
    return S.gradient(loss, w)._data, S.gradient(loss, b)._data, z._data


def _reproduces(found, exprs, constants=None):
    """Instantiate the template independently at every index and compare with the entry."""
    ctx = _Ctx(budget=30, max_nodes=10**6)
    ctx.constants = constants or {}
    for e in exprs.reshape(-1):
        ctx.symbols.update({s.name: s for s in e.free_symbols})
    for idx in np.ndindex(*exprs.shape):
        env = {v: sympy.Integer(i) for v, i in zip(found.index, idx) if isinstance(v, sympy.Symbol)}
        assert _instantiate(found.template, env, ctx) == exprs[idx]


def test_tutorial_gradient_is_one_formula_in_i_j():
    gw, gb, _ = _bce_gradients(S.symbols("x", 5), S.symbols("y", 3))
    text = index_form(gw, "w", (5, 3), out_name="loss", width=None)
    assert text.startswith("∂loss/∂w[i,j] = ")
    assert text.endswith("(one formula for all 15 entries)")
    assert "x[i]" in text and "y[j]" in text and "Σ_k(w[k,j]*x[k])" in text
    found = index_template(gw, (5, 3))
    assert {s.name for s in found.template.free_symbols} >= {"i", "j"}
    _reproduces(found, gw)
    assert index_form(gb, "b", (3,), out_name="loss").startswith("∂loss/∂b[i] = ")


def test_tutorial_with_constant_ones_input():
    gw, _, _ = _bce_gradients(sg.ones(5))
    for names in (None, {"x": np.ones(5)}):
        found = index_template(gw, (5, 3), names)
        assert found is not None and [str(v) for v in found.index] == ["i", "j"]
        _reproduces(found, gw)
    assert "Σ_k(w[k,j])" in index_form(gw, "w", (5, 3), width=None)


def test_constant_input_values_become_named_constants():
    xs = np.arange(1.0, 6.0)
    gw, _, _ = _bce_gradients(sg.tensor(xs))
    assert index_form(gw, "w", (5, 3)) is None  # 1, 2, ... 5 differ per entry: no template
    names = {"x": xs}
    text = index_form(gw, "w", (5, 3), names, width=None)
    assert "x[i]" in text and "Σ_k(w[k,j]*x[k])" in text
    found = index_template(gw, (5, 3), names)
    _reproduces(found, gw, {"x": np.array([sympy.Rational(v) for v in xs], dtype=object)})


def test_named_intermediate_replaces_written_out_sums():
    gw, _, z = _bce_gradients(S.symbols("x", 5))
    text = index_form(gw, "w", (5, 3), {"z": z}, out_name="loss", width=None)
    assert "z[j]" in text and "x[i]" in text and "Σ" not in text and "w[" not in text.split("=")[1]


def test_elementwise_function():
    a = S.symbols("a", (2, 3))
    assert index_form((a.sin() * a)._data, "a", (2, 3)) == \
        "∂out/∂a[i,j] = sin(a[i,j])*a[i,j]  (one formula for all 6 entries)"
    g = S.gradient((a.sin() * a).sum(), a)._data
    assert index_form(g, "a", (2, 3), d="d") == \
        "dout/da[i,j] = sin(a[i,j]) + cos(a[i,j])*a[i,j]  (one formula for all 6 entries)"


def test_sum_over_every_entry_and_partial_sums_show_their_range():
    a = S.symbols("a", (2, 3))
    g = S.gradient((a * a).sum().sqrt(), a)._data
    assert "a[i,j]/sqrt(Σ_l(Σ_k(a[k,l]**2)))" in index_form(g, "a", (2, 3))
    v = S.symbols("v", 6)._data
    partial = np.array([(v[0] + v[1] + v[2]) * v[k] for k in range(6)], dtype=object)
    assert "Σ_{j=0..2}(v[j])" in index_form(partial, "v", (6,))


def test_structurally_different_entries_have_no_template():
    a = S.symbols("a", 4)
    pieces = sg.cat([a[:2].sin(), a[2:].exp()])
    assert index_form(pieces._data, "a", (4,)) is None
    assert index_form(S.gradient((pieces * pieces).sum(), a)._data, "a", (4,)) is None


def test_zero_gradient_and_axes_of_length_one():
    assert index_form(np.zeros((2, 2), dtype=object), "w", (2, 2)) == \
        "∂out/∂w[i,j] = 0  (one formula for all 4 entries)"
    r = S.symbols("r", (1, 4))
    assert index_form((r * r)._data, "r", (1, 4)) == \
        "∂out/∂r[0,i] = r[0,i]**2  (one formula for all 4 entries)"


@pytest.mark.parametrize("bad", [
    None, 3, "text", np.array([1, "a"], dtype=object), np.array([np.nan, 1.0]),
    np.array([sympy.Symbol("p")], dtype=object), np.empty((0, 2), dtype=object),
])
def test_odd_input_gives_none(bad):
    shape = getattr(bad, "shape", (2,))
    assert index_form(bad, "w", shape) is None
    assert index_form(np.zeros(3, dtype=object), "w", (4,)) is None  # shape mismatch


def test_large_inputs_return_quickly():
    """Large inputs are sampled (200 entries) or given up on within the budget; no wall
    clock is asserted here (tests never depend on timing)."""
    A = S.symbols("A", (100, 100))
    text = index_form((A.tanh() * A)._data, "A", (100, 100))
    assert text.endswith("(one formula for all 10000 entries; checked on 200)")
    many = sympy.Add(*A._data.reshape(-1)[:3000])
    big = np.array([many * s for s in A._data.reshape(-1)], dtype=object).reshape(100, 100)
    assert index_form(big, "A", (100, 100), budget=0.3) is None
    assert index_template(big, (100, 100), max_nodes=50) is None
