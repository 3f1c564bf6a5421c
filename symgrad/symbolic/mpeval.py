"""Evaluate SymPy expressions in mpmath without exceptions: 1/0 is inf, 0/0 is nan.

``lambdify`` code raises ``ZeroDivisionError`` where a low working precision has rounded
``1 - s(800)`` to zero; this evaluator returns a non-finite value instead, so the caller
can raise the precision and try again. It walks each expression DAG iteratively with a
cache, so shared subexpressions are computed once.
"""

from __future__ import annotations

from functools import partial
from typing import Any
from collections.abc import Container, Mapping

import mpmath
import numpy as np
import sympy

__all__ = ["mp_eval", "mp_jvp", "mp_jvp_many", "jvp_walk", "diff_args", "walk", "Program",
           "magnitude", "LEAF", "LINEAR", "NODE"]

_NAN = None


def _nan():
    return mpmath.mpf("nan")


def _div(a, b):
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0 or mpmath.isnan(a):
            return _nan()
        return mpmath.mpf("inf") if a > 0 else mpmath.mpf("-inf")


def _pow(a, b):
    try:
        r = a ** b
    except ZeroDivisionError:
        return mpmath.mpf("inf")
    return r


def _real(v):
    if isinstance(v, mpmath.mpc):
        return v.real if v.imag == 0 else _nan()
    return v


def _heaviside(x, h0=None):
    h0 = mpmath.mpf(0.5) if h0 is None else h0
    if mpmath.isnan(x):
        return _nan()
    return mpmath.mpf(1) if x > 0 else (mpmath.mpf(0) if x < 0 else h0)


def _dirac(x, k=None):
    """DiracDelta (or its k-th derivative) at real x: 0 away from 0, undefined at 0 (the
    second derivative of a kink such as max(x, 0))."""
    if mpmath.isnan(x) or x == 0:
        return _nan()
    return mpmath.mpf(0)


def _sign(x):
    if mpmath.isnan(x):
        return _nan()
    return mpmath.mpf(mpmath.sign(x))


_FUNCS: dict[Any, Any] = {}


def _funcs() -> dict:
    if not _FUNCS:
        F = sympy.functions
        _FUNCS.update({
            sympy.exp: mpmath.exp, sympy.log: lambda x: _real(mpmath.log(x)) if x != 0 else
            mpmath.mpf("-inf"), sympy.sin: mpmath.sin, sympy.cos: mpmath.cos,
            sympy.tan: mpmath.tan, sympy.tanh: mpmath.tanh, sympy.sinh: mpmath.sinh,
            sympy.cosh: mpmath.cosh, sympy.atan: mpmath.atan,
            sympy.asin: lambda x: _real(mpmath.asin(x)),
            sympy.acos: lambda x: _real(mpmath.acos(x)), sympy.erf: mpmath.erf,
            sympy.Abs: abs, sympy.sign: _sign, sympy.floor: mpmath.floor,
            sympy.ceiling: mpmath.ceil, sympy.atan2: mpmath.atan2,
            F.Heaviside: _heaviside, sympy.erfc: mpmath.erfc, sympy.DiracDelta: _dirac,
            sympy.sqrt: lambda x: _real(mpmath.sqrt(x)),
            sympy.lowergamma: lambda a, x: mpmath.gammainc(a, 0, x),
            sympy.uppergamma: lambda a, x: mpmath.gammainc(a, x),
        })
    return _FUNCS


def _product(vals: list) -> Any:
    r = None
    for v in vals:
        if isinstance(v, bool):
            v = mpmath.mpf(v)
        if r is not None:
            r = r * v
        else:   # 1 * v is v rounded to the working precision, as +v is for an mpf
            r = +v if type(v) is _MPF else mpmath.mpf(1) * v
    return mpmath.mpf(1) if r is None else r


def _power(vals: list) -> Any:
    b, x = vals
    if x == -1:
        return _div(mpmath.mpf(1), b)
    return _real(_pow(b, x))


def _reciprocal(vals: list) -> Any:
    return _div(mpmath.mpf(1), vals[0])


def _raise(vals: list) -> Any:
    return _real(_pow(vals[0], vals[1]))


