"""The op record: one operation written three times, side by side.

``forward(xp, *args, **params)``   the numerically careful form, on an array namespace;
``vjp[i](xp, g, ans, *args, **params)``  the hand-written rule for argument i, returning the
                                   gradient in the output's (broadcast) shape: the node undoes
                                   broadcasting with the one shared helper;
``mirror(*args, **params)``        the same function as textbook SymPy; with
                                   ``elementwise=True`` it is written for one entry.

Rules read fixed names: ``g`` the incoming gradient, ``ans`` the op's output, then the
forward arguments by name. A ``None`` rule means the argument is not differentiable.
"""

from __future__ import annotations

import dis
import inspect
import math
from dataclasses import dataclass, field, replace
from typing import Any
from collections.abc import Callable, Sequence

from symgrad.autograd.graph import Node
from symgrad.ops._node import OpNode

__all__ = ["Op", "Domain", "Kink", "OPS", "register", "REAL", "POSITIVE", "NONZERO", "UNIT"]

inf = math.inf


@dataclass(frozen=True)
class Domain:
    """Where an argument is sampled: open intervals of the real line.

    ``intervals`` is the mathematical domain minus the kinks (the rule proofs run on each
    interval with matching SymPy assumptions); ``typical`` bounds the float64 samples of the
    numeric tests, so that float64 itself stays accurate there.
    """

    intervals: tuple[tuple[float, float], ...] = ((-inf, inf),)
    typical: tuple[float, float] = (-4.0, 4.0)
    integer: bool = False

    def clip(self, lo: float, hi: float) -> Domain:
        return replace(self, typical=(lo, hi))


REAL = Domain()
POSITIVE = Domain(((0.0, inf),), (0.05, 5.0))
NONZERO = Domain(((-inf, 0.0), (0.0, inf)), (-4.0, 4.0))
UNIT = Domain(((0.0, 1.0),), (0.02, 0.98))


@dataclass(frozen=True)
class Kink:
    """Where an op is not differentiable, and the derivative the engine returns there.

    ``at(*args, **params)`` takes the numpy arguments and returns a boolean mask in the
    output's shape (True on a kink); ``convention`` says what the rule returns there, in
    words (e.g. "relu'(0) = 0, as PyTorch").
    """

    at: Callable[..., Any]
    convention: str


@dataclass(eq=False)
class Op:
    """One differentiable (or explicitly non-differentiable) operation."""

    name: str
    grad_fn: str
    forward: Callable[..., Any]
    vjp: tuple[Callable[..., Any] | None, ...]
    mirror: Callable[..., Any] | None
    kind: str
    elementwise: bool = False
    domain: tuple[Domain, ...] = ()
    kinks: Kink | None = None
    promote: bool = False
    view: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    # (argument shapes, parameters) pairs the rule proofs run on; derived from ``kind`` and
    # ``params`` when empty. A shape of None passes None (an omitted optional argument).
    examples: tuple = ()
    # Variadic ops (cat, stack) take any number of tensors: ``forward(xp, *tensors, ...)``,
    # one rule ``vjp[0](xp, g, ans, *tensors, i=..., ...)`` gives the gradient of tensor i.
    variadic: bool = False
    base: Op | None = None
    doc: str = ""
    # derived at registration (read on the hot path)
    arg_names: tuple[str, ...] = ()
    reads: frozenset = frozenset()
    node_class: type = Node
    grad_ok: bool = False                 # some argument has a rule
    saves_ans: bool = False               # the rules read the output
    saved_idx: Any = None                 # argument indices the rules read ("*": all), or None
    rule_reads: tuple = ()                # per rule: (argument indices it reads, reads ans)
    uniform_reads: bool = False           # every rule reads the same (see _apply._needed)
    saved_for: dict = field(default_factory=dict)   # which args have edges -> (saved_idx,
    #                                                   whether the output is read)
    _rule_names: tuple = ()               # per rule: the parameter names it reads

    @property
    def differentiable(self) -> bool:
        return self.grad_ok

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name == "vjp" and self.node_class is not Node:
            # a rule was replaced (tests do this to plant a bug): re-derive what it reads
            _set_reads(self)
            _derive(self)

    def variant(self, grad_fn: str) -> Op:
        """The same op under another PyTorch node name (e.g. SumBackward1 for sum over dims)."""
        v = replace(self, grad_fn=grad_fn, base=self.base or self)
        v.node_class = _node_class(grad_fn, v)
        _derive(v)
        return v

    def __repr__(self) -> str:
        return f"<op {self.name} ({self.grad_fn})>"


