"""Second derivatives: the engine's Hessian (``create_graph=True``) against the exact one.

The gradient the engine builds with ``create_graph=True`` is itself a recorded graph of
ordinary ops, so the first-order machinery applies to it unchanged: its rules re-run at
high precision give the rule-level Hessian, which must equal ``sympy.diff`` applied twice
to the mirror. Large inputs are compared through ``v^T H w`` for random ``v``, ``w``.
"""

from __future__ import annotations

from functools import partial

import mpmath
import numpy as np
import sympy

from symgrad.autograd.api import grad as autograd_grad
from symgrad.autograd.engine import topological_order
from symgrad.ops.namespaces import to_mpmath
from symgrad.symbolic import derive
from symgrad.symbolic.mirror import info
from symgrad.tensor import Tensor
from symgrad.verify.compare import HP_DIGITS, compare, hp_close
from symgrad.verify.highprec import recorded_gradients, stable_gradients
from symgrad.verify.report import Row

__all__ = ["hessian_rows"]


def _zeros_mp(shape) -> np.ndarray:
    z = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        z[idx] = mpmath.mpf(0)
    return z


def _first_entry(label: str, t: Tensor) -> str:
    shape = t._data.shape
    return f"{label}[{','.join('0' for _ in shape)}]" if shape else label


def _first(out: Tensor, leaves: list[Tensor]) -> list[Tensor]:
    """The gradient as a recorded graph, constants' arithmetic included (so that replaying
    it at high precision recomputes e.g. 1/n exactly instead of reading float64's 1/n)."""
    from symgrad.autograd.grad_mode import _state

    prev = _state.record_all
    _state.record_all = True
    try:
        gs = autograd_grad([out], leaves, create_graph=True, allow_unused=True)
    finally:
        _state.record_all = prev
    return [g if g is not None else Tensor._wrap(np.zeros(t._data.shape, t._data.dtype))
            for g, t in zip(gs, leaves)]


def _spread(runs: list[np.ndarray]) -> np.ndarray:
    out = np.empty(np.shape(runs[0]), dtype=object)
    for idx in np.ndindex(*out.shape):
        out[idx] = tuple(r[idx] for r in runs)
    return out


def _grad_rows(root, cts: list, leaf_nodes: list, shapes: list) -> tuple[list, list]:
    """Per cotangent and leaf: rules at high precision, and the rounding allowance runs."""
    used = set(topological_order([root])[0]) if root is not None else set()
    live = [n for n in leaf_nodes if n in used]
    if root is None or not live:
        z = [[_zeros_mp(s) for s in shapes] for _ in cts]
        return z, [[_spread([zz]) for zz in row] for row in z], 0
    res = stable_gradients(root, [to_mpmath(c) for c in cts], live)
    hp = res.grads
    runs = [recorded_gradients(root, [to_mpmath(c) for c in cts], live)] + [
        recorded_gradients(root, cts, live, bits=b) for b in (48, 50)]
    hp_rows, rec_rows = [], []
    for c in range(len(cts)):
        hrow, rrow = [], []
        for node, shape in zip(leaf_nodes, shapes):
            if node in live:
                k = live.index(node)
                hrow.append(hp[c][k])
                rrow.append(_spread([run[c][k] for run in runs]))
            else:
                z = _zeros_mp(shape)
                hrow.append(z)
                rrow.append(_spread([z]))
        hp_rows.append(hrow)
        rec_rows.append(rrow)
    return hp_rows, rec_rows, max(res.backward_scales, default=0)


