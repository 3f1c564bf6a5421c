"""The verifier's verdicts: no false alarm on correct code, every kind of error named."""

import mpmath
import numpy as np
import pytest

import symgrad as sg
from symgrad import verify
from symgrad.nn import functional as F
from symgrad.ops import OPS
from symgrad.verify import AGREE, FORWARD_MISMATCH, INACCURATE, KINK, MISMATCH


def _tutorial(w, b):
    return F.binary_cross_entropy_with_logits(sg.matmul(sg.ones(5), w) + b, sg.zeros(3))


def test_correct_code_agrees():
    sg.manual_seed(1)
    r = verify.check(_tutorial, sg.randn(5, 3), sg.randn(3))
    assert r.ok, r.table()
    assert [row.verdict for row in r.rows] == [AGREE, AGREE, AGREE]
    assert r.row("w").comparison.max_ulps <= 4


def test_wrong_rule_is_a_mismatch_and_its_node_is_named(mutate):
    mutate(OPS["sigmoid"], vjp=(lambda xp, g, ans, x: g * ans * (1 - ans) * (1 + 1e-10),))
    x = sg.randn(4, 3)
    r = verify.check(lambda w: sg.sigmoid(x @ w).sum(), sg.randn(3, 2))
    assert not r.ok
    assert r.row("w").verdict == MISMATCH
    (f,) = r.findings
    assert f.node == "SigmoidBackward0" and f.argument == "x" and f.kind == "rule"
    assert "exp(-x)" in f.expected
    assert "SigmoidBackward0" in r.table()


def test_wrong_forward_is_named_as_forward(mutate):
    mutate(OPS["tanh"], forward=lambda xp, x: xp.sin(x))
    r = verify.check(lambda a: sg.tanh(a).sum(), sg.tensor([0.3, 0.7]))
    assert r.rows[0].verdict == FORWARD_MISMATCH
    assert r.findings[0].kind == "forward" and r.findings[0].node == "TanhBackward0"


def test_missing_broadcast_reduction_is_caught(mutate):
    # a rule returning a gradient that is not the derivative of its argument
    mutate(OPS["mul"], vjp=(OPS["mul"].vjp[0], lambda xp, g, ans, x, y: g * x * 2))
    r = verify.check(lambda a, b: (a * b).sum(), sg.rand(2, 3), sg.rand(3))
    assert r.row("b").verdict == MISMATCH and r.row("a").verdict == AGREE


def test_numerically_inaccurate_is_not_a_rule_mismatch():
    r = verify.check(lambda z: sg.log(1 + sg.exp(z)).sum(), sg.tensor([800.0, 1.0]))
    assert r.rows[0].verdict == INACCURATE
    assert r.row("z").verdict == INACCURATE
    assert not r.findings


def test_extremes_do_not_raise_false_alarms():
    z = sg.tensor([800.0, -800.0, 1e-300, 40.0, -1000.0])
    y = sg.tensor([0.0, 1.0, 0.5, 1.0, 0.0])
    assert verify.check(lambda z: F.binary_cross_entropy_with_logits(z, y), z).ok
    assert verify.check(lambda z: (sg.sigmoid(z) + sg.tanh(z) + sg.exp(z / 1000)).sum(), z).ok


def test_kink_is_reported_with_convention():
    r = verify.check(lambda z: sg.relu(z).sum(), sg.tensor([0.0, 1.0, -3.0]))
    assert r.ok
    assert r.row("z").verdict == KINK
    (k,) = r.kinks
    assert k.node == "ReluBackward0" and k.positions == [(0,)]
    assert (k.left, k.right, k.used) == (0.0, 1.0, 0.0)


def test_jacobian_and_vjp_modes():
    r = verify.check(lambda a: (a + 1).pow(2), sg.eye(3), mode="jacobian")
    assert r.ok and r.row("a").shape == (3, 3, 3, 3)
    r = verify.check(lambda a: a.exp() * 2, sg.rand(4), mode="vjp")
    assert r.ok


