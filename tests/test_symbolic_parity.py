"""The symbolic side and the verifier as a SymPy user meets them, against SymPy itself.

Random programs (tests/symbolic_programs.py) are built on ``symbolic.symbols`` tensors and
written again directly in SymPy; ``gradient`` / ``jacobian`` / ``hessian`` must equal
``sympy.diff`` / ``Matrix.jacobian`` / ``sympy.hessian`` of the SymPy form at random
rational points (exactly where the values are rational). A longer run:
``PYTHONPATH=. python scripts/fuzz_symbolic_parity.py``.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy

import symgrad as sg
from symgrad import symbolic as S
from symgrad import verify
from symgrad.cli import main
from symgrad.nn import functional as F
from symgrad.ops import OPS
from symgrad.testing import assert_gradients_match
from symgrad.verify.compare import AGREE, INACCURATE, KINK, MISMATCH

sys.path.insert(0, str(Path(__file__).parent))
import symbolic_programs as programs  # noqa: E402

# quick programs covering kinks (abs, relu, clamp, hardtanh, where, amax / amin, minimum),
# reductions, matmul, shape ops, losses, log_softmax kin, mixed symbol/number inputs,
# positive symbols, numeric constants (int and float), 0-d and empty (0, 3) inputs
SEEDS = [0, 2, 5, 6, 11, 13, 17, 19, 23, 29, 31, 34, 36, 43, 45, 46, 52, 53, 54, 60, 67, 69,
         71, 73, 77, 137]


@pytest.mark.parametrize("seed", SEEDS)
def test_random_programs_match_sympy_without_any_vjp_rule(seed, mutate):
    def boom(*args, **kwargs):
        raise AssertionError("a VJP rule was called")

    for op in OPS.values():   # the symbolic side must never read a rule
        if op.differentiable:
            mutate(op, vjp=tuple(None if r is None else boom for r in op.vjp))
    out = programs.compare(seed, steps=3, hessian=True, points=1)
    assert not out.problems, (out.steps, out.problems)
    assert out.compared > 0 or any(0 in t.shape for t in programs.build(seed).inputs)


def _sym(name, **kw):
    return sympy.Symbol(name, real=True, **kw)


# ------------------------------------------------------------------ SymPy inputs
def test_sympy_vectors_and_symbol_lists_are_one_vector_as_in_sympy():
    a, b = _sym("a"), _sym("b")
    f = a ** 2 * b + sympy.sin(b)
    for wrt in ([a, b], sympy.Matrix([a, b]), sympy.ImmutableMatrix([[a, b]])):
        g = S.gradient(f, wrt)
        assert g.shape == (2,) and list(g.tolist()) == list(sympy.derive_by_array(f, [a, b]))
        H = S.hessian(f, wrt)
        assert sympy.Matrix(H) == sympy.hessian(f, [a, b])
    J = S.jacobian(sympy.Matrix([a * b, a + b, sympy.exp(a)]), sympy.Matrix([a, b]))
    assert sympy.Matrix(J) == sympy.Matrix([a * b, a + b, sympy.exp(a)]).jacobian([a, b])


def test_sympy_matrix_and_array_keep_their_shape():
    a, b, c, d = (_sym(n) for n in "abcd")
    M = sympy.Matrix([[a, b], [c, d]])
    J = S.jacobian(M, [a, d])
    assert J.shape == (2, 2, 2) and J._data[0, 0, 0] == 1 and J._data[1, 1, 1] == 1
    arr = sympy.Array([[a * b, c], [d, a]])
    J2 = S.jacobian(arr, sympy.Matrix([a]))
    assert J2.shape == (2, 2, 1) and J2._data[0, 0, 0] == b
    assert S.gradient(a * b * c * d, M)._data.tolist() == [[b * c * d, a * c * d],
                                                            [a * b * d, a * b * c]]


def test_tensors_from_sympy_values_and_numbers_stay_exact():
    a = _sym("a")
    for t in (sg.tensor([a, 0.5]), sg.tensor(np.array([a, 0.5], dtype=object)),
              sg.tensor(sympy.ImmutableMatrix([[a, sympy.Rational(1, 2)]])).reshape(-1)):
        assert t._data[1] == sympy.Rational(1, 2) and isinstance(t._data[1], sympy.Rational)
    x = S.symbols("x", 2)
    exprs = [sg.where(x > 0, x, 0.5), sg.where(x > 0, x, sg.tensor(0.25)),
             sg.cat([x, sg.tensor([0.75])]), sg.stack([x, sg.tensor([0.5, 1.0])]),
             F.kl_div(x, x * x + 1, reduction="sum"), sg.tensor([0.1, 3.0]).to(x.dtype) * x]
    for e in exprs:
        floats = [f for v in e._data.reshape(-1) for f in sympy.sympify(v).atoms(sympy.Float)]
        assert not floats, (e, floats)
    g = S.gradient(((x * 0.5) ** 2).sum(), x)
    assert g._data.tolist() == [x._data[0] / 2, x._data[1] / 2]


def test_several_wrt_give_tuples_and_hessian_blocks():
    w, b = S.symbols("w", (2,)), S.symbols("b")
    f = ((w * b).tanh() ** 2).sum() + b ** 3
    gw, gb = S.gradient(f, (w, b))
    assert gw.shape == (2,) and gb.shape == ()
    blocks = S.hessian(f, (w, b))
    full = sympy.hessian(f._data[()], list(w._data) + [b._data[()]])
    assert [[blk.shape for blk in row] for row in blocks] == [[(2, 2), (2,)], [(2,), ()]]
    assert sympy.Matrix(blocks[0][0]) == full[:2, :2]
    assert list(blocks[0][1]._data) == list(full[:2, 2]) == list(blocks[1][0]._data)
    assert blocks[1][1]._data[()] == full[2, 2]


def test_assumptions_reach_sympy():
    p = S.symbols("p", 2, positive=True)
    g = S.gradient((p.abs() * p.log() + p.sqrt()).sum(), p)
    p0 = p._data[0]
    assert p0.is_positive and sympy.simplify(g._data[0] - (sympy.log(p0) + 1
                                                           + 1 / (2 * sympy.sqrt(p0)))) == 0
    z = S.symbols("z", 2, real=None)   # symbols are real unless told otherwise
    assert z._data[0].is_real is None and S.symbols("r")._data[()].is_real


def test_zero_dim_and_empty_tensors():
    s = S.symbols("s")
    assert S.gradient(s * s, s).shape == () and S.hessian(s ** 3, s)._data[()] == 6 * s._data[()]
    e = S.symbols("e", (0,))
    x = S.symbols("x", 3)
    f = e.sum() + (x * x).sum()
    assert S.gradient(f, e).shape == (0,)
    assert S.jacobian(x * x, e).shape == (3, 0) and S.jacobian(e * 2, x).shape == (0, 3)
    assert S.hessian(f, e).shape == (0, 0)
    assert S.symbols("m", (2, 0)).shape == (2, 0)
    # reductions of no entries: SymPy's nan where PyTorch gives nan, not ZeroDivisionError
    with pytest.warns(UserWarning):
        assert sg.tensor([]).var().isnan().item()
        assert e.var()._data[()] is sympy.nan
    for t in (e.mean(), F.mse_loss(e, e)):
        assert t._data[()] is sympy.nan


# ------------------------------------------------------------------ results and printing
def test_results_print_lambdify_and_convert_like_sympy_values():
    x = S.symbols("x", 2)
    f = (x.exp() * x).sum()
    g, H = S.gradient(f, x), S.hessian(f, x)
    assert isinstance(g, sg.Tensor) and g.dtype == x.dtype   # symbolic tensors, documented
    assert sympy.latex(H) == sympy.latex(sympy.ImmutableMatrix(H.tolist()))
    assert "x[0]⋅ℯ" in sympy.pretty(H) and sympy.sstr(g) == sympy.sstr(sympy.sympify(g))
    assert sympy.Matrix(H).is_symmetric()
    num = sympy.lambdify(list(x._data), H)(1, 2)
    np.testing.assert_allclose(np.asarray(num, dtype=float),
                               np.diag([3 * np.e, 4 * np.e ** 2]), rtol=1e-15)
    assert "x[0]*exp(x[0])" in repr(g) and "dtype=symbolic" in repr(g)


def test_bad_arguments_say_what_is_wrong():
    a = _sym("a")
    with pytest.raises(TypeError, match="string 'a'"):
        S.gradient(a ** 2, "a")
    with pytest.raises(TypeError, match=r"got 1/3 \(entry \(1,\) of wrt\)"):
        S.gradient(a ** 2, sg.tensor([a, sympy.Rational(1, 3)]))
    with pytest.raises(ValueError, match="jacobian"):
        S.gradient(S.symbols("v", 2), a)
    with pytest.raises(TypeError, match="shape must be an int"):
        S.symbols("w", 2.5)
    with pytest.raises(ValueError, match="negative dimension"):
        S.symbols("w", (2, -1))
    x = S.symbols("x", 3)
    for fn in (lambda: x.sort(), lambda: x.topk(2), lambda: x.argmax(), lambda: x.argsort()):
        with pytest.raises(TypeError, match="symbolic entries do not allow"):
            fn()
    assert sg.tensor([3, 1, 2]).to(x.dtype).argmax().item() == 0   # numbers still order


# ------------------------------------------------------------------ the verifier
def _numeric(seed):
    """A small numeric program of the fuzz's op rows, and its inputs (off every kink)."""
    rng = np.random.default_rng(seed)
    names = sorted(programs.UNARY)
    ops = [names[i] for i in rng.choice(len(names), 2, replace=False)]
    binary = sorted(programs.BINARY)[seed % len(programs.BINARY)]

    def fn(x, y):
        t = programs.BINARY[binary][0](x, y)
        for name in ops:
            t = programs.UNARY[name][0](t)
        return t.sum()

    vals = (rng.integers(1, 12, size=(2, 6)) * rng.choice([-1, 1], size=(2, 6)) / 8
            + np.arange(12).reshape(2, 6) / 1024)
    return fn, sg.tensor(vals[0]), sg.tensor(vals[1]), ops + [binary]


