"""Replay a numeric tensor's recorded graph with each op's SymPy mirror.

Leaves that require grad become symbols (``w[i,j]``), every other tensor an exact
constant (its float64 value as a rational), ``detach()`` included. Only mirrors run: the
VJP rules are never read, which is what makes the symbolic gradient an independent witness.
The graph is walked iteratively, so long chains replay without recursion.
"""

from __future__ import annotations

import inspect
from typing import Any
from collections.abc import Mapping

import numpy as np

from symgrad.autograd.engine import topological_order
from symgrad.autograd.graph import AccumulateGrad
from symgrad.ops._apply import _exact_scalar
from symgrad.ops.namespaces import to_exact
from symgrad.symbolic.symbols import symbol_array
from symgrad.tensor import Tensor

__all__ = ["mirror", "MirrorInfo", "info"]


class MirrorInfo:
    """What a mirrored expression was made from: leaf symbols and the numeric point."""

    def __init__(self) -> None:
        self.leaves: list[tuple[Tensor, np.ndarray]] = []     # (numeric leaf, its symbols)
        self.constants: list[tuple[str, np.ndarray]] = []     # (name, symbols) when symbolic
        self.point: dict[Any, Any] = {}                        # symbol -> exact value

    def symbols_of(self, leaf: Tensor) -> np.ndarray:
        for t, syms in self.leaves:
            if t is leaf:
                return syms
        raise KeyError("this tensor is not a leaf of the mirrored graph (did it require grad?)")

    def merge(self, other: MirrorInfo | None) -> MirrorInfo:
        if other is None or other is self:
            return self
        out = MirrorInfo()
        out.leaves = self.leaves + [p for p in other.leaves
                                    if all(p[0] is not q[0] for q in self.leaves)]
        out.constants = self.constants + other.constants
        out.point = {**self.point, **other.point}
        return out


def info(t: Any) -> MirrorInfo | None:
    """The MirrorInfo attached to a symbolic tensor made by ``mirror`` (or None)."""
    if isinstance(t, Tensor) and t._extra:
        return t._extra.get("mirror")
    return None


def _caller_names(depth: int = 2) -> dict[int, str]:
    """Variable names of tensors in the caller's frame, to name symbols as the user did."""
    frame = inspect.currentframe()
    try:
        for _ in range(depth):
            frame = frame.f_back if frame is not None else None
        if frame is None:
            return {}
        names: dict[int, str] = {}
        for scope in (frame.f_globals, frame.f_locals):
            for k, v in scope.items():
                if isinstance(v, Tensor) and k.isidentifier() and not k.startswith("_"):
                    names[id(v)] = k
                    names.setdefault(id(v._data), k)
        return names
    finally:
        del frame


def mirror(t: Tensor, names: Mapping[str, Tensor] | None = None, *,
           constants: str = "exact") -> Tensor:
    """The SymPy expressions of ``t``'s recorded graph, as a symbolic Tensor.

    ``names`` maps symbol names to leaf tensors; by default each leaf is named after the
    caller's variable holding it (``w``, ``b``), else ``p0, p1, ...``. With
    ``constants="symbols"`` tensors that do not require grad become symbols as well (their
    values go into the point), which gives closed forms in terms of ``x`` and ``y``.
    """
    if not isinstance(t, Tensor):
        raise TypeError(f"mirror() expects a Tensor, got {type(t).__name__}")
    if constants not in ("exact", "symbols"):
        raise ValueError("constants must be 'exact' or 'symbols'")
    if t._data.dtype == object:
        return t
    by_id = _caller_names()
    if names:
        for k, v in names.items():
            if not isinstance(v, Tensor):
                raise TypeError(f"names[{k!r}] must be a Tensor")
            by_id[id(v)] = k
            by_id[id(v._data)] = k
    meta = MirrorInfo()
    used: set[str] = set()
    counter = [0]

    def fresh(prefix: str) -> str:
        while True:
            n = f"{prefix}{counter[0]}"
            counter[0] += 1
            if n not in used:
                return n

    def name_for(key_ids: tuple[int, ...], prefix: str) -> str:
        for k in key_ids:
            if k in by_id and by_id[k] not in used:
                return by_id[k]
        return fresh(prefix)

    const_cache: dict[int, Any] = {}

    def constant(a: Any) -> Any:
        if not isinstance(a, np.ndarray):
            return _exact_scalar(a)          # Python floats as exact rationals, not Floats
        if id(a) in const_cache:
            return const_cache[id(a)]
        if constants == "symbols" and a.dtype.kind == "f":
            nm = name_for((id(a),), "c")
            used.add(nm)
            syms = symbol_array(nm, a.shape)
            meta.constants.append((nm, syms))
            meta.point.update(zip(syms.reshape(-1), to_exact(a).reshape(-1)))
            val = syms
        else:
            val = to_exact(a)
        const_cache[id(a)] = val
        return val

    root = t.grad_fn if t.grad_fn is not None else (
        t._grad_accumulator() if t._requires_grad else None)
    if root is None:
        out = Tensor._wrap(constant(t._data))
        out._extra = {"mirror": meta}
        return out

    order, _ = topological_order([root])
    values: dict[Any, np.ndarray] = {}
    for node in reversed(order):
        if type(node) is AccumulateGrad:
            leaf = node.variable
            nm = name_for((id(leaf), id(leaf._data)), "p")
            used.add(nm)
            syms = symbol_array(nm, leaf._data.shape)
            meta.leaves.append((leaf, syms))
            meta.point.update(zip(syms.reshape(-1), to_exact(leaf._data).reshape(-1)))
            values[node] = syms
            continue
        replay = getattr(node, "replay", None)
        if replay is None:
            raise TypeError(f"{node.name()} has no SymPy mirror, so its graph cannot be replayed")
        args = []
        for (parent, nr), a in zip(node.next_functions, node._args):
            if parent is None:
                args.append(constant(a))
                continue
            v = values[parent]
            args.append(v[nr] if type(v) is tuple else v)  # (a node with several outputs)
        values[node] = replay(args)
    out = values[root]
    out = Tensor._wrap(out[t.output_nr] if type(out) is tuple else out)
    out._extra = {"mirror": meta}
    return out
