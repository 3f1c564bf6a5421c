"""Comparing a float64 result with an exact (high-precision) value, and the verdicts.

Two questions, two different yardsticks:

* Is the *rule* right? The rule is re-run at ``HP_DIGITS`` digits and compared with the
  exact derivative. Both are good to ~50 digits, float64 to ~16, so any threshold in
  between separates "wrong formula" from "rounding"; ``RULE_TOLERANCE`` (1e-30, relative
  to the tensor's largest entry) sits in the middle of that gap. Nothing needs tuning.
* Did *float64* deliver it? The float64 result is compared with the correctly rounded
  exact value in ULPs of the tensor's largest entry, against an a-priori rounding budget
  that grows with the number of recorded operations (``ulp_budget``), widened to what the
  same computation gives when run at slightly less than float64 precision (so the
  cancellation inherent in ``tanh(x) - x`` or in ``s(x)(1 - s(x))`` is rounding, not a
  fault). A result that keeps less than half of float64's digits (normwise relative error
  above 2^-26) has lost its value all the same, as has inf or nan where the exact value is
  finite. Values that underflow to 0 or overflow to inf exactly as the exact value does
  agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np

from symgrad.symbolic.mpeval import magnitude
from mpmath.libmp import from_float, mpf_abs, mpf_div, mpf_gt, mpf_sub, to_float

__all__ = ["Comparison", "compare", "hp_close", "ulp_budget", "HP_DIGITS", "RULE_TOLERANCE",
           "AGREE", "MISMATCH", "INACCURATE", "KINK", "FORWARD_MISMATCH", "VERDICTS"]

HP_DIGITS = 50
RULE_TOLERANCE = mpmath.mpf("1e-30")

AGREE = "agree"
MISMATCH = "rule mismatch"
INACCURATE = "numerically inaccurate"
KINK = "non-differentiable point"
FORWARD_MISMATCH = "forward mismatch"
VERDICTS = (AGREE, MISMATCH, INACCURATE, KINK, FORWARD_MISMATCH)

_TINY = np.finfo(np.float64).tiny
_MPF = type(mpmath.mpf(0))
_SUBNORMAL = from_float(float(np.spacing(0.0)))   # the smallest positive float64
_NORMAL = float(_TINY)   # the smallest normal float64
#: Rounding can explain an error, but a result with less than half of float64's digits
#: (normwise relative error above 2^-26) has still lost its value: numerically inaccurate.
_HALF_DIGITS = 2.0 ** -26


def ulp_budget(n_ops: int) -> float:
    """ULPs (of the largest exact entry) that float64 may lose over ``n_ops`` recorded ops.

    A standard a-priori bound: each op adds a few roundings; 4 per op plus a floor of 16.
    """
    return 4.0 * n_ops + 16.0


@dataclass
class Comparison:
    """How a float64 array compares with its exact value."""

    max_abs: float = 0.0
    max_rel: float = 0.0
    max_ulps: float = 0.0
    worst: tuple = ()
    worst_numeric: float = 0.0
    worst_exact: float = 0.0
    within: bool = True
    nonfinite: bool = False
    lost_digits: bool = False       # relative (normwise) error above 2^-26
    max_cmp: float = 0.0            # ulps not explained by inherited forward rounding
    explained: float = 0.0          # ulps explained by it
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"max_abs_error": _json_float(self.max_abs), "max_rel_error":
                _json_float(self.max_rel), "max_ulps": _json_float(self.max_ulps),
                "worst_index": list(self.worst), "worst_numeric": _json_float(self.worst_numeric),
                "worst_exact": _json_float(self.worst_exact)}


def _json_float(x: float):
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


def _isnan(v) -> bool:
    return isinstance(v, (mpmath.mpf, float)) and mpmath.isnan(v)


def compare(numeric: np.ndarray, exact: np.ndarray, budget: float,
            inherited: np.ndarray | None = None, support: np.ndarray | None = None
            ) -> Comparison:
    """Errors of ``numeric`` (float64) against ``exact`` (mpmath numbers), same shape.

    ``inherited`` (optional, same shape): per entry, the value (or a tuple of values) the
    rules give on the float64 forward values, at high precision and at slightly less than
    float64 precision. Their distance from ``exact`` is rounding error of this computation
    path; an entry whose error stays within twice the largest of them plus the ULP budget
    is within rounding.

    ``support`` (optional, sorted flat indices): ``exact`` is exactly 0 everywhere else, so
    entries there where ``numeric`` is 0 too are skipped without a look (most of a large
    Jacobian); the result is the same as without it.
    """
    num = np.asarray(numeric, dtype=np.float64)
    ex = np.asarray(exact, dtype=object)
    c = Comparison()
    if num.size == 0:
        return c
    if support is None:
        entries, skipped = range(num.size), None
    else:
        live = np.union1d(np.asarray(support, dtype=np.intp), np.flatnonzero(num))
        entries = live.tolist()
        skipped = _first_missing(live, num.size)
    shape = num.shape
    num_flat, ex_flat = num.reshape(-1), ex.reshape(-1)
    inh_flat = inherited.reshape(-1) if inherited is not None else None
    # (np.errstate: an exact scale beyond float64's range has an infinite spacing)
    with mpmath.workdps(HP_DIGITS + 10), np.errstate(over="ignore", invalid="ignore"):
        scale = magnitude(ex if support is None else ex.reshape(-1)[live])
        fl_scale = float(scale) if scale else 0.0
        spacing = np.spacing(min(abs(fl_scale), np.finfo(np.float64).max)) if fl_scale else \
            np.spacing(0.0)
        spacing = max(spacing, np.spacing(0.0))
        spacing_f = float(spacing)
        spacing_m = from_float(spacing_f)
        prec, rnd = mpmath.mp._prec_rounding
        worst_key = -1.0
        for f in entries:
            if worst_key < 0 and skipped is not None and skipped < f:
                worst_key = 0.0   # a skipped zero came first: as if seen in order
                c.worst, c.worst_numeric, c.worst_exact = _unravel(skipped, shape), 0.0, 0.0
            n, e = float(num_flat[f]), ex_flat[f]
            if n == 0.0 and type(e) is mpmath.mpf and not e:   # exact zero: no error at all
                if worst_key < 0:
                    worst_key = 0.0
                    c.worst, c.worst_numeric, c.worst_exact = _unravel(f, shape), n, 0.0
                continue
            em = e._mpf_ if type(e) is _MPF else None
            if (em is None or not em[1]) and _isnan(e):   # (a nonzero mantissa is finite)
                if not math.isnan(n):
                    c.within = False
                    c.notes.append(f"exact value undefined at {_unravel(f, shape)}, float64 "
                                   f"gave {n}")
                continue
            if em is not None and em[1] and math.isfinite(n):
                # The common case, e finite and nonzero and n finite, on mpmath's tuples with
                # the roundings of the general branch's operators (an mpf object per step was
                # most of a large Jacobian's comparison time).
                fe = to_float(em, rnd=rnd)
                if math.isinf(fe):
                    err = ulps = rel = 0.0 if n == fe else math.inf
                else:
                    dm = mpf_abs(mpf_sub(from_float(n), em, prec, rnd), prec, rnd)
                    err = to_float(dm, rnd=rnd)
                    ulps = err / spacing_f if _NORMAL <= err < math.inf else \
                        0.0 if not dm[1] else -1.0
                    if ulps < _NORMAL and (ulps or dm[1]):
                        ulps = to_float(mpf_div(dm, spacing_m, prec, rnd), rnd=rnd)
                    rel = to_float(mpf_div(dm, mpf_abs(em, prec, rnd), prec, rnd), rnd=rnd)
                    if abs(fe) < _TINY and abs(n) <= _TINY:   # both in the subnormal range
                        ulps = min(ulps, to_float(mpf_div(dm, _SUBNORMAL, prec, rnd), rnd=rnd))
            else:
                fe = float(e)                     # correctly rounded (±inf on overflow)
                if not mpmath.isfinite(e) or math.isinf(fe):
                    ok = n == fe
                    err = 0.0 if ok else math.inf
                    ulps = 0.0 if ok else math.inf
                    rel = 0.0 if ok else math.inf
                    if ok and mpmath.isfinite(e) and not c.notes:
                        c.notes.append(f"{mpmath.nstr(e, 6)} at {_unravel(f, shape)} is beyond "
                                       f"float64's range: {n} is its correct rounding")
                elif not math.isfinite(n):
                    if not c.nonfinite:
                        c.notes.append(f"float64 gave {n} at {_unravel(f, shape)} where the "
                                       f"exact value is {fe:.6g}")
                    c.nonfinite = True
                    err = ulps = rel = math.inf
                else:
                    d = abs(mpmath.mpf(n) - e)
                    err = float(d)
                    # float(d / spacing), without the division: spacing is a power of two,
                    # so scaling err (d rounded) is exact while both stay in the normal range
                    ulps = err / spacing_f if _NORMAL <= err < math.inf else \
                        0.0 if not d else -1.0
                    if ulps < _NORMAL and (ulps or d):
                        ulps = float(d / spacing)
                    rel = float(d / abs(e)) if e != 0 else (0.0 if d == 0 else math.inf)
                    if abs(fe) < _TINY and abs(n) <= _TINY:   # both in the subnormal range
                        ulps = min(ulps, float(d / np.spacing(0.0)))
            if inh_flat is not None and math.isfinite(ulps) and ulps > budget:
                cands = inh_flat[f] if isinstance(inh_flat[f], tuple) else (inh_flat[f],)
                if all(mpmath.isfinite(r) for r in cands) and mpmath.isfinite(e):
                    allowed = 2 * max(abs(r - e) for r in cands) + budget * spacing
                    if abs(mpmath.mpf(n) - e) <= allowed:
                        c.explained = max(c.explained, ulps)
                        ulps_cmp = 0.0
                    else:
                        ulps_cmp = ulps
                else:
                    ulps_cmp = ulps
            else:
                ulps_cmp = ulps
            if math.isfinite(ulps) and ulps * spacing > _HALF_DIGITS * fl_scale and ulps > budget:
                c.lost_digits = True
            c.max_cmp = max(c.max_cmp, ulps_cmp)
            key = ulps
            if key > worst_key:
                worst_key = key
                c.worst, c.worst_numeric, c.worst_exact = _unravel(f, shape), n, fe
            c.max_abs = max(c.max_abs, err)
            c.max_rel = max(c.max_rel, rel)
            c.max_ulps = max(c.max_ulps, ulps)
        if worst_key < 0 and skipped is not None:
            c.worst, c.worst_numeric, c.worst_exact = _unravel(skipped, shape), 0.0, 0.0
        if c.max_cmp > budget or c.lost_digits:
            c.within = False
        if c.lost_digits:
            c.notes.append("more than half of float64's digits are lost (relative error above "
                           "2^-26 of the largest entry)")
        if c.explained:
            c.notes.append(f"up to {c.explained:.0f} ulps, no more than the same formulas give "
                           "on the recorded float64 values at float64-like precision")
    return c


def _unravel(f: int, shape: tuple) -> tuple:
    """Flat index ``f`` as a tuple of ints (row-major), without numpy's call overhead."""
    idx = []
    for n in reversed(shape):
        f, i = divmod(f, n)
        idx.append(i)
    return tuple(reversed(idx))


