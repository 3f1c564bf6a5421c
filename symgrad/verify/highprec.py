"""Run a recorded graph's forwards and VJP rules at high precision (mpmath, 60 digits).

This is how symgrad tells a wrong rule from float64 rounding without a tolerance: the
very same rule code, fed exact inputs and evaluated to ~50 correct digits, either equals
the exact derivative or does not.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import mpmath
import numpy as np

from symgrad.autograd.engine import run_backward, topological_order
from symgrad.autograd.graph import AccumulateGrad, Node
from symgrad.ops._node import parent_meta
from symgrad.ops.namespaces import MPMATH, to_mpmath, unbroadcast
from symgrad.verify.compare import HP_DIGITS, magnitude as _magnitude

__all__ = ["HighPrecision", "stable_gradients", "recorded_gradients", "rounded_forwards",
           "mp_array"]


def _obj(x: Any) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return x if x.dtype == object else to_mpmath(x)
    a = np.empty((), dtype=object)
    a[()] = x
    return a


def _float_fallback(fn: Any, *values: Any) -> Any:
    """``fn`` run on float64 copies of ``values`` (results back as mpmath objects).

    mpmath raises where float64 gives inf or nan (an exact 1/0, e.g. sqrt's rule at 0): the
    node at such a singular point then runs as numpy runs it, which is what the float64
    engine did there too; its value is compared with the exact derivative as usual.
    """
    from symgrad.ops.namespaces import NUMPY

    def to_float(v: Any) -> Any:
        if isinstance(v, np.ndarray) and v.dtype == object:
            return np.array([float(x) for x in v.reshape(-1)], dtype=np.float64).reshape(v.shape)
        if isinstance(v, mpmath.mpf):
            return float(v)
        if isinstance(v, (list, tuple)):
            return type(v)(to_float(x) for x in v)
        return v

    with np.errstate(all="ignore"):
        out = fn(NUMPY, *(to_float(v) for v in values))
    if isinstance(out, (list, tuple)):
        return type(out)(None if o is None else _obj(np.asarray(o)) for o in out)
    return _obj(np.asarray(out))


def _entrywise(call: Any, values: list, shape: tuple) -> list:
    """``call`` on each entry of ``values`` (broadcast to ``shape``) in mpmath, and in
    float64 only for the entries where mpmath divides by zero; one object array per output.

    Used for elementwise ops, so that one singular entry leaves the others exact.
    """
    full = [np.broadcast_to(_obj(v), shape) if v is not None else None for v in values]
    cols: list | None = None
    for idx in np.ndindex(*shape):
        entry = [_obj(v[idx]) if v is not None else None for v in full]
        try:
            outs = call(MPMATH, *entry)
        except ZeroDivisionError:
            outs = _float_fallback(call, *entry)
        if cols is None:
            cols = [None if o is None else np.empty(shape, dtype=object) for o in outs]
        for col, o in zip(cols, outs):
            if col is not None:
                col[idx] = np.asarray(o, dtype=object).reshape(())[()]
    return cols if cols is not None else []


def mp_vjp(node: Node, g: Any, args: Any, ans: Any, fallbacks: list | None = None) -> list:
    """``node``'s rules in mpmath; where mpmath refuses an exact division by zero (sqrt's
    rule at 0), the entries concerned run in float64, as the engine ran them."""
    try:
        return node.vjp_with(MPMATH, g, args, ans)
    except ZeroDivisionError:
        if fallbacks is not None:
            fallbacks.append(node)
    op = getattr(node, "op", None)
    if op is None or not op.elementwise or op.variadic or np.ndim(g) == 0:
        return _float_fallback(node.vjp_with, g, args, ans)
    params = node._params or {}
    const = node._const or ()
    live = [p is not None and r is not None and i not in const
            for i, ((p, _), r) in enumerate(zip(node.next_functions, op.vjp))]

    def rules(xp: Any, g: Any, ans: Any, *a: Any) -> list:
        return [r(xp, g, ans, *a, **params) if ok else None for r, ok in zip(op.vjp, live)]

    cols = _entrywise(rules, [g, ans, *args], np.shape(g))
    return [None if c is None else unbroadcast(MPMATH, c, parent_meta(p, nr)[0])
            for c, (p, nr) in zip(cols, node.next_functions)]


def mp_forward(node: Node, args: list, fallbacks: list | None = None) -> np.ndarray:
    """``node``'s forward in mpmath, with the same float64 fallback as ``mp_vjp``."""
    try:
        return _obj(node.forward_with(MPMATH, args))
    except ZeroDivisionError:
        if fallbacks is not None:
            fallbacks.append(node)
    op = getattr(node, "op", None)
    shape = tuple(node._shape)
    if op is None or not op.elementwise or op.variadic or not shape:
        return _float_fallback(lambda xp, a: node.forward_with(xp, a), args)
    return _entrywise(lambda xp, *a: [node.forward_with(xp, list(a))], list(args), shape)[0]


