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


def _direct_jacobian(exprs, syms):
    return np.array([[sympy.diff(e, s) for s in syms] for e in exprs], dtype=object)


@pytest.mark.parametrize("template_rows", [1, 10 ** 9])
def test_jacobian_templates_equal_direct_diff(monkeypatch, template_rows):
    # entries that are one template up to renaming (elementwise, layer rows) and ones that
    # are not; symbols with different assumptions must not share a placeholder
    from symgrad.symbolic import derive

    monkeypatch.setattr(derive, "_TEMPLATE_ROWS", template_rows)
    a = S.symbols("a", (6,))
    p = S.symbols("p", (3,), positive=True)
    w = S.symbols("w", (3, 6))
    exprs = list(((a + 1) ** 2 * a.tanh())._data) + list((w @ a)._data) + [
        sympy.Max(a._data[0], 0) * p._data[0], sympy.sqrt(p._data[1]) * a._data[1],
        sympy.sqrt(a._data[2] ** 2) * a._data[3], sympy.Integer(3)]
    syms = list(a._data) + list(p._data) + list(w._data.reshape(-1))
    got = S.jacobian(np.array(exprs, dtype=object), np.array(syms, dtype=object))._data
    want = _direct_jacobian(exprs, syms)
    assert got.shape == want.shape
    for g, d in zip(got.reshape(-1), want.reshape(-1)):
        assert g == d or sympy.simplify(g - d) == 0


def test_jacobian_templates_differentiate_each_template_once():
    from symgrad.symbolic.derive import Templates

    a = S.symbols("a", (50,))
    t = Templates({s: k for k, s in enumerate(a._data)})
    for s in a._data:
        e = sympy.exp(s) * sympy.sin(s) + s
        assert t.diff(e, e.free_symbols, [s]) == {s: sympy.diff(e, s)}
    assert (t.misses, t.hits) == (1, 49)


def test_evaluate_sparse_jacobian_keeps_zeros_exact():
    x = sg.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    m = S.mirror((x + 1) ** 2)
    J = S.jacobian(m, x)
    vals = S.evaluate(J)
    want = np.zeros((2, 2, 2, 2))
    for i in range(2):
        for j in range(2):
            want[i, j, i, j] = 2 * (x.detach().numpy()[i, j] + 1)
    np.testing.assert_array_equal(vals, want)
    exact = S.evaluate(J, exact=True)
    assert exact.dtype == object and exact[0, 0, 1, 1] == 0 and exact[1, 1, 1, 1] == 2.5


_POOL = [sympy.Symbol(f"s{k}", real=True) for k in range(12)] + [sympy.Symbol("p", positive=True)]
_COEFFS = [sympy.Integer(0), sympy.Integer(1), sympy.Integer(-1), sympy.Rational(3, 8),
           sympy.Rational(-5, 2), sympy.Integer(7)]


def _random_terms(rng, n):
    terms = []
    for _ in range(n):
        c, s = _COEFFS[rng.integers(len(_COEFFS))], _POOL[rng.integers(len(_POOL))]
        kind = rng.integers(6)
        if kind == 0:
            terms.append(sympy.tanh(s) * c)       # not a c*s term: the ordinary path
        elif kind == 1:
            terms.append(c)                        # a number
        else:
            terms.append(c * s)
    return terms


def test_fast_sums_equal_sympy_construction():
    from symgrad.ops import _sums

    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(0, 14))
        terms = _random_terms(rng, n)
        if rng.integers(2):   # mostly distinct symbols with plain coefficients: the fast path
            syms = rng.permutation(len(_POOL))[:n]
            terms = [_COEFFS[rng.integers(len(_COEFFS))] * _POOL[k] for k in syms]
        want = sympy.Add(*terms)
        got = _sums.add_terms(terms)
        assert got == want and sympy.srepr(got) == sympy.srepr(want)
        other = sympy.Add(*_random_terms(rng, int(rng.integers(0, 12))))
        assert sympy.srepr(_sums.add(got, other)) == sympy.srepr(got + other)
        assert sympy.srepr(_sums.add(other, got)) == sympy.srepr(other + got)
        assert sympy.srepr(_sums.neg(got)) == sympy.srepr(-got)
    for c in _COEFFS + [sympy.Rational(1, 3), sympy.Float(0.25)]:
        for s in (_POOL[0], _POOL[-1], sympy.Integer(2), sympy.exp(_POOL[1]),
                  sympy.Symbol("nc", commutative=False), sympy.Dummy("d")):
            assert sympy.srepr(_sums.times(c, s)) == sympy.srepr(c * s)
            assert sympy.srepr(_sums.times(s, c)) == sympy.srepr(s * c)
            for got, want in ((_sums.add(s, c), s + c), (_sums.add(c, s), c + s)):
                assert got == want and got.args == want.args and hash(got) == hash(want)
                assert sympy.srepr(got) == sympy.srepr(want)
                assert got.is_commutative == want.is_commutative
                assert got.is_positive == want.is_positive and got.is_real == want.is_real


