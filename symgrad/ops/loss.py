"""Losses: cross-entropy and negative log-likelihood, binary cross-entropy (on logits and on
probabilities), and the regression losses (mean squared, L1, smooth L1, Huber).

Forwards are written to be exact in float64 for any input (``softplus(-z)`` instead of
``log(sigmoid(z))``, a shifted log-softmax); mirrors are the textbook definitions, so the
verifier also checks that the careful form computes the same function. Where PyTorch builds
a loss out of other ops (``cross_entropy`` is ``log_softmax`` then ``nll_loss``; class
probabilities, label smoothing and ``weight=`` for the regression losses are sums and
products), the public function composes the same ops, so the recorded graph is PyTorch's.

Class-index targets are integer data, not variables: they travel as the ``target``
parameter of the ``nll_loss`` record (like the indices of ``take_along_dim``) and are read
with plain numpy, never with the namespace.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from symgrad.autograd.grad_mode import is_grad_enabled
from symgrad.ops import elementwise as _ew
from symgrad.ops._apply import apply
from symgrad.ops._record import POSITIVE, REAL, UNIT, Domain, Kink, register
from symgrad.ops._util import (LAZY_SYMBOLS, broadcast_check, broadcast_mismatch, check_kernel,
                               lazy_head, numel, sp, type_name)
from symgrad.ops.namespaces import NUMPY, exact_number
from symgrad.tensor import Tensor, as_tensor

__all__ = ["binary_cross_entropy_with_logits", "binary_cross_entropy", "mse_loss", "l1_loss",
           "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy", "kl_div", "REDUCTIONS",
           "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
           "multilabel_soft_margin_loss", "cosine_embedding_loss", "triplet_margin_loss",
           "multi_margin_loss", "poisson_nll_loss", "gaussian_nll_loss"]

REDUCTIONS = ("none", "mean", "sum")
_and_reduce = np.logical_and.reduce
_U64 = np.dtype(np.uint64)
_count_nonzero = np.count_nonzero


def _reduce(xp, v, reduction):
    if reduction == "none":
        return v
    s = xp.sum(v)
    return s if reduction == "sum" else s / numel(v)


def _reduce_mirror(v, reduction):
    if reduction == "none":
        return v
    s = np.sum(v)
    return s if reduction == "sum" else s / exact_number(int(np.size(v)))   # 0/0: nan


def _g_for(g, reduction, *arrays):
    """The incoming gradient as seen by each entry (divided by n for ``mean``)."""
    return g / numel(*arrays) if reduction == "mean" else g


def _weights(w, pw, y):
    return (1 if w is None else w), (1 if pw is None else pw)


# ================================================================ BCE with logits
def _bce_logits_forward(xp, z, y, w, pw, reduction="mean"):
    # -w [pw y log s(z) + (1-y) log(1-s(z))] = w [(1-y) z + (pw y + 1 - y) softplus(-z)]
    # (with pw = 1 the second factor is 1); no exp of a large logit anywhere.
    if pw is None:
        v = (1 - y) * z + xp.softplus(-z)
    else:
        v = (1 - y) * z + (pw * y + 1 - y) * xp.softplus(-z)
    return _reduce(xp, v if w is None else w * v, reduction)


def _bce_logits_vjp_z(xp, g, ans, z, y, w, pw, reduction="mean"):
    if pw is None:
        d = xp.sigmoid(z) - y
    else:
        d = (pw * y + 1 - y) * xp.sigmoid(z) - pw * y
    d = _g_for(g, reduction, z, y, w, pw) * d
    return d if w is None else w * d


def _bce_logits_vjp_y(xp, g, ans, z, y, w, pw, reduction="mean"):
    w, pw = _weights(w, pw, y)
    return _g_for(g, reduction, z, y, w, pw) * w * ((pw - 1) * xp.softplus(-z) - z)


def _bce_logits_mirror(z, y, w, pw, reduction="mean"):
    w, pw = _weights(w, pw, y)
    z, y, w, pw = np.broadcast_arrays(*(np.asarray(a, dtype=object) for a in (z, y, w, pw)))

    from symgrad.ops import _sums   # imports SymPy: not at start-up

    def entry(z, y, w, pw):
        big = len(getattr(z, "free_symbols", ())) > LAZY_SYMBOLS
        e = sp.exp(_sums.neg(z), evaluate=not big)
        s = sp.Pow(1 + e, -1, evaluate=False) if big else 1 / (1 + e)
        # A term whose coefficient is exactly 0 (y = 0 or y = 1) is left out: the same
        # value for real z (both logs are finite), and building 0 * log(...) would make
        # SymPy ask whether the log is finite, which costs seconds on a long sum z.
        a, b = pw * y, 1 - y
        t1 = 0 if a == 0 else a * lazy_head(sp.log, s)
        t2 = 0 if b == 0 else b * lazy_head(sp.log, 1 - s)
        return -w * (t1 + t2)

    v = np.frompyfunc(entry, 4, 1)(z, y, w, pw)
    return _reduce_mirror(np.asarray(v, dtype=object), reduction)


BCE_WITH_LOGITS = register(
    "binary_cross_entropy_with_logits", "BinaryCrossEntropyWithLogitsBackward0",
    forward=_bce_logits_forward,
    vjp=(_bce_logits_vjp_z, _bce_logits_vjp_y, None, None),
    mirror=_bce_logits_mirror,
    kind="loss",
    domain=(Domain(typical=(-6.0, 6.0)), UNIT, Domain(((0.0, float("inf")),), (0.2, 2.0)),
            Domain(((0.0, float("inf")),), (0.2, 3.0))),
    examples=tuple((((2, 3), (2, 3), None, None), {"reduction": r}) for r in REDUCTIONS) + (
        (((2, 3), (2, 3), (3,), (3,)), {"reduction": "mean"}),
        (((2, 3), (2, 3), (2, 1), None), {"reduction": "sum"})),
)


def _check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross-entropy of ``sigmoid(input)`` against ``target``, exact for any logit."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    target = as_tensor(target)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Target size ({target.size()}) must be the same as input size "
                         f"({input.size()})")
    w = None if weight is None else as_tensor(weight)
    pw = None if pos_weight is None else as_tensor(pos_weight)
    try:
        if w is not None or pw is not None:
            np.broadcast_shapes(*(a._data.shape for a in (input, target, w, pw) if a is not None))
    except ValueError:
        raise RuntimeError(f"weight {None if w is None else tuple(w.shape)} and pos_weight "
                           f"{None if pw is None else tuple(pw.shape)} must broadcast to the "
                           f"input shape {tuple(input.shape)}") from None
    if w is not None or pw is not None:
        _no_grad_for("binary_cross_entropy_with_logits", "weight", w)
        _no_grad_for("binary_cross_entropy_with_logits", "pos_weight", pw)
    return apply(BCE_WITH_LOGITS, input, target, w, pw, reduction=reduction)


def _legacy_reduction(size_average, reduce, reduction: str) -> str:
    """PyTorch's deprecated ``size_average`` / ``reduce`` arguments, mapped to ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    out = "none" if not reduce else "mean" if size_average else "sum"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{out}' instead.", UserWarning, stacklevel=3)
    return out


