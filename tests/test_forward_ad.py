"""Forward-mode AD (``symgrad.autograd.forward_ad``): tangents against PyTorch's, on fixed
programs over a broad set of ops and on random programs; every op of the table against
its own reverse rule; the API's misuse errors; the PyTorch forward-mode tutorial."""

import numpy as np
import pytest

import symgrad as sg
import symgrad.autograd.forward_ad as fwAD
from symgrad.ops import OPS
from symgrad.ops._apply import apply
from symgrad.verify.rules import _domains, examples_of

RTOL, ATOL = 1e-12, 1e-13


def _arr(t):
    return np.asarray(t.detach().numpy())


def _dual_run(m, fn, datas, tangents):
    """``fn(m, *duals)`` under a dual level of library ``m``: (primal, tangent) arrays."""
    fw = m.autograd.forward_ad
    with fw.dual_level():
        duals = [fw.make_dual(m.tensor(d), m.tensor(t)) if t is not None else m.tensor(d)
                 for d, t in zip(datas, tangents)]
        out = fn(m, *duals)
        primal, tangent = fw.unpack_dual(out)
        return _arr(primal), None if tangent is None else _arr(tangent)


def _compare(torch, fn, datas, tangents=None):
    rng = np.random.default_rng(1)
    if tangents is None:
        tangents = [rng.standard_normal(np.shape(d)) for d in datas]
    ps, ts = _dual_run(sg, fn, datas, tangents)
    pt, tt = _dual_run(torch, fn, datas, tangents)
    np.testing.assert_allclose(ps, pt, rtol=RTOL, atol=ATOL)
    assert (ts is None) == (tt is None)
    if ts is not None:
        assert ts.shape == tt.shape
        np.testing.assert_allclose(ts, tt, rtol=RTOL, atol=ATOL)


def _F(m):
    return m.nn.functional


def _inplace_chain(m, x, y):
    h = x.clone()
    h.mul_(y)
    h.add_(x.exp(), alpha=0.5)
    h[0] = h[1] * 2
    h[:, 1:].sigmoid_()
    return h


def _view_write(m, x, y):
    z = m.zeros(3, 4)
    z[1:, :2] = x[:2, :2] * y[:2, :2]
    v = z[0]
    v.copy_(y[0].sin())
    return z


