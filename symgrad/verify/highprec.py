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
from symgrad.ops.namespaces import MPMATH, to_mpmath, unbroadcast
from symgrad.verify.compare import HP_DIGITS

__all__ = ["HighPrecision", "stable_gradients", "recorded_gradients", "rounded_forwards"]


def _obj(x: Any) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return x if x.dtype == object else to_mpmath(x)
    a = np.empty((), dtype=object)
    a[()] = x
    return a


class HighPrecision:
    """Forward values of every node of a graph, and backward passes, in mpmath at ``dps``
    working digits (the current mpmath precision by default)."""

    def __init__(self, root: Node, dps: int | None = None) -> None:
        self.root = root
        self.dps = dps or max(mpmath.mp.dps, HP_DIGITS + 10)
        self.order, _ = topological_order([root])
        self.values: dict[Node, np.ndarray] = {}
        self.args: dict[Node, list] = {}
        with mpmath.workdps(self.dps):
            for node in reversed(self.order):
                if type(node) is AccumulateGrad:
                    self.values[node] = to_mpmath(node.variable._data)
                    continue
                args = [self.values[p] if p is not None else self._const(a)
                        for (p, _), a in zip(node.next_functions, node._args)]
                self.args[node] = args
                forward_with = getattr(node, "forward_with", None)
                if forward_with is None:
                    raise TypeError(f"{node.name()} cannot run at high precision")
                self.values[node] = _obj(forward_with(MPMATH, args))

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
            outs = node.vjp_with(MPMATH, g, self.args[node], self.values[node])
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


def _magnitude(a: Any):
    """Largest finite absolute entry of a value (0 if none)."""
    arr = np.asarray(a, dtype=object).reshape(-1)
    best = mpmath.mpf(0)
    for v in arr:
        if isinstance(v, (bool, np.bool_)):
            continue
        try:
            if mpmath.isfinite(v) and abs(v) > best:
                best = abs(v)
        except (TypeError, ValueError):
            continue
    return best


class HPResult:
    """What ``stable_gradients`` found: the output value, per cotangent the gradient at
    each leaf, and the magnitudes of the terms involved (forward and backward)."""

    def __init__(self, value, grads, forward_scale, backward_scales) -> None:
        self.value, self.grads = value, grads
        self.forward_scale, self.backward_scales = forward_scale, backward_scales


def stable_gradients(root: Node, cotangents: Sequence[np.ndarray], leaves: Sequence[Node],
                     digits: int = HP_DIGITS) -> HPResult:
    """The root's value and, per cotangent, the rule-computed gradient at each leaf, all at
    a precision raised until two runs agree to ``digits`` digits (so cancellation inside a
    correct rule at extreme inputs never reads as a wrong rule)."""
    from symgrad.symbolic.derive import stable_eval

    shapes: list = []
    scales: list = []

    def compute() -> list:
        hp = HighPrecision(root, dps=mpmath.mp.dps)
        out = np.asarray(hp.values[root], dtype=object)
        flat = list(out.reshape(-1))
        shapes.clear()
        shapes.append(out.shape)
        scales.clear()
        scales.append(hp.forward_scale)
        for ct in cotangents:
            grads_ct = hp.backward(ct, leaves)
            scales.append(hp.backward_scale)
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
    return HPResult(value, grads, scales[0], scales[1:])


def _at_prec(a: Any) -> Any:
    """A recorded value as mpmath number(s), rounded to the current precision."""
    if isinstance(a, np.ndarray) and a.dtype != object and a.dtype.kind == "f":
        conv = np.frompyfunc(lambda v: +mpmath.mpf(v), 1, 1)
        return _obj(conv(a))
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
    def apply(node: Node, g: Any) -> list:
        args = [_at_prec(a) for a in node._args]
        ans = node._ans
        return node.vjp_with(MPMATH, g, args, None if ans is None else _at_prec(ans))

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