def hessian_rows(out: Tensor, m: Tensor, leaves: list[Tensor], labels: list[str],
                 syms: list, budget: float, directional: bool, k_dirs: int,
                 rng: np.random.Generator) -> list[Row]:
    """Rows comparing the engine's second derivatives with the exact ones."""
    leaf_nodes = [t._grad_accumulator() for t in leaves]
    shapes = [t._data.shape for t in leaves]
    point = info(m).point
    grads = _first(out, leaves)
    if directional:
        return [_directional_row(grads, m, leaves, labels, syms, leaf_nodes, shapes, point,
                                 budget, k_dirs, rng)]
    from symgrad.verify.check import put_block

    rows = []
    blocks = _exact_blocks(m, syms, point)
    for i, (gi, li) in enumerate(zip(grads, labels)):
        cts = []
        for idx in np.ndindex(*gi._data.shape):
            e = np.zeros(gi._data.shape)
            e[idx] = 1.0
            cts.append(e)
        root = gi.grad_fn
        hp_rows, rec_rows, scale = _grad_rows(root, cts, leaf_nodes, shapes)
        for j, (lj, tj) in enumerate(zip(labels, leaves)):
            block_shape = gi._data.shape + tj._data.shape
            numeric = np.zeros(block_shape)
            hp = np.empty(block_shape, dtype=object)
            rec = np.empty(block_shape, dtype=object)
            for c, (idx, e) in enumerate(zip(np.ndindex(*gi._data.shape), cts)):
                if gi._requires_grad:
                    (r,) = autograd_grad([gi], [tj], grad_outputs=[Tensor._wrap(e)],
                                         retain_graph=True, allow_unused=True,
                                         materialize_grads=True)
                    numeric[idx] = r._data
                put_block(hp, idx, hp_rows[c][j])
                put_block(rec, idx, rec_rows[c][j])
            exact = blocks[i][j] if blocks[i][j] is not None else _zeros_mp(block_shape)
            hp_ok, _, _ = hp_close(hp, exact, scale)
            comp = compare(numeric, exact, budget, rec)
            from symgrad.verify.check import _verdict

            rows.append(Row(name=f"{li},{lj}", shape=block_shape, what="hessian",
                            verdict=_verdict(comp, hp_ok), comparison=comp, method="full",
                            closed_form=partial(_first_row_form, m, syms[i], syms[j], lj,
                                                tj, _first_entry(li, gi)),
                            numeric=numeric, exact=np.array(
                                [float(v) for v in exact.reshape(-1)]).reshape(block_shape)))
    return rows


