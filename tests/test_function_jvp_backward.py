"""A custom Function's ``jvp`` tangent is recorded like any other computation: its saved
inputs and outputs are the tensors in the graph, so reverse-over-forward differentiates
through the Function's backward, as in PyTorch."""

import importlib

import numpy as np


def _program(m):
    fwAD = importlib.import_module(m.__name__ + ".autograd.forward_ad")

    class MyExp(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_forward(x, y)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

        @staticmethod
        def jvp(ctx, t):
            x, y = ctx.saved_tensors
            return t * y + 0 * x

    x = m.tensor([0.5, 1.0, -2.0], dtype=m.float64, requires_grad=True)
    t = m.tensor([1.0, 2.0, 0.5], dtype=m.float64, requires_grad=True)
    with fwAD.dual_level():
        out = MyExp.apply(fwAD.make_dual(x, t))
        primal, tangent = fwAD.unpack_dual(out)
        (tangent * m.tensor([1.0, -1.0, 3.0], dtype=m.float64)).sum().backward()
    return primal.detach().numpy(), tangent.detach().numpy(), x.grad.numpy(), t.grad.numpy()


def test_reverse_over_forward_through_custom_jvp_as_pytorch(torch):
    for u, v in zip(_program(__import__("symgrad")), _program(torch)):
        np.testing.assert_allclose(u, v, rtol=1e-14)
