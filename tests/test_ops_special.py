"""symgrad.ops.special: xlogy, sinc, heaviside, fmax/fmin, logaddexp2, deg2rad/rad2deg, sgn,
lgamma, digamma, polygamma, erfinv, float_power. The rule proofs run in tests/test_ops.py
(every record of the table); here: the numeric special functions against mpmath, the
conventions at kinks and poles, errors, and parity with PyTorch where it is installed."""

import math

import mpmath
import numpy as np
import pytest

import symgrad as sg
from symgrad import verify
from symgrad.ops import OPS
from symgrad.ops import _special_np as S
from torch_parity import compare

T = sg.tensor
NAN, INF = float("nan"), float("inf")
RECORDS = {"xlogy": "XlogyBackward0", "sinc": "SincBackward0", "fmax": "FmaxBackward0",
           "fmin": "FminBackward0", "logaddexp2": "Logaddexp2Backward0",
           "deg2rad": "Deg2RadBackward0", "rad2deg": "Rad2DegBackward0",
           "lgamma": "LgammaBackward0", "digamma": "DigammaBackward0",
           "polygamma": "PolygammaBackward0", "erfinv": "ErfinvBackward0"}


def _rng(seed=0):
    return np.random.default_rng(seed)


def test_records_are_in_the_table_with_mirrors():
    for name, grad_fn in RECORDS.items():
        op = OPS[name]
        assert op.grad_fn == grad_fn and op.differentiable and op.mirror is not None
        assert op.kind == "elementwise" and op.elementwise
    assert not OPS["heaviside"].differentiable


# ---------------------------------------------------------------- numerics against mpmath
@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_polygamma_is_accurate(n):
    rng = _rng(n)
    xs = np.concatenate([rng.uniform(-15, 15, 60), 10 ** rng.uniform(-6, 4, 30)])
    got = S.polygamma(n, xs)
    with mpmath.workdps(30):
        want = np.array([float(mpmath.polygamma(n, mpmath.mpf(x))) for x in xs])
    # digamma's roots (1.46, -0.50, -1.57, ...) lose relative digits: compare absolutely there
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-14)


def test_erfinv_and_lgamma_are_accurate():
    ys = np.concatenate([_rng(1).uniform(-1, 1, 80), 1 - 10 ** _rng(2).uniform(-16, -1, 20),
                         10.0 ** -np.arange(5, 300, 40)])
    with mpmath.workdps(40):   # (at 15 digits mpmath's own erfinv near 1 is off by 1e-14)
        want = np.array([float(mpmath.erfinv(mpmath.mpf(y))) for y in ys])
    np.testing.assert_allclose(S.erfinv(ys), want, rtol=4e-16)
    xs = _rng(3).uniform(-10, 30, 50)
    want = np.array([float(mpmath.re(mpmath.loggamma(x))) for x in xs])
    np.testing.assert_allclose(S.lgamma(xs), want, rtol=1e-13, atol=1e-14)


def test_values_at_poles_and_ends_follow_pytorch():
    x = np.array([0.0, -0.0, -1.0, -3.0, INF, NAN])
    assert S.lgamma(x).tolist()[:5] == [INF] * 5
    d = S.polygamma(0, x)
    assert d[:2].tolist() == [-INF, INF] and np.isnan(d[2:4]).all() and d[4] == INF
    assert S.polygamma(1, x)[:4].tolist() == [INF] * 4 and S.polygamma(1, x)[4] == 0
    assert S.polygamma(2, x)[:4].tolist() == [-INF] * 4
    assert S.polygamma(171, np.array([2.0])).tolist() == [INF]    # 171! overflows
    e = S.erfinv(np.array([1.0, -1.0, 0.0, 1.5, NAN]))
    assert e[:3].tolist() == [INF, -INF, 0.0] and np.isnan(e[3:]).all()
    assert S.erfinv(np.array([0.5], dtype=np.float32)).dtype == np.float32


