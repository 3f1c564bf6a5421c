"""Out-of-place writes into a copy: index_copy, index_fill, masked_scatter, put,
select_scatter, slice_scatter, diagonal_scatter, scatter_reduce; renorm; and the in-place
``fill_diagonal_``.

Each is a composition of recorded ops: the written entries of ``src`` are placed into
zeros of the result's shape (IndexPutBackward0 of ``index_add_into``) and chosen over the
input's by a ``where`` mask, so ``input`` gets the gradient of the entries it keeps and
``src`` that of the entries it wrote. Where an index repeats (index_copy, put), the last
write wins, as on PyTorch's CPU; the replaced writes get no gradient.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from symgrad.ops import elementwise as ew
from symgrad.ops import reduction as red
from symgrad.ops import shape as sh
from symgrad.ops._util import type_name
from symgrad.ops.pieces import strided_positions
from symgrad.ops.scatter import index_add_into
from symgrad.tensor import Tensor, _axis, as_tensor

__all__ = ["index_copy", "index_fill", "masked_scatter", "put", "select_scatter",
           "slice_scatter", "diagonal_scatter", "scatter_reduce", "renorm", "as_strided_scatter",
           "index_reduce"]

NOT_METHODS: tuple[str, ...] = ()


def _same_dtype(name: str, x: Tensor, src: Tensor) -> None:
    if x._data.dtype != src._data.dtype and object not in (x._data.dtype, src._data.dtype):
        raise RuntimeError(f"{name}(): self ({type_name(x)}) and source ({type_name(src)}) "
                           "must have the same scalar type")


def _last_only(flat_targets: np.ndarray) -> np.ndarray:
    """Positions (in write order) of the writes no later write replaces."""
    _, last_rev = np.unique(flat_targets[::-1], return_index=True)
    return np.sort(flat_targets.size - 1 - last_rev)


def _write(x: Tensor, src: Tensor, index: tuple) -> Tensor:
    """``x`` with ``x[index] = src`` (``src`` in the shape ``x[index]`` has); repeated
    positions keep the last write."""
    shape = x._data.shape
    positions = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)[index]
    if positions.size and np.unique(positions).size != positions.size:
        keep = _last_only(positions.reshape(-1))
        src = sh.reshape(src, (-1,))[keep]
        index = np.unravel_index(positions.reshape(-1)[keep], shape)
    mask = np.zeros(shape, dtype=bool)
    mask[index] = True
    placed = index_add_into(src, shape, index)
    return ew.where(Tensor._wrap(mask), placed, x)


def _index_vector(name: str, index: Any) -> np.ndarray:
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    idx = index._data
    if idx.dtype != np.int64:
        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got "
                           f"{type_name(index)}")
    if idx.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    return idx.reshape(-1)


def _along(d: int, idx: Any) -> tuple:
    return (slice(None),) * d + (idx,)


def _in_range(idx: np.ndarray, n: int, name: str) -> np.ndarray:
    bad = (idx < -n) | (idx >= n)
    if bad.any():
        raise IndexError(f"{name}(): index {idx[bad][0]} is out of bounds for dimension with "
                         f"size {n}")
    return np.mod(idx, n) if n else idx


# ================================================================ index_copy, index_fill
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """``input`` with the slices ``source[k]`` of ``dim`` written at positions ``index[k]``."""
    x, src = as_tensor(input), as_tensor(source)
    idx = _index_vector("index_copy", index)
    _same_dtype("index_copy", x, src)
    nd = x._data.ndim
    if nd == 0:
        return _write(sh.reshape(x, (1,)), sh.reshape(src, (1,)), (idx,)).reshape(())
    d = _axis(dim, nd)
    n = src._data.shape[d] if src._data.ndim else 1
    if idx.size != n:
        raise IndexError(f"index_copy_(): Number of indices ({idx.size}) should be equal to "
                           f"source.size(dim) ({n})")
    want = x._data.shape[:d] + (idx.size,) + x._data.shape[d + 1:]
    if src._data.shape != want:
        raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice "
                           f"shapes. Destination slice shape: {list(want)} and source slice "
                           f"shape: {list(src._data.shape)}")
    idx = _in_range(idx, x._data.shape[d], "index_copy_")
    return _write(x, src, _along(d, idx))


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """``input`` with ``value`` (a number or a 0-d tensor) in the slices ``index`` of
    ``dim``."""
    x = as_tensor(input)
    idx = _index_vector("index_fill", index)
    nd = x._data.ndim
    d = _axis(dim, builtins.max(nd, 1))
    mask = np.zeros(x._data.shape, dtype=bool)
    if nd == 0:
        _in_range(idx, 1, "index_fill_")
        mask[()] = idx.size > 0
    else:
        mask[_along(d, _in_range(idx, x._data.shape[d], "index_fill_"))] = True
    return sh.masked_fill(x, Tensor._wrap(mask), value)


# ================================================================ masked_scatter, put
def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``input`` with the first entries of ``source`` (row-major) written where the
    (broadcast) ``mask`` holds."""
    x, src = as_tensor(input), as_tensor(source)
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {type_name(mask)}")
    _same_dtype("masked_scatter_", x, src)
    shape = np.broadcast_shapes(x._data.shape, m.shape)
    if shape != x._data.shape:
        x = sh.expand(x, shape)
    where = np.nonzero(np.broadcast_to(m, shape))
    count = where[0].size if where else int(np.broadcast_to(m, shape))
    if count > src.numel():
        raise RuntimeError("masked_scatter: expected source to have at least as many elements "
                           "as the ones in the mask")
    values = sh.reshape(src, (-1,))[:count]
    if not shape:
        return ew.where(Tensor._wrap(m), sh.reshape(values, ()), x) if count else x
    return _write(x, values, where)


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """``input`` (read as 1-d) with ``source`` written at the flat positions ``index``
    (negative ones count from the end); with ``accumulate`` added instead."""
    x, src = as_tensor(input), as_tensor(source)
    if not isinstance(index, Tensor) or index._data.dtype != np.int64:
        raise RuntimeError("put_(): Expected a long tensor for index, but got "
                           f"{type_name(index) if isinstance(index, Tensor) else type(index)}")
    _same_dtype("put_", x, src)
    idx = index._data.reshape(-1)
    if idx.size != src.numel():
        raise RuntimeError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {src.numel()}, index.numel() "
                           f"= {idx.size}")
    n = x.numel()
    bad = (idx < -n) | (idx >= n)
    if bad.any():
        raise IndexError(f"out of range: tried to access index {idx[bad][0]} on a tensor of "
                         f"{n} elements.")
    idx = np.mod(idx, n) if n else idx
    flat, values = sh.reshape(x, (-1,)), sh.reshape(src, (-1,))
    if accumulate:
        out = ew.add(flat, index_add_into(values, (n,), (idx,)))
    else:
        out = _write(flat, values, (idx,))
    return sh.reshape(out, x._data.shape)