#: Every registered op by name, in the order of the table (variants are not listed).
OPS: dict[str, Op] = {}

def _node_class(name: str, op: Op) -> type:
    """A node class named as PyTorch names it (``type(t.grad_fn).__name__``), bound to ``op``."""
    return type(name, (OpNode,), {"__slots__": (), "op": op, "__module__": "symgrad.ops"})


def register(name: str, grad_fn: str, *, forward, vjp, mirror, kind: str, **kw) -> Op:
    """Add one op to the table and return its record."""
    rules = vjp if isinstance(vjp, tuple) else (vjp,)
    # Arguments are the positional parameters without defaults (after ``xp``); the rest
    # (keyword-only or defaulted) are parameters such as ``dim`` or ``alpha``.
    sig = list(inspect.signature(forward).parameters.values())[1:]
    arg_names = tuple(p.name for p in sig if p.default is inspect.Parameter.empty and p.kind in (
        inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD))
    if kw.get("variadic"):
        star = [p.name for p in sig if p.kind is inspect.Parameter.VAR_POSITIONAL]
        arg_names = tuple(star) or ("tensors",)
        if len(rules) != 1:
            raise TypeError(f"variadic op {name} takes one rule (with keyword i)")
    elif len(rules) != len(arg_names):
        raise TypeError(f"op {name}: {len(rules)} rules for arguments {arg_names}")
    op = Op(name=name, grad_fn=grad_fn, forward=forward, vjp=rules, mirror=mirror, kind=kind,
            arg_names=arg_names, **kw)
    _set_reads(op)
    op.node_class = _node_class(grad_fn, op)
    _derive(op)
    if name in OPS:
        raise ValueError(f"op {name!r} is registered twice")
    OPS[name] = op
    return op


def _set_reads(op: Op) -> None:
    per_rule = tuple(frozenset() if r is None else frozenset(_reads(r)) for r in op.vjp)
    object.__setattr__(op, "_rule_names", per_rule)
    reads = frozenset().union(*per_rule) & (set(op.arg_names) | {"ans"})
    if op.variadic and reads - {"ans"}:
        reads = reads | {"*"}
    object.__setattr__(op, "reads", reads)


def _derive(op: Op) -> None:
    """Precompute what the hot path asks of a record."""
    op.grad_ok = any(r is not None for r in op.vjp)
    op.saves_ans = "ans" in op.reads
    if op.variadic:
        op.saved_idx = "*" if "*" in op.reads else None
    else:
        op.rule_reads = tuple((tuple(i for i, n in enumerate(op.arg_names) if n in rd),
                               "ans" in rd) for rd in op._rule_names)
        # in the order PyTorch saves them (what saved-tensor hooks see): the values the
        # first argument's rule reads, then the new ones of the next rule's, ...
        idx = tuple(dict.fromkeys(i for reads, _ in op.rule_reads for i in reads))
        op.saved_idx = idx if (idx or op.saves_ans) else None
        # every rule reads the same values: which of them run cannot narrow what is saved
        op.uniform_reads = len({rr for rr, r in zip(op.rule_reads, op.vjp)
                                if r is not None}) <= 1
    op.saved_for = {}


def _reads(fn: Callable) -> set[str]:
    """The parameter names a rule actually reads (so unused saved values can be freed)."""
    try:
        code = fn.__code__
    except AttributeError:
        return {"ans"} | set(_all_params(fn))
    names: set[str] = set()
    cells = False
    for ins in dis.get_instructions(code):
        name = ins.opname
        if name.startswith("LOAD_FAST") or name in ("LOAD_DEREF", "LOAD_CLOSURE"):
            val = ins.argval
            names.update(val if isinstance(val, tuple) else (val,))
        elif name.startswith("STORE_DEREF") or name == "MAKE_CELL":
            cells = True
    if cells:
        names.update(code.co_cellvars)
    return names


def _all_params(fn) -> Sequence[str]:
    try:
        return list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return []
