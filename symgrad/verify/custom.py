"""``check_op``: verify a custom ``Function`` (or any op-like callable) at many points.

The points cover the domain's typical range, values near its edges and extreme magnitudes;
each is checked like ``verify.check`` (VJP mode, random cotangent) and the worst result per
input is reported, with the points where something other than "agree" happened.
"""

from __future__ import annotations

import math
from typing import Any
from collections.abc import Sequence

import numpy as np

from symgrad.ops._record import Domain
from symgrad.tensor import Tensor, as_tensor
from symgrad.verify.check import check
from symgrad.verify.compare import AGREE, FORWARD_MISMATCH, INACCURATE, KINK, MISMATCH
from symgrad.verify.report import Report, Row

__all__ = ["check_op"]

_RANK = {AGREE: 0, KINK: 1, INACCURATE: 2, FORWARD_MISMATCH: 3, MISMATCH: 4}


def _domains(domain: Any, n: int) -> list[Domain]:
    if domain is None:
        return [Domain()] * n
    if isinstance(domain, Domain):
        return [domain] * n
    if isinstance(domain, tuple) and len(domain) == 2 and all(
            isinstance(v, (int, float)) for v in domain):
        lo, hi = float(domain[0]), float(domain[1])
        return [Domain(((lo, hi),), (max(lo, -4.0), min(hi, 4.0)) if lo < 4 and hi > -4
                       else (lo, hi))] * n
    out = list(domain)
    if len(out) != n:
        raise ValueError(f"domain has {len(out)} entries for {n} inputs")
    return [d if isinstance(d, Domain) else _domains(d, 1)[0] for d in out]


def _points(dom: Domain, shape: tuple, rng: np.random.Generator, k: int) -> np.ndarray:
    """Point k: typical values first, then edges and extreme magnitudes mixed in."""
    lo, hi = dom.typical
    a = rng.uniform(lo, hi, size=shape)
    if k == 0:
        return a
    specials = []
    for m in (1e-300, 1e-12, 1e-6, 30.0, 300.0, 700.0, 1e8, 1e150):
        specials += [m, -m]
    for ilo, ihi in dom.intervals:
        for edge in (ilo, ihi):
            if math.isfinite(edge):
                specials += [edge + 1e-9, edge - 1e-9, edge + 1e-3, edge - 1e-3]
    inside = [v for v in specials if any(ilo < v < ihi for ilo, ihi in dom.intervals)]
    if inside and k % 2 == 1:
        flat = a.reshape(-1)
        pick = rng.choice(len(inside), size=flat.size)
        mask = rng.random(flat.size) < 0.5
        flat[mask] = np.asarray(inside)[pick[mask]]
        a = flat.reshape(shape)
    return a


def _arg_names(fn: Any, n: int) -> list[str] | None:
    import inspect

    target = fn.forward if isinstance(fn, type) and hasattr(fn, "forward") else fn
    try:
        params = list(inspect.signature(target).parameters)
    except (TypeError, ValueError):
        return None
    if isinstance(fn, type):
        params = params[1:]          # ctx
    params = [p for p in params if p.isidentifier()]
    return params[:n] if len(params) >= n else None


def check_op(fn: Any, *example_inputs: Any, domain: Any = None, points: int = 20,
             seed: int = 0, names: Sequence[str] | None = None) -> Report:
    """Check ``fn`` (a ``Function`` subclass or a callable on tensors) at ``points`` points
    shaped like ``example_inputs``; ``domain`` is a ``Domain``, a ``(lo, hi)`` pair or one
    per input."""
    call = fn.apply if hasattr(fn, "apply") and isinstance(fn, type) else fn
    if names is None:
        names = _arg_names(fn, len(example_inputs))
    title = f"check_op {getattr(fn, '__name__', 'fn')}"
    examples = [as_tensor(x) for x in example_inputs]
    doms = _domains(domain, len(examples))
    rng = np.random.default_rng(seed)
    worst: dict[str, Row] = {}
    report = Report(title=title, mode=f"vjp at {points} points")
    bad_points = []
    for k in range(points):
        ins = []
        for ex, dom in zip(examples, doms):
            if ex._data.dtype.kind == "f":
                ins.append(Tensor._wrap(_points(dom, ex._data.shape, rng, k)
                                        .astype(ex._data.dtype)))
            else:
                ins.append(ex)
        r = check(lambda *a: call(*a), *ins, mode="vjp", names=names, seed=seed + k,
                  title=title)
        for row in r.rows:
            prev = worst.get(row.name)
            if prev is None or _RANK.get(row.verdict, 0) > _RANK.get(prev.verdict, 0) or (
                    row.verdict == prev.verdict and
                    row.comparison.max_ulps > prev.comparison.max_ulps):
                worst[row.name] = row
            if row.verdict != AGREE:
                bad_points.append((k, row.name, row.verdict,
                                   [np.asarray(t._data).reshape(-1)[:4].tolist() for t in ins]))
        for f in r.findings:
            if all(f.describe() != g.describe() for g in report.findings):
                report.findings.append(f)
        report.kinks.extend(r.kinks)
    report.rows = list(worst.values())
    for k, name, verdict, vals in bad_points[:8]:
        report.notes.append(f"point {k}: {name} {verdict} (inputs start {vals})")
    if len(bad_points) > 8:
        report.notes.append(f"... and {len(bad_points) - 8} more")
    return report