def _first_missing(live: np.ndarray, size: int) -> int | None:
    """The smallest index in ``range(size)`` not in the sorted unique array ``live``."""
    if live.size == size:
        return None
    gaps = np.flatnonzero(live != np.arange(live.size))
    return int(gaps[0]) if gaps.size else int(live.size)


def _both_zero(x: Any, y: Any) -> bool:
    return type(x) is mpmath.mpf and type(y) is mpmath.mpf and not x and not y


def hp_close(a: np.ndarray, b: np.ndarray, floor: Any = 0, support: np.ndarray | None = None
             ) -> tuple[bool, float, tuple]:
    """Whether two high-precision arrays agree to ``RULE_TOLERANCE`` (normwise), with the
    relative discrepancy and the index where it is largest.

    ``floor``: the magnitude of the terms the values were computed from; a difference far
    below it is cancellation beyond the working precision (1 - tanh(x)^2 - 1 at x = 1e-173),
    not a wrong rule. ``support`` (optional flat indices): both are exactly 0 elsewhere.
    """
    a = np.asarray(a, dtype=object)
    b = np.asarray(b, dtype=object)
    if a.shape != b.shape:
        return False, math.inf, ()
    flat_a, flat_b = a.reshape(-1), b.reshape(-1)
    # Exact zeros on both sides (most of a Jacobian) cannot change the verdict: skip them.
    live = [k for k in (range(flat_a.size) if support is None else map(int, support))
            if not _both_zero(flat_a[k], flat_b[k])]
    with mpmath.workdps(HP_DIGITS + 10):
        scale = mpmath.mpf(floor) if floor else mpmath.mpf(0)
        scale = max(scale, magnitude(flat_a[live]), magnitude(flat_b[live]))
        worst, where = mpmath.mpf(0), ()
        prec, rnd = mpmath.mp._prec_rounding
        top = worst._mpf_
        for k in live:
            x, y = flat_a[k], flat_b[k]
            if type(x) is _MPF and type(y) is _MPF and x._mpf_[1] and y._mpf_[1]:
                # both finite and nonzero (the common case): on mpmath's tuples, as below
                d = mpf_abs(mpf_sub(x._mpf_, y._mpf_, prec, rnd), prec, rnd)
                if mpf_gt(d, top):
                    top, where = d, _unravel(k, a.shape)
                continue
            if _isnan(x) or _isnan(y):
                if not (_isnan(x) and _isnan(y)):
                    return False, math.inf, _unravel(k, a.shape)
                continue
            if not (mpmath.isfinite(x) and mpmath.isfinite(y)):
                if x != y:
                    return False, math.inf, _unravel(k, a.shape)
                continue
            d = mpmath.mpf(abs(x - y))
            if mpf_gt(d._mpf_, top):
                top, where = d._mpf_, _unravel(k, a.shape)
        worst = mpmath.mpf(top)
        if scale == 0:
            return worst == 0, float(worst), where
        rel = worst / scale
        return rel <= RULE_TOLERANCE, float(rel), where