# ---------------------------------------------------------------- conventions (no torch)
def test_xlogy_is_zero_where_x_is_zero_with_x_gradient_log_y_there():
    # PyTorch 2.13's rule: d/dx = log(y) at x == 0 too, except 0 where y <= 0
    x = T([0.0, 0.0, 0.0, 2.0, 0.0], requires_grad=True)
    y = T([0.0, -1.0, NAN, 3.0, 2.5], requires_grad=True)
    r = sg.xlogy(x, y)
    assert r.tolist()[:2] == [0.0, 0.0] and math.isnan(r.tolist()[2])
    r.sum().backward()
    assert x.grad.tolist()[:2] == [0.0, 0.0] and math.isnan(x.grad.tolist()[2])
    assert x.grad.tolist()[3] == math.log(3.0) and x.grad.tolist()[4] == math.log(2.5)
    assert math.isnan(y.grad.tolist()[0]) and y.grad.tolist()[3] == 2 / 3
    assert OPS["xlogy"].kinks.at(np.array([0.0, 1.0]), np.array([1.0, 1.0])).tolist() == [
        True, False]


def test_sinc_is_one_with_slope_zero_at_zero():
    x = T([0.0, 1.0, -0.5], requires_grad=True)
    r = sg.sinc(x)
    assert r.tolist()[0] == 1.0 and abs(r.tolist()[1]) < 1e-16
    r.sum().backward()
    assert x.grad.tolist()[0] == 0.0 and x.grad.tolist()[1] == pytest.approx(-1.0)


def test_fmax_fmin_skip_nan_and_give_ties_to_input():
    a = T([1.0, 2.0, NAN, NAN, 3.0], requires_grad=True)
    b = T([1.0, 1.0, 2.0, NAN, 4.0], requires_grad=True)
    r = sg.fmax(a, b)
    assert r.tolist()[:3] == [1.0, 2.0, 2.0] and math.isnan(r.tolist()[3])
    r.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0, 0.0, 1.0, 0.0]
    assert b.grad.tolist() == [0.0, 0.0, 1.0, 0.0, 1.0]
    a.grad = b.grad = None
    sg.fmin(a, b).sum().backward()
    assert a.grad.tolist() == [1.0, 0.0, 0.0, 1.0, 1.0]
    assert b.grad.tolist() == [0.0, 1.0, 1.0, 0.0, 0.0]
    assert sg.fmax(T([1, 5]), T([3, 2])).tolist() == [3, 5]


def test_heaviside_has_no_gradient():
    x = T([-1.0, 0.0, 2.0, NAN], requires_grad=True)
    r = sg.heaviside(x, T([0.5]))
    assert r.tolist() == [0.0, 0.5, 1.0, 0.0] and not r.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        r.sum().backward()
    with pytest.raises(RuntimeError, match="different dtypes"):
        sg.heaviside(x, T([1]))
    with pytest.raises(TypeError, match="must be Tensor"):
        sg.heaviside(x, 0.5)


def test_dtypes_and_errors():
    assert sg.lgamma(T([1, 2])).dtype == sg.float64
    assert sg.deg2rad(T([180])).tolist() == [math.pi]
    assert sg.erfinv(T([0.5], dtype=sg.float32)).dtype == sg.float32
    assert sg.float_power(T([2], dtype=sg.int32), 2).dtype == sg.float64
    assert sg.float_power(T([2.0], dtype=sg.float32), T([0.5], dtype=sg.float32)).dtype == (
        sg.float64)
    assert sg.sgn(T([-3, 0, 2])).tolist() == [-1, 0, 1]
    assert T([1.0, 2.0]).polygamma(1).tolist() == sg.polygamma(1, T([1.0, 2.0])).tolist()
    with pytest.raises(RuntimeError, match="negative n"):
        sg.polygamma(-1, T([1.0]))
    with pytest.raises(TypeError, match="must be int"):
        sg.polygamma(1.5, T([1.0]))
    with pytest.raises(NotImplementedError, match="logaddexp2_cpu"):
        sg.logaddexp2(T([1]), T([2]))
    # bool tensors are read as 0 / 1 floats, as PyTorch 2.13 (lgamma(True) = 0)
    assert sg.lgamma(T([True, False])).tolist() == [0.0, math.inf]


