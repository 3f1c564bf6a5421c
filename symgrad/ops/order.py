"""Order statistics and nan-skipping reductions: median, nanmedian, kthvalue, mode,
quantile, nanquantile, msort, aminmax, nansum, nanmean.

The entry an order statistic returns is chosen here, numerically; the differentiable part
is then an op the table already proves: the values along a dimension are ``max(dim)``'s
gather at the chosen indices (recorded under PyTorch's node names, the gradient going to
the returned index), the full median is ``amax`` of the entries equal to it (tied entries
share the gradient evenly, PyTorch's convention), and quantiles interpolate between
sorted entries. At ties PyTorch leaves the returned index unspecified; symgrad returns the
position in a stable sort (which is what PyTorch's CPU median(dim) returns too) and, for
mode, the last occurrence (as PyTorch's CPU kernel). kthvalue's index at ties can differ
from PyTorch's, whose quickselect leaves it to the partitioning order.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from symgrad.ops import elementwise as ew
from symgrad.ops import shape as sh
from symgrad.ops._apply import apply
from symgrad.ops._util import tensor_input, type_name
from symgrad.ops.compose import sort
from symgrad.ops.reduction import AMAX, AMIN, MAX_DIM, _named_result, amax, amin, return_types
from symgrad.ops.reduction import sum as _sum
from symgrad.ops.scatter import take_along_dim
from symgrad.tensor import Tensor, _axis

__all__ = ["median", "nanmedian", "kthvalue", "mode", "quantile", "nanquantile", "msort",
           "aminmax", "nansum", "nanmean"]

#: Every function here is a Tensor method too.
NOT_METHODS: tuple[str, ...] = ()

MEDIAN_ALL = AMAX.variant("MedianBackward0")
NANMEDIAN_ALL = AMAX.variant("NanmedianBackward0")
# a median of -inf: the smallest of the entries equal to it (the others read +inf)
MEDIAN_ALL_LOW = AMIN.variant("MedianBackward0")
NANMEDIAN_ALL_LOW = AMIN.variant("NanmedianBackward0")
MEDIAN_DIM = MAX_DIM.variant("MedianBackward1")
NANMEDIAN_DIM = MAX_DIM.variant("NanmedianBackward1")
KTHVALUE = MAX_DIM.variant("KthvalueBackward0")
MODE = MAX_DIM.variant("ModeBackward0")

for _name in ("median", "nanmedian", "kthvalue", "mode"):
    setattr(return_types, _name, _named_result(_name))


return_types.aminmax = _named_result("aminmax", ("min", "max"))


def _tensor(input, name: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if input._data.dtype == object:
        raise TypeError(f"{name}() compares entries to choose the one it returns, which "
                        "symbolic entries do not allow")
    if input._data.dtype.kind == "b" and name in _NO_BOOL:
        raise NotImplementedError(f'"{_NO_BOOL[name]}" not implemented for \'Bool\'')
    return input


#: The order statistics PyTorch refuses for bool tensors, by the kernel its message names.
_NO_BOOL = {"median": "median_cpu", "nanmedian": "median_cpu", "kthvalue": "kthvalue_cpu"}


def _dim(x: Tensor, dim, name: str) -> int | None:
    """``dim`` as an axis; None for a 0-d tensor (which takes dim 0 or -1)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    if x._data.ndim == 0:
        _axis(dim, 1)
        return None
    return _axis(dim, x._data.ndim)


# ================================================================ the chosen entries
def _lower_median_rank(n: np.ndarray) -> np.ndarray:
    """The sorted position of the lower median of n entries (0 for no entries)."""
    return np.maximum(n - 1, 0) // 2


