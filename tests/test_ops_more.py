"""asinh, acosh, atanh, fmod, cumprod, and relu at nan: the records, their proofs, the
verifier, PyTorch's conventions (zeros in cumprod, fmod's jumps, relu'(nan)), and parity with
real PyTorch (float64 values, gradients, second derivatives, node names) where installed."""

import math

import numpy as np
import pytest

import symgrad as sg
from symgrad import verify
from symgrad.verify import AGREE
from symgrad.ops import OPS
from symgrad.verify.rules import MISMATCH, PROVED, check_rules

T = sg.tensor
NAN = float("nan")

RECORDS = {"asinh": "AsinhBackward0", "acosh": "AcoshBackward0", "atanh": "AtanhBackward0",
           "fmod": "FmodBackward1", "cumprod": "CumprodBackward0", "relu": "ReluBackward0"}


# ---------------------------------------------------------------- records and proofs
def test_records_are_in_the_table():
    for name, grad_fn in RECORDS.items():
        op = OPS[name]
        assert op.grad_fn == grad_fn and op.differentiable and op.mirror is not None
    assert OPS["acosh"].domain[0].intervals == ((1.0, math.inf),)
    assert OPS["atanh"].domain[0].intervals == ((-1.0, 1.0),)
    assert OPS["fmod"].kinks is not None and OPS["acosh"].kinks is not None


@pytest.mark.parametrize("name", ["asinh", "acosh", "atanh", "cumprod", "relu"])
def test_rule_is_proved(name):
    (res,) = check_rules([name], points=2)
    assert res.verdict == PROVED, res.detail


def test_fmod_rule_agrees_with_its_mirror():
    # the rule's trunc is SymPy's floor, the mirror's one whose derivative is 0: sampled
    (res,) = check_rules(["fmod"], points=4)
    assert res.ok, res.detail


def test_the_proof_catches_a_wrong_rule(mutate):
    mutate(OPS["atanh"], vjp=(lambda xp, g, ans, x: g / (1 + x * x),))
    mutate(OPS["cumprod"], vjp=(lambda xp, g, ans, x, *, dim: g * ans / x,))
    for name in ("atanh", "cumprod"):
        (res,) = check_rules([name], points=3)
        assert res.verdict == MISMATCH


