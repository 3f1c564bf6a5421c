"""PyTorch's ``gradcheck`` and ``gradgradcheck``, judged by exact derivatives.

PyTorch compares the backward pass with central differences, which miss a rule wrong by
less than their truncation error and can fail a correct rule where the function loses
precision. Here every Jacobian goes to ``symgrad.verify.check``, which compares it with
``sympy.diff`` of the graph's SymPy mirror: a wrong rule fails however small its error, and
float64 values within ``atol + rtol * |exact|`` of the exact ones pass. Central differences
(with PyTorch's tolerances) are only the fallback where no exact derivative exists: a graph
with a node that has no mirror, or, as in PyTorch, a function with no differentiable output.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from symgrad.autograd.api import grad as _grad
from symgrad.autograd.engine import topological_order
from symgrad.autograd.grad_mode import enable_grad, no_grad
from symgrad.autograd.graph import AccumulateGrad
from symgrad.tensor import Tensor, as_tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """A backward pass that disagrees with the derivative of its forward."""


def gradcheck(func: Callable[..., Any], inputs: Any, *, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
              nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False,
              masked: bool | None = None) -> bool:
    """True when, for every output of ``func(*inputs)`` that requires grad, the engine's
    Jacobian with respect to each input that requires grad is the exact one, within
    ``atol + rtol * |exact|``, and no rule or forward is found wrong at high precision.

    Otherwise raises ``GradcheckError`` naming the output, the input (numbered as PyTorch
    does, among those that require grad) and, in the report included in the message, the
    wrong op; or returns False when ``raise_exception=False``.
    With ``check_forward_ad`` the Jacobian from forward mode (``forward_ad``, one dual run
    per input entry) is compared the same way (``check_backward_ad=False``: only that).
    ``eps`` is only used by the central-difference fallback. PyTorch's other keywords are
    accepted and ignored: symgrad's backward is deterministic and has no vmap,
    sparse or complex tensors, and its JVPs come from the reverse rules checked here.
    """
    _torch_flags(check_forward_ad or check_backward_ad,
                 "at least one of check_forward_ad or check_backward_ad must be True",
                 not (check_batched_grad and not check_backward_ad),
                 "check_batched_grad=True needs check_backward_ad=True",
                 not (check_batched_forward_grad and not check_forward_ad),
                 "check_batched_forward_grad=True needs check_forward_ad=True")

    def run() -> None:
        if check_backward_ad:
            _check_first(func, inputs, eps, atol, rtol)
        if check_forward_ad:
            _check_forward(func, inputs, eps, atol, rtol)

    return _outcome(run, raise_exception)


def gradgradcheck(func: Callable[..., Any], inputs: Any, grad_outputs: Any = None, *,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True,
                  nondet_tol: float = 0.0, check_undefined_grad: bool = True,
                  check_grad_dtypes: bool = False, check_batched_grad: bool = False,
                  check_fwd_over_rev: bool = False, check_rev_over_rev: bool = True,
                  fast_mode: bool = False, masked: bool = False) -> bool:
    """``gradcheck`` for second derivatives: the backward of the backward, exactly.

    PyTorch checks the Jacobian of ``(inputs, grad_outputs) -> vjp``; that Jacobian is the
    Hessian of ``sum(grad_outputs * outputs)`` (of the output itself when it is a single
    scalar and no grad_outputs are given), which ``check(order=2)`` compares with ``sympy.diff``
    of the forward's mirror. ``grad_outputs`` are fixed random values unless given, and
    differentiated too when given ones require grad. A failure without a named node is
    re-checked through the recorded vjp, whose report can name it; graphs without a mirror
    fall back to central differences of the vjp.
    """
    _torch_flags(check_fwd_over_rev or check_rev_over_rev,
                 "at least one of check_fwd_over_rev or check_rev_over_rev must be True",
                 not (check_undefined_grad and not check_rev_over_rev),
                 "check_undefined_grad=True needs check_rev_over_rev=True",
                 not (check_batched_grad and not check_rev_over_rev),
                 "check_batched_grad=True needs check_rev_over_rev=True")
    return _outcome(lambda: _check_second(func, inputs, grad_outputs, eps, atol, rtol),
                    raise_exception)


# Also reachable as ``symgrad.autograd.gradcheck.GradcheckError`` (the function's attribute).
gradcheck.GradcheckError = GradcheckError


def _torch_flags(*conditions: Any) -> None:
    """PyTorch's AssertionErrors for contradictory flags (pairs: condition, message)."""
    for ok, message in zip(conditions[::2], conditions[1::2]):
        if not ok:
            raise AssertionError(message)