def test_large_inputs_switch_to_directional_checks(monkeypatch):
    import importlib

    monkeypatch.setattr(importlib.import_module("symgrad.verify.check"), "MAX_FULL_SYMBOLS", 20)
    sg.manual_seed(0)
    x = sg.randn(6)
    r = verify.check(lambda w: (sg.tanh(x @ w)).sum(), sg.randn(6, 4))
    assert r.ok
    assert r.row("w").method.startswith("directional")
    assert any("random directions" in n for n in r.notes)


def test_directional_checks_catch_a_wrong_rule(mutate):
    mutate(OPS["tanh"], vjp=(lambda xp, g, ans, x: g * (1 - ans * ans) * 1.0001,))
    r = verify.check(lambda w: sg.tanh(w).sum(), sg.rand(5), directions=2)
    assert r.row("w").verdict == MISMATCH


def test_report_serialises():
    r = verify.check(lambda a: (a * a).sum(), sg.tensor([1.0, 2.0]))
    d = r.to_dict()
    assert d["ok"] is True and d["rows"][1]["verdict"] == AGREE
    assert "<table>" in r._repr_html_()


def test_symbolic_side_is_independent_of_the_rules(mutate):
    """With every VJP rule replaced by one that raises, the symbolic derivation still works."""
    def boom(*args, **kwargs):
        raise AssertionError("a VJP rule was called")

    for op in OPS.values():
        if op.differentiable:
            mutate(op, vjp=tuple(None if r is None else boom for r in op.vjp))
    w = sg.randn(5, 3, requires_grad=True)
    b = sg.randn(3, requires_grad=True)
    loss = _tutorial(w, b)
    m = sg.symbolic.mirror(loss)
    g = sg.symbolic.evaluate(sg.symbolic.gradient(m, w))
    with pytest.raises(AssertionError, match="VJP rule was called"):
        loss.backward()
    z = sg.matmul(sg.ones(5), w.detach()) + b.detach()
    s = 1 / (1 + np.exp(-z.numpy()))
    np.testing.assert_allclose(g, np.outer(np.ones(5), s / 3), rtol=1e-14)


def test_assert_gradients_match_message(mutate):
    from symgrad.testing import assert_gradients_match

    assert_gradients_match(lambda a: (a.exp() * a).sum(), sg.rand(3))
    mutate(OPS["exp"], vjp=(lambda xp, g, ans, x: g * ans * 1.001,))
    with pytest.raises(AssertionError) as e:
        assert_gradients_match(lambda a: (a.exp() * a).sum(), sg.rand(3))
    assert "ExpBackward0" in str(e.value) and "rule mismatch" in str(e.value)


def test_symgrad_check_fixture(symgrad_check):
    report = symgrad_check(lambda a: (a.tanh() ** 2).sum(), sg.rand(4))
    assert report.ok


@pytest.mark.parametrize("fn, verdict", [
    (lambda x: x.sqrt().sum(), AGREE),                  # inf at 0, exactly as the limit
    (lambda x: (1 / x).sum(), AGREE),
    (lambda x: (x * x.log()).sum(), KINK),              # log's rule makes 0/0 = nan at 0
])
def test_singular_points_are_reported_not_raised(fn, verdict):
    # mpmath refuses 1/0; the verifier must still answer (and say where it happened).
    x = sg.tensor([0.0, 1.5], requires_grad=True)
    r = verify.check(fn, x)
    assert r.rows[1].verdict == verdict
    assert any("divide(s) by exactly zero" in n for n in r.notes)


def test_jvp_mode_matches_the_functional_jvp_and_catches_a_wrong_rule(mutate):
    a = sg.randn(3, 4)
    v = np.arange(12.0).reshape(3, 4) / 8

    def f(a):
        return (a.tanh() * 2).exp()

    r = verify.check(f, a, mode="jvp", tangent=[v])
    assert r.ok and r.row("a").what == "jvp"
    _, jv = sg.autograd.functional.jvp(f, a, sg.tensor(v))
    np.testing.assert_allclose(r.row("a").numeric, jv.numpy(), rtol=1e-14)
    np.testing.assert_allclose(r.row("a").exact, jv.numpy(), rtol=1e-14)
    mutate(OPS["tanh"], vjp=(lambda xp, g, ans, x: g * (1 - ans * ans) * (1 + 1e-9),))
    bad = verify.check(f, a, mode="jvp", tangent=[v])
    assert bad.row("a").verdict == MISMATCH and bad.findings[0].node == "TanhBackward0"