class HighPrecision:
    """Forward values of every node of a graph, and backward passes, in mpmath at ``dps``
    working digits (the current mpmath precision by default)."""

    def __init__(self, root: Node, dps: int | None = None) -> None:
        self.root = root
        self.dps = dps or max(mpmath.mp.dps, HP_DIGITS + 10)
        self.order, _ = topological_order([root])
        self.values: dict[Node, np.ndarray] = {}
        self.args: dict[Node, list] = {}
        self.float_nodes: list[str] = []  # nodes that hit an exact division by zero
        with mpmath.workdps(self.dps):
            for node in reversed(self.order):
                if type(node) is AccumulateGrad:
                    self.values[node] = to_mpmath(node.variable._data)
                    continue
                args = [self.values[p] if p is not None else self._const(a)
                        for (p, _), a in zip(node.next_functions, node._args)]
                self.args[node] = args
                if getattr(node, "forward_with", None) is None:
                    raise TypeError(f"{node.name()} cannot run at high precision")
                self.values[node] = mp_forward(node, args, self.float_nodes)

    @staticmethod
    def _const(a: Any) -> Any:
        if isinstance(a, np.ndarray):
            return to_mpmath(a)
        if isinstance(a, float):
            return mpmath.mpf(a)
        return a

    def backward(self, seed: np.ndarray, leaves: Sequence[Node]) -> list[np.ndarray | None]:
        """Gradients of ``<seed, root>`` at the leaves, with the rules run in mpmath."""

        mags = [_magnitude(seed)]

        def apply(node: Node, g: Any) -> list:
            outs = mp_vjp(node, g, self.args[node], self.values[node], self.float_nodes)
            mags.extend(_magnitude(r) for r in outs if r is not None)
            return outs

        with mpmath.workdps(self.dps):
            got = run_backward([self.root], [_obj(seed)], retain_graph=True, create_graph=False,
                               capture=list(leaves), accumulate=False, apply=apply,
                               run_hooks=False)
        out = []
        for leaf in leaves:
            if leaf in got:
                g = _obj(got[leaf][0])
                shape = leaf.variable._data.shape if type(leaf) is AccumulateGrad else g.shape
                out.append(unbroadcast(MPMATH, g, shape) if g.shape != shape else g)
            else:
                out.append(None)
        self.backward_scale = max(mags)
        return out

    @property
    def forward_scale(self):
        """The largest finite magnitude any node's value takes (the size of the terms)."""
        return max((_magnitude(v) for v in self.values.values()), default=mpmath.mpf(0))


class HPResult:
    """What ``stable_gradients`` found: the output value, per cotangent the gradient at
    each leaf, and the magnitudes of the terms involved (forward and backward)."""

    def __init__(self, value, grads, forward_scale, backward_scales, singular=()) -> None:
        self.value, self.grads = value, grads
        self.forward_scale, self.backward_scales = forward_scale, backward_scales
        self.singular = list(dict.fromkeys(singular))  # nodes whose rules divided by 0


def stable_gradients(root: Node, cotangents: Sequence[np.ndarray], leaves: Sequence[Node],
                     digits: int = HP_DIGITS) -> HPResult:
    """The root's value and, per cotangent, the rule-computed gradient at each leaf, all at
    a precision raised until two runs agree to ``digits`` digits (so cancellation inside a
    correct rule at extreme inputs never reads as a wrong rule)."""
    from symgrad.symbolic.derive import stable_eval

    shapes: list = []
    scales: list = []
    singular: list = []

    def compute() -> list:
        hp = HighPrecision(root, dps=mpmath.mp.dps)
        singular[:] = hp.float_nodes
        out = np.asarray(hp.values[root], dtype=object)
        flat = list(out.reshape(-1))
        shapes.clear()
        shapes.append(out.shape)
        scales.clear()
        scales.append(hp.forward_scale)
        for ct in cotangents:
            grads_ct = hp.backward(ct, leaves)
            scales.append(hp.backward_scale)
            singular.extend(hp.float_nodes)
            for g, leaf in zip(grads_ct, leaves):
                shape = leaf.variable._data.shape
                arr = np.asarray(g, dtype=object) if g is not None else np.full(
                    shape, mpmath.mpf(0), dtype=object)
                flat.extend(arr.reshape(-1))
        return flat

    flat = stable_eval(compute, digits)
    out_shape = shapes[0]
    n = int(np.prod(out_shape))
    value = np.array(flat[:n], dtype=object).reshape(out_shape)
    pos = n
    grads = []
    for _ in cotangents:
        row = []
        for leaf in leaves:
            shape = leaf.variable._data.shape
            size = int(np.prod(shape))
            row.append(np.array(flat[pos:pos + size], dtype=object).reshape(shape))
            pos += size
        grads.append(row)
    return HPResult(value, grads, scales[0], scales[1:], singular)


