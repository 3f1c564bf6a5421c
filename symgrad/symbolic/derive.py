"""Closed-form derivatives of mirrored expressions, by ``sympy.diff`` and nothing else.

Structure is used where it is free: an entry is differentiated only with respect to the
symbols it contains (the others give 0 without calling SymPy), entries that are one
expression up to renaming symbols are differentiated once, and a Hessian computes one
triangle. Evaluation substitutes exact rationals and evaluates to many digits.
"""

from __future__ import annotations

import itertools
from typing import Any
from collections.abc import Mapping, Sequence

import mpmath
import numpy as np
import sympy

from symgrad.ops.namespaces import exact_number
from symgrad.symbolic import exactness
from symgrad.symbolic.mirror import MirrorInfo, info
from symgrad.symbolic.mpeval import Program, magnitude
from symgrad.symbolic.mpreverse import mp_hvp, mp_vjp
from symgrad.tensor import Tensor

__all__ = ["gradient", "jacobian", "jacobian_entries", "Templates", "hessian", "evaluate",
           "evaluate_mp", "stable_eval", "directional", "directional_mp", "directional_mp_many",
           "gradient_mp", "hvp_mp", "as_object_array", "PointCache"]


class PointCache:
    """What repeated evaluations at one point share: the point's values and every evaluated
    subexpression's value, per working precision, and the roots' free symbols.

    ``evaluate_mp`` and ``directional_mp`` at the same point (the forward value, then each
    direction) otherwise convert the whole point and re-evaluate the whole mirror at each
    precision of every call; values are the same, since a node's value depends only on the
    point and the precision. Only for one ``point`` mapping that is not changed meanwhile
    (``check`` makes one per call).
    """

    def __init__(self, point: Mapping) -> None:
        self.point = point
        self._at: dict[int, dict] = {}
        self._vals: dict[int, dict] = {}
        self._free: dict[int, tuple[Any, set]] = {}   # id(root) -> (root, its free symbols)
        self._programs: dict[int, tuple[np.ndarray, Program]] = {}   # id(array) -> compiled
        self._regs: dict[tuple[int, int], list] = {}   # (id(program), precision) -> values
        self._compiled: dict[int, Program] = {}   # id(expression) -> a program computing it
        self._spans: dict[tuple[int, int], list | None] = {}   # see spans

    def program(self, e: np.ndarray) -> Program:
        """``e``'s entries (flat) compiled once: the forward value and every direction at
        this point run the same program (while ``e`` is not changed)."""
        got = self._programs.get(id(e))
        if got is None or got[0] is not e:
            got = self._programs[id(e)] = (e, Program(e.reshape(-1).tolist()))
            self._compiled.update((id(x), got[1]) for x in got[1].exprs)
        return got[1]

    def registers(self, program: Program) -> list:
        """Every step's value of ``program`` at the current precision, computed once (and
        entered in ``values()`` for walks over the same nodes)."""
        key = (id(program), mpmath.mp.prec)
        reg = self._regs.get(key)
        if reg is None:
            reg = self._regs[key] = program.run(self.at())
            self.values().update(zip(program.nodes, reg))
        return reg

    def spans(self, program: Program) -> list | None:
        """``exactness.value_spans`` of ``registers(program)`` at the current precision,
        found once: None unless that run rounded nowhere."""
        key = (id(program), mpmath.mp.prec)
        if key not in self._spans:
            self._spans[key] = exactness.value_spans(program, self.registers(program),
                                                     self.point, mpmath.mp.prec)
        return self._spans[key]

    def at(self, syms=()) -> dict:
        """The point's values at the current precision, each converted once (``syms`` now,
        any other on first use)."""
        prec = mpmath.mp.prec
        at = self._at.get(prec)
        if at is None:
            at = self._at[prec] = _LazyPoint(self.point, prec)
        for s in syms:
            at[s]
        return at

    def values(self) -> dict:
        """The ``mp_eval`` cache at the current precision."""
        return self._vals.setdefault(mpmath.mp.prec, {})

    def free_symbols(self, x: sympy.Basic) -> set:
        got = self._free.get(id(x))
        if got is None or got[0] is not x:
            program = self._compiled.get(id(x))
            if program is not None and program.symbols is None:
                # every entry of a compiled array at once, from its steps (cheaper)
                for y, syms in zip(program.exprs, program.free_symbols()):
                    self._free[id(y)] = (y, syms)
                got = self._free.get(id(x))
            if got is None or got[0] is not x:
                got = self._free[id(x)] = (x, x.free_symbols)
        return got[1]