# ================================================================ mean squared error
MSE = register(
    "mse_loss", "MseLossBackward0",
    forward=lambda xp, x, y, reduction="mean": _reduce(xp, (x - y) * (x - y), reduction),
    vjp=(lambda xp, g, ans, x, y, reduction="mean": 2 * _g_for(g, reduction, x, y) * (x - y),
         lambda xp, g, ans, x, y, reduction="mean": -2 * _g_for(g, reduction, x, y) * (x - y)),
    mirror=lambda x, y, reduction="mean": _reduce_mirror(
        np.asarray((np.asarray(x, dtype=object) - y) ** 2, dtype=object), reduction),
    kind="loss", domain=(REAL, REAL), params={"reduction": REDUCTIONS},
)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean (or summed, or per-entry) squared difference; ``weight`` (input's shape) weighs
    each entry, and its ``mean`` divides by the sum of the weights (as PyTorch 2.13)."""
    target = as_tensor(target)
    _warn_if_broadcast(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if weight is not None:
        return _weighted(apply(MSE, input, target, reduction="none"), weight, input, reduction,
                         mean_by_weight=True)
    _check_reduction(reduction)
    if _numeric(input) and _numeric(target):   # PyTorch's kernel runs in the promoted dtype
        check_kernel("mse_cpu", np.promote_types(input._data.dtype, target._data.dtype))
    return apply(MSE, input, target, reduction=reduction)


def _warn_if_broadcast(input: Tensor, target: Tensor) -> None:
    """PyTorch's warning for a target of another shape, then its error when the shapes do
    not broadcast at all (before numpy's ValueError could escape from the forward)."""
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input "
                      f"size ({input.size()}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.",
                      UserWarning, stacklevel=3)
        broadcast_check(input, target)


def _weighted(loss: Tensor, weight, input: Tensor, reduction: str, *,
              mean_by_weight: bool) -> Tensor:
    """PyTorch 2.13's ``weight=`` of the regression losses, composed of ordinary ops:
    per-entry losses times the weights, then summed, or divided by the summed weights
    (``mse_loss``, ``l1_loss``) or by the number of entries (``huber_loss``)."""
    weight = as_tensor(weight)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    out = loss * weight
    if reduction == "none":
        return out
    if reduction == "sum":
        return out.sum()
    if reduction == "mean":
        return out.sum() / weight.sum() if mean_by_weight else out.mean()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', "
                     "'sum'.")


# ================================================================ shared checks
def _numeric(t: Tensor) -> bool:
    return t._data.dtype != object


def _is_float(t: Tensor) -> bool:
    return t._data.dtype.kind == "f" or t._data.dtype == object


def _on_kink(mask, reduction: str) -> np.ndarray:
    """A per-entry kink mask in the loss's output shape (one flag once reduced)."""
    mask = np.asarray(mask)
    return mask if reduction == "none" else np.asarray(mask.any())


def _no_grad_for(name: str, arg: str, t: Tensor | None) -> None:
    """PyTorch refuses, at the call, a differentiable tensor where it has no derivative."""
    if t is not None and t.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{name}' is not differentiable with respect to "
                           f"argument '{arg}'. This input cannot have requires_grad True.")


