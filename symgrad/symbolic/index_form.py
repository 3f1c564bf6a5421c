"""One formula for a whole gradient: closed forms in index notation.

The gradient of a loss in ``w`` (shape 5x3) is 15 closed forms that differ only in which
entries of ``w``, ``b``, ``x`` ... they mention. A reader wants the textbook line
``∂loss/∂w[i,j] = x[i]*(...)/3``, not fifteen near-copies, and not one arbitrary entry that
hides the pattern. :func:`index_form` finds that line:

1. Pick a representative entry whose index components are pairwise distinct (so ``w[3,2]``
   can only mean ``w[i,j]``).
2. Rewrite written-out sums over a whole axis (``w[0,j] + w[1,j] + ... + w[4,j]``) as
   ``Σ_k(w[k,j])``, so the entry's own index no longer hides inside the sum.
3. Replace index components equal to the entry's own index by ``i, j, ...``.
4. Accept the template only if instantiating it at every index tuple gives back every entry
   exactly (structural equality, all entries up to ``max_check``, a fixed sample beyond).

Anything else -- no fit, too big, too slow, odd input -- gives ``None`` and the caller shows
one representative entry instead. The function never raises and is bounded by ``budget``.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import sympy
from sympy.printing.str import StrPrinter

from symgrad.symbolic.printing import readable
from symgrad.symbolic.symbols import entry_name

__all__ = ["index_form", "index_template", "IndexTemplate"]

_INDEXED = re.compile(r"^([A-Za-z_]\w*)\[(\d+(?:,\d+)*)\]$")
_LETTERS = "ijklmnpqrsuvabcdefgh"


class IndexTemplate(NamedTuple):
    """One SymPy expression standing for every entry of a gradient."""

    template: sympy.Basic  #: in index variables; ``Sum`` for sums over a whole axis
    index: tuple[sympy.Symbol | int, ...]  #: the variable of each axis (0 if of length 1)
    checked: int  #: how many entries instantiating the template reproduced
    extents: dict[str, list[int]]  #: shapes of the named arrays, for printing sum ranges


class _OutOfBudget(Exception):
    """Raised inside the search when the deadline passes; turned into ``None``."""


class _Ctx:
    """What one search shares: deadline, the symbols and constants met, reserved names."""

    def __init__(self, budget: float, max_nodes: int) -> None:
        self.deadline = time.monotonic() + budget
        self.max_nodes = max_nodes
        self.symbols: dict[str, sympy.Symbol] = {}
        self.bases: dict[str, sympy.IndexedBase] = {}
        self.constants: dict[str, np.ndarray] = {}
        self.reserved: set[str] = set()
        self.outer: tuple[sympy.Symbol, ...] = ()
        self.extents: dict[str, list[int]] = {}  # shape of each named array, as seen

    def see(self, name: str, shape: tuple[int, ...]) -> None:
        old = self.extents.setdefault(name, [0] * len(shape))
        if len(old) == len(shape):
            old[:] = [max(a, b) for a, b in zip(old, shape)]

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise _OutOfBudget

    def base(self, name: str, real: bool = True) -> sympy.IndexedBase:
        if name not in self.bases:
            self.bases[name] = sympy.IndexedBase(name, real=True) if real else \
                sympy.IndexedBase(name)
        return self.bases[name]


# ---------------------------------------------------------------------------- helpers


def _exact(v: Any) -> sympy.Basic | None:
    """A number as an exact SymPy number (floats are exact binary rationals), else None."""
    if isinstance(v, sympy.Basic):
        return v if v.is_Number else None
    if isinstance(v, (bool, np.bool_)):
        return sympy.Integer(int(v))
    if isinstance(v, (int, np.integer)):
        return sympy.Integer(int(v))
    if isinstance(v, (float, np.floating)) and np.isfinite(v):
        return sympy.Rational(float(v))
    return None


def _as_array(v: Any) -> np.ndarray | None:
    data = getattr(v, "_data", v)
    try:
        return np.asarray(data, dtype=object) if not isinstance(data, np.ndarray) else data
    except Exception:
        return None


def _small(expr: sympy.Basic, limit: int) -> bool:
    """Whether ``expr`` has at most ``limit`` nodes (stops counting early)."""
    stack, n = [expr], 0
    while stack:
        n += 1
        if n > limit:
            return False
        stack.extend(stack.pop().args)
    return True


def _indexed_nodes(expr: sympy.Basic) -> list[sympy.Indexed]:
    """The distinct ``Indexed`` nodes of ``expr`` in SymPy's (canonical) preorder."""
    seen: dict[sympy.Indexed, None] = {}
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Indexed):
            seen.setdefault(node, None)
    return list(seen)