# ================================================================ select / slice / diagonal
def _embed(name: str, x: Tensor, src: Tensor, index: tuple) -> Tensor:
    want = x._data[index].shape
    if tuple(src._data.shape) != want:
        raise RuntimeError(f"{name}: expected src to have a size equal to the slice of self. "
                           f"src size = {list(src._data.shape)}, slice size = {list(want)}")
    return _write(x, src.to(x.dtype) if src._data.dtype != x._data.dtype else src, index)


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """``input`` with ``src`` as its slice ``index`` of ``dim`` (the inverse of select)."""
    x = as_tensor(input)
    if x._data.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _axis(dim, x._data.ndim)
    n = x._data.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(x._data.shape)} at dimension {d}")
    return _embed("select_scatter", x, as_tensor(src), _along(d, index % n))


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1) -> Tensor:
    """``input`` with ``src`` as its slice ``start:end:step`` of ``dim``."""
    x = as_tensor(input)
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    d = _axis(dim, builtins.max(x._data.ndim, 1))
    return _embed("slice_scatter", x, as_tensor(src), _along(d, slice(start, end, step)))


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """``input`` with ``src`` as its diagonal (the inverse of ``diagonal``)."""
    x = as_tensor(input)
    nd = x._data.ndim
    d1, d2 = _axis(dim1, builtins.max(nd, 1)), _axis(dim2, builtins.max(nd, 1))
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    shape = x._data.shape
    rows, cols = shape[d1], shape[d2]
    k = builtins.max(0, builtins.min(rows, cols - offset) if offset >= 0
                     else builtins.min(rows + offset, cols))
    i = np.arange(k) + builtins.max(0, -offset)
    j = np.arange(k) + builtins.max(0, offset)
    others = [a for a in range(nd) if a not in (d1, d2)]
    out_nd = len(others) + 1
    index: list[Any] = [None] * nd
    for pos, a in enumerate(others):
        s = [1] * out_nd
        s[pos] = shape[a]
        index[a] = np.arange(shape[a]).reshape(s)
    last = [1] * (out_nd - 1) + [k]
    index[d1], index[d2] = i.reshape(last), j.reshape(last)
    return _embed("diagonal_scatter", x, as_tensor(src), tuple(index))


