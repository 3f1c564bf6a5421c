"""Derivatives of derivatives: create_graph, autograd.grad, the functional API, order=2."""

import numpy as np
import pytest

import symgrad as sg
from symgrad import verify
from symgrad.autograd import functional as AF
from symgrad.nn import functional as F


def test_create_graph_gives_second_and_third_derivatives():
    x = sg.tensor([0.5, -1.25, 2.0], requires_grad=True)
    y = (x ** 3 * x.exp()).sum()
    (g,) = sg.autograd.grad(y, x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    (h,) = sg.autograd.grad(g.sum(), x, create_graph=True)
    (t,) = sg.autograd.grad(h.sum(), x)
    v = x.detach().numpy()
    e = np.exp(v)
    np.testing.assert_allclose(g.detach().numpy(), e * (3 * v**2 + v**3), rtol=1e-14)
    np.testing.assert_allclose(h.detach().numpy(), e * (6 * v + 6 * v**2 + v**3), rtol=1e-14)
    np.testing.assert_allclose(t.numpy(), e * (6 + 18 * v + 9 * v**2 + v**3), rtol=1e-13)


def test_backward_create_graph_accumulates_a_differentiable_grad():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (gg,) = sg.autograd.grad(x.grad.sum(), x)
    np.testing.assert_array_equal(gg.numpy(), [6.0, 12.0])


def test_gradient_penalty_pattern():
    w = sg.tensor([[0.3, -0.2], [0.1, 0.5]], requires_grad=True)
    x = sg.tensor([[1.0, 2.0]], requires_grad=True)
    out = (x @ w).tanh().sum()
    (gx,) = sg.autograd.grad(out, x, create_graph=True)
    penalty = (gx * gx).sum()
    penalty.backward()
    xv, wv = x.detach().numpy(), w.detach().numpy()
    # d/dw of sum_j (sum_k w_jk (1 - tanh(xw)_k^2))^2, written out with numpy
    z = xv @ wv
    s = 1 - np.tanh(z) ** 2
    gx = (wv * s).sum(1)                      # d out / d x, shape (2,)
    dgx_dw = np.zeros((2, 2, 2))
    for j in range(2):
        for a in range(2):
            for k in range(2):
                dgx_dw[j, a, k] = (s[0, k] if a == j else 0.0) + wv[j, k] * (
                    -2 * np.tanh(z[0, k]) * s[0, k] * xv[0, a])
    expected = np.einsum("j,jak->ak", 2 * gx, dgx_dw)
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-13)


def test_order_two_check_catches_a_rule_whose_derivative_is_wrong(monkeypatch):
    from symgrad.ops import OPS

    op = OPS["tanh"]

    def frozen(xp, g, ans, x):
        # the right value, but treats tanh(x) as a constant: the second derivative is wrong
        c = ans.detach() if hasattr(ans, "detach") else ans
        return g * (1 - c * c)

    monkeypatch.setattr(op, "vjp", (frozen,))
    rep = verify.check(lambda a: a.tanh().sum(), sg.tensor([0.3, -0.7]), order=2)
    assert rep.row("a").verdict == verify.AGREE
    assert rep.row("a,a").verdict == verify.MISMATCH


@pytest.mark.parametrize("fn", [
    lambda a: (a.sigmoid() * a.exp() + a.tanh() ** 2).sum(),
    lambda a: F.binary_cross_entropy_with_logits(a, sg.tensor([0.0, 1.0, 0.5])),
    lambda a: F.mse_loss(a.exp(), sg.ones(3), reduction="sum") + (a.reshape(3, 1) @
                                                                   a.reshape(1, 3)).sum(),
    lambda a: (a ** 3).mean() + (2 ** a).sum() + (a / (1 + a * a)).sum(),
])
def test_hessians_agree_with_exact(fn):
    rep = verify.check(fn, sg.tensor([0.4, -1.1, 0.7]), order=2)
    assert rep.ok, rep.table()
    assert any(r.what == "hessian" for r in rep.rows)