PROGRAMS = {
    "elementwise": (lambda m, x, y: (x.sin() * y.exp() - m.tanh(x * y) / (1 + y * y)
                                     + m.sqrt(x * x + 1) * m.log1p(y.abs())), ((3, 4), (3, 4))),
    "pow_div_clamp": (lambda m, x, y: (x.abs() + 0.5) ** y / (2 + m.cos(x))
                      + x.clamp(-0.5, 0.5) + m.maximum(x, y), ((3, 4), (3, 4))),
    "broadcast": (lambda m, x, y: m.atan2(x, 1 + y.exp()) * y + m.hypot(x, y), ((3, 4), (4,))),
    "reductions": (lambda m, x, y: (x.sum(1) + y.prod(1) + m.logsumexp(x, 1) + x.var(1)
                                    + m.amax(x * y, 1) + x.norm(dim=1) + m.cumsum(x, 1)[:, -1]
                                    + x.max(1).values + x.mean(1)), ((3, 4), (3, 4))),
    "matmul": (lambda m, x, y, w: m.tanh(x @ w) @ y.T + m.einsum("ij,jk->ik", x, w).sum(),
               ((3, 4), (5, 4), (4, 4))),
    "views": (lambda m, x, y: (x.T.reshape(2, 6)[:, ::2] * y.flatten()[:6].view(2, 3)
                               ).permute(1, 0).unsqueeze(0).expand(2, 3, 2).flip(0),
              ((3, 4), (3, 4))),
    "indexing": (lambda m, x, y: m.cat([x.gather(1, m.tensor([[0, 3], [1, 1], [2, 0]])),
                                        x.index_select(0, m.tensor([2, 0])).T[:2],
                                        m.where(y > 0, x, y)[:, :2]], 0).masked_fill(
                                            m.tensor([[True, False]]), 0.5), ((3, 4), (3, 4))),
    "stack_split": (lambda m, x, y: m.stack(list(x.split(2, 1)) + [y[:, :2]], 0).diagonal(
        0, 1, 2).tril() * 3, ((3, 4), (3, 4))),
    "softmax": (lambda m, x, y: _F(m).softmax(x * y, dim=1) + _F(m).log_softmax(x, dim=0),
                ((3, 4), (3, 4))),
    "activations": (lambda m, x, y: _F(m).gelu(x) + _F(m).silu(y) + _F(m).softplus(x * y)
                    + _F(m).elu(x) + _F(m).leaky_relu(y, 0.1) + _F(m).logsigmoid(x),
                    ((3, 4), (3, 4))),
    "losses": (lambda m, x, y: _F(m).mse_loss(x, y) + _F(m).cross_entropy(x, m.tensor([0, 3, 1]))
               + _F(m).binary_cross_entropy_with_logits(x, y.sigmoid())
               + _F(m).smooth_l1_loss(x, y) + _F(m).nll_loss(_F(m).log_softmax(y, 1),
                                                             m.tensor([2, 2, 0])),
               ((3, 4), (3, 4))),
    "layer_norm": (lambda m, x, w, b: _F(m).layer_norm(x, (4,), w, b)
                   + _F(m).normalize(x, dim=1) + _F(m).linear(x, w.diag(), b),
                   ((3, 4), (4,), (4,))),
    "linalg": (lambda m, x, y: m.linalg.inv(x @ x.T + 3 * m.eye(3)) @ y
               + m.det(x[:, :3] + 2 * m.eye(3)), ((3, 4), (3, 4))),
    "sort_topk": (lambda m, x, y: m.sort(x * y, 1).values[:, :3] + m.topk(x, 3, 1).values
                  + m.cummax(y, 1).values[:, 1:], ((3, 4), (3, 4))),
    "inplace": (_inplace_chain, ((3, 4), (3, 4))),
    "view_write": (_view_write, ((3, 4), (3, 4))),
    "plain_argument": (lambda m, x, y: x * y + y.sin(), ((3, 4), (3, 4))),
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_tangents_match_pytorch(torch, name):
    fn, shapes = PROGRAMS[name]
    rng = np.random.default_rng(0)
    datas = [rng.standard_normal(s) for s in shapes]
    tangents = None
    if name == "plain_argument":   # a tensor without tangent next to a dual one
        tangents = [rng.standard_normal(shapes[0]), None]
    _compare(torch, fn, datas, tangents)


# ---------------------------------------------------------------- random programs
_UNARY = {
    "sin": lambda m, h: h.sin(), "tanh": lambda m, h: m.tanh(h),
    "sigmoid": lambda m, h: h.sigmoid(),
    "exp": lambda m, h: (0.3 * h).exp(), "square": lambda m, h: h * h,
    "softplus": lambda m, h: m.nn.functional.softplus(h), "abs": lambda m, h: (h + 0.01).abs(),
    "log": lambda m, h: m.log(h * h + 1), "recip": lambda m, h: 1 / (2 + h.cos()),
}
_STEPS = {
    **{f"u_{k}": (lambda f: lambda m, h, x, w: f(m, h))(f) for k, f in _UNARY.items()},
    "mul_x": lambda m, h, x, w: h * x,
    "div": lambda m, h, x, w: h / (1 + x * x),
    "matmul": lambda m, h, x, w: h @ w,
    "softmax": lambda m, h, x, w: m.softmax(h, -1),
    "log_softmax": lambda m, h, x, w: m.log_softmax(h, 0),
    "center": lambda m, h, x, w: h - h.mean(1, keepdim=True),
    "norm_rows": lambda m, h, x, w: h / (1 + h.norm(dim=1, keepdim=True)),
    "cumsum": lambda m, h, x, w: m.cumsum(h, 1),
    "flip_cat": lambda m, h, x, w: m.cat([h[:, 2:], h[:, :2].flip(1)], 1),
    "transpose_back": lambda m, h, x, w: (h.T * x.T).T,
    "max_dim": lambda m, h, x, w: h - h.max(1, keepdim=True).values,
    "inplace_mul": lambda m, h, x, w: h.clone().mul_(x),
    "inplace_row": lambda m, h, x, w: _set_row(h),
    "index": lambda m, h, x, w: h[m.tensor([2, 0, 1])],
}


def _set_row(h):
    h = h.clone()
    h[1] = h[0] * h[2]
    return h


def _program(seed):
    rng = np.random.default_rng(seed)
    return [list(_STEPS)[i] for i in rng.integers(0, len(_STEPS), size=7)]


def _run_program(steps):
    def fn(m, x, w, h):
        for s in steps:
            h = _STEPS[s](m, h, x, w)
        return h
    return fn


@pytest.mark.parametrize("seed", range(40))
def test_random_programs_match_pytorch(torch, seed):
    rng = np.random.default_rng(100 + seed)
    datas = [rng.standard_normal((3, 4)), rng.standard_normal((4, 4)) / 2,
             rng.standard_normal((3, 4))]
    tangents = [rng.standard_normal(np.shape(d)) if rng.random() < 0.7 else None
                for d in datas[:2]] + [rng.standard_normal((3, 4))]
    _compare(torch, _run_program(_program(seed)), datas, tangents)


# ---------------------------------------------------------------- every op of the table
def _op_args(op, shapes, rng):
    out = []
    for name, shape, dom in zip(op.arg_names * len(shapes) if op.variadic else op.arg_names,
                                shapes, _domains(op, len(shapes))):
        if shape is None:
            out.append(None)
        elif name == "condition":
            out.append(sg.tensor(rng.random(shape) < 0.5))
        elif dom.integer:
            lo, hi = dom.typical
            out.append(sg.tensor(rng.integers(int(np.ceil(lo)), int(np.floor(hi)) + 1,
                                               size=shape)))
        else:
            out.append(sg.tensor(rng.uniform(*dom.typical, size=shape)))
    return out


def _op_cases():
    for name, op in OPS.items():
        for k, (shapes, params) in enumerate(examples_of(op)):
            yield pytest.param(op, shapes, params, id=f"{name}-{k}")


@pytest.mark.parametrize("op,shapes,params", list(_op_cases()))
def test_every_op_tangent_is_the_transpose_of_its_gradient(op, shapes, params):
    """``<u, J t> = sum_i <J_i^T u, t_i>``: the derived forward rule against the engine's
    reverse pass (itself proved against SymPy by check_rules)."""
    rng = np.random.default_rng(3)
    args = _op_args(op, shapes, rng)
    diff = [i for i, a in enumerate(args) if isinstance(a, sg.Tensor) and a.is_floating_point()
            and op.vjp[0 if op.variadic else i] is not None]
    if not diff:
        pytest.skip("no differentiable floating argument")
    tans = {i: sg.tensor(rng.standard_normal(tuple(args[i].shape))) for i in diff}
    with fwAD.dual_level():
        duals = [fwAD.make_dual(a, tans[i]) if i in tans else a for i, a in enumerate(args)]
        jt = fwAD.unpack_dual(apply(op, *duals, **params)).tangent
    leaves = [a.detach().requires_grad_(True) if i in tans else a for i, a in enumerate(args)]
    out = apply(op, *leaves, **params)
    u = sg.tensor(rng.standard_normal(tuple(out.shape)))
    gs = sg.autograd.grad([out], [leaves[i] for i in diff], grad_outputs=[u],
                          allow_unused=True, materialize_grads=True)
    assert jt.shape == out.shape and jt.dtype == out.dtype
    lhs = float((u * jt).sum())
    rhs = float(sum((g * tans[i]).sum() for g, i in zip(gs, diff)))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- semantics
def test_tangents_ignore_grad_mode_and_do_not_require_grad():
    x, t = sg.randn(3), sg.randn(3)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        assert not d.requires_grad and d.grad_fn is None
        with sg.no_grad():
            y = d * 2
        np.testing.assert_array_equal(_arr(fwAD.unpack_dual(y).tangent), 2 * _arr(t))
        assert not y.requires_grad
        assert fwAD.unpack_dual(d).tangent is t
        assert fwAD.unpack_dual(x).tangent is None           # the primal itself has none
        assert fwAD.unpack_dual(d.detach()).tangent is None  # detach drops it, as PyTorch
        assert fwAD.unpack_dual(d > 0).tangent is None       # no tangent for a bool result
        assert fwAD.unpack_dual(d.argmax()).tangent is None
        z = d.exp()
    assert fwAD.unpack_dual(z).tangent is None                # discarded with the level
    assert fwAD.unpack_dual(z).primal is z


def test_make_dual_is_a_view_and_inplace_changes_reach_the_tangent():
    x, t = sg.randn(3), sg.randn(3)
    t0 = _arr(t).copy()
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        d.mul_(2)                      # x changes too (d is a view); t is updated in place
        np.testing.assert_array_equal(_arr(x), _arr(d))
        assert fwAD.unpack_dual(d).tangent is t
        np.testing.assert_array_equal(_arr(t), 2 * t0)
        v = d[1:]
        v.zero_()
        np.testing.assert_array_equal(_arr(t), [2 * t0[0], 0.0, 0.0])


def test_reverse_over_forward():
    """A tangent that depends on a tensor requiring grad records a graph."""
    x = sg.tensor([0.3, -1.2, 2.0], requires_grad=True)
    t = sg.tensor([1.0, 2.0, -1.0])
    with fwAD.dual_level():
        y = (fwAD.make_dual(x, t) ** 3).sum()
        jvp = fwAD.unpack_dual(y).tangent            # 3 x^2 . t
    (g,) = sg.autograd.grad(jvp, x)                  # 6 x t
    np.testing.assert_allclose(_arr(g), 6 * _arr(x) * _arr(t), rtol=1e-14)


def test_misuse_errors_as_pytorch():
    x = sg.randn(3)
    with pytest.raises(RuntimeError, match="no level exists"):
        fwAD.make_dual(x, sg.randn(3))
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="different size"):
            fwAD.make_dual(x, sg.randn(4))
        with pytest.raises(ValueError, match="floating point"):
            fwAD.make_dual(sg.arange(3), sg.randn(3))
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            fwAD.enter_dual_level()
        d = fwAD.make_dual(x, sg.randn(3))
        with pytest.raises(RuntimeError, match="already has a forward gradient"):
            fwAD.make_dual(d, sg.randn(3))
        with pytest.raises(RuntimeError, match="Invalid level"):
            fwAD.unpack_dual(d, level=5)
    with pytest.raises(RuntimeError, match="no level is currently open"):
        fwAD.exit_dual_level()
    level = fwAD.enter_dual_level()
    assert level == 0
    fwAD.exit_dual_level(level=level)