def _entry_loss(entry, *arrays):
    """A textbook per-entry formula over broadcast object arrays (for the mirrors)."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=object) for a in arrays))
    out = np.frompyfunc(entry, len(arrays), 1)(*arrays)
    return np.asarray(out, dtype=object)


# ================================================================ L1
def _l1_vjp(sign):
    def rule(xp, g, ans, x, y, reduction="mean"):
        return sign * _g_for(g, reduction, x, y) * xp.sign(x - y)
    return rule


L1 = register(
    "l1_loss", "MeanBackward0",
    forward=lambda xp, x, y, reduction="mean": _reduce(xp, xp.abs(x - y), reduction),
    vjp=(_l1_vjp(1), _l1_vjp(-1)),
    mirror=lambda x, y, reduction="mean": _reduce_mirror(
        _entry_loss(lambda x, y: sp.Abs(x - y), x, y), reduction),
    kind="loss", domain=(REAL, REAL), params={"reduction": REDUCTIONS},
    kinks=Kink(lambda x, y, reduction="mean": _on_kink(np.equal(x, y), reduction),
               "d|input - target| = sign(0) = 0 where input == target, as PyTorch (whose "
               "target gradient there is -0.0)"),
)
# PyTorch composes l1_loss as abs(input - target), then mean / sum: the node carries the
# name of the last of those ops.
_L1_BY_REDUCTION = {"mean": L1, "sum": L1.variant("SumBackward0"),
                    "none": L1.variant("AbsBackward0")}


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean (or summed, or per-entry) absolute difference; ``weight`` as in ``mse_loss``."""
    target = as_tensor(target)
    _warn_if_broadcast(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if weight is not None:
        return _weighted(apply(_L1_BY_REDUCTION["none"], input, target, reduction="none"),
                         weight, input, reduction, mean_by_weight=True)
    _check_reduction(reduction)
    return _l1(input, target, reduction)


def _l1(input: Tensor, target: Tensor, reduction: str) -> Tensor:
    if reduction == "mean" and _numeric(input) and not _is_float(input):
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {type_name(input)}")
    return apply(_L1_BY_REDUCTION[reduction], input, target, reduction=reduction)


# ================================================================ smooth L1 and Huber
# Both are quadratic for |d| < beta (delta) and linear outside. At |d| = beta the first
# derivative is continuous (only the second jumps); there the rules use the linear branch's
# slope, which equals the quadratic one's (PyTorch takes the quadratic: same value). The rules
# are written branch for branch like the mirrors' derivatives, so SymPy proves them.
def _smooth_l1(xp, d, beta):
    a = xp.abs(d)
    return xp.where(xp.less(a, beta), 0.5 * d * d / beta, a - 0.5 * beta)


def _smooth_l1_vjp(sign):
    # as PyTorch, the target's rule is the input's with the roles swapped (slope(y - x)), so
    # at input == target both gradients are +0.0
    def rule(xp, g, ans, x, y, reduction="mean", beta=1.0):
        d = x - y if sign > 0 else y - x
        slope = xp.where(xp.less(xp.abs(d), beta), d / beta, xp.sign(d))
        return _g_for(g, reduction, x, y) * slope
    return rule


def _smooth_l1_entry(beta):
    return lambda x, y: sp.Piecewise(((x - y) ** 2 / (2 * beta), sp.Abs(x - y) < beta),
                                     (sp.Abs(x - y) - beta / 2, True))


def _at_threshold(x, y, reduction="mean", beta=None, delta=None):
    t = beta if beta is not None else delta if delta is not None else 1.0
    return _on_kink(np.equal(np.abs(np.subtract(x, y)), t), reduction)


_PIECES = tuple((((3,), (3,)), {"reduction": r, "beta": 1.0}) for r in REDUCTIONS) + (
    (((2, 2), (2,)), {"reduction": "mean", "beta": 0.5}),)

SMOOTH_L1 = register(
    "smooth_l1_loss", "SmoothL1LossBackward0",
    forward=lambda xp, x, y, reduction="mean", beta=1.0: _reduce(
        xp, _smooth_l1(xp, x - y, beta), reduction),
    vjp=(_smooth_l1_vjp(1), _smooth_l1_vjp(-1)),
    mirror=lambda x, y, reduction="mean", beta=1.0: _reduce_mirror(
        _entry_loss(_smooth_l1_entry(beta), x, y), reduction),
    kind="loss", domain=(REAL, REAL), examples=_PIECES,
    kinks=Kink(_at_threshold, "|input - target| = beta: quadratic meets linear; the slope "
                              "(+-1) is continuous there (the rules give PyTorch's +-1), the "
                              "curvature jumps from 1/beta to 0"),
)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Quadratic below ``beta``, absolute above; ``beta=0`` is ``l1_loss``."""
    target = as_tensor(target)
    _warn_if_broadcast(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if beta == 0.0:
        return _l1(input, target, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    check_kernel("smooth_l1_cpu", input)
    return apply(SMOOTH_L1, input, target, reduction=reduction, beta=float(beta))


def _huber(xp, d, delta):
    a = xp.abs(d)
    return xp.where(xp.less(a, delta), 0.5 * d * d, delta * (a - 0.5 * delta))


def _huber_vjp(sign):
    def rule(xp, g, ans, x, y, reduction="mean", delta=1.0):
        d = x - y if sign > 0 else y - x
        slope = xp.where(xp.less(xp.abs(d), delta), d, delta * xp.sign(d))
        return _g_for(g, reduction, x, y) * slope
    return rule


def _huber_entry(delta):
    return lambda x, y: sp.Piecewise(((x - y) ** 2 / 2, sp.Abs(x - y) < delta),
                                     (delta * (sp.Abs(x - y) - delta / 2), True))


HUBER = register(
    "huber_loss", "HuberLossBackward0",
    forward=lambda xp, x, y, reduction="mean", delta=1.0: _reduce(
        xp, _huber(xp, x - y, delta), reduction),
    vjp=(_huber_vjp(1), _huber_vjp(-1)),
    mirror=lambda x, y, reduction="mean", delta=1.0: _reduce_mirror(
        _entry_loss(_huber_entry(delta), x, y), reduction),
    kind="loss", domain=(REAL, REAL),
    examples=tuple((s, {"reduction": p["reduction"], "delta": p["beta"]}) for s, p in _PIECES),
    kinks=Kink(_at_threshold, "|input - target| = delta: quadratic meets linear; the slope "
                              "(+-delta) is continuous there (the rules give PyTorch's "
                              "+-delta), the curvature jumps from 1 to 0"),
)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """Quadratic below ``delta``, ``delta``-scaled absolute above; ``weight`` as PyTorch 2.13
    (per entry; its ``mean`` is the mean of the weighted losses)."""
    target = as_tensor(target)
    _warn_if_broadcast(input, target)
    if weight is None:
        _check_reduction(reduction)
    elif tuple(as_tensor(weight).shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    check_kernel("huber_cpu", input)
    if weight is not None:
        return _weighted(apply(HUBER, input, target, reduction="none", delta=float(delta)),
                         weight, input, reduction, mean_by_weight=False)
    out = apply(HUBER, input, target, reduction=reduction, delta=float(delta))
    if out._data.dtype != input._data.dtype and _numeric(input):
        # PyTorch computes in the promoted dtype but returns the input's (float32 input,
        # float64 target: a float32 loss)
        out = out.to(input.dtype)
    return out


# ================================================================ BCE on probabilities
# PyTorch clamps each log at -100 in the forward, and its rules divide by
# max(p (1 - p), EPSILON) with EPSILON the float32 constant 1e-12 (9.99999996e-13); the
# target's rule is -logit(p), unclamped. Where p (1 - p) < EPSILON (which contains the
# region where a log is clamped, p < e^-100) the rules are PyTorch's values, not the
# derivatives of the clamped forward: that is the declared clamp region, outside the
# domain the proofs run on. (-logit(p) is written log(1 - p) - log(p): the same value up to
# rounding, and the form SymPy cancels against the mirror's derivative.)
_BCE_EPS = float(np.float32(1e-12))
_BCE_P = Domain(((1e-11, 1 - 1e-11),), typical=(0.02, 0.98))


def _bce_forward(xp, p, y, w, reduction="mean"):
    v = (y - 1) * xp.maximum(xp.log1p(-p), -100.0) - y * xp.maximum(xp.log(p), -100.0)
    return _reduce(xp, v if w is None else v * w, reduction)


def _bce_vjp_p(xp, g, ans, p, y, w, reduction="mean"):
    r = _g_for(g, reduction, p) * (p - y) / xp.maximum((1 - p) * p, _BCE_EPS)
    return r if w is None else r * w


def _bce_vjp_y(xp, g, ans, p, y, w, reduction="mean"):
    r = _g_for(g, reduction, p) * (xp.log1p(-p) - xp.log(p))
    return r if w is None else r * w


def _bce_mirror(p, y, w, reduction="mean"):
    w = 1 if w is None else w
    v = _entry_loss(lambda p, y, w: -w * (y * sp.log(p) + (1 - y) * sp.log(1 - p)), p, y, w)
    return _reduce_mirror(v, reduction)


BCE = register(
    "binary_cross_entropy", "BinaryCrossEntropyBackward0",
    forward=_bce_forward,
    vjp=(_bce_vjp_p, _bce_vjp_y, None),
    mirror=_bce_mirror,
    kind="loss", domain=(_BCE_P, UNIT, Domain(((0.0, math.inf),), (0.2, 2.0))),
    examples=((((2,), (2,), (1,)), {"reduction": "none"}),
              (((1,), (1,), None), {"reduction": "mean"})),
    kinks=Kink(lambda p, y, w, reduction="mean": _on_kink(
        np.broadcast_to(np.less(p * (1 - p), _BCE_EPS), np.broadcast_shapes(
            np.shape(p), np.shape(y), np.shape(w) if w is not None else ())), reduction),
        "clamp region p (1 - p) < 1e-12 (PyTorch's float32 EPSILON, p = 0 and 1 included): "
        "the forward clamps log(p) and log(1 - p) at -100; the rules return PyTorch's "
        "values there, d/dp = (p - y) / max(p (1 - p), 1e-12) and d/dy = -logit(p) "
        "(unclamped, +-inf at p = 0, 1)"),
)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities ``input`` against ``target`` (logs clamped at
    -100, as PyTorch); prefer ``binary_cross_entropy_with_logits``, exact for any logit."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    target = as_tensor(target)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.size()}) that is different to the "
                         f"input size ({input.size()}) is deprecated. Please ensure they have "
                         "the same size.")
    w = None
    if weight is not None:
        w = as_tensor(weight)
        _expand_weight(w, tuple(target.shape), tuple(input.shape))
    if _numeric(input):
        check_kernel("binary_cross_entropy", input)
        if _numeric(target) and target._data.dtype != input._data.dtype:
            raise RuntimeError(f"Found dtype {type_name(target)} but expected "
                               f"{type_name(input)}")
        p = input._data
        if not np.all((p >= 0) & (p <= 1)):
            raise RuntimeError("all elements of input should be between 0 and 1")
    if _numeric(target):
        y = target._data
        if not np.all((y >= 0) & (y <= 1)):
            raise RuntimeError("all elements of target should be between 0 and 1")
    _no_grad_for("binary_cross_entropy", "weight", w)
    return apply(BCE, input, target, w, reduction=reduction)


def _expand_weight(w: Tensor, target_shape: tuple, input_shape: tuple) -> None:
    """PyTorch's checks for ``weight.expand(broadcast_shapes(target, weight))``."""
    ws = tuple(w.shape)
    bad = broadcast_mismatch(ws, tuple(target_shape))
    if bad is not None:
        k, a, _ = bad
        raise RuntimeError(
            f"Attempting to broadcast a dimension of length {a} at {-k}! Mismatching "
            f"argument at index 1 had {w.size()}; but expected shape should be "
            f"broadcastable to {list(target_shape)}")
    full = tuple(np.broadcast_shapes(ws, tuple(target_shape)))
    if full != input_shape:
        raise RuntimeError(f"output with shape {list(input_shape)} doesn't match the broadcast "
                           f"shape {list(full)}")


# ================================================================ negative log-likelihood
# loss_i = -w[t_i] x[i, t_i] (0 where t_i == ignore_index); "mean" divides the sum by the
# summed weights of the counted targets, so an all-ignored batch gives 0/0 = nan (PyTorch).
def _nll_layout(shape: tuple, target: np.ndarray, ignore_index: int):
    """Integer bookkeeping of the target (plain numpy): which entries count, the target
    with ignored entries pointed at class 0, where each target sits in the input, and the
    class axis.

    The forward and the rule of one call ask for the same layout: the last one is kept
    for a target that cannot change (a read-only array, as ``nll_loss`` records)."""
    last = _LAST_LAYOUT[0]
    if last is not None and last[0] is target and last[1] == shape and last[2] == ignore_index:
        return last[3]
    layout = _layout_of(shape, target, ignore_index)
    if type(target) is np.ndarray and not target.flags.writeable:
        _LAST_LAYOUT[0] = (target, shape, ignore_index, layout)
    return layout


_LAST_LAYOUT: list = [None]


def _layout_of(shape: tuple, target: np.ndarray, ignore_index: int, counted=None):
    """The layout itself; ``counted``, if given, is the mask of the counted targets, known
    to be all True."""
    axis = 0 if len(shape) == 1 else 1
    if counted is not None:
        valid, safe = counted, target
    else:
        valid = np.not_equal(target, ignore_index)
        safe = target if _all(valid) else np.where(valid, target, 0)
    if len(shape) == 1:
        index = (safe,)
    elif len(shape) == 2:
        index = (np.arange(shape[0]), safe)
    else:
        grids = np.indices(np.shape(target), sparse=True)
        index = (grids[0], safe) + tuple(grids[1:])
    return valid, safe, index, axis


def _all(a: np.ndarray) -> bool:
    """``a.all()`` without the Python wrapper of the method (the call is on the hot path)."""
    return bool(_and_reduce(a, axis=None))


def _put_distinct(like: np.ndarray, index: tuple, values) -> np.ndarray:
    """``NUMPY.index_add`` for an index whose positions are all distinct (an nll target
    addresses one entry per target position): each entry is ``0 + value``, assigned in
    one step instead of accumulated by ``np.add.at``. Same bits, ``-0.0`` included."""
    out = np.zeros(like.shape, dtype=like.dtype)
    out[index] = values + 0.0  # values has out's floating dtype; 0.0 does not change it
    return out


def _one_hot(shape: tuple, safe: np.ndarray, valid: np.ndarray, axis: int) -> np.ndarray:
    """1 at [i, t_i] for each counted target, else 0 (an int array of the input's shape)."""
    classes = np.arange(shape[axis]).reshape([-1 if d == axis else 1 for d in range(len(shape))])
    hot = np.equal(np.expand_dims(safe, axis), classes) & np.expand_dims(valid, axis)
    return hot.astype(np.int64)


def _target_weights(xp, w, safe, valid, like):
    """The weight of each target entry; 0 where ignored."""
    counted = xp.astype(valid * 1, like.dtype)
    return counted if w is None else w[safe] * counted


def _nll_forward(xp, x, w, *, target, ignore_index=-100, reduction="mean"):
    valid, safe, index, _ = _nll_layout(x.shape, target, ignore_index)
    if w is None and reduction != "none" and safe is target:  # every target counts, weight 1
        total = -xp.sum(x[index])
        return total if reduction == "sum" else total / target.size
    wt = _target_weights(xp, w, safe, valid, x)
    v = xp.where(valid, -wt * x[index], 0)
    if reduction == "none":
        return v
    total = xp.sum(v)
    return total if reduction == "sum" else total / xp.sum(wt)


def _nll_vjp_x(xp, g, ans, x, w, *, target, ignore_index=-100, reduction="mean"):
    # d loss / d x[i, c] = -g w[t_i] [c == t_i] (/ sum of weights for "mean"): one entry
    # per target, scattered into zeros of x's shape.
    valid, safe, index, _ = _nll_layout(x.shape, target, ignore_index)
    if w is None and reduction != "none" and safe is target:  # every target counts, weight 1
        coef = -g if reduction == "sum" else -g / target.size
        if xp is NUMPY and x.dtype.kind == "f" and getattr(coef, "dtype", None) == x.dtype:
            return _put_distinct(x, index, coef)
        return xp.index_add(x.shape, index, xp.broadcast_to(coef, np.shape(target)), like=x)
    wt = _target_weights(xp, w, safe, valid, x)
    if reduction == "mean":
        g = g / xp.sum(wt)
    coef = -g * wt
    if not valid.all():          # ignored entries get 0, even when g / sum(wt) is nan (0 / 0)
        coef = xp.where(valid, coef, 0)
    return xp.index_add(x.shape, index, xp.broadcast_to(coef, np.shape(target)), like=x)


def _picked(y, x):
    """``y * x`` for a one-hot weight ``y``: 0 and ``x`` itself need no SymPy product (whose
    ``0 * x`` asks whether a large log-softmax ``x`` is finite: most of a small MLP's mirror)."""
    if y == 0:
        return 0
    return x if y == 1 else y * x


def _nll_mirror(x, w, *, target, ignore_index=-100, reduction="mean"):
    """-sum_c y_ic w_c x_ic with y the one-hot target; "mean" divides by sum_ic y_ic w_c."""
    x = np.asarray(x, dtype=object)
    valid, safe, _, axis = _nll_layout(x.shape, target, ignore_index)
    n_classes = x.shape[axis]
    w = np.ones(n_classes, dtype=np.int64) if w is None else np.asarray(w, dtype=object)
    y = _one_hot(x.shape, safe, valid, axis) * np.reshape(
        w, [-1 if d == axis else 1 for d in range(x.ndim)])
    loss = -np.sum(np.frompyfunc(_picked, 2, 1)(y, x), axis=axis)
    if reduction == "none":
        return loss
    return np.sum(loss) if reduction == "sum" else np.sum(loss) / np.sum(y)


NLL = register(
    "nll_loss", "NllLossBackward0",
    forward=_nll_forward,
    vjp=(_nll_vjp_x, None),
    mirror=_nll_mirror,
    kind="loss", domain=(REAL, POSITIVE),
    examples=(
        (((3,), None), {"target": np.array(1)}),
        (((2, 3), None), {"target": np.array([0, 2]), "reduction": "none"}),
        (((2, 3), None), {"target": np.array([2, 2]), "reduction": "sum"}),
        (((2, 3), (3,)), {"target": np.array([2, -100]), "reduction": "mean"}),
        (((3, 2), (2,)), {"target": np.array([1, 0, 1]), "ignore_index": 0}),
        (((1, 3, 2), (3,)), {"target": np.array([[0, 2]]), "reduction": "none"}),
    ),
)
NLL2D = NLL.variant("NllLoss2DBackward0")


def _class_target(target, fn: str) -> np.ndarray:
    if not isinstance(target, Tensor):
        raise TypeError(f"{fn}(): argument 'target' (position 2) must be Tensor, not "
                        f"{type(target).__name__}")
    t = target._data
    if t.dtype != np.int64 and t.dtype != np.uint8:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{type_name(target)}")
    t = t.astype(np.int64)  # a copy: later in-place changes do not reach the node,
    t.flags.writeable = False  # nor any other (so its layout can be reused, see _nll_layout)
    return t


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices ``target`` under log-probabilities ``input``
    of shape (C,), (N, C) or (N, C, d1, ...); ``weight`` per class."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not isinstance(target, Tensor):
        _class_target(target, "nll_loss_nd")
    return _nll_nd(input, target, weight, ignore_index, reduction)


def _nll_nd(input: Tensor, target: Tensor, weight, ignore_index: int, reduction: str) -> Tensor:
    """PyTorch's nll_loss_nd: 1-d and 2-d inputs are NllLoss, 4-d NllLoss2d, and 3-d or >4-d
    inputs are viewed as (N, C, 1, -1) for NllLoss2d (and the result viewed back)."""
    shape, tshape = input._data.shape, target._data.shape
    nd = len(shape)
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    if nd != 1 and shape[0] != (tshape[0] if tshape else 0):
        raise ValueError(f"Expected input batch_size ({shape[0]}) to match target batch_size "
                         f"({tshape[0] if tshape else 0}).")
    w = None if weight is None else as_tensor(weight)
    if nd <= 2:
        if len(tshape) > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if nd == 1 and len(tshape) == 1 and tshape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: "
                             f"{tshape[0]}")
        if w is not None and (w.ndim != 1 or w.shape[0] != shape[-1]):
            raise RuntimeError(f"weight tensor should be defined either for all {shape[-1]} "
                               f"classes or no classes but got weight tensor of shape: "
                               f"{list(w.shape)}")
        t = _class_target(target, "nll_loss_nd")
        if nd == 1:
            t = t.reshape(())
        return _nll_apply(NLL, "nll_loss_forward", input, t, w, ignore_index, reduction)
    if nd == 4:
        if len(tshape) != 3:
            raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got "
                               f"targets of dimension: {len(tshape)}")
    elif tshape[1:] != shape[2:]:
        raise RuntimeError(f"Expected target size {[shape[0], *shape[2:]]}, got {list(tshape)}")
    if w is not None and (w.ndim != 1 or w.shape[0] != shape[1]):
        raise RuntimeError("weight tensor should be defined either for all or no classes")
    if nd == 4 and (shape[0] != tshape[0] or shape[2:] != tshape[1:]):
        raise RuntimeError(f"size mismatch (got input: {list(shape)} , target: {list(tshape)}")
    t = _class_target(target, "nll_loss_nd")
    if nd == 4:
        return _nll_apply(NLL2D, "nll_loss2d_forward", input, t, w, ignore_index, reduction)
    from symgrad.ops.shape import reshape

    rest = math.prod(shape[2:])
    flat = reshape(input, (shape[0], shape[1], 1, rest))
    out = _nll_apply(NLL2D, "nll_loss2d_forward", flat, t.reshape(shape[0], 1, rest), w,
                     ignore_index, reduction)
    return out if reduction != "none" else reshape(out, (shape[0], *shape[2:]))


