"""``symgrad.autograd.functional``: PyTorch's functional derivatives.

``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``vhp``, ``hvp`` with PyTorch's signatures and
return structures (a Tensor for one input/output, tuples otherwise). Everything is built
on reverse mode: ``jvp`` and ``hvp`` use the double-backward trick, so they rely on rules
being differentiable themselves (``create_graph=True``).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import numpy as np

from symgrad.autograd.api import grad as _grad
from symgrad.autograd.grad_mode import enable_grad
from symgrad.tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _as_tuple(x: Any, arg: str, fn: str) -> tuple[bool, tuple]:
    if isinstance(x, Tensor):
        return False, (x,)
    if isinstance(x, tuple) and all(isinstance(t, Tensor) for t in x):   # (a list: no)
        return True, tuple(x)
    raise TypeError(f"The {arg} given to {fn} must be either a Tensor or a tuple of Tensors "
                    f"but the given {arg} is {type(x).__name__}")


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    out = []
    for t in inputs:
        if create_graph and t._requires_grad:
            out.append(t.view_as(t))
        else:
            leaf = Tensor._wrap(t._data)   # the same storage, its own version counter
            leaf._vc = [t._vc[0], False]
            out.append(leaf.requires_grad_(t._data.dtype.kind == "f"))
    return tuple(out)


def _check_v(v: Any, others: tuple, fn: str, what: str) -> tuple:
    is_tuple, vs = _as_tuple(v, "v", fn)
    if len(vs) != len(others):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(others)} but got "
                           f"{len(vs)}.")
    for a, b in zip(vs, others):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"Mismatch in shape: entry of v has shape {tuple(a.shape)} but "
                               f"the {what} has shape {tuple(b.shape)}.")
    return vs


def _post(x: Any, create_graph: bool) -> Any:
    if x is None:
        return None
    return x if create_graph else x.detach()


def _grads(outputs: tuple, inputs: tuple, grad_outputs: tuple, create_graph: bool,
           strict: bool, fn: str) -> tuple:
    """Gradients of ``outputs`` (weighted by ``grad_outputs``), zeros where independent."""
    live = [(o, g) for o, g in zip(outputs, grad_outputs) if o._requires_grad]
    if not live:
        if strict:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input 0. This is not allowed in strict mode ({fn}).")
        return tuple(Tensor._wrap(np.zeros(t._data.shape, t._data.dtype)) for t in inputs)
    res = _grad([o for o, _ in live], list(inputs), grad_outputs=[g for _, g in live],
                retain_graph=True, create_graph=create_graph, allow_unused=True)
    out = []
    for i, (r, t) in enumerate(zip(res, inputs)):
        if r is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent "
                                   f"of input {i}. This is not allowed in strict mode ({fn}).")
            r = Tensor._wrap(np.zeros(t._data.shape, t._data.dtype))
        out.append(r)
    return tuple(out)


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``(func(inputs), v^T J)``; ``v`` may be omitted for a one-element output."""
    tin, inputs_t = _as_tuple(inputs, "inputs", "vjp")
    with enable_grad():
        ins = _prepare(inputs_t, create_graph)
        out = func(*ins)
        tout, outs = _as_tuple(out, "outputs of the user-provided function", "vjp")
        if v is None:
            if len(outs) != 1 or outs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the user-provided function "
                                   "returns a single Tensor with a single element.")
            vs = (Tensor._wrap(np.ones(outs[0]._data.shape, outs[0]._data.dtype)),)
        else:
            vs = _check_v(v, outs, "vjp", "output")
        res = _grads(outs, ins, vs, create_graph, strict, "vjp")
    outs_p = tuple(_post(o, create_graph) for o in outs)
    res_p = tuple(_post(r, create_graph) for r in res)
    return (outs_p if tout else outs_p[0]), (res_p if tin else res_p[0])


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``(func(inputs), J v)``, by the double-backward trick."""
    tin, inputs_t = _as_tuple(inputs, "inputs", "jvp")
    if v is None:
        if len(inputs_t) != 1 or inputs_t[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        vs = (Tensor._wrap(np.ones(inputs_t[0]._data.shape, inputs_t[0]._data.dtype)),)
    else:
        vs = _check_v(v, inputs_t, "jvp", "input")
    with enable_grad():
        ins = _prepare(inputs_t, create_graph)
        out = func(*ins)
        tout, outs = _as_tuple(out, "outputs of the user-provided function", "jvp")
        dummies = tuple(Tensor._wrap(np.zeros(o._data.shape, o._data.dtype)).requires_grad_(True)
                        for o in outs)
        g = _grads(outs, ins, dummies, True, strict, "jvp")
        live = [(gi, vi) for gi, vi in zip(g, vs) if gi._requires_grad]
        if live:
            res = _grad([gi for gi, _ in live], list(dummies), grad_outputs=[vi for _, vi in live],
                        retain_graph=True, create_graph=create_graph, allow_unused=True)
            res = tuple(r if r is not None else Tensor._wrap(np.zeros(d._data.shape,
                                                                      d._data.dtype))
                        for r, d in zip(res, dummies))
        else:
            res = tuple(Tensor._wrap(np.zeros(d._data.shape, d._data.dtype)) for d in dummies)
    outs_p = tuple(_post(o, create_graph) for o in outs)
    res_p = tuple(_post(r, create_graph) for r in res)
    return (outs_p if tout else outs_p[0]), (res_p if tout else res_p[0])


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """The Jacobian: for output ``i`` and input ``j`` a tensor of shape
    ``out_i.shape + in_j.shape``, nested in tuples as PyTorch nests them."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode"')
    _check_strategy(strict, vectorize, strategy)
    tin, inputs_t = _as_tuple(inputs, "inputs", "jacobian")
    with enable_grad():
        ins = _prepare(inputs_t, create_graph)
        out = func(*ins)
        tout, outs = _as_tuple(out, "outputs of the user-provided function", "jacobian")
        # PyTorch's forward-mode path leaves its nesting in lists, where reverse-mode has tuples
        seq = list if strategy == "forward-mode" else tuple
        result = []
        for o in outs:
            rows: list[list] = [[] for _ in ins]
            for idx in np.ndindex(*o._data.shape):
                e = np.zeros(o._data.shape, o._data.dtype)
                e[idx] = 1.0
                gs = _grads((o,), ins, (Tensor._wrap(e),), create_graph, strict, "jacobian")
                for k, gk in enumerate(gs):
                    rows[k].append(gk)
            per_input = []
            for k, t in enumerate(ins):
                if rows[k]:
                    from symgrad.ops import stack

                    j = stack(rows[k], 0).reshape(tuple(o.shape) + tuple(t.shape))
                else:
                    j = Tensor._wrap(np.zeros(tuple(o.shape) + tuple(t.shape), t._data.dtype))
                per_input.append(_post(j, create_graph))
            result.append(seq(per_input) if tin else per_input[0])
    return (seq(result) if tin else tuple(result)) if tout else result[0]


