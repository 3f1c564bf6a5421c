"""The records added in ops.special, ops.cumulative and ops.matrix (and the ops the
compositions use) have mirrors independent of their rules: with every VJP rule replaced
by one that raises, the symbolic gradient of a program using them still comes out, and
equals the numeric backward computed with the real rules."""

import numpy as np
import pytest

import symgrad as sg
from symgrad.ops import OPS


def _program(a, b, m):
    """Many of the added ops in one scalar: a (2, 3) in (0.1, 0.9), b (3,), m (2, 2)."""
    parts = [sg.lgamma(a + 1).sum(), sg.digamma(a + 1).sum(), sg.polygamma(1, a + 1).sum(),
             sg.erfinv(a - 0.5).sum(), sg.xlogy(b, a + 1).sum(), sg.sinc(a).sum(),
             sg.fmax(a, b).sum(), sg.logaddexp2(a, b).sum(), sg.deg2rad(b).sum(),
             sg.logcumsumexp(a, 1).sum(), sg.cummax(a, 1).values.sum(),
             sg.median(a, 1).values.sum(), sg.det(m), sg.inverse(m).sum(),
             sg.kron(m, a).sum(), sg.quantile(a, 0.3, dim=1).sum()]
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total


def test_symbolic_gradient_needs_no_rule(mutate):
    rng = np.random.default_rng(5)
    a0, b0 = rng.uniform(0.1, 0.9, (2, 3)), rng.uniform(-1, 1, 3)
    m0 = rng.uniform(-1, 1, (2, 2)) + 2 * np.eye(2)
    leaves = [sg.tensor(v, requires_grad=True) for v in (a0, b0, m0)]
    _program(*leaves).backward()
    numeric = [t.grad.numpy() for t in leaves]

    def boom(*args, **kwargs):
        raise AssertionError("a VJP rule was called")

    for op in OPS.values():
        if op.differentiable:
            mutate(op, vjp=tuple(None if r is None else boom for r in op.vjp))
    leaves = [sg.tensor(v, requires_grad=True) for v in (a0, b0, m0)]
    loss = _program(*leaves)
    with pytest.raises(AssertionError, match="VJP rule was called"):
        loss.backward()
    mirror = sg.symbolic.mirror(loss)
    for t, want in zip(leaves, numeric):
        got = sg.symbolic.evaluate(sg.symbolic.gradient(mirror, t))
        np.testing.assert_allclose(np.asarray(got, dtype=float), want, rtol=1e-12, atol=1e-12)
