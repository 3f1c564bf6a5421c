"""Losses: binary cross-entropy with logits and mean squared error.

Forwards are written to be exact in float64 for any input (``softplus(-z)`` instead of
``log(sigmoid(z))``); mirrors are the textbook definitions, so the verifier also checks
that the careful form computes the same function.
"""

from __future__ import annotations

import numpy as np

from symgrad.ops._apply import apply
from symgrad.ops._record import REAL, UNIT, Domain, register
from symgrad.ops._util import numel, sp
from symgrad.tensor import Tensor, as_tensor

__all__ = ["binary_cross_entropy_with_logits", "mse_loss", "REDUCTIONS"]

REDUCTIONS = ("none", "mean", "sum")


def _reduce(xp, v, reduction):
    if reduction == "none":
        return v
    s = xp.sum(v)
    return s if reduction == "sum" else s / numel(v)


def _reduce_mirror(v, reduction):
    if reduction == "none":
        return v
    s = np.sum(v)
    return s if reduction == "sum" else s / int(np.size(v))


def _g_for(g, reduction, *arrays):
    """The incoming gradient as seen by each entry (divided by n for ``mean``)."""
    return g / numel(*arrays) if reduction == "mean" else g


def _weights(w, pw, y):
    return (1 if w is None else w), (1 if pw is None else pw)


# ================================================================ BCE with logits
def _bce_logits_forward(xp, z, y, w, pw, reduction="mean"):
    w, pw = _weights(w, pw, y)
    # -w [pw y log s(z) + (1-y) log(1-s(z))] = w [(1-y) z + (pw y + 1 - y) softplus(-z)]
    v = w * ((1 - y) * z + (pw * y + 1 - y) * xp.softplus(-z))
    return _reduce(xp, v, reduction)


def _bce_logits_vjp_z(xp, g, ans, z, y, w, pw, reduction="mean"):
    w, pw = _weights(w, pw, y)
    return _g_for(g, reduction, z, y, w, pw) * w * ((pw * y + 1 - y) * xp.sigmoid(z) - pw * y)


def _bce_logits_vjp_y(xp, g, ans, z, y, w, pw, reduction="mean"):
    w, pw = _weights(w, pw, y)
    return _g_for(g, reduction, z, y, w, pw) * w * ((pw - 1) * xp.softplus(-z) - z)


def _bce_logits_mirror(z, y, w, pw, reduction="mean"):
    w, pw = _weights(w, pw, y)
    z, y, w, pw = np.broadcast_arrays(*(np.asarray(a, dtype=object) for a in (z, y, w, pw)))

    def entry(z, y, w, pw):
        s = 1 / (1 + sp.exp(-z))
        return -w * (pw * y * sp.log(s) + (1 - y) * sp.log(1 - s))

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
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({tuple(target.shape)}) must be the same as input size "
                         f"({tuple(input.shape)})")
    w = None if weight is None else as_tensor(weight)
    pw = None if pos_weight is None else as_tensor(pos_weight)
    try:
        np.broadcast_shapes(*(a._data.shape for a in (input, target, w, pw) if a is not None))
    except ValueError:
        raise RuntimeError(f"weight {None if w is None else tuple(w.shape)} and pos_weight "
                           f"{None if pw is None else tuple(pw.shape)} must broadcast to the "
                           f"input shape {tuple(input.shape)}") from None
    return apply(BCE_WITH_LOGITS, input, target, w, pw, reduction=reduction)


def _legacy_reduction(size_average, reduce, reduction: str) -> str:
    """PyTorch's deprecated ``size_average`` / ``reduce`` arguments, mapped to ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


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
             reduction: str = "mean") -> Tensor:
    """Mean (or summed, or per-entry) squared difference."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    target = as_tensor(target)
    if tuple(target.shape) != tuple(input.shape):
        import warnings

        warnings.warn(f"Using a target size ({tuple(target.shape)}) that is different to the "
                      f"input size ({tuple(input.shape)}). This will likely lead to incorrect "
                      "results due to broadcasting. Please ensure they have the same size.",
                      UserWarning, stacklevel=2)
    return apply(MSE, input, target, reduction=reduction)
