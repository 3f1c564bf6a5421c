"""Elementwise ops with PyTorch's conventions: proofs, verifier, values, gradients, node names,
kinks, broadcasting and dtypes (against real PyTorch, float64, where it is installed)."""

import numpy as np
import pytest

import symgrad as sg
from symgrad import verify
from symgrad.ops import OPS
from symgrad.ops import elementwise as E
from symgrad.verify.rules import MISMATCH, check_rules

# the records this file is about (check_rules names). SymPy proves the first group in
# milliseconds; the second (Piecewise / Max mirrors) takes about half a second each, so those
# are proved once, by tests/test_ops.py::test_rule_matches_mirror_exactly, not again here.
FAST_PROOFS = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "sqrt", "rsqrt",
               "expm1", "log1p", "log2", "log10", "erf", "abs", "sign", "floor", "ceil", "trunc",
               "round", "leaky_relu", "elu", "gelu", "silu", "logsigmoid", "atan2"]
SLOW_PROOFS = ["softplus", "hardtanh", "clamp", "clamp_tensor", "clamp_min_tensor",
               "clamp_max_tensor", "maximum", "minimum", "where"]

# id -> (f(m, F, x) with m = symgrad or torch and F = its functional module, sampling range)
UNARY = {
    "sin": (lambda m, F, x: m.sin(x), -4, 4),
    "cos": (lambda m, F, x: m.cos(x), -4, 4),
    "tan": (lambda m, F, x: m.tan(x), -1.3, 1.3),
    "asin": (lambda m, F, x: m.asin(x), -0.95, 0.95),
    "acos": (lambda m, F, x: m.acos(x), -0.95, 0.95),
    "atan": (lambda m, F, x: m.atan(x), -4, 4),
    "arcsin": (lambda m, F, x: m.arcsin(x), -0.95, 0.95),
    "arccos": (lambda m, F, x: m.arccos(x), -0.95, 0.95),
    "arctan": (lambda m, F, x: m.arctan(x), -4, 4),
    "sinh": (lambda m, F, x: m.sinh(x), -4, 4),
    "cosh": (lambda m, F, x: m.cosh(x), -4, 4),
    "sqrt": (lambda m, F, x: m.sqrt(x), 0.05, 5),
    "rsqrt": (lambda m, F, x: m.rsqrt(x), 0.05, 5),
    "square": (lambda m, F, x: m.square(x), -4, 4),
    "expm1": (lambda m, F, x: m.expm1(x), -4, 4),
    "log1p": (lambda m, F, x: m.log1p(x), -0.9, 4),
    "log2": (lambda m, F, x: m.log2(x), 0.05, 5),
    "log10": (lambda m, F, x: m.log10(x), 0.05, 5),
    "erf": (lambda m, F, x: m.erf(x), -3, 3),
    "abs": (lambda m, F, x: m.abs(x), -4, 4),
    "sign": (lambda m, F, x: m.sign(x), -4, 4),
    "floor": (lambda m, F, x: m.floor(x), -4, 4),
    "ceil": (lambda m, F, x: m.ceil(x), -4, 4),
    "trunc": (lambda m, F, x: m.trunc(x), -4, 4),
    "round": (lambda m, F, x: m.round(x), -4, 4),
    "round_2": (lambda m, F, x: m.round(x, decimals=2), -4, 4),
    "round_-1": (lambda m, F, x: m.round(x, decimals=-1), -40, 40),
    "leaky_relu": (lambda m, F, x: F.leaky_relu(x), -4, 4),
    "leaky_relu_0.2": (lambda m, F, x: F.leaky_relu(x, 0.2), -4, 4),
    "elu": (lambda m, F, x: F.elu(x), -4, 4),
    "elu_2": (lambda m, F, x: F.elu(x, alpha=2.0), -4, 4),
    "gelu": (lambda m, F, x: F.gelu(x), -3, 3),
    "gelu_tanh": (lambda m, F, x: F.gelu(x, approximate="tanh"), -3, 3),
    "softplus": (lambda m, F, x: F.softplus(x), -30, 30),
    "softplus_2_1": (lambda m, F, x: F.softplus(x, beta=2.0, threshold=1.0), -3, 3),
    "silu": (lambda m, F, x: F.silu(x), -8, 8),
    "logsigmoid": (lambda m, F, x: F.logsigmoid(x), -30, 30),
    "hardtanh": (lambda m, F, x: F.hardtanh(x), -3, 3),
    "hardtanh_-0.5_2": (lambda m, F, x: F.hardtanh(x, -0.5, 2.0), -3, 3),
    "relu6": (lambda m, F, x: F.relu6(x), -3, 9),
    "clamp": (lambda m, F, x: m.clamp(x, -1, 1), -3, 3),
    "clamp_min_kw": (lambda m, F, x: m.clamp(x, min=-1), -3, 3),
    "clamp_max_kw": (lambda m, F, x: m.clamp(x, max=0.5), -3, 3),
    "clamp_inverted": (lambda m, F, x: m.clamp(x, 1, -1), -3, 3),
    "clip": (lambda m, F, x: m.clip(x, -1, 1), -3, 3),
    "clamp_min": (lambda m, F, x: m.clamp_min(x, -1), -3, 3),
    "clamp_max": (lambda m, F, x: m.clamp_max(x, 1), -3, 3),
}