def _outcome(run: Callable[[], None], raise_exception: bool) -> bool:
    try:
        run()
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


# ---------------------------------------------------------------- arguments and outputs
def _as_tuple(x: Any) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _differentiable_inputs(args: tuple) -> list[int]:
    """Positions of the inputs that require grad (PyTorch's errors and warnings)."""
    diff = []
    for i, x in enumerate(args):
        if isinstance(x, Tensor) and x.requires_grad:
            if x._data.dtype != np.float64:
                warnings.warn(f"input #{i} requires grad and is not float64: the engine's "
                              "rounding is then far coarser than the default tolerances "
                              "expect, so the check will likely fail", stacklevel=6)
            diff.append(i)
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of the inputs has requires_grad=True")
    return diff


def _outputs(func: Callable, args: tuple) -> tuple:
    with enable_grad():
        outs = _as_tuple(func(*args))
    for k, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck expects func to return a Tensor or a tuple of Tensors; "
                            f"output {k} is a {type(o).__name__}")
    return outs


def _select(func: Callable, args: tuple, diff: list[int], k: int) -> Callable[..., Tensor]:
    """``func`` as a function of the differentiated inputs only, returning output ``k``."""

    def fn(*leaves: Tensor) -> Tensor:
        full = list(args)
        for j, leaf in zip(diff, leaves):
            full[j] = leaf
        return _as_tuple(func(*full))[k]

    fn.__name__ = getattr(func, "__name__", "func")
    return fn


def _labels(diff: list[int]) -> list[str]:
    return [f"input{n}" for n in range(len(diff))]


# ---------------------------------------------------------------- first derivatives
def _check_first(func: Callable, inputs: Any, eps: float, atol: float, rtol: float,
                 context: str = "", caller: str = "gradcheck") -> None:
    args = _as_tuple(inputs)
    diff = _differentiable_inputs(args)
    outs = _outputs(func, args)
    outputs = [(k, o) for k, o in enumerate(outs) if o.requires_grad]
    if not outputs:
        _no_differentiable_outputs(func, args, diff, outs, eps, context)
        return
    for i, (k, o) in enumerate(outputs):
        reason = _unmirrored(o)
        if not reason:
            from symgrad.verify.check import check   # a layer above autograd: loaded on use

            try:
                report = check(_select(func, args, diff, k), *[args[j] for j in diff],
                               mode="jacobian", names=_labels(diff),
                               title=f"{caller} {getattr(func, '__name__', 'func')}, "
                                     f"output {i}")
            except NotImplementedError as e:
                reason = str(e)
            else:
                _judge(report, i, atol, rtol, context)
                continue
        _central(func, args, diff, k, i, o, eps, atol, rtol, reason, context)
    _multiplied_by_grad_output([o for _, o in outputs], [args[j] for j in diff], context)


