"""Calling an op: the hot path every operation goes through.

Numeric inputs: run ``forward`` on numpy and, when recording, attach one node that keeps
the arguments, the output and the parameters. Symbolic inputs (SymPy object arrays): run
the op's ``mirror`` instead and record nothing: the symbolic side never touches rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgrad import _dtype
from symgrad._quiet import quiet_enter as _quiet_enter, quiet_exit as _quiet_exit
from symgrad.autograd.grad_mode import _state
from symgrad.autograd._switches import active as _extras
from symgrad.autograd.record_extras import on_record
from symgrad.ops.namespaces import NUMPY, to_exact
from symgrad.tensor import INFERENCE_SAVED_MESSAGE, InferenceVersion, Tensor, share_storage

__all__ = ["apply", "apply_symbolic", "mirror_call"]

_OBJECT = np.dtype(object)
_NO_EDGE = (None, 0)
_ndarray = np.ndarray
_new = object.__new__
_F64 = np.dtype(np.float64)
_wrap = Tensor._wrap




def apply(op, *args: Any, **params: Any) -> Tensor:
    """Run ``op`` on ``args`` (Tensors or Python numbers); parameters go by keyword."""
    if _state.forward:   # a dual level is open: the output's tangent too (ops/_forward.py)
        from symgrad.ops._forward import forward_apply

        return forward_apply(op, args, params)
    datas = []
    edges = []
    record = _state.enabled
    needs_grad = False
    const_edges = None
    partial = False   # some argument has no edge, or a constant one: some rules never run
    for a in args:
        if isinstance(a, Tensor):
            d = a._data
            if d.dtype is _OBJECT:
                return apply_symbolic(op, [x._data if isinstance(x, Tensor) else x
                                           for x in args], params)
            datas.append(d)
            if record:
                fn = a.grad_fn
                if a._requires_grad:
                    needs_grad = True
                    if fn is None:  # a leaf: its AccumulateGrad, made on first use
                        acc = a._acc
                        fn = acc() if acc is not None else None
                        if fn is None:
                            fn = a._grad_accumulator()
                    # (``_extra`` holds output_nr for the outputs 1, 2, ... of a node)
                    edges.append((fn, 0) if a._extra is None else (fn, a.output_nr))
                    continue
                if fn is not None:                  # a constant recorded by record_all
                    const_edges = (const_edges or ()) + (len(edges),)
                    edges.append((fn, a.output_nr))
                    partial = True
                    continue
            edges.append(_NO_EDGE)
            partial = True
        else:
            datas.append(a)
            edges.append(_NO_EDGE)
            partial = True
    if op.promote:
        datas = _promote(datas)
    token = _quiet_enter()
    try:
        out = op.forward(NUMPY, *datas, **params) if params else op.forward(NUMPY, *datas)
    finally:
        _quiet_exit(token)
    if type(out) is not _ndarray:
        out = np.asarray(out)
    if op.view and out is datas[0]:   # (squeeze of no dimension: numpy returns x itself)
        out = out.view()
    grad = needs_grad and op.grad_ok
    if not grad and not (record and _state.record_all):
        t = _wrap(out)
        if op.view and out.base is not None:
            share_storage(args[0], t)   # (a view of an inference tensor is one: same counter)
            if args[0]._requires_grad:   # made under no_grad: a leaf, as PyTorch's views are
                t._requires_grad = True
        elif not record and _state.inference:
            t._vc = InferenceVersion((0, False))
        return t
    node = _new(op.node_class)
    node.next_functions = tuple(edges)
    node._args = tuple(datas)
    node._ans = out if op.saves_ans else None
    node._params = params or None
    node._shape = out.shape
    node._dtype = out.dtype
    node._hooks = None
    node._freed = False
    node._const = const_edges
    t = _wrap(out, node, grad)
    if op.view and out.base is not None:
        share_storage(args[0], t)
    saved_idx = op.saved_idx
    if saved_idx is None:
        node._saved = None
    elif not saved_idx:  # the rules read the output only
        vc = t._vc
        node._saved = ((vc, vc[0], -1),)
    else:
        ans = op.saves_ans
        if partial and saved_idx != "*" and not op.uniform_reads:
            got = None if const_edges or len(edges) != 2 else op.saved_for.get(
                (edges[0] is not _NO_EDGE, edges[1] is not _NO_EDGE))   # _needed's, inline
            saved_idx, ans = got or _needed(op, edges, const_edges)
        node._saved = _snapshot(saved_idx, args, t, ans) if saved_idx or ans else None
    if _extras[0]:   # saved-tensor hooks or anomaly mode are on somewhere
        on_record(node, args, t)
    return t


def _needed(op, edges: list, const: tuple | None) -> tuple[tuple, bool]:
    """The arguments (and whether the output) read by the rules that will run: those of
    the arguments with an edge. PyTorch too saves a product's factor only when the other
    needs a gradient, so ``y * 2`` does not mind a later ``y.add_(1)``."""
    if const:
        key = tuple([fn is not None and i not in const for i, (fn, _) in enumerate(edges)])
    elif len(edges) == 2:   # the common binary op, without building a list
        key = (edges[0] is not _NO_EDGE, edges[1] is not _NO_EDGE)
    else:
        key = tuple([e is not _NO_EDGE for e in edges])
    got = op.saved_for.get(key)
    if got is None:
        idx: set = set()
        ans = False
        for runs, (reads, reads_ans) in zip(key, op.rule_reads):
            if runs:
                idx.update(reads)
                ans = ans or reads_ans
        got = op.saved_for[key] = (tuple(i for i in op.saved_idx if i in idx), ans)
    return got


def _snapshot(saved_idx: Any, args: tuple, out: Tensor, ans: bool) -> tuple:
    """Version counters of the values the rules will read, to detect in-place changes.

    Entries are ``(counter, version, argument index)``; index -1 is the op's output.
    """
    saved = []
    n = len(args)
    for i in (range(n) if saved_idx == "*" else saved_idx):
        if i < n:
            a = args[i]
            if isinstance(a, Tensor):
                vc = a._vc
                if type(vc) is not list:   # an inference tensor's counter
                    raise RuntimeError(INFERENCE_SAVED_MESSAGE)
                saved.append((vc, vc[0], i))
    if ans:
        vc = out._vc
        saved.append((vc, vc[0], -1))
    return tuple(saved)


def _promote(datas: list) -> list:
    """PyTorch's type promotion for the array arguments of an elementwise op."""
    if len(datas) == 2:                       # the common cases, decided without allocating
        a, b = datas
        ta, tb = type(a), type(b)
        if ta is _ndarray:
            if tb is _ndarray:
                if a.dtype == b.dtype:
                    return datas
            elif a.dtype.kind == "f" and tb in (float, int, bool):
                return datas
            elif tb is int and 0 <= b < 128 and a.dtype.kind in "iu":   # fits any int type
                return datas
        elif tb is _ndarray:
            if b.dtype.kind == "f" and ta in (float, int, bool):
                return datas
            if ta is int and 0 <= a < 128 and b.dtype.kind in "iu":
                return datas
    return _promote_slow(datas)


