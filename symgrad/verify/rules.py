"""``check_rules``: every op's VJP rule against ``sympy.diff`` of its mirror.

For each op and each example (argument shapes, parameters) the rule is run on SymPy
symbols, ``rule(g) - sum_i g_i d(mirror_i)/d(a_j)`` is formed entry by entry, and:

* **proved**   SymPy reduces every entry to 0, on each interval of the op's domain (with
               matching assumptions: ``positive``, ``negative``);
* **agree**    SymPy could not decide, but rule and derivative agree to 50 significant
               digits at ``points`` (>= 20) points sampled over the domain, its edges and
               extreme magnitudes included;
* **MISMATCH** some point disagrees; the counterexample is reported.

With ``order=2`` the rule is itself differentiated: the derivative of the rule (run on
symbols) by each argument must equal the mirror's second derivative.
"""

from __future__ import annotations

import itertools
import math
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any
from collections.abc import Iterable

import mpmath
import numpy as np
import sympy

from symgrad.ops import OPS, Op
from symgrad.ops._apply import mirror_call
from symgrad.ops.namespaces import SYMPY, unbroadcast
from symgrad.symbolic.derive import stable_eval
from symgrad.symbolic.mpeval import mp_eval
from symgrad.symbolic.symbols import symbol_array

__all__ = ["RuleResult", "check_rules", "examples_of", "PROVED", "AGREE_SAMPLED", "MISMATCH"]

PROVED, AGREE_SAMPLED, MISMATCH = "proved", "agree", "MISMATCH"
_SIMPLIFY_SECONDS = 3


@dataclass
class RuleResult:
    op: str
    kind: str
    verdict: str
    seconds: float
    detail: str = ""
    counterexample: dict | None = None
    examples: int = 0

    @property
    def ok(self) -> bool:
        return self.verdict in (PROVED, AGREE_SAMPLED)

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "kind": self.kind, "verdict": self.verdict,
                "seconds": round(self.seconds, 4), "detail": self.detail,
                "examples": self.examples, "counterexample": self.counterexample}


def _param_grid(op: Op) -> list[dict]:
    keys = list(op.params)
    if not keys:
        return [{}]
    return [dict(zip(keys, combo)) for combo in itertools.product(*(op.params[k] for k in keys))]


def examples_of(op: Op) -> list[tuple[tuple, dict]]:
    """The (shapes, params) examples a rule is proved on."""
    if op.examples:
        return [(tuple(s), dict(p)) for s, p in op.examples]
    n = len(op.arg_names)
    if op.kind == "elementwise":
        shapes = {1: [((3,),)], 2: [((2, 3), (3,)), ((2, 1), (1, 3))],
                  3: [((2, 3), (3,), (2, 1))]}.get(n, [((2, 3),) * n])
    else:
        shapes = [((2, 3),) * n]
    return [(s, p) for s in shapes for p in _param_grid(op)]


def _assumptions(interval: tuple[float, float]) -> dict:
    lo, hi = interval
    if lo >= 0:
        return {"positive": True}
    if hi <= 0:
        return {"negative": True}
    return {"real": True}


def _is_zero(e: sympy.Expr) -> bool | None:
    """True if SymPy reduces ``e`` to 0; None if it cannot tell (in time)."""
    if e == 0:
        return True
    try:
        c = sympy.cancel(sympy.together(e))
        if c == 0:
            return True
    except (sympy.PolynomialError, TypeError, ValueError):
        pass
    if threading.current_thread() is not threading.main_thread():
        return None
    if e.has(sympy.Max, sympy.Min):
        return None  # simplify runs into its timeout on these without deciding: sample instead

    def timeout(*_):
        raise TimeoutError

    # Keep an outer timer (symgrad rules --timeout) running: take the shorter of the two and
    # give the outer one back its remaining time afterwards.
    outer = signal.getitimer(signal.ITIMER_REAL)[0]
    start = time.monotonic()
    old = signal.signal(signal.SIGALRM, timeout)
    signal.setitimer(signal.ITIMER_REAL, min(_SIMPLIFY_SECONDS, outer) if outer else
                     _SIMPLIFY_SECONDS)
    try:
        return True if sympy.simplify(e) == 0 else None
    except (TimeoutError, RecursionError, TypeError, ValueError, AttributeError):
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3))


