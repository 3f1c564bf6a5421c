"""Calling an op: the hot path every operation goes through.

Numeric inputs: run ``forward`` on numpy and, when recording, attach one node that keeps
the arguments, the output and the parameters. Symbolic inputs (SymPy object arrays): run
the op's ``mirror`` instead and record nothing: the symbolic side never touches rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgrad import _dtype
from symgrad.autograd.grad_mode import _state
from symgrad.ops.namespaces import NUMPY, to_exact
from symgrad.tensor import Tensor

__all__ = ["apply", "apply_symbolic", "mirror_call"]

_OBJECT = np.dtype(object)
_NO_EDGE = (None, 0)
_ndarray = np.ndarray
_new = object.__new__
_F64 = np.dtype(np.float64)


def apply(op, *args: Any, **params: Any) -> Tensor:
    """Run ``op`` on ``args`` (Tensors or Python numbers); parameters go by keyword."""
    datas = []
    edges = []
    record = _state.enabled
    needs_grad = False
    symbolic = False
    const_edges = None
    for a in args:
        if isinstance(a, Tensor):
            d = a._data
            datas.append(d)
            if d.dtype is _OBJECT:
                symbolic = True
            if record and a._requires_grad:
                needs_grad = True
                fn = a.grad_fn
                edges.append((fn if fn is not None else a._grad_accumulator(), 0))
            elif record and a.grad_fn is not None:      # a constant recorded by record_all
                const_edges = (const_edges or ()) + (len(edges),)
                edges.append((a.grad_fn, 0))
            else:
                edges.append(_NO_EDGE)
        else:
            datas.append(a)
            edges.append(_NO_EDGE)
    if symbolic:
        return apply_symbolic(op, datas, params)
    if op.promote:
        datas = _promote(datas)
    with np.errstate(all="ignore"):
        out = op.forward(NUMPY, *datas, **params)
    if type(out) is not _ndarray:
        out = np.asarray(out)
    if not (needs_grad and op.differentiable) and not (_state.record_all and record):
        t = Tensor._wrap(out)
        if op.view and out.base is not None:
            t._vc = _share(args[0]._vc)
        return t
    node = _new(op.node_class)
    node.next_functions = tuple(edges)
    node._args = tuple(datas)
    node._ans = out if "ans" in op.reads else None
    node._params = params or None
    node._shape = out.shape
    node._dtype = out.dtype
    node._pre_hooks = None
    node._freed = False
    node._const = const_edges
    t = Tensor._wrap(out, node, needs_grad and op.differentiable)
    if op.view and out.base is not None:
        t._vc = _share(args[0]._vc)
    if op.reads:
        node._saved = _snapshot(op, args, t)
    else:
        node._saved = None
    return t


def _share(vc: list) -> list:
    """A view shares its base's version counter, marked as shared."""
    vc[1] = True
    return vc


def _snapshot(op, args, out: Tensor) -> tuple:
    """Version counters of the values the rules will read, to detect in-place changes."""
    saved = []
    names = op.arg_names
    for i, a in enumerate(args):
        if op.variadic:
            if "*" in op.reads and isinstance(a, Tensor):
                saved.append((a._vc, a._vc[0], f"its argument '{names[0]}[{i}]'"))
        elif i < len(names) and names[i] in op.reads and isinstance(a, Tensor):
            saved.append((a._vc, a._vc[0], f"its argument '{names[i]}'"))
    if "ans" in op.reads:
        saved.append((out._vc, out._vc[0], "its output"))
    return tuple(saved)


def _promote(datas: list) -> list:
    """PyTorch's type promotion for the array arguments of an elementwise op."""
    arrays = [d for d in datas if type(d) is _ndarray]
    if not arrays:
        return datas
    dt = arrays[0].dtype
    if len(arrays) > 1:
        dt = arrays[0]
        res = arrays[0].dtype
        for b in arrays[1:]:
            if b.dtype != res:
                res = _dtype.result_type(dt if dt.dtype == res else np.empty((1,) * dt.ndim, res),
                                         b)
        dt = res
    has_float_scalar = any(isinstance(d, float) for d in datas if type(d) is not _ndarray)
    if dt.kind in "biu" and has_float_scalar:
        dt = _dtype.get_default_dtype().np
    if all(type(d) is not _ndarray or d.dtype == dt for d in datas):
        return datas
    return [d.astype(dt) if type(d) is _ndarray and d.dtype != dt else d for d in datas]


def apply_symbolic(op, datas: list, params: dict) -> Tensor:
    """The op's mirror on object arrays; numeric arguments become exact SymPy numbers."""
    exact = [to_exact(d) if type(d) is _ndarray else _exact_scalar(d) for d in datas]
    out = mirror_call(op, exact, params)
    return Tensor._wrap(out)


def mirror_call(op, args: list, params: dict) -> np.ndarray:
    """Evaluate ``op.mirror`` on object arrays (entry by entry for elementwise mirrors)."""
    if op.mirror is None:
        raise NotImplementedError(f"op {op.name} has no SymPy mirror")
    if params:
        params = {k: _exact_scalar(v) if isinstance(v, float) else v for k, v in params.items()}
    if op.elementwise:
        fn = op.mirror if not params else (lambda *a: op.mirror(*a, **params))
        arrays = [a for a in args if isinstance(a, np.ndarray)]
        uf = np.frompyfunc(fn, len(args), 1)
        out = uf(*args)
        if not isinstance(out, np.ndarray):
            o = np.empty((), dtype=object)
            o[()] = out
            out = o
        elif not arrays:
            out = out.astype(object)
        return out
    out = op.mirror(*args, **params)
    if not isinstance(out, np.ndarray):
        o = np.empty((), dtype=object)
        o[()] = out
        out = o
    elif out.dtype != _OBJECT:
        out = out.astype(object)
    return out


def _exact_scalar(v):
    if isinstance(v, bool) or v is None or not isinstance(v, (int, float)):
        return v
    import sympy

    if isinstance(v, int):
        return sympy.Integer(v)
    return to_exact(np.float64(v))[()]