@pytest.mark.parametrize("seed", [0, 3, 7])
def test_verifier_agrees_on_correct_rules_and_names_a_planted_one(seed, mutate):
    fn, x, y, ops = _numeric(seed)
    rep = verify.check(fn, x, y)
    assert rep.ok, rep.table()
    json.dumps(rep.to_dict())
    out = fn(x.clone().requires_grad_(), y)
    node = out.grad_fn.next_functions[0][0]   # the last op before the sum
    op = node.op
    mutate(op, vjp=tuple(None if r is None else
                         (lambda *a, r=r, **k: r(*a, **k) * 1.001) for r in op.vjp))
    bad = verify.check(fn, x, y)
    assert not bad.ok and MISMATCH in [r.verdict for r in bad.rows], (ops, bad.table())
    assert bad.findings[0].op == op.name and op.name in bad.table()


def test_verifier_at_kinks_and_overflow():
    rep = verify.check(lambda x: F.relu(x).sum() + x.abs().sum(), sg.tensor([0.0, 1.5]))
    assert rep.ok and {k.op for k in rep.kinks} == {"relu", "abs"}
    assert rep.rows[1].verdict == KINK and "non-differentiable" in rep.table()
    at_abs = verify.check(lambda x: x.abs().sum(), sg.tensor([0.0, 2.0]))
    assert at_abs.rows[1].verdict == AGREE   # abs'(0) = sign(0) = 0: SymPy's value too
    assert "non-differentiable point" in at_abs.rows[1].detail and at_abs.kinks[0].left == -1
    naive = verify.check(lambda z: (1 + z.exp()).log().sum(), sg.tensor([800.0]))
    assert not naive.ok and naive.rows[1].verdict == INACCURATE
    assert "float64 gave nan at (0,) where the exact value is 1" in naive.table()
    d = naive.to_dict()
    assert d["rows"][1]["notes"] and d["rows"][1]["numeric"] == ["nan"]
    json.dumps(d, allow_nan=False)   # strict JSON: inf and nan as strings
    over = verify.check(lambda z: z.exp().sum(), sg.tensor([800.0]))
    assert over.rows[1].verdict == AGREE and "beyond float64's range" in over.table()
    json.dumps(over.to_dict(), allow_nan=False)