class _LazyPoint(dict):
    """A point's values as mpmath numbers (at ``prec`` bits), each converted on first use:
    a sparse Jacobian's few entries need not collect their free symbols first."""

    def __init__(self, point: Mapping, prec: int) -> None:
        super().__init__()
        self.point, self.prec = point, prec

    def __missing__(self, s: Any) -> Any:
        v = self.point[s]   # KeyError for a symbol without a value (mp_eval names it)
        if mpmath.mp.prec == self.prec:   # the common case: no context to enter
            got = self[s] = _to_mp(v)
            return got
        with mpmath.workprec(self.prec):
            got = self[s] = _to_mp(v)
        return got


def _free_of(x: sympy.Basic, cache: PointCache | None) -> set:
    return x.free_symbols if cache is None else cache.free_symbols(x)


def as_object_array(x: Any) -> np.ndarray:
    """An object array of SymPy expressions from a symbolic Tensor, array or expression.

    A SymPy column or row vector (``Matrix([a, b])``) is 1-d, as ``Matrix.jacobian`` and
    ``sympy.hessian`` treat it; any other Matrix keeps its two dimensions, an N-dim Array
    its shape."""
    if isinstance(x, Tensor):
        return x._data if x._data.dtype == object else x._data.astype(object)
    if isinstance(x, np.ndarray):
        return x if x.dtype == object else x.astype(object)
    if isinstance(x, sympy.MatrixBase):
        a = np.empty(x.shape, dtype=object)
        for idx in np.ndindex(*x.shape):
            a[idx] = x[idx]
        return a.reshape(-1) if 1 in x.shape else a
    if isinstance(x, sympy.NDimArray):
        a = np.empty(x.shape, dtype=object)
        for idx in np.ndindex(*x.shape):
            a[idx] = x[idx]
        return a
    if isinstance(x, sympy.Basic):
        a = np.empty((), dtype=object)
        a[()] = x
        return a
    return np.asarray(x, dtype=object)


def _several(wrt: Any) -> bool:
    """Several things to differentiate by (a tuple of results): a list or tuple holding a
    tensor or array. A list of SymPy symbols is one vector of them, as in SymPy's
    ``hessian(f, [a, b])``."""
    return isinstance(wrt, (list, tuple)) and not all(
        isinstance(w, sympy.Basic) for w in wrt)


def _wrt(expr: Any, wrt: Any) -> np.ndarray:
    """Symbols to differentiate by: a symbolic tensor, or a numeric leaf of a mirror."""
    if isinstance(wrt, Tensor) and wrt._data.dtype != object:
        meta = info(expr)
        if meta is None:
            raise TypeError("wrt is a numeric tensor: pass the symbolic tensor of its symbols, "
                            "or differentiate an expression made by symbolic.mirror()")
        return meta.symbols_of(wrt)
    if isinstance(wrt, str):
        raise TypeError(f"wrt must be SymPy symbols or a symbolic tensor, got the string "
                        f"{wrt!r} (sympy.Symbol({wrt!r}) is a symbol)")
    arr = as_object_array(wrt)
    for idx in np.ndindex(*arr.shape):
        if not isinstance(arr[idx], sympy.Symbol):
            at = f" (entry {idx} of wrt)" if arr.ndim else ""
            raise TypeError(f"can only differentiate with respect to symbols, got "
                            f"{arr[idx]!r}{at}")
    return arr