def _promote_slow(datas: list) -> list:
    arrays = [d for d in datas if type(d) is _ndarray]
    if not arrays:
        return datas
    if any(isinstance(d, np.generic) for d in datas):
        datas = _numbers_of(datas, arrays)
    res = arrays[0].dtype
    ref = arrays[0]
    for b in arrays[1:]:
        if b.dtype != res:
            res = _dtype.result_type(ref if ref.dtype == res else np.empty((1,) * ref.ndim, res),
                                     b)
            ref = b if b.dtype == res else ref
    has_float_scalar = any(isinstance(d, float) for d in datas if type(d) is not _ndarray)
    if res.kind in "biu" and has_float_scalar:
        res = _dtype.get_default_dtype().np
    if res.kind in "iu":
        datas = [_wrap_int(d, res) if type(d) is int else d for d in datas]
    if all(type(d) is not _ndarray or d.dtype == res for d in datas):
        return datas
    return [d.astype(res) if type(d) is _ndarray and d.dtype != res else d for d in datas]


def _numbers_of(datas: list, arrays: list) -> list:
    """Numpy scalars as the Python numbers they hold (PyTorch's reading: ``x_f32 +
    np.float64(1.5)`` stays float32), except one already in the arrays' own dtype, which
    an op may pass on purpose to compute in that precision."""
    kinds = {a.dtype for a in arrays}
    return [d.item() if isinstance(d, np.generic) and d.dtype.kind in "biuf"
            and d.dtype not in kinds else d for d in datas]


def _wrap_int(v: int, res: np.dtype) -> int:
    """A Python int outside ``res``'s range wrapped into it, as PyTorch casts a scalar
    operand to the tensor's integer type (``int8 + 1000`` is ``int8 + -24``) where numpy
    raises; beyond 64 bits PyTorch cannot convert it at all."""
    bits = res.itemsize * 8
    lo = -(1 << (bits - 1)) if res.kind == "i" else 0
    if lo <= v < lo + (1 << bits):
        return v
    if not -(1 << 63) <= v < 1 << 64:
        raise OverflowError(f"int too big to convert: {v} does not fit in 64 bits")
    return (v - lo) % (1 << bits) + lo


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