def _letter(ctx: _Ctx, taken: set[str]) -> sympy.Symbol:
    for c in itertools.chain(_LETTERS, (f"k{n}" for n in itertools.count())):
        if c not in taken and c not in ctx.reserved:
            return sympy.Symbol(c, integer=True)
    raise AssertionError("unreachable")


# ----------------------------------------------------------- concrete entry -> template


def _indexify(expr: sympy.Basic, ctx: _Ctx) -> sympy.Basic:
    """Symbols named ``w[3,2]`` become ``Indexed(w, 3, 2)`` so their indices can move."""
    rep = {}
    for s in expr.free_symbols:
        m = _INDEXED.match(s.name)
        if m is None:
            continue
        ctx.symbols[s.name] = s
        ints = [int(c) for c in m.group(2).split(",")]
        rep[s] = ctx.base(m.group(1), bool(s.is_real))[tuple(ints)]
    return expr.xreplace(rep) if rep else expr


def _coefficient(cs: list[sympy.Basic], vals: list[int], ctx: _Ctx,
                 k: sympy.Symbol) -> sympy.Basic | None:
    """``r*x[k]`` when the sum's per-term coefficients are ``r`` times a named constant."""
    for name, arr in ctx.constants.items():
        if arr.ndim != 1 or max(vals) >= arr.shape[0]:
            continue
        xs = [arr[v] for v in vals]
        if any(x == 0 for x in xs):
            continue
        ratios = {c / x for c, x in zip(cs, xs)}
        if len(ratios) == 1:
            return ratios.pop() * ctx.base(name)[k]
    return None


def _sum_subgroup(members: list[tuple], p: int, cls: list[int], ctx: _Ctx) -> sympy.Basic | None:
    """``Σ_k`` of the members (coeff, rest, nodes, vec) if index ``p`` runs over 0..n-1."""
    vals = [int(m[3][p]) for m in members]
    if sorted(vals) != list(range(len(vals))):
        return None
    _, rest, nodes, vec = members[0]
    k = _letter(ctx, {s.name for s in rest.atoms(sympy.Symbol)} |
                {s.name for s in ctx.outer})
    mapping, q = {}, 0
    for node in nodes:
        idx = [k if q + a in cls else vec[q + a] for a in range(len(node.indices))]
        mapping[node] = node.base[tuple(idx)]
        q += len(node.indices)
    body = rest.xreplace(mapping)
    cs = [m[0] for m in members]
    if len(set(cs)) == 1:
        return cs[0] * sympy.Sum(body, (k, 0, len(vals) - 1))
    coef = _coefficient(cs, vals, ctx, k)
    if coef is None:
        return None
    r, named = coef.as_coeff_Mul()
    return r * sympy.Sum(named * body, (k, 0, len(vals) - 1))


def _sum_group(members: list[tuple], ctx: _Ctx) -> list[tuple[list[int], sympy.Basic]]:
    """Terms alike up to indices: the best way to fold them into sums over one index."""
    width = len(members[0][3])
    best: list[tuple[list[int], sympy.Basic]] = []
    for p in range(width):
        col = [m[3][p] for m in members]
        if not all(isinstance(v, sympy.Integer) for v in col) or len(set(col)) < 2:
            continue
        cls = [q for q in range(width) if all(m[3][q] == m[3][p] for m in members)]
        sub: dict[tuple, list[int]] = {}
        for t, m in enumerate(members):
            sub.setdefault(tuple(m[3][q] for q in range(width) if q not in cls), []).append(t)
        found = []
        for ts in sub.values():
            ctx.tick()
            if len(ts) >= 2:
                s = _sum_subgroup([members[t] for t in ts], p, cls, ctx)
                if s is not None:
                    found.append((ts, s))
        if sum(len(ts) for ts, _ in found) > sum(len(ts) for ts, _ in best):
            best = found
    return best