# id -> (f(m, x, y), range of x, range of y)
BINARY = {
    "maximum": (lambda m, x, y: m.maximum(x, y), (-3, 3), (-3, 3)),
    "minimum": (lambda m, x, y: m.minimum(x, y), (-3, 3), (-3, 3)),
    "atan2": (lambda m, x, y: m.atan2(x, y), (-3, 3), (-3, 3)),
    "arctan2": (lambda m, x, y: m.arctan2(x, y), (-3, 3), (-3, 3)),
    "where": (lambda m, x, y: m.where(x > y, x, y * y), (-3, 3), (-3, 3)),
    "clamp_min_tensor": (lambda m, x, y: m.clamp(x, min=y), (-3, 3), (-3, 3)),
    "clamp_max_tensor": (lambda m, x, y: m.clamp_max(x, y), (-3, 3), (-3, 3)),
    "clamp_tensor": (lambda m, x, y: m.clamp(x, y - 1, y + 1), (-3, 3), (-3, 3)),
}


def _sample(lo, hi, shape, seed):
    return np.random.default_rng(seed).uniform(lo, hi, size=shape)


# ---------------------------------------------------------------- proofs and the verifier
@pytest.mark.parametrize("name", FAST_PROOFS)
def test_rule_is_proved(name):
    (res,) = check_rules([name], points=2)
    assert res.verdict == "proved", res.detail


def test_every_new_op_is_in_the_table_with_a_mirror():
    for name in FAST_PROOFS + SLOW_PROOFS:
        op = OPS[name]
        assert op.differentiable and op.mirror is not None and op.kind == "elementwise"


def test_a_wrong_rule_is_a_mismatch(monkeypatch):
    op = OPS["leaky_relu"]
    wrong = lambda xp, g, ans, x, negative_slope=0.01: xp.where(xp.greater(x, 0), g, g / 2)
    monkeypatch.setattr(op, "vjp", (wrong,))
    (res,) = check_rules(["leaky_relu"], points=3)
    assert res.verdict == MISMATCH


# aliases and second parameter sets: the same records as other entries
ALIASES = {"arcsin", "arccos", "arctan", "clip", "clamp_min_kw", "clamp_max_kw", "round_-1",
           "leaky_relu_0.2", "hardtanh_-0.5_2"}


@pytest.mark.parametrize("key", sorted(set(UNARY) - ALIASES))
def test_verifier_agrees_unary(key):
    f, lo, hi = UNARY[key]
    x = sg.tensor(_sample(lo, hi, (3,), 1))
    rep = verify.check(lambda a: f(sg, E, a).sum(), x)
    assert rep.ok, rep.table()


@pytest.mark.parametrize("key", sorted(set(BINARY) - {"arctan2"}))
def test_verifier_agrees_binary(key):
    f, rx, ry = BINARY[key]
    x, y = sg.tensor(_sample(*rx, (2, 3), 2)), sg.tensor(_sample(*ry, (3,), 3))
    rep = verify.check(lambda a, b: f(sg, a, b).sum(), x, y)
    assert rep.ok, rep.table()


# ---------------------------------------------------------------- against PyTorch