# ---------------------------------------------------------------- the verifier
PROGRAMS = {
    "asinh": (lambda a: (sg.asinh(a) * a).sum(), [[0.3, -1.7, 2.5]]),
    "acosh": (lambda a: a.acosh().sum(), [[1.05, 1.7, 4.0]]),
    "atanh": (lambda a: sg.arctanh(a).exp().sum(), [[-0.9, 0.1, 0.7]]),
    "fmod": (lambda a, b: (sg.fmod(a, b) * a).sum(),
             [[[5.3, -5.5, 2.2], [-1.1, 7.9, 0.4]], [2.0, -1.5, 0.7]]),
    "fmod_scalar": (lambda a: (a.fmod(1.5) ** 2).sum(), [[5.3, -5.5, 2.2]]),
    "cumprod": (lambda a: (a.cumprod(1) * T([1.0, -2.0, 3.0])).sum(),
                [[[0.5, 1.5, -2.0], [1.1, 0.3, 0.9]]]),
    "cumprod_one_zero": (lambda a: (sg.cumprod(a, 0) * T([1.0, -2.0, 3.0, 0.5])).sum(),
                         [[0.5, 0.0, -2.0, 1.5]]),
    "cumprod_zeros": (lambda a: (sg.cumprod(a, 0) * T([1.0, -2.0, 3.0, 0.5])).sum(),
                      [[0.0, 1.5, 0.0, 2.0]]),
    "cumprod_2d_zeros": (lambda a: sg.cumprod(a, 0).sin().sum(),
                         [[[0.0, 1.5], [0.0, 2.0], [3.0, 0.0]]]),
    "relu": (lambda a: (sg.relu(a) * a).sum(), [[0.3, -1.7, 2.5]]),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_verifier_agrees(name):
    f, data = PROGRAMS[name]
    rep = verify.check(f, *[T(d) for d in data])
    assert rep.ok, rep.table()


@pytest.mark.parametrize("name", ["cumprod_one_zero", "cumprod_zeros", "cumprod_2d_zeros",
                                  "atanh", "fmod"])
def test_verifier_agrees_on_second_derivatives(name):
    f, data = PROGRAMS[name]
    rep = verify.check(f, *[T(d) for d in data], order=2)
    assert rep.ok, rep.table()


def test_a_division_rule_for_cumprod_does_not_agree_at_a_zero(mutate):
    # tail sums / x is right away from zeros (the proofs pass with it) but gives nan at a
    # zero, where cumprod (a polynomial) is smooth and the real rule agrees
    from symgrad.ops.scan import _tail_sums

    f, data = PROGRAMS["cumprod_one_zero"]
    assert verify.check(f, *[T(d) for d in data]).rows[1].verdict == AGREE
    mutate(OPS["cumprod"], vjp=(lambda xp, g, ans, x, *, dim: _tail_sums(xp, g * ans, dim) / x,))
    assert verify.check(f, *[T(d) for d in data]).rows[1].verdict != AGREE
    f, data = PROGRAMS["cumprod"]
    assert verify.check(f, *[T(d) for d in data]).rows[1].verdict == AGREE


# ---------------------------------------------------------------- conventions, without torch
def _cumprod_derivatives(x, w):
    """Brute force: d/dx_k and d2/dx_k dx_m of sum_i w_i prod_{j<=i} x_j (no division)."""
    n = len(x)

    def omitted(i, skip):
        return math.prod(x[j] for j in range(i + 1) if j not in skip)

    grad = [sum(w[i] * omitted(i, {k}) for i in range(k, n)) for k in range(n)]
    hess = [[0.0 if k == m else sum(w[i] * omitted(i, {k, m}) for i in range(max(k, m), n))
             for m in range(n)] for k in range(n)]
    return np.array(grad), np.array(hess)


ZERO_PATTERNS = [[0.5, -2.0, 3.0, 1.25, 0.75], [1.5, 0.0, 2.0, -0.5, 3.0],
                 [1.5, 0.0, 2.0, 0.0, 3.0], [0.0, 0.0, 2.0, 0.0, 3.0], [0.0, 1.5, 2.0, 0.5, 2.0],
                 [1.0, 2.0, 3.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0, 0.5]]


def _grad_and_hessian(m, x_data, w_data, dim=0):
    x = m.tensor(x_data, requires_grad=True)
    w = m.tensor(w_data)
    (g,) = m.autograd.grad((m.cumprod(x, dim) * w).sum(), x, create_graph=True)
    rows = [m.autograd.grad(gi, x, retain_graph=True)[0].detach().numpy().reshape(-1)
            for gi in g.reshape(-1)]
    return g.detach().numpy(), np.stack(rows)


@pytest.mark.parametrize("xs", ZERO_PATTERNS)
def test_cumprod_gradient_and_hessian_at_zeros_are_exact(xs):
    w = [0.3, -1.2, 0.7, 2.0, 0.5]
    g, h = _grad_and_hessian(sg, xs, w)
    want_g, want_h = _cumprod_derivatives(xs, w)
    np.testing.assert_allclose(g, want_g, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(h, want_h, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(h, h.T, rtol=1e-15, atol=1e-15)


def test_cumprod_values_dtypes_and_shapes():
    assert sg.cumprod(T([1, 2, 3]), 0).tolist() == [1, 2, 6]
    assert sg.cumprod(T([True, True]), 0).dtype == sg.int64
    assert sg.cumprod(T([1, 2]), 0, dtype=sg.float32).dtype == sg.float32
    assert sg.cumprod(T([1.0, 2.0], dtype=sg.float32), 0).dtype == sg.float32
    a = T([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = a.cumprod(-1)
    assert y.tolist() == [[1.0, 2.0], [3.0, 12.0]] and y.grad_fn.name() == "CumprodBackward0"
    y.sum().backward()
    assert a.grad.tolist() == [[3.0, 1.0], [5.0, 3.0]]
    s = T(2.5, requires_grad=True)
    r = sg.cumprod(s, 0)
    assert r.shape == () and r.item() == 2.5
    r.backward()
    assert s.grad.item() == 1.0
    e = sg.zeros(0, 3, requires_grad=True)
    sg.cumprod(e, 0).sum().backward()
    assert e.grad.shape == (0, 3)
    with pytest.raises(IndexError):
        sg.cumprod(a, 2)


def test_cumprod_gradient_keeps_tail_sums_accurate():
    # sum_{i>=k} of terms falling from 1e20 to 1: total - running would give 0 for the tail
    x = T([1e20, 1e-20, 1.0, 1.0], requires_grad=True)
    sg.cumprod(x, 0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 + 3e-20, 1e20 * 3, 2.0, 1.0], rtol=1e-15)


def test_fmod_values_gradients_and_names():
    x = T([5.5, -5.5, 5.5, -5.5, 3.0, 0.0], requires_grad=True)
    y = T([2.0, 2.0, -2.0, -2.0, 1.5, 2.0], requires_grad=True)
    r = sg.fmod(x, y)
    assert r.grad_fn.name() == "FmodBackward1"
    assert r.tolist() == [1.5, -1.5, 1.5, -1.5, 0.0, 0.0]
    r.sum().backward()
    assert x.grad.tolist() == [1.0] * 6
    assert y.grad.tolist() == [-2.0, 2.0, 2.0, -2.0, -2.0, 0.0]
    assert x.fmod(1.5).grad_fn.name() == "FmodBackward0"
    assert sg.fmod(x, T(1.5)).grad_fn.name() == "FmodBackward1"


def test_fmod_is_exact_and_keeps_the_sign_and_dtype():
    # exact where x - y * trunc(x / y) or a corrected Python % would round
    r = sg.fmod(T([-1e-20, 1e-20, -0.0, -3.0, 7.25]), T([1.0, -1.0, 2.0, 1.5, 2.0]))
    assert r.tolist() == [-1e-20, 1e-20, 0.0, 0.0, 1.25]
    assert [math.copysign(1, v) for v in r.tolist()[2:4]] == [-1, -1]   # -0.0, as C
    assert sg.fmod(T([5.0, -7.0], dtype=sg.float32), 2).dtype == sg.float32
    assert sg.fmod(T([5, -7]), 3).tolist() == [2, -1]
    assert sg.fmod(T([5, -7]), 2.5).tolist() == [0.0, -2.0]
    assert np.isnan(sg.fmod(T([5.0, NAN, math.inf]), 0.0).numpy()).all()
    assert sg.fmod(T([5.0]), math.inf).tolist() == [5.0]
    assert sg.fmod(T([4.0]), T([[3.0], [-3.0]])).tolist() == [[1.0], [1.0]]


def test_fmod_kinks_are_its_jumps_but_not_zero():
    at = OPS["fmod"].kinks.at
    x, y = np.array([3.0, -3.0, 0.0, 2.5, 1.0]), np.array([1.5, 1.5, 2.0, 1.5, 0.0])
    assert at(x, y).tolist() == [True, True, False, False, True]
    assert OPS["acosh"].kinks.at(np.array([1.0, 1.5])).tolist() == [True, False]


def test_inverse_hyperbolic_functions_and_aliases():
    assert sg.arcsinh is sg.asinh and sg.arccosh is sg.acosh and sg.arctanh is sg.atanh
    x = T([0.5, 2.0])
    for name in ("asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh"):
        np.testing.assert_array_equal(getattr(x, name)().numpy(), getattr(sg, name)(x).numpy())
    np.testing.assert_allclose(sg.asinh(x).numpy(), np.arcsinh([0.5, 2.0]), rtol=1e-16)
    assert np.isnan(sg.acosh(T([0.5])).item()) and sg.acosh(T([1.0])).item() == 0.0
    assert sg.atanh(T([-1.0, 1.0])).tolist() == [-math.inf, math.inf]
    assert sg.asinh(T([1, 2])).dtype == sg.float64
    assert sg.atanh(T([0.5], dtype=sg.float32)).dtype == sg.float32
    a = T([1.0, 1.0 + 1e-12], requires_grad=True)
    sg.acosh(a).sum().backward()
    assert a.grad[0].item() == math.inf        # acosh'(1) = inf, as PyTorch
    # (x - 1)(x + 1) keeps the digits that x*x - 1 cancels next to 1
    np.testing.assert_allclose(a.grad[1].item(), 1 / math.sqrt(2e-12 + 1e-24), rtol=1e-4)
    np.testing.assert_allclose(np.arcsinh(x).numpy(), sg.asinh(x).numpy())
    assert isinstance(np.fmod(x, 1.5), sg.Tensor)


def test_relu_passes_the_gradient_at_nan_and_nowhere_else_changes():
    x = T([NAN, 1.0, -1.0, 0.0, math.inf, -math.inf, 2.5], requires_grad=True)
    y = sg.relu(x)
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0]
    rng = np.random.default_rng(0)
    d = np.concatenate([rng.normal(size=50), [0.0, -0.0, math.inf, -math.inf]])
    g = rng.normal(size=d.shape)
    t = T(d, requires_grad=True)
    sg.relu(t).backward(T(g))
    np.testing.assert_array_equal(t.grad.numpy(), np.where(np.maximum(d, 0) > 0, g, 0.0))


# ---------------------------------------------------------------- against PyTorch
def _torch():
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    return torch


# id -> (f(m, *tensors) giving the op's output, input data)
PARITY = {
    "asinh": (lambda m, a: m.asinh(a), [[-30.0, -1.7, 0.0, 0.3, 2.5, 1e3]]),
    "arcsinh_method": (lambda m, a: a.arcsinh(), [[-1.7, 0.3, 2.5]]),
    "acosh": (lambda m, a: m.acosh(a), [[1.001, 1.05, 1.7, 4.0, 1e3]]),
    "arccosh": (lambda m, a: m.arccosh(a), [[1.05, 1.7]]),
    "atanh": (lambda m, a: m.atanh(a), [[-0.99, -0.5, 0.0, 0.1, 0.9]]),
    "arctanh_method": (lambda m, a: a.arctanh(), [[-0.5, 0.7]]),
    "fmod": (lambda m, a, b: m.fmod(a, b),
             [[[5.3, -5.5, 2.2], [-1.1, 7.9, 3.0]], [2.0, -1.5, 1.5]]),
    "fmod_scalar": (lambda m, a: m.fmod(a, -1.5), [[5.3, -5.5, 2.2, 3.0, 0.0]]),
    "fmod_0d_tensor": (lambda m, a, b: a.fmod(b), [[5.3, -5.5, 2.2], 0.75]),
    "cumprod": (lambda m, a: m.cumprod(a, 1), [[[0.5, 1.5, -2.0], [1.1, 0.3, 0.9]]]),
    "cumprod_dim0": (lambda m, a: a.cumprod(0), [[[0.5, 1.5, -2.0], [1.1, 0.3, 0.9]]]),
    "cumprod_0d": (lambda m, a: m.cumprod(a, 0), [1.5]),
    "relu": (lambda m, a: m.relu(a), [[0.3, -1.7, 2.5, 0.0]]),
}
for _i, _xs in enumerate(ZERO_PATTERNS):
    PARITY[f"cumprod_zeros_{_i}"] = (lambda m, a: m.cumprod(a, 0), [_xs])
PARITY["cumprod_2d_zeros_dim0"] = (lambda m, a: m.cumprod(a, 0),
                                   [[[0.0, 1.5, 2.0], [0.0, 2.0, 0.0], [3.0, 0.0, 0.5]]])
PARITY["cumprod_2d_zeros_dim1"] = (lambda m, a: m.cumprod(a, -1),
                                   [[[0.0, 1.5, 2.0], [1.0, 0.0, 0.0], [3.0, 0.0, 0.5]]])


def _run(m, name):
    """Output, its node's name, first derivatives and a second-derivative product, with
    ``m`` symgrad or torch (second derivatives: zeros where the gradient is constant)."""
    f, data = PARITY[name]
    xs = [m.tensor(d, requires_grad=True) for d in data]
    y = f(m, *xs)
    rng = np.random.default_rng(len(name))
    w = m.tensor(rng.uniform(0.5, 1.5, size=tuple(y.shape)))
    gs = m.autograd.grad((y * w).sum(), xs, create_graph=True)
    vs = [m.tensor(rng.uniform(-1.0, 1.0, size=tuple(x.shape))) for x in xs]
    s = sum((g * v).sum() for g, v in zip(gs, vs))
    if s.requires_grad:
        hs = m.autograd.grad(s, xs, allow_unused=True)
    else:
        hs = [None] * len(xs)
    hs = [np.zeros(tuple(x.shape)) if h is None else h.detach().numpy() for h, x in zip(hs, xs)]
    return (y.detach().numpy(), y.grad_fn.name(), [g.detach().numpy() for g in gs], hs)


@pytest.mark.parametrize("name", sorted(PARITY))
def test_matches_pytorch(name):
    torch = _torch()
    ours, theirs = _run(sg, name), _run(torch, name)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-14, atol=0)
    assert ours[1] == theirs[1]
    for a, b in zip(ours[2], theirs[2]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)
    for a, b in zip(ours[3], theirs[3]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)


def test_cumprod_hessian_at_zeros_matches_pytorch():
    torch = _torch()
    w = [0.3, -1.2, 0.7, 2.0, 0.5]
    for xs in ZERO_PATTERNS:
        (g1, h1), (g2, h2) = _grad_and_hessian(sg, xs, w), _grad_and_hessian(torch, xs, w)
        np.testing.assert_allclose(g1, g2, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(h1, h2, rtol=1e-14, atol=1e-15)


def _relu_at_nan(m, relu):
    x = m.tensor([NAN, 1.0, -1.0, 0.0], requires_grad=True)
    y = relu(m, x)
    (g,) = m.autograd.grad((y ** 2).sum(), x, create_graph=True)
    (h,) = m.autograd.grad(g.sum(), x)
    x1 = m.tensor([NAN, 1.0, -1.0, 0.0], requires_grad=True)
    relu(m, x1).sum().backward()
    return [y.detach().numpy(), x1.grad.numpy(), g.detach().numpy(), h.numpy()]


@pytest.mark.parametrize("relu", [lambda m, t: m.relu(t), lambda m, t: m.nn.functional.relu(t),
                                  lambda m, t: (t * 1).relu_()], ids=["relu", "F", "inplace"])
def test_relu_at_nan_matches_pytorch(relu):
    torch = _torch()
    ours, theirs = _relu_at_nan(sg, relu), _relu_at_nan(torch, relu)
    assert ours[1].tolist() == [1.0, 1.0, 0.0, 0.0]
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def test_fmod_at_its_jumps_matches_pytorch():
    torch = _torch()
    xd, yd = [3.0, -3.0, 4.5, 0.0, -0.0, 1e-20], [1.5, 1.5, -1.5, 2.0, -2.0, 1.0]
    res = []
    for m in (sg, torch):
        x, y = m.tensor(xd, requires_grad=True), m.tensor(yd, requires_grad=True)
        r = m.fmod(x, y)
        r.sum().backward()
        res.append((r.detach().numpy(), x.grad.numpy(), y.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)
        assert [math.copysign(1, v) for v in a] == [math.copysign(1, v) for v in b]