def _apply(e: sympy.Basic, vals: list) -> Any:
    if e.is_Add:
        return mpmath.fsum(vals)
    if e.is_Mul:
        return _product(vals)
    if e.is_Pow:
        return _power(vals)
    if isinstance(e, (sympy.Max, sympy.Min)):
        if any(mpmath.isnan(v) for v in vals):
            return _nan()
        return max(vals) if isinstance(e, sympy.Max) else min(vals)
    if isinstance(e, sympy.Piecewise):
        return _piecewise(e, vals)
    if isinstance(e, sympy.Mod):
        a, b = vals
        return a - b * mpmath.floor(_div(a, b))
    if e.is_Relational:
        a, b = vals
        if mpmath.isnan(a) or mpmath.isnan(b):
            return isinstance(e, sympy.Ne)
        return {sympy.StrictGreaterThan: a > b, sympy.GreaterThan: a >= b,
                sympy.StrictLessThan: a < b, sympy.LessThan: a <= b, sympy.Eq: a == b,
                sympy.Ne: a != b}[type(e)]
    if isinstance(e, sympy.And):
        return all(vals)
    if isinstance(e, sympy.Or):
        return any(vals)
    if isinstance(e, sympy.Not):
        return not vals[0]
    if isinstance(e, sympy.ITE):   # SymPy's merge of nested Piecewise conditions
        return vals[1] if vals[0] else vals[2]
    if isinstance(e, sympy.Xor):
        return sum(bool(v) for v in vals) % 2 == 1
    if isinstance(e, sympy.functions.Heaviside):
        return _heaviside(*vals)
    fn = _funcs().get(e.func)
    if fn is None:
        mp_fn = getattr(mpmath, e.func.__name__.lower(), None)
        if mp_fn is None:
            raise NotImplementedError(f"cannot evaluate {e.func.__name__} in mpmath")
        fn = mp_fn
    try:
        return _real(fn(*vals))
    except ZeroDivisionError:
        return _nan()
    except ValueError:
        return _nan()


def _evaluator(e: sympy.Basic) -> Any:
    """``_apply(e, vals)`` as a function of ``vals`` alone, its dispatch on ``e``'s head
    done once (a Program runs each node at every precision, and a head's partials at
    every node with that head)."""
    if e.is_Add:
        return mpmath.fsum
    if e.is_Mul:
        return _product
    if e.is_Pow:
        x = e.exp
        if x.is_Rational:   # an exact constant: _power's test at each run is known now
            return _reciprocal if x == -1 else _raise
        return _power
    return partial(_apply, e)


def _piecewise(e: sympy.Piecewise, vals: list) -> Any:
    # vals alternates expression value, condition value
    for k in range(0, len(vals), 2):
        if vals[k + 1]:
            return vals[k]
    return _nan()


def _leaf(e: sympy.Basic, point: Mapping) -> Any:
    if e.is_Symbol:
        try:
            return point[e]
        except KeyError:
            raise ValueError(f"no value for symbol {e} at this point") from None
    if e.is_Rational:  # first: ``Rational == true`` below sympifies its other side (slow)
        return _div(mpmath.mpf(e.p), mpmath.mpf(e.q))
    if e is sympy.true or e == sympy.true:
        return True
    if e is sympy.false or e == sympy.false:
        return False
    if e.is_Float:
        return mpmath.mpf(e._mpf_)
    if e is sympy.nan:
        return _nan()
    if e == sympy.oo:
        return mpmath.mpf("inf")
    if e == -sympy.oo:
        return mpmath.mpf("-inf")
    if e is sympy.zoo:
        return _nan()
    if e is sympy.pi:
        return +mpmath.pi
    if e is sympy.E:
        return mpmath.e + 0
    if e.is_NumberSymbol:
        return mpmath.mpf(e.evalf(mpmath.mp.dps))
    return None


_MPF = type(mpmath.mpf(0))


def magnitude(a: Any):
    """Largest finite absolute entry of a value (0 if none)."""
    arr = np.asarray(a, dtype=object).reshape(-1)
    best = mpmath.mpf(0)
    # A nonzero finite mpf is m * 2^e with m of bc bits: |v| lies in [2^(e+bc-1), 2^(e+bc)),
    # so only the entries with the largest e + bc can be the largest; abs() is taken of
    # those alone. (0, inf and nan have mantissa 0.)
    top, lead = None, []
    for v in arr.tolist():
        if type(v) is _MPF:
            _, man, exp, bc = v._mpf_
            if not man:
                continue
            key = exp + bc
            if top is None or key > top:
                top, lead = key, [v]
            elif key == top:
                lead.append(v)
            continue
        if isinstance(v, (bool, np.bool_)):
            continue
        try:
            if mpmath.isfinite(v) and abs(v) > best:
                best = abs(v)
        except (TypeError, ValueError):
            continue
    for v in lead:
        if abs(v) > best:
            best = abs(v)
    return best


