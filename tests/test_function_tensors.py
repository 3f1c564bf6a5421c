"""Custom Functions written as in PyTorch's tutorials: ``forward`` gets the input tensors
(so tensor methods work there), and ``backward`` may return trailing Nones for arguments
left at their defaults."""

import numpy as np
import pytest

import symgrad as sg


def _classes(m):
    class MyReLU(m.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input

    class LinearFunction(m.autograd.Function):
        @staticmethod
        def forward(ctx, input, weight, bias=None):
            ctx.save_for_backward(input, weight, bias)
            output = input.mm(weight.t())
            if bias is not None:
                output += bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_weight = grad_bias = None
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t().mm(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

    return MyReLU, LinearFunction


def _run(m):
    MyReLU, LinearFunction = _classes(m)
    x = m.tensor([[-1.0, 2.0], [0.5, -3.0]], requires_grad=True)
    w = m.tensor([[1.0, -2.0], [0.25, 3.0], [2.0, 1.0]], requires_grad=True)
    b = m.tensor([0.5, -1.0, 2.0], requires_grad=True)
    out = []
    y = MyReLU.apply(x)
    assert not y.is_leaf and y.requires_grad
    (y * m.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    out.append(x.grad.tolist())
    x.grad = None
    z = LinearFunction.apply(x, w, b)
    (z * z).sum().backward()
    out += [x.grad.tolist(), w.grad.tolist(), b.grad.tolist()]
    x.grad = w.grad = None
    LinearFunction.apply(x, w).sum().backward()   # bias left at None: a trailing None
    out += [x.grad.tolist(), w.grad.tolist()]
    return out


def test_tutorial_functions_run_with_tensor_methods_in_forward():
    got = _run(sg)
    assert got[0] == [[0.0, 2.0], [3.0, 0.0]]


def test_tutorial_functions_match_torch(torch64):
    want = _run(torch64)
    for g, t in zip(_run(sg), want):
        np.testing.assert_allclose(g, t, rtol=1e-15)


def test_forward_sees_the_input_tensors_without_recording():
    seen = []

    class Probe(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            seen.append((x, k, sg.is_grad_enabled()))
            y = x * k
            seen.append(y.requires_grad)
            return y

        @staticmethod
        def backward(ctx, g):
            return g * 3, None

    x = sg.tensor([1.0, 2.0], requires_grad=True)
    Probe.apply(x, 3).sum().backward()
    assert seen[0][0] is x and seen[0][1] == 3 and seen[0][2] is False and seen[1] is False
    assert x.grad.tolist() == [3.0, 3.0]


def test_a_non_none_extra_gradient_is_an_error():
    class Extra(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, g

    x = sg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"incorrect number of gradients \(expected 1, got 2\)"):
        Extra.apply(x).sum().backward()


def test_gradcheck_of_the_documented_linear_function():
    _, LinearFunction = _classes(sg)
    sg.manual_seed(0)
    inputs = (sg.randn(20, 20, dtype=sg.double, requires_grad=True),
              sg.randn(30, 20, dtype=sg.double, requires_grad=True))
    assert sg.autograd.gradcheck(LinearFunction.apply, inputs, eps=1e-6, atol=1e-4)


@pytest.mark.parametrize("view", [False, True])
def test_output_aliasing_an_input_shares_its_version(view):
    """forward returning its input (or a view of it): an in-place change of that input
    afterwards must not pass unnoticed into a gradient that read the output (PyTorch
    raises at backward; symgrad refuses the in-place op while the alias is alive)."""
    class Id(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x[0:2] if view else x

        @staticmethod
        def backward(ctx, g):
            if not view:
                return g
            out = sg.zeros(3, dtype=g.dtype)
            out[0:2] = g
            return out

    x = sg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 1
    y = Id.apply(h)
    z = (y * y).sum()
    with pytest.raises(RuntimeError):
        h.mul_(10)
        z.backward()
    assert x.grad is None


def _sigmoid_function(factor=1.0):
    class MySigmoid(sg.autograd.Function):
        """Saves an intermediate (exp(-kx)) and a ctx attribute, as tutorials do."""

        @staticmethod
        def forward(ctx, x, k):
            e = sg.exp(-x * k)
            ctx.k = k
            ctx.save_for_backward(e)
            return 1 / (1 + e)

        @staticmethod
        def backward(ctx, g):
            (e,) = ctx.saved_tensors
            return g * ctx.k * e / (1 + e) ** 2 * factor, None

        @staticmethod
        def mirror(x, k):
            import sympy

            return np.frompyfunc(lambda v: 1 / (1 + sympy.exp(-v * k)), 1, 1)(x)

    return MySigmoid


def test_verifier_reruns_forward_exactly_for_saved_intermediates():
    """The exact backward must see exp(-kx) exactly, not its float64 rounding (which made
    a correct rule read as a mismatch), and the ctx attributes forward set."""
    x = sg.tensor([0.3, -1.2, 2.5], requires_grad=True)
    rep = sg.verify.check(lambda t: _sigmoid_function().apply(t, 3).sum(), x)
    assert rep.ok, rep.table()
    wrong = sg.verify.check(lambda t: _sigmoid_function(1 + 1e-6).apply(t, 3).sum(), x)
    assert not wrong.ok


def test_a_detached_saved_input_has_no_history():
    """ctx.save_for_backward(x.detach()) saves x's values without its history: a double
    backward cannot go through it (PyTorch: the gradient does not require grad)."""
    class Sq(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x.detach())
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * g * x

    x = sg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = sg.autograd.grad(Sq.apply(x).sum(), x, create_graph=True)
    assert g.tolist() == [2.0, 4.0, 6.0] and not g.requires_grad
    with pytest.raises(RuntimeError):
        sg.autograd.grad(g.sum(), x)
