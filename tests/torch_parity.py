"""Helpers for the tests that compare symgrad with PyTorch: run one function in both
libraries on the same float64 data and compare values, gradients and node names."""

from __future__ import annotations

import numpy as np

import symgrad as sg


def run(m, f, datas, seed=9, grad=True):
    """``f(m, *tensors)`` on fresh leaves (floating data requires grad); backward with a
    random cotangent, the same in both libraries. Returns (output, grads)."""
    ts = []
    for d in datas:
        a = np.asarray(d)
        ts.append(m.tensor(a, requires_grad=grad and a.dtype.kind == "f"))
    out = f(m, *ts)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    first = outs[0]
    if grad and first.requires_grad:
        ct = np.random.default_rng(seed).standard_normal(tuple(first.shape))
        first.backward(m.tensor(ct))
    return outs, [t.grad for t in ts]


def array(t):
    if t is None:
        return None
    try:
        return np.asarray(t.detach().numpy(force=True))   # torch (a ZeroTensor too)
    except TypeError:
        return np.asarray(t.detach().numpy())


def compare(torch, f, datas, rtol=1e-13, atol=1e-15, names=True, grad=True):
    """Values (every output), dtypes and gradients of ``f`` in symgrad and PyTorch."""
    outs_s, grads_s = run(sg, f, datas, grad=grad)
    outs_t, grads_t = run(torch, f, datas, grad=grad)
    assert len(outs_s) == len(outs_t)
    for a, b in zip(outs_s, outs_t):
        assert tuple(a.shape) == tuple(b.shape)
        assert a.dtype.name == str(b.dtype).removeprefix("torch."), (a.dtype, b.dtype)
        np.testing.assert_allclose(array(a), array(b), rtol=rtol, atol=atol)
    if names and outs_t[0].grad_fn is not None:
        assert outs_s[0].grad_fn.name() == outs_t[0].grad_fn.name()
    for gs, gt in zip(grads_s, grads_t):
        assert (gs is None) == (gt is None)
        if gs is not None:
            np.testing.assert_allclose(array(gs), array(gt), rtol=rtol, atol=atol)
    return outs_s, grads_s


def raises_as_torch(torch, call, kind, gist: str) -> None:
    """``call(functional, tensor_module)`` raises ``kind`` in PyTorch and in symgrad, and
    symgrad's message contains ``gist`` (PyTorch's words)."""
    import re

    import pytest
    import torch.nn.functional as TF

    from symgrad.nn import functional as F

    with pytest.raises(kind):
        call(TF, torch)
    with pytest.raises(kind, match=re.escape(gist)):
        call(F, sg)


def program_outcome(m, code: str):
    """Run the program text ``code`` with ``m`` (symgrad or torch) bound: the value it left
    in ``out``, or the type name of the error it raised (so two libraries compare)."""
    env = {"m": m}
    try:
        exec(code, env)  # noqa: S102 - the tests' own programs
    except Exception as e:  # noqa: BLE001 - the outcome is the error's type
        return type(e).__name__
    return env.get("out")