def mp_array(a: Any, rounded: bool = False) -> np.ndarray:
    """``to_mpmath`` of a float array, converting each distinct value once (one-hot
    cotangents and recorded values repeat a few values many times); ``rounded`` rounds the
    values to the current precision (``+mpf``), as ``_at_prec`` needs. mpf numbers are
    immutable, so entries may share one object."""
    arr = np.asarray(a)
    if arr.dtype == object or arr.dtype.kind != "f" or arr.size < 16:
        if rounded and arr.dtype != object and arr.dtype.kind == "f":
            conv = np.frompyfunc(lambda v: +mpmath.mpf(v), 1, 1)
            with np.errstate(invalid="ignore"):
                return _obj(conv(arr))
        return to_mpmath(arr)
    arr = arr.astype(np.float64, copy=False)
    uniq, inverse = np.unique(arr.reshape(-1), return_inverse=True)
    with np.errstate(invalid="ignore"):
        conv = [(+mpmath.mpf(v)) if rounded else mpmath.mpf(v) for v in uniq.tolist()]
    table = np.empty(len(conv), dtype=object)
    table[:] = conv
    return table[inverse.reshape(-1)].reshape(arr.shape)


def _at_prec(a: Any) -> Any:
    """A recorded value as mpmath number(s), rounded to the current precision."""
    if isinstance(a, np.ndarray) and a.dtype != object and a.dtype.kind == "f":
        return _obj(mp_array(a, rounded=True))
    if isinstance(a, float):
        return +mpmath.mpf(a)
    return HighPrecision._const(a)


def recorded_gradients(root: Node, cotangents: Sequence[np.ndarray], leaves: Sequence[Node],
                       bits: int | None = None) -> list[list]:
    """The rules run on the *float64 values the engine recorded*, in mpmath at high
    precision, or at ``bits`` of precision (e.g. 48) to see rounding noise.

    At high precision, the distance from the exact derivative is what rounding the forward
    values to float64 costs on this path (``s(x)(1 - s(x))`` from a rounded ``s(x)`` near
    1). At a few bits below float64's 53, the distance also shows how much the rules'
    own formulas amplify rounding (``1 - t*t`` with ``t`` near 1). Errors of that size are
    rounding, not a wrong rule and not a lost value.
    """
    converted: dict = {}  # per node: its recorded values at this run's precision, made once

    def apply(node: Node, g: Any) -> list:
        got = converted.get(node)
        if got is None:
            ans = node._ans
            got = converted[node] = ([_at_prec(a) for a in node._args],
                                     None if ans is None else _at_prec(ans))
        return mp_vjp(node, g, got[0], got[1])

    out = []
    ctx = mpmath.workprec(bits) if bits else mpmath.workdps(HP_DIGITS + 10)
    with ctx:
        for ct in cotangents:
            got = run_backward([root], [_at_prec(np.asarray(ct, dtype=np.float64))
                                        if not (isinstance(ct, np.ndarray) and ct.dtype == object)
                                        else ct], retain_graph=True, create_graph=False,
                               capture=list(leaves), accumulate=False, apply=apply,
                               run_hooks=False)
            row = []
            for leaf in leaves:
                shape = leaf.variable._data.shape
                if leaf in got:
                    g = _obj(got[leaf][0])
                    row.append(unbroadcast(MPMATH, g, shape) if g.shape != shape else g)
                else:
                    row.append(np.full(shape, mpmath.mpf(0), dtype=object))
            out.append(row)
    return out


def rounded_forwards(root: Node, bits: tuple[int, ...] = (48, 50)) -> list[np.ndarray]:
    """The graph's output recomputed from its inputs at a few bits below float64 (inputs
    rounded too): how much rounding alone moves the value on this computation path."""
    out = []
    for b in bits:
        with mpmath.workprec(b):
            hp = HighPrecision(root, dps=mpmath.mp.dps)
            out.append(np.asarray(hp.values[root], dtype=object))
    return out