def _check_forward(func: Callable, inputs: Any, eps: float, atol: float, rtol: float) -> None:
    """Forward mode's Jacobian (tangents along each input entry) against the exact one,
    or, for a graph SymPy cannot replay, central differences."""
    from symgrad.autograd import forward_ad as fw

    args = _as_tuple(inputs)
    diff = _differentiable_inputs(args)
    outs = _outputs(func, args)
    ks = [k for k, o in enumerate(outs) if o._data.dtype.kind == "f"]
    forward = {(k, j): np.zeros(outs[k]._data.shape + args[j]._data.shape)
               for k in ks for j in diff}
    for j in diff:
        x = args[j]
        for idx in np.ndindex(*x._data.shape):
            e = np.zeros(x._data.shape, x._data.dtype)
            e[idx] = 1
            with fw.dual_level():
                trial = list(args)
                trial[j] = fw.make_dual(x, Tensor._wrap(e))
                res = _as_tuple(func(*trial))
                for k in ks:
                    t = fw.unpack_dual(res[k]).tangent
                    if t is not None:
                        forward[k, j][(Ellipsis,) + idx] = t._data
    for i, k in enumerate(ks):
        exact = _exact_jacobians(func, args, diff, k, outs[k])
        for n, j in enumerate(diff):
            how = "exact"
            ref = exact[n] if exact is not None else None
            if ref is None:
                how = f"central differences (eps={eps})"
                ref = _numerical_jacobian(func, args, j, k, eps, outs[k]._data.shape)
            bad = _outside(forward[k, j], ref, atol, rtol)
            if bad is not None:
                raise GradcheckError(
                    f"Jacobian computed with forward mode mismatch for output {i} with respect "
                    f"to input {n} (at entry {bad[0]}: forward mode {bad[1]!r}, {how} "
                    f"{bad[2]!r}),\n{how}:{_show(ref)}\nforward mode:{_show(forward[k, j])}")


def _exact_jacobians(func: Callable, args: tuple, diff: list[int], k: int,
                     out: Tensor) -> list | None:
    """SymPy's Jacobians of output ``k`` per differentiated input (None: not replayable)."""
    if not out.requires_grad or _unmirrored(out):
        return None
    from symgrad.verify.check import check   # a layer above autograd: loaded on use

    try:
        report = check(_select(func, args, diff, k), *[args[j] for j in diff], mode="jacobian",
                       names=_labels(diff))
    except NotImplementedError:
        return None
    rows = {row.name: row.exact for row in report.rows if row.what == "jacobian"}
    return [np.asarray(rows[name], dtype=np.float64) if name in rows else None
            for name in _labels(diff)]


def _unmirrored(out: Tensor) -> str:
    """Why the graph behind ``out`` cannot be replayed in SymPy ("" when it can)."""
    root = out.grad_fn
    if root is None:
        return ""
    missing = []
    for node in topological_order([root])[0]:
        if type(node) is AccumulateGrad:
            continue
        op, fn = getattr(node, "op", None), getattr(node, "fn", None)
        if (not hasattr(node, "replay") or (op is not None and op.mirror is None)
                or (fn is not None and getattr(fn, "mirror", None) is None)):
            missing.append(node.name())
    if not missing:
        return ""
    return "no SymPy mirror for " + ", ".join(sorted(set(missing)))


_WHY = {"rule mismatch": "the rule is wrong: it disagrees with the exact derivative when "
                         "re-run at high precision too",
        "numerically inaccurate": "the rule is right, but float64 lost the value",
        "non-differentiable point": "an input sits on a non-differentiable point; the "
                                    "engine's convention differs from the exact value here",
        "agree": "within float64's rounding budget, yet outside atol + rtol * |exact|"}


def _judge(report: Any, i: int, atol: float, rtol: float, context: str) -> None:
    """Raise for the first row of ``report`` that fails gradcheck's criterion."""
    from symgrad.verify.compare import FORWARD_MISMATCH, MISMATCH

    for row in report.rows:   # (the report's text, with closed forms, only for a failure)
        if row.what == "forward":
            if row.verdict == FORWARD_MISMATCH:
                raise GradcheckError(
                    f"{context}Forward mismatch for output {i}: the forward and its SymPy "
                    f"mirror compute different functions, so the gradient cannot be right."
                    f"\n\n{report.table()}")
            continue
        bad = _outside(row.numeric, row.exact, atol, rtol)
        if row.verdict != MISMATCH and bad is None:
            continue
        where = ""
        if bad is not None:
            idx, n, e = bad
            where = (f"\nat entry {idx}: engine {n!r}, exact {e!r} (|difference| "
                     f"{abs(n - e):.3g} > atol + rtol * |exact| = {atol + rtol * abs(e):.3g})")
        raise GradcheckError(
            f"{context}{_what(row)} mismatch for output {i} with respect to {_wrt(row)} "
            f"(exact check: {row.verdict}; {_WHY.get(row.verdict, row.verdict)}),{where}\n"
            f"engine:{_show(row.numeric)}\nexact:{_show(row.exact)}\n\n{report.table()}")
    if report.findings:
        raise GradcheckError(f"{context}a node's rule disagrees with its op's exact derivative "
                             f"(output {i})\n\n{report.table()}")
    _warn_if_cut(report, i)


