"""Tangents of op outputs while a dual level is open (``symgrad.autograd.forward_ad``).

The op table has reverse rules only; a forward rule (J t) is derived from them:

- a view op is linear in its tensor: its tangent is the same view of the input's tangent,
  which also shares the tangent's storage, so an in-place change through a view reaches
  the base's tangent as its value reaches the base;
- an elementwise op has a diagonal Jacobian: its rule at ``g = 1`` is the local
  derivative in the broadcast shape, and ``J t = sum_i d_i * t_i``;
- any other op: the rule is linear in ``g``, so ``J t`` is the gradient with respect to
  ``g`` of ``sum_i <vjp_i(g), t_i>`` (the double-vjp trick, on that one op).

Tangents are computed with symgrad's own ops, with propagation suspended: when the inputs
or their tangents require grad, the tangent records a graph (reverse over forward).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgrad.autograd._dual import set_tangent, tangent_of
from symgrad.autograd.grad_mode import _state, enable_grad
from symgrad.autograd.graph import AccumulateGrad
from symgrad.tensor import Tensor

__all__ = ["forward_apply", "store_tangent", "restore_tangents"]

_new = object.__new__


def forward_apply(op, args: tuple, params: dict) -> Tensor:
    """``apply(op, *args, **params)`` plus the output's tangent (flag already checked)."""
    from symgrad.ops._apply import apply

    _state.forward = False
    try:
        out = apply(op, *args, **params)
        tangents = [tangent_of(a) if isinstance(a, Tensor) else None for a in args]
        if any(t is not None for t in tangents) and out._data.dtype.kind == "f" and op.grad_ok:
            tangent = _jvp(op, args, params, out, tangents)
            set_tangent(out, tangent)
            node = out.grad_fn
            if node is not None:   # for a backward pass that records (forward over reverse)
                node._tangents = (tuple(tangents), tangent)
    finally:
        _state.forward = True
    return out


def _no_forward_rule(op, i: int) -> None:
    name = op.arg_names[0] if op.variadic else op.arg_names[i]
    raise NotImplementedError(f"Trying to use forward AD with {op.name} that does not support "
                              f"it: its argument '{name}' has a tangent but no derivative rule "
                              f"({op.grad_fn})")


def _jvp(op, args: tuple, params: dict, out: Tensor, tangents: list) -> Tensor:
    from symgrad.ops.namespaces import tensor_namespace

    for i, t in enumerate(tangents):
        if t is not None and op.vjp[0 if op.variadic else i] is None:
            _no_forward_rule(op, i)
    if op.view and tangents[0] is not None and not any(tangents[1:]):
        from symgrad.ops._apply import apply

        return _fit(apply(op, tangents[0], *args[1:], **params), out)
    xp = tensor_namespace()
    if op.elementwise and not op.variadic:
        ones = Tensor._wrap(np.ones(out._data.shape, out._data.dtype))
        total = None
        for rule, t in zip(op.vjp, tangents):
            if t is not None:
                d = rule(xp, ones, out, *args, **params)
                term = d * t
                total = term if total is None else total + term
        return _fit(total, out)
    return _fit(_double_vjp(op, args, params, out, tangents, xp), out)


def _double_vjp(op, args: tuple, params: dict, out: Tensor, tangents: list, xp: Any) -> Tensor:
    """``J t`` as the gradient in ``g`` of ``sum_i <vjp_i(g), t_i>`` (linear in ``g``)."""
    from symgrad.autograd.api import grad

    graph = _state.enabled and any(isinstance(a, Tensor) and a._requires_grad
                                   for a in (*args, *tangents))
    node = _new(op.node_class)   # a bare node: the rules, the shapes to unbroadcast to
    node.next_functions = tuple((None, 0) if t is None else (AccumulateGrad.of(a), 0)
                                for a, t in zip(args, tangents))
    node._params = params or None
    node._const = None
    node._hooks = None
    g = Tensor._wrap(np.zeros(out._data.shape, out._data.dtype)).requires_grad_(True)
    with enable_grad():
        grads = node.vjp_with(xp, g, args, out)
        total = None
        for r, t in zip(grads, tangents):
            if r is not None:
                term = (r * t).sum()
                total = term if total is None else total + term
    if total is None or not total._requires_grad:
        return Tensor._wrap(np.zeros(out._data.shape, out._data.dtype))
    (jt,) = grad([total], [g], create_graph=graph, allow_unused=True, materialize_grads=True)
    return jt


