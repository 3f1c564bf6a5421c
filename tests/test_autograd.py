"""Engine semantics users rely on, as PyTorch defines them."""

import gc
import threading
import warnings
import weakref

import numpy as np
import pytest

import symgrad as sg
from symgrad.nn import functional as F


def test_leaves_and_grad_fn_names():
    x = sg.ones(5)
    w = sg.randn(5, 3, requires_grad=True)
    b = sg.randn(3, requires_grad=True)
    z = sg.matmul(x, w) + b
    loss = F.binary_cross_entropy_with_logits(z, sg.zeros(3))
    assert w.is_leaf and b.is_leaf and x.is_leaf and not z.is_leaf
    assert z.grad_fn.name() == "AddBackward0"
    assert type(z.grad_fn).__name__ == "AddBackward0"
    assert loss.grad_fn.name() == "BinaryCrossEntropyWithLogitsBackward0"
    assert repr(z.grad_fn).startswith("<AddBackward0 object at 0x")
    (mm, _), (acc, _) = z.grad_fn.next_functions
    assert mm.name() == "SqueezeBackward4"
    assert acc.name() == "torch::autograd::AccumulateGrad" and acc.variable is b   # as PyTorch
    assert repr(acc).startswith("<AccumulateGrad object at 0x")
    assert loss.grad_fn.next_functions[1] == (None, 0)


@pytest.mark.parametrize("expr, name", [
    (lambda a: a + 2, "AddBackward0"), (lambda a: a - 2, "SubBackward0"),
    (lambda a: 2 - a, "RsubBackward1"), (lambda a: a * 2, "MulBackward0"),
    (lambda a: a / 2, "DivBackward0"), (lambda a: -a, "NegBackward0"),
    (lambda a: a ** 2, "PowBackward0"), (lambda a: a ** a, "PowBackward1"),
    (lambda a: 2 ** a, "PowBackward2"), (lambda a: a.sum(), "SumBackward0"),
    (lambda a: a.sum(0), "SumBackward1"), (lambda a: a.mean(), "MeanBackward0"),
    (lambda a: a.mean(1), "MeanBackward1"), (lambda a: a.reshape(6), "ViewBackward0"),
    (lambda a: a.view(3, 2), "ViewBackward0"), (lambda a: a.t(), "TBackward0"),
    (lambda a: a.T, "PermuteBackward0"), (lambda a: a.transpose(0, 1), "TransposeBackward0"),
    (lambda a: a.exp(), "ExpBackward0"), (lambda a: a.log(), "LogBackward0"),
    (lambda a: a.sigmoid(), "SigmoidBackward0"), (lambda a: a.tanh(), "TanhBackward0"),
    (lambda a: a.relu(), "ReluBackward0"), (lambda a: a @ a.T, "MmBackward0"),
    (lambda a: F.mse_loss(a, a.detach() * 2), "MseLossBackward0"),
])
def test_node_names_follow_pytorch(expr, name):
    a = sg.rand(2, 3, requires_grad=True)
    assert expr(a).grad_fn.name() == name


def test_gradients_accumulate_and_zero():
    inp = sg.eye(5, requires_grad=True)
    out = (inp + 1).pow(2)
    out.backward(sg.ones_like(inp), retain_graph=True)
    first = inp.grad.numpy().copy()
    np.testing.assert_array_equal(first, 2 * (np.eye(5) + 1))
    out.backward(sg.ones_like(inp), retain_graph=True)
    np.testing.assert_array_equal(inp.grad.numpy(), 2 * first)
    inp.grad.zero_()
    out.backward(sg.ones_like(inp), retain_graph=True)
    np.testing.assert_array_equal(inp.grad.numpy(), first)


def test_second_backward_without_retain_graph_raises():
    a = sg.rand(3, requires_grad=True)
    y = (a * a).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_graph_without_saved_values_can_run_twice():
    a = sg.rand(3, requires_grad=True)
    y = (a + 1).sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0, 2.0])


