"""Reverse mode over a SymPy expression DAG in mpmath: gradients and Hessian-vector products.

The same chain rule as the forward-mode walk of ``mpeval`` (every node's partial
derivatives from ``sympy.diff`` of the node's head, sums and products by the sum and
product rules), run backwards: one sweep gives the derivative by every symbol, where
``sympy.diff`` of the whole expression walks it again per symbol. Carrying a tangent
along (forward over reverse) gives Hessian-vector products; second partials of a head
come from ``sympy.diff`` of it twice.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping

import mpmath
import sympy

from symgrad.symbolic.mpeval import (LEAF, LINEAR, Program, _coefficient, _dummy,
                                     _linear_terms, _local_partials, _nan, diff_args,
                                     jvp_walk, mp_eval, walk)

__all__ = ["mp_vjp", "mp_hvp"]


def _reverse_order(exprs: list, wanted: set) -> tuple[dict, list]:
    """Which nodes depend on a ``wanted`` symbol, and those inner nodes each after its
    arguments (a long linear sum's terms are not visited: the sum is one step)."""
    active: dict = {}
    order: list = []
    for kind, e, extra in walk(exprs, active, diff_args):
        if kind is LEAF:
            active[e] = e in wanted
            continue
        if kind is LINEAR:
            for _, x in extra:
                active[x] = x in wanted
            active[e] = any(active[x] for _, x in extra)
        else:   # a condition has no arguments here: inactive
            active[e] = any(active[a] for a in extra)
        if active[e]:
            order.append(e)
    return active, order


def mp_vjp(exprs: list, weights: list, point: Mapping, wrt: list,
           vals: dict | None = None) -> list:
    """The gradient of ``sum_i weights[i] * exprs[i]`` with respect to each symbol of
    ``wrt``, at ``point``, at the current precision."""
    parts, _ = _sweep(exprs, weights, point, wrt, [], vals)
    zero = mpmath.mpf(0)
    return [mpmath.fsum(parts[s]) if s in parts else zero for s in wrt]


def mp_hvp(exprs: list, weights: list, point: Mapping, wrt: list, tangents: list[Mapping],
           vals: dict | None = None) -> list[list]:
    """``H t`` restricted to ``wrt``, for each tangent ``t`` (symbol -> component), with
    ``H`` the Hessian of ``sum_i weights[i] * exprs[i]`` at ``point``: per tangent, one
    value per symbol of ``wrt``. Forward over reverse: each adjoint carries its derivative
    along every tangent, which picks up the heads' second partials."""
    _, tparts = _sweep(exprs, weights, point, wrt, tangents, vals)
    zero = mpmath.mpf(0)
    return [[mpmath.fsum(tparts[s][t]) if s in tparts else zero for s in wrt]
            for t in range(len(tangents))]


def _sweep(exprs: list, weights: list, point: Mapping, wrt: list, tangents: list[Mapping],
           vals: dict | None) -> tuple[dict, dict]:
    """The reverse sweep: per symbol, the contributions to its adjoint and (with
    tangents) to the adjoint's derivative along each tangent."""
    exprs = [sympy.sympify(x) for x in exprs]
    vals = {} if vals is None else vals
    if tangents:
        dots = jvp_walk(exprs, point, tangents, vals)
    else:
        mp_eval(exprs, point, vals)
        dots = {}
    active, order = _reverse_order(exprs, set(wrt))
    k = len(tangents)
    parts: dict = {}     # node -> contributions to its adjoint
    tparts: dict = {}    # node -> per tangent, contributions to the adjoint's derivative
    for root, w in zip(exprs, weights):
        if active.get(root):
            parts.setdefault(root, []).append(w)
    for e in reversed(order):
        contrib = parts.pop(e, None)
        if contrib is None:
            continue
        adj = mpmath.fsum(contrib)
        tc = tparts.pop(e, None)
        tadj = [mpmath.fsum(c) for c in tc] if tc is not None else None
        for arg, p, pdot in _partials(e, vals, dots, active, point, k):
            parts.setdefault(arg, []).append(adj * p)
            if tadj is None and pdot is None:
                continue
            slots = tparts.setdefault(arg, [[] for _ in range(k)])
            for t in range(k):
                if tadj is not None:
                    slots[t].append(tadj[t] * p)
                if pdot is not None:
                    slots[t].append(adj * pdot[t])
    return parts, tparts


def _partials(e: sympy.Basic, vals: dict, dots: dict, active: dict, point: Mapping,
              k: int) -> list:
    """(argument, partial derivative value, its derivative along each tangent or None) for
    the active arguments of ``e``."""
    if e.is_Add:   # partials are constants: 1, or a linear sum's coefficients
        terms = _linear_terms(e)
        if terms is not None:
            return [(x, _coefficient(c, vals), None) for c, x in terms if active.get(x)]
        one = mpmath.mpf(1)
        return [(a, one, None) for a in e.args if active[a]]
    if isinstance(e, sympy.Piecewise):   # the branch taken, unchanged
        for ec in e.args:
            if vals[ec.cond]:
                return [(ec.expr, mpmath.mpf(1), None)] if active[ec.expr] else []
        return [(ec.expr, _nan(), None) for ec in e.args if active[ec.expr]]
    args = e.args
    idx = [i for i, a in enumerate(args) if active[a]]
    moving = [j for j, a in enumerate(args) if dots.get(a) is not None]
    if e.is_Mul:
        out = []
        for i in idx:
            others = [j for j in moving if j != i]
            pdot = None
            if others:
                terms = [(dots[args[j]], _product(args, vals, (i, j))) for j in others]
                pdot = [mpmath.fsum(d[t] * c for d, c in terms) for t in range(k)]
            out.append((args[i], _product(args, vals, (i,)), pdot))
        return out
    program = _local_partials(e, idx)[1] if not moving else _local_second(e, idx, moving)
    pv = program(args, vals, point)
    out = []
    for n, i in enumerate(idx):
        pdot = None
        if moving:
            row = pv[len(idx) + n * len(moving): len(idx) + (n + 1) * len(moving)]
            pdot = [mpmath.fsum(h * dots[args[j]][t] for h, j in zip(row, moving))
                    for t in range(k)]
        out.append((args[i], pv[n], pdot))
    return out


def _product(args: tuple, vals: dict, skip: tuple) -> Any:
    p = mpmath.mpf(1)
    for b, arg in enumerate(args):
        if b not in skip:
            v = vals[arg]
            p = p * (mpmath.mpf(v) if isinstance(v, bool) else v)
    return p


_SECOND: dict = {}


def _local_second(e: sympy.Basic, idx: list, moving: list) -> Program:
    """``sympy.diff`` of ``e``'s head by each argument in ``idx`` (first partials), then of
    those by each argument in ``moving`` (second partials, row by row), on a template with
    dummies in those places, as one ``Program``; cached per head and constant arguments."""
    places = set(idx) | set(moving)
    key = (e.func, tuple(None if j in places else a for j, a in enumerate(e.args)),
           tuple(idx), tuple(moving))
    got = _SECOND.get(key)
    if got is None:
        template = e.func(*[_dummy(j) if j in places else a for j, a in enumerate(e.args)])
        firsts = tuple(sympy.diff(template, _dummy(i)) for i in idx)
        seconds = [sympy.diff(f, _dummy(j)) for f in firsts for j in moving]
        if len(_SECOND) > 4096:
            _SECOND.clear()
        got = _SECOND[key] = Program(list(firsts) + seconds)
    return got