def _result(data: np.ndarray, expr: Any) -> Tensor:
    t = Tensor._wrap(data)
    meta = info(expr)
    if meta is not None:
        t._extra = {"mirror": meta}
    return t


def _diff(e: sympy.Expr, s: sympy.Symbol, free: set) -> sympy.Expr:
    return sympy.diff(e, s) if s in free else sympy.S.Zero


def gradient(expr: Any, wrt: Any) -> Tensor | tuple[Tensor, ...]:
    """d(expr)/d(wrt) in closed form, shaped like ``wrt`` (a tuple for several ``wrt``)."""
    if _several(wrt):
        return tuple(gradient(expr, w) for w in wrt)
    e = as_object_array(expr)
    if e.size != 1:
        raise ValueError(f"gradient() needs a single expression, got shape {e.shape}; use "
                         "jacobian() for a tensor of outputs")
    e = sympy.sympify(e.reshape(())[()])
    syms = _wrt(expr, wrt)
    free = e.free_symbols
    out = np.empty(syms.shape, dtype=object)
    terms = _terms_by_symbol(e) if syms.size > 1 else None
    for idx in np.ndindex(*syms.shape):
        s = syms[idx]
        if terms is None:
            out[idx] = _diff(e, s, free)
        else:  # d(sum of terms)/ds = sum of d(term)/ds over the terms holding s
            out[idx] = sympy.Add(*[sympy.diff(t, s) for t in terms.get(s, ())])
    return _result(out, expr)


def _terms_by_symbol(e: sympy.Expr) -> dict | None:
    """For a sum, each symbol's terms (None for anything else).

    ``sympy.diff`` of a sum differentiates every term, and each term's test "does it hold
    s?" recomputes its free symbols (SymPy does not cache them): per symbol, a walk of the
    whole expression. Finding the terms once per gradient keeps that walk to the terms
    that hold the symbol; ``Add._eval_derivative`` builds the same sum from the same terms.
    """
    if not e.is_Add:
        return None
    found: dict = {}
    for t in e.args:
        for s in t.free_symbols:
            found.setdefault(s, []).append(t)
    return found


def jacobian(exprs: Any, wrt: Any) -> Tensor | tuple[Tensor, ...]:
    """d(exprs[i...])/d(wrt[j...]) in closed form, with shape ``exprs.shape + wrt.shape``."""
    if _several(wrt):
        return tuple(jacobian(exprs, w) for w in wrt)
    e = as_object_array(exprs)
    syms = _wrt(exprs, wrt)
    out = np.full(e.shape + syms.shape, sympy.S.Zero, dtype=object)
    flat = out.reshape(-1)  # a view
    for k, d in jacobian_entries(e, syms).items():
        flat[k] = d
    return _result(out, exprs)


#: Jacobians with at least this many output entries share derivatives through ``Templates``.
_TEMPLATE_ROWS = 64


def jacobian_entries(exprs: np.ndarray, syms: np.ndarray) -> dict[int, sympy.Expr]:
    """The Jacobian's entries that can be nonzero, by flat index into ``exprs.shape +
    syms.shape``: each output entry is differentiated by the symbols it holds, the rest of
    its row is 0. Entries that are one expression up to renaming its symbols (an
    elementwise op's, a layer's rows) are differentiated once (``Templates``)."""
    flat_syms = list(syms.reshape(-1))
    position = {s: k for k, s in enumerate(flat_syms)}
    # renaming costs about what a small Jacobian's few diffs cost: templates for many rows
    templates = Templates(position) if exprs.size >= _TEMPLATE_ROWS else None
    width = len(flat_syms)
    found: dict[int, sympy.Expr] = {}
    for row, x in enumerate(exprs.reshape(-1)):
        ei = sympy.sympify(x)
        free = ei.free_symbols
        targets = [s for s in free if s in position]
        if not targets:
            continue
        if templates is None:
            for s in targets:
                found[row * width + position[s]] = sympy.diff(ei, s)
            continue
        for s, d in templates.diff(ei, free, targets).items():
            found[row * width + position[s]] = d
    return dict(sorted(found.items()))