def test_implicit_gradient_only_for_scalars():
    a = sg.rand(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        (a * 2).backward()
    (a * 2).sum().backward()
    one = a.grad.numpy().copy()
    a.grad = None
    (a * 2).sum().backward(sg.tensor(1.0))
    np.testing.assert_array_equal(a.grad.numpy(), one)


def test_backward_of_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        sg.ones(3).sum().backward()


def test_wrong_gradient_shape_raises():
    a = sg.rand(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (a * 2).backward(sg.ones(2))


def test_non_leaf_grad_warns_and_retain_grad_keeps_it():
    a = sg.rand(3, requires_grad=True)
    b = a * 2
    c = b * 3
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert b.grad is None
    assert any(".retain_grad()" in str(x.message) for x in w)
    b.retain_grad()
    c.sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [3.0, 3.0, 3.0])
    np.testing.assert_array_equal(a.grad.numpy(), [6.0, 6.0, 6.0])


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="floating point"):
        sg.tensor([1, 2]).requires_grad_()
    a = sg.rand(2, requires_grad=True)
    b = a * 2
    with pytest.raises(RuntimeError, match="leaf"):
        b.requires_grad_(False)
    c = sg.rand(2)
    c.requires_grad = True
    assert c.requires_grad and c.is_leaf


def test_no_grad_detach_and_enable_grad():
    a = sg.rand(2, requires_grad=True)
    with sg.no_grad():
        b = a * 2
        with sg.enable_grad():
            c = a * 2
    assert not b.requires_grad and b.grad_fn is None
    assert c.requires_grad
    d = (a * 2).detach()
    assert not d.requires_grad and d.is_leaf
    sg.set_grad_enabled(False)
    try:
        assert not (a * 2).requires_grad
    finally:
        sg.set_grad_enabled(True)
    assert sg.is_grad_enabled()

    @sg.no_grad()
    def f(x):
        return x * 2

    assert not f(a).requires_grad


def test_grad_mode_is_thread_local():
    seen = {}

    def worker():
        seen["other"] = sg.is_grad_enabled()

    with sg.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        seen["here"] = sg.is_grad_enabled()
    assert seen == {"other": True, "here": False}


def test_deep_chain_is_iterative():
    a = sg.tensor([1.0], requires_grad=True)
    y = a
    for _ in range(20000):
        y = y * 1.0
    y.sum().backward()
    assert a.grad.item() == 1.0


def test_reused_tensor_accumulates():
    a = sg.tensor([2.0], requires_grad=True)
    total = a * 0
    for _ in range(1000):
        total = total + a
    total.sum().backward()
    assert a.grad.item() == 1000.0


def test_autograd_grad_semantics():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = sg.tensor([3.0], requires_grad=True)
    unused = sg.tensor([1.0], requires_grad=True)
    out = (x * x).sum() * y
    gx, gy = sg.autograd.grad(out.sum(), [x, y], retain_graph=True)
    np.testing.assert_array_equal(gx.numpy(), [6.0, 12.0])
    np.testing.assert_array_equal(gy.numpy(), [5.0])
    assert x.grad is None  # grad() does not accumulate
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        sg.autograd.grad(out.sum(), [x, unused], retain_graph=True)
    g = sg.autograd.grad(out.sum(), [x, unused], allow_unused=True, retain_graph=True)
    assert g[1] is None
    (gz,) = sg.autograd.grad(out.sum(), [out])
    np.testing.assert_array_equal(gz.numpy(), [1.0])


def test_grad_wrt_intermediate_and_leaf_together():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    out = (h * h).sum()
    gh, gx = sg.autograd.grad(out, [h, x])
    np.testing.assert_array_equal(gh.numpy(), [6.0, 12.0])
    np.testing.assert_array_equal(gx.numpy(), [18.0, 36.0])


def test_leaf_grads_are_not_aliased():
    a = sg.rand(3, requires_grad=True)
    b = sg.rand(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.zero_()
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0, 1.0])