def test_misuse_errors_of_pytorch_itself(torch):
    """The same misuse raises the same exception types in PyTorch."""
    fw = torch.autograd.forward_ad
    with pytest.raises(RuntimeError, match="no level exists"):
        fw.make_dual(torch.randn(3), torch.randn(3))
    with fw.dual_level():
        with pytest.raises(RuntimeError, match="different size"):
            fw.make_dual(torch.randn(3), torch.randn(4))
        with pytest.raises(ValueError, match="floating point"):
            fw.make_dual(torch.arange(3), torch.randn(3))
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            fw.enter_dual_level()


# ---------------------------------------------------------------- the PyTorch tutorial
def test_forward_ad_tutorial_basic_usage():
    primal, tangent = sg.randn(10, 10), sg.randn(10, 10)

    def fn(x, y):
        return x ** 2 + y ** 2

    with fwAD.dual_level():
        dual_input = fwAD.make_dual(primal, tangent)
        assert fwAD.unpack_dual(dual_input).tangent is tangent
        dual_input_alt = fwAD.make_dual(primal, tangent.T)
        assert fwAD.unpack_dual(dual_input_alt).tangent is not tangent
        plain_tensor = sg.randn(10, 10)
        dual_output = fn(dual_input, plain_tensor)
        jvp = fwAD.unpack_dual(dual_output).tangent
    np.testing.assert_allclose(_arr(jvp), 2 * _arr(primal) * _arr(tangent), rtol=1e-15)
    assert fwAD.unpack_dual(dual_output).tangent is None