def test_fast_integer_powers_equal_sympy_construction():
    # a squared error's (x - y)**2 built without Pow's evaluation must be SymPy's own
    from symgrad.ops import _sums

    rng = np.random.default_rng(1)
    inf = sympy.Symbol("maybe_inf")              # no assumptions: could be infinite
    for _ in range(300):
        terms = _random_terms(rng, int(rng.integers(1, 5)))
        if rng.integers(3) == 0:
            terms.append(sympy.Rational(int(rng.integers(-9, 9)), int(rng.integers(1, 4))))
        if rng.integers(8) == 0:
            terms.append(inf)
        base = sympy.Add(*terms)
        for e in (2, 3, 5, 1, 0, -1, 2.0):
            got, want = _sums.power(base, e), base ** e
            assert got == want and hash(got) == hash(want)
            assert sympy.srepr(got) == sympy.srepr(want)
            assert got.is_commutative == want.is_commutative
            assert got.is_nonnegative == want.is_nonnegative and got.is_real == want.is_real


def test_linear_layer_mirror_is_sympys_sum():
    x = sg.tensor([0.5, -1.25, 0.0, 1.0, -1.0, 2.0, 3.0, 0.125, 1.5, -0.5])
    w = sg.randn(10, 3, requires_grad=True)
    b = sg.randn(3, requires_grad=True)
    m = S.mirror(-(x @ w + b), names={"w": w, "b": b})
    ws, bs = S.info(m).symbols_of(w), S.info(m).symbols_of(b)
    for j in range(3):
        want = -(sympy.Add(*[sympy.Rational(float(x.numpy()[k])) * ws[k, j]
                             for k in range(10)]) + bs[j])
        assert sympy.srepr(m._data[j]) == sympy.srepr(want)


def test_long_linear_sums_evaluate_as_the_generic_walk(monkeypatch):
    import mpmath

    from symgrad.symbolic import mpeval

    xs = [sympy.Symbol(f"x{k}", real=True) for k in range(40)]
    cs = [sympy.Rational(k - 20, 7) for k in range(40)]
    lin = sympy.Add(*[c * x for c, x in zip(cs, xs)]) + xs[0] * 0 + sympy.Symbol("y", real=True)
    e = sympy.tanh(lin) * lin
    y = sympy.Symbol("y", real=True)
    exact_point = {x: sympy.Rational(k, 4) for k, x in enumerate(xs)}
    exact_point[y] = sympy.Rational(1, 8)
    point = {s: mpmath.mpf(v.p) / v.q for s, v in exact_point.items()}
    tangent = {x: mpmath.mpf(1 + k % 3) / 8 for k, x in enumerate(xs)}
    with mpmath.workdps(40):
        fast = mpeval.mp_eval([e], point) + mpeval.mp_jvp([e], point, tangent)
        monkeypatch.setattr(mpeval, "_LINEAR_MIN", 10 ** 9)   # the generic walk only
        slow = mpeval.mp_eval([e], point) + mpeval.mp_jvp([e], point, tangent)
        d = sum(sympy.diff(e, x) * sympy.Rational(1 + k % 3, 8) for k, x in enumerate(xs))
        exact = mpmath.mpf(str(d.subs(exact_point).evalf(45)))
        assert fast == slow
        assert abs(fast[1] - exact) < mpmath.mpf(10) ** -30 * abs(exact)