#: What ``walk`` yields a node as.
LEAF, LINEAR, NODE = "leaf", "linear", "node"


def walk(roots: list, done: Container, args_of=lambda e: e.args):
    """Each node of the expression DAGs of ``roots`` once, its arguments first, as
    ``(kind, node, extra)``: LEAF (no arguments: a symbol or a number), LINEAR (a long sum
    of coefficient*symbol terms, see ``_linear_terms``; extra is its terms, which are not
    visited) or NODE (extra is its arguments, as ``args_of`` gives them). Iterative, so
    deep expressions need no recursion. The caller enters each node in ``done`` before
    asking for the next."""
    for root in roots:
        stack: list[tuple[sympy.Basic, Any]] = [(root, None)]
        while stack:
            e, args = stack.pop()
            if e in done:
                continue
            if args is not None:
                yield NODE, e, args
                continue
            if not e.args or e.is_Symbol or e.is_Number:
                yield LEAF, e, None
                continue
            if e.is_Add:
                terms = _linear_terms(e)
                if terms is not None:
                    yield LINEAR, e, terms
                    continue
            args = list(args_of(e))
            stack.append((e, args))
            stack.extend((a, None) for a in args if a not in done)


def _eval_args(e: sympy.Basic) -> list:
    """What a node's value is computed from (a Piecewise's conditions too)."""
    if isinstance(e, sympy.Piecewise):
        return [a for pair in e.args for a in pair]
    return e.args


def mp_eval(exprs: list, point: Mapping, cache: dict | None = None) -> list:
    """Values of ``exprs`` at ``point`` (symbol -> mpmath number), at the current precision."""
    cache = {} if cache is None else cache
    roots = [sympy.sympify(x) for x in exprs]
    for kind, e, extra in walk(roots, cache, _eval_args):
        if kind is NODE:
            cache[e] = _apply(e, [cache[a] for a in extra])
        elif kind is LINEAR:
            cache[e] = mpmath.fsum(_coefficient(c, cache) * _leaf(x, point) for c, x in extra)
        else:
            v = _leaf(e, point)
            if v is None:
                raise NotImplementedError(f"cannot evaluate {e!r}")
            cache[e] = v
    return [cache[r] for r in roots]


#: Sums with at least this many terms are checked for the linear-layer shape below.
_LINEAR_MIN = 16


def _linear_terms(e: sympy.Basic) -> list | None:
    """``[(c, s), ...]`` for a long sum of rational-times-symbol terms (a linear layer's
    output; c None for a bare symbol), else None. Such a sum is evaluated (and its
    derivative taken) in one step, without a cache entry and a stack visit per product."""
    args = e.args
    if len(args) < _LINEAR_MIN:
        return None
    out = []
    for t in args:
        if t.is_Symbol:
            out.append((None, t))
        elif t.is_Mul and len(t.args) == 2 and t.args[0].is_Rational and t.args[1].is_Symbol:
            out.append(t.args)
        else:
            return None
    return out


def _coefficient(c: Any, cache: dict) -> Any:
    """The value of a rational coefficient (1 for None), converted once per cache."""
    if c is None:
        return 1
    v = cache.get(c)
    if v is None:
        v = cache[c] = _leaf(c, {})
    return v


_DUMMIES: list = []
_PLACE: dict = {}    # dummy -> the argument position it stands for
_LOCAL: dict = {}


def _dummy(k: int) -> sympy.Dummy:
    while len(_DUMMIES) <= k:
        d = sympy.Dummy(f"a{len(_DUMMIES)}", real=True)
        _PLACE[d] = len(_DUMMIES)
        _DUMMIES.append(d)
    return _DUMMIES[k]