def _pick(op, x: Tensor, d: int | None, keepdim: bool, position) -> tuple[Tensor, Tensor]:
    """``op`` (a variant of max(dim)) at the entries with sorted ``position`` along ``d``
    (an array broadcasting against the reduced shape, kept dims): values and indices."""
    if d is None:
        values = apply(op, x, indices=np.zeros((), np.int64), dim=None, keepdim=keepdim)
        return values, Tensor._wrap(np.zeros((), np.int64))
    if x._data.shape[d] == 0:
        raise IndexError(f"{op.name}(): Expected reduction dim {d} to have non-zero size.")
    order = np.argsort(x._data, axis=d, kind="stable")          # nan last, as PyTorch
    kept = tuple(1 if k == d else s for k, s in enumerate(x._data.shape))
    position = np.broadcast_to(np.asarray(position, dtype=np.int64), kept)
    idx = np.take_along_axis(order, position, axis=d)
    values = apply(op, x, indices=idx, dim=d, keepdim=keepdim)
    return values, Tensor._wrap(idx if keepdim else np.squeeze(idx, axis=d))


def _bounds(dt: np.dtype) -> tuple[Any, Any]:
    """The smallest and largest values of a dtype (infinities for floats)."""
    if dt.kind == "f":
        return -math.inf, math.inf
    if dt.kind == "b":
        return False, True
    info = np.iinfo(dt)
    return int(info.min), int(info.max)


def _shared(ops: tuple, x: Tensor, value: Any) -> Tensor:
    """``value`` (an entry of x) as ``amax`` over the entries equal to it, the others read
    as the dtype's smallest value (``amin`` with the largest when ``value`` is the
    smallest): ties share the gradient evenly; a nan value sends it to the nan entries."""
    same = np.isnan(x._data) if np.isnan(value) else x._data == value
    low, high = _bounds(x._data.dtype)
    op, fill = (ops[1], high) if value == low else (ops[0], low)
    fill = Tensor._wrap(np.asarray(fill, dtype=x._data.dtype))
    return apply(op, ew.where(Tensor._wrap(same), x, fill), nan_ties=True)


def _empty_median(x: Tensor) -> Tensor:
    """The median of no entries: nan in the graph for floats (PyTorch's result requires
    grad); for integers and bools PyTorch's fill value (the dtype's smallest / True)."""
    if x._data.dtype.kind == "f":
        from symgrad.ops.reduction import sum as _sum

        return ew.add(_sum(x), math.nan)     # nan, connected to x (an empty gradient)
    return Tensor._wrap(np.asarray(_bounds(x._data.dtype)[x._data.dtype.kind == "b"],
                                   dtype=x._data.dtype))