def _fold_add(add: sympy.Add, ctx: _Ctx) -> sympy.Basic:
    """Rewrite runs of terms that enumerate an axis as sums (repeated: nested sums)."""
    expr: sympy.Basic = add
    for _ in range(4):
        if not isinstance(expr, sympy.Add):
            return expr
        groups: dict[tuple, list[int]] = {}
        info = []
        for t, term in enumerate(expr.args):
            coeff, rest = term.as_coeff_Mul()
            nodes = _indexed_nodes(rest)
            vec = tuple(c for n in nodes for c in n.indices)
            info.append((coeff, rest, nodes, vec))
            if nodes:
                skel = rest.xreplace({n: sympy.Symbol(f"<{n.base}>") for n in nodes})
                key = (skel, tuple((str(n.base), len(n.indices)) for n in nodes))
                groups.setdefault(key, []).append(t)
        used: set[int] = set()
        new_terms = []
        for ts in groups.values():
            if len(ts) < 2:
                continue
            for sub, s in _sum_group([info[t] for t in ts], ctx):
                used.update(ts[u] for u in sub)
                new_terms.append(s)
        if not new_terms:
            return expr
        expr = sympy.Add(*[a for t, a in enumerate(expr.args) if t not in used], *new_terms)
    return expr


def _fold_sums(expr: sympy.Basic, ctx: _Ctx, memo: dict) -> sympy.Basic:
    """Bottom-up :func:`_fold_add` over the whole expression."""
    if expr in memo:
        return memo[expr]
    ctx.tick()
    out = expr
    if expr.args and not isinstance(expr, (sympy.Indexed, sympy.IndexedBase)):
        args = tuple(_fold_sums(a, ctx, memo) for a in expr.args)
        if args != expr.args:
            out = expr.func(*args)
        if isinstance(out, sympy.Add):
            out = _fold_add(out, ctx)
    memo[expr] = out
    return out


def _to_outer(expr: sympy.Basic, rep: tuple[int, ...], axes: list[int],
              ctx: _Ctx) -> sympy.Basic:
    """Index components equal to the representative's own index become ``i, j, ...``."""
    values = [rep[a] for a in axes]
    by_value = {v: ctx.outer[n] for n, v in enumerate(values) if values.count(v) == 1}
    mapping = {}
    for node in expr.atoms(sympy.Indexed):
        idx = [by_value.get(int(c), c) if isinstance(c, sympy.Integer) else c
               for c in node.indices]
        mapping[node] = node.base[tuple(idx)]
    return expr.xreplace(mapping)


# ------------------------------------------------------------------ template -> entry


def _instantiate(expr: sympy.Basic, env: dict, ctx: _Ctx) -> sympy.Basic:
    """The template at one index tuple, in the entries' own terms (symbols, no sums)."""
    if expr in env:
        return env[expr]
    if isinstance(expr, sympy.Indexed):
        idx = [_instantiate(c, env, ctx) for c in expr.indices]
        if not all(isinstance(c, sympy.Integer) for c in idx):
            raise ValueError("free index")
        name = str(expr.base.label)
        if name in ctx.constants:
            return ctx.constants[name][tuple(int(c) for c in idx)]
        full = entry_name(name, tuple(int(c) for c in idx))
        return ctx.symbols.get(full) or sympy.Symbol(full, real=True)
    if isinstance(expr, sympy.Sum):  # SymPy merges nested sums: limits[-1] is outermost
        return _expand_sum(expr.function, list(expr.limits), env, ctx)
    if not expr.args:
        return expr
    args = tuple(_instantiate(a, env, ctx) for a in expr.args)
    return expr if args == expr.args else expr.func(*args)


def _expand_sum(body: sympy.Basic, limits: list, env: dict, ctx: _Ctx) -> sympy.Basic:
    if not limits:
        return _instantiate(body, env, ctx)
    k, lo, hi = limits[-1]
    lo, hi = int(_instantiate(lo, env, ctx)), int(_instantiate(hi, env, ctx))
    ctx.tick()
    return sympy.Add(*[_expand_sum(body, limits[:-1], {**env, k: sympy.Integer(v)}, ctx)
                       for v in range(lo, hi + 1)])