#: Richardson-extrapolated central differences land ~1e-8 or closer on smooth functions.
CUT_SUSPECT = 1e-2


def _warn_if_cut(report: Any, i: int) -> None:
    """The exact derivative is that of the recorded graph: a function that leaves it
    (``.detach()``, a numpy round trip) passes here where PyTorch's central differences
    fail. The report's central-difference witness, never a verdict, shows it: warn."""
    for row in report.rows:
        err = row.fd_rel_err
        if row.what != "forward" and err is not None and CUT_SUSPECT < err < np.inf:
            warnings.warn(
                f"gradcheck: for output {i} and {_wrt(row)}, central differences land "
                f"{err:.2g} (relative) from the exact derivative of the recorded graph, which "
                "the engine matches; if func leaves the graph (.detach(), numpy), its "
                "derivative is not the graph's, and PyTorch's gradcheck would fail",
                stacklevel=7)
            return


def _what(row: Any) -> str:
    return {"jacobian": "Jacobian", "hessian": "Second derivative"}.get(
        row.what, row.what.capitalize())


def _wrt(row: Any) -> str:
    names = [n.replace("input", "") for n in row.name.split(",")]
    if len(names) == 1:
        return f"input {names[0]}"
    return f"inputs {names[0]} and {names[1]}"


