"""Showing closed forms: LaTeX for notebooks, compact text for reports."""

from __future__ import annotations

import numpy as np
import sympy
from sympy.printing.str import StrPrinter

from symgrad.tensor import Tensor

__all__ = ["latex_tensor", "short", "readable"]


def latex_tensor(t: Tensor) -> str:
    """A symbolic tensor as LaTeX (a matrix for 1-d and 2-d tensors)."""
    a = t._data
    if a.ndim == 0:
        return f"${sympy.latex(a[()])}$"
    if a.ndim <= 2:
        return f"${sympy.latex(sympy.Matrix(np.atleast_2d(a).tolist()))}$"
    return f"${sympy.latex(sympy.Array(a.tolist()))}$"


#: Above this many nodes, ``readable`` rebuilds the expression without SymPy evaluating
#: it again (a cross-entropy's derivative re-evaluated every tanh for a second).
_REBUILD_LAZILY = 400


def readable(expr):
    """``expr`` with long exact rationals (float64 constants) shown as 6-digit decimals."""
    if not isinstance(expr, sympy.Basic):
        return expr
    ugly = {r: sympy.Float(r, 6) for r in expr.atoms(sympy.Rational) if abs(r.q) > 1000}
    if not ugly:
        return expr
    if _larger_than(expr, _REBUILD_LAZILY):
        with sympy.evaluate(False):
            return expr.xreplace(ugly)
    return expr.xreplace(ugly)


def _larger_than(expr, n: int) -> bool:
    stack = [expr]
    while stack:
        n -= 1
        if n < 0:
            return True
        stack.extend(stack.pop().args)
    return False


def short(expr, width: int = 60) -> str:
    """One line of ``expr`` (SymPy's text, constants readable), cut to ``width`` characters.

    A large expression is printed only as far as it can show: the printer gives up after a
    few nodes per character of ``width`` (SymPy prints in reading order, so what is cut
    lies beyond the end of the line), which keeps a cross-entropy's derivative from
    costing a second to show 100 characters of it."""
    e = readable(expr)
    if isinstance(e, sympy.Basic) and _larger_than(e, 4 * width):
        text = _Cut(4 * width).doprint(e)
    else:
        text = str(e)
    s = " ".join(text.split())
    return s if len(s) <= width else s[: width - 3] + "..."


class _Cut(StrPrinter):
    """SymPy's text printer that prints "..." in place of everything after ``nodes`` nodes."""

    def __init__(self, nodes: int) -> None:
        super().__init__()
        self._left = nodes

    def _print(self, expr, **kwargs) -> str:
        self._left -= 1
        if self._left < 0:
            return "..."
        return super()._print(expr, **kwargs)