def test_forward_ad_tutorial_custom_function():
    class Fn(sg.autograd.Function):
        @staticmethod
        def forward(ctx, foo):
            result = sg.exp(foo)
            ctx.result = result
            return result

        @staticmethod
        def jvp(ctx, gI):
            gO = gI * ctx.result
            del ctx.result
            return gO

    primal = sg.randn(10, 10, dtype=sg.double, requires_grad=True)
    tangent = sg.randn(10, 10)
    with fwAD.dual_level():
        dual_output = Fn.apply(fwAD.make_dual(primal, tangent))
        jvp = fwAD.unpack_dual(dual_output).tangent
    np.testing.assert_allclose(_arr(jvp), _arr(tangent) * np.exp(_arr(primal)), rtol=1e-15)


def test_custom_function_without_jvp_is_refused():
    class NoJvp(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with fwAD.dual_level():
        assert fwAD.unpack_dual(NoJvp.apply(sg.randn(2))).tangent is None   # no tangent in
        with pytest.raises(NotImplementedError, match="implement the jvp"):
            NoJvp.apply(fwAD.make_dual(sg.randn(2), sg.randn(2)))


def test_save_for_forward():
    class Sq(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_forward(x)
            return x * x

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return 2 * x * t

    x, t = sg.randn(3), sg.randn(3)
    with fwAD.dual_level():
        jvp = fwAD.unpack_dual(Sq.apply(fwAD.make_dual(x, t))).tangent
    np.testing.assert_allclose(_arr(jvp), 2 * _arr(x) * _arr(t), rtol=1e-15)


def test_forward_over_reverse_matches_pytorch(torch):
    """A recorded backward pass under a dual level carries tangents: a Hessian-vector
    product as the tangent of a gradient."""
    rng = np.random.default_rng(7)
    xd, td, wd = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal((4, 4))

    def hvp(m):
        fw = m.autograd.forward_ad
        x, w = m.tensor(xd, requires_grad=True), m.tensor(wd)
        with fw.dual_level():
            d = fw.make_dual(x, m.tensor(td))
            y = (m.tanh(w @ d) ** 2).sum() + (d.sin() * d).prod() + m.softmax(d, 0)[0]
            (g,) = m.autograd.grad(y, d, create_graph=True)
            return _arr(fw.unpack_dual(g).tangent)

    np.testing.assert_allclose(hvp(sg), hvp(torch), rtol=RTOL, atol=ATOL)


def test_gradcheck_checks_forward_mode():
    """The tutorial's last step: ``gradcheck(..., check_forward_ad=True)``, which catches
    a wrong ``jvp`` (against central differences here: the Function has no mirror)."""
    class Exp(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.result = sg.exp(x)
            return ctx.result

        @staticmethod
        def jvp(ctx, t):
            return t * ctx.result

    class WrongExp(Exp):
        @staticmethod
        def jvp(ctx, t):
            return t * ctx.result * 1.01

    primal = sg.randn(3, 3, dtype=sg.double, requires_grad=True)
    kw = dict(check_forward_ad=True, check_backward_ad=False, check_undefined_grad=False,
              check_batched_grad=False)
    assert sg.autograd.gradcheck(Exp.apply, (primal,), **kw)
    with pytest.raises(sg.autograd.gradcheck.GradcheckError, match="forward mode mismatch"):
        sg.autograd.gradcheck(WrongExp.apply, (primal,), **kw)
    # a mirrored graph is compared with SymPy's exact Jacobian
    x = sg.randn(3, requires_grad=True)
    assert sg.autograd.gradcheck(lambda x: sg.softmax(x, 0) * x.sin(), (x,),
                                 check_forward_ad=True)


# ---------------------------------------------------------------- more ops, several outputs
def _in_place_view(m, d):
    h = d * 1
    h.t_()
    h.unsqueeze_(0)
    return h


def _put(m, d):
    z = m.zeros(5, 4)
    z[m.tensor([0, 3, 4])] = d
    return z


MORE = {
    "in_place_view": _in_place_view, "advanced_setitem": _put,
    "unbind": lambda m, d: m.unbind(d, 1), "split": lambda m, d: d.split([1, 3], 1),
    "max_dim": lambda m, d: tuple(m.max(d, 1)), "sort": lambda m, d: tuple(d.sort(0)),
    "median": lambda m, d: tuple(d.median(1)), "std_mean": lambda m, d: m.std_mean(d, 1),
    "to_float32": lambda m, d: d.to(m.float32).double() * 2,
    "where_scalar": lambda m, d: m.where(d > 0, d, 0.5),
    "powers": lambda m, d: d.abs() ** 2.5 + m.pow(2.0, d),
    "norms": lambda m, d: (m.linalg.vector_norm(d, 3, 1), m.linalg.matrix_norm(d)),
    "masked_select": lambda m, d: d[d > 0],
    "repeat_roll": lambda m, d: d.repeat(2, 1).roll(1, 0),
    "scatter_add": lambda m, d: m.zeros(3, 5).scatter_add(1, m.tensor([[0, 1, 2, 4]] * 3), d),
    "index_add_": lambda m, d: m.zeros(4, 4).index_add_(0, m.tensor([0, 2, 2]), d),
    "addcmul_": lambda m, d: d.clone().addcmul_(d, d, value=0.5),
    "cumprod": lambda m, d: d.cumprod(1), "diag_embed": lambda m, d: m.diag_embed(d),
    "expand_into": lambda m, d: m.zeros(3, 4).add_(d[0].expand(3, 4)),
    "fill_": lambda m, d: d.clone().fill_(2.0),
    "copy_plain": lambda m, d: d.clone().copy_(m.ones(3, 4)),
    "zero_": lambda m, d: d.clone().zero_(), "relu_": lambda m, d: m.relu_(d.clone()),
}


@pytest.mark.parametrize("name", MORE)
def test_more_ops_match_pytorch(torch, name):
    rng = np.random.default_rng(8)
    x, t = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    results = []
    for m in (sg, torch):
        fw = m.autograd.forward_ad
        with fw.dual_level():
            out = MORE[name](m, fw.make_dual(m.tensor(x), m.tensor(t)))
            outs = out if isinstance(out, tuple) else (out,)
            results.append([(_arr(fw.unpack_dual(o).primal), fw.unpack_dual(o).tangent)
                            for o in outs])
    assert len(results[0]) == len(results[1])
    for (ps, ts), (pt, tt) in zip(*results):
        np.testing.assert_allclose(ps, pt, rtol=RTOL, atol=ATOL)
        assert (ts is None) == (tt is None)
        if ts is not None:
            np.testing.assert_allclose(_arr(ts), _arr(tt), rtol=RTOL, atol=ATOL)


def test_repr_shows_the_tangent_as_pytorch(torch):
    x, t = np.array([0.5, -1.25]), np.array([2.0, 0.125])
    reprs = []
    for m in (sg, torch):
        fw = m.autograd.forward_ad
        with fw.dual_level():
            reprs.append(repr(fw.make_dual(m.tensor(x), m.tensor(t)) * 2))
    assert reprs[0] == reprs[1]


def test_verify_check_of_a_function_of_tangents():
    """Tangents are made of recorded ops, so the verifier checks a function of them (here
    its gradient, second-order in the original function) against SymPy."""
    t = sg.tensor([1.0, -2.0, 0.5])

    def f(x):
        with fwAD.dual_level():
            y = (fwAD.make_dual(x, t).sin() * x.exp()).softmax(0)
            return fwAD.unpack_dual(y).tangent.sum() + fwAD.unpack_dual(y).tangent[0]

    report = sg.verify.check(f, sg.tensor([0.3, -0.8, 1.1]))
    assert report.ok, report.table()
