"""Whether a run of a compiled ``Program`` rounded anywhere.

``stable_eval`` runs a computation at two working precisions and keeps the result once
both agree, so that cancellation never passes unnoticed. A run that rounded nowhere needs
no second one: its values are the exact ones, which every higher precision reproduces bit
for bit. Polynomial mirrors (linear layers, squares, products) at a float64 point give such
runs: their inputs are dyadic rationals (m * 2^e, as every float is), and sums and products
of those are dyadic too, computed exactly while they fit the working precision.

Each check bounds the bits a step's exact result needs from its arguments' values, which
are exact by induction over the steps. A head that may round (a transcendental function, a
division, a constant such as 1/3) makes the whole run count as inexact.

A value's *span* is ``(lo, hi)``: it is an integer times ``2^lo`` and less than ``2^hi`` in
magnitude, so ``hi - lo`` bits hold it exactly; 0 has the empty span ``()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import mpmath
import sympy

from symgrad.symbolic import mpeval

__all__ = ["dyadic_bits", "all_dyadic", "values_exact", "dots_exact"]

_MPF = type(mpmath.mpf(0))
_NODE, _SYMBOL, _CONST, _LINEAR = (mpeval.Program.NODE, mpeval.Program.SYMBOL,
                                   mpeval.Program.CONST, mpeval.Program.LINEAR)
_ADD, _MUL, _POW = "+", "*", "^"


def dyadic_bits(x: Any) -> int | None:
    """The significant bits of ``x`` if it is a dyadic rational (an integer times a power
    of two), else None. Converted at a precision of at least that many bits, it is exact."""
    if isinstance(x, sympy.Basic):
        if not x.is_Rational:
            return None
        p, q = int(x.p), int(x.q)
    elif isinstance(x, int):   # (bool included)
        p, q = int(x), 1
    else:
        return None
    if q & (q - 1):
        return None
    p = abs(p)
    return (p >> ((p & -p).bit_length() - 1)).bit_length() if p else 0


def all_dyadic(values: Iterable, prec: int) -> bool:
    """Every value is dyadic with at most ``prec`` significant bits."""
    for v in values:
        bits = dyadic_bits(v)
        if bits is None or bits > prec:
            return False
    return True


def _span(v: Any) -> tuple | None:
    """An mpf's span; None for inf, nan or anything but an mpf."""
    if type(v) is not _MPF:
        return None
    _, man, exp, bc = v._mpf_
    if man:
        return exp, exp + bc
    return None if exp else ()


def _plan(program: mpeval.Program) -> list | None:
    """Per step, what the checks need to know of it; None if some head may round. Built
    once per Program."""
    if program.ring is None:
        plan: list | None = []
        steps = program.steps
        for kind, e, extra in steps:
            if kind == _NODE:   # (e: the node's evaluator, which names its head)
                if e is mpmath.fsum:
                    plan.append((_ADD, extra))
                elif e is mpeval._product:
                    plan.append((_MUL, extra))
                elif e is mpeval._raise or e is mpeval._reciprocal:
                    n = -1 if e is mpeval._reciprocal else steps[extra[1]][1]
                    if n == -1 or n.is_Integer:
                        n = int(n)
                        plan.append((_POW, extra[0], n, _int_span(n)))
                    else:
                        plan = None
                else:
                    plan = None
            elif kind == _LINEAR:
                plan.append((_LINEAR, extra))
            elif kind == _SYMBOL:
                plan.append((_SYMBOL, e))
            elif kind == _CONST and (bits := dyadic_bits(e)) is not None:
                plan.append((_CONST, bits))
            else:   # a non-dyadic constant, or a dummy (partial-derivative Programs only)
                plan = None
            if plan is None:
                break
        program.ring = plan if plan is not None else False
    return program.ring or None


def _int_span(n: int) -> tuple:
    """The span of a nonzero integer."""
    tz = (n & -n).bit_length() - 1
    return tz, abs(n).bit_length()


def _sum_fits(spans: Iterable, prec: int) -> bool:
    """The exact sum of terms with these spans fits ``prec`` bits (mpmath's fsum adds
    exactly, then rounds once)."""
    lo = hi = None
    n = 0
    for s in spans:
        if s is None:
            return False
        if s:
            n += 1
            if lo is None or s[0] < lo:
                lo = s[0]
            if hi is None or s[1] > hi:
                hi = s[1]
    return not n or hi + (n - 1).bit_length() - lo <= prec