class Program:
    """Fixed expressions compiled to straight-line steps, to be evaluated many times: at
    each working precision of ``stable_eval``, or (a head's partial derivatives) at every
    node with that head. ``mp_eval``'s sympify, walk and cache lookups are paid once, at
    compile time. Each step runs ``_apply``, ``_leaf`` or a linear sum's ``fsum`` as
    ``mp_eval`` does, so the values are the same bit for bit; ``dots`` runs forward mode
    over the same steps (``jvp_walk`` and ``mp_jvp`` are built on it)."""

    __slots__ = ("exprs", "steps", "outs", "consts", "size", "moves", "nodes", "heads",
                 "partials", "symbols", "ring")

    # step kinds: a node, a dummy's argument, a symbol of the point, a constant, a long
    # linear sum (extra: (coefficient slot or None, symbol slot) per term). The loops in
    # run and dots compare the numbers themselves: an attribute lookup per step costs.
    NODE, ARG, SYMBOL, CONST, LINEAR = range(5)

    def __init__(self, exprs: list) -> None:
        self.exprs = [sympy.sympify(x) for x in exprs]
        slot: dict = {}
        steps: list = []
        for kind, e, extra in walk(self.exprs, slot, _eval_args):
            if kind is LINEAR:   # its terms are not visited: their leaves become steps
                terms = []
                for c, x in extra:
                    for leaf in (c, x):
                        if leaf is not None and leaf not in slot:
                            steps.append(self._leaf_step(leaf, slot))
                    terms.append((None if c is None else slot[c], slot[x]))
                steps.append((self.LINEAR, e, terms))
            elif kind is NODE:   # (its expression is nodes[k]; the step holds its evaluator)
                steps.append((self.NODE, _evaluator(e), [slot[a] for a in extra]))
            else:
                steps.append(self._leaf_step(e, slot))
                continue
            slot[e] = len(slot)
        self.steps = steps
        self.nodes = list(slot)   # the expression of each step (slots are in step order)
        self.outs = [slot[x] for x in self.exprs]
        self.size = len(slot)
        self.consts: dict = {}   # precision -> the constants' values
        self.moves: list | None = None   # see _moving, on the first jvp
        self.heads: list | None = None   # per step, a node's kind of chain rule (_head)
        self.partials: dict = {}   # (step, its moving arguments) -> _local_partials' Program
        self.symbols: list | None = None   # see free_symbols
        self.ring: list | bool | None = None   # see exactness._plan

    def _moving(self) -> list:
        """Per step: whether a derivative flows through it to an expression (``diff_args``:
        a node's arguments, a Piecewise's branches, nothing through a condition); 2 marks a
        node whose own arguments carry it."""
        moves = [0] * self.size
        self.heads = [_head(e) if kind == self.NODE else None
                      for (kind, _, _), e in zip(self.steps, self.nodes)]
        for j in self.outs:
            moves[j] = 1
        for j in range(self.size - 1, -1, -1):
            kind, _, extra = self.steps[j]
            if not moves[j] or kind != self.NODE:
                continue
            e = self.nodes[j]
            if e.is_Relational or isinstance(e, sympy.logic.boolalg.Boolean):
                continue   # a condition: no derivative
            moves[j] = 2
            for a in (extra[0::2] if isinstance(e, sympy.Piecewise) else extra):
                moves[a] = moves[a] or 1
        return moves

    def free_symbols(self) -> list:
        """Per expression, its free symbols (``expr.free_symbols``), from the compiled steps
        in one pass: SymPy's own recursion, repeated for each of a large Jacobian's
        entries, costs more. A node's set is its arguments' (a Piecewise's conditions
        included, as in SymPy)."""
        if self.symbols is None:
            empty: frozenset = frozenset()
            sets: list = [empty] * self.size
            for j, (kind, e, extra) in enumerate(self.steps):
                if kind == self.SYMBOL:
                    sets[j] = frozenset((e,))
                elif kind == self.ARG:
                    sets[j] = frozenset((self.nodes[j],))
                elif kind == self.NODE:
                    live = [sets[a] for a in extra if sets[a]]
                    sets[j] = live[0] if len(live) == 1 else frozenset().union(*live)
                elif kind == self.LINEAR:
                    sets[j] = frozenset(self.steps[x][1] for _, x in extra)
            self.symbols = [sets[j] for j in self.outs]
        return self.symbols

    def _leaf_step(self, e: sympy.Basic, slot: dict) -> tuple:
        k = len(slot)
        slot[e] = k
        if e in _PLACE:
            return (self.ARG, _PLACE[e], None)   # an argument's value
        if e.is_Symbol:
            return (self.SYMBOL, e, None)
        return (self.CONST, e, k)

    def run(self, point: Mapping, args: tuple = (), vals: Any = None) -> list:
        """Every step's value at the current precision (dummy ``a<k>`` at ``vals[args[k]]``)."""
        prec = mpmath.mp.prec
        consts = self.consts.get(prec)
        if consts is None:
            consts = self.consts[prec] = {}
        reg: list = [None] * self.size
        fsum = mpmath.fsum
        k = 0
        for kind, e, extra in self.steps:
            if kind == 0:   # (e: the node's evaluator)
                v = e([reg[j] for j in extra])
            elif kind == 4:
                v = fsum((1 if c is None else reg[c]) * reg[x] for c, x in extra)
            elif kind == 1:
                v = vals[args[e]]
            elif kind == 3:
                v = consts.get(extra)
                if v is None:
                    v = _leaf(e, point)
                    if v is None:
                        raise NotImplementedError(f"cannot evaluate {e!r}")
                    consts[extra] = v
            else:
                v = _leaf(e, point)
            reg[k] = v
            k += 1
        return reg

    def __call__(self, args: tuple, vals: Any, point: Mapping) -> list:
        """The expressions' values with each dummy ``a<k>`` at ``vals[args[k]]``."""
        reg = self.run(point, args, vals)
        return [reg[j] for j in self.outs]

    def jvp(self, reg: list, point: Mapping, tangents: list[Mapping]) -> list:
        """Forward mode: per expression, its derivative along each tangent (a list; None
        where it is constant), from ``reg = self.run(point)``."""
        dots = self.dots(reg, point, tangents)
        return [dots[j] for j in self.outs]

    def dots(self, reg: list, point: Mapping, tangents: list[Mapping]) -> list:
        """Every step's derivative along each tangent (None where it is constant, or where
        no derivative flows: a condition, a long linear sum's terms).

        Each node's derivative is the chain rule over its arguments, with the node's own
        partial derivatives from ``sympy.diff`` of its head (``_local_partials``; sums and
        products by the sum and product rules): what ``sympy.diff`` of the whole expression
        gives, without rebuilding (and re-simplifying) it."""
        k = len(tangents)
        zero = mpmath.mpf(0)
        fsum = mpmath.fsum
        dots: list = [None] * self.size
        if self.moves is None:
            self.moves = self._moving()
        moves = self.moves
        j = -1
        for kind, e, extra in self.steps:
            j += 1
            if not moves[j]:
                continue
            if kind == 2:
                t = [tg.get(e) for tg in tangents]
                if any(x is not None for x in t):
                    dots[j] = [zero if x is None else x for x in t]
            elif kind == 4:
                moving = [(c, x, self.steps[x][1]) for c, x in extra
                          if any(self.steps[x][1] in tg for tg in tangents)]
                if moving:
                    dots[j] = [fsum((1 if c is None else reg[c]) * tg.get(s, zero)
                                    for c, _, s in moving) for tg in tangents]
            elif moves[j] == 2:
                dots[j] = self._jvp_node(j, extra, reg, dots, point, k)
        return dots

    def _jvp_node(self, j: int, slots: list, reg: list, dots: list, point: Mapping,
                  k: int) -> Any:
        """Node ``j``'s derivative along each tangent, from its arguments' (by slot)."""
        head = self.heads[j]
        if head is _PIECEWISE:   # slots: expression, condition, ...
            for a in range(0, len(slots), 2):
                if reg[slots[a + 1]]:
                    return dots[slots[a]]
            return [_nan()] * k
        active = [a for a, s in enumerate(slots) if dots[s] is not None]
        if not active:
            return None
        fsum = mpmath.fsum
        if head is _ADD:
            if len(active) == 1:
                return [_sum1(x) for x in dots[slots[active[0]]]]
            ds = [dots[slots[a]] for a in active]
            return [fsum(d[i] for d in ds) for i in range(k)]
        if head is _MUL:
            terms = []
            for a in active:
                c = None
                for b, s in enumerate(slots):
                    if b != a:
                        c = reg[s] if c is None else c * reg[s]
                terms.append((c, dots[slots[a]]))
            if len(terms) == 1:
                c, d = terms[0]
                return [_sum1(x if c is None else x * c) for x in d]
            return [fsum(d[i] if c is None else d[i] * c for c, d in terms)
                    for i in range(k)]
        if head is _POWER:   # b**n, n a constant integer: only b moves
            p = _power_partial(reg[slots[0]], self.nodes[j].exp.p)
            return [_sum1(p * x) for x in dots[slots[0]]]
        key = (j, tuple(active))
        program = self.partials.get(key)
        if program is None:
            program = self.partials[key] = _local_partials(self.nodes[j], active)[1]
        pv = program(slots, reg, point)
        if len(active) == 1:
            p = pv[0]
            return [_sum1(p * x) for x in dots[slots[active[0]]]]
        ds = [dots[slots[a]] for a in active]
        return [fsum(p * d[i] for p, d in zip(pv, ds)) for i in range(k)]