def _check_strategy(strict: bool, vectorize: bool, strategy: str) -> None:
    """PyTorch's refusals (symgrad computes the same Jacobian either way, but code written
    for PyTorch should fail here as it would there)."""
    if strict and vectorize:
        raise RuntimeError("symgrad.autograd.functional.jacobian: `strict=True` and "
                           "`vectorized=True` are not supported together. Please either set "
                           "`strict=False` or `vectorize=False`.")
    if strategy == "forward-mode" and not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse "
                                  "Hessian is only implemented for `vectorize=True`.")


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar function: shape ``in_i.shape + in_j.shape`` for inputs i, j."""
    if outer_jacobian_strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode"')
    _check_strategy(strict, vectorize, outer_jacobian_strategy)
    tin, inputs_t = _as_tuple(inputs, "inputs", "hessian")

    def grad_func(*ins):
        out = func(*ins)
        tout, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        if tout or outs[0].numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor "
                               "with a single element")
        g = _grads(outs, ins, (Tensor._wrap(np.ones(outs[0]._data.shape,
                                                    outs[0]._data.dtype)),),
                   True, strict, "hessian")
        return g if tin else g[0]

    return jacobian(grad_func, inputs_t if tin else inputs_t[0], create_graph=create_graph,
                    strict=strict, vectorize=vectorize, strategy=outer_jacobian_strategy)


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``(func(inputs), v^T H)`` for a scalar ``func``."""
    return _vhp(func, inputs, v, create_graph, strict, "vhp")


def _vhp(func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool,
         fn_name: str) -> tuple:
    tin, inputs_t = _as_tuple(inputs, "inputs", fn_name)
    if v is None:
        if len(inputs_t) != 1 or inputs_t[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        vs = (Tensor._wrap(np.ones(inputs_t[0]._data.shape, inputs_t[0]._data.dtype)),)
    else:
        vs = _check_v(v, inputs_t, fn_name, "input")
    with enable_grad():
        ins = _prepare(inputs_t, create_graph)
        out = func(*ins)
        tout, outs = _as_tuple(out, "outputs of the user-provided function", fn_name)
        if tout or outs[0].numel() != 1:
            raise RuntimeError(f"The function given to {fn_name} should return a single Tensor "
                               "with a single element")
        g = _grads(outs, ins, (Tensor._wrap(np.ones(outs[0]._data.shape,
                                                    outs[0]._data.dtype)),), True, strict, fn_name)
        res = _grads(g, ins, vs, create_graph, strict, fn_name)
    res_p = tuple(_post(r, create_graph) for r in res)
    return _post(outs[0], create_graph), (res_p if tin else res_p[0])


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """``(func(inputs), H v)``; equal to ``vhp`` for the symmetric Hessians of smooth
    functions, computed the same way."""
    return _vhp(func, inputs, v, create_graph, strict, "hvp")