# ---------------------------------------------------------------- the verifier
PROGRAMS = {
    "xlogy": (lambda a, b: sg.xlogy(a, b).sum(), [[0.5, -1.5, 2.0], [0.3, 1.7, 4.0]]),
    "sinc": (lambda a: (sg.sinc(a) * a).sum(), [[0.3, -1.7, 2.5]]),
    "logaddexp2": (lambda a, b: sg.logaddexp2(a, b).sum(), [[0.5, -30.0], [1.0, 2.0]]),
    "lgamma": (lambda a: sg.lgamma(a).sum(), [[0.3, 1.7, 7.5]]),
    "digamma": (lambda a: sg.digamma(a).exp().sum(), [[0.3, 1.7, 7.5]]),
    "polygamma": (lambda a: (sg.polygamma(2, a) * a).sum(), [[0.3, 1.7, 7.5]]),
    "erfinv": (lambda a: sg.erfinv(a).sum(), [[-0.9, 0.1, 0.999]]),
    "angles": (lambda a: (sg.deg2rad(a) * sg.rad2deg(a)).sum(), [[30.0, -90.0]]),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_verifier_agrees(name):
    f, data = PROGRAMS[name]
    rep = verify.check(f, *[T(d) for d in data])
    assert rep.ok, rep.table()


@pytest.mark.parametrize("name", ["lgamma", "erfinv", "xlogy"])
def test_verifier_agrees_on_second_derivatives(name):
    f, data = PROGRAMS[name]
    rep = verify.check(f, *[T(d) for d in data], order=2)
    assert rep.ok, rep.table()


def test_verifier_reports_the_conventions_at_kinks_and_poles():
    rep = verify.check(lambda a, b: sg.fmax(a, b).sum(), T([1.0, 2.0]), T([1.0, 0.5]))
    assert rep.ok and rep.kinks[0].op == "fmax" and rep.kinks[0].positions == [(0,)]
    rep = verify.check(lambda a, b: sg.xlogy(a, b).sum(), T([0.0, 2.0]), T([1.5, 0.5]))
    assert rep.ok and rep.kinks[0].op == "xlogy"
    # log|Gamma| is +inf at its poles in the mirror too: the forward agrees there. (Poles
    # alone: beside a finite entry the verifier raises its precision to 2000 digits for the
    # infinite one, and digamma there costs seconds.)
    for pole in (0.0, -3.0):
        rep = verify.check(lambda a: sg.lgamma(a).sum(), T([pole]))
        assert rep.ok and rep.kinks[0].positions == [(0,)]


def test_a_wrong_digamma_rule_is_caught(mutate):
    from symgrad.verify.rules import MISMATCH, check_rules

    mutate(OPS["lgamma"], vjp=(lambda xp, g, ans, x: g * xp.polygamma(0, x + 1),))
    (res,) = check_rules(["lgamma"], points=3)
    assert res.verdict == MISMATCH
    f, data = PROGRAMS["lgamma"]
    assert not verify.check(f, T(data[0])).ok


# ---------------------------------------------------------------- against PyTorch
UNARY = {  # id -> (f(m, x), sampling range)
    "sinc": (lambda m, x: m.sinc(x), -3, 3),
    "deg2rad": (lambda m, x: m.deg2rad(x), -400, 400),
    "rad2deg": (lambda m, x: x.rad2deg(), -7, 7),
    "sgn": (lambda m, x: m.sgn(x), -3, 3),
    "lgamma": (lambda m, x: m.lgamma(x), 0.05, 12),
    "lgamma_negative": (lambda m, x: m.lgamma(x), -6, -0.05),
    "digamma": (lambda m, x: m.digamma(x), 0.05, 12),
    "digamma_negative": (lambda m, x: x.digamma(), -6, -0.05),
    "polygamma_1": (lambda m, x: m.polygamma(1, x), -6, 12),
    "polygamma_3": (lambda m, x: x.polygamma(3), -6, 12),
    "erfinv": (lambda m, x: m.erfinv(x), -0.999, 0.999),
    "float_power": (lambda m, x: m.float_power(x, 3), -3, 3),
    "float_power_tensor": (lambda m, x: m.float_power(x.abs(), x), -3, 3),
    "float_power_base": (lambda m, x: m.float_power(2, x), -3, 3),
}
BINARY = {
    "xlogy": (lambda m, x, y: m.xlogy(x, y), (-3, 3), (0.1, 5)),
    "xlogy_scalar_other": (lambda m, x, y: m.xlogy(x, 2.5) + y, (-3, 3), (0.1, 5)),
    "xlogy_scalar_self": (lambda m, x, y: m.xlogy(2.5, y) + x, (-3, 3), (0.1, 5)),
    "fmax": (lambda m, x, y: m.fmax(x, y), (-3, 3), (-3, 3)),
    "fmin": (lambda m, x, y: x.fmin(y), (-3, 3), (-3, 3)),
    "logaddexp2": (lambda m, x, y: m.logaddexp2(x, y), (-30, 30), (-30, 30)),
}
# PyTorch's trigamma (digamma's derivative, polygamma(1, x)) keeps about 9 digits; symgrad's
# agrees with mpmath to 13 (test_polygamma_is_accurate)
LOOSE = {"digamma_negative": 2e-9, "polygamma_1": 2e-9, "polygamma_3": 1e-11,
         "lgamma_negative": 1e-12, "digamma": 2e-9, "erfinv": 1e-12}




@pytest.mark.parametrize("key", sorted(UNARY))
def test_unary_matches_pytorch(key, torch):
    f, lo, hi = UNARY[key]
    x = _rng(4).uniform(lo, hi, (2, 5))
    names = not key.startswith("float_power")   # ToCopy + pow: the last node differs
    compare(torch, f, [x], rtol=LOOSE.get(key, 1e-13), atol=1e-13, names=names)


@pytest.mark.parametrize("key", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2,))])
def test_binary_matches_pytorch(key, shapes, torch):
    f, rx, ry = BINARY[key]
    x, y = _rng(5).uniform(*rx, shapes[0]), _rng(6).uniform(*ry, shapes[1])
    compare(torch, f, [x, y], names=not key.startswith("xlogy_scalar"))