_PIECEWISE, _ADD, _MUL, _POWER, _OTHER = range(5)


def _head(e: sympy.Basic) -> int:
    if isinstance(e, sympy.Piecewise):
        return _PIECEWISE
    if e.is_Pow and e.exp.is_Integer:
        return _POWER
    return _ADD if e.is_Add else _MUL if e.is_Mul else _OTHER


def _power_partial(b: Any, n: int) -> Any:
    """d(b**n)/db for an integer constant n, computed as the compiled ``sympy.diff`` of the
    head would compute it (``2*b`` for n = 2, else ``n*b**(n - 1)``: the same roundings, so
    the same bits) without running a Program per node: squares and reciprocals are most of
    a polynomial mirror's heads."""
    c = mpmath.mpf(n)   # (what _leaf gives for the constant: mpf(n) / mpf(1))
    if n == 2:
        return _product([c, b])
    return _product([c, _raise([b, mpmath.mpf(n - 1)])])


def _sum1(x: Any) -> Any:
    """``mpmath.fsum([x])``: ``x`` rounded to the working precision (an mpf product or
    sum already is, and ``+x`` rounds as fsum does)."""
    return +x if type(x) is _MPF else mpmath.fsum((x,))


def _local_partials(e: sympy.Basic, active: list) -> tuple:
    """``sympy.diff`` of ``e``'s head with respect to its active arguments: ``e.func`` applied
    to fresh real dummies in the active places (the other arguments kept as they are),
    differentiated by each dummy; and those derivatives as one ``Program``. Cached per
    head, so each distinct op is derived (and compiled) once."""
    args = e.args
    # keyed by the head and its inactive arguments: the template is built on a miss only
    key = (e.func, tuple(None if k in active else a for k, a in enumerate(args)),
           tuple(active))
    got = _LOCAL.get(key)
    if got is None:
        template = e.func(*[_dummy(k) if k in active else a for k, a in enumerate(args)])
        partials = tuple(sympy.diff(template, _dummy(k)) for k in active)
        if len(_LOCAL) > 4096:
            _LOCAL.clear()
        got = _LOCAL[key] = (partials, Program(list(partials)))
    return got