def _fits(template: sympy.Basic, entries: list[tuple[tuple[int, ...], sympy.Basic]],
          axes: list[int], ctx: _Ctx) -> bool:
    for idx, want in entries:
        ctx.tick()
        env = {ctx.outer[n]: sympy.Integer(idx[a]) for n, a in enumerate(axes)}
        if _instantiate(template, env, ctx) != want:
            return False
    return True


# --------------------------------------------------------------------------- driver


def _sample(shape: tuple[int, ...], max_check: int) -> list[tuple[int, ...]]:
    size = int(np.prod(shape))
    flat = range(size) if size <= max_check else \
        sorted(set(np.linspace(0, size - 1, max_check).astype(int).tolist()))
    return [tuple(int(c) for c in np.unravel_index(f, shape)) for f in flat]


def _representatives(entries: list[tuple[tuple[int, ...], sympy.Basic]], axes: list[int],
                     tries: int) -> list[tuple[tuple[int, ...], sympy.Basic]]:
    """Nonzero entries with pairwise distinct, large-ish index components first.

    Distinct components make ``w[3,2]`` unambiguous; avoiding 0 and 1 keeps the entry's
    index apart from literal indices (``b[0]``) the formula might mention.
    """
    def score(item):
        idx, e = item
        comps = [idx[a] for a in axes]
        return (e != 0, len(set(comps)), min(comps))

    return sorted(entries, key=score, reverse=True)[:tries]


def _split_names(names: Mapping[str, Any] | None, ctx: _Ctx) -> list[tuple]:
    """Numeric arrays become constants; symbolic ones become intermediates to substitute."""
    intermediates = []
    for name, value in (names or {}).items():
        arr = _as_array(value)
        if arr is None or arr.size > 100_000 or not str(name).isidentifier():
            continue
        nums = [_exact(v) for v in arr.reshape(-1)]
        if all(n is not None for n in nums):
            ctx.constants[name] = np.array(nums, dtype=object).reshape(arr.shape)
            ctx.see(name, arr.shape)
            continue
        for idx in np.ndindex(*arr.shape):
            v = arr[idx]
            ctx.tick()
            if isinstance(v, sympy.Basic) and not v.is_Atom and v.free_symbols:
                if not _small(v, ctx.max_nodes):
                    raise _OutOfBudget
                sym = sympy.Symbol(entry_name(name, idx), real=True)
                intermediates.append((v, sym))
        ctx.reserved.add(name)
        ctx.see(name, arr.shape)
    intermediates.sort(key=lambda vs: -len(list(sympy.preorder_traversal(vs[0]))))
    return intermediates


def index_template(exprs: np.ndarray, wrt_shape: tuple[int, ...],
                   names: Mapping[str, Any] | None = None, *, budget: float = 1.0,
                   max_check: int = 200, max_nodes: int = 4000
                   ) -> IndexTemplate | None:
    """One SymPy expression for all entries of ``exprs`` (verified), or None.

    ``names`` maps names to
    arrays: numeric arrays are constants whose values may stand for numbers in the entries
    (``x[k]`` in sums, ``x[i]`` as a factor); symbolic arrays are intermediates
    (``z = x@w + b``) substituted by ``z[j]`` before templating.
    """
    try:
        return _index_template(exprs, tuple(wrt_shape), names, budget, max_check, max_nodes)
    except Exception:  # _OutOfBudget, RecursionError, SymPy surprises: no template
        return None


