"""Naming the node that is wrong: each op checked on its own, at the recorded point.

For every node, in the order the graph was built:

* forward: the op's careful forward at high precision against its textbook mirror;
* rule: for each differentiable argument, ``<rule(u), v>`` at high precision against
  ``d/dt <u, mirror(a + t v)>`` at ``t = 0`` (SymPy), for random rational ``u``, ``v``.
  The two are equal for a correct rule (the dot-product test of a VJP against a JVP);
  a formula that is off anywhere in the argument's range shows up as a difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy

from symgrad.autograd.graph import AccumulateGrad
from symgrad.symbolic.printing import short
from symgrad.verify.compare import HP_DIGITS, RULE_TOLERANCE, hp_close
from symgrad.verify.highprec import HighPrecision, mp_vjp

__all__ = ["NodeFinding", "localize", "local_closed_form", "smooth_at"]


@dataclass
class NodeFinding:
    """One node whose forward or rule disagrees with its mirror."""

    node: str
    op: str
    kind: str                      # "forward" or "rule"
    argument: str | None
    shapes: dict[str, tuple] = field(default_factory=dict)
    expected: str = ""
    rule_value: float = 0.0
    exact_value: float = 0.0
    discrepancy: float = 0.0
    position: int = 0

    def describe(self) -> str:
        where = f"{self.node} (op {self.op}, node #{self.position} in creation order)"
        shapes = ", ".join(f"{k}: {v}" for k, v in self.shapes.items())
        if self.kind == "forward":
            return (f"{where}: the forward disagrees with the SymPy mirror (shapes {shapes}); "
                    f"forward gives {self.rule_value!r}, mirror gives {self.exact_value!r} "
                    f"(relative difference {self.discrepancy:.3g}). Either the forward or the "
                    "mirror is wrong.")
        return (f"{where}: the VJP rule for argument '{self.argument}' disagrees with the "
                f"derivative of the mirror (shapes {shapes}); expected d/d{self.argument} = "
                f"{self.expected}; along a random direction the rule gives {self.rule_value!r}, "
                f"the exact derivative {self.exact_value!r} (relative difference "
                f"{self.discrepancy:.3g}).")

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "op": self.op, "kind": self.kind, "argument": self.argument,
                "shapes": {k: list(v) for k, v in self.shapes.items()},
                "expected": self.expected, "rule_value": self.rule_value,
                "exact_value": self.exact_value, "discrepancy": self.discrepancy,
                "position": self.position}


def _rational_array(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Random non-zero rationals (exact in SymPy, mpmath and float)."""
    nums = rng.integers(1, 10, size=shape) * rng.choice([-1, 1], size=shape)
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        out[idx] = sympy.Rational(int(nums[idx]), 8)
    return out


def _mp(a: np.ndarray) -> np.ndarray:
    out = np.empty(a.shape, dtype=object)
    for idx in np.ndindex(*a.shape):
        r = a[idx]
        out[idx] = mpmath.mpf(r.p) / r.q
    return out