def _run(f, m, F, datas):
    """f on fresh leaves; backward with a random cotangent (the same for both libraries)."""
    ts = [m.tensor(d, requires_grad=True) for d in datas]
    out = f(m, F, *ts)
    out.backward(m.tensor(np.random.default_rng(9).standard_normal(tuple(out.shape))))
    return out, [t.grad for t in ts]


def _same(a, b, rtol=1e-13, atol=1e-15):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


def _compare(torch, f, datas, rtol=1e-13):
    """Values, gradients and node names of f in symgrad and in torch."""
    out_s, grads_s = _run(f, sg, E, datas)
    out_t, grads_t = _run(f, torch, torch.nn.functional, datas)
    assert out_s.grad_fn.name() == out_t.grad_fn.name()
    assert out_s.dtype.name == str(out_t.dtype).removeprefix("torch.")
    _same(out_s, out_t, rtol)
    for gs, gt in zip(grads_s, grads_t):
        _same(gs, gt, rtol)


# gelu near -3 and the tanh form lose relative digits to cancellation, in both libraries
LOOSE = {"gelu": 1e-12, "gelu_tanh": 1e-12}


@pytest.mark.parametrize("key", sorted(UNARY))
def test_unary_matches_pytorch(key, torch):
    f, lo, hi = UNARY[key]
    _compare(torch, lambda m, F, x: f(m, F, x), [_sample(lo, hi, (2, 5), 4)], LOOSE.get(key, 1e-13))


@pytest.mark.parametrize("key", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 2)), ((3,), ())])
def test_binary_broadcasting_matches_pytorch(key, shapes, torch):
    f, rx, ry = BINARY[key]
    datas = [_sample(*rx, shapes[0], 5), _sample(*ry, shapes[1], 6)]
    _compare(torch, lambda m, F, x, y: f(m, x, y), datas)


def test_where_and_clamp_take_python_numbers_on_either_side(torch):
    c = np.array([[True], [False]])
    for f in (lambda m, F, x: m.where(m.tensor(c), x, 2.5),
              lambda m, F, x: m.where(m.tensor(c), -1, x),
              lambda m, F, x: m.where(m.tensor(c), x * 2, x),
              lambda m, F, x: m.clamp(x, 0.25),
              lambda m, F, x: m.clamp(x, max=1)):
        _compare(torch, f, [_sample(-2, 2, (3,), 7)])
    assert sg.where(sg.tensor(c), 1.0, 0.0).tolist() == [[1.0], [0.0]]
    assert sg.where(sg.tensor(c), 1, 0).dtype == sg.int64