def _sample_values(interval: tuple[float, float], rng: np.random.Generator, n: int,
                   typical: tuple[float, float]) -> list[sympy.Rational]:
    """Points in an open interval: typical values, near the edges, extreme magnitudes."""
    lo, hi = interval
    cands: list[float] = []
    for m in (1e-30, 1e-8, 1e-3, 0.5, 1.0, 2.5, 7.0, 30.0, 1e3, 1e8):
        for v in (m, -m):
            if lo < v < hi:
                cands.append(v)
    for edge in (lo, hi):
        if math.isfinite(edge):
            for d in (1e-20, 1e-6, 0.1):
                for v in (edge + d, edge - d):
                    if lo < v < hi:
                        cands.append(v)
    t_lo, t_hi = max(typical[0], lo), min(typical[1], hi)
    if t_lo < t_hi:
        cands.extend(rng.uniform(t_lo, t_hi, size=max(4, n // 2)).tolist())
    vals = [cands[i] for i in rng.choice(len(cands), size=n, replace=True)]
    return [sympy.Rational(v) for v in vals]


def _exact_vjp(ans: np.ndarray, g: np.ndarray, arg: np.ndarray) -> np.ndarray:
    out = np.empty(arg.shape, dtype=object)
    flat_ans = list(np.asarray(ans, dtype=object).reshape(-1))
    flat_g = list(np.asarray(g, dtype=object).reshape(-1))
    for idx in np.ndindex(*arg.shape):
        s = arg[idx]
        out[idx] = sympy.Add(*[gi * sympy.diff(ai, s) for gi, ai in zip(flat_g, flat_ans)
                               if s in sympy.sympify(ai).free_symbols])
    return out


def _rule(op: Op, k: int):
    return op.vjp[0] if op.variadic else op.vjp[k]


def _rule_value(op: Op, k: int, g, ans, args, params) -> np.ndarray:
    if op.variadic:
        r = op.vjp[0](SYMPY, g, ans, *args, i=k, **params)
    else:
        r = op.vjp[k](SYMPY, g, ans, *args, **params)
    r = np.asarray(r, dtype=object) if not isinstance(r, np.ndarray) else r.astype(object)
    shape = np.shape(args[k])
    return unbroadcast(SYMPY, r, shape) if r.shape != shape else r


def _differences(op: Op, shapes: tuple, params: dict, pieces: tuple, order: int,
                 ) -> tuple[list[np.ndarray], list, dict]:
    """Per differentiable argument: rule minus exact derivative (object arrays), plus the
    symbols to sample and their intervals."""
    args: list[Any] = []
    sym_intervals: dict = {}
    names = [f"t{i}" for i in range(len(shapes))] if op.variadic else op.arg_names
    for n, shape, piece, dom in zip(names, shapes, pieces, _domains(op, len(shapes))):
        if shape is None:
            args.append(None)
            continue
        syms = symbol_array(n, shape, **_assumptions(piece))
        args.append(syms)
        for s in syms.reshape(-1):
            sym_intervals[s] = (piece, dom.typical)
    params = {k: (sympy.Rational(v) if isinstance(v, float) else v) for k, v in params.items()}
    ans = mirror_call(op, list(args), params)
    g = symbol_array("g", np.shape(ans))
    for s in g.reshape(-1):
        sym_intervals[s] = ((-math.inf, math.inf), (-2.0, 2.0))
    diffs, labels = [], []
    for k in range(len(args)):
        rule = _rule(op, k)
        if rule is None or args[k] is None:
            continue
        rv = _rule_value(op, k, g, ans, args, params)
        if order == 1:
            ex = _exact_vjp(ans, g, args[k])
            diffs.append(np.asarray(rv - ex, dtype=object))
            labels.append(names[k])
        else:
            # second order: d(rule_k)/d(a_m) == d/d(a_m) of the exact VJP, for every m
            ex = _exact_vjp(ans, g, args[k])
            for m, am in enumerate(args):
                if am is None or _rule(op, m) is None:
                    continue
                d_rule = _exact_vjp(rv, np.ones(rv.shape, dtype=object), am)
                d_ex = _exact_vjp(ex, np.ones(ex.shape, dtype=object), am)
                diffs.append(np.asarray(d_rule - d_ex, dtype=object))
                labels.append(f"{names[k]},{names[m]}")
    return list(zip(labels, diffs)), args, sym_intervals


def _domains(op: Op, n: int | None = None):
    from symgrad.ops._record import REAL

    n = len(op.arg_names) if n is None else n
    doms = list(op.domain)[:n] + [REAL] * max(0, n - len(op.domain))
    return doms


def _check_example(op: Op, shapes: tuple, params: dict, points: int, rng, order: int,
                   ) -> tuple[str, str, dict | None]:
    doms = _domains(op, len(shapes))
    piece_lists = [d.intervals if s is not None else ((-math.inf, math.inf),)
                   for d, s in zip(doms, shapes)]
    verdict = PROVED
    for pieces in itertools.product(*piece_lists):
        diffs, _, sym_intervals = _differences(op, shapes, params, pieces, order)
        undecided = [(lab, d) for lab, d in diffs
                     if any(_is_zero(e) is not True for e in d.reshape(-1))]
        if not undecided:
            continue
        verdict = AGREE_SAMPLED
        bad = _sample(undecided, sym_intervals, points, rng)
        if bad is not None:
            return MISMATCH, bad[0], bad[1]
    return verdict, "", None


def _sample(undecided, sym_intervals: dict, points: int, rng) -> tuple[str, dict] | None:
    exprs = [e for _, d in undecided for e in d.reshape(-1)]
    owners = [lab for lab, d in undecided for _ in d.reshape(-1)]
    syms = sorted(set().union(*(sympy.sympify(e).free_symbols for e in exprs)), key=str)
    values = {s: _sample_values(sym_intervals[s][0], rng, points, sym_intervals[s][1])
              for s in syms}
    for p in range(points):
        point = {s: values[s][p] for s in syms}

        def compute():
            mp_point = {s: mpmath.mpf(v.p) / v.q for s, v in point.items()}
            return mp_eval(exprs, mp_point)

        vals = stable_eval(compute, 50)
        for lab, e, v in zip(owners, exprs, vals):
            # the difference is rule - exact; compare it with the size of the rule's terms
            if mpmath.isnan(v) or abs(v) > mpmath.mpf(10) ** -45 * _scale(e, point):
                where = {str(s): float(point[s]) for s in syms}
                return (f"argument {lab}: rule - d(mirror) = {mpmath.nstr(v, 8)} at "
                        f"{_fmt_point(where)}", {"argument": lab, "difference": str(v),
                                                 "point": where})
    return None


def _scale(e, point) -> mpmath.mpf:
    """Magnitude of the terms of ``e`` at ``point`` (so tiny differences count relatively)."""
    terms = sympy.Add.make_args(sympy.sympify(e))

    def compute():
        mp_point = {s: mpmath.mpf(v.p) / v.q for s, v in point.items()}
        return mp_eval(list(terms), mp_point)

    vals = stable_eval(compute, 20)
    m = max((abs(v) for v in vals if mpmath.isfinite(v)), default=mpmath.mpf(0))
    return max(m, mpmath.mpf(10) ** -300)


def _fmt_point(where: dict) -> str:
    items = list(where.items())
    shown = ", ".join(f"{k}={v:.6g}" for k, v in items[:6])
    return shown + (f", ... ({len(items)} values)" if len(items) > 6 else "")


def check_rules(ops: Iterable[str] | None = None, points: int = 20, order: int = 1,
                seed: int = 0) -> list[RuleResult]:
    """One result per differentiable op (or per name in ``ops``, a name or a list of them):
    proved, agree or MISMATCH. Ops without a gradient or a mirror have no rule to prove and
    give no result."""
    names = list(OPS) if ops is None else [ops] if isinstance(ops, str) else list(ops)
    rng = np.random.default_rng(seed)
    results = []
    for name in names:
        if name not in OPS:
            raise KeyError(f"no op named {name!r}")
        op = OPS[name]
        if not op.differentiable or op.mirror is None:
            continue
        t0 = time.perf_counter()
        verdict, detail, counter = PROVED, "", None
        exs = examples_of(op)
        for shapes, params in exs:
            v, d, c = _check_example(op, shapes, params, max(points, 1), rng, order)
            if v == MISMATCH:
                verdict, detail, counter = v, f"{_fmt_example(shapes, params)}: {d}", c
                break
            if v == AGREE_SAMPLED:
                verdict = AGREE_SAMPLED
                detail = f"{points} points per undecided example"
        results.append(RuleResult(op=name, kind=op.kind, verdict=verdict,
                                  seconds=time.perf_counter() - t0, detail=detail,
                                  counterexample=counter, examples=len(exs)))
    return results


def _fmt_example(shapes, params) -> str:
    p = ", ".join(f"{k}={v}" for k, v in params.items())
    return f"shapes {list(shapes)}" + (f", {p}" if p else "")