class Templates:
    """``sympy.diff`` once per expression template.

    An expression is renamed to placeholders (its symbols in a fixed order: by ``rank``,
    then by name), differentiated by a placeholder, and the derivative renamed back. The
    renaming is a bijection between symbols of equal assumptions, so this is exactly
    ``sympy.diff(e, s)``; the elementwise op's ``f(a[i])`` for every ``i``, or a layer's
    ``sum_j W[i,j] x[j]`` for every row ``i``, then cost one ``diff`` per placeholder instead
    of one per entry. Expressions that share no template (after a few tries) are
    differentiated directly.
    """

    _TRIES = 16

    def __init__(self, rank: Mapping) -> None:
        self.rank = rank
        self._derivs: dict = {}
        self._holders: dict = {}
        self._kind: dict = {}
        self.hits = self.misses = 0
        self.unmatched = 0   # expressions none of whose derivatives was known

    def _order(self, s: sympy.Symbol) -> tuple:
        r = self.rank.get(s)
        return (0, r, "") if r is not None else (1, 0, str(s))

    def _holder(self, k: int, s: sympy.Symbol) -> sympy.Dummy:
        kind = self._kind.get(s)
        if kind is None:
            kind = self._kind[s] = frozenset(s.assumptions0.items())
        h = self._holders.get((k, kind))
        if h is None:
            h = self._holders[(k, kind)] = sympy.Dummy(f"x{k}", **dict(kind))
        return h

    def diff(self, e: sympy.Expr, free: set, targets: Sequence) -> dict:
        """``{s: d(e)/ds}`` for each symbol ``s`` of ``targets`` (all in ``free``)."""
        if self.unmatched >= self._TRIES and not self.hits:   # (tries count expressions,
            return {s: sympy.diff(e, s) for s in targets}      # not their many symbols)
        fwd = {s: self._holder(k, s) for k, s in enumerate(sorted(free, key=self._order))}
        tpl = e.xreplace(fwd)
        back = {h: s for s, h in fwd.items()}
        out = {}
        hits = self.hits
        for s in targets:
            key = (tpl, fwd[s])
            d = self._derivs.get(key)
            if d is None:
                self.misses += 1
                d = self._derivs[key] = sympy.diff(tpl, fwd[s])
            else:
                self.hits += 1
            out[s] = d.xreplace(back)
        if self.hits == hits:
            self.unmatched += 1
        return out


def hessian(expr: Any, wrt: Any) -> Tensor | tuple[tuple[Tensor, ...], ...]:
    """Second derivatives of one expression, shape ``wrt.shape + wrt.shape`` (symmetric).

    For several ``wrt`` (a tuple of tensors), the blocks ``H[i][j]`` of shape
    ``wrt[i].shape + wrt[j].shape``, as ``torch.autograd.functional.hessian`` gives them."""
    if _several(wrt):
        parts = [_wrt(expr, w) for w in wrt]
        sizes = [p.size for p in parts]
        whole = np.concatenate([p.reshape(-1) for p in parts]) if parts else np.empty(0, object)
        h = hessian(expr, Tensor._wrap(whole))._data
        ends = np.cumsum([0] + sizes)
        return tuple(tuple(_result(h[ends[i]:ends[i + 1], ends[j]:ends[j + 1]]
                                   .reshape(parts[i].shape + parts[j].shape), expr)
                           for j in range(len(parts))) for i in range(len(parts)))
    e = as_object_array(expr)
    if e.size != 1:
        raise ValueError(f"hessian() needs a single expression, got shape {e.shape}")
    e = sympy.sympify(e.reshape(())[()])
    syms = _wrt(expr, wrt)
    flat = list(syms.reshape(-1))
    n = len(flat)
    first = {s: sympy.diff(e, s) for s in e.free_symbols & set(flat)}
    h = np.full((n, n), sympy.S.Zero, dtype=object)
    for i, j in itertools.combinations_with_replacement(range(n), 2):
        d = first.get(flat[i])
        if d is not None and flat[j] in d.free_symbols:
            h[i, j] = h[j, i] = sympy.diff(d, flat[j])
    return _result(h.reshape(syms.shape + syms.shape), expr)