def _nll_apply(op, kernel: str, input: Tensor, t: np.ndarray, w: Tensor | None,
               ignore_index: int, reduction: str) -> Tensor:
    kind = input._data.dtype.kind
    if kind != "f" and kind != "O":   # (inline: the common float case pays no call)
        check_kernel("nll_loss_out_frame" if op is NLL else "nll_loss2d_forward_out_frame",
                     input)
    if (kind == "f" and w is not None and _numeric(w)
            and w._data.dtype != input._data.dtype):
        raise RuntimeError(f"expected scalar type {type_name(input)} but found "
                           f"{type_name(w)}")
    shape = input._data.shape
    n_classes = shape[0 if len(shape) == 1 else 1]
    # One pass finds the common case, every target in [0, n_classes): read as unsigned, a
    # negative target is huge. Only otherwise (ignored or bad targets) look closer. (A
    # count, not a reduction: numpy's reductions cost a microsecond on small arrays.)
    in_range = np.less(t.view(_U64), n_classes)
    if _count_nonzero(in_range) != t.size:
        bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))
        if bad.any():
            raise IndexError(f"Target {t[bad].flat[0]} is out of bounds.")
    elif kind == "f" and not 0 <= ignore_index < n_classes:
        # Then no target is ignored: the layout the forward and the rule will ask for is
        # known, in_range its mask of counted targets (t is a fresh read-only copy).
        _LAST_LAYOUT[0] = (t, shape, ignore_index, _layout_of(shape, t, ignore_index, in_range))
    if w is not None:
        _no_grad_for(kernel, "weight", w)
    params = {"target": t, "reduction": reduction}
    if ignore_index != -100:
        params["ignore_index"] = int(ignore_index)
    return apply(op, input, w, **params)