def median(input, dim=None, keepdim: bool = False):
    """``median(input)``: the lower median of all entries (nan if any is nan; tied entries
    share the gradient evenly); ``median(input, dim)``: named (values, indices), the
    gradient going to the returned index."""
    x = _tensor(input, "median")
    if dim is None:
        flat = x._data.reshape(-1)
        if flat.size == 0:
            return _empty_median(x)
        value = np.nan if np.isnan(flat).any() else np.sort(flat)[(flat.size - 1) // 2]
        return _shared((MEDIAN_ALL, MEDIAN_ALL_LOW), x, value)
    d = _dim(x, dim, "median")
    n = x._data.shape[d] if d is not None else 1
    position = np.full((1,) * x._data.ndim, (n - 1) // 2)
    if d is not None:
        has_nan = np.isnan(x._data).any(axis=d, keepdims=True)
        position = np.where(has_nan, n - 1 - (np.isnan(x._data).sum(axis=d, keepdims=True) - 1),
                            position)   # a slice with nan: its first nan (sorted last)
    return return_types.median(*_pick(MEDIAN_DIM, x, d, keepdim, position))


def nanmedian(input, dim=None, keepdim: bool = False):
    """``median`` of the entries that are not nan (nan where all are)."""
    x = _tensor(input, "nanmedian")
    if dim is None:
        flat = x._data.reshape(-1)
        if flat.size == 0:
            return _empty_median(x)
        kept = np.sort(flat[~np.isnan(flat)])
        value = kept[(kept.size - 1) // 2] if kept.size else np.nan
        return _shared((NANMEDIAN_ALL, NANMEDIAN_ALL_LOW), x, value)
    d = _dim(x, dim, "nanmedian")
    if d is None:
        position = np.zeros((), np.int64)
    else:
        valid = (~np.isnan(x._data)).sum(axis=d, keepdims=True)
        position = _lower_median_rank(valid)
    return return_types.nanmedian(*_pick(NANMEDIAN_DIM, x, d, keepdim, position))


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False):
    """The k-th smallest entry along ``dim`` (k from 1) and its index."""
    x = _tensor(input, "kthvalue")
    d = _dim(x, dim, "kthvalue")
    n = x._data.shape[d] if d is not None else 1
    if n == 0:   # PyTorch checks the size before k
        raise IndexError(f"kthvalue(): Expected reduction dim {d} to have non-zero size.")
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension "
                           f"{d or 0}")
    return return_types.kthvalue(*_pick(KTHVALUE, x, d, keepdim, np.array(k - 1)))


def _mode_indices(data: np.ndarray) -> np.ndarray:
    """Per row (last axis): the index of the last occurrence of the most frequent value,
    the smallest such value at equal counts. Runs of equal values in the sorted rows: the
    first run to reach the longest length is the smallest mode."""
    n = data.shape[-1]
    s = np.sort(data, axis=-1)
    new = np.ones(s.shape, dtype=bool)
    new[..., 1:] = s[..., 1:] != s[..., :-1]
    pos = np.arange(n)
    start = np.maximum.accumulate(np.where(new, pos, 0), axis=-1)
    length = pos - start + 1                        # the run's length so far
    end = np.argmax(length == length.max(axis=-1, keepdims=True), axis=-1)
    best = np.take_along_axis(s, end[..., None], axis=-1)
    hit = (data == best) | (np.isnan(data) & np.isnan(best)) if data.dtype.kind == "f" else (
        data == best)
    return n - 1 - np.argmax(hit[..., ::-1], axis=-1)


def mode(input, dim: int = -1, keepdim: bool = False):
    """The most frequent entry along ``dim`` (the smallest at equal counts) and the index of
    its last occurrence."""
    x = _tensor(input, "mode")
    d = _dim(x, dim, "mode")
    if d is None:
        return return_types.mode(*_pick(MODE, x, None, keepdim, 0))
    if x._data.shape[d] == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    idx = _mode_indices(np.moveaxis(x._data, d, -1))[..., None]
    idx = np.moveaxis(idx, -1, d)
    values = apply(MODE, x, indices=idx, dim=d, keepdim=keepdim)
    return return_types.mode(values, Tensor._wrap(idx if keepdim else np.squeeze(idx, axis=d)))


def msort(input) -> Tensor:
    """``input`` sorted along its first dimension."""
    return sort(_tensor(input, "msort"), 0).values


def aminmax(input, *, dim: int | None = None, keepdim: bool = False):
    """Named (min, max) of all entries or along ``dim``; ties share the gradient evenly."""
    x = _tensor(input, "aminmax")
    dims = () if dim is None else dim
    if dim is None and keepdim:
        raise RuntimeError("aminmax: keepdim needs dim")
    return return_types.aminmax(amin(x, dims, keepdim), amax(x, dims, keepdim))


# ================================================================ nan-skipping sums
def nansum(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``sum`` with nan entries counted as 0 (their gradient is 0)."""
    x = tensor_input(input)
    if x._data.dtype.kind == "f":
        x = ew.where(Tensor._wrap(np.isnan(x._data)), 0, x)
    return _sum(x, dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The mean of the entries that are not nan (nan where all are)."""
    x = tensor_input(input)
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex "
                           f"dtype but got {type_name(x)}")
    counted = Tensor._wrap((~np.isnan(x._data)).astype(x._data.dtype))
    return ew.div(nansum(x, dim, keepdim), _sum(counted, dim, keepdim))


# ================================================================ quantiles
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_checks(x: Tensor, q: Any, interpolation: str, name: str) -> tuple[np.ndarray,
                                                                                  bool]:
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if x._data.size == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    scalar = not isinstance(q, Tensor)
    if not scalar:
        if q._data.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q._data.dtype != x._data.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        scalar = q._data.ndim == 0
    qs = np.atleast_1d(np.asarray(q._data if isinstance(q, Tensor) else q, dtype=np.float64))
    bad = (qs < 0) | (qs > 1) | np.isnan(qs)
    if bad.any():
        if qs.size == 1 and not isinstance(q, Tensor):
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {qs[0]:g}")
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    return qs, scalar


def _quantile(input, q, dim, keepdim: bool, interpolation: str, ignore_nan: bool,
              name: str) -> Tensor:
    x = _tensor(input, name)
    qs, scalar = _quantile_checks(x, q, interpolation, name)
    if dim is None:
        work, d = sh.reshape(x, (-1,)), 0
    else:
        work, d = x, _axis(dim, builtins.max(x._data.ndim, 1))
        if x._data.ndim == 0:
            work = sh.reshape(x, (1,))
    n = work._data.shape[d]
    nan = np.isnan(work._data)
    valid = (n - nan.sum(axis=d, keepdims=True)) if ignore_nan else np.full(
        (1,) * work._data.ndim, n)
    # positions per (q, slice): a q axis in front; without ignore_nan a slice with a nan
    # reads its last sorted entry (a nan), so the result is nan, as PyTorch
    shape_q = (len(qs),) + (1,) * work._data.ndim
    rank = qs.reshape(shape_q) * np.maximum(valid - 1, 0)
    if not ignore_nan:
        rank = np.where(nan.any(axis=d, keepdims=True), n - 1, rank)
    else:
        rank = np.where(valid == 0, n - 1, rank)
    lo, hi = np.floor(rank), np.ceil(rank)
    if interpolation == "lower":
        hi = lo
    elif interpolation == "higher":
        lo = hi
    elif interpolation == "nearest":
        lo = hi = np.round(rank)          # halves to even, as PyTorch
    weight = rank - lo if interpolation == "linear" else np.full(rank.shape, 0.5)
    ordered = sh.unsqueeze(sort(work, d).values, 0)
    target = (len(qs),) + tuple(1 if k == d else s for k, s in enumerate(work._data.shape))
    below = take_along_dim(ordered, np.broadcast_to(lo, target).astype(np.int64), d + 1)
    above = take_along_dim(ordered, np.broadcast_to(hi, target).astype(np.int64), d + 1)
    w = np.broadcast_to(weight, target).astype(x._data.dtype)
    out = _lerp(below, above, w)
    if dim is None:
        out = sh.reshape(out, (len(qs),) + ((1,) * x._data.ndim if keepdim else ()))
    elif not keepdim or x._data.ndim == 0:
        out = sh.squeeze(out, d + 1)
    return sh.squeeze(out, 0) if scalar else out


def _lerp(start: Tensor, end: Tensor, weight: np.ndarray) -> Tensor:
    """``start + weight * (end - start)``, computed from the nearer end as PyTorch's lerp
    (so a weight of 1 gives ``end`` exactly)."""
    step = ew.sub(end, start)
    w = Tensor._wrap(weight)
    near_start = ew.add(start, ew.mul(step, w))
    near_end = ew.sub(end, ew.mul(step, Tensor._wrap(1 - weight)))
    return ew.where(Tensor._wrap(weight < 0.5), near_start, near_end)


def quantile(input, q, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The ``q``-quantiles (a number or a 1-d tensor of them, in [0, 1]) of all entries or
    along ``dim``, interpolating between sorted entries; nan where a slice has a nan."""
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input, q, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """``quantile`` of the entries that are not nan (nan where all are)."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")