# ---------------------------------------------------------------- kinks: PyTorch's choice
KINKS = [  # (id, f(m, F, *tensors), inputs on the kinks, record whose Kink must flag them)
    ("abs", lambda m, F, x: m.abs(x), [[0.0, -0.0, 1.5]], "abs"),
    ("sign", lambda m, F, x: m.sign(x), [[0.0, -2.0]], "sign"),
    ("sqrt", lambda m, F, x: m.sqrt(x), [[0.0, -0.0, 4.0]], "sqrt"),
    ("asin", lambda m, F, x: m.asin(x), [[1.0, -1.0, 0.5]], "asin"),
    ("acos", lambda m, F, x: m.acos(x), [[1.0, -1.0, 0.5]], "acos"),
    ("floor", lambda m, F, x: m.floor(x), [[-1.0, 0.0, 2.0]], "floor"),
    ("ceil", lambda m, F, x: m.ceil(x), [[-1.0, 0.0, 2.0]], "ceil"),
    ("trunc", lambda m, F, x: m.trunc(x), [[-1.0, 3.0]], "trunc"),
    ("round", lambda m, F, x: m.round(x), [[0.5, 1.5, -2.5]], "round"),
    ("round_1", lambda m, F, x: m.round(x, decimals=1), [[0.25, -0.75]], "round"),
    ("leaky_relu", lambda m, F, x: F.leaky_relu(x, 0.3), [[0.0, 1.0]], "leaky_relu"),
    ("elu_2", lambda m, F, x: F.elu(x, alpha=2.0), [[0.0, -1.0]], "elu"),
    ("hardtanh", lambda m, F, x: F.hardtanh(x), [[-1.0, 1.0, 0.0]], "hardtanh"),
    ("relu6", lambda m, F, x: F.relu6(x), [[0.0, 6.0, 3.0]], "hardtanh"),
    ("softplus", lambda m, F, x: F.softplus(x), [[20.0, -3.0]], "softplus"),
    ("softplus_2_1", lambda m, F, x: F.softplus(x, beta=2, threshold=1), [[0.5]], "softplus"),
    ("clamp", lambda m, F, x: m.clamp(x, -1, 1), [[-1.0, 1.0, 0.0]], "clamp"),
    ("clamp_inverted", lambda m, F, x: m.clamp(x, 1, -1), [[-1.0, 1.0]], "clamp"),
    ("clamp_min", lambda m, F, x: m.clamp_min(x, 1), [[1.0, 0.0]], "clamp"),
    ("clamp_max", lambda m, F, x: m.clamp_max(x, 1), [[1.0, 2.0]], "clamp"),
    ("clamp_tensor", lambda m, F, x, lo, hi: m.clamp(x, lo, hi),
     [[-1.0, 0.0, 0.5, 1.0, 2.0, -2.0, 5.0], [-1.0, 0.0, 0.0, 1.0, 3.0, 1.0, 4.0],
      [1.0, 0.0, 0.5, 2.0, 3.0, -1.0, 4.0]], "clamp_tensor"),
    ("clamp_min_tensor", lambda m, F, x, lo: m.clamp(x, min=lo), [[1.0, 0.0], [1.0, 2.0]],
     "clamp_min_tensor"),
    ("clamp_max_tensor", lambda m, F, x, hi: m.clamp_max(x, hi), [[1.0, 3.0], [1.0, 2.0]],
     "clamp_max_tensor"),
    ("maximum", lambda m, F, x, y: m.maximum(x, y), [[1.0, 2.0, -0.0], [1.0, 1.0, 0.0]], "maximum"),
    ("minimum", lambda m, F, x, y: m.minimum(x, y), [[1.0, 2.0, -0.0], [1.0, 1.0, 0.0]], "minimum"),
    ("atan2", lambda m, F, y, x: m.atan2(y, x), [[0.0, 0.0, -0.0, 1.0], [0.0, -1.0, -1.0, 0.0]],
     "atan2"),
]


@pytest.mark.parametrize("case", KINKS, ids=[k[0] for k in KINKS])
def test_kinks_follow_pytorch(case, torch):
    _, f, datas, op = case
    _compare(torch, f, [np.array(d) for d in datas])
    params = {"softplus_2_1": {"beta": 2.0, "threshold": 1.0}, "round_1": {"decimals": 1},
              "relu6": {"min_val": 0.0, "max_val": 6.0}, "leaky_relu": {"negative_slope": 0.3},
              "elu_2": {"alpha": 2.0}, "clamp": {"min": -1.0, "max": 1.0},
              "clamp_inverted": {"min": 1.0, "max": -1.0}, "clamp_min": {"min": 1.0},
              "clamp_max": {"max": 1.0}}.get(case[0], {})
    mask = OPS[op].kinks.at(*[np.array(d) for d in datas], **params)
    assert np.asarray(mask).reshape(-1)[0]


def test_elu_with_alpha_1_has_no_kink():
    assert not OPS["elu"].kinks.at(np.array([0.0]), alpha=1.0).any()


def test_kink_is_reported_by_the_verifier_with_its_convention():
    rep = verify.check(lambda a, b: sg.maximum(a, b).sum(), sg.tensor([1.0, 2.0]),
                       sg.tensor([1.0, 0.5]))
    assert rep.ok and rep.kinks[0].op == "maximum" and "halves" in rep.kinks[0].convention
    rep = verify.check(lambda a: sg.clamp(a, -1, 1).sum(), sg.tensor([1.0, 0.5]))
    assert rep.ok and rep.kinks[0].positions == [(0,)]