# ================================================================ cross-entropy
def _log_softmax(input: Tensor, dim: int) -> Tensor:
    """reduction.log_softmax of a float or symbolic tensor (found on first use:
    ``reduction`` is loaded after this module; an import statement here would cost a
    microsecond per call). A valid ``dim`` needs none of its checks: the record is applied
    directly."""
    late = _LATE.get("log_softmax")
    if late is None:
        from symgrad.ops.reduction import LOG_SOFTMAX, log_softmax

        late = _LATE["log_softmax"] = (LOG_SOFTMAX, log_softmax)
    if 0 <= dim < input._data.ndim:
        return apply(late[0], input, dim=dim)
    return late[1](input, dim)


_LATE: dict = {}


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of the logits ``input`` (class dimension 1, or 0 for a 1-d input)
    against class indices, or against class probabilities of the input's shape.

    With class indices it is ``nll_loss(log_softmax(input))``, as PyTorch records it; class
    probabilities, label smoothing and weights compose ordinary ops the same way PyTorch
    does. The shifted log-softmax keeps it exact for logits of any size (+-1000 included).
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not isinstance(target, Tensor):
        _class_target(target, "cross_entropy_loss")
    if not isinstance(input, Tensor):
        input = as_tensor(input)
    if input._data.dtype.kind not in "fO":   # (inline: the common float case pays no call)
        check_kernel("log_softmax_lastdim_kernel_impl", input)
    class_dim = 0 if input._data.ndim == 1 else 1
    if input._data.shape == target._data.shape:
        if _numeric(target) and not _is_float(target):
            raise RuntimeError(f"Expected floating point type for target with class "
                               f"probabilities, got {type_name(target)}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing,
                                    class_dim)
    if label_smoothing > 0.0:
        _check_smoothing(label_smoothing)
        return _cross_entropy_smoothed(input, target, weight, ignore_index, reduction,
                                       label_smoothing, class_dim)
    return _nll_nd(_log_softmax(input, class_dim), target, weight, ignore_index, reduction)