def test_gradient_by_reverse_mode_equals_closed_forms():
    import mpmath

    from symgrad.symbolic import derive

    rng = np.random.default_rng(4)
    x = sg.tensor(rng.normal(size=(3, 5)))
    w1 = sg.tensor(rng.normal(size=(5, 4)), requires_grad=True)
    w2 = sg.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    h = F.leaky_relu(x @ w1, 0.1) + (x @ w1).abs().sqrt() * sg.maximum(x @ w1, sg.zeros(3, 4))
    out = F.cross_entropy(h.tanh() @ w2, sg.tensor([0, 2, 1]), reduction="none")
    m = S.mirror(out, names={"w1": w1, "w2": w2})
    ct = np.array([0.5, -1.25, 2.0])
    target = sum(sympy.Rational(c) * e for c, e in zip(ct, m._data))
    for leaf in (w1, w2):
        syms = S.info(m).symbols_of(leaf)
        fast = derive.gradient_mp(m._data, syms, S.info(m).point, weights=ct)
        closed = derive.evaluate_mp(S.gradient(target, syms)._data, S.info(m).point)
        assert fast.shape == syms.shape
        for a, b in zip(fast.reshape(-1), closed.reshape(-1)):
            assert abs(a - b) <= mpmath.mpf(10) ** -45 * max(1, abs(b))


def test_hessian_vector_products_equal_closed_forms():
    import mpmath

    from symgrad.symbolic import derive

    rng = np.random.default_rng(5)
    x = sg.tensor(rng.normal(size=(2, 3)))
    w = sg.tensor(rng.normal(size=(3, 2)), requires_grad=True)
    b = sg.tensor(rng.normal(size=(2,)), requires_grad=True)
    z = x @ w + b
    out = (F.leaky_relu(z, 0.2) * z.sigmoid() + z.abs().sqrt() * z.tanh()).exp().sum(1)
    m = S.mirror(out, names={"w": w, "b": b})
    ct = np.array([0.75, -2.0])
    syms = np.concatenate([S.info(m).symbols_of(w).reshape(-1), S.info(m).symbols_of(b)])
    tangents = [{s: 1} for s in syms] + [{s: sympy.Rational(k - 3, 4)
                                          for k, s in enumerate(syms)}]
    cols = derive.hvp_mp(m._data, syms, S.info(m).point, tangents, weights=ct)
    target = sum(sympy.Rational(c) * e for c, e in zip(ct, m._data))
    H = derive.evaluate_mp(S.hessian(target, syms)._data, S.info(m).point)
    tol = mpmath.mpf(10) ** -45
    for q in range(syms.size):
        for p in range(syms.size):
            assert abs(cols[q][p] - H[p, q]) <= tol * max(1, abs(H[p, q]))
    v = [sympy.Rational(k - 3, 4) for k in range(syms.size)]
    with mpmath.workdps(60):
        for p in range(syms.size):
            hv = mpmath.fsum(H[p, q] * mpmath.mpf(v[q].p) / v[q].q for q in range(syms.size))
            assert abs(cols[-1][p] - hv) <= tol * max(1, abs(hv))


def test_dirac_delta_evaluates_to_zero_off_the_kink():
    import mpmath

    from symgrad.symbolic.mpeval import mp_eval

    a = sympy.Symbol("a", real=True)
    e = sympy.diff(sympy.Max(a, 0), a, 2)     # DiracDelta(a)
    assert e.has(sympy.DiracDelta)
    assert mp_eval([e], {a: mpmath.mpf("0.5")})[0] == 0
    assert mpmath.isnan(mp_eval([e], {a: mpmath.mpf(0)})[0])


def test_nested_piecewise_conditions_evaluate():
    # softplus of softplus: SymPy merges the nested conditions into ITE(...)
    for v in (0.0, 15.0, 25.0, -3.0):
        a = sg.tensor(v, requires_grad=True)
        out = F.softplus(F.softplus(a) + a)
        m = S.mirror(out)
        assert m._data[()].has(sympy.ITE) or v != 0.0
        np.testing.assert_allclose(S.evaluate(m), out.detach().numpy(), rtol=1e-15)


