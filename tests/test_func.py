"""``symgrad.func`` against ``torch.func``: gradients, VJPs, JVPs, Jacobians (both modes),
Hessians and linearize on fixed and random programs, pytrees and argnums, nesting
(``jacrev(jacrev)``, ``vmap(grad)``, ...), vmap's dims and randomness, the docs' examples,
and the misuse errors."""

import numpy as np
import pytest

import symgrad as sg
from symgrad import func as sf

RTOL, ATOL = 1e-12, 1e-13


def _arr(t):
    return np.asarray(t.detach().numpy())


def _same(a, b):
    """Two results (pytrees of tensors) equal to float64 rounding, with the same nesting."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), (type(a), type(b))
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, sg.Tensor):
        assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape)
        np.testing.assert_allclose(_arr(a), _arr(b), rtol=RTOL, atol=ATOL)
    else:
        assert a == b


def _both(torch, make, datas):
    """``make(m)`` (a callable, given library ``m``) applied to ``datas`` in both libraries."""
    ours = make(sg)(*[_tree(sg, d) for d in datas])
    theirs = make(torch)(*[_tree(torch, d) for d in datas])
    _same(ours, theirs)
    return ours


def _tree(m, d):
    if isinstance(d, dict):
        return {k: _tree(m, v) for k, v in d.items()}
    if isinstance(d, (tuple, list)):
        return type(d)(_tree(m, v) for v in d)
    return m.tensor(d)


# ---------------------------------------------------------------- programs
def _mlp(m, w, b, x):
    return m.nn.functional.linear(x, w, b).tanh()


SCALAR = {   # f(x, y) -> a scalar
    "poly": lambda m, x, y: (x ** 3 * y).sum() + (x * y).prod(),
    "softmax_ce": lambda m, x, y: m.nn.functional.cross_entropy(x * y, m.tensor([1, 0, 3])),
    "mlp_mse": lambda m, x, y: m.nn.functional.mse_loss(m.tanh(x @ y.T), x[:, :3]),
    "logsumexp": lambda m, x, y: m.logsumexp(x.sin() + y, 1).sum() + x.norm(),
    "views": lambda m, x, y: (x.T[1:] * y.T[:-1]).exp().sum() + x[0].dot(y[2]),
    "inplace": lambda m, x, y: _inplace(x, y).sum(),
    "bce": lambda m, x, y: m.nn.functional.binary_cross_entropy_with_logits(x, y.sigmoid()),
}


def _inplace(x, y):
    h = x * 1.0
    h.mul_(y)
    h[1] = h[0].exp() * 2 + h[2].exp()   # (exp saves its output: h may change)
    return h.sigmoid()


@pytest.mark.parametrize("name", SCALAR)
def test_grad_and_hessian_match_torch_func(torch, name):
    f = SCALAR[name]
    rng = np.random.default_rng(0)
    datas = [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))]
    _both(torch, lambda m: m.func.grad(lambda x, y: f(m, x, y), argnums=(0, 1)), datas)
    _both(torch, lambda m: m.func.grad_and_value(lambda x, y: f(m, x, y)), datas)
    _both(torch, lambda m: m.func.hessian(lambda x, y: f(m, x, y), argnums=1), datas)


VECTOR = {   # f(x, y) -> a tensor
    "elementwise": lambda m, x, y: x.sin() * y + m.sqrt(1 + x * x),
    "matmul_softmax": lambda m, x, y: m.softmax(x @ y.T, 1),
    "reduce": lambda m, x, y: m.cumsum(x * y, 0).amax(1) + x.var(0)[:3],
    "index": lambda m, x, y: m.cat([x[m.tensor([2, 0])], y.flip(0)[:1]], 0).T,
    "log_softmax": lambda m, x, y: m.log_softmax(x + y, 0),
}


@pytest.mark.parametrize("name", VECTOR)
def test_jacobians_vjp_jvp_match_torch_func(torch, name):
    f = VECTOR[name]
    rng = np.random.default_rng(1)
    datas = [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))]
    jr = _both(torch, lambda m: m.func.jacrev(lambda x, y: f(m, x, y), argnums=(0, 1)), datas)
    jf = _both(torch, lambda m: m.func.jacfwd(lambda x, y: f(m, x, y), argnums=(0, 1)), datas)
    _same(jr, jf)
    tans = [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))]

    def jvp(m):
        return lambda *a: m.func.jvp(lambda x, y: f(m, x, y), (a[0], a[1]), (a[2], a[3]))
    _both(torch, jvp, datas + tans)

    def linearize(m):
        def run(x, y, tx, ty):
            out, fn = m.func.linearize(lambda x, y: f(m, x, y), x, y)
            return out, fn(tx, ty), fn(ty, tx)
        return run
    _both(torch, linearize, datas + tans)

    def vjp(m):
        def run(x, y):
            out, fn = m.func.vjp(lambda x, y: f(m, x, y), x, y)
            return out, fn(m.ones_like(out) * 0.5 + out.detach())
        return run
    _both(torch, vjp, datas)


# random programs from a pool of steps, as in test_forward_ad
_STEPS = {
    "sin": lambda m, h, w: h.sin(), "tanh": lambda m, h, w: m.tanh(h),
    "sigmoid": lambda m, h, w: h.sigmoid(), "square": lambda m, h, w: h * h,
    "exp": lambda m, h, w: (0.3 * h).exp(), "matmul": lambda m, h, w: h @ w,
    "softmax": lambda m, h, w: m.softmax(h, -1), "center": lambda m, h, w: h - h.mean(0),
    "cumsum": lambda m, h, w: m.cumsum(h, 0), "mul_w": lambda m, h, w: h * w.diagonal(),
    "flip": lambda m, h, w: m.cat([h[:, 2:], h[:, :2].flip(1)], 1),
    "inplace": lambda m, h, w: h.clone().mul_(w[0]),
    "norm": lambda m, h, w: h / (1 + h.norm(dim=1, keepdim=True)),
}


@pytest.mark.parametrize("seed", range(12))
def test_random_programs_match_torch_func(torch, seed):
    rng = np.random.default_rng(200 + seed)
    steps = [list(_STEPS)[i] for i in rng.integers(0, len(_STEPS), size=5)]

    def prog(m):
        def f(x, w):
            h = x
            for s in steps:
                h = _STEPS[s](m, h, w)
            return h
        return f

    datas = [rng.standard_normal((3, 4)), rng.standard_normal((4, 4)) / 2]
    _both(torch, lambda m: m.func.jacrev(prog(m), argnums=(0, 1)), datas)
    _both(torch, lambda m: m.func.jacfwd(prog(m), argnums=1), datas)
    _both(torch, lambda m: m.func.hessian(lambda x, w: prog(m)(x, w).sum().sin()), datas)


# ---------------------------------------------------------------- the docs' examples
def test_grad_of_sin_and_its_derivatives(torch):
    x = np.array(0.7)
    _both(torch, lambda m: m.func.grad(m.sin), [x])                     # cos
    _both(torch, lambda m: m.func.grad(m.func.grad(m.sin)), [x])        # -sin
    _both(torch, lambda m: m.func.grad(m.func.grad(m.func.grad(m.sin))), [x])
    np.testing.assert_allclose(_arr(sf.grad(sf.grad(sg.sin))(sg.tensor(x))), -np.sin(x),
                               rtol=1e-15)


def test_jacobians_of_an_mlp(torch):
    rng = np.random.default_rng(2)
    w, b, x = rng.standard_normal((3, 4)), rng.standard_normal(3), rng.standard_normal(4)
    _both(torch, lambda m: m.func.jacrev(lambda w, b, x: _mlp(m, w, b, x), argnums=2),
          [w, b, x])
    _both(torch, lambda m: m.func.jacfwd(lambda w, b, x: _mlp(m, w, b, x), argnums=(0, 1)),
          [w, b, x])
    # a batch of Jacobians: vmap over the inputs
    xs = rng.standard_normal((5, 4))
    _both(torch, lambda m: m.func.vmap(m.func.jacrev(lambda w, b, x: _mlp(m, w, b, x),
                                                     argnums=2), in_dims=(None, None, 0)),
          [w, b, xs])
    _both(torch, lambda m: m.func.hessian(lambda x: _mlp(m, sg_or(m, w), sg_or(m, b), x).sum()),
          [x])


def sg_or(m, a):
    return m.tensor(a)


def test_per_sample_gradients(torch):
    rng = np.random.default_rng(3)
    params = {"w1": rng.standard_normal((8, 5)) / 2, "b1": rng.standard_normal(8),
              "w2": rng.standard_normal((3, 8)) / 2, "b2": rng.standard_normal(3)}
    data = rng.standard_normal((6, 5))
    targets = np.array([0, 2, 1, 1, 0, 2])

    def compute_loss(m):
        F = m.nn.functional

        def loss(p, sample, target):
            h = F.relu(F.linear(sample.unsqueeze(0), p["w1"], p["b1"]))
            return F.cross_entropy(F.linear(h, p["w2"], p["b2"]), target.unsqueeze(0))
        return loss

    def per_sample(m):
        return lambda p, d, t: m.func.vmap(m.func.grad(compute_loss(m)),
                                           in_dims=(None, 0, 0))(p, d, t)

    ours = _both(torch, per_sample, [params, data, targets])
    # the batch's mean gradient is the mean of the per-sample ones
    ps = {k: sg.tensor(v, requires_grad=True) for k, v in params.items()}
    loss = sg.nn.functional.cross_entropy(
        sg.nn.functional.linear(sg.nn.functional.relu(sg.nn.functional.linear(
            sg.tensor(data), ps["w1"], ps["b1"])), ps["w2"], ps["b2"]), sg.tensor(targets))
    loss.backward()
    for k in ps:
        np.testing.assert_allclose(_arr(ours[k]).mean(0), _arr(ps[k].grad), rtol=1e-12,
                                   atol=1e-15)


# ---------------------------------------------------------------- pytrees, argnums, aux
def test_pytrees_and_argnums(torch):
    rng = np.random.default_rng(4)
    p = {"a": rng.standard_normal(3), "b": [rng.standard_normal(2), rng.standard_normal((2, 2))]}
    x = rng.standard_normal(3)

    def f(m):
        def fn(p, x):
            return (p["a"] * x).sin().sum() + (p["b"][1] @ p["b"][0]).exp().sum() * x.sum()
        return fn

    _both(torch, lambda m: m.func.grad(f(m)), [p, x])
    _both(torch, lambda m: m.func.grad(f(m), argnums=(1, 0)), [p, x])
    _both(torch, lambda m: m.func.jacrev(lambda x, y: {"p": x * y, "s": (x.sum(), y)},
                                         argnums=(0, 1)), [x, x[::-1].copy()])
    _both(torch, lambda m: m.func.jacfwd(lambda x, y: {"p": x * y, "s": (x.sum(), y)},
                                         argnums=(0, 1)), [x, x[::-1].copy()])


def test_has_aux(torch):
    x = np.array([0.5, -1.0, 2.0])

    def f(m):
        return lambda x: ((x ** 2).sum(), {"n": x.norm(), "c": x.cos()})

    _both(torch, lambda m: m.func.grad(f(m), has_aux=True), [x])
    _both(torch, lambda m: m.func.grad_and_value(f(m), has_aux=True), [x])
    _both(torch, lambda m: m.func.jacrev(f(m), has_aux=True), [x])
    _both(torch, lambda m: m.func.jacfwd(f(m), has_aux=True), [x])
    _both(torch, lambda m: lambda x: m.func.jvp(f(m), (x,), (x.exp(),), has_aux=True), [x])

    def vjp(m):
        def run(x):
            out, fn, aux = m.func.vjp(lambda x: (x.sin(), x.sum()), x, has_aux=True)
            return out, fn(x), aux
        return run
    _both(torch, vjp, [x])


# ---------------------------------------------------------------- nesting
def test_nested_transforms(torch):
    rng = np.random.default_rng(5)
    x, xs = rng.standard_normal(3), rng.standard_normal((4, 3))

    def f(m):
        return lambda x: (x.sin() * x.exp()).sum() * x[0]

    _both(torch, lambda m: m.func.jacrev(m.func.jacrev(f(m))), [x])
    _both(torch, lambda m: m.func.jacfwd(m.func.jacrev(f(m))), [x])
    _both(torch, lambda m: m.func.jacrev(m.func.jacfwd(m.func.grad(f(m)))), [x])
    _both(torch, lambda m: m.func.vmap(m.func.grad(f(m))), [xs])
    _both(torch, lambda m: m.func.vmap(m.func.hessian(f(m))), [xs])
    _both(torch, lambda m: m.func.vmap(m.func.vmap(lambda a: a.sin() * a.sum())), [xs])
    _both(torch, lambda m: m.func.grad(lambda a: m.func.vmap(f(m))(a).sum()), [xs])
    # the inner transform differentiates with respect to its own input only
    _both(torch, lambda m: m.func.grad(lambda a: m.func.grad(lambda b: (a * b).sum())(a)
                                       .pow(2).sum()), [x])


# ---------------------------------------------------------------- vmap
def test_vmap_dims(torch):
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 3))

    def f(m):
        return lambda x, y: (x @ y, x.sum())

    _both(torch, lambda m: m.func.vmap(f(m), in_dims=(0, None)), [a, b[:, :2]])
    _both(torch, lambda m: m.func.vmap(f(m), in_dims=(2, 0), out_dims=(1, 0)),
          [a, rng.standard_normal((4, 3, 2))])
    _both(torch, lambda m: m.func.vmap(lambda p: p["x"] * p["y"][0], in_dims=({"x": 1,
                                                                               "y": (0,)},)),
          [{"x": a, "y": (rng.standard_normal((3, 2, 4)),)}])
    _both(torch, lambda m: m.func.vmap(lambda x, k: x * k, in_dims=(0, None)), [b, 2.0])


def test_vmap_randomness():
    x = sg.zeros(4, 2)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        sf.vmap(lambda r: r + sg.rand(2))(x)
    out = sf.vmap(lambda r: r + sg.rand(2), randomness="same")(x)
    assert np.all(_arr(out) == _arr(out)[0])
    out = sf.vmap(lambda r: r + sg.rand(2), randomness="different")(x)
    assert len({tuple(row) for row in _arr(out).tolist()}) == 4
    sg.rand(1)   # the generator works again after the error mode


def test_vmap_errors_as_torch(torch):
    for m in (sg, torch):
        with pytest.raises(ValueError, match="same size in the mapped dimension"):
            m.func.vmap(lambda x, y: x)(m.randn(2), m.randn(3))
        with pytest.raises(ValueError, match="at least one Tensor to vmap over"):
            m.func.vmap(lambda x: x, in_dims=(None,))(m.randn(2))
        with pytest.raises(ValueError, match="must only return Tensors"):
            m.func.vmap(lambda x: 1.0)(m.randn(2))
        with pytest.raises(ValueError, match="expected in_dim to satisfy"):
            m.func.vmap(lambda x: x.sum(), in_dims=3)(m.randn(2))
        with pytest.raises(ValueError, match="expected `in_dims` to be int"):
            m.func.vmap(lambda x: x, in_dims=None)(m.randn(2))


# ---------------------------------------------------------------- requires_grad and .grad
def test_inputs_without_grad_and_with_grad(torch):
    for m in (sg, torch):
        x = m.tensor([0.5, 1.5])
        g = m.func.grad(lambda x: (x ** 3).sum())(x)
        assert not g.requires_grad and x.grad is None
        xg = m.tensor([0.5, 1.5], requires_grad=True)
        g = m.func.grad(lambda x: (x ** 3).sum())(xg)
        assert g.requires_grad and xg.grad is None      # a graph back to xg, .grad untouched
        (gg,) = m.autograd.grad(g.sum(), xg)
        np.testing.assert_allclose(_arr(gg), 6 * _arr(xg), rtol=1e-15)
        with m.no_grad():
            g = m.func.grad(lambda x: (x ** 3).sum())(xg)
        assert not g.requires_grad
        w = m.tensor([2.0, 3.0], requires_grad=True)    # a closure tensor requiring grad
        g = m.func.grad(lambda x: (w * x ** 2).sum())(x)
        assert g.requires_grad and g.grad_fn is not None
        g = m.func.grad(lambda x: (x * x.detach()).sum())(x)   # inner no-grad paths count out
        np.testing.assert_allclose(_arr(g), _arr(x))


def test_misuse_errors_as_torch(torch):
    for m in (sg, torch):
        x = m.randn(3)
        with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar"):
            m.func.grad(lambda x: x)(x)
        with pytest.raises(RuntimeError, match="to return a Tensor"):
            m.func.grad(lambda x: (x.sum(), 1))(x)
        with pytest.raises(RuntimeError, match="should be a tuple: \\(output, aux\\)"):
            m.func.grad(lambda x: x.sum(), has_aux=True)(x)
        with pytest.raises(RuntimeError, match="only 1 positional inputs"):
            m.func.grad(lambda x: x.sum(), argnums=2)(x)
        with pytest.raises(RuntimeError, match="floating point"):
            m.func.grad(lambda x: x.sum())(m.arange(3))
        with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
            m.func.jvp(lambda x: x, x, x)
        with pytest.raises(RuntimeError, match="different size"):
            m.func.jvp(lambda x: x, (x,), (m.randn(4),))
        _, fn = m.func.vjp(lambda x: (x, x * 2), x)
        with pytest.raises(RuntimeError, match="pytree structure of cotangents"):
            fn(m.ones(3))


# ---------------------------------------------------------------- the verifier
def test_verify_check_through_func_grad():
    """A function whose value is itself a gradient taken with ``symgrad.func.grad`` is
    checked as any other: the transform's graph is ordinary recorded ops."""
    x = sg.tensor([0.3, -0.8, 1.1])
    report = sg.verify.check(lambda x: sf.grad(lambda y: (y.sin() * y ** 2).sum())(x)
                             .exp().sum(), x)
    assert report.ok, report.table()