# PyTorch's C++ adds, subtracts, multiplies and divides by Scalars in the composed losses:
# its nodes are then AddBackward1, SubBackward1, MulBackward1, DivBackward1
_ADD_NUMBER = _ew.ADD_NUMBER
_SUB_NUMBER = _ew.SUB.variant("SubBackward1")
_MUL_NUMBER = _ew.MUL.variant("MulBackward1")
_DIV_NUMBER = _ew.DIV.variant("DivBackward1")


def _number_minus(c: float, t: Tensor) -> Tensor:
    """``c - t`` recorded as PyTorch's C++ does it (a wrapped number: SubBackward0)."""
    if not _numeric(t) or t._data.dtype.kind != "f":
        return c - t
    return _ew.sub(Tensor._wrap(np.asarray(c, dtype=t._data.dtype)), t)


def _check_smoothing(label_smoothing: float) -> None:
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing:g}")


def _class_shaped(w: Tensor, ndim: int, class_dim: int) -> Tensor:
    """A per-class weight viewed to broadcast along the class dimension."""
    if ndim <= 1:
        return w
    return w.reshape([-1 if d == class_dim else 1 for d in range(ndim)])


def _cross_entropy_probs(input, target, weight, reduction, label_smoothing, class_dim):
    n_classes = input.shape[class_dim] if input.ndim else 1
    w = None if weight is None else as_tensor(weight)
    if w is not None and (w.ndim != 1 or w.shape[0] != n_classes):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all "
                           f"{n_classes} classes or no classes but got weight tensor of shape: "
                           f"{list(w.shape)}")
    logp = _log_softmax(input, class_dim)
    if label_smoothing > 0.0:
        _check_smoothing(label_smoothing)
        target = apply(_ADD_NUMBER, apply(_MUL_NUMBER, target, 1 - label_smoothing),
                       label_smoothing / n_classes)
    terms = logp * target
    if w is not None:
        terms = terms * _class_shaped(w, input.ndim, class_dim)
    if reduction == "none":
        return -terms.sum(class_dim)
    if reduction == "sum":
        return -terms.sum()
    # 0 rows: 0/0 = nan, as PyTorch; by a number, so DivBackward1 as PyTorch's node
    return apply(_DIV_NUMBER, -terms.sum(), input.numel() // n_classes)


def _cross_entropy_smoothed(input, target, weight, ignore_index, reduction, label_smoothing,
                            class_dim):
    """(1 - s) nll + (s / C) * (the cross-entropy against the uniform distribution)."""
    logp = _log_softmax(input, class_dim)
    nll = _nll_nd(logp, target, weight, ignore_index, reduction)
    n_classes = input.shape[class_dim]
    w = None if weight is None else as_tensor(weight)
    t = target._data
    counted = np.not_equal(t, ignore_index)
    if w is None:
        smooth = -logp.sum(class_dim)
    else:
        smooth = -(logp * _class_shaped(w, input.ndim, class_dim)).sum(class_dim)
    smooth = smooth.masked_fill(Tensor._wrap(~counted), 0.0)    # as PyTorch, always
    if reduction == "none":
        ret = smooth
    elif reduction == "sum":
        ret = smooth.sum()
    elif w is None:
        ret = smooth.sum() / as_tensor(np.sum(counted))
    else:
        ret = smooth.sum() / w[t[counted].astype(np.int64)].sum()
    return (apply(_MUL_NUMBER, nll, 1 - label_smoothing)
            + apply(_MUL_NUMBER, ret, label_smoothing / n_classes))


# ================================================================ Kullback-Leibler divergence
def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """``target * (log(target) - input)`` per entry, ``input`` being log-probabilities
    (``exp(target) * (target - input)`` with ``log_target``); ``batchmean`` divides the sum
    by the batch size. Composed of ordinary ops, as PyTorch composes it."""
    target = as_tensor(target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    base = "sum" if reduction == "batchmean" else reduction
    _check_reduction(base)
    if any(_numeric(t) and not _is_float(t) for t in (input, target)):
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if log_target:
        out = target.exp() * (target - input)
    else:
        out = _xlogx(target) - target * input
    if base == "sum":
        out = out.sum()
    elif base == "mean":
        out = out.mean()
    if reduction == "batchmean" and input.ndim != 0:
        out = out / input.shape[0]
    return out


def _xlogx(t: Tensor):
    """``t log t``, 0 where t == 0 (PyTorch's xlogy(t, t)); a constant unless ``t`` is a
    variable (or symbolic)."""
    if _numeric(t) and not (t.requires_grad and is_grad_enabled()):
        a = t._data
        with np.errstate(divide="ignore", invalid="ignore"):
            return Tensor._wrap(np.where(a == 0, 0.0, a * np.log(a)).astype(a.dtype))
    from symgrad.ops.special import xlogy

    return xlogy(t, t)


# ================================================================ margin and embedding losses
# PyTorch composes these of ordinary ops (its kernels call clamp_min, where, sum, ...), so
# they are compositions here too: every node is a recorded op the verifier already knows;
# multi_margin_loss is one PyTorch node, so one record (MultiMarginLossBackward0).
def _reduced(out: Tensor, reduction: str) -> Tensor:
    _check_reduction(reduction)
    return out if reduction == "none" else out.sum() if reduction == "sum" else out.mean()


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``: ``target = 1`` asks for
    ``input1`` to rank above ``input2`` by ``margin``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = as_tensor(target)
    if not input1.dim() == input2.dim() == target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.size()}, input2: {input2.size()}, "
                           f"target: {target.size()} ")
    return _reduced(apply(_ADD_NUMBER, -target * (input1 - input2), margin).clamp_min(0),
                    reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """``input`` where ``target == 1``, ``max(0, margin - input)`` where ``target == -1``."""
    from symgrad.ops.elementwise import where

    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = as_tensor(target)
    margin_part = where(target != 1, _number_minus(margin, input).clamp_min(0), 0.0)
    self_part = where(target != -1, input, 0.0)
    return _reduced(margin_part + self_part, reduction)


SOFT_MARGIN = register(
    "soft_margin_loss", "SoftMarginLossBackward0",
    forward=lambda xp, x, y, reduction="mean": _reduce(xp, xp.softplus(-(x * y)), reduction),
    vjp=(lambda xp, g, ans, x, y, reduction="mean":
         -_g_for(g, reduction, x, y) * y * xp.sigmoid(-(x * y)),
         lambda xp, g, ans, x, y, reduction="mean":
         -_g_for(g, reduction, x, y) * x * xp.sigmoid(-(x * y))),
    mirror=lambda x, y, reduction="mean": _reduce_mirror(
        _entry_loss(lambda x, y: sp.log(1 + sp.exp(-x * y)), x, y), reduction),
    kind="loss", domain=(REAL, REAL), params={"reduction": REDUCTIONS},
)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-target * input))``, computed without overflow for any product."""
    target = as_tensor(target)
    _warn_if_broadcast(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    check_kernel("soft_margin_loss", input)
    _no_grad_for("soft_margin_loss", "target", target)
    if _numeric(input) and _numeric(target) and target._data.dtype != input._data.dtype:
        target = Tensor._wrap(target._data.astype(input._data.dtype))   # input's dtype, as
        #                                                                 PyTorch's kernel
    return apply(SOFT_MARGIN, input, target, reduction=reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on logits per class, averaged over the classes (last dim)."""
    from symgrad.ops.elementwise import logsigmoid

    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = as_tensor(target)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.size(class_dim)
    return _reduced(loss, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(input1, input2)`` where ``target == 1``, ``max(0, cos - margin)`` where
    ``target == -1``; cosines along the last dimension, with PyTorch's 1e-12 in the norms."""
    from symgrad.ops.elementwise import where

    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = as_tensor(target)
    dim = target.dim()
    if dim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    for t in (input1, input2):
        if t.dim() != dim + 1:
            raise RuntimeError(f"{dim}D target tensor expects {dim + 1}D input tensors, but "
                               f"found inputs with sizes {input1.size()} and {input2.size()}.")
    eps = 1e-12
    prod = (input1 * input2).sum(dim)
    mag1, mag2 = (input1 * input1).sum(dim) + eps, (input2 * input2).sum(dim) + eps
    cos = prod / (mag1 * mag2).sqrt()
    out = (where(target == 1, _number_minus(1, cos), 0.0)
           + where(target == -1, apply(_SUB_NUMBER, cos, margin).clamp_min(0), 0.0))
    return _reduced(out, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, d(a, p) - d(a, n) + margin)`` with d the ``pairwise_distance``; ``swap``
    takes the smaller of ``d(a, n)`` and ``d(p, n)``."""
    from symgrad.ops.compose import pairwise_distance
    from symgrad.ops.elementwise import minimum

    reduction = _legacy_reduction(size_average, reduce, reduction)
    dims = (anchor.dim(), positive.dim(), negative.dim())
    if len(set(dims)) != 1:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {dims[0]}D, positive "
                           f"{dims[1]}D, and negative {dims[2]}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduced((apply(_ADD_NUMBER, d_pos, margin) - d_neg).clamp_min(0), reduction)


# ================================================================ multi-class margin
# One node, as PyTorch's MultiMarginLossBackward0: per sample, the sum over the classes
# j != y of max(0, margin - x[y] + x[j]) ** p (times weight[y]), divided by the class count.
# ``target`` is a parameter (the class indices); ``weight`` is not differentiated.
def _mm_terms(xp, x, weight, target, margin):
    """The (n, c) hinge arguments z, and the factor of each max(0, z)**p: 0 for j == y, else
    weight[y] (1 without weight); the sum is divided by the class count after."""
    x2 = xp.reshape(x, (1, -1)) if x.ndim == 1 else x
    n, c = x2.shape
    t = np.reshape(target, (n, 1))
    z = margin - xp.take_along_axis(x2, t, axis=1) + x2
    scale = np.ones((n, c), dtype=np.int8)    # int8: keeps float32 and exact entries so
    scale[np.arange(n), t[:, 0]] = 0
    if weight is not None:
        scale = scale * xp.reshape(xp.take_along_axis(weight, t[:, 0], axis=0), (n, 1))
    return z, scale


def _multi_margin(xp, x, weight, *, target, p, margin, reduction):
    z, scale = _mm_terms(xp, x, weight, target, margin)
    h = xp.where(xp.greater(z, 0), z, 0)
    loss = xp.sum((h if p == 1 else h * h) * scale, axis=1) / z.shape[1]
    if x.ndim == 1 and reduction == "none":
        return xp.reshape(loss, ())
    return _reduce(xp, loss, reduction)


def _multi_margin_vjp_x(xp, g, ans, x, weight, *, target, p, margin, reduction):
    z, scale = _mm_terms(xp, x, weight, target, margin)
    n, c = z.shape
    rows = xp.reshape(g, (-1, 1)) if reduction == "none" else (g / n if reduction == "mean"
                                                               else g)
    slope = xp.where(xp.greater(z, 0), z * 0 + 1 if p == 1 else 2 * z, 0)   # z's dtype
    coef = rows * slope * scale / c                 # d loss / d x[j] through term j
    picked = np.zeros((n, c), dtype=np.int8)
    picked[np.arange(n), np.reshape(target, -1)] = 1
    grad = coef - picked * xp.sum(coef, axis=1, keepdims=True)   # x[y] is in every term
    return xp.reshape(grad, tuple(x.shape))


def _multi_margin_kinks(x, weight, *, target, p, margin, reduction):
    """Rows with a term exactly at the hinge, in the output's shape."""
    z, _ = _mm_terms(NUMPY, x, weight, target, margin)
    rows = np.any(z == 0, axis=1)
    return rows.reshape(()) if x.ndim == 1 and reduction == "none" else (
        rows if reduction == "none" else np.any(rows))


def _multi_margin_mirror(x, weight, *, target, p, margin, reduction):
    x2 = x.reshape(1, -1) if x.ndim == 1 else x
    n, c = x2.shape
    t = np.reshape(target, -1)
    loss = np.empty(n, dtype=object)
    for i in range(n):
        y = int(t[i])
        w = 1 if weight is None else weight[y]
        loss[i] = sum(w * sp.Max(0, margin - x2[i, y] + x2[i, j]) ** p
                      for j in range(c) if j != y) / c
    if x.ndim == 1 and reduction == "none":
        return loss.reshape(())
    return _reduce_mirror(loss, reduction)


MULTI_MARGIN = register(
    "multi_margin_loss", "MultiMarginLossBackward0",
    forward=_multi_margin,
    vjp=(_multi_margin_vjp_x, None),
    mirror=_multi_margin_mirror,
    kind="loss", domain=(REAL, POSITIVE),
    kinks=Kink(_multi_margin_kinks,
               "a term at max(0, 0) passes no gradient, as PyTorch"),
    examples=(
        (((2, 3), None), {"target": np.array([0, 2]), "p": 1, "margin": 1.0,
                          "reduction": "mean"}),
        (((2, 3), (3,)), {"target": np.array([1, 1]), "p": 2, "margin": 0.5,
                          "reduction": "none"}),
        (((3,), None), {"target": np.array(2), "p": 1, "margin": 1.0, "reduction": "sum"}),
    ),
)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """``sum over j != y of max(0, margin - x[y] + x[j])**p / C`` per sample (p = 1 or 2),
    each term times ``weight[y]``. A term at exactly 0 passes no gradient, as PyTorch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    _no_grad_for("multi_margin_loss", "weight", weight)
    _check_reduction(reduction)
    t = np.asarray(as_tensor(target)._data)
    single = input.dim() <= 1
    x = input.reshape(1, -1) if single else input
    n, c = x.shape
    if input.dim() > 2 or t.size != n or t.dtype.kind not in "iu":
        raise RuntimeError(f"inconsistent target size, expected {n} but got {tuple(t.shape)}")
    t = t.reshape(n)
    if ((t < 0) | (t >= c)).any():
        raise RuntimeError("target out of range")
    return apply(MULTI_MARGIN, input, weight, target=t.astype(np.int64).copy(), p=int(p),
                 margin=float(margin), reduction=reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """``exp(input) - target * input`` (``log_input``), else ``input - target * log(input +
    eps)``; ``full`` adds Stirling's term ``t log t - t + log(2 pi t) / 2`` where t > 1."""

    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    target = as_tensor(target)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * apply(_ADD_NUMBER, input, eps).log()
    if full:   # the Scalar products and the masked_fill PyTorch's C++ records
        with np.errstate(divide="ignore", invalid="ignore"):
            stirling = (target * target.log() - target
                        + apply(_MUL_NUMBER, apply(_MUL_NUMBER, target, 2 * math.pi).log(), 0.5))
        loss = loss + stirling.masked_fill(target <= 1, 0.0)
    return _reduced(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """``(log(var) + (input - target)**2 / var) / 2``; ``var`` is clamped to ``eps`` without
    a trace in the graph (the gradient passes the clamp as if absent, as PyTorch)."""
    from symgrad.autograd.grad_mode import no_grad

    if isinstance(var, (int, float)):
        var = Tensor._wrap(np.full(input._data.shape, float(var), dtype=input._data.dtype))
    var = as_tensor(var)
    in_shape, v_shape = tuple(input.shape), tuple(var.shape)
    if v_shape != in_shape:
        if in_shape[:-1] == v_shape:
            var = var.unsqueeze(-1)
        elif not (in_shape[:-1] == v_shape[:-1] and v_shape[-1:] == (1,)):
            raise ValueError("var is of incorrect size")
    if reduction not in REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    if _numeric(var) and (var._data < 0).any():
        raise ValueError("var has negative entry/entries")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduced(loss, reduction)