def as_strided_scatter(input: Tensor, src: Tensor, size, stride,
                       storage_offset: int | None = None) -> Tensor:
    """``input`` with ``src`` written into the entries ``as_strided(input, size, stride,
    storage_offset)`` would view."""
    x, s = as_tensor(input), as_tensor(src)
    pos = strided_positions(x, size, stride, storage_offset)
    if tuple(s._data.shape) != pos.shape:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size "
                           f"= {list(s._data.shape)}, slice size = {list(pos.shape)}")
    flat = sh.reshape(x, (-1,))
    out = _write(flat, s.to(x.dtype) if s._data.dtype != x._data.dtype else s, (pos,))
    return sh.reshape(out, x._data.shape)


# ================================================================ scatter_reduce
_PAD = {"amax": -np.inf, "amin": np.inf, "prod": 1, "sum": 0, "mean": 0}


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """``input`` with each position reduced (sum, prod, mean, amax, amin) over the ``src``
    entries scattered to it along ``dim`` (and its own value, with ``include_self``);
    positions nothing is scattered to keep their value.

    The contributions of each position are laid out side by side (padded with the
    reduction's neutral value) and reduced by the recorded reduction, so ties in amax /
    amin share the gradient evenly, as in PyTorch."""
    if reduce not in _PAD:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    x, s = as_tensor(input), as_tensor(src)
    if not isinstance(index, Tensor) or index._data.dtype != np.int64:
        raise RuntimeError("scatter(): Expected dtype int64 for index")
    lifted = sh.lift_0d(x, index, s)
    if lifted is not None:
        x, index, s, was_0d = lifted
        out = scatter_reduce(x, dim, index, s, reduce, include_self=include_self)
        return out.reshape(()) if was_0d else out
    _same_dtype("scatter_reduce", x, s)
    idx = index._data
    nd = builtins.max(x._data.ndim, 1)
    d = _axis(dim, nd)
    if idx.ndim != x._data.ndim or idx.ndim != s._data.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    shape = x._data.shape
    if idx.size and (idx.min() < 0 or idx.max() >= shape[d]):
        bad = idx[(idx < 0) | (idx >= shape[d])][0]
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size "
                           f"{shape[d]}")
    if any(idx.shape[k] > s._data.shape[k] for k in range(idx.ndim)):
        raise RuntimeError("Expected index to be no larger than src in every dimension")
    # target flat position of each index entry, and its rank among the entries sent there
    grids = np.indices(idx.shape, sparse=True)
    where = tuple(idx if k == d else grids[k] for k in range(idx.ndim))
    target = np.ravel_multi_index(np.broadcast_arrays(*where), shape).reshape(-1)
    order = np.argsort(target, kind="stable")
    counts = np.bincount(target, minlength=int(np.prod(shape)))
    starts = np.cumsum(counts) - counts
    rank = np.empty_like(target)
    rank[order] = np.arange(target.size) - starts[target[order]]
    width = int(counts.max()) if counts.size else 0
    n = int(np.prod(shape))
    values = sh.reshape(s[tuple(slice(0, m) for m in idx.shape)], (-1,))
    slots = index_add_into(values, (n, width + 1), (target, rank))
    valid = np.zeros((n, width + 1), dtype=bool)
    valid[target, rank] = True
    flat = sh.reshape(x, (-1,))
    if include_self:
        valid[:, width] = True
        slots = ew.add(slots, index_add_into(flat, (n, width + 1),
                                             (np.arange(n), np.full(n, width))))
    pad = _PAD[reduce]
    if x._data.dtype.kind in "iu" and reduce in ("amax", "amin"):
        info = np.iinfo(x._data.dtype)
        pad = info.min if reduce == "amax" else info.max
    table = ew.where(Tensor._wrap(valid), slots, pad)
    if reduce in ("sum", "mean"):
        out = red.sum(table, 1)
        if out._data.dtype != x._data.dtype:
            out = out.to(x.dtype)
        if reduce == "mean":
            k = Tensor._wrap(np.maximum(valid.sum(1), 1).astype(x._data.dtype))
            out = ew.floor_divide(out, k) if x._data.dtype.kind in "iu" else ew.div(out, k)
    elif reduce == "prod":
        out = red.prod(table, 1)
        if out._data.dtype != x._data.dtype:
            out = out.to(x.dtype)
    else:
        out = red.amax(table, 1) if reduce == "amax" else red.amin(table, 1)
    touched = Tensor._wrap(valid.any(1))
    return sh.reshape(ew.where(touched, out, flat), shape)


