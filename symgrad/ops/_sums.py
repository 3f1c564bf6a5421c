"""Long SymPy sums of ``c*s`` terms, built in SymPy's canonical form without re-flattening.

A linear layer's mirror is a sum of thousands of products of an exact constant and a
symbol. SymPy's ``Mul`` and ``Add`` inspect every term on every construction, and a bias
add or a negation rebuilds the whole sum once more; at 200x100 that was most of
``check``'s time. When every term is a nonzero rational times a symbol and no symbol
repeats, the canonical result is known without that work: the same terms, in SymPy's own
order (``_addsort``, the sort ``Add`` ends with). Anything else takes SymPy's ordinary path.
Both paths give equal expressions (tested), so nothing downstream can tell them apart.
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy.core.add import _addsort

__all__ = ["times", "add_terms", "add", "neg", "power"]

_Rational = sympy.Rational
_Symbol = sympy.Symbol


def _is_coeff(c: Any) -> bool:
    return isinstance(c, _Rational)


def _is_symbol(s: Any) -> bool:
    return isinstance(s, _Symbol) and s.is_commutative


def _term(c: Any, s: Any) -> sympy.Expr:
    """``c*s`` for a rational ``c`` and a commutative symbol ``s``, as ``Mul`` builds it."""
    if c.p == 0:
        return sympy.S.Zero
    if c.p == 1 and c.q == 1:
        return s
    return sympy.Mul._from_args((c, s), True)


def times(a: Any, b: Any) -> Any:
    """``a * b``; a rational times a symbol (either way round) without ``Mul.flatten``."""
    if _is_coeff(a) and _is_symbol(b):
        return _term(a, b)
    if _is_symbol(a) and _is_coeff(b):
        return _term(b, a)
    return a * b


def _symbol_of(t: Any) -> Any:
    """The symbol of a canonical ``c*s`` term (or of ``s`` itself), else None."""
    if isinstance(t, _Symbol):
        return t if t.is_commutative else None
    if isinstance(t, sympy.Mul) and len(t.args) == 2:
        c, s = t.args
        if _is_coeff(c) and _is_symbol(s):
            return s
    return None


def _linear(terms: Any) -> bool:
    """Whether ``terms`` are all ``c*s`` with distinct symbols (zeros not allowed)."""
    seen = set()
    for t in terms:
        s = _symbol_of(t)
        if s is None or s in seen:
            return False
        seen.add(s)
    return True


def _build(terms: list) -> sympy.Expr:
    if not terms:
        return sympy.S.Zero
    if len(terms) == 1:
        return terms[0]
    _addsort(terms)
    return sympy.Add._from_args(terms, True)


def add_terms(terms: Any) -> sympy.Expr:
    """``sympy.Add(*terms)``, built directly when the nonzero terms are ``c*s`` with
    distinct symbols."""
    zero = sympy.S.Zero
    live = [t for t in terms if t is not zero and not (type(t) is int and t == 0)]
    if _linear(live):
        return _build(live)
    return sympy.Add(*terms)


def _terms_of(x: Any) -> tuple | None:
    """The terms of a linear sum (or of one term), else None."""
    if isinstance(x, sympy.Add):
        args = x.args
        return args if _symbol_of(args[0]) is not None and _linear(args) else None
    return (x,) if _symbol_of(x) is not None else None


def _offset(s: Any, c: Any) -> Any:
    """``s + c`` for a commutative symbol ``s`` and a nonzero rational ``c``, as ``Add``
    builds it (the coefficient first); None for other arguments."""
    if _is_symbol(s) and _is_coeff(c) and c.p:
        return sympy.Add._from_args((c, s), True)
    return None


def add(x: Any, y: Any) -> Any:
    """``x + y``; two linear sums without a common symbol are merged directly, and a
    symbol plus a constant (``x + 1``, the commonest elementwise offset) is built as
    ``Add`` would build it, without its flattening."""
    got = _offset(x, y)
    if got is None:
        got = _offset(y, x)
    if got is not None:
        return got
    tx = _terms_of(x) if isinstance(x, sympy.Basic) else None
    ty = _terms_of(y) if tx is not None and isinstance(y, sympy.Basic) else None
    if ty is not None and (len(tx) + len(ty) > 8):
        terms = list(tx) + list(ty)
        if _linear(terms):
            return _build(terms)
    return x + y


def neg(x: Any) -> Any:
    """``-x``; a linear sum is negated term by term directly."""
    tx = _terms_of(x) if isinstance(x, sympy.Basic) and len(x.args) > 8 else None
    if tx is None:
        return -x
    out = []
    for t in tx:
        if isinstance(t, _Symbol):
            out.append(sympy.Mul._from_args((sympy.S.NegativeOne, t), True))
        else:
            c, s = t.args
            out.append(_term(-c, s))
    return _build(out)


def _finite_linear(x: Any) -> bool:
    """Whether ``x`` is a sum of a rational constant and ``c*s`` terms of finite symbols:
    no power of it can simplify (it is not a number, and no term is infinite)."""
    for t in x.args:
        if isinstance(t, _Rational):
            continue
        s = _symbol_of(t)
        if s is None or s._assumptions.get("infinite") is not False:
            return False
    return True


def power(x: Any, e: Any) -> Any:
    """``x ** e``; an integer power (2, 3, ...) of a finite linear sum such as ``x - y`` or
    ``x + 1`` (a squared error, an elementwise square) is built as ``Pow`` builds it,
    without the assumption queries its evaluation makes on each fresh symbol."""
    if (type(e) is int and e >= 2 and isinstance(x, sympy.Add) and _finite_linear(x)):
        return sympy.Pow(x, sympy.Integer(e), evaluate=False)
    return x ** e