def test_nan_conventions_follow_pytorch(torch):
    nan = float("nan")
    for f in (lambda m, F, x: m.abs(x), lambda m, F, x: m.sign(x), lambda m, F, x: F.hardtanh(x),
              lambda m, F, x: m.clamp(x, -1, 1), lambda m, F, x: F.elu(x),
              lambda m, F, x: F.leaky_relu(x), lambda m, F, x: m.maximum(x, x * 0 + 1)):
        out_s, (gs,) = _run(f, sg, E, [np.array([nan, 0.5])])
        out_t, (gt,) = _run(f, torch, torch.nn.functional, [np.array([nan, 0.5])])
        np.testing.assert_array_equal(out_s.detach().numpy(), out_t.detach().numpy())
        np.testing.assert_array_equal(gs.numpy(), gt.numpy())


def test_rounding_ties_infinities_and_signed_zeros(torch):
    x = [0.5, 1.5, 2.5, -0.5, -1.5, -0.3, 0.49999999999999994, 4503599627370497.0,
         float("inf"), -float("inf"), float("nan"), -0.0]
    for name in ("round", "floor", "ceil", "trunc"):
        got = getattr(sg, name)(sg.tensor(x)).numpy()
        want = getattr(torch, name)(torch.tensor(x)).numpy()
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    got = sg.round(sg.tensor([1.25, 2.675, 0.125, -0.05]), decimals=2).numpy()
    np.testing.assert_array_equal(got, torch.round(torch.tensor([1.25, 2.675, 0.125, -0.05]),
                                                   decimals=2).numpy())


# ---------------------------------------------------------------- dtypes
def test_float_functions_of_integers_give_the_default_float(torch):
    i = [1, 4, 9]
    for name in ("sqrt", "sin", "erf", "expm1", "log2", "atan", "exp"):
        assert getattr(sg, name)(sg.tensor(i)).dtype == sg.float64, name
        assert getattr(torch, name)(torch.tensor(i)).dtype == torch.float64
    assert sg.atan2(sg.tensor(i), sg.tensor(i)).dtype == sg.float64
    sg.set_default_dtype(sg.float32)
    try:
        assert sg.sqrt(sg.tensor(i)).dtype == sg.float32
    finally:
        sg.set_default_dtype(sg.float64)


def test_integer_results_stay_integer():
    i = sg.tensor([-2, 3])
    for f in (sg.abs, sg.sign, sg.floor, sg.ceil, sg.round, sg.trunc, sg.square,
              lambda t: sg.clamp(t, 0, 2), lambda t: sg.maximum(t, t)):
        assert f(i).dtype == sg.int64
    assert sg.floor(i).tolist() == [-2, 3]
    assert sg.clamp(i, 0.5).dtype == sg.float64 == sg.maximum(i, sg.tensor([0.5, 1.0])).dtype


@pytest.mark.parametrize("key", sorted(UNARY))
def test_float32_stays_float32(key):
    f, lo, hi = UNARY[key]
    x = sg.tensor(_sample(lo, hi, (3,), 8), dtype=sg.float32, requires_grad=True)
    y = f(sg, E, x)
    y.sum().backward()
    assert y.dtype == sg.float32 and x.grad.dtype == sg.float32


def test_where_promotes_like_pytorch(torch):
    c = [True, False]
    for x, y in ((np.float32([1, 2]), 2.5), (np.int64([1, 2]), 2.5), (np.float32([1, 2]),
                 np.float64([3, 4])), (np.int64([1, 2]), 3)):
        def make(m, v):
            return m.tensor(v) if isinstance(v, np.ndarray) else v
        got = sg.where(sg.tensor(c), make(sg, x), make(sg, y))
        want = torch.where(torch.tensor(c), make(torch, x), make(torch, y))
        assert got.dtype.name == str(want.dtype).removeprefix("torch.")
        assert got.tolist() == want.tolist()


# ---------------------------------------------------------------- API details
def test_errors_match_pytorch():
    x = sg.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        sg.clamp(x)
    with pytest.raises(TypeError):
        sg.clamp(x, sg.tensor([0.0, 0.0]), 1.0)
    with pytest.raises(RuntimeError, match="boolean tensor, but got a tensor with dtype Double"):
        sg.where(x, x, x)
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        E.gelu(x, approximate="exact")
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        E.hardtanh(x, 1.0, -1.0)
    with pytest.raises(RuntimeError, match="must match the size"):
        sg.maximum(sg.ones(2, 3), sg.ones(2))


