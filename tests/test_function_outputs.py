"""Custom Functions with several outputs, as PyTorch runs them: one node for all the
outputs, one backward call with a gradient per output (zeros where none arrived)."""

import pytest
import sympy

import symgrad as sg


def _fmt(g):
    return None if g is None else g.tolist()


class Two(sg.autograd.Function):
    """x -> (2x, 3x); records the gradients its backward receives."""

    calls: list = []

    @staticmethod
    def forward(ctx, x, materialize=True, mark_second=False):
        ctx.set_materialize_grads(materialize)
        a, b = x * 2, x * 3
        if mark_second:
            ctx.mark_non_differentiable(b)
        return a, b

    @staticmethod
    def backward(ctx, ga, gb):
        Two.calls.append((_fmt(ga), _fmt(gb)))
        r = 0
        if ga is not None:
            r = r + ga * 2
        if gb is not None:
            r = r + gb * 3
        return (r,) + (None,) * (len(ctx.needs_input_grad) - 1)   # one per argument given


@pytest.fixture(autouse=True)
def _clear_calls():
    Two.calls.clear()


def test_outputs_share_one_node_and_are_numbered():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    a, b = Two.apply(x)
    assert a.grad_fn is b.grad_fn and (a.output_nr, b.output_nr) == (0, 1)
    assert a.grad_fn.name() == type(a.grad_fn).__name__ == "TwoBackward"
    edges = (a + b).grad_fn.next_functions
    assert edges == ((a.grad_fn, 0), (a.grad_fn, 1))


@pytest.mark.parametrize("run, calls, grad", [
    (lambda a, b: a.sum().backward(), [([1, 1], [0, 0])], [2, 2]),
    (lambda a, b: b.sum().backward(), [([0, 0], [1, 1])], [3, 3]),
    (lambda a, b: (a.sum() + b.sum()).backward(), [([1, 1], [1, 1])], [5, 5]),
    (lambda a, b: (a * b).sum().backward(), [([3, 6], [2, 4])], [12, 24]),
    (lambda a, b: sg.autograd.backward([a, b], [sg.ones(2), sg.full((2,), 10.0)]),
     [([1, 1], [10, 10])], [32, 32]),
    (lambda a, b: b.backward(sg.ones(2)), [([0, 0], [1, 1])], [3, 3]),   # root at output 1
])
def test_backward_runs_once_with_a_gradient_per_output(run, calls, grad):
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    run(*Two.apply(x))
    assert Two.calls == calls and x.grad.tolist() == grad


def test_without_materialized_grads_backward_gets_none():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    a, _ = Two.apply(x, False)
    a.sum().backward()
    assert Two.calls == [([1, 1], None)] and x.grad.tolist() == [2, 2]


def test_grad_of_and_through_each_output():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    a, b = Two.apply(x)
    gx, ga, gb = sg.autograd.grad(b.sum() * 2, [x, a, b], allow_unused=True, retain_graph=True)
    assert _fmt(gx) == [6, 6] and ga is None and _fmt(gb) == [2, 2]
    ga, gb = sg.autograd.grad([a.sum(), b.sum()], [a, b], retain_graph=True)
    assert _fmt(ga) == [1, 1] and _fmt(gb) == [1, 1]
    y = sg.tensor([1.0, 1.0], requires_grad=True)   # a path that leads to no input asked for
    (gx,) = sg.autograd.grad(b.sum() + (y * 5).sum(), [x])
    assert _fmt(gx) == [3, 3]
    b.retain_grad()
    (b * 4).sum().backward(inputs=[b])
    assert _fmt(b.grad) == [4, 4] and x.grad is None