def test_integer_inputs_check_the_forward_and_say_so():
    rep = verify.check(lambda n: n * 2.0, sg.tensor(3))
    assert rep.ok and [r.what for r in rep.rows] == ["forward"]
    assert "no input is differentiated" in rep.table()


def test_assert_gradients_match_fails_naming_the_op(mutate):
    mutate(OPS["tanh"], vjp=(lambda xp, g, ans, x: g * (1 - ans * ans) * 1.01,))
    with pytest.raises(AssertionError) as e:
        assert_gradients_match(lambda w: (w.tanh() * w).sum(), sg.tensor([0.5, -1.25]))
    msg = str(e.value)
    assert "rule mismatch" in msg and "TanhBackward0" in msg and "1 - tanh(x)**2" in msg
    assert "digits are lost" not in msg   # accuracy notes are not shown for a wrong rule


@pytest.mark.parametrize("argv, words", [
    (["rules", "--op", "sigmod"], "did you mean sigmoid"),
    (["rules", "--points", "0"], "--points"),
    (["rules", "--op", "eq"], "'eq' is not differentiable"),
    (["verify", "--case", "nope"], "unknown case"),
    (["verify", "--timeout", "x"], "--timeout"),
    (["bogus"], "invalid choice"),
])
def test_cli_bad_arguments_exit_2_with_one_line(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err


def test_check_rules_takes_one_name():
    assert [r.op for r in verify.check_rules("exp")] == ["exp"]


def test_cli_list_json(capsys):
    assert main(["verify", "--list", "--json"]) == 0
    cases = json.loads(capsys.readouterr().out)
    assert cases[0]["name"].startswith("tutorial") and {"name", "title"} <= set(cases[0])