def test_central_differences_are_a_witness_not_the_judge():
    # Richardson-extrapolated central differences land near the exact value here ...
    r = verify.check(lambda w: (w.sin() * w).sum(), sg.tensor([0.3, -1.2, 2.0]))
    assert r.ok and r.row("w").fd_rel_err < 1e-8
    assert "cd rel err" in r.table() and "central_difference_rel_error" in r.to_dict()["rows"][1]
    # ... and far from it at 1e-300 (the step leaves log's domain): no effect on the verdict.
    r = verify.check(lambda x: x.log().sum(), sg.tensor([1e-300, 2e-300]))
    assert r.ok and r.row("x").verdict == AGREE
    assert r.row("x").fd_rel_err is None or not r.row("x").fd_rel_err < 1e-3


def test_elementwise_jacobian_shortcut_still_judges_every_entry(mutate):
    # An elementwise graph's Jacobian is diagonal; the shortcut must not hide a wrong rule
    # nor turn a broadcast graph (whose Jacobian is not diagonal) into a diagonal one.
    a = sg.randn(3, 3)
    assert verify.check(lambda a: a.tanh() * 2, a, mode="jacobian").ok
    r = verify.check(lambda a, b: (a + b).tanh(), a, sg.randn(3), mode="jacobian")
    assert r.ok and r.row("b").numeric.shape == (3, 3, 3)
    mutate(OPS["tanh"], vjp=(lambda xp, g, ans, x: g * (1 - ans * ans) * (1 + 1e-12),))
    bad = verify.check(lambda a: a.tanh() * 2, a, mode="jacobian")
    assert bad.row("a").verdict == MISMATCH and bad.findings[0].node == "TanhBackward0"


def test_compare_with_support_equals_the_full_scan():
    from symgrad.verify.compare import compare, hp_close

    rng = np.random.default_rng(3)
    for trial in range(30):
        shape = (4, 5)
        exact = np.full(shape, mpmath.mpf(0), dtype=object)
        support = np.sort(rng.choice(20, size=rng.integers(0, 8), replace=False))
        for k in support:
            exact.reshape(-1)[k] = mpmath.mpf(rng.normal()) / 3
        numeric = np.array([float(v) for v in exact.reshape(-1)]).reshape(shape)
        if trial % 3 == 0:   # a stray nonzero where the exact value is 0, or a bad entry
            numeric.reshape(-1)[rng.integers(20)] += 1e-3
        if trial % 5 == 0 and support.size:
            numeric.reshape(-1)[support[0]] *= 1 + 1e-9
        full = compare(numeric, exact, 20.0)
        sparse = compare(numeric, exact, 20.0, support=support)
        assert vars(full) == vars(sparse)
        assert hp_close(exact, exact * 1, 0) == hp_close(exact, exact * 1, 0, support=support)


def test_jacobian_witness_groups_columns_that_share_no_row():
    from symgrad.verify import sparsity, witness

    x = sg.tensor(np.linspace(-2, 3, 12).reshape(3, 4))
    fn = lambda a: (a + 1) ** 2 * a.tanh()  # noqa: E731 - elementwise: one group
    rows = cols = np.arange(12)
    assert len(sparsity.groups((rows, cols), 12, 12)) == 1
    grouped = witness.jacobian_columns(fn, [x], 0, (rows, cols))
    per_column = witness.jacobian_columns(fn, [x], 0)
    np.testing.assert_allclose(grouped, per_column, rtol=1e-12, atol=1e-15)
    # a dense row (a sum) leaves nothing to group
    dense = (np.repeat(np.arange(12), 12), np.tile(np.arange(12), 12))
    assert sparsity.groups(dense, 12, 12) is None