def _index_template(exprs, wrt_shape, names, budget, max_check, max_nodes):
    ctx = _Ctx(budget, max_nodes)
    exprs = _as_array(exprs)
    if exprs is None or exprs.shape != wrt_shape or exprs.size < 2:
        return None
    axes = [a for a, n in enumerate(wrt_shape) if n > 1]
    intermediates = _split_names(names, ctx)
    entries = []
    for idx in _sample(wrt_shape, max_check):
        ctx.tick()
        e = exprs[idx]
        e = e if isinstance(e, sympy.Basic) else _exact(e)
        if e is None or not _small(e, max_nodes):
            return None
        for v, sym in intermediates:
            ctx.tick()
            e = e.subs(v, sym)
        entries.append((idx, e))
    seen: set[sympy.Symbol] = set()
    for _, e in entries:
        ctx.tick()
        seen |= e.free_symbols
    for s in seen:
        ctx.symbols.setdefault(s.name, s)
        m = _INDEXED.match(s.name)
        ctx.reserved.add(m.group(1) if m else s.name)
        if m:
            ctx.see(m.group(1), tuple(int(c) + 1 for c in m.group(2).split(",")))
    taken: set[str] = set()
    outer = []
    for _ in axes:
        outer.append(_letter(ctx, taken))
        taken.add(outer[-1].name)
    ctx.outer = tuple(outer)
    for rep, e in _representatives(entries, axes, tries=3):
        body = _fold_sums(_indexify(e, ctx), ctx, {})
        template = _to_outer(body, rep, axes, ctx)
        for candidate in _variants(template, rep, axes, ctx):
            if _fits(candidate, entries, axes, ctx):
                index = tuple(ctx.outer[axes.index(a)] if a in axes else 0
                              for a in range(len(wrt_shape)))
                return IndexTemplate(candidate, index, len(entries), ctx.extents)
    return None


def _variants(template: sympy.Basic, rep: tuple[int, ...], axes: list[int], ctx: _Ctx):
    """The template, then versions where an overall factor is a named constant ``x[i]``."""
    yield template
    for name, arr in ctx.constants.items():
        for pos in itertools.permutations(range(len(axes)), arr.ndim):
            try:
                value = arr[tuple(rep[axes[p]] for p in pos)]
            except IndexError:
                continue
            if value != 0:
                yield ctx.base(name)[tuple(ctx.outer[p] for p in pos)] * (template / value)


# --------------------------------------------------------------------------- printing


class _IndexPrinter(StrPrinter):
    """SymPy's text, with ``w[i,j]`` for indexed entries and ``Σ_k(...)`` for sums."""

    printmethod = "_symgrad_index_str"  # not Indexed's own _sympystr, which adds spaces

    def _print_Indexed(self, expr):
        return f"{expr.base.label}[{','.join(self._print(i) for i in expr.indices)}]"

    def __init__(self, extents: dict[str, list[int]]) -> None:
        super().__init__()
        self.extents = extents

    def _whole_axis(self, body: sympy.Basic, k: sympy.Symbol, lo, hi) -> bool:
        """Whether ``k`` runs over every axis it indexes (then the range goes unsaid)."""
        uses = [(str(n.base.label), a) for n in body.atoms(sympy.Indexed)
                for a, c in enumerate(n.indices) if c == k]
        return lo == 0 and bool(uses) and all(
            a < len(self.extents.get(b, [])) and self.extents[b][a] == hi + 1 for b, a in uses)

    def _print_Sum(self, expr):
        out = self._print(expr.function)
        for k, lo, hi in expr.limits:
            sub = self._print(k) if self._whole_axis(expr.function, k, lo, hi) else \
                f"{{{self._print(k)}={self._print(lo)}..{self._print(hi)}}}"
            out = f"Σ_{sub}({out})"
        return out


def index_form(exprs: np.ndarray, wrt_name: str, wrt_shape: tuple[int, ...],
               names: Mapping[str, Any] | None = None, out_name: str = "out", *,
               width: int | None = 100, d: str = "∂", budget: float = 1.0,
               max_check: int = 200) -> str | None:
    """``∂out/∂w[i,j] = <formula>  (one formula for all 15 entries)``, or None.

    ``exprs`` is the object array of closed forms, one per entry of ``wrt``. The formula is
    cut to ``width`` characters (None: whole). ``d`` is the derivative sign ("d" for ASCII).
    None means no single template reproduces every checked entry (or the search ran out of
    ``budget`` seconds): show one representative entry instead.
    """
    found = index_template(exprs, wrt_shape, names, budget=budget, max_check=max_check)
    if found is None:
        return None
    template, index, checked, extents = found
    try:
        text = " ".join(_IndexPrinter(extents).doprint(readable(template)).split())
    except Exception:
        return None
    if width is not None and len(text) > width:
        text = text[: width - 3] + "..."
    size = int(np.prod(wrt_shape))
    scope = f"all {size} entries" if checked == size else \
        f"all {size} entries; checked on {checked}"
    wrt = f"{wrt_name}[{','.join(str(i) for i in index)}]"
    return f"{d}{out_name}/{d}{wrt} = {text}  (one formula for {scope})"
