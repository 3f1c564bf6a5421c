"""``check``: one function at one point, numeric derivatives against exact ones.

Three witnesses are computed from the same recorded run (and central differences, shown
beside them for the reader, never judged):

1. the engine's float64 derivative (the thing under test);
2. the exact derivative: ``sympy.diff`` of the graph replayed with op mirrors;
3. the engine's own rules re-run at high precision on exact inputs.

(2) vs (3) decides whether a rule is wrong; (1) vs (2) whether float64 delivered the value.
The forward value gets the same treatment. Inputs on a declared kink are reported with
the convention used instead of a verdict about the rule.
"""

from __future__ import annotations

import inspect
from functools import partial
from typing import Any
from collections.abc import Callable, Iterator, Sequence

import mpmath
import numpy as np
import sympy

from symgrad.autograd.api import grad as autograd_grad, grad_rows
from symgrad.autograd.engine import topological_order
from symgrad.autograd.grad_mode import enable_grad
from symgrad.autograd.graph import AccumulateGrad
from symgrad.ops.namespaces import to_mpmath
from symgrad.symbolic import derive
from symgrad.symbolic.mirror import info, mirror
from symgrad.symbolic.printing import short
from symgrad.tensor import Tensor, as_tensor
from symgrad.verify import sparsity, witness
from symgrad.verify.bound import bound_inputs
from symgrad.verify.compare import (AGREE, FORWARD_MISMATCH, HP_DIGITS, INACCURATE, KINK,
                                    MISMATCH, Comparison, compare, hp_close, ulp_budget)
from symgrad.verify.highprec import (HighPrecision, mp_array, recorded_gradients,
                                      rounded_forwards, stable_gradients)
from symgrad.verify.localize import localize, smooth_at
from symgrad.verify.report import KinkFinding, Report, Row, has_closed_form

__all__ = ["check", "MODES", "MAX_FULL_SYMBOLS"]

MODES = ("gradient", "jacobian", "vjp", "jvp")
#: Above this many input entries, derivatives are checked along random directions.
MAX_FULL_SYMBOLS = 400
#: The same for Hessians (whose size is the square of the number of entries).
MAX_HESSIAN_SYMBOLS = 40


def _input_names(fn: Callable, n: int, names: Sequence[str] | None) -> list[str]:
    if names is not None:
        names = list(names)
        if len(names) != n:
            raise ValueError(f"names has {len(names)} entries for {n} inputs")
        return names
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    out = []
    for i in range(n):
        nm = params[i].name if i < len(params) else f"input{i}"
        out.append(nm if nm.isidentifier() and nm not in out else f"input{i}")
    return out


def _differentiated(inputs: Sequence[Any]) -> tuple[list[Tensor], list[int]]:
    """The inputs as tensors, and which are differentiated: those that require grad, or
    every floating one if none does."""
    tensors = [x if isinstance(x, Tensor) else as_tensor(x) for x in inputs]
    for t in tensors:
        if t._data.dtype == object:
            raise TypeError("check() takes numeric inputs; it makes the symbols itself")
    explicit = [i for i, t in enumerate(tensors) if t._requires_grad]
    return tensors, explicit or [i for i, t in enumerate(tensors) if t._data.dtype.kind == "f"]


def _prepare(tensors: list[Tensor], diff: list[int], bound: list[bool]) -> list[Tensor]:
    """The arguments ``fn`` is called with: the differentiated inputs themselves, bound as
    fresh leaves (see verify.bound), or fresh copies for repeated ones."""
    args = []
    for i, t in enumerate(tensors):
        if i in diff and not bound[i]:
            leaf = Tensor._wrap(np.array(t._data, copy=True))
            leaf.requires_grad_(True)
            args.append(leaf)
        else:
            args.append(t)
    return args