def test_compiled_head_partials_equal_mp_eval():
    # forward and reverse mode evaluate each head's partials by a compiled Program: it must
    # give mp_eval's values bit for bit (constants, point symbols, Piecewise, a long sum)
    import mpmath
    from collections import ChainMap

    from symgrad.symbolic import mpeval

    a0, a1 = mpeval._dummy(0), mpeval._dummy(1)
    y = sympy.Symbol("y", real=True)
    xs = sympy.symbols("x0:20", real=True)
    long_sum = sympy.Add(*[sympy.Rational(k + 1, 3) * x for k, x in enumerate(xs)])
    exprs = [a0 ** 2 * sympy.pi + sympy.exp(a1 * y), sympy.Max(a0, 0) / (1 + a1 ** 2),
             sympy.Piecewise((a0 * y, a1 > 0), (sympy.tanh(a0), True)), sympy.Rational(3, 7),
             1 / a1, a0 + long_sum]
    args = (sympy.Symbol("u"), sympy.Symbol("v"))
    point = {y: mpmath.mpf("0.75"), **{x: mpmath.mpf(k) / 5 for k, x in enumerate(xs)}}
    programs = {len(exprs) - 1: mpeval.Program(exprs[:-1]), len(exprs): mpeval.Program(exprs)}
    for u, v in [("-1.5", "2"), ("0.5", "-0.25"), ("2", "0")]:
        vals = {args[0]: mpmath.mpf(u), args[1]: mpmath.mpf(v)}
        for dps, some in [(30, exprs[:-1]), (80, exprs[:-1]), (30, exprs)]:
            with mpmath.workdps(dps):
                direct = mpeval.mp_eval(some, ChainMap({a0: vals[args[0]],
                                                        a1: vals[args[1]]}, point))
                program = programs[len(some)]   # one per list: its constants per precision
                compiled = program(args, vals, point)
                assert [mpmath.nstr(x, dps) for x in compiled] == \
                    [mpmath.nstr(x, dps) for x in direct]
                assert all(c == d or (mpmath.isnan(c) and mpmath.isnan(d))
                           for c, d in zip(compiled, direct))


def test_compiled_forward_mode_equals_closed_forms():
    # check's exact values and Jacobian probes run a compiled Program: its values must be
    # mp_eval's bit for bit, and its directional derivatives those of sympy.diff
    import mpmath

    from symgrad.symbolic import mpeval

    xs = sympy.symbols("x0:18", real=True)
    y, z = sympy.symbols("y z", real=True)
    lin = sympy.Add(*[sympy.Rational(k - 9, 4) * x for k, x in enumerate(xs)]) + y
    shared = sympy.tanh(lin) * z
    exprs = [shared + sympy.exp(shared), sympy.Piecewise((y ** 2, y > z), (sympy.log(z), True)),
             sympy.Max(y, z) * lin, sympy.Integer(0), y, sympy.sqrt(z) / (1 + y ** 2),
             sympy.Piecewise((shared, lin ** 2 > 1), (-y, True))]
    point = {x: mpmath.mpf(k) / 7 for k, x in enumerate(xs)}
    tangents = [{y: mpmath.mpf(1), xs[3]: mpmath.mpf(-2)}, {z: mpmath.mpf("0.5")}, {}]
    program = mpeval.Program(exprs)
    assert any(step[0] == program.LINEAR for step in program.steps)
    for yv, zv in [("0.3", "1.7"), ("2", "0.5"), ("-1", "0.25")]:   # inside every domain
        point[y], point[z] = mpmath.mpf(yv), mpmath.mpf(zv)
        for dps in (30, 90):
            with mpmath.workdps(dps):
                reg = program.run(point)
                values = [reg[j] for j in program.outs]
                walked = mpeval.mp_eval(exprs, point)
                assert [mpmath.nstr(v, dps) for v in values] == \
                    [mpmath.nstr(v, dps) for v in walked]
                dots = program.jvp(reg, point, tangents)
                for d, e in zip(dots, exprs):
                    for t, tg in enumerate(tangents):
                        closed = sum(sympy.diff(e, s) * sympy.Rational(str(v))
                                     for s, v in tg.items())
                        want = mpeval.mp_eval([closed], point)[0]
                        got = mpmath.mpf(0) if d is None else d[t]
                        if mpmath.isnan(want):
                            assert mpmath.isnan(got)
                        else:
                            assert abs(got - want) <= mpmath.mpf(10) ** (5 - dps) * (
                                1 + abs(want)), (e, tg, got, want)
                        if closed == 0:
                            assert d is None or not d[t]