def test_functional_shapes_and_values():
    a, b = sg.tensor([0.1, 0.2, 0.3]), sg.tensor([[1.0, 2.0, 3.0], [0.5, 0.25, 0.125]])

    def f(x, y):
        return ((x.exp() * y).sum(1) ** 2).tanh()

    ja, jb = AF.jacobian(f, (a, b))
    assert ja.shape == (2, 3) and jb.shape == (2, 2, 3)
    j1 = AF.jacobian(lambda x: x.exp(), a)
    np.testing.assert_allclose(j1.numpy(), np.diag(np.exp(a.numpy())))
    h = AF.hessian(lambda x: (x ** 3).sum(), a)
    np.testing.assert_allclose(h.numpy(), np.diag(6 * a.numpy()), rtol=1e-15)
    out, v = AF.vjp(lambda x: x ** 2, a, sg.ones(3))
    np.testing.assert_allclose(v.numpy(), 2 * a.numpy())
    out, jv = AF.jvp(lambda x: x ** 2, a, sg.ones(3))
    np.testing.assert_allclose(jv.numpy(), 2 * a.numpy())
    _, hv = AF.hvp(lambda x: (x ** 3).sum(), a, sg.ones(3))
    np.testing.assert_allclose(hv.numpy(), 6 * a.numpy())
    _, vh = AF.vhp(lambda x: (x ** 3).sum(), a, sg.ones(3))
    np.testing.assert_allclose(vh.numpy(), 6 * a.numpy())
    assert not out.requires_grad
    with pytest.raises(RuntimeError, match="v can only be None"):
        AF.vjp(lambda x: x ** 2, a)
    with pytest.raises(RuntimeError, match="independent of input"):
        AF.jacobian(lambda x: sg.ones(2), a, strict=True)


torch = pytest.importorskip("torch")
torch.set_default_dtype(torch.float64)


@pytest.mark.parametrize("name", ["jacobian", "hessian", "vjp", "jvp", "vhp", "hvp"])
def test_functional_matches_pytorch(name):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(3)
    v = rng.standard_normal(3)
    fs = {"vector": lambda m: (lambda x: (x.sigmoid() * x.exp()).cumsum(0) if False
                               else (x.sigmoid() * x.exp() * x.sum())),
          "scalar": lambda m: (lambda x: (x.tanh() * x.exp()).sum() * x.sum())}
    kind = "scalar" if name in ("hessian", "vhp", "hvp") else "vector"
    ours = getattr(AF, name)
    theirs = getattr(torch.autograd.functional, name)
    args_s, args_t = [fs[kind](sg), sg.tensor(a)], [fs[kind](torch), torch.tensor(a)]
    if name not in ("jacobian", "hessian"):
        args_s.append(sg.tensor(v))
        args_t.append(torch.tensor(v))
    rs, rt = ours(*args_s), theirs(*args_t)
    if isinstance(rs, tuple):
        for x, y in zip(rs, rt):
            np.testing.assert_allclose(x.numpy(), y.detach().numpy(), rtol=1e-12)
    else:
        assert tuple(rs.shape) == tuple(rt.shape)
        np.testing.assert_allclose(rs.numpy(), rt.numpy(), rtol=1e-12)


def test_third_derivatives_match_pytorch():
    rng = np.random.default_rng(2)
    data = rng.standard_normal((2, 3))
    outs = []
    for m, F_ in ((sg, sg.nn.functional), (torch, torch.nn.functional)):
        x = m.tensor(data, requires_grad=True)
        y = (F_.binary_cross_entropy_with_logits(x, m.zeros(2, 3)) + (x * x).exp().mean()).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (h,) = m.autograd.grad(g.sum(), x, create_graph=True)
        (t,) = m.autograd.grad(h.sum(), x)
        outs.append([u.detach().numpy() for u in (g, h, t)])
    for ours, theirs in zip(*outs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