def _rational_vector(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Random small rationals with power-of-two denominators (exact in float64 too)."""
    nums = rng.integers(1, 16, size=shape) * rng.choice([-1, 1], size=shape)
    return nums / 8.0


def _leaf_nodes(out: Tensor, leaves: list[Tensor]) -> list:
    return [leaf._grad_accumulator() for leaf in leaves]


def _upstream_leaves(node) -> set:
    seen, stack, found = {node}, [node], set()
    while stack:
        n = stack.pop()
        if type(n) is AccumulateGrad:
            found.add(n)
        for c, _ in n.next_functions:
            if c is not None and c not in seen:
                seen.add(c)
                stack.append(c)
    return found


def _kinks(order: list) -> list[tuple[Any, KinkFinding]]:
    """Nodes whose arguments sit on a declared kink of their op."""
    found = []
    for node in reversed(order):
        op = getattr(node, "op", None)
        if op is None or op.kinks is None or node._args is None or node._freed is True:
            continue
        try:  # optional arguments (a loss's weight=None) stay None: the kink test handles them
            with np.errstate(all="ignore"):
                mask = np.asarray(op.kinks.at(*node._args, **(node._params or {})))
        except Exception:  # noqa: BLE001 - a kink test that cannot run finds nothing
            continue
        if mask.any():
            positions = [tuple(int(i) for i in p) for p in np.argwhere(mask)]
            kf = KinkFinding(node=node.name(), op=op.name, positions=positions,
                             convention=op.kinks.convention)
            _one_sided(node, kf)
            found.append((node, kf))
    return found


def _one_sided(node, kf: KinkFinding) -> None:
    """Left/right derivatives for a unary elementwise op (from its mirror, numerically exact)."""
    op = node.op
    if not op.elementwise or len(op.arg_names) != 1:
        return
    try:
        x = sympy.Symbol("x", real=True)
        params = {k: (sympy.Rational(v) if isinstance(v, float) else v)
                  for k, v in (node._params or {}).items()}
        d = sympy.diff(op.mirror(x, **params), x)
        at = float(np.asarray(node._args[0]).reshape(-1)[0] if np.ndim(node._args[0]) == 0
                   else np.asarray(node._args[0])[kf.positions[0]])
        eps = sympy.Rational(1, 10 ** 30)
        kf.left = float(d.subs(x, sympy.Rational(at) - eps).evalf(30))
        kf.right = float(d.subs(x, sympy.Rational(at) + eps).evalf(30))
        g = np.zeros(np.shape(node._ans) if node._ans is not None else (), dtype=np.float64)
        g[...] = 1.0
        r = node.vjp_with(_numpy(), g, node._args, node._ans)[0]
        kf.used = float(np.asarray(r)[kf.positions[0]] if np.ndim(r) else r)
    except Exception:  # noqa: BLE001 - left/right derivatives are a display nicety
        kf.left = kf.right = kf.used = None


def _numpy():
    from symgrad.ops.namespaces import NUMPY

    return NUMPY


def _verdict(comp: Comparison, hp_ok: bool) -> str:
    if not hp_ok:
        return MISMATCH
    return AGREE if comp.within else INACCURATE


def check(fn: Callable[..., Tensor], *inputs: Any, mode: str = "gradient",
          names: Sequence[str] | None = None, cotangent: Any = None,
          directions: int | None = None, seed: int = 0, title: str | None = None,
          localize_on_mismatch: bool = True, order: int = 1, tangent: Any = None) -> Report:
    """Verify the derivatives of ``fn`` at ``inputs`` against exact symbolic ones.

    ``mode``: "gradient" (scalar output), "jacobian" (every output entry), "vjp" (a
    cotangent ``cotangent``, random by default) or "jvp" (``J v`` for a tangent ``v`` per
    input: ``tangent``, one array per differentiated input, random by default). Inputs
    that require grad are the ones differentiated (all floating inputs if none does);
    symbols are named after ``fn``'s
    parameters. With more than ``MAX_FULL_SYMBOLS`` input entries (or ``directions=k``),
    derivatives are compared along k random directions instead of entry by entry.
    ``order=2`` also compares the Hessian built with ``create_graph=True`` (blocks per pair
    of inputs, or ``v^T H w`` for random v, w when the inputs are large).

    ``fn`` is also run (without recording) at nearby points for the report's central-
    difference column, a witness that no verdict reads; it should have no side effects.

    The differentiated inputs are differentiated in place, as PyTorch's gradcheck does, so
    ``fn`` may read them from a closure or a module instead of its arguments
    (``check(lambda *ps: loss(model), *model.parameters())``); they are restored after.
    """
    tensors, diff = _differentiated(inputs)
    with bound_inputs(tensors, diff) as bound:
        return _check(fn, tensors, diff, bound, mode, names, cotangent, directions, seed,
                      title, localize_on_mismatch, order, tangent)


def _check(fn: Callable[..., Tensor], inputs: list[Tensor], diff_idx: list[int],
           bound: list[bool], mode: str, names: Sequence[str] | None, cotangent: Any,
           directions: int | None, seed: int, title: str | None, localize_on_mismatch: bool,
           order: int, tangent: Any) -> Report:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not callable(fn):
        raise TypeError("check() expects a function as its first argument")
    labels = _input_names(fn, len(inputs), names)
    args = _prepare(inputs, diff_idx, bound)
    with enable_grad():
        out = fn(*args)
    if not isinstance(out, Tensor):
        raise TypeError(f"check() expects fn to return one Tensor, got {type(out).__name__}")
    if out._data.dtype.kind != "f":
        raise TypeError(f"check() needs a floating-point output, got {out.dtype!r}")
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    if order == 2 and (mode != "gradient" or out._data.size != 1):
        raise ValueError("order=2 compares Hessians of a scalar output (mode='gradient')")
    if mode == "gradient" and out._data.size != 1:
        raise ValueError(f"mode='gradient' needs a scalar output, got shape {tuple(out.shape)}; "
                         "use mode='jacobian' or mode='vjp'")
    rng = np.random.default_rng(seed)
    title = title or f"check {getattr(fn, '__name__', 'fn')}"
    leaves = [args[i] for i in diff_idx]
    leaf_labels = [labels[i] for i in diff_idx]
    report = Report(title=title, mode=mode)
    if not leaves:
        report.notes.append("no input is differentiated (none requires grad or is floating: "
                            "integer inputs have no gradient); only the forward value is "
                            "checked")

    root = out.grad_fn if out.grad_fn is not None else (
        out._grad_accumulator() if out._requires_grad else None)
    nodes = topological_order([root])[0] if root is not None else []
    n_ops = max(1, len(nodes))
    budget = ulp_budget(n_ops)

    m = mirror(out, names=dict(zip(leaf_labels, leaves)))
    meta = info(m)
    exprs = m._data
    seed_ct = _cotangent(out, mode, cotangent, rng)
    leaf_nodes = _leaf_nodes(out, leaves) if root is not None else []
    reachable = set(nodes)
    used_nodes = [n for n in leaf_nodes if n in reachable]
    if mode in ("jacobian", "jvp"):
        cts = []
        for oidx in np.ndindex(*out._data.shape):
            e = np.zeros(out._data.shape)
            e[oidx] = 1.0
            cts.append(e)
    else:
        cts = [seed_ct]
    if root is not None and len(cts) > 1 and _diagonal(nodes, out._data.shape):
        # Every op is elementwise on the output's shape: the Jacobian is diagonal, so the
        # rules' row for e_i is e_i times their result for a cotangent r, divided by r_i.
        # r's entries differ (a cotangent of ones would hide a rule that sums g).
        r = mp_array(_rational_vector(np.random.default_rng(seed), out._data.shape))
        hpres = stable_gradients(root, [r], used_nodes)
        hp_out, fwd_scale = hpres.value, hpres.forward_scale
        bwd_scale = max(hpres.backward_scales, default=0)
        with mpmath.workdps(HP_DIGITS + 10):
            per_entry = [np.asarray(d, dtype=object) / r for d in hpres.grads[0]]
        rows_of = {node: _DiagonalRows(d, cts) for node, d in zip(used_nodes, per_entry)}
        n_out = out._data.size
        hp_support = np.arange(n_out) * (n_out + 1)   # row i, column i
    elif root is not None:
        hp_support = None
        hpres = stable_gradients(root, [mp_array(c) for c in cts], used_nodes)
        hp_out = hpres.value
        rows_of = {node: [row[k] for row in hpres.grads] for k, node in enumerate(used_nodes)}
        fwd_scale, bwd_scale = hpres.forward_scale, max(hpres.backward_scales, default=0)
    else:
        hp_support = None
        hp_out, rows_of = to_mpmath(out._data), {}
        fwd_scale = bwd_scale = 0
    # The rules on the recorded float64 values (rounding's share of the error) cost as
    # much as the high-precision run again: computed only for a result outside its budget.
    inherited = _LazyInherited(root, cts, used_nodes)
    hp_by_leaf = rows_of   # per leaf node: the rules' rows, one per cotangent

    # ---- forward value
    # the forward value and every directional derivative are evaluated at this one point:
    # its values and the mirror's node values are computed once per precision
    at_point = derive.PointCache(meta.point)
    exact_out = derive.evaluate_mp(exprs, meta.point, HP_DIGITS, cache=at_point)
    comp = _compare(out._data, exact_out, budget,
                    lambda: _forward_spread(root, np.shape(exact_out)))
    fwd_hp_ok, _, _ = hp_close(np.asarray(hp_out, dtype=object).reshape(np.shape(exact_out)),
                               exact_out, fwd_scale)
    report.rows.append(Row(
        name="output", shape=tuple(out.shape), what="forward",
        verdict=(FORWARD_MISMATCH if not fwd_hp_ok else (AGREE if comp.within else INACCURATE)),
        comparison=comp, method="exact", numeric=out._data, exact=_floats(exact_out)))

    # ---- derivatives
    total = sum(leaf._data.size for leaf in leaves)
    use_dirs = directions is not None or total > MAX_FULL_SYMBOLS
    k_dirs = directions or 3
    kinks = _kinks(nodes) if nodes else []
    report.kinks = [k for _, k in kinks]
    kinked = set()
    for node, _ in kinks:
        kinked |= _upstream_leaves(node)
    singular = hpres.singular if root is not None else []
    if singular:   # a rule that divides by zero where its op is differentiable is wrong there
        hp_values = HighPrecision(root)
        faulty = [n for n in singular if smooth_at(hp_values, n, seed)]
        singular = [n for n in singular if n not in faulty]
        if faulty:
            report.notes.append(
                "at this point " + ", ".join(sorted({n.name() for n in faulty})) + " divide(s) "
                "by exactly zero although the op's derivative is finite there: the rule is "
                "wrong at this point (it ran in float64, as the engine runs it)")
    for node in singular:
        kinked |= _upstream_leaves(node)
    if singular:
        report.notes.append(
            "at this point " + ", ".join(sorted({n.name() for n in singular})) + " divide(s) by "
            "exactly zero (a singular point: the derivative is infinite or undefined there); "
            "those rules ran in float64, as the engine runs them")

    for leaf_k, (leaf, label, lnode) in enumerate(
            zip(leaves, leaf_labels, leaf_nodes or [None] * len(leaves))):
        syms = meta.symbols_of(leaf) if any(t is leaf for t, _ in meta.leaves) else None
        used = lnode is not None and lnode in reachable
        hp_rows = hp_by_leaf.get(lnode) or [_zeros_mp(leaf._data.shape) for _ in cts]
        def rec_rows(lnode=lnode, shape=leaf._data.shape):
            return inherited.rows(lnode) or [_zeros_mp(shape) for _ in cts]

        pattern = None
        if mode == "jvp":
            v = _tangent(tangent, leaf_k, leaf, rng)
            row = _jvp_row(out, m, leaf, label, syms, hp_rows, rec_rows, used, budget, cts, v,
                           bwd_scale, cache=at_point)
        elif mode == "jacobian":
            row, keys = _jacobian_row(out, m, leaf, label, syms, hp_rows, rec_rows, used,
                                      budget, cts, bwd_scale,
                                      hp_support if lnode in hp_by_leaf else [],
                                      cache=at_point)
            pattern = divmod(keys, max(1, leaf._data.size))
        elif use_dirs:
            row = _directional_row(out, m, leaf, label, syms, hp_rows[0],
                                   lambda rec_rows=rec_rows: rec_rows()[0], used,
                                   budget, seed_ct, k_dirs, rng, bwd_scale, cache=at_point)
        else:
            row = _full_row(out, m, leaf, label, syms, hp_rows[0],
                            lambda rec_rows=rec_rows: rec_rows()[0], used, budget,
                            seed_ct, mode, bwd_scale, cache=at_point)
        row.fd_rel_err = _witness(fn, args, diff_idx[leaf_k], mode, seed_ct, row, pattern)
        if lnode in kinked:
            _at_kink(row)
        report.rows.append(row)

    if order == 2 and root is not None:
        from symgrad.verify.second import hessian_rows

        syms_list = [meta.symbols_of(t) if any(t is q for q, _ in meta.leaves) else None
                     for t in leaves]
        rows2 = hessian_rows(out, m, leaves, leaf_labels, syms_list, budget,
                             total > MAX_HESSIAN_SYMBOLS or directions is not None, k_dirs, rng)
        n = len(leaves)
        for r, row in enumerate(rows2):   # blocks (i, j) in order, or one row for all
            pair = ({leaf_nodes[r // n], leaf_nodes[r % n]} if len(rows2) == n * n
                    else set(leaf_nodes))
            if pair & kinked:
                _at_kink(row)
        report.rows.extend(rows2)
    if localize_on_mismatch and root is not None and any(
            r.verdict in (MISMATCH, FORWARD_MISMATCH) for r in report.rows):
        report.findings = localize(HighPrecision(root), seed=seed)
        if not report.findings:
            report.notes.append("no single node disagrees with its mirror at this point; the "
                                "difference comes from how the nodes are combined")
    unshown = [r.name for r in report.rows if r.method == "full" and r.what in (
        "gradient", "vjp") and not has_closed_form(r)]
    if unshown:
        report.notes.append(f"no closed form shown for {', '.join(unshown)}: the expression "
                            f"has more than {MAX_SHOWN_TREE} nodes (the exact values come from "
                            "reverse mode over the mirror)")
    if use_dirs and mode not in ("jacobian", "jvp"):
        report.notes.append(f"{total} input entries: derivatives compared along {k_dirs} random "
                            "directions each (one symbol t per direction), not entry by entry")
    return report


def _at_kink(row: Row) -> None:
    """A derivative taken through a declared kink (or a singular point) is reported as
    such: the exact value there is a convention or undefined, not a verdict on a rule.
    A value that equals SymPy's there (abs'(0) = sign(0) = 0, or relu(x)**2, smooth
    through relu's kink) keeps its verdict, and the row says where it went through."""
    if row.verdict == AGREE:
        row.detail = ("the input reaches a non-differentiable point of an op (see kinks); "
                      "the value there equals SymPy's derivative at the point")
    else:
        row.detail = ("the input sits on a non-differentiable point of an op (see kinks); "
                      f"the exact-derivative verdict would be '{row.verdict}'")
        row.verdict = KINK


def _witness(fn, args, k: int, mode: str, ct: np.ndarray, row: Row, pattern=None
             ) -> float | None:
    """Central differences for the same quantity as ``row`` (see ``witness``); ``pattern``:
    where the exact Jacobian can be nonzero."""
    if row.exact is None:
        return None
    if mode == "jacobian":
        est = witness.jacobian_columns(fn, args, k, pattern)
    elif mode == "jvp":
        est = witness.along(fn, args, k, row.directions[0])
    else:
        est = witness.central_difference(fn, args, k, ct, row.directions)
    return witness.relative_error(est, row.exact)


def _tangent(tangent: Any, k: int, leaf: Tensor, rng: np.random.Generator) -> np.ndarray:
    shape = leaf._data.shape
    if tangent is None:
        return _rational_vector(rng, shape)
    items = tangent if isinstance(tangent, (list, tuple)) else [tangent]
    if k >= len(items):
        raise ValueError(f"tangent has {len(items)} entries; one per differentiated input is "
                         "needed")
    t = items[k]
    v = np.asarray(t._data if isinstance(t, Tensor) else t, dtype=np.float64)
    if v.shape != shape:
        raise ValueError(f"tangent[{k}] has shape {v.shape}, the input has shape {shape}")
    return v


def _jvp_row(out, m, leaf, label, syms, hp_rows, rec_rows, used, budget, cts, v,
             scale=0, cache=None) -> Row:
    """``J v`` for one input: the engine's Jacobian rows contracted with ``v`` against the
    exact directional derivative of the mirror along ``v``."""
    oshape, ishape = out._data.shape, leaf._data.shape
    numeric = np.zeros(oshape, dtype=np.float64)
    hp_val = np.empty(oshape, dtype=object)
    with mpmath.workdps(HP_DIGITS + 10):
        vm = _mp_entries(v)
        for oidx, row, hp_row in zip(np.ndindex(*oshape), _numeric_rows(out, leaf, cts, used),
                                     hp_rows):
            numeric[oidx] = float(np.sum(row * v))
            hp_val[oidx] = mpmath.fsum(a * b for a, b in zip(hp_row.reshape(-1), vm))
    if syms is None:
        exact = np.array([mpmath.mpf(0)] * int(np.prod(oshape)), dtype=object).reshape(oshape)
    else:
        direction = {syms[i]: sympy.Rational(v[i]) for i in np.ndindex(*ishape)}
        exact = derive.directional_mp(m._data, direction, info(m).point, HP_DIGITS, cache=cache)
    hp_ok, _, _ = hp_close(hp_val, exact, scale)

    def inherited() -> np.ndarray:
        val = np.empty(oshape, dtype=object)
        with mpmath.workdps(HP_DIGITS + 10):
            for oidx, rec in zip(np.ndindex(*oshape), rec_rows()):
                flat = rec.reshape(-1)
                runs = len(flat[0]) if flat.size else 0
                val[oidx] = tuple(mpmath.fsum(flat[j][r] * vm[j] for j in range(flat.size))
                                  for r in range(runs))
        return val

    comp = _compare(numeric, exact, budget + leaf._data.size, inherited)
    return Row(name=label, shape=oshape, what="jvp", verdict=_verdict(comp, hp_ok),
               comparison=comp, method="full (J v)", numeric=numeric, exact=_floats(exact),
               directions=[v])


def put_block(dst: np.ndarray, idx: tuple, block: Any) -> None:
    """``dst[idx] = block`` for an object array: a 0-d block (the derivative by a 0-d
    input) is stored as its entry, not as an array inside the entry."""
    if isinstance(block, np.ndarray) and block.ndim == 0:
        block = block[()]
    dst[idx] = block


def _diagonal(nodes: list, shape: tuple) -> bool:
    """True when the graph only has elementwise ops producing ``shape`` and leaves of that
    shape: output entry i then depends on input entry i alone (nothing is broadcast)."""
    for n in nodes:
        if type(n) is AccumulateGrad:
            if n.variable._data.shape != shape:
                return False
            continue
        op = getattr(n, "op", None)
        if op is None or not op.elementwise or op.variadic or tuple(n._shape) != shape:
            return False
    return True


class _DiagonalRows(Sequence):
    """The rules' rows of a diagonal Jacobian, for the one-hot cotangents ``cts`` (row i:
    the diagonal masked to entry i), each built when asked for; ``into`` writes them all
    at once (a 400x400 Jacobian: one assignment instead of 400 arrays)."""

    def __init__(self, diag: np.ndarray, cts: list) -> None:
        self.diag, self.cts = diag, cts

    def __len__(self) -> int:
        return len(self.cts)

    def __getitem__(self, c):
        if isinstance(c, slice):
            return [self[i] for i in range(*c.indices(len(self)))]
        return _masked(self.diag, self.cts[c])

    def into(self, out: np.ndarray) -> None:
        """``out`` (output shape + input shape, object): every row, zeros off the diagonal."""
        n = self.diag.size
        square = out.reshape(n, n)   # a view: out is a new contiguous array
        square[...] = _MP_ZERO
        square[np.arange(n), np.arange(n)] = self.diag.reshape(-1)


def _masked(diag: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """``diag`` where ``unit`` is 1, exact zeros elsewhere (one row of a diagonal Jacobian)."""
    row = _zeros_mp(diag.shape)
    hot = unit != 0
    row[hot] = diag[hot]
    return row


class _LazyInherited:
    """``_inherited`` for every leaf, run on first request."""

    def __init__(self, root, cts: list, leaves: list) -> None:
        self.root, self.cts, self.leaves = root, cts, leaves
        self._by_leaf: dict | None = None

    def rows(self, node) -> list | None:
        if self._by_leaf is None:
            runs = _inherited(self.root, self.cts, self.leaves) if self.root is not None else []
            self._by_leaf = {n: [row[k] for row in runs] for k, n in enumerate(self.leaves)}
        return self._by_leaf.get(node)


def _compare(numeric, exact, budget, inherited, support=None) -> Comparison:
    """``compare``, asking for the inherited rounding only when the budget alone fails
    (it can only widen what is within rounding, so the result is the same)."""
    comp = compare(numeric, exact, budget, support=support)
    return comp if comp.within else compare(numeric, exact, budget, inherited(), support)


def _inherited(root, cts: list, leaves: list) -> list[list]:
    """Per cotangent and leaf, the rules' result on the recorded float64 values at high
    precision and at 48 and 50 bits; ``compare`` allows the float64 result to be as far
    from exact as the farthest of these (twice over): that much is rounding."""
    runs = [recorded_gradients(root, [mp_array(c) for c in cts], leaves)] + [
        recorded_gradients(root, cts, leaves, bits=b) for b in (48, 50)]
    return [[_Spread([run[i][k] for run in runs]) for k in range(len(leaves))]
            for i in range(len(cts))]


def _forward_spread(root, shape: tuple) -> np.ndarray | None:
    """Per output entry, the forward's values at 48 and 50 bits (see ``_inherited``)."""
    if root is None:
        return None
    return _Spread([np.asarray(r, dtype=object).reshape(shape) for r in rounded_forwards(root)])


class _Spread(np.ndarray):
    """Object array of tuples of candidate values (one per run), entry by entry."""

    def __new__(cls, arrays: list):
        arrs = [np.asarray(a, dtype=object) for a in arrays]
        out = np.empty(arrs[0].shape, dtype=object)
        flat = out.reshape(-1)  # a view: filled entry by entry (tuples are not broadcast)
        for i, t in enumerate(zip(*(a.reshape(-1) for a in arrs))):
            flat[i] = t
        return out.view(cls)


def _floats(a: np.ndarray) -> np.ndarray:
    arr = np.asarray(a, dtype=object)
    with mpmath.workdps(HP_DIGITS):
        return np.array([float(v) for v in arr.reshape(-1)], dtype=np.float64).reshape(arr.shape)


def _cotangent(out: Tensor, mode: str, cotangent: Any, rng: np.random.Generator) -> np.ndarray:
    shape = out._data.shape
    if mode == "vjp":
        if cotangent is None:
            return _rational_vector(rng, shape)
        c = np.asarray(cotangent._data if isinstance(cotangent, Tensor) else cotangent,
                       dtype=np.float64)
        if c.shape != shape:
            raise ValueError(f"cotangent has shape {c.shape}, the output has shape {shape}")
        return c
    return np.ones(shape, dtype=np.float64)


def _numeric_rows(out: Tensor, leaf: Tensor, cts: list, used: bool) -> Iterator[np.ndarray]:
    """``_numeric_grad`` for each cotangent (a Jacobian's rows, the plan made once)."""
    if not used:
        return (np.zeros(leaf._data.shape, dtype=leaf._data.dtype) for _ in cts)
    return grad_rows(out, leaf, cts)


def _numeric_grad(out: Tensor, leaf: Tensor, ct: np.ndarray, used: bool) -> np.ndarray:
    if not used:
        return np.zeros(leaf._data.shape, dtype=leaf._data.dtype)
    (g,) = autograd_grad([out], [leaf], grad_outputs=[Tensor._wrap(ct.astype(out._data.dtype))],
                         retain_graph=True, allow_unused=True, materialize_grads=True)
    return g._data


_MP_ZERO = mpmath.mpf(0)


def _zeros_mp(shape) -> np.ndarray:
    return np.full(shape, _MP_ZERO, dtype=object)  # mpf is immutable: one zero serves all


def _representative(exprs: np.ndarray, label: str, out_label: str = "out") -> str:
    """One formula in index notation for all entries when one fits (checked against
    them), else the first nonzero entry, saying which."""
    if exprs.ndim and exprs.size > 1:
        from symgrad.symbolic.index_form import index_form

        line = index_form(exprs, label, exprs.shape, out_name=out_label, d="d", width=100,
                          budget=0.5)
        if line is not None:
            return line
    flat = exprs.reshape(-1)
    for k, e in enumerate(flat):
        if e != 0:
            idx = np.unravel_index(k, exprs.shape)
            entry = f"{label}[{','.join(map(str, idx))}]" if exprs.ndim else label
            more = f"  (one entry shown, of {flat.size})" if flat.size > 1 else ""
            return f"d{out_label}/d{entry} = {short(e, 100)}{more}"
    return f"d{out_label}/d{label} = 0"


#: Closed forms of every entry are built for the report only when the number of entries
#: times the size of the expression stays below this (``sympy.diff`` walks the whole
#: expression per entry: seconds for a small MLP); otherwise one entry is shown, up to
#: ``MAX_SHOWN_TREE`` nodes of expression, and none beyond.
MAX_CLOSED_FORM_WORK = 20_000
MAX_SHOWN_TREE = 2_000


def _full_row(out, m, leaf, label, syms, hp_val, rec_val, used, budget, ct, mode,
              scale=0, cache=None) -> Row:
    """Every entry of one input's gradient (or VJP): exact values by reverse mode over the
    mirror, closed forms for the report."""
    numeric = _numeric_grad(out, leaf, ct, used)
    if syms is None:
        exact_exprs = np.zeros(leaf._data.shape, dtype=object)
        exact = derive.evaluate_mp(exact_exprs, info(m).point, HP_DIGITS)
        closed = _representative(exact_exprs, label)
    else:
        exact_exprs = None
        try:
            exact = derive.gradient_mp(m._data, syms, info(m).point, weights=ct,
                                       digits=HP_DIGITS, cache=cache)
        except NotImplementedError:  # a head mpmath cannot evaluate: the closed forms
            exact_exprs = _gradient_exprs(m, syms, ct, mode)
            exact = derive.evaluate_mp(exact_exprs, info(m).point, HP_DIGITS)
        else:
            _closed_where_singular(exact, lambda k: derive.gradient(
                _gradient_target(m, ct, mode), Tensor._wrap(syms.reshape(-1)[k:k + 1]))._data,
                info(m).point)
        # closed forms only for the report: built when it is first read (see Row)
        if exact_exprs is not None:
            closed = partial(_representative, exact_exprs, label)
        elif _tree_size(m._data, MAX_CLOSED_FORM_WORK // max(1, syms.size)) is not None:
            closed = partial(_all_closed_forms, m, syms, ct, mode, label)
        elif _tree_size(m._data, MAX_SHOWN_TREE) is not None:
            closed = partial(_one_closed_form, m, syms, ct, mode, exact, label)
        else:   # sympy.diff of this expression alone would take seconds: none shown
            closed = ""
    hp_ok, _, _ = hp_close(hp_val, exact, scale)
    comp = _compare(numeric, exact, budget, rec_val)
    return Row(name=label, shape=tuple(leaf.shape), what=mode, verdict=_verdict(comp, hp_ok),
               comparison=comp, method="full", closed_form=closed,
               numeric=numeric, exact=_floats(exact))


def _gradient_target(m: Tensor, ct: np.ndarray, mode: str) -> Tensor:
    return m if mode == "gradient" else _weighted_sum(m, ct)


def _gradient_exprs(m: Tensor, syms: np.ndarray, ct: np.ndarray, mode: str) -> np.ndarray:
    return derive.gradient(_gradient_target(m, ct, mode), Tensor._wrap(syms))._data


def _all_closed_forms(m: Tensor, syms: np.ndarray, ct: np.ndarray, mode: str,
                      label: str) -> str:
    return _representative(_gradient_exprs(m, syms, ct, mode), label)


def _closed_where_singular(values: np.ndarray, closed_form, point) -> None:
    """Entries that the chain rule over the mirror's nodes leaves inf or nan are replaced
    by their closed form's value: at a singular point a node-by-node product such as
    ``x * (1/x)`` is ``0 * inf``, where the closed form has cancelled it (``d(x log x)/dx
    = log(x) + 1`` is -inf at 0, not nan). ``closed_form(k)``: flat entry k's expression."""
    flat = values.reshape(-1)   # a view of the object array
    for k, v in enumerate(flat):
        if not mpmath.isfinite(v):
            e = np.asarray(closed_form(k), dtype=object).reshape(-1)
            flat[k] = derive.evaluate_mp(e, point, HP_DIGITS)[0]


def _tree_size(exprs: np.ndarray, limit: int) -> int | None:
    """Nodes of the expressions as trees (what ``sympy.diff`` walks), None above ``limit``."""
    n = 0
    stack = list(exprs.reshape(-1))
    while stack:
        e = stack.pop()
        n += 1
        if n > limit:
            return None
        stack.extend(getattr(e, "args", ()))
    return n


def _one_closed_form(m: Tensor, syms: np.ndarray, ct: np.ndarray, mode: str,
                     exact: np.ndarray, label: str) -> str:
    """The closed form of the first entry whose exact value is not 0."""
    flat = exact.reshape(-1)
    k = next((i for i, v in enumerate(flat) if v), 0)
    idx = np.unravel_index(k, exact.shape) if exact.ndim else ()
    w = ct.reshape(-1)
    terms = [sympy.Rational(float(c)) * e for c, e in zip(w, m._data.reshape(-1)) if c]
    d = sympy.diff(sympy.Add(*terms), syms.reshape(-1)[k])
    entry = f"{label}[{','.join(str(int(i)) for i in idx)}]" if exact.ndim else label
    more = f"  (one entry shown, of {flat.size})" if flat.size > 1 else ""
    return f"dout/d{entry} = {short(d, 100)}{more}"


def _weighted_sum(m: Tensor, ct: np.ndarray) -> Tensor:
    from symgrad.ops.namespaces import to_exact

    w = to_exact(ct)
    total = sympy.Add(*[w[i] * m._data[i] for i in np.ndindex(*m._data.shape)])
    t = Tensor._wrap(np.array(total, dtype=object))
    t._extra = m._extra
    return t


def _mp_entries(v: np.ndarray) -> list:
    """``v``'s entries as mpmath numbers, each distinct value converted once."""
    conv: dict = {}
    return [conv[x] if x in conv else conv.setdefault(x, mpmath.mpf(x))
            for x in v.reshape(-1).tolist()]


def _directional_row(out, m, leaf, label, syms, hp_g, rec_g, used, budget, ct, k, rng,
                     scale=0, cache=None) -> Row:
    numeric_g = _numeric_grad(out, leaf, ct, used)
    target = m if out._data.size == 1 and np.all(ct == 1) else _weighted_sum(m, ct)
    nums, hps, vs = [], [], []
    for _ in range(k):
        v = _rational_vector(rng, leaf._data.shape)
        vs.append(v)
        nums.append(float(np.sum(numeric_g * v)))
        with mpmath.workdps(HP_DIGITS + 10):
            vm = _mp_entries(v)
            hps.append(mpmath.fsum(a * b for a, b in zip(hp_g.reshape(-1), vm)))
    if syms is None:
        exacts = [mpmath.mpf(0)] * k
    else:
        directions = [{syms[i]: sympy.Rational(v[i]) for i in np.ndindex(*v.shape)}
                      for v in vs]
        def closed(d) -> np.ndarray:
            return derive.evaluate_mp(derive.directional(target, d)._data, info(m).point,
                                      HP_DIGITS)

        try:  # forward mode over the mirror, all directions in one walk
            vals = derive.directional_mp_many(target._data, directions, info(m).point,
                                              HP_DIGITS, cache=cache)
        except NotImplementedError:  # a head mpmath cannot evaluate: the closed forms
            vals = [closed(d) for d in directions]
        exacts = [val.reshape(-1)[0] for val in vals]
        if not all(mpmath.isfinite(x) for x in exacts):
            # inf or nan node by node (0 * inf at a singular point): the gradient, with
            # closed forms for its non-finite entries, projected on each direction
            g = derive.gradient_mp(target._data, syms, info(m).point, digits=HP_DIGITS,
                                   cache=cache)
            _closed_where_singular(g, lambda k: derive.gradient(
                target, Tensor._wrap(syms.reshape(-1)[k:k + 1]))._data, info(m).point)
            with mpmath.workdps(HP_DIGITS + 10):
                exacts = [x if mpmath.isfinite(x) else mpmath.fsum(
                    a * b for a, b in zip(g.reshape(-1), _mp_entries(v)))
                    for x, v in zip(exacts, vs)]
    exact = np.array(exacts, dtype=object)
    hp_ok, _, _ = hp_close(np.array(hps, dtype=object), exact, scale)

    def inherited() -> np.ndarray:
        g = rec_g()
        runs = len(g.reshape(-1)[0]) if g.size else 0
        out = np.empty(len(vs), dtype=object)
        with mpmath.workdps(HP_DIGITS + 10):
            flat = g.reshape(-1)
            for j, v in enumerate(vs):
                vm = _mp_entries(v)
                out[j] = tuple(mpmath.fsum(gi[r] * x for gi, x in zip(flat, vm))
                               for r in range(runs))
        return out

    comp = _compare(np.array(nums), exact, budget + leaf._data.size, inherited)
    return Row(name=label, shape=tuple(leaf.shape), what=out._data.size == 1 and "gradient" or
               "vjp", verdict=_verdict(comp, hp_ok), comparison=comp,
               method=f"directional ({k} directions)", numeric=np.array(nums),
               exact=_floats(exact), directions=vs)


#: A Jacobian whose columns fall into at most this many groups sharing no row is computed
#: by forward mode over the mirror, one tangent per group (see ``_exact_jacobian``).
MAX_PROBES = 16


def _exact_jacobian(m: Tensor, syms: np.ndarray | None, cache=None
                    ) -> tuple[np.ndarray, list]:
    """The exact Jacobian's entries that can be nonzero: flat indices and mpmath values.

    Output entries hold few of the symbols (an elementwise op: one each), so columns that
    share no row are moved together: forward mode over the mirror (each node's partials
    by ``sympy.diff`` of its head) along one tangent per group gives every entry, in one
    walk. Otherwise each entry is differentiated in closed form and evaluated.
    """
    if syms is None:
        return np.empty(0, dtype=np.intp), []
    exprs = m._data
    rows, cols = sparsity.pattern(exprs, syms, None if cache is None else cache.free_symbols)
    width = max(1, syms.size)
    keys = rows * width + cols
    grouped = sparsity.groups((rows, cols), exprs.size, syms.size, most=MAX_PROBES)
    if grouped is not None:
        flat_syms = syms.reshape(-1)
        group_of = np.empty(syms.size, dtype=np.intp)
        for g, members in enumerate(grouped):
            group_of[members] = g
        tangents = [{flat_syms[c]: 1 for c in members} for members in grouped]
        try:
            probes = derive.directional_mp_many(exprs, tangents, info(m).point, HP_DIGITS,
                                                cache=cache)
        except NotImplementedError:  # a head mpmath cannot evaluate: the closed forms
            pass
        else:
            flat = [p.reshape(-1) for p in probes]
            values = np.empty(len(keys), dtype=object)
            values[:] = [flat[g][r] for r, g in zip(rows.tolist(), group_of[cols].tolist())]
            _closed_where_singular(values, lambda k: sympy.diff(
                exprs.reshape(-1)[rows[k]], syms.reshape(-1)[cols[k]]), info(m).point)
            return keys, list(values)
    entries = derive.jacobian_entries(exprs, syms)
    keys = np.fromiter(entries, dtype=np.intp, count=len(entries))
    vals = np.empty(len(entries), dtype=object)
    vals[:] = list(entries.values())
    return keys, list(derive.evaluate_mp(vals, info(m).point, HP_DIGITS))


def _jacobian_row(out, m, leaf, label, syms, hp_rows, rec_rows, used, budget, cts,
                  scale=0, hp_support=None, cache=None) -> tuple[Row, np.ndarray]:
    """Every entry of one input's Jacobian. Only the entries whose output holds the input
    entry's symbol can be nonzero: those are differentiated, evaluated and compared (with
    the engine's nonzeros), the rest is checked to be 0 wholesale. ``hp_support``: flat
    indices outside which the rules' rows are known to be 0 (None: look). Returns the row
    and the flat indices of the entries that can be nonzero."""
    oshape, ishape = out._data.shape, leaf._data.shape
    shape = oshape + ishape
    numeric = np.zeros(shape, dtype=np.float64)
    hp_val = np.empty(shape, dtype=object)
    for oidx, row in zip(np.ndindex(*oshape), _numeric_rows(out, leaf, cts, used)):
        numeric[oidx] = row
    if isinstance(hp_rows, _DiagonalRows):
        hp_rows.into(hp_val)
    else:
        for oidx, hp_row in zip(np.ndindex(*oshape), hp_rows):
            put_block(hp_val, oidx, hp_row)

    def rec_val() -> np.ndarray:
        val = np.empty(shape, dtype=object)
        for oidx, rec_row in zip(np.ndindex(*oshape), rec_rows()):
            put_block(val, oidx, rec_row)
        return val

    keys, values = _exact_jacobian(m, syms, cache)
    exact = _zeros_mp(shape)
    exact.reshape(-1)[keys] = values
    if hp_support is None:
        hp_support = [k for k, v in enumerate(hp_val.reshape(-1))
                      if not (type(v) is mpmath.mpf and not v)]
    hp_ok, _, _ = hp_close(hp_val, exact, scale, support=np.union1d(keys, hp_support))
    comp = _compare(numeric, exact, budget, rec_val, support=keys)
    exact_f = np.zeros(shape, dtype=np.float64)
    exact_f.reshape(-1)[keys] = _floats(values)
    return Row(name=label, shape=shape, what="jacobian", verdict=_verdict(comp, hp_ok),
               comparison=comp, method="full",
               closed_form=partial(_jacobian_first_row, m, syms, label, shape, ishape),
               numeric=numeric, exact=exact_f), keys


def _jacobian_first_row(m: Tensor, syms: np.ndarray | None, label: str, shape: tuple,
                    ishape: tuple) -> str:
    """The closed forms of a Jacobian's first row (an empty Jacobian: the empty array)."""
    first = np.full(ishape if m._data.size else shape, sympy.S.Zero, dtype=object)
    if syms is not None and m._data.size:
        for k, d in derive.jacobian_entries(m._data.reshape(-1)[:1], syms).items():
            first.reshape(-1)[k] = d
    return _representative(first, label)