def test_large_elementwise_jacobian_is_checked_entry_by_entry():
    rep = verify.check(lambda inp: (inp + 1) ** 2, sg.tensor(np.eye(20)), mode="jacobian")
    row = rep.rows[1]
    assert rep.ok and row.shape == (20, 20, 20, 20) and row.method == "full"
    assert row.exact[3, 4, 3, 4] == 2.0 and row.exact[3, 4, 4, 3] == 0.0
    assert row.fd_rel_err is not None and row.fd_rel_err < 1e-8


@pytest.mark.parametrize("fn", [
    lambda a: (a + 1) ** 2 * a.tanh(),               # diagonal: one probe
    lambda a: a[:, :2] * a[:, 2:].exp(),             # two entries per row: two probes
    lambda a: a.sum(1, keepdim=True) * a.sigmoid(),  # dense rows: closed forms
])
def test_jacobian_by_probes_equals_closed_forms(monkeypatch, fn):
    import sys

    check_mod = sys.modules["symgrad.verify.check"]
    x = sg.tensor(np.linspace(-1.5, 2.0, 12).reshape(3, 4))
    probes = verify.check(fn, x, mode="jacobian")
    monkeypatch.setattr(check_mod, "MAX_PROBES", 0)
    closed = verify.check(fn, x, mode="jacobian")
    assert probes.ok and closed.ok
    np.testing.assert_array_equal(probes.rows[1].exact, closed.rows[1].exact)
    assert probes.rows[1].closed_form == closed.rows[1].closed_form


def test_sparsity_pattern_reads_the_symbols_each_entry_holds():
    from symgrad import symbolic
    from symgrad.verify import sparsity

    a = symbolic.symbols("a", (2, 3))
    out = (a[:, :1] * a).exp()._data        # entry (i, j) holds a[i,0] and a[i,j]
    rows, cols = sparsity.pattern(out, a._data)
    got = sorted(zip(rows.tolist(), cols.tolist()))
    want = sorted({(i * 3 + j, i * 3 + c) for i in range(2) for j in range(3) for c in (0, j)})
    assert got == want
    groups = sparsity.groups((rows, cols), 6, 6, most=6)
    for g in groups:   # no two columns of a group share a row
        hit = [r for r, c in zip(rows, cols) if c in set(g.tolist())]
        assert len(hit) == len(set(hit))


@pytest.mark.parametrize("mode, directions", [("jacobian", None), ("gradient", 3)])
def test_singular_point_is_decided_by_the_closed_form(mode, directions):
    # d(x log x)/dx = log(x) + 1 is -inf at 0; node by node it is log(0) + 0 * inf = nan,
    # which would hide that log's rule gives nan there (full gradients: see above)
    x = np.linspace(0.0, 2.0, 4)
    fn = (lambda a: a * a.log()) if mode == "jacobian" else (lambda a: (a * a.log()).sum())
    r = verify.check(fn, sg.tensor(x), mode=mode, directions=directions)
    assert r.rows[1].verdict == KINK


def test_large_gradient_checks_without_building_every_closed_form():
    rng = np.random.default_rng(1)
    x, y = sg.tensor(rng.normal(size=(8, 20))), sg.tensor(np.arange(8) % 3)
    r = verify.check(lambda w1, w2: F.cross_entropy((x @ w1).tanh() @ w2, y),
                     sg.tensor(rng.normal(size=(20, 16))), sg.tensor(rng.normal(size=(16, 3))))
    assert r.ok and [row.method for row in r.rows[1:]] == ["full", "full"]
    assert any("no closed form shown for w1, w2" in n for n in r.notes)


def test_hessian_through_a_kink_is_reported_as_a_kink_not_a_wrong_rule():
    r = verify.check(lambda x: (F.relu(x) ** 2).sum(), sg.tensor([0.0, 1.0, -2.0]), order=2)
    assert [row.verdict for row in r.rows] == [AGREE, AGREE, KINK]
    assert not r.findings