def test_non_differentiable_integer_and_plain_outputs():
    class Mixed(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * 2, x.argmax(), k, x > 1

        @staticmethod
        def backward(ctx, g, gi, gk, gm):
            Two.calls.append((_fmt(g), _fmt(gi), gk, _fmt(gm)))
            return g * 2, None

    x = sg.tensor([1.0, 2.0], requires_grad=True)
    a, i, k, m = Mixed.apply(x, 5)
    assert k == 5 and i.dtype == sg.int64 and m.dtype == sg.bool
    assert not i.requires_grad and i.grad_fn is None and i.output_nr == 0
    a.sum().backward()
    # PyTorch materializes zeros for tensor outputs of any dtype, None for other values
    assert Two.calls == [([1, 1], 0, None, [False, False])]
    x.grad = None
    a, b = Two.apply(x, True, True)
    assert not b.requires_grad and b.grad_fn is None and b.is_leaf
    (a * b).sum().backward()
    assert Two.calls[-1] == ([3, 6], [0, 0]) and x.grad.tolist() == [6, 12]


def test_one_tuple_and_an_array_returned_twice():
    class One(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return (x * 2,)

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class Twice(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x * 2
            return y, y

        @staticmethod
        def backward(ctx, ga, gb):
            Two.calls.append((_fmt(ga), _fmt(gb)))
            return ga + gb

    x = sg.tensor([1.0, 2.0], requires_grad=True)
    r = One.apply(x)
    assert isinstance(r, tuple) and len(r) == 1 and r[0].grad_fn.name() == "OneBackward"
    a, b = Twice.apply(x)
    assert a is b and a.output_nr == 1     # PyTorch: one tensor, the last output
    (a.sum() + 10 * b.sum()).backward()
    assert Two.calls == [([0, 0], [11, 11])] and x.grad.tolist() == [11, 11]


def test_backward_must_return_a_gradient_per_input():
    class Bad(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            return ga, gb

    a, _ = Bad.apply(sg.tensor([1.0], requires_grad=True))
    with pytest.raises(RuntimeError, match="incorrect number of gradients \\(expected 1, got 2"):
        a.sum().backward()


def test_hooks_see_one_entry_per_output():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    a, b = Two.apply(x)
    log = []
    a.grad_fn.register_prehook(lambda go: log.append(("pre", [_fmt(g) for g in go])))
    a.grad_fn.register_hook(lambda gi, go: log.append(
        ("post", [_fmt(g) for g in gi], [_fmt(g) for g in go])))
    b.register_hook(lambda g: log.append(("b", _fmt(g))))   # PyTorch calls it with None
    a.retain_grad()
    b.retain_grad()
    a.sum().backward()
    assert log == [("b", None), ("pre", [[1, 1], None]),
                   ("post", [[2, 2]], [[1, 1], None])]
    assert _fmt(a.grad) == [1, 1] and b.grad is None


def test_hooks_replace_the_gradient_of_their_output_only():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    a, b = Two.apply(x)
    b.register_hook(lambda g: g * 7)
    (a.sum() + b.sum()).backward()
    assert Two.calls == [([1, 1], [7, 7])]
    a, b = Two.apply(x)
    a.grad_fn.register_prehook(lambda go: (None, go[1] * 5))
    b.sum().backward()
    assert Two.calls[-1] == ([0, 0], [5, 5])
    a, b = Two.apply(x)
    b.register_hook(lambda g: sg.ones(2))
    with pytest.raises(RuntimeError, match="can't replace a None gradient"):
        a.sum().backward()
    a, b = Two.apply(x)
    a.grad_fn.register_prehook(lambda go: (go[0],))
    with pytest.raises(RuntimeError, match="got 1, but expected 2"):
        a.sum().backward()


def test_in_place_and_views_of_a_later_output():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    a, b = Two.apply(x)
    (b.reshape(2, 1) * 2).sum().backward()
    assert x.grad.tolist() == [6, 6]
    x.grad = None
    a, b = Two.apply(x)
    b.mul_(3)
    assert b.grad_fn.name() == "MulBackward0" and b.output_nr == 0
    b.sum().backward()
    assert x.grad.tolist() == [9, 9]
    x.grad = None
    a, b = Two.apply(x)
    b.unsqueeze_(0)
    b.sum().backward()
    assert x.grad.tolist() == [3, 3]


class Powers(sg.autograd.Function):
    """x -> (x**2, x**3), saving x and both outputs."""

    @staticmethod
    def forward(ctx, x):
        sq, cube = x * x, x * x * x
        ctx.save_for_backward(x, sq, cube)
        return sq, cube

    @staticmethod
    def backward(ctx, gs, gc):
        x, sq, _ = ctx.saved_tensors
        return gs * 2 * x + gc * 3 * sq

    @staticmethod
    def mirror(x):
        return x * x, x * x * x


def test_second_order_through_several_outputs():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    _, cube = Powers.apply(x)
    (g,) = sg.autograd.grad(cube.sum(), x, create_graph=True)
    assert g.tolist() == [3, 12] and g.requires_grad
    g.sum().backward()
    assert x.grad.tolist() == [6, 12]


def test_a_saved_output_changed_in_place_is_named():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    sq, cube = Powers.apply(x * 1)
    sq.mul_(2)
    with pytest.raises(RuntimeError, match="its output 0 of Powers"):
        cube.sum().backward()


def test_a_long_chain_of_multi_output_nodes_runs_iteratively():
    x = sg.tensor([1.0], requires_grad=True)
    h = x
    for _ in range(3000):
        a, b = Two.apply(h)
        h = b * (1 / 3)   # d b/d h = 3, so each link passes the gradient on unchanged
    h.sum().backward()
    assert x.grad.tolist() == [1.0] and len(Two.calls) == 3000


def test_mirror_replays_each_output_and_verify_says_what_it_cannot_do():
    x = sg.tensor([0.5, 2.0], requires_grad=True)
    sq, cube = Powers.apply(x)
    expr = sg.symbolic.mirror((sq * cube).sum())._data[()]
    assert len(expr.free_symbols) == 2
    assert sympy.expand(expr - sum(s ** 5 for s in expr.free_symbols)) == 0
    w = sg.symbolic.symbols("w", (2,))
    s, c = Powers.apply(w)
    assert s.is_symbolic and c.is_symbolic
    with pytest.raises(NotImplementedError, match="several outputs"):
        sg.verify.check(lambda t: Powers.apply(t)[1].sum(), x)
    assert sg.autograd.gradcheck(lambda t: Powers.apply(t), (x,))


def _scenario(m, argmax):
    """Gradients a backward receives in PyTorch or symgrad ``m``, for several uses."""
    log = []

    class Split(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            log.append(("needs", ctx.needs_input_grad))
            return x * 2, x * 3, k, argmax(x)

        @staticmethod
        def backward(ctx, g1, g2, gk, gi):
            log.append(("backward", _fmt(g1), _fmt(g2), gk, _fmt(gi)))
            return g1 * 2 + g2 * 3, None

    x = m.tensor([1.0, 2.0], requires_grad=True)
    a, b, k, i = Split.apply(x, 5)
    log.append((a.output_nr, b.output_nr, k, i.requires_grad, a.grad_fn is b.grad_fn))
    for run in (lambda: a.sum(), lambda: b.sum(), lambda: (a * b).sum()):
        x.grad = None
        run().backward(retain_graph=True)
        log.append(x.grad.tolist())
    return log


def test_several_outputs_match_pytorch():
    torch = pytest.importorskip("torch")
    theirs = _scenario(torch, lambda x: x.argmax())
    assert _scenario(sg, lambda x: x.argmax()) == theirs


def _kept_by_hooks(m):
    """Gradients a tensor hook and a node pre-hook keep, over two backward passes through
    a two-output Function whose backward passes them through to the leaves."""
    class Pair(m.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * 1, b * 1

        @staticmethod
        def backward(ctx, g0, g1):
            return g0, g1

    a = m.tensor([1.0, 1.0], requires_grad=True)
    b = m.tensor([1.0, 1.0], requires_grad=True)
    kept, pre = [], []
    for _ in range(2):
        y0, y1 = Pair.apply(a, b)
        y0.register_hook(kept.append)
        y0.grad_fn.register_prehook(lambda gs: pre.append(gs) or None)
        ((y0 * 2).sum() + (y1 * 3).sum()).backward()
    return ([k.tolist() for k in kept], [[g.tolist() for g in gs] for gs in pre],
            a.grad.tolist(), b.grad.tolist())


def test_gradients_hooks_saw_are_not_changed_by_later_passes():
    kept, pre, ga, gb = _kept_by_hooks(sg)
    assert kept == [[2.0, 2.0], [2.0, 2.0]]
    assert pre == [[[2.0, 2.0], [3.0, 3.0]]] * 2
    assert (ga, gb) == ([4.0, 4.0], [6.0, 6.0])
    torch = pytest.importorskip("torch")
    assert _kept_by_hooks(torch) == (kept, pre, ga, gb)