def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """``input`` with each slice ``index[k]`` of ``dim`` reduced (prod, mean, amax, amin)
    with the slice ``k`` of ``source``: ``scatter_reduce`` with the index spread over the
    other dimensions."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    x, src = as_tensor(input), as_tensor(source)
    if not isinstance(index, Tensor) or index._data.dtype not in (np.int64, np.int32):
        raise RuntimeError("index_reduce_(): Expected dtype int32/int64 for index")
    idx = index._data.reshape(-1).astype(np.int64)
    nd = builtins.max(src._data.ndim, 1)
    d = _axis(dim, nd)
    n = src._data.shape[d] if src._data.ndim else 1
    if idx.size != n:
        raise RuntimeError(f"index_reduce_(): Number of indices ({idx.size}) should be equal "
                           f"to source.size(dim) ({n})")
    shape = [1] * nd
    shape[d] = n
    full = np.broadcast_to(idx.reshape(shape), src._data.shape or (1,))
    return scatter_reduce(x, d, Tensor._wrap(np.ascontiguousarray(full)), src, reduce,
                          include_self=include_self)


# ================================================================ renorm
def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` scaled down to norm
    ``maxnorm`` (times ``1 / (1 + 1e-7 / norm)``, as PyTorch); the others unchanged. The
    gradient flows through the norm too, as in PyTorch."""
    x = as_tensor(input)
    if x._data.dtype.kind != "f" and x._data.dtype != object:
        raise RuntimeError(f"renorm: Expected a floating point or complex tensor as input. Got "
                           f"{type_name(x)}")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    nd = x._data.ndim
    if nd <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {nd} dimensions")
    d = _axis(dim, nd)
    others = tuple(k for k in range(nd) if k != d)
    norm = red.vector_norm(x, p, others, keepdim=True)
    big = Tensor._wrap(norm._data > maxnorm)
    factor = ew.where(big, ew.div(float(maxnorm), ew.add(norm, 1e-7)), 1.0)
    return ew.mul(x, factor)