def test_hooks_see_and_replace_gradients():
    a = sg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = a.register_hook(lambda g: seen.append(g.tolist()) or g * 10)
    (a * 3).sum().backward()
    assert seen == [[3.0, 3.0]]
    np.testing.assert_array_equal(a.grad.numpy(), [30.0, 30.0])
    h.remove()
    a.grad = None
    (a * 3).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0])


def test_graph_memory_is_released():
    a = sg.rand(100, requires_grad=True)
    y = (a.exp() * 2).sum()
    ref = weakref.ref(y.grad_fn)
    y.backward()
    del y
    gc.collect()
    assert ref() is None


def test_saved_tensor_modified_in_place_raises():
    a = sg.rand(3, requires_grad=True)
    e = a.exp()
    y = e * 2
    e2 = e.detach()
    with sg.no_grad():
        e2.add_(1)
    with pytest.raises(RuntimeError, match="in-place"):
        (e * 1).sum().backward()  # ExpBackward0 saved e's value
    del y


def test_sgd_loop_in_place_under_no_grad():
    sg.manual_seed(0)
    x = sg.randn(20, 3)
    true_w = sg.tensor([[1.0], [-2.0], [0.5]])
    y = x @ true_w
    w = sg.zeros(3, 1, requires_grad=True)
    for _ in range(200):
        loss = F.mse_loss(x @ w, y)
        loss.backward()
        with sg.no_grad():
            w -= 0.1 * w.grad
            w.grad.zero_()
    np.testing.assert_allclose(w.detach().numpy(), true_w.numpy(), atol=1e-6)
    assert w.is_leaf and w.requires_grad


def test_in_place_on_leaf_requiring_grad_raises():
    w = sg.rand(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w[0] = 2.0


def test_in_place_on_non_leaf_is_recorded():
    a = sg.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    b.mul_(a)
    assert b.grad_fn.name() == "MulBackward0"
    b.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [4.0, 8.0])


def test_item_assignment_on_non_leaf():
    a = sg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 1
    b[1] = 10.0
    (b * b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 0.0, 6.0])


def test_float32_gradients_keep_dtype():
    a = sg.rand(3, dtype=sg.float32, requires_grad=True)
    (a * sg.tensor(2.0)).sum().backward()
    assert a.grad.dtype == sg.float32


def test_functional_namespace_has_pytorchs_entries():
    x = sg.tensor([[-1.0, 0.5, 2.0]], requires_grad=True)
    for name in ["relu", "sigmoid", "tanh", "leaky_relu", "elu", "gelu", "softplus", "silu",
                 "logsigmoid", "hardtanh", "relu6", "linear", "cross_entropy", "nll_loss",
                 "binary_cross_entropy", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div"]:
        assert callable(getattr(F, name)), name
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        s = F.softmax(x)
    assert s.grad_fn.name() == "SoftmaxBackward0"
    np.testing.assert_allclose(s.sum(1).detach().numpy(), [1.0])
    y = x * 1
    F.relu(y, inplace=True)
    assert y.grad_fn.name() == "ReluBackward0" and y.min().item() == 0.0


def test_iteration_and_fill_record_pytorchs_nodes():
    x = sg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert [r.grad_fn.name() for r in rows] == ["UnbindBackward0"] * 2
    (rows[0] * 2 + rows[1]).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 2.0], [1.0, 1.0]])
    y = x * 1
    assert y.fill_(3.0).grad_fn.name() == "FillBackward2"
    assert y.fill_(sg.tensor(3.0)).grad_fn.name() == "FillBackward3"
    assert y.zero_().grad_fn.name() == "ZeroBackward0"
    y[...] = 1.0
    assert y.grad_fn.name() == "FillBackward3"
    with pytest.raises(RuntimeError, match="matrices"):
        _ = sg.ones(3).mT


class _Square(sg.autograd.Function):
    """Saves its input or its output (``which``) for backward, as PyTorch examples do."""

    @staticmethod
    def forward(ctx, x, which="input"):
        y = x * x
        ctx.save_for_backward(x if which == "input" else y)
        ctx.which = which
        return y

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return (2 * g * s if ctx.which == "input" else 2 * g * s.sqrt()), None


