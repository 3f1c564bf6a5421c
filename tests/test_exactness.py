"""Exact evaluation skips its second precision only for runs that rounded nowhere, and the
values are then the same bit for bit as with the second run."""

import random

import mpmath
import numpy as np
import pytest
import sympy

from symgrad.symbolic import derive, exactness
from symgrad.symbolic.mpeval import Program

x, y, z = sympy.symbols("x y z", real=True)


def _run(expr, point, dps=60):
    program = Program([expr])
    with mpmath.workdps(dps):
        reg = program.run({s: derive._to_mp(v) for s, v in point.items()})
        return program, reg, exactness.values_exact(program, reg, point, mpmath.mp.prec)


@pytest.mark.parametrize("v, bits", [
    (sympy.Rational(3, 8), 2), (sympy.Integer(12), 2), (sympy.Rational(1, 3), None),
    (sympy.Integer(0), 0), (sympy.Rational(0.1), 52), (7, 3), (sympy.Float(0.5), None),
    (sympy.pi, None)])
def test_dyadic_bits(v, bits):
    assert exactness.dyadic_bits(v) == bits


def test_polynomial_at_float_point_is_exact():
    point = {x: sympy.Rational(0.1), y: sympy.Rational(-2.5), z: sympy.Rational(3)}
    _, reg, exact = _run((x + 1) ** 2 * y - 3 * x * z + sympy.Rational(1, 4), point)
    assert exact


@pytest.mark.parametrize("expr", [
    x / 3,                      # a constant that rounds
    sympy.exp(x),               # a transcendental head
    1 / (x + y),                # a reciprocal of a non-power of two
    x ** 40,                    # 40 * 53 bits do not fit 60 digits
    x + 2 ** -300 * y,          # the sum spans more bits than the precision
])
def test_rounding_runs_are_not_exact(expr):
    point = {x: sympy.Rational(0.1), y: sympy.Rational(1.5)}
    assert not _run(expr, point)[2]


def test_reciprocal_of_power_of_two_is_exact():
    assert _run(1 / (x * y), {x: sympy.Rational(1, 4), y: sympy.Integer(-8)})[2]


def test_inexact_point_value_is_not_exact():
    assert not _run(x * y, {x: sympy.Rational(1, 3), y: sympy.Integer(2)})[2]


def test_sum_that_needs_more_bits_than_first_precision_is_still_right():
    # (x + y) - x at x = 2**300, y = 1: the first run (60 digits) cannot hold x + y exactly
    e = sympy.Add(sympy.Add(x, y, evaluate=False) ** 1, -x, evaluate=False)
    point = {x: sympy.Integer(2) ** 300, y: sympy.Integer(1)}
    assert not _run(sympy.Add(x, y), point)[2]
    assert derive.evaluate_mp(np.array([e], dtype=object), point)[0] == 1


def _first_prec() -> int:
    with mpmath.workdps(60):   # the first run of evaluate_mp's default 50 digits
        return mpmath.mp.prec


def _mersenne(bits: int) -> sympy.Integer:
    """2^bits - 1: all ``bits`` bits set, so no bound of fewer bits holds its products."""
    return sympy.Integer(2) ** bits - 1


@pytest.mark.parametrize("extra", [0, 1])   # exactly the first precision's bits, and one more
def test_bounds_are_right_at_the_precision(extra):
    """Results that need the first precision's bits plus ``extra`` come out exact: a bound
    one bit too low would keep the rounded first run."""
    p = _first_prec() + extra
    k = p // 3
    cases = [(x + y, {x: _mersenne(p - 1), y: sympy.Integer(2)}),        # a carry: 2^(p-1) + 1
             (x * y, {x: _mersenne(k), y: _mersenne(p - k)}),             # p bits
             (x ** 3, {x: _mersenne(k + (p % 3 > 0))})]                    # >= p bits
    for expr, point in cases:
        got = derive.evaluate_mp(np.array([expr], dtype=object), point)[0]
        assert int(got) == int(expr.subs(point)), expr
    # forward mode along t: d(x^3) = 3 x^2 t (3 = 2 bits, x^2 40, t the rest) and
    # d(xyz) = yz t
    point = {x: _mersenne(20), y: _mersenne(k), z: _mersenne(p - k - 1)}
    for expr, t in ((x ** 3, _mersenne(p - 42)), (x * y * z, sympy.Integer(2) ** 5 + 1)):
        (got,) = derive.directional_mp_many(np.array([expr], dtype=object), [{x: t}], point)
        assert int(got[0]) == int(sympy.diff(expr, x).subs(point) * t), expr