def directional(exprs: Any, direction: Mapping[Any, Any], order: int = 1) -> Tensor:
    """The derivative of ``exprs`` along ``direction`` (symbol -> component), of any order.

    One new symbol ``t`` is substituted (``s -> s + t*v``) and ``exprs`` differentiated by
    ``t`` only, at ``t = 0``: a JVP (order 1) or a second directional derivative (order 2)
    in closed form, however many symbols the expressions hold.
    """
    tt = sympy.Dummy("t", real=True)  # a complex t turns Abs into re/im derivatives
    shift = {s: s + tt * sympy.sympify(exact_number(v)) for s, v in direction.items()}
    e = as_object_array(exprs)
    out = np.empty(e.shape, dtype=object)
    for idx in np.ndindex(*e.shape):
        ei = sympy.sympify(e[idx])
        if not (ei.free_symbols & set(shift)):
            out[idx] = sympy.S.Zero
            continue
        d = sympy.diff(ei.xreplace(shift), tt, order)
        out[idx] = d.xreplace({tt: 0})
    return _result(out, exprs)


def directional_mp(exprs: Any, direction: Mapping[Any, Any], point: Mapping,
                   digits: int = 50, cache: PointCache | None = None) -> np.ndarray:
    """The value of ``directional(exprs, direction)`` at ``point`` (mpmath numbers, to
    ``digits`` digits, precision raised as in ``evaluate_mp``), without building it.

    Forward mode over the expression DAG (``mpeval.mp_jvp``): every node's partial
    derivatives come from ``sympy.diff`` of that node's head, so nothing but the mirror and
    SymPy is read; rebuilding the substituted expression (``s -> s + t*v``, which SymPy
    re-simplifies node by node) is what costs the time on large sums. ``cache`` (a
    ``PointCache`` of ``point``) shares the point's and the nodes' values between calls.
    """
    return directional_mp_many(exprs, [direction], point, digits, cache)[0]


