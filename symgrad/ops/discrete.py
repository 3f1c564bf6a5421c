"""Integer-valued functions of tensors, with no gradient: nonzero, unique, bincount, histc,
searchsorted, bucketize.

Their results are indices or counts, piecewise constant in the input, so PyTorch records
no node for them and neither does symgrad. Errors follow PyTorch's, before numpy could
answer in some other way (a negative count, a wrapped index).
"""

from __future__ import annotations

from typing import Any

import math

import numpy as np

from symgrad.ops._util import type_name
from symgrad.tensor import Tensor, as_tensor

__all__ = ["nonzero", "unique", "bincount", "histc", "searchsorted", "bucketize"]

#: Functions here that torch.Tensor has no method for.
NOT_METHODS = ("searchsorted", "bucketize")


def _numeric(t: Any, name: str) -> Tensor:
    x = as_tensor(t)
    if x._data.dtype == object:
        raise TypeError(f"{name}() needs numeric entries (symbolic ones cannot be compared)")
    return x


def _long(a: np.ndarray) -> Tensor:
    return Tensor._wrap(np.asarray(a, dtype=np.int64))


def nonzero(input, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """The indices of the nonzero entries: one row per entry (n, ndim), or with
    ``as_tuple`` one tensor per dimension (a 0-d input counts as 1-d)."""
    x = _numeric(input, "nonzero")
    data = x._data
    if as_tuple:
        return tuple(_long(i) for i in np.nonzero(np.atleast_1d(data)))
    return _long(np.argwhere(data))


def unique(input, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None):
    """The distinct entries (sorted; each nan counts as distinct, as PyTorch), or distinct
    slices along ``dim``; optionally the inverse indices (input = out[inverse]) and counts."""
    x = _numeric(input, "unique")
    data = x._data
    if dim is None:
        values, inverse, counts = np.unique(data.reshape(-1), return_inverse=True,
                                            return_counts=True, equal_nan=False)
        inverse = inverse.reshape(data.shape)
    else:
        if data.ndim == 0:
            raise IndexError("Dimension out of range (unique of a 0-d tensor has no dim)")
        if not -data.ndim <= dim < data.ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-data.ndim}, {data.ndim - 1}], but got {dim})")
        d = dim % data.ndim
        values, inverse, counts = np.unique(data, return_inverse=True, return_counts=True,
                                            axis=d)
        inverse = inverse.reshape(-1)
    out: list[Tensor] = [Tensor._wrap(values.astype(data.dtype, copy=False))]
    if return_inverse:
        out.append(_long(inverse))
    if return_counts:
        out.append(_long(counts))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input, weights=None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ..., max occurs in a 1-d non-negative integer tensor (the
    sum of ``weights`` at its occurrences, when given); at least ``minlength`` bins."""
    x = _numeric(input, "bincount")
    data = x._data
    if data.dtype.kind not in "iu":   # PyTorch checks the dtype first (bool included)
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{type_name(x)}'")
    if data.ndim != 1 or (data.size and data.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return _long(np.bincount(data.astype(np.int64), minlength=minlength))
    w = as_tensor(weights)._data
    if w.shape != data.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dt = w.dtype if w.dtype.kind == "f" else np.dtype(np.float64)
    return Tensor._wrap(np.bincount(data.astype(np.int64), weights=w.astype(np.float64),
                                    minlength=minlength).astype(dt))


def histc(input, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """A histogram of ``bins`` equal-width bins over [min, max] (the data's range when both
    are 0; widened by 1 each way when that range is a point); entries outside are ignored,
    and ``max`` falls in the last bin."""
    x = _numeric(input, "histc")
    data = x._data
    if data.dtype.kind != "f":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{type_name(x)}'")
    if bins <= 0:
        raise RuntimeError("torch.histc: bins must be > 0")
    lo, hi = float(min), float(max)
    if lo == hi and data.size:
        # the data's range; a nan or an infinity in it raises, as PyTorch
        lo, hi = float(np.min(data)), float(np.max(data))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RuntimeError(f"torch.histc: range of [{lo:g}, {hi:g}] is not finite")
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    flat = data.reshape(-1).astype(np.float64)
    flat = flat[(flat >= lo) & (flat <= hi)]
    where = np.minimum(((flat - lo) * bins / (hi - lo)).astype(np.int64), bins - 1)
    return Tensor._wrap(np.bincount(where, minlength=bins).astype(data.dtype))


def _side(right: bool, side: str | None) -> str:
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got "
                           f"{side}")
    if right and side == "left":
        raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                           "got side of left while right was True")
    return side


def searchsorted(sorted_sequence, input, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter=None) -> Tensor:
    """Where each value of ``input`` would be inserted to keep ``sorted_sequence`` sorted
    along its last dimension (leftmost place, or rightmost with ``right``)."""
    seq = _numeric(sorted_sequence, "searchsorted")._data
    scalar = not isinstance(input, Tensor)
    values = np.asarray(input._data if isinstance(input, Tensor) else input)
    how = _side(right, side)
    if sorter is not None:
        seq = np.take_along_axis(seq, as_tensor(sorter)._data, -1)
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or "
                           "the first N-1 dimensions of boundaries tensor and input value "
                           "tensor must match")
    if seq.ndim == 1:
        out = np.searchsorted(seq, values, side=how)
    else:
        if values.ndim != seq.ndim or values.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension "
                               "or the first N-1 dimensions of boundaries tensor and input "
                               "value tensor must match, but we got boundaries tensor "
                               f"{list(seq.shape)} and input value tensor "
                               f"{list(values.shape)}")
        out = np.empty(values.shape, dtype=np.int64)
        for idx in np.ndindex(*seq.shape[:-1]):
            out[idx] = np.searchsorted(seq[idx], values[idx], side=how)
    dt = np.int32 if out_int32 else np.int64
    return Tensor._wrap(np.asarray(out, dtype=dt).reshape(() if scalar else values.shape))


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each entry of ``input`` among the sorted 1-d ``boundaries``:
    i with boundaries[i-1] < x <= boundaries[i] (with ``right``: <= x <)."""
    b = _numeric(boundaries, "bucketize")
    if b._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{b._data.ndim})")
    return searchsorted(b, input, out_int32=out_int32, right=right)