def test_where_with_the_condition_alone_gives_indices(torch):
    c = [[True, False], [False, True]]
    got = sg.where(sg.tensor(c))
    want = torch.where(torch.tensor(c))
    assert [g.tolist() for g in got] == [w.tolist() for w in want]


@pytest.mark.parametrize("name, torch_name", [("leaky_relu", "LeakyReluBackward1"),
                                              ("elu", "EluBackward1"),
                                              ("hardtanh", "HardtanhBackward0"),
                                              ("silu", "SiluBackward0")])
def test_inplace_activations(name, torch_name, torch):
    d = np.array([-1.5, 0.5, 2.0])
    a = sg.tensor(d, requires_grad=True)
    b = torch.tensor(d, requires_grad=True)
    ys = getattr(E, name)(a * 1, inplace=True)
    yt = getattr(torch.nn.functional, name)(b * 1, inplace=True)
    assert ys.grad_fn.name() == yt.grad_fn.name() == torch_name
    ys.sum().backward()
    yt.sum().backward()
    _same(ys, yt)
    _same(a.grad, b.grad)


def test_tensor_methods_and_builtin_abs():
    t = sg.tensor([-1.25, 0.5, 2.0])
    assert abs(t).tolist() == t.abs().tolist() == [1.25, 0.5, 2.0]
    assert t.clamp(0, 1).tolist() == t.clip(0, 1).tolist() == [0.0, 0.5, 1.0]
    assert t.clamp_min(0).tolist() == [0.0, 0.5, 2.0]
    assert t.round(decimals=1).tolist() == [-1.2, 0.5, 2.0]
    assert t.maximum(sg.zeros(3)).tolist() == [0.0, 0.5, 2.0]
    assert t.atan2(sg.ones(3)).grad_fn is None and t.sign().tolist() == [-1.0, 1.0, 1.0]


@pytest.mark.parametrize("key", ["sin", "tan", "sqrt", "erf", "asin", "gelu", "gelu_tanh", "silu",
                                 "logsigmoid", "softplus", "elu"])
def test_second_derivatives_match_pytorch(key, torch):
    f, lo, hi = UNARY[key]
    d = _sample(lo, hi, (4,), 10)
    hs = []
    for m, F in ((sg, E), (torch, torch.nn.functional)):
        x = m.tensor(d, requires_grad=True)
        (g,) = m.autograd.grad(f(m, F, x).sum(), x, create_graph=True)
        (h,) = m.autograd.grad((g * g).sum(), x)
        hs.append(np.asarray(h.detach()))
    np.testing.assert_allclose(hs[0], hs[1], rtol=1e-12, atol=1e-14)


def test_remainder_is_differentiable_in_both_arguments():
    # x % y = x - y floor(x / y): d/dx = 1, d/dy = -floor(x / y), as PyTorch; a remainder
    # that dropped out of the graph gave x.grad 2 instead of 3 below.
    x = sg.tensor([1.25, -2.5, 7.0], requires_grad=True)
    y = sg.tensor([0.75, 1.5, -2.0], requires_grad=True)
    r = x % y
    assert r.grad_fn.name() == "RemainderBackward1"
    assert np.array_equal(r.detach().numpy(), [0.5, 0.5, -1.0])
    r.sum().backward()
    assert np.array_equal(x.grad.numpy(), [1.0, 1.0, 1.0])
    assert np.array_equal(y.grad.numpy(), [-1.0, 2.0, 4.0])
    x.grad = None
    s = x * 2 + sg.remainder(x, 1.0)
    assert s.grad_fn.next_functions[1][0].name() == "RemainderBackward0"
    s.sum().backward()
    assert np.array_equal(x.grad.numpy(), [3.0, 3.0, 3.0])
    rep = verify.check(lambda a, b: (a % b * a).sum(), sg.tensor([1.25, -2.5]),
                       sg.tensor([0.75, 1.5]))
    assert rep.ok and "floor" in str(rep)
    rep = verify.check(lambda a, b: (a % b * a).sum(), sg.tensor([1.25, -2.5]),
                       sg.tensor([0.75, 1.5]), order=2)   # the rules' floor at high precision
    assert rep.ok