def _product(spans: Iterable) -> tuple | None:
    """The span of a product: each partial product needs no more bits than the whole."""
    lo = hi = 0
    zero = False
    for s in spans:
        if s is None:
            return None
        if not s:
            zero = True
        else:
            lo, hi = lo + s[0], hi + s[1]
    return () if zero else (lo, hi)


def _power(b: tuple | None, n: int) -> tuple | None:
    """The span of ``b**n`` (n an integer); None where it is not dyadic (1/b for a b that is
    not a power of two, 1/0)."""
    if b is None:
        return None
    if not b:
        return () if n > 0 else None
    if b[1] - b[0] == 1:   # a power of two: so is any integer power of it
        return b[0] * n, b[0] * n + 1
    return (b[0] * n, b[1] * n) if n > 0 else None


def _fits(s: tuple | None, prec: int) -> bool:
    return s is not None and (not s or s[1] - s[0] <= prec)


def value_spans(program: mpeval.Program, reg: list, point: Mapping, prec: int
                ) -> list | None:
    """Every step's span if ``reg = program.run(...)`` at ``prec`` bits, its symbols
    converted from the SymPy values of ``point``, rounded nowhere; else None."""
    plan = _plan(program)
    if plan is None:
        return None
    spans: list = [None] * program.size
    for j, step in enumerate(plan):
        op = step[0]
        if op == _MUL:
            ok = _fits(_product(spans[a] for a in step[1]), prec)
        elif op == _ADD:
            ok = _sum_fits((spans[a] for a in step[1]), prec)
        elif op == _POW:
            ok = _fits(_power(spans[step[1]], step[2]), prec)
        elif op == _SYMBOL:
            bits = dyadic_bits(point.get(step[1]))
            ok = bits is not None and bits <= prec
        elif op == _CONST:
            ok = step[1] <= prec
        else:
            ok = _sum_fits((_product((spans[x],) if c is None else (spans[c], spans[x]))
                            for c, x in step[1]), prec)
        s = spans[j] = _span(reg[j])
        if not ok or s is None:
            return None
    return spans


def values_exact(program: mpeval.Program, reg: list, point: Mapping, prec: int) -> bool:
    """Whether ``reg = program.run(...)`` rounded nowhere (see ``value_spans``)."""
    return value_spans(program, reg, point, prec) is not None


def dots_exact(program: mpeval.Program, spans: list, dots: list, tangents: list,
               prec: int) -> bool:
    """Whether ``dots = program.dots(reg, point, tangents)`` rounded nowhere, given the
    spans of ``reg`` (``value_spans``: it rounded nowhere) and that the tangents' mpmath
    components were converted exactly (``all_dyadic`` of their sources)."""
    plan = _plan(program)
    if plan is None:
        return False
    for j, step in enumerate(plan):
        d = dots[j]
        if d is None or step[0] == _SYMBOL:   # a symbol's: the tangents' own components
            continue
        op, slots = step[0], step[1]
        for i, t in enumerate(tangents):
            if op == _ADD:
                terms = [_span(dots[a][i]) for a in slots if dots[a] is not None]
            elif op == _MUL:   # per moving argument: the others' values times its derivative
                factors = [spans[a] for a in slots]
                terms = [_product([f for m, f in enumerate(factors) if m != k]
                                  + [_span(dots[a][i])])
                         for k, a in enumerate(slots) if dots[a] is not None]
            elif op == _POW:   # n * b**(n - 1), times b's derivative; the constants
                # n and n - 1 are converted at this precision too (mpf(n - 1) may round)
                n = step[2]
                if max(abs(n), abs(n - 1)).bit_length() > prec:
                    return False
                terms = [_product((step[3], _power(spans[slots], n - 1),
                                   _span(dots[slots][i])))]
            else:
                zero: tuple = ()
                terms = [_product((_span(t[program.steps[x][1]]) if program.steps[x][1] in t
                                   else zero,) + (() if c is None else (spans[c],)))
                         for c, x in slots]
            if not all(_fits(s, prec) for s in terms) or not _sum_fits(terms, prec):
                return False
    return True