def _outside(numeric: Any, exact: Any, atol: float, rtol: float) -> tuple | None:
    """The first entry where ``numeric`` is not within ``atol + rtol * |exact|``; equal
    infinities, and nan where the exact value is nan too, count as agreeing."""
    n = np.asarray(numeric, dtype=np.float64)
    e = np.asarray(exact, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        ok = (np.abs(n - e) <= atol + rtol * np.abs(e)) | (n == e) | (np.isnan(n) & np.isnan(e))
    if ok.all():
        return None
    idx = np.unravel_index(int(np.argmin(ok)), ok.shape)
    return tuple(int(v) for v in idx), float(n[idx]), float(e[idx])


def _show(a: Any) -> str:
    return np.array2string(np.asarray(a, dtype=np.float64), precision=6, threshold=64)


def _multiplied_by_grad_output(outs: list[Tensor], leaves: list[Tensor], context: str) -> None:
    """A zero grad_output must give zero gradients: a rule that ignores ``g`` can still
    pass every Jacobian row whose cotangent reaches it as 1 (PyTorch checks this too).
    (nan is let through: 0 * inf at a singular point is nan, not a forgotten ``g``.)"""
    zeros = [Tensor._wrap(np.zeros_like(o._data)) for o in outs]
    grads = _grad(outs, leaves, zeros, retain_graph=True, allow_unused=True)
    for n, g in enumerate(grads):
        if g is None:
            continue
        with np.errstate(invalid="ignore"):
            wrong = (g._data != 0) & ~np.isnan(g._data)
        if wrong.any():
            raise GradcheckError(
                f"{context}backward not multiplied by grad_output: with zero grad_outputs the "
                f"gradient for input {n} is not zero:\n{_show(g._data)}")


# ---------------------------------------------------------------- central differences
def _central(func: Callable, args: tuple, diff: list[int], k: int, i: int, out: Tensor,
             eps: float, atol: float, rtol: float, reason: str, context: str) -> None:
    """PyTorch's test, for a graph symgrad cannot replay exactly: the engine's Jacobian
    against central differences, ``|analytical - numerical| <= atol + rtol * |numerical|``."""
    leaves = [args[j] for j in diff]
    analytical = _engine_jacobian(out, leaves)
    for n, j in enumerate(diff):
        numerical = _numerical_jacobian(func, args, j, k, eps, out._data.shape)
        a = analytical[n]
        with np.errstate(invalid="ignore"):
            ok = np.abs(a - numerical) <= atol + rtol * np.abs(numerical)
        if not ok.all():
            raise GradcheckError(
                f"{context}Jacobian mismatch for output {i} with respect to input {n},\n"
                f"checked by central differences (eps={eps}) because there is no exact "
                f"derivative to compare with: {reason}\n"
                f"numerical:{_show(numerical)}\nanalytical:{_show(a)}")


def _engine_jacobian(out: Tensor, leaves: list[Tensor]) -> list[np.ndarray]:
    """d out / d leaf from the engine, one backward per output entry (shape out + leaf)."""
    shape = out._data.shape
    jac = [np.zeros(shape + leaf._data.shape) for leaf in leaves]
    for idx in np.ndindex(*shape):
        e = np.zeros(shape, dtype=out._data.dtype)
        e[idx] = 1
        grads = _grad([out], leaves, [Tensor._wrap(e)], retain_graph=True, allow_unused=True)
        for J, g in zip(jac, grads):
            if g is not None:
                J[idx] = g._data
    return jac


def _numerical_jacobian(func: Callable, args: tuple, j: int, k: int, eps: float,
                        shape: tuple) -> np.ndarray:
    """d output_k / d input_j by central differences with step ``eps`` (shape out + input)."""
    x0 = np.asarray(args[j]._data)
    jac = np.zeros(shape + x0.shape)

    def at(x: np.ndarray) -> np.ndarray:
        trial = list(args)
        trial[j] = Tensor._wrap(x)
        with no_grad(), np.errstate(all="ignore"):
            out = _as_tuple(func(*trial))[k]
        return np.asarray(out._data, dtype=np.float64)

    for idx in np.ndindex(*x0.shape):
        plus, minus = x0.copy(), x0.copy()
        plus[idx] += eps
        minus[idx] -= eps
        jac[(Ellipsis,) + idx] = (at(plus) - at(minus)) / (2 * eps)
    return jac


def _no_differentiable_outputs(func: Callable, args: tuple, diff: list[int], outs: tuple,
                               eps: float, context: str) -> None:
    """No output requires grad, so nothing was recorded and there is nothing to replay:
    as PyTorch, the function must then not depend on the inputs (central differences 0)."""
    for k, o in enumerate(outs):
        for n, j in enumerate(diff):
            numerical = _numerical_jacobian(func, args, j, k, eps, o._data.shape)
            if np.any(numerical != 0):
                raise GradcheckError(
                    f"{context}Numerical gradient for function expected to be zero: no output "
                    f"requires grad, but central differences of output {k} with respect to "
                    f"input {n} are not zero (was the graph cut, e.g. by .detach() or "
                    f"no_grad?):\n{_show(numerical)}")


# ---------------------------------------------------------------- second derivatives
def _check_second(func: Callable, inputs: Any, grad_outputs: Any, eps: float, atol: float,
                  rtol: float) -> None:
    """The vjp's Jacobian is the Hessian of ``s = sum(grad_outputs * outputs)`` (of the
    output itself for one scalar output): ``check(order=2)`` compares the engine's with
    ``sympy.diff`` of the forward's mirror, twice. (Checking the recorded vjp's Jacobian
    against its own mirror, PyTorch's construction, would miss a rule whose backward cuts
    the graph, e.g. detaches a factor: that cut is in the mirror too.)"""
    args = _as_tuple(inputs)
    diff = _differentiable_inputs(args)
    outs = _outputs(func, args)
    ks = [k for k, o in enumerate(outs) if o.requires_grad]
    given = _grad_outputs(grad_outputs, [outs[k] for k in ks])
    go_diff = [m for m, g in enumerate(given) if g.requires_grad]
    if ks and not any(_unmirrored(outs[k]) for k in ks):
        from symgrad.verify.check import check   # a layer above autograd: loaded on use

        scalar = grad_outputs is None and len(ks) == 1 and outs[ks[0]]._data.size == 1
        fn = (_select(func, args, diff, ks[0]) if scalar
              else _contracted(func, args, diff, ks, given, go_diff))
        leaves = [args[j] for j in diff] + [given[m] for m in go_diff]
        try:
            report = check(fn, *leaves, mode="gradient", order=2,
                           names=[f"input{n}" for n in range(len(leaves))],
                           title=f"gradgradcheck {getattr(func, '__name__', 'func')}")
        except NotImplementedError:
            pass   # the vjp route below falls back to central differences
        else:
            context = "gradgradcheck: " if scalar else (
                "gradgradcheck (of sum(grad_outputs * outputs); inputs numbered as PyTorch "
                "numbers inputs + grad_outputs that require grad): ")
            try:
                _judge(report, 0, atol, rtol, context)
            except GradcheckError as e:
                if report.findings:
                    raise
                # A Hessian's report names no node; the recorded vjp's Jacobian can.
                try:
                    _vjp_route(func, args, diff, ks, given, eps, atol, rtol)
                except GradcheckError as named:
                    raise GradcheckError(f"{e}\n\nThe recorded vjp's Jacobian, to name the "
                                         f"node:\n{named}") from None
                raise
            return
    _vjp_route(func, args, diff, ks, given, eps, atol, rtol)


def _grad_outputs(grad_outputs: Any, outputs: list[Tensor]) -> tuple:
    """The given grad_outputs (checked against the outputs), or fixed random ones."""
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        return tuple(Tensor._wrap(rng.uniform(-1, 1, o._data.shape).astype(o._data.dtype))
                     for o in outputs)
    given = tuple(g if isinstance(g, Tensor) else as_tensor(g) for g in _as_tuple(grad_outputs))
    if len(given) != len(outputs):
        raise RuntimeError(f"grad_outputs has {len(given)} entries for {len(outputs)} "
                           "outputs that require grad")
    for i, (g, o) in enumerate(zip(given, outputs)):
        if g._data.shape != o._data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                               f"{g.shape!r} and output[{i}] has a shape of "
                               f"{o.shape!r}.")
    return given