def mp_jvp(exprs: list, point: Mapping, tangent: Mapping, vals: dict | None = None) -> list:
    """Directional derivatives of ``exprs`` at ``point`` along ``tangent`` (symbol -> mpmath
    component; absent symbols do not move), at the current precision.

    Forward mode over the expression DAG: each node's derivative is the chain rule over its
    arguments, with the node's own partial derivatives from ``sympy.diff`` of its head (sums
    and products by the sum and product rules). The same function ``sympy.diff`` of the whole
    substituted expression gives, without rebuilding (and re-simplifying) the expression.
    ``vals``: an ``mp_eval`` cache of values at this point and precision, reused (and filled).
    """
    return [r[0] for r in mp_jvp_many(exprs, point, [tangent], vals)]


def mp_jvp_many(exprs: list, point: Mapping, tangents: list[Mapping],
                vals: dict | None = None) -> list[list]:
    """``mp_jvp`` along several tangents in one walk of the DAG (per expression, one value
    per tangent): the values and local partials, the costly part, are shared."""
    exprs = [sympy.sympify(x) for x in exprs]
    dcache = jvp_walk(exprs, point, tangents, vals)
    zero = mpmath.mpf(0)
    return [[zero] * len(tangents) if dcache[root] is None else dcache[root] for root in exprs]


def jvp_walk(exprs: list, point: Mapping, tangents: list[Mapping],
             vals: dict | None = None) -> dict:
    """Forward mode over the DAG of ``exprs`` (SymPy expressions): every node's derivative
    along each tangent (a list, one value per tangent; None where it is constant), the
    terms of a long linear sum aside. ``vals`` is filled with the nodes' values."""
    program = Program(exprs)
    reg = program.run(point)
    if vals is not None:
        vals.update(zip(program.nodes, reg))
    return dict(zip(program.nodes, program.dots(reg, point, tangents)))


def diff_args(e: sympy.Basic) -> list:
    """The arguments a derivative flows through: none for a condition, a Piecewise's
    branches but not its conditions."""
    if e.is_Relational or isinstance(e, sympy.logic.boolalg.Boolean):
        return []
    if isinstance(e, sympy.Piecewise):
        return [ec.expr for ec in e.args]
    return list(e.args)