def _fit(t: Any, out: Tensor) -> Tensor:
    """A computed tangent in the output's shape and dtype."""
    from symgrad.ops import shape as sh

    if not isinstance(t, Tensor):
        t = Tensor._wrap(np.asarray(t, dtype=out._data.dtype))
    if t._data.shape != out._data.shape:
        t = sh.contiguous(sh.expand(t, out._data.shape))
    if t._data.dtype != out._data.dtype:
        t = sh.to_dtype(t, out.dtype)
    return t


def restore_tangents(args: list, ans: Tensor | None, tangents: tuple) -> None:
    """Give the values a node saved, unpacked for a recorded backward pass, the tangents
    they had (if their level is still open): the backward ops then carry tangents too."""
    per_arg, out = tangents
    for a, t in zip(args, per_arg):
        if t is not None and isinstance(a, Tensor) and tangent_of(a) is None:
            set_tangent(a, t)
    if ans is not None:
        set_tangent(ans, out)


# ---------------------------------------------------------------- in-place changes
def store_tangent(t: Tensor, res: Tensor) -> None:
    """After ``t`` took the value of ``res`` in place: ``t``'s tangent takes ``res``'s
    (zero if it has none). An existing tangent is overwritten in place, so views of it
    (the tangents of ``t``'s views) follow, as the views' values do; a tensor given its first
    tangent this way shares tangent storage with the tensors it shares values with."""
    new = tangent_of(res)
    old = tangent_of(t)
    if old is None:
        if new is None:
            return
        old = _alias_tangents(t)
        if old is None:
            set_tangent(t, _fit(new, t))
            return
    _state.forward = False
    try:
        _write(old, new)
    finally:
        _state.forward = True


def _write(old: Tensor, new: Tensor | None) -> None:
    from symgrad.ops.inplace import copy_

    if new is None:
        new = Tensor._wrap(np.zeros(old._data.shape, old._data.dtype))
    if (old._requires_grad or new._requires_grad) and _state.enabled:
        copy_(old, new)   # recorded: the tangent's own graph stays right
        return
    np.copyto(old._data, np.broadcast_to(new._data, old._data.shape), casting="unsafe")
    old._vc[0] += 1


def _alias_tangents(t: Tensor) -> Tensor | None:
    """Zero tangents for ``t`` and the live tensors sharing its storage (views made by
    symgrad ops), laid over one buffer as their values lie over one array, so that a value
    written through one of them shows in the others' tangents. None when ``t`` shares its
    storage with no live tensor, or with one that already has a tangent of its own."""
    refs = t._vc[1]
    others = [r() for r in refs] if refs else []
    others = [o for o in others if o is not None and o is not t]
    if not others or any(tangent_of(o) is not None for o in others):
        return None
    owner = t._data
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    buf = np.zeros(owner.nbytes // owner.itemsize, owner.dtype)
    start = owner.__array_interface__["data"][0]
    mine = None
    for x in (t, *others):
        d = x._data
        if d.dtype != owner.dtype:
            return None
        offset = (d.__array_interface__["data"][0] - start) // owner.itemsize
        view = np.lib.stride_tricks.as_strided(buf[offset:], d.shape, d.strides)
        tan = Tensor._wrap(view)
        set_tangent(x, tan)
        if x is t:
            mine = tan
    return mine