def test_modules_are_reachable_and_loaded_lazily():
    """``import symgrad as torch; torch.func.grad`` and ``torch.autograd.forward_ad`` work,
    and neither is imported by ``import symgrad`` (start-up time is measured)."""
    import subprocess
    import sys

    code = ("import sys, symgrad as torch\n"
            "mods = ('symgrad.func', 'symgrad.autograd.forward_ad', 'symgrad.ops._forward')\n"
            "assert not [m for m in mods if m in sys.modules], sys.modules.keys()\n"
            "assert torch.func.grad(torch.sin)(torch.tensor(0.0)).item() == 1.0\n"
            "with torch.autograd.forward_ad.dual_level():\n"
            "    pass\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_transforms_inside_a_dual_level(torch):
    """Forward mode over the transforms: the tangent of a gradient, Jacobian or vmapped
    value, as PyTorch's forward_ad computes it; jacfwd and jvp (which PyTorch refuses
    inside a dual level: nested forward AD) agree with jacrev's."""
    rng = np.random.default_rng(9)
    x, t = rng.standard_normal(3), rng.standard_normal(3)

    def run(m):
        fw, F = m.autograd.forward_ad, m.func
        f = lambda a: (a.sin() * a.exp()).sum() * a[0]   # noqa: E731
        g = lambda a: a.sin() * a.sum()   # noqa: E731
        with fw.dual_level():
            d = fw.make_dual(m.tensor(x), m.tensor(t))
            outs = [F.grad(f)(d), F.jacrev(g)(d),
                    F.vmap(lambda r: r.exp() * r.sum())(m.stack([d, d * 2]))]
            if m is sg:
                outs += [F.jacfwd(g)(d), F.jvp(g, (d,), (m.ones(3),))[1]]
            return [(_arr(o), _arr(fw.unpack_dual(o).tangent)) for o in outs]

    ours = run(sg)
    for (ps, ts), (pt, tt) in zip(ours, run(torch)):
        np.testing.assert_allclose(ps, pt, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(ts, tt, rtol=RTOL, atol=ATOL)
    (jr, tjr), (jf, tjf), (jv, tjv) = ours[1], ours[3], ours[4]
    np.testing.assert_allclose(jf, jr, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(tjf, tjr, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(jv, jr.sum(1), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(tjv, tjr.sum(1), rtol=RTOL, atol=ATOL)


# the short examples of torch.func's documentation
DOC_EXAMPLES = {
    "jvp_sin": (lambda m: lambda x: m.func.jvp(m.sin, (x,), (m.ones(5),)), [(5,)]),
    "vjp_sin": (lambda m: lambda x: m.func.vjp(m.sin, x)[1](m.ones(5)), [(5,)]),
    "jacrev_sin": (lambda m: m.func.jacrev(m.sin), [(5,)]),
    "jacfwd_sin": (lambda m: m.func.jacfwd(m.sin), [(5,)]),
    "hessian_sin": (lambda m: m.func.hessian(lambda x: x.sin().sum()), [(5,)]),
    "linearize_sin": (lambda m: lambda x: m.func.linearize(m.sin, x)[1](m.ones(5)), [(5,)]),
    "batched_dot": (lambda m: m.func.vmap(m.dot), [(2, 5), (2, 5)]),
    "batched_mv": (lambda m: m.func.vmap(m.mv, in_dims=(0, None)), [(4, 2, 5), (5,)]),
    "jacobian_rows": (lambda m: m.func.vmap(m.func.vjp(m.sin, m.tensor([0.1, 0.2, 0.3]))[1]),
                      [(3, 3)]),
    "batched_jacobian": (lambda m: m.func.vmap(m.func.jacrev(m.sin)), [(64, 5)]),
}


@pytest.mark.parametrize("name", DOC_EXAMPLES)
def test_torch_func_doc_examples(torch, name):
    make, shapes = DOC_EXAMPLES[name]
    rng = np.random.default_rng(10)
    _both(torch, make, [rng.standard_normal(s) for s in shapes])