def _value(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def local_closed_form(node, arg_index: int) -> str:
    """A representative entry of the derivative of the node's mirror by one argument."""
    op = getattr(node, "op", None)
    if op is None:
        return _custom_closed_form(node, arg_index)
    names = op.arg_names
    try:
        if op.elementwise:
            syms = [sympy.Symbol(n, real=True) for n in names]
            args = [s if i == arg_index or (p is not None)
                    else (a if not isinstance(a, np.ndarray) else sympy.Symbol(n, real=True))
                    for i, (s, n, (p, _), a) in enumerate(zip(syms, names, node.next_functions,
                                                                node._args))]
            params = {k: (sympy.Rational(v) if isinstance(v, float) else v)
                      for k, v in (node._params or {}).items()}
            expr = op.mirror(*args, **params)
            return short(sympy.diff(expr, syms[arg_index]), 80)
    except Exception:  # noqa: BLE001 - a display nicety must never break a report
        pass
    return f"the derivative of {op.name}'s mirror by '{names[arg_index]}'"


def _custom_closed_form(node, arg_index: int) -> str:
    fn = node.fn
    try:
        if getattr(fn, "elementwise", False):
            syms = [sympy.Symbol(node.arg_name(i), real=True) for i in range(len(node._args))]
            return short(sympy.diff(fn.mirror(*syms), syms[arg_index]), 80)
    except Exception:  # noqa: BLE001 - a display nicety must never break a report
        pass
    return f"the derivative of {fn.__name__}.mirror by '{node.arg_name(arg_index)}'"


def localize(hp: HighPrecision, seed: int = 0) -> list[NodeFinding]:
    """Every node whose forward or rule disagrees with its mirror, in creation order."""
    rng = np.random.default_rng(seed)
    findings: list[NodeFinding] = []
    nodes = [n for n in reversed(hp.order) if type(n) is not AccumulateGrad]
    for pos, node in enumerate(nodes):
        op = getattr(node, "op", None)
        custom = getattr(node, "fn", None)
        if op is None and custom is None:
            continue
        if op is not None and op.mirror is None:
            continue
        if custom is not None and getattr(custom, "mirror", None) is None:
            continue
        op_name = op.name if op is not None else custom.__name__
        args = hp.args[node]
        ans = np.asarray(hp.values[node], dtype=object)
        shapes = {node.arg_name(i): tuple(np.shape(a)) for i, a in enumerate(args)
                  if isinstance(a, np.ndarray)}
        sym_args, point = _symbolic_args(node, args)
        if op is not None:
            exact_out = _evaluate(np.asarray(node.replay(list(sym_args)), dtype=object), point)
            ok, rel, where = hp_close(ans, exact_out.reshape(ans.shape))
            if not ok:
                at = where if where != () else (0,) * ans.ndim
                findings.append(NodeFinding(
                    node=node.name(), op=op_name, kind="forward", argument=None, shapes=shapes,
                    rule_value=_value(ans[at]),
                    exact_value=_value(exact_out.reshape(ans.shape)[at]),
                    discrepancy=rel, position=pos))
                continue
        u = _rational_array(rng, ans.shape)
        if op is not None:
            rules = op.vjp if not op.variadic else op.vjp * len(node.next_functions)
        else:
            rules = [True] * len(node.next_functions)
        const = getattr(node, "_const", None) or ()
        for k, ((parent, _), rule) in enumerate(zip(node.next_functions, rules)):
            # a constant recorded by record_all has an edge but no gradient: its rule never
            # runs (mp_vjp gives None for it), so there is nothing to check
            if parent is None or rule is None or k in const:
                continue
            with mpmath.workdps(hp.dps):
                grads = mp_vjp(node, _mp(u), args, hp.values[node])
                r = np.asarray(grads[k], dtype=object)
                v = _rational_array(rng, r.shape)
                terms = [r[i] * (mpmath.mpf(v[i].p) / v[i].q) for i in np.ndindex(*r.shape)]
                rule_dot = mpmath.fsum(terms)
                scale = mpmath.fsum(abs(t) for t in terms)
            exact = _directional(node, sym_args, point, k, v, u)
            with mpmath.workdps(hp.dps):
                diff = abs(rule_dot - exact)
                denom = max(scale, abs(exact))
                rel_d = diff / denom if denom else diff
                bad = not rel_d <= RULE_TOLERANCE
            if bad:
                findings.append(NodeFinding(
                    node=node.name(), op=op_name, kind="rule", argument=node.arg_name(k),
                    shapes=shapes, expected=local_closed_form(node, k),
                    rule_value=_value(rule_dot), exact_value=_value(exact),
                    discrepancy=_value(rel_d), position=pos))
    return findings


def smooth_at(hp: HighPrecision, node, seed: int = 0) -> bool:
    """Whether ``node``'s op is differentiable at its recorded inputs: the derivative of
    its mirror along random directions is finite for every argument with a gradient. A rule
    that divided by exactly zero there is then at fault, not the point (False when the
    node has no mirror: nothing to tell them apart)."""
    op = getattr(node, "op", None)
    if op is None or op.mirror is None or node not in hp.args:
        return False
    rng = np.random.default_rng(seed)
    args = hp.args[node]
    sym_args, point = _symbolic_args(node, args)
    u = _rational_array(rng, np.shape(hp.values[node]))
    const = node._const or ()
    for k, (parent, _) in enumerate(node.next_functions):
        if parent is None or k in const or not isinstance(sym_args[k], (np.ndarray,
                                                                           sympy.Basic)):
            continue
        v = _rational_array(rng, np.shape(args[k]))
        if not mpmath.isfinite(_directional(node, sym_args, point, k, v, u)):
            return False
    return True


def _symbolic_args(node, args: list) -> tuple[list, dict]:
    """Symbols standing for the node's array arguments, and their high-precision values."""
    sym_args, point = [], {}
    for i, a in enumerate(args):
        n = node.arg_name(i).replace("[", "").replace("]", "")
        if isinstance(a, np.ndarray) and a.dtype == object and a.size and not isinstance(
                a.reshape(-1)[0], (bool, np.bool_)):
            syms = np.empty(a.shape, dtype=object)
            for idx in np.ndindex(*a.shape):
                s = sympy.Dummy(f"{n}{list(idx)}", real=True)
                syms[idx] = s
                point[s] = a[idx]
            sym_args.append(syms)
        elif isinstance(a, mpmath.mpf):
            s = sympy.Dummy(n, real=True)
            point[s] = a
            sym_args.append(s)
        else:
            sym_args.append(a)
    return sym_args, point


def _evaluate(exprs: np.ndarray, point: dict) -> np.ndarray:
    """``exprs`` at ``point`` (symbol -> mpmath value), precision raised until stable."""
    from symgrad.symbolic.derive import stable_eval
    from symgrad.symbolic.mpeval import mp_eval

    flat = [sympy.sympify(e) for e in exprs.reshape(-1)]
    flat = [sympy.S.One * bool(e) if isinstance(e, sympy.logic.boolalg.BooleanAtom) else e
            for e in flat]
    syms = sorted(set().union(*(e.free_symbols for e in flat)) & set(point), key=str)
    vals = stable_eval(lambda: mp_eval(flat, {s: +point[s] for s in syms}), HP_DIGITS)
    return np.array(vals, dtype=object).reshape(exprs.shape)


def _directional(node, sym_args: list, point: dict, k: int, v: np.ndarray, u: np.ndarray):
    """``d/dt <u, mirror(..., a_k + t v, ...)>`` at ``t = 0``, evaluated to high precision."""
    t = sympy.Dummy("t", real=True)  # a complex t turns Abs into re/im derivatives
    shifted = list(sym_args)
    base = np.asarray(sym_args[k], dtype=object)
    shifted[k] = base + t * v
    out = np.asarray(node.replay(shifted), dtype=object)
    total = sympy.S.Zero
    for idx in np.ndindex(*out.shape):
        e = sympy.sympify(out[idx])
        if e.has(t):
            total += u[idx] * sympy.diff(e, t).subs(t, 0)
    return _evaluate(np.array([total], dtype=object), point)[0]