def test_custom_function_saved_values_modified_in_place_raise():
    a = sg.tensor([1.0, 2.0], requires_grad=True)
    _Square.apply(a * 1, "output").sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 4.0])
    y = _Square.apply(a * 1, "output")
    y.mul_(2)
    with pytest.raises(RuntimeError, match="its output of _Square .* in-place"):
        y.sum().backward()
    h = a * 1
    y = _Square.apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match="argument 'x' of _Square .* version 1"):
        y.sum().backward()


def test_custom_function_unread_saved_value_may_change():
    class Double(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    a = sg.tensor([1.0], requires_grad=True)
    h = a * 1
    y = Double.apply(h)
    h.add_(1)
    y.sum().backward()  # PyTorch checks versions when saved_tensors is read, not before
    assert a.grad.item() == 2.0


def test_custom_function_mark_non_differentiable_and_integer_outputs():
    class Triple(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x, mark):
            r = x * 3
            ctx.mark_non_differentiable(r if mark else x)
            return r

        @staticmethod
        def backward(ctx, g):
            return g * 3, None

    class ArgMax(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.argmax()   # forward gets the input tensors, as in PyTorch

        @staticmethod
        def backward(ctx, g):
            return None

    x = sg.tensor([1.0, 3.0, 2.0], requires_grad=True)
    b = Triple.apply(x, True)
    assert not b.requires_grad and b.grad_fn is None
    assert Triple.apply(x, False).requires_grad  # marking a non-output is ignored
    r = ArgMax.apply(x)
    assert r.dtype == sg.int64 and not r.requires_grad and r.item() == 1
    m = Triple.apply(x, False) > 4
    assert m.dtype == sg.bool and not m.requires_grad


def test_custom_function_needs_input_grad_is_set_before_forward():
    seen = []

    class Mul(sg.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k):
            seen.append(ctx.needs_input_grad)
            return a * b * k

        @staticmethod
        def backward(ctx, g):
            return g, g, None

    a, b = sg.tensor([1.0], requires_grad=True), sg.tensor([2.0])
    Mul.apply(a, b, 3.0)
    with sg.no_grad():  # PyTorch ignores the grad mode here
        Mul.apply(a, b, 3.0)
    assert seen == [(True, False, False)] * 2


def test_custom_function_rejects_non_tensors_where_pytorch_does():
    class Scale(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x, k, save):
            ctx.save_for_backward(x, save)
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g * 2, g, None

    x = sg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="argument 1 is of type float"):
        Scale.apply(x, 2.0, 2.0)
    y = Scale.apply(x, 2.0, np.float64(2.0))  # numpy scalars are arrays to forward
    with pytest.raises(RuntimeError, match="at position 2, but .* not a tensor"):
        y.sum().backward()


@pytest.mark.parametrize("make, inside", [
    (lambda: sg.no_grad(), False), (lambda: sg.no_grad, False),
    (lambda: sg.enable_grad(), True), (lambda: sg.set_grad_enabled(False), False),
    (lambda: sg.set_grad_enabled(True), True), (lambda: sg.inference_mode(), False),
    (lambda: sg.inference_mode(False), True)])
@pytest.mark.parametrize("outside", [True, False])
def test_grad_mode_decorator_applies_to_each_generator_resumption(make, inside, outside):
    # As PyTorch: the mode holds while the body runs (next / send / throw / close) and
    # the caller's mode is back whenever the generator yields.
    seen = []

    @make()
    def gen(n):
        try:
            for _ in range(n):
                try:
                    got = yield sg.is_grad_enabled()
                    seen.append((got, sg.is_grad_enabled()))
                except ValueError:
                    seen.append(("caught", sg.is_grad_enabled()))
                    yield "after throw"
        finally:
            seen.append(("finally", sg.is_grad_enabled()))
        return "done"

    x = sg.tensor([1.0, 2.0], requires_grad=True)
    with sg.set_grad_enabled(outside):
        it = gen(3)
        assert sg.is_grad_enabled() is outside
        assert next(it) is inside and sg.is_grad_enabled() is outside
        assert it.send("a") is inside and sg.is_grad_enabled() is outside
        assert it.throw(ValueError("v")) == "after throw" and sg.is_grad_enabled() is outside
        it.close()
        assert sg.is_grad_enabled() is outside
        assert seen == [("a", inside), ("caught", inside), ("finally", inside)]
        it = gen(1)
        next(it)
        with pytest.raises(StopIteration) as stop:
            it.send(None)
        assert stop.value.value == "done" and sg.is_grad_enabled() is outside

        @make()
        def doubles(a):
            yield a * 2

        assert [t.requires_grad for t in doubles(x)] == [inside]
        assert sg.is_grad_enabled() is outside
    assert sg.is_grad_enabled()


def test_grad_mode_generator_decorator_keeps_name_and_stays_in_its_thread():
    import inspect

    @sg.no_grad()
    def gen():
        yield sg.is_grad_enabled()
        yield sg.is_grad_enabled()

    assert gen.__name__ == "gen" and inspect.isgeneratorfunction(gen)
    seen = []

    def worker():
        it = gen()
        seen.extend([next(it), sg.is_grad_enabled(), next(it), sg.is_grad_enabled()])

    t = threading.Thread(target=worker)
    t.start()
    it = gen()
    assert next(it) is False and sg.is_grad_enabled()
    t.join()
    assert seen == [False, True, False, True]
    assert sg.is_grad_enabled()

    @sg.no_grad()
    def plain(a, mode=1, fn=2):        # ordinary functions are unchanged, any keywords
        return a * mode * fn

    assert not plain(sg.ones(1, requires_grad=True), mode=3, fn=4).requires_grad

    @sg.enable_grad()
    def keywords(mode=1, fn=2):
        yield mode, fn

    assert list(keywords(mode=3, fn=4)) == [(3, 4)]


def test_functional_refuses_what_pytorch_refuses():
    F = sg.autograd.functional
    x = sg.tensor([1.0, 2.0])
    f = lambda a: (a ** 2).sum()   # noqa: E731
    with pytest.raises(RuntimeError, match="strict=True.*vectorized=True"):
        F.jacobian(f, x, strict=True, vectorize=True)
    with pytest.raises(NotImplementedError, match="vectorize=True"):
        F.hessian(f, x, outer_jacobian_strategy="forward-mode")
    with pytest.raises(TypeError, match="tuple of Tensors"):
        F.jacobian(lambda a, b: a * b, [x, x])           # a list, not a tuple
    with pytest.raises(RuntimeError, match="given to hvp"):
        F.hvp(lambda a: a ** 2, x, sg.ones(2))
    y = sg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="allow_unused"):
        sg.autograd.grad((y * 2).sum(), [y, sg.ones(1, requires_grad=True)],
                         materialize_grads=True, allow_unused=False)
    assert F.jacobian(lambda a: a ** 2, x, vectorize=True, strategy="forward-mode").tolist() == [
        [2.0, 0.0], [0.0, 4.0]]


def test_grad_rows_equal_grad_row_by_row():
    from symgrad.autograd.api import grad_rows

    rng = np.random.default_rng(0)
    x = sg.tensor(rng.standard_normal(4), requires_grad=True)
    w = sg.tensor(rng.standard_normal(4), requires_grad=True)   # a second leaf: another path
    # every path ends at x (the direct loop), and one that also reaches w (grad itself)
    for out in (sg.tanh(x) * x + x.sum(), sg.exp(x) * w):
        cts = [rng.standard_normal(4) for _ in range(5)] + [np.eye(4)[1]]
        rows = list(grad_rows(out, x, cts))
        for ct, row in zip(cts, rows):
            (g,) = sg.autograd.grad(out, x, sg.tensor(ct), retain_graph=True)
            assert np.array_equal(row, g.numpy())
        assert not any(r is rows[0] for r in rows[1:])
    c = sg.tensor([1.0, 2.0], requires_grad=True)
    assert np.array_equal(next(grad_rows(w * 2, c, [np.ones(4)])), [0.0, 0.0])   # unused