# ---------------------------------------------------------------- bitwise operators
def test_bitwise_operators_on_integers_are_bitwise():
    # & | ^ ~ were logical on integer tensors: tensor([6, 5]) & 3 gave [True, True]
    t = sg.tensor([6, 5])
    for r, want in ((t & 3, [2, 1]), (3 & t, [2, 1]), (t | 3, [7, 7]), (3 | t, [7, 7]),
                    (t ^ 3, [5, 6]), (3 ^ t, [5, 6]), (~sg.tensor([0, 5]), [-1, -6]),
                    (t & sg.tensor([4, 4]), [4, 4]), (sg.bitwise_and(3, t), [2, 1]),
                    (t.bitwise_or(8), [14, 13]), (sg.bitwise_xor(t, t), [0, 0]),
                    (t.bitwise_not(), [-7, -6]), (sg.bitwise_not(t), [-7, -6])):
        assert r.dtype == sg.int64 and r.tolist() == want and not r.requires_grad


def test_bitwise_dtypes_follow_pytorch_promotion():
    b = sg.tensor([True, False])
    u = sg.tensor([200, 3], dtype=sg.uint8)
    i8 = sg.tensor([-3, 3], dtype=sg.int8)
    assert (b & b).dtype == sg.bool and (b & b).tolist() == [True, False]
    assert (b ^ True).tolist() == [False, True] and (~b).tolist() == [False, True]
    assert (b & 3).dtype == sg.int64 and (b & 3).tolist() == [1, 0]
    assert (b | i8).dtype == sg.int8 and (b | i8).tolist() == [-3, 3]
    assert (u & i8).dtype == sg.int16 and (u & i8).tolist() == [200, 3]
    assert (i8 & sg.tensor(5)).dtype == sg.int8        # a 0-d tensor of the same kind
    assert (sg.tensor(5, dtype=sg.uint8) & b).dtype == sg.uint8   # one of a higher kind
    # a Python int wraps to the tensor's width, as in PyTorch
    assert (u & 300).dtype == sg.uint8 and (u & 300).tolist() == [8, 0]
    assert (u & -1).tolist() == [200, 3] and (~u).tolist() == [55, 252]
    assert (i8 & 300).tolist() == [44, 0] and (i8 & True).dtype == sg.int8
    assert (sg.tensor([1, 2]) & 2 ** 63).tolist() == [0, 0]
    with pytest.raises(OverflowError):
        sg.tensor([1, 2]) & 2 ** 64


def test_bitwise_operators_refuse_floats_and_other_operands():
    f = sg.tensor([1.0, 2.0])
    for fn in (lambda: f & 1, lambda: 1 | f, lambda: f ^ f, lambda: sg.tensor([1]) & 1.5,
               lambda: sg.tensor([True]) | 1.0, lambda: sg.bitwise_not(f)):
        with pytest.raises(NotImplementedError, match="not implemented for 'Double'"):
            fn()
    with pytest.raises(NotImplementedError, match="'Float'"):
        f.float() & 1
    with pytest.raises(TypeError, match="only implemented on integer and Boolean"):
        f.__invert__()
    t = sg.tensor([1, 2])
    for other in ("a", None, [1, 2]):
        with pytest.raises(TypeError, match="unsupported operand"):
            t & other
        with pytest.raises(TypeError):
            sg.bitwise_or(t, other)
    with pytest.raises(TypeError):
        sg.bitwise_and(3, 5)
    with pytest.raises(RuntimeError, match="must match"):
        t & sg.tensor([1, 2, 3])
    a = sg.symbolic.symbols("a")
    for fn in (lambda: a & 1, lambda: 1 ^ a, lambda: ~a):
        with pytest.raises(NotImplementedError, match="symbolic"):
            fn()


def test_bitwise_in_place():
    x = sg.tensor([1, 2], dtype=sg.int8)
    y = x
    y |= 300
    y &= sg.tensor([13, 14])
    y ^= 1
    assert y is x and x.dtype == sg.int8 and x.tolist() == [12, 15]
    assert x.bitwise_not_() is x and x.tolist() == [-13, -16]
    assert x.bitwise_and_(7).tolist() == [3, 0] and x.bitwise_xor_(x).tolist() == [0, 0]
    b = sg.tensor([True, False])
    b ^= True
    assert b.tolist() == [False, True]
    with pytest.raises(RuntimeError, match="can't be cast"):
        b &= 3