def test_scalar_forms_record_pytorch_names(torch):
    for m in (sg, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        names = [m.xlogy(x, 2.0).grad_fn.name(), m.xlogy(2.0, x).grad_fn.name(),
                 m.sgn(x).grad_fn.name()]
        assert names == ["XlogyBackward2", "XlogyBackward1", "SgnBackward0"]


KINKS = {  # values on kinks, poles and nan: values and gradients as PyTorch
    "xlogy": (lambda m, x, y: m.xlogy(x, y), [[0.0, 0.0, 0.0, 1.0], [0.0, -1.0, NAN, 2.0]]),
    "sinc": (lambda m, x: m.sinc(x), [[0.0, -0.0, 1.0, 2.0]]),
    "fmax": (lambda m, x, y: m.fmax(x, y), [[1.0, NAN, NAN, -0.0], [1.0, 2.0, NAN, 0.0]]),
    "fmin": (lambda m, x, y: m.fmin(x, y), [[1.0, NAN, 3.0, 0.0], [1.0, 2.0, NAN, -0.0]]),
    "lgamma": (lambda m, x: m.lgamma(x), [[0.0, -2.0, 1.0, 2.0, INF]]),
    "digamma": (lambda m, x: m.digamma(x), [[0.0, -0.0, INF]]),
    "polygamma_2": (lambda m, x: m.polygamma(2, x), [[0.0, -1.0, 2.0]]),
    "erfinv": (lambda m, x: m.erfinv(x), [[1.0, -1.0, 0.0, 1.5]]),
    "logaddexp2": (lambda m, x, y: m.logaddexp2(x, y), [[INF, 1000.0, -INF], [1.0, 1000.0, 2.0]]),
}


@pytest.mark.parametrize("key", sorted(KINKS))
def test_kinks_and_poles_follow_pytorch(key, torch):
    f, datas = KINKS[key]
    compare(torch, f, [np.array(d) for d in datas])


def test_where_pytorch_rounds_badly_symgrad_keeps_the_exact_value(torch):
    # trigamma at a negative integer (a pole: +inf), digamma at 1e300 (log(1e300)),
    # polygamma(n >= 2) at +inf (0) and a tiny polygamma(3) (no underflow): PyTorch's
    # formulas give 6.6e32, inf, nan and 0 there
    x = np.array([-1.0, 1e300, INF, 1e15])
    assert torch.polygamma(1, torch.tensor(x[:1])).item() < 1e33
    assert sg.polygamma(1, T(x[:1])).item() == INF
    assert sg.digamma(T(x[1:2])).item() == pytest.approx(math.log(1e300), rel=1e-15)
    assert sg.polygamma(2, T(x[2:3])).item() == 0.0
    assert sg.polygamma(3, T(x[3:])).item() == pytest.approx(2e-45, rel=1e-13)