def _random_polynomial(rng, syms, depth=3):
    """A random expression of sums, products, integer powers and dyadic or other constants
    (long sums included: Program evaluates those in one step)."""
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(syms + [sympy.Rational(rng.choice([1, 3, -5]), rng.choice([1, 4, 3]))])
    kind = rng.choice(["add", "mul", "pow", "long"])
    if kind in ("add", "mul"):
        head = sympy.Add if kind == "add" else sympy.Mul
        return head(*[_random_polynomial(rng, syms, depth - 1) for _ in range(rng.randint(2, 3))])
    if kind == "pow":
        return _random_polynomial(rng, syms, depth - 1) ** rng.choice([2, 3, -1, -2])
    return sympy.Add(*[sympy.Rational(rng.randint(-9, 9), rng.choice([1, 2, 8])) * s
                       for s in syms])


def _without_shortcut(monkeypatch):
    monkeypatch.setattr(exactness, "value_spans", lambda *a: None)
    monkeypatch.setattr(exactness, "values_exact", lambda *a: False)


def test_values_and_directions_match_the_two_precision_path(monkeypatch):
    """For random polynomial mirrors at random float points (tiny, huge, zero entries),
    the values and directional derivatives are the same mpf numbers with the shortcut as
    without it."""
    rng = random.Random(3)
    syms = list(sympy.symbols("s0:18", real=True))   # 18: long sums become linear steps
    taken = 0
    for _ in range(40):
        exprs = np.array([_random_polynomial(rng, syms) for _ in range(3)], dtype=object)
        spread = rng.choice([4, 40, 200])   # 200: some sums need more bits than 60 digits
        scales = [0.0, 1.0, -0.5, 2.0 ** rng.randint(-spread, spread)]
        point = {s: sympy.Rational(rng.choice(scales) * rng.uniform(-3, 3)) for s in syms}
        dirs = [{s: sympy.Rational(rng.choice([1, -2, 0.375])) for s in syms[:4]},
                {syms[0]: sympy.Rational(1, 3)}]   # a tangent that rounds
        got = [derive.evaluate_mp(exprs, point),
               *derive.directional_mp_many(exprs, dirs[:1], point),
               *derive.directional_mp_many(exprs, dirs, point)]
        program = Program(list(exprs))
        with mpmath.workdps(60):
            reg = program.run({s: derive._to_mp(v) for s, v in point.items()})
            taken += exactness.values_exact(program, reg, point, mpmath.mp.prec)
        with monkeypatch.context() as m:
            _without_shortcut(m)
            want = [derive.evaluate_mp(exprs, point),
                    *derive.directional_mp_many(exprs, dirs[:1], point),
                    *derive.directional_mp_many(exprs, dirs, point)]
        for a, b in zip(got, want):
            assert [v._mpf_ for v in a.reshape(-1)] == [v._mpf_ for v in b.reshape(-1)]
    assert 5 <= taken <= 35   # both paths were exercised


def test_check_of_polynomial_jacobian_agrees_and_catches_a_wrong_rule(monkeypatch):
    """The shortcut serves ``check``: a square's Jacobian agrees, and a rule off by one
    part in 10^7 is still named (its exact values come from the one exact run)."""
    import symgrad as sg
    from symgrad.ops.elementwise import POW
    from symgrad.verify import check

    assert check(lambda a: (a + 1) ** 2, sg.tensor(np.eye(3)), mode="jacobian").ok
    assert check(lambda a: (a * a * 3).sum(), sg.tensor([0.5, -1.25])).ok
    (rule,) = POW.vjp
    off = lambda xp, g, ans, x, *, exponent: rule(xp, g, ans, x, exponent=exponent) * (1 + 1e-7)
    monkeypatch.setattr(POW, "vjp", (off,))
    rep = check(lambda a: (a + 1) ** 2, sg.tensor(np.eye(3)), mode="jacobian")
    assert not rep.ok and "pow" in str(rep).lower()


@pytest.mark.parametrize("n", [2 ** 300, -(2 ** 300)])
def test_huge_exponent_whose_predecessor_rounds_is_not_exact(n):
    """d(x^n)/dx = n x^(n-1) is computed with mpf(n - 1), which rounds at the first
    precision for n = +-2^300 even though n and x = -1 are exact."""
    point = {x: sympy.Integer(-1)}
    (got,) = derive.directional_mp_many(np.array([x ** n], dtype=object), [{x: 1}], point)
    assert int(got[0]) == (n if (n - 1) % 2 == 0 else -n)   # n (-1)^(n-1)
