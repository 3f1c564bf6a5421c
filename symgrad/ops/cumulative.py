"""Running extremes and running log-sum-exp along a dimension: cummax, cummin,
logcumsumexp.

``cummax`` / ``cummin`` choose, per position, the index of the running extreme (the latest
one at ties, the first nan once a nan is seen, as PyTorch), and record the proved gather
``take_along_dim`` at those indices under PyTorch's node names: the gradient of each output
goes to its index. ``logcumsumexp`` is a record of its own.
"""

from __future__ import annotations


import numpy as np

from symgrad.ops._apply import apply
from symgrad.ops._record import REAL, register
from symgrad.ops._util import check_kernel, lazy_head, sp
from symgrad.ops.reduction import _named_result, return_types
from symgrad.ops.scan import _reversed, _tail_sums
from symgrad.ops.scatter import TAKE_ALONG
from symgrad.tensor import Tensor, _axis, as_tensor

__all__ = ["cummax", "cummin", "logcumsumexp"]

#: Every function here is a Tensor method too.
NOT_METHODS: tuple[str, ...] = ()

CUMMAX = TAKE_ALONG.variant("CummaxBackward0")
CUMMIN = TAKE_ALONG.variant("CumminBackward0")
return_types.cummax = _named_result("cummax")
return_types.cummin = _named_result("cummin")


# ================================================================ cummax, cummin
def _running_indices(data: np.ndarray, d: int, largest: bool) -> np.ndarray:
    """Per position along ``d``, the index of the running maximum (minimum): the latest
    entry equal to it; from the first nan on, that nan's index."""
    if data.size == 0:
        return np.zeros(data.shape, np.int64)
    acc = np.maximum.accumulate if largest else np.minimum.accumulate
    running = acc(data, axis=d)
    shape = [1] * data.ndim
    shape[d] = data.shape[d]
    where = np.arange(data.shape[d]).reshape(shape)
    idx = np.maximum.accumulate(np.where(data == running, where, 0), axis=d)
    if data.dtype.kind == "f":
        nan = np.isnan(data)
        seen = np.logical_or.accumulate(nan, axis=d)
        first = np.argmax(nan, axis=d)
        idx = np.where(seen, np.expand_dims(first, d), idx)
    return idx.astype(np.int64)


def _cumulative_extreme(op, input, dim: int, largest: bool, name: str):
    x = as_tensor(input)
    if x._data.dtype == object:
        raise TypeError(f"{name}() compares entries to choose its indices, which symbolic "
                        "entries do not allow")
    result = return_types.cummax if largest else return_types.cummin
    if x._data.ndim == 0:
        _axis(dim, 1)
        return result(x.clone(), Tensor._wrap(np.zeros((), np.int64)))
    d = _axis(dim, x._data.ndim)
    idx = _running_indices(x._data, d, largest)
    return result(apply(op, x, indices=idx, dim=d), Tensor._wrap(idx))


def cummax(input, dim: int):
    """Named (values, indices) of the running maximum along ``dim``; the gradient of each
    value goes to its index (ties: the latest entry, as PyTorch)."""
    return _cumulative_extreme(CUMMAX, input, dim, True, "cummax")


def cummin(input, dim: int):
    """Named (values, indices) of the running minimum along ``dim`` (as ``cummax``)."""
    return _cumulative_extreme(CUMMIN, input, dim, False, "cummin")


# ================================================================ logcumsumexp
def _logcumsumexp(xp, x, *, dim):
    """``log(cumsum(exp(x)))``: numpy adds in log space (no overflow); exact namespaces
    compute the textbook form."""
    if len(x.shape) == 0:
        return x
    if xp.name == "numpy":
        return np.logaddexp.accumulate(x, axis=dim)
    return xp.log(xp.cumsum(xp.exp(x), dim))


def _reverse_logcumsumexp(a: np.ndarray, dim: int) -> np.ndarray:
    """``log(sum_{i >= k} exp(a_i))`` along ``dim``."""
    return _reversed(np.logaddexp.accumulate(_reversed(a, dim), axis=dim), dim)


def _logcumsumexp_vjp(xp, g, ans, x, *, dim):
    # out_i = log sum_{k<=i} exp(x_k), so dx_k = sum_{i>=k} g_i exp(x_k - out_i). numpy sums
    # the positive and the negative parts of g in log space (no overflow for any range of
    # x); the exact namespaces (and create_graph) use exp(x_k) * tail(g exp(-out)).
    if len(x.shape) == 0:
        return g
    if xp.name != "numpy":
        return xp.exp(x) * _tail_sums(xp, g * xp.exp(-ans), dim)
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = _reverse_logcumsumexp(np.log(np.maximum(g, 0)) - ans, dim)
        neg = _reverse_logcumsumexp(np.log(np.maximum(-g, 0)) - ans, dim)
        return np.exp(x + pos) - np.exp(x + neg)


def _logcumsumexp_mirror(x, *, dim):
    x = np.asarray(x, dtype=object)
    if x.ndim == 0:
        return x
    sums = np.cumsum(np.frompyfunc(lambda v: lazy_head(sp.exp, v), 1, 1)(x), axis=dim)
    return np.frompyfunc(lambda v: lazy_head(sp.log, v), 1, 1)(sums).astype(object)


LOGCUMSUMEXP = register(
    "logcumsumexp", "LogcumsumexpBackward0",
    forward=_logcumsumexp,
    vjp=_logcumsumexp_vjp,
    mirror=_logcumsumexp_mirror,
    kind="reduction", domain=(REAL,), params={"dim": (0, 1)},
)


def logcumsumexp(input, dim: int) -> Tensor:
    """``log(cumsum(exp(input)))`` along ``dim``, computed in log space (no overflow)."""
    x = as_tensor(input)
    check_kernel("logcumsumexp_out_cpu", x)
    d = _axis(dim, max(x._data.ndim, 1))
    return apply(LOGCUMSUMEXP, x, dim=d if x._data.ndim else 0)