def gradient_mp(exprs: Any, wrt: np.ndarray, point: Mapping, weights: Any = None,
                digits: int = 50, cache: PointCache | None = None) -> np.ndarray:
    """The value of ``gradient(sum(weights * exprs), wrt)`` at ``point`` (mpmath numbers to
    ``digits`` digits, precision raised as in ``evaluate_mp``), without building it.

    Reverse mode over the expression DAG (``mpeval.mp_vjp``), every node's partials from
    ``sympy.diff`` of its head: one sweep gives all symbols, where the closed forms take
    a ``sympy.diff`` of the whole expression per symbol (seconds for a small MLP's
    cross-entropy). ``weights`` default to 1; ``cache`` as in ``directional_mp``.
    """
    if cache is not None and cache.point is not point:
        raise ValueError("cache belongs to another point")
    e = as_object_array(exprs)
    flat = [sympy.sympify(x) for x in e.reshape(-1)]
    w = np.ones(len(flat)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.size != len(flat):
        raise ValueError(f"{w.size} weights for {len(flat)} expressions")
    syms = list(np.asarray(wrt, dtype=object).reshape(-1))

    def compute() -> list:
        conv: dict = {}
        ws = [conv[x] if x in conv else conv.setdefault(x, mpmath.mpf(x))
              for x in w.reshape(-1).tolist()]
        if cache is None:
            return mp_vjp(flat, ws, _LazyPoint(point, mpmath.mp.prec), syms)
        return mp_vjp(flat, ws, cache.at(), syms, cache.values())

    out = np.empty(len(syms), dtype=object)
    for k, v in enumerate(stable_eval(compute, digits)):
        out[k] = v
    return out.reshape(np.shape(wrt))


def hvp_mp(exprs: Any, wrt: np.ndarray, point: Mapping, tangents: Sequence[Mapping[Any, Any]],
           weights: Any = None, digits: int = 50, cache: PointCache | None = None
           ) -> list[np.ndarray]:
    """``H t`` for each tangent ``t`` (symbol -> component), ``H`` the Hessian of
    ``sum(weights * exprs)`` by the symbols ``wrt`` (rows) at ``point``: mpmath values
    shaped like ``wrt``, to ``digits`` digits, without building a closed form.

    Forward over reverse mode over the expression DAG (``mpreverse.mp_hvp``), first and
    second partials of each node's head by ``sympy.diff``: a full Hessian is one sweep
    with a unit tangent per symbol, where closed forms take ``sympy.diff`` twice per entry.
    """
    if cache is not None and cache.point is not point:
        raise ValueError("cache belongs to another point")
    e = as_object_array(exprs)
    flat = [sympy.sympify(x) for x in e.reshape(-1)]
    w = np.ones(len(flat)) if weights is None else np.asarray(weights, dtype=np.float64)
    syms = list(np.asarray(wrt, dtype=object).reshape(-1))
    exact = [{s: sympy.sympify(v) for s, v in t.items()} for t in tangents]

    def compute() -> list:
        conv: dict = {}

        def mp(v):
            return conv[v] if v in conv else conv.setdefault(v, _to_mp(sympy.sympify(v)))

        ws = [mp(x) for x in w.reshape(-1).tolist()]
        ts = [{s: mp(v) for s, v in t.items()} for t in exact]
        if cache is None:
            rows = mp_hvp(flat, ws, _LazyPoint(point, mpmath.mp.prec), syms, ts)
        else:
            rows = mp_hvp(flat, ws, cache.at(), syms, ts, cache.values())
        return [v for row in rows for v in row]

    vals = stable_eval(compute, digits) if tangents else []
    out = []
    for t in range(len(tangents)):
        arr = np.empty(len(syms), dtype=object)
        arr[:] = vals[t * len(syms):(t + 1) * len(syms)]
        out.append(arr.reshape(np.shape(wrt)))
    return out


def directional_mp_many(exprs: Any, directions: Sequence[Mapping[Any, Any]], point: Mapping,
                        digits: int = 50, cache: PointCache | None = None) -> list[np.ndarray]:
    """``directional_mp`` along each of ``directions``, in one forward-mode walk per
    precision step (the values and local partials are shared by all directions)."""
    if cache is not None and cache.point is not point:
        raise ValueError("cache belongs to another point")
    e = as_object_array(exprs)
    flat = [sympy.sympify(x) for x in e.reshape(-1)]
    free = set().union(*(_free_of(x, cache) for x in flat)) if flat else set()
    missing = free - set(point)
    if missing:
        names = ", ".join(sorted(str(m) for m in missing)[:5])
        raise ValueError(f"no value for symbol(s) {names} at this point")
    exact = [{s: sympy.sympify(v) for s, v in d.items() if s in free} for d in directions]

    program = Program(flat) if cache is None else cache.program(e)   # run per precision

    last: list = []

    def compute() -> list:
        conv: dict = {}   # a random direction has a few distinct components
        tangents = [{s: conv[v] if v in conv else conv.setdefault(v, _to_mp(v))
                     for s, v in t.items()} for t in exact]
        if cache is None:
            at = {s: _to_mp(point[s]) for s in free}
            reg = program.run(at)
        else:
            at, reg = cache.at(free), cache.registers(program)
        dots = program.dots(reg, at, tangents)
        last[:] = [reg, dots, tangents]
        zero = [mpmath.mpf(0)] * len(tangents)
        rows = [zero if dots[j] is None else dots[j] for j in program.outs]
        return [row[j] for j in range(len(tangents)) for row in rows]

    def rounded_nowhere() -> bool:
        reg, dots, tangents = last
        prec = mpmath.mp.prec
        if not exactness.all_dyadic((v for t in exact for v in t.values()), prec):
            return False
        spans = (exactness.value_spans(program, reg, point, prec) if cache is None
                 else cache.spans(program))
        return spans is not None and exactness.dots_exact(program, spans, dots, tangents, prec)

    vals = stable_eval(compute, digits, rounded_nowhere)
    out = []
    for j in range(len(directions)):
        arr = np.empty(len(flat), dtype=object)
        for k in range(len(flat)):
            arr[k] = vals[j * len(flat) + k]
        out.append(arr.reshape(e.shape))
    return out


def _point_of(exprs: Any, at: Mapping | None) -> dict:
    meta: MirrorInfo | None = info(exprs)
    point = dict(meta.point) if meta is not None else {}
    if at:
        for k, v in at.items():
            if isinstance(k, Tensor):
                syms = as_object_array(k) if k._data.dtype == object else meta.symbols_of(k)
                vals = np.asarray(v._data if isinstance(v, Tensor) else v)
                from symgrad.ops.namespaces import to_exact

                point.update(zip(syms.reshape(-1), to_exact(np.broadcast_to(vals, syms.shape))
                                 .reshape(-1)))
            else:
                point[k] = sympy.sympify(exact_number(v))
    return point


def evaluate(exprs: Any, at: Mapping | None = None, *, digits: int = 50,
             exact: bool = False) -> np.ndarray:
    """Evaluate closed forms at a point.

    ``at`` maps symbols (or numeric leaves / symbolic tensors) to values; by default the
    point a mirrored expression was recorded at is used. Returns float64 values correctly
    rounded from a ``digits``-digit evaluation, or mpmath numbers with ``exact=True``.
    """
    e = as_object_array(exprs)
    point = _point_of(exprs, at)
    keys, vals = _evaluate_nonzero(e, point, digits)
    if exact:
        return _scatter(e.shape, keys, vals)
    out = np.zeros(e.size, dtype=np.float64)
    with mpmath.workdps(digits):
        out[keys] = [float(v) for v in vals]
    return out.reshape(e.shape)


def evaluate_mp(e: np.ndarray, point: Mapping, digits: int = 50,
                cache: PointCache | None = None) -> np.ndarray:
    """Object array of mpmath numbers: ``e`` at ``point``, to ``digits`` significant digits.

    Precision adapts: each value is computed at two working precisions and recomputed at
    higher ones until both agree, so textbook forms with cancellation (``log(1 - s(z))`` at
    z = 800) still come out right. ``cache``: see ``directional_mp``.
    """
    keys, vals = _evaluate_nonzero(e, point, digits, cache)
    return _scatter(e.shape, keys, vals)


_MP_ZERO = mpmath.mpf(0)
_MPF = type(_MP_ZERO)
_FZERO = _MP_ZERO._mpf_   # 0 is the one finite mpf whose mantissa is 0 (inf and nan too)


def _scatter(shape: tuple, keys: np.ndarray, vals: list) -> np.ndarray:
    out = np.full(shape, _MP_ZERO, dtype=object)   # mpf is immutable: one zero serves all
    flat = out.reshape(-1)   # a view
    for k, v in zip(keys.tolist(), vals):
        flat[k] = v
    return out


def _evaluate_nonzero(e: np.ndarray, point: Mapping, digits: int = 50,
                      cache: PointCache | None = None) -> tuple[np.ndarray, list]:
    """``evaluate_mp``'s values where ``e`` is not SymPy's 0: flat indices and values (a
    large Jacobian is mostly zeros, which need no look beyond ``is``)."""
    if cache is not None and cache.point is not point:
        raise ValueError("cache belongs to another point")
    zero = sympy.S.Zero
    raw = e.reshape(-1).tolist()
    keys = [k for k, x in enumerate(raw) if x is not zero]
    vals: list = [None] * len(keys)
    todo = []
    with mpmath.workdps(digits + 10):
        for j, k in enumerate(keys):
            x = raw[k] = sympy.sympify(raw[k])
            if x.is_Number:
                vals[j] = _to_mp(x)
            else:
                todo.append(j)
    if todo:
        # compiled once, run per precision (with a cache: shared with directional_mp_many)
        if cache is None:
            program = Program([raw[keys[j]] for j in todo])
            outs = program.outs
        else:
            program = cache.program(e)
            outs = [program.outs[keys[j]] for j in todo]

        last: list = []

        def compute() -> list:   # a symbol without a value raises ValueError naming it
            if cache is None:
                reg = program.run(_LazyPoint(point, mpmath.mp.prec))
            else:
                reg = cache.registers(program)
            last[:] = [reg]
            return [reg[j] for j in outs]

        def exact() -> bool:
            if cache is not None:
                return cache.spans(program) is not None
            return exactness.values_exact(program, last[0], point, mpmath.mp.prec)

        for j, v in zip(todo, stable_eval(compute, digits, exact)):
            vals[j] = v
    return np.asarray(keys, dtype=np.intp), vals


#: The most working digits adaptive evaluation will use before giving up on stability.
MAX_DIGITS = 2000


def stable_eval(compute, digits: int = 50, exact=None) -> list:
    """Run ``compute()`` (a list of mpmath results) at rising precision until two runs agree
    to ``digits`` digits (entry by entry, relative to the largest finite entry) and every
    entry is finite, or ``MAX_DIGITS`` is reached; the most precise values are returned.

    ``exact``: called after the first run, at its precision; True when that run rounded
    nowhere (see ``exactness``), so its values are the exact ones every later run would
    return, and are returned at once.

    (SymPy's own ``evalf`` is not used: it can lose a cancellation silently, e.g. in
    ``-log(1 - 1/(exp(-800) + 1))/3``.)
    """
    dps = digits + 10
    with mpmath.workdps(dps):
        prev = [_real(v) for v in compute()]
        if exact is not None and exact():
            return prev
    while True:
        dps = dps * 2 + 20
        with mpmath.workdps(dps):
            cur = [_real(v) for v in compute()]
            if all(type(v) is _MPF for v in cur):   # the common case, without abs() each
                scale = magnitude(cur)
                all_finite = all(v._mpf_[1] or v._mpf_ == _FZERO for v in cur)
            else:
                finite = [abs(v) for v in cur if mpmath.isfinite(v)]
                scale = max(finite, default=mpmath.mpf(0))
                all_finite = len(finite) == len(cur)
            tol = scale * mpmath.mpf(10) ** (-digits)
            same = all(_same(a, b, tol) for a, b in zip(prev, cur))
        if (same and all_finite) or dps > MAX_DIGITS:
            return cur
        prev = cur


def _same(a, b, tol) -> bool:
    if type(a) is _MPF and type(b) is _MPF and a._mpf_ == b._mpf_:
        return True   # the same number (or both nan), without the operator's conversions
    if a == b:   # most of a Jacobian: exact zeros at both precisions
        return True
    if mpmath.isnan(a) or mpmath.isnan(b):
        return bool(mpmath.isnan(a) and mpmath.isnan(b))
    if not (mpmath.isfinite(a) and mpmath.isfinite(b)):
        return a == b
    return abs(a - b) <= tol


def _real(v):
    if type(v) is _MPF:
        return v
    if isinstance(v, mpmath.mpc):
        return v.real if v.imag == 0 else mpmath.mpf("nan")
    return mpmath.mpf(v)


def _to_mp(x: sympy.Basic):
    if x.is_Rational:  # first: the comparisons with oo below sympify their other side
        return mpmath.mpf(x.p) / x.q
    if x is sympy.nan:
        return mpmath.mpf("nan")
    if x == sympy.oo:
        return mpmath.mpf("inf")
    if x == -sympy.oo:
        return mpmath.mpf("-inf")
    v = x.evalf(mpmath.mp.dps)
    if v.is_real is False or (not v.is_Number and v.has(sympy.I)):
        return mpmath.mpc(complex(v))
    if not v.is_Number:
        raise ValueError(f"cannot evaluate {x} to a number (free symbols "
                         f"{sorted(map(str, x.free_symbols))})")
    return mpmath.mpf(v)