def _contracted(func: Callable, args: tuple, diff: list[int], ks: list[int], given: tuple,
                go_diff: list[int]) -> Callable[..., Tensor]:
    """``(*differentiated inputs, *grad_outputs that require grad) -> sum(g * output)``."""

    def s(*leaves: Tensor) -> Tensor:
        full, gs = list(args), list(given)
        for j, leaf in zip(diff, leaves):
            full[j] = leaf
        for m, leaf in zip(go_diff, leaves[len(diff):]):
            gs[m] = leaf
        outs = _as_tuple(func(*full))
        total = (outs[ks[0]] * gs[0]).sum()
        for k, g in zip(ks[1:], gs[1:]):
            total = total + (outs[k] * g).sum()
        return total

    s.__name__ = f"contracted_{getattr(func, '__name__', 'func')}"
    return s


def _vjp_route(func: Callable, args: tuple, diff: list[int], ks: list[int], given: tuple,
               eps: float, atol: float, rtol: float) -> None:
    """PyTorch's construction: gradcheck of ``(*inputs, *grad_outputs) -> vjp``."""
    _check_first(_vjp_function(func, len(args), diff, ks), args + given, eps, atol, rtol,
                 "gradgradcheck (output i is the gradient for the i-th input that requires "
                 "grad): ", "gradgradcheck")


def _vjp_function(func: Callable, n_args: int, diff: list[int],
                  ks: list[int]) -> Callable[..., tuple]:
    """``(*inputs, *grad_outputs) -> vjp`` with the backward recorded (``create_graph``)."""

    def vjp(*all_args: Any) -> tuple:
        ins, cotangents = list(all_args[:n_args]), list(all_args[n_args:])
        for j in diff:   # (central differences pass plain tensors)
            if not ins[j].requires_grad:
                ins[j] = ins[j].detach().requires_grad_(True)
        leaves = [ins[j] for j in diff]
        with enable_grad():
            outs = _as_tuple(func(*ins))
            grads = _grad([outs[k] for k in ks], leaves, cotangents, create_graph=True,
                          allow_unused=True)
        return tuple(g if g is not None else Tensor._wrap(np.zeros_like(x._data))
                     for g, x in zip(grads, leaves))

    vjp.__name__ = f"vjp_of_{getattr(func, '__name__', 'func')}"
    return vjp