def test_jacobian_witness_sees_what_the_mirror_holds_fixed():
    # the mirror fixes where()'s condition, so its row 0 does not hold x[0]; central
    # differences cross the jump and must still show it
    r = verify.check(lambda x, y: sg.where(x > 0, x * y, y * y), sg.tensor([0.0, 1.0, -2.0]),
                     sg.tensor([0.3, -1.2, 0.7]), mode="jacobian")
    assert r.rows[1].fd_rel_err > 1 and r.rows[2].fd_rel_err < 1e-8


def test_jacobian_of_0d_and_empty_tensors():
    r = verify.check(lambda x: x * x.exp(), sg.tensor(1.5), mode="jacobian")
    assert r.ok and r.rows[1].shape == ()
    r = verify.check(lambda x: x[:0] * 2, sg.tensor([1.0, 1.0, 1.0]), mode="jacobian")
    assert r.ok and r.rows[1].closed_form == "dout/dx = 0"


def test_elementwise_jacobian_names_a_rule_that_mixes_entries(mutate):
    # sum(g) * f'(x) / n equals the right rule for a cotangent of ones: the high-precision
    # run must use a cotangent whose entries differ to call it a rule mismatch
    mutate(OPS["tanh"], vjp=(lambda xp, g, ans, x: xp.sum(g) * (1 - ans * ans) / g.size,))
    r = verify.check(lambda a: a.tanh(), sg.tensor(np.linspace(-1, 1, 6)), mode="jacobian")
    assert r.rows[1].verdict == MISMATCH
    assert r.findings and r.findings[0].node == "TanhBackward0"


def test_closed_forms_are_built_on_first_read_only(monkeypatch):
    # verdicts never read a closed form: check leaves them to the report's reader, who
    # gets the same text, built once
    import importlib

    check_mod = importlib.import_module("symgrad.verify.check")
    calls = []
    real = check_mod._representative
    monkeypatch.setattr(check_mod, "_representative",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    r = verify.check(lambda a, b: (a.tanh() * b).sum(), sg.tensor([0.5, -1.0]),
                     sg.tensor([2.0, 3.0]), order=2)
    assert r.ok and not calls
    text = r.table()
    n = len(calls)
    assert n and "closed form: dout/da[i] = (1 - tanh(a[i])**2)*b[i]" in text
    assert "d(dout/da[0])/db[0] = 1 - tanh(a[0])**2" in text
    assert r.table() == text and r.to_dict()["rows"][1]["closed_form"] and len(calls) == n


def test_a_pickled_report_carries_its_closed_forms_as_text():
    import pickle

    r = verify.check(lambda a: (a.tanh() * 2).sum(), sg.tensor([0.5, -1.0]))
    back = pickle.loads(pickle.dumps(r))
    assert back.rows[1].closed_form == "dout/da[i] = 2 - 2*tanh(a[i])**2  (one formula for all " \
                                       "2 entries)"
    assert back.table() == r.table()


def test_a_rule_dividing_by_zero_where_the_op_is_smooth_is_a_mismatch(mutate):
    # d(x y)/dx written as g (x y) / x is 0/0 at x = 0, where mul is smooth: that is the
    # rule's fault (named), not a singular point of the function. A genuinely singular
    # point (sqrt(x)**2 at 0: sqrt's derivative is infinite) stays one.
    from symgrad.ops import OPS

    mul = OPS["mul"]
    mutate(mul, vjp=(lambda xp, g, ans, x, y: g * (x * y) / x, mul.vjp[1]))
    rep = verify.check(lambda a, b: (a * b).sum(), sg.tensor([0.0, 2.0]), sg.tensor([3.0, 4.0]))
    assert [r.verdict for r in rep.rows] == [verify.AGREE, verify.MISMATCH, verify.AGREE]
    assert not rep.ok and rep.findings and rep.findings[0].node == "MulBackward0"
    rep = verify.check(lambda a: (sg.sqrt(a) ** 2).sum(), sg.tensor([0.0, 4.0]))
    assert rep.rows[1].verdict == verify.KINK and rep.ok