def _exact_blocks(m: Tensor, syms: list, point) -> list[list]:
    """The exact Hessian's blocks ``[i][j]`` (shape ``syms[i].shape + syms[j].shape``, None
    for an input that is no leaf of the mirror): one forward-over-reverse sweep over the
    mirror with a unit tangent per symbol; entries it leaves inf or nan (0 * inf at a
    singular point) take their closed form's value."""
    from symgrad.verify.check import _closed_where_singular

    present = [s for s in syms if s is not None]
    flat = np.array([x for s in present for x in s.reshape(-1)], dtype=object)
    cols = derive.hvp_mp(m._data, flat, point, [{x: 1} for x in flat], digits=HP_DIGITS)
    full = np.empty((flat.size, flat.size), dtype=object)
    for q, col in enumerate(cols):
        full[:, q] = col
    _closed_where_singular(full, lambda k: sympy.diff(
        m._data.reshape(-1)[0], flat[k // flat.size], flat[k % flat.size]), point)
    starts = np.cumsum([0] + [s.size for s in present])
    where = {id(s): n for n, s in enumerate(present)}
    blocks = []
    for si in syms:
        row = []
        for sj in syms:
            if si is None or sj is None:
                row.append(None)
                continue
            a, b = where[id(si)], where[id(sj)]
            row.append(full[starts[a]:starts[a + 1], starts[b]:starts[b + 1]]
                       .reshape(si.shape + sj.shape))
        blocks.append(row)
    return blocks


def _first_row_form(m: Tensor, si, sj, lj: str, tj: Tensor, first: str) -> str:
    """The closed form of the block's first row (d/d sj of dout/d si[0]), when it is cheap
    to build (see ``check.MAX_CLOSED_FORM_WORK``); "" otherwise."""
    from symgrad.verify.check import MAX_CLOSED_FORM_WORK, _representative, _tree_size

    if si is None or sj is None:
        return _representative(np.zeros(tj._data.shape, dtype=object), lj, f"(dout/d{first})")
    if _tree_size(m._data, MAX_CLOSED_FORM_WORK // (1 + sj.size)) is None:
        return ""
    d1 = derive.gradient(m, Tensor._wrap(si.reshape(-1)[:1]))._data.reshape(())
    exprs = derive.jacobian(d1, Tensor._wrap(sj))._data
    return _representative(exprs, lj, f"(dout/d{first})")


def _vhw(m: Tensor, dv: dict, dw: dict, point):
    """``v^T H w`` exactly: ``H w`` by one forward-over-reverse sweep over the mirror,
    or, where that is inf or nan (0 * inf at a singular point), the closed form of the
    second directional derivative."""
    syms = np.array(list(dv), dtype=object)
    hw = derive.hvp_mp(m._data, syms, point, [dw], digits=HP_DIGITS)[0]
    with mpmath.workdps(HP_DIGITS + 10):
        val = mpmath.fsum(h * mpmath.mpf(dv[x].p) / dv[x].q for h, x in zip(hw, syms))
    if mpmath.isfinite(val):
        return val
    d2 = derive.directional(derive.directional(m, dw), dv)._data
    return derive.evaluate_mp(d2, point, HP_DIGITS).reshape(-1)[0]


def _directional_row(grads, m, leaves, labels, syms, leaf_nodes, shapes, point, budget,
                     k_dirs, rng) -> Row:
    from symgrad.verify.check import _rational_vector, _verdict

    nums, exacts, hps, recs, scales = [], [], [], [], [0]
    for _ in range(k_dirs):
        vs = [_rational_vector(rng, s) for s in shapes]
        ws = [_rational_vector(rng, s) for s in shapes]
        gw = sum((g * Tensor._wrap(w)).sum() for g, w in zip(grads, ws))
        if isinstance(gw, Tensor) and gw._requires_grad:
            hw = autograd_grad([gw], leaves, retain_graph=True, allow_unused=True,
                               materialize_grads=True)
            nums.append(float(sum(np.sum(h._data * v) for h, v in zip(hw, vs))))
            hp_rows, rec_rows, scale = _grad_rows(gw.grad_fn, [np.ones(())], leaf_nodes, shapes)
            scales.append(scale)
            with mpmath.workdps(HP_DIGITS + 10):
                hps.append(mpmath.fsum(mpmath.fsum(h[i] * mpmath.mpf(v[i])
                                                   for i in np.ndindex(*v.shape))
                                       for h, v in zip(hp_rows[0], vs)))
                runs = len(rec_rows[0][0].reshape(-1)[0]) if rec_rows[0][0].size else 0
                recs.append(tuple(mpmath.fsum(mpmath.fsum(r[i][q] * mpmath.mpf(v[i])
                                                          for i in np.ndindex(*v.shape))
                                              for r, v in zip(rec_rows[0], vs))
                                  for q in range(runs)))
        else:
            nums.append(0.0)
            hps.append(mpmath.mpf(0))
            recs.append((mpmath.mpf(0),))
        dv = {s[i]: sympy.Rational(v[i]) for s, v in zip(syms, vs) if s is not None
              for i in np.ndindex(*v.shape)}
        dw = {s[i]: sympy.Rational(w[i]) for s, w in zip(syms, ws) if s is not None
              for i in np.ndindex(*w.shape)}
        exacts.append(_vhw(m, dv, dw, point))
    exact = np.array(exacts, dtype=object)
    hp_ok, _, _ = hp_close(np.array(hps, dtype=object), exact, max(scales))
    inherited = np.empty(len(recs), dtype=object)
    for i, r in enumerate(recs):
        inherited[i] = r
    total = sum(int(np.prod(s)) for s in shapes)
    comp = compare(np.array(nums), exact, budget + total, inherited)
    return Row(name=",".join(labels), shape=(k_dirs,), what="hessian",
               verdict=_verdict(comp, hp_ok), comparison=comp,
               method=f"v^T H w ({k_dirs} random pairs)", numeric=np.array(nums),
               exact=np.array([float(v) for v in exact]))