def test_compiled_free_symbols_equal_sympys():
    # check's sparsity pattern and probes read each entry's free symbols from the compiled
    # Program (one pass) rather than from SymPy (a recursion per entry): they must agree
    from symgrad.nn import functional as F
    from symgrad.symbolic import mpeval

    rng = np.random.default_rng(0)
    a = sg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = sg.tensor(rng.standard_normal(4), requires_grad=True)
    x = sg.tensor(rng.standard_normal(40), requires_grad=True)
    outs = [sg.where(a > 0, a * b, sg.exp(a)) ** 2, F.softmax(a @ sg.tanh(a.t()), 1),
            sg.relu(a) + b.sum(), F.cross_entropy(a, sg.tensor([0, 1, 3])),
            (a.abs() + 1).log() * sg.maximum(a, b), (x * 2.5 + 1).sum() * x[:3]]
    for o in outs:
        m = sg.symbolic.mirror(o, names={"a": a, "b": b, "x": x})
        flat = list(np.asarray(m._data, dtype=object).reshape(-1))
        got = mpeval.Program(flat).free_symbols()
        assert [set(g) for g in got] == [sympy.sympify(e).free_symbols for e in flat]


def test_integer_power_partials_match_the_compiled_derivative():
    """Forward mode computes d(b**n)/db in closed form; it must round exactly as the
    compiled ``sympy.diff`` of the head does (the values a report shows depend on it)."""
    import mpmath

    from symgrad.symbolic import mpeval

    q = sympy.Symbol("q", real=True)
    bases = [0.0, -0.0, 1.0, -1.0, 0.5, 3.0, 1e300, -1e-300, 5e-324, float("inf"),
             float("-inf"), float("nan"), 0.1, -7.25]
    for dps in (15, 60, 140):
        with mpmath.workdps(dps):
            for n in (2, 3, 5, -1, -2, -3, 17):
                program = mpeval._local_partials(q ** n, [0])[1]
                for v in bases:
                    for b in (mpmath.mpf(v), mpmath.mpf(v) / 3):
                        want = program([0], [b], {})[0]
                        assert mpeval._power_partial(b, n)._mpf_ == want._mpf_, (n, v, dps)


def test_jacobian_templates_serve_rows_with_many_symbols():
    """A layer's row holds one symbol per input: its first row's derivatives (more than the
    tries a template gets) are reused by every later row."""
    from symgrad.symbolic.derive import Templates

    w = S.symbols("w", (12, 20))._data
    x = S.symbols("x", (20,))._data
    t = Templates({s: k for k, s in enumerate(w.reshape(-1))})
    for i in range(12):
        e = sympy.tanh(sum(w[i, k] * x[k] for k in range(20)))
        got = t.diff(e, e.free_symbols, list(w[i]))
        assert got == {s: sympy.diff(e, s) for s in w[i]}
    assert (t.misses, t.hits) == (20, 11 * 20)


def test_sympify_takes_symbolic_tensors_as_their_expressions():
    import sympy as sp

    w = sg.symbolic.symbols("w", (3, 2))
    loss = -sg.log(F.softmax(sg.tensor([[1.0, 2.0, 3.0]]) @ w, dim=1)[0, 0])
    g = sg.symbolic.gradient(loss, w)
    # a 0-d tensor is its entry, so SymPy functions take entries directly
    assert sp.simplify(sp.diff(sp.sympify(loss), sp.sympify(w[0, 0])) - g[0, 0]) == 0
    assert sp.sympify(g) == sp.ImmutableMatrix([[g[i, j].item() for j in range(2)]
                                                for i in range(3)])
    v = sp.sympify(sg.symbolic.symbols("v", (2, 1, 2)))
    assert isinstance(v, sp.NDimArray) and v.shape == (2, 1, 2)
    assert list(sp.sympify(sg.tensor([1.5, 2.0]))) == [sp.Float(1.5), sp.Float(2)]
    assert sp.sympify(sg.tensor(3)) == sp.Float(3)
    assert sp.sympify(sg.tensor([[1, 2]])).shape == (1, 2)
