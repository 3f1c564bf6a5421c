"""Integer-valued functions of tensors, with no gradient: nonzero, unique,
unique_consecutive, bincount, histc, histogram, searchsorted, bucketize, isin, unravel_index.

Their results are indices or counts, piecewise constant in the input, so PyTorch records
no node for them and neither does symgrad. Errors follow PyTorch's, before numpy could
answer in some other way (a negative count, a wrapped index).
"""

from __future__ import annotations

from typing import Any

import builtins
import math

import numpy as np

from symgrad.ops._util import not_tensor, type_name
from symgrad.ops.reduction import _named_result, return_types
from symgrad.tensor import Tensor, as_tensor

__all__ = ["nonzero", "unique", "bincount", "histc", "searchsorted", "bucketize",
           "unique_consecutive", "histogram", "isin", "unravel_index", "nonzero_static",
           "histogramdd"]

#: Functions here that torch.Tensor has no method for.
NOT_METHODS = ("searchsorted", "bucketize", "isin", "unravel_index", "histogramdd")


def _numeric(t: Any, name: str) -> Tensor:
    if not isinstance(t, Tensor):
        raise not_tensor(name, t)
    x = t
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



def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None):
    """One entry (or slice along ``dim``) of each run of equal consecutive ones; optionally
    the run each entry belongs to (inverse) and the run lengths (counts)."""
    x = _numeric(input, "unique_consecutive")
    data = x._data
    if dim is None:
        d, moved = 0, data.reshape(-1)
    else:
        if not -max(data.ndim, 1) <= dim < max(data.ndim, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-data.ndim}, {data.ndim - 1}], but got {dim})")
        d = dim % max(data.ndim, 1)
        moved = np.moveaxis(data, d, 0)
    n = moved.shape[0]
    rows = moved.reshape(n, int(np.prod(moved.shape[1:])))   # (-1 is ambiguous when n = 0)
    starts = np.ones(n, dtype=bool)
    if n > 1:
        starts[1:] = np.any(rows[1:] != rows[:-1], axis=1)
    first = np.flatnonzero(starts)
    values = np.moveaxis(moved[first], 0, d) if dim is not None else moved[first]
    out: list[Tensor] = [Tensor._wrap(np.ascontiguousarray(values))]
    if return_inverse:
        inverse = np.cumsum(starts) - 1
        out.append(_long(inverse.reshape(data.shape) if dim is None else inverse))
    if return_counts:
        out.append(_long(np.diff(np.append(first, n))))
    return out[0] if len(out) == 1 else tuple(out)


return_types.histogram = _named_result("histogram", ("hist", "bin_edges"))
return_types.histogramdd = _named_result("histogramdd", ("hist", "bin_edges"))


def _floating_samples(input, name: str) -> Tensor:
    """PyTorch's histograms take floating samples only (the bins share their dtype)."""
    x = _numeric(input, name)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"torch.{name}: input tensor and bins tensors should have the "
                           f"same dtype, but got input {type_name(x)} and bins "
                           f"{type_name(x)}")
    return x


def histogram(input, bins=100, *, range=None, weight=None, density: bool = False):
    """``(hist, bin_edges)``: counts (or summed ``weight``, or a density) in ``bins`` equal
    bins over ``range`` (default: the data's span), or in the bins between the given edges
    (a tensor). The last bin includes its right edge."""
    x = _floating_samples(input, "histogram")
    data = x._data
    edges = bins._data.astype(data.dtype) if isinstance(bins, Tensor) else int(bins)
    if isinstance(edges, int) and edges <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {edges} for "
                           "dimension 0")
    w = None if weight is None else as_tensor(weight)._data
    rng = None if range is None else (float(range[0]), float(range[1]))
    if rng is not None and rng[0] > rng[1]:
        raise RuntimeError(f"torch.histogram(): min should not exceed max, but got min "
                           f"{rng[0]} max {rng[1]}")
    hist, out_edges = np.histogram(data.reshape(-1), edges, range=rng,
                                   weights=None if w is None else w.reshape(-1),
                                   density=density)
    return return_types.histogram(Tensor._wrap(hist.astype(data.dtype)),
                      Tensor._wrap(out_edges.astype(data.dtype)))


def isin(elements, test_elements, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """True where an entry of ``elements`` occurs in ``test_elements`` (either may be a
    number); ``invert`` gives the opposite."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments: one of "
                        "'elements' and 'test_elements' must be a Tensor")
    a = np.asarray(elements._data if isinstance(elements, Tensor) else elements)
    b = np.asarray(test_elements._data if isinstance(test_elements, Tensor) else test_elements)
    return Tensor._wrap(np.asarray(np.isin(a, b, invert=invert)))


def unravel_index(indices, shape) -> tuple[Tensor, ...]:
    """The coordinates in ``shape`` of flat ``indices`` (counted modulo the sizes, as
    PyTorch: -1 is the last entry)."""
    if not isinstance(indices, Tensor):
        raise TypeError(f"unravel_index(): argument 'indices' must be Tensor, not "
                        f"{type(indices).__name__}")
    idx = indices._data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    dims = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if any(s < 0 for s in dims):
        raise ValueError("'shape' cannot have negative values, but got " + str(dims))
    rest = idx.astype(np.int64)
    coords = []
    for s in reversed(dims):
        if s == 0:
            raise IndexError("index out of bounds for a shape with a zero size")
        coords.append(np.mod(rest, s))
        rest = np.floor_divide(rest, s)
    return tuple(_long(c) for c in reversed(coords))


def nonzero_static(input, *, size: int, fill_value: int = -1) -> Tensor:
    """``nonzero`` padded with rows of ``fill_value`` (or cut) to exactly ``size`` rows."""
    rows = nonzero(input)._data
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, but got "
                           f"size: {size}")
    out = np.full((size, rows.shape[1]), fill_value, dtype=np.int64)
    k = min(size, rows.shape[0])
    out[:k] = rows[:k]
    return _long(out)


def histogramdd(input, bins=10, *, range=None, weight=None, density: bool = False):
    """``(hist, bin_edges)`` of the points in the rows of ``input`` (shape ``(..., D)``):
    ``bins`` an int, one int per dimension, or one tensor of edges per dimension; ``range``
    ``[min_0, max_0, min_1, ...]``."""
    x = _floating_samples(input, "histogramdd")
    data = x._data
    if data.ndim < 1:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 1 dimension")
    d = data.shape[-1]
    points = data.reshape(-1, d)
    if isinstance(bins, (int, np.integer)):
        spec = [int(bins)] * d
    else:
        spec = [b._data.astype(data.dtype) if isinstance(b, Tensor) else int(b) for b in bins]
    if len(spec) != d:
        raise RuntimeError(f"torch.histogramdd: expected {d} sequences of bin edges for each of "
                           f"the {d} input dimensions, but got {len(spec)} bin sequences")
    ranges = None
    if range is not None:
        flat = [float(v) for v in range]
        if len(flat) != 2 * d:
            raise RuntimeError(f"torch.histogramdd: for a {d}-dimensional histogram range "
                               f"should have {2 * d} elements, but got {len(flat)}")
        ranges = [(flat[2 * k], flat[2 * k + 1]) for k in builtins.range(d)]
    w = None if weight is None else as_tensor(weight)._data.reshape(-1)
    hist, edges = np.histogramdd(points, spec, range=ranges, weights=w, density=density)
    return return_types.histogramdd(Tensor._wrap(hist.astype(data.dtype)),
                                    tuple(Tensor._wrap(e.astype(data.dtype)) for e in edges))
