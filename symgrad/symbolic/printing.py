"""Showing closed forms: LaTeX for notebooks, compact text for reports."""

from __future__ import annotations

import numpy as np
import sympy

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


def readable(expr):
    """``expr`` with long exact rationals (float64 constants) shown as 6-digit decimals."""
    if not isinstance(expr, sympy.Basic):
        return expr
    ugly = {r: sympy.Float(r, 6) for r in expr.atoms(sympy.Rational) if abs(r.q) > 1000}
    return expr.xreplace(ugly) if ugly else expr


def short(expr, width: int = 60) -> str:
    """One line of ``expr`` (SymPy's text, constants readable), cut to ``width`` characters."""
    s = " ".join(str(readable(expr)).split())
    return s if len(s) <= width else s[: width - 3] + "..."
