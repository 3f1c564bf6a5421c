"""PyTorch functions written in terms of other ops, plus predicates that record nothing.

A composition needs no rule or mirror of its own: its graph is made of recorded ops, so
backward, ``create_graph`` and the verifier all see ops the rule table already proves.
(PyTorch records some of these as one node, e.g. ``SortBackward0``; here the graph shows
the ops they are made of.)
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from symgrad import _dtype
from symgrad.ops import elementwise as ew
from symgrad.ops import shape as sh
from symgrad.autograd.grad_mode import no_grad
from symgrad.ops._apply import apply
from symgrad.ops._util import (broadcast_check, check_along_bounds, check_kernel, norm_dims,
                               tensor_input, tensor_items, tensor_pair, type_name)
from symgrad.ops.reduction import (LAYER_NORM, TRACE, _named_result, _symbolic_compare, norm,
                                   return_types, vector_norm)
from symgrad.ops.reduction import sum as _sum
from symgrad.ops.scatter import (DIAG_EMBED, EMBEDDING, INDEX_ADD_AT, SCATTER, SCATTER_ADD,
                                 SCATTER_VALUE, SORT, TOPK)
from symgrad.tensor import Tensor, _axis, as_tensor

__all__ = ["logaddexp", "tril", "triu", "diagonal", "diag", "trace", "masked_select", "sort",
           "argsort", "topk", "argwhere", "isnan", "isinf", "isfinite", "isposinf", "isneginf",
           "all", "any", "isclose", "allclose", "equal", "count_nonzero", "type_as", "hstack",
           "vstack", "tile", "repeat_interleave", "scatter_add", "scatter", "index_add",
           "var_mean", "std_mean", "meshgrid"]

#: Functions here that torch.Tensor has no method for.
NOT_METHODS = ("hstack", "vstack", "var_mean", "std_mean", "meshgrid")


def _const(a: np.ndarray) -> Tensor:
    return Tensor._wrap(np.asarray(a))


# ================================================================ arithmetic
logaddexp = ew.logaddexp   # one op (LogaddexpBackward0), symbolic tensors included


# ================================================================ triangles and diagonals
def _triangle(input, diagonal: int, lower: bool, name: str) -> Tensor:
    x = as_tensor(input)
    if x._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    r, c = x._data.shape[-2:]
    keep = np.tril(np.ones((r, c), dtype=bool), diagonal) if lower else \
        np.triu(np.ones((r, c), dtype=bool), diagonal)
    # where, not a product with the mask: inf * 0 would be nan where PyTorch gives 0
    return apply(ew.TRIL if lower else ew.TRIU, keep, x, np.zeros((), dtype=x._data.dtype))


def tril(input, diagonal: int = 0) -> Tensor:
    """The lower triangle (entries with column - row <= diagonal); zeros elsewhere."""
    return _triangle(input, diagonal, True, "tril")


def triu(input, diagonal: int = 0) -> Tensor:
    """The upper triangle (entries with column - row >= diagonal); zeros elsewhere."""
    return _triangle(input, diagonal, False, "triu")


def _diag_index(rows: int, cols: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    if offset >= 0:
        n = builtins.max(0, builtins.min(rows, cols - offset))
        i = np.arange(n)
        return i, i + offset
    n = builtins.max(0, builtins.min(rows + offset, cols))
    j = np.arange(n)
    return j - offset, j


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The entries ``input[..., i, i + offset]`` of the plane (dim1, dim2), as a last
    dimension."""
    x = as_tensor(input)
    nd = x._data.ndim
    if nd < 2:
        raise RuntimeError(f"diagonal dimensions requires ndim larger than 1, got {nd}")
    d1, d2 = _axis(dim1, nd), _axis(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _diagonal(x, offset, d1, d2, sh.DIAGONAL)


def _diagonal(x: Tensor, offset: int, d1: int, d2: int, op) -> Tensor:
    nd = x._data.ndim
    moved = x if (d1, d2) == (nd - 2, nd - 1) else sh.movedim(x, (d1, d2), (-2, -1))
    shape = moved._data.shape
    i, j = _diag_index(*shape[-2:], offset)
    return apply(op, moved, index=(slice(None),) * (nd - 2) + (i, j), in_shape=shape)


def diag(input, diagonal: int = 0) -> Tensor:
    """A 1-d input as the ``diagonal``-th diagonal of a square matrix; a 2-d input's
    ``diagonal``-th diagonal."""
    x = as_tensor(input)
    if x._data.ndim == 2:   # PyTorch's node name for this path, as it prints it
        return _diagonal(x, diagonal, 0, 1, sh.DIAGONAL_COPY)
    if x._data.ndim != 1:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x._data.ndim}D")
    n = x._data.shape[0] + abs(diagonal)
    return apply(DIAG_EMBED, x, shape=(n, n), index=_diag_index(n, n, diagonal))


def trace(input) -> Tensor:
    """The sum of a matrix's diagonal."""
    x = as_tensor(input)
    if x._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x._data.ndim}")
    check_kernel("trace", x, "b")
    if x._data.dtype.kind in "iu" and x._data.dtype != np.int64:   # sums of ints are int64
        x = x.to(_dtype.int64)
    return apply(TRACE, x)


# ================================================================ selection
def masked_select(input, mask) -> Tensor:
    """The entries of ``input`` where the (broadcast) boolean ``mask`` holds, as 1-d."""
    x, m = as_tensor(input), as_tensor(mask)
    if m._data.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {m.dtype}")
    shape = np.broadcast_shapes(x._data.shape, m._data.shape)
    xb = sh.expand(x, shape) if x._data.shape != shape else x
    return apply(sh.MASKED_SELECT, xb, index=(np.broadcast_to(m._data, shape),), in_shape=shape)


# (values, indices), printed as PyTorch prints torch.return_types.sort / .topk
return_types.sort = _named_result("sort")
return_types.topk = _named_result("topk")


def _order(data: np.ndarray, dim: int, descending: bool, name: str = "sort") -> np.ndarray:
    """Stable argsort along ``dim``; descending keeps equal entries in their order and puts
    nan first (nan counts as the largest value, as in PyTorch)."""
    if not descending:
        return _symbolic_compare(name, np.argsort, data, axis=dim, kind="stable")
    n = data.shape[dim]
    rev = _symbolic_compare(name, np.argsort, np.flip(data, dim), axis=dim, kind="stable")
    return np.flip(n - 1 - rev, dim)


def sort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    """``(values, indices)`` sorted along ``dim`` (stable, whatever ``stable`` says)."""
    x = tensor_input(input)
    if x._data.ndim == 0:
        return return_types.sort(x.clone(), Tensor._wrap(np.zeros((), dtype=np.int64)))
    d = _axis(dim, x._data.ndim)
    idx = _order(x._data, d, descending)
    return return_types.sort(apply(SORT, x, indices=idx, dim=d),
                             Tensor._wrap(idx.astype(np.int64)))


def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort ``input`` along ``dim``."""
    return sort(input, dim, descending, stable).indices


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """``(values, indices)`` of the ``k`` largest (or smallest) entries along ``dim``."""
    x = as_tensor(input)
    nd = x._data.ndim
    d = _axis(dim, nd) if nd else 0
    size = x._data.shape[d] if nd else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if x._data.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes on CPU")
    if nd == 0:
        return return_types.topk(x.clone(), Tensor._wrap(np.zeros((), dtype=np.int64)))
    idx = np.take(_order(x._data, d, largest, "topk"), np.arange(k), axis=d)
    return return_types.topk(apply(TOPK, x, indices=idx, dim=d),
                             Tensor._wrap(idx.astype(np.int64)))



# ================================================================ predicates (no gradient)
def _bool(a: np.ndarray) -> Tensor:
    return Tensor._wrap(np.asarray(a, dtype=bool))


def isnan(input) -> Tensor:
    return _bool(np.isnan(tensor_input(input)._data))


def isinf(input) -> Tensor:
    return _bool(np.isinf(tensor_input(input)._data))


def isfinite(input) -> Tensor:
    return _bool(np.isfinite(tensor_input(input)._data))


def isposinf(input) -> Tensor:
    return _bool(np.isposinf(tensor_input(input)._data))


def isneginf(input) -> Tensor:
    return _bool(np.isneginf(tensor_input(input)._data))


def argwhere(input) -> Tensor:
    """``nonzero(input)``: the indices of the nonzero entries, one row each."""
    from symgrad.ops.discrete import nonzero

    return nonzero(input)


def _dims(input: Tensor, dim) -> Any:
    # A 0-d tensor takes dim 0 / -1 (as PyTorch) but numpy has no axis to reduce: ().
    return norm_dims(dim, input._data.ndim)


def _truth(x: Tensor, a: np.ndarray) -> Tensor:
    # PyTorch keeps uint8 for all / any of a uint8 tensor (its masks before bool existed)
    return Tensor._wrap(np.asarray(a, dtype=np.uint8 if x._data.dtype == np.uint8 else bool))


def all(input, dim=None, keepdim: bool = False) -> Tensor:
    """True where every entry (along ``dim``) is nonzero."""
    x = tensor_input(input)
    return _truth(x, np.all(x._data, axis=_dims(x, dim), keepdims=keepdim))


def any(input, dim=None, keepdim: bool = False) -> Tensor:
    """True where some entry (along ``dim``) is nonzero."""
    x = tensor_input(input)
    return _truth(x, np.any(x._data, axis=_dims(x, dim), keepdims=keepdim))


def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """``|input - other| <= atol + rtol * |other|`` entry by entry."""
    a, b = tensor_pair(input, other)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{type_name(a._data.dtype)} did not match {type_name(b._data.dtype)}")
    return _bool(np.isclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when every entry is ``isclose``."""
    return builtins.bool(np.all(isclose(input, other, rtol, atol, equal_nan)._data))


def equal(input, other) -> bool:
    """True when both tensors have the same shape and entries."""
    a, b = (t._data for t in tensor_pair(input, other))
    return a.shape == b.shape and builtins.bool(np.array_equal(a, b))


def count_nonzero(input, dim=None) -> Tensor:
    """The number of nonzero entries (along ``dim``; an empty ``dim`` counts them all)."""
    x = tensor_input(input)
    return Tensor._wrap(np.asarray(np.count_nonzero(x._data, axis=_dims(x, dim) or None),
                                   dtype=np.int64))


def type_as(input, other) -> Tensor:
    """``input`` converted to ``other``'s dtype."""
    return as_tensor(input).to(as_tensor(other).dtype)


# ================================================================ joining
def _at_least(t: Tensor, nd: int) -> Tensor:
    while t._data.ndim < nd:
        t = sh.unsqueeze(t, 0)
    return t


def hstack(tensors) -> Tensor:
    """Join along the first dimension for 1-d tensors, the second otherwise."""
    ts = [_at_least(as_tensor(t), 1) for t in tensors]
    return sh.cat(ts, 0 if ts and ts[0]._data.ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Join as rows (1-d tensors become rows of a matrix)."""
    return sh.cat([_at_least(as_tensor(t), 2) for t in tensors], 0)


# ================================================================ repeating and scattering
def tile(input, dims) -> Tensor:
    """``input`` repeated ``dims[i]`` times along each dimension (missing leading ones)."""
    x = tensor_input(input)
    dims = tuple(dims) if not isinstance(dims, int) else (dims,)
    dims = (1,) * builtins.max(0, x._data.ndim - len(dims)) + dims
    return sh.repeat(x, *dims)


def repeat_interleave(input, repeats=None, dim: int | None = None) -> Tensor:
    """Each slice along ``dim`` repeated ``repeats`` times in place (a flattened input
    when ``dim`` is None); the gradient adds the copies back. Alone, an integer tensor
    ``input`` repeats the indices ``0, 1, ...``: ``[1, 2] -> [0, 1, 1]``."""
    x = tensor_input(input)
    if repeats is None:
        if x._data.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        index = np.arange(x._data.size, dtype=x._data.dtype)   # (int32 repeats: int32)
        return repeat_interleave(Tensor._wrap(index), x)
    if isinstance(repeats, Tensor):
        reps = repeats._data
        if reps.dtype not in (np.int64, np.int32):
            raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for "
                                      f"'{type_name(repeats)}'")
    elif isinstance(repeats, (int, np.integer)) and not isinstance(repeats, bool):
        reps = int(repeats)
    else:
        raise TypeError(f"repeat_interleave(): argument 'repeats' must be an int or a Tensor, "
                        f"not {type(repeats).__name__}")
    if np.any(np.asarray(reps) < 0):
        raise RuntimeError("repeats can not be negative")
    if dim is None:
        x, dim = sh.reshape(x, (-1,)), 0
    d = _axis(dim, builtins.max(x._data.ndim, 1))
    size = x._data.shape[d] if x._data.ndim else 1
    if isinstance(reps, int):   # as PyTorch: a copy axis, expanded, merged (ViewBackward0)
        if x._data.ndim == 0:
            x = sh.reshape(x, (1,))
        shape = x._data.shape
        wide = sh.expand(sh.unsqueeze(x, d + 1), shape[:d + 1] + (reps,) + shape[d + 1:])
        return sh.view(sh.contiguous(wide), shape[:d] + (size * reps,) + shape[d + 1:])
    if reps.ndim > 1 or (reps.size != 1 and reps.size != size):
        raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {reps.size} and input.size({d}) = {size}")
    index = np.repeat(np.arange(size), reps.reshape(-1))
    return sh.index_select(x, d, Tensor._wrap(index.astype(np.int64)))


def _scatter_src(src, index: np.ndarray, like: Tensor) -> Tensor:
    if src._data.shape != index.shape:  # PyTorch reads src only where index has entries
        src = src[tuple(slice(0, n) for n in index.shape)]
    return src


def _scatter_index(name: str, x: Tensor, dim: int, index: Any, src: Any) -> tuple:
    """The index (int64) and the axis, with PyTorch's refusals, before numpy could wrap an
    index, broadcast a shape or promote a dtype quietly."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not "
                        f"{type(index).__name__}")
    idx = index._data
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    nd = x._data.ndim
    d = _axis(dim, builtins.max(nd, 1))
    if idx.ndim != builtins.max(nd, idx.ndim if nd == 0 else nd):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if isinstance(src, Tensor):
        if src._data.ndim != idx.ndim:
            raise RuntimeError("Index tensor must have the same number of dimensions as src "
                               "tensor")
        shape, ssh, ish = x._data.shape, src._data.shape, idx.shape
        if builtins.any(ish[k] > ssh[k] or (k != d and ish[k] > shape[k])
                        for k in range(idx.ndim)):
            raise RuntimeError(f"Expected index {list(ish)} to be no larger than self "
                               f"{list(shape)} apart from dimension {d} and to be no larger "
                               f"size than src {list(ssh)}")
        if src._data.dtype != x._data.dtype and _numeric(x, src):
            raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    if idx.size:
        check_along_bounds(idx, x._data.shape[d] if nd else 1, d)
    return idx.astype(np.int64, copy=False), d


def _numeric(*ts: Tensor) -> bool:
    return builtins.all(t._data.dtype != object for t in ts)


def scatter_add(input, dim: int, index, src) -> Tensor:
    """``input`` with ``src[...]`` added at ``index`` along ``dim`` (repeats add up)."""
    x = as_tensor(input)
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not "
                        f"{type(src).__name__}")
    lifted = sh.lift_0d(x, index, src)
    if lifted is not None:
        x, index, src, was_0d = lifted
        out = scatter_add(x, dim, index, src)
        return out.reshape(()) if was_0d else out
    idx, d = _scatter_index("scatter_add", x, dim, index, src)
    return apply(SCATTER_ADD, x, _scatter_src(src, idx, x), indices=idx, dim=d)


def scatter(input, dim: int, index, src=None, *, value=None, reduce=None) -> Tensor:
    """``input`` with ``src`` (or ``value``) written at ``index`` along ``dim``.

    Where an index repeats, the last write in row-major order wins, as on PyTorch's CPU
    (where PyTorch leaves it unspecified); the writes it replaces get no gradient, the exact
    derivative (PyTorch's gather hands them the written position's gradient)."""
    if reduce is not None:
        raise NotImplementedError("scatter(reduce=...) is not supported; use scatter_add")
    x = as_tensor(input)
    if src is None:
        src = value
    lifted = sh.lift_0d(x, index, src)
    if lifted is not None:
        x, index, src, was_0d = lifted
        out = scatter(x, dim, index, src)
        return out.reshape(()) if was_0d else out
    idx, d = _scatter_index("scatter", x, dim, index, src)
    written = np.zeros(x._data.shape, dtype=bool)
    np.put_along_axis(written, idx, True, d)
    if not isinstance(src, Tensor):   # a number (ScatterBackward1): a fill of the written
        v = ew._number_bound(src)
        kind = x._data.dtype.kind
        v = builtins.bool(v) if kind == "b" else int(v) if kind in "iu" else v
        return apply(SCATTER_VALUE, x, v, mask=written)
    return apply(SCATTER, x, _scatter_src(src, idx, x), indices=idx, dim=d, written=written,
                 keep=_last_writes(idx, d, x._data.shape))


def _last_writes(idx: np.ndarray, dim: int, shape: tuple) -> np.ndarray | None:
    """Per entry of a scatter index, whether it is the last write to its position (None
    when no position is written twice)."""
    grids = np.indices(idx.shape, sparse=True)
    where = tuple(idx if k == dim else grids[k] for k in range(idx.ndim))
    target = np.ravel_multi_index(np.broadcast_arrays(*where), shape, mode="wrap").reshape(-1)
    if np.unique(target).size == target.size:
        return None
    _, first_from_end = np.unique(target[::-1], return_index=True)
    last = np.zeros(target.size, dtype=bool)
    last[target.size - 1 - first_from_end] = True
    return last.reshape(idx.shape)


def index_add(input, dim: int, index, source, *, alpha=1) -> Tensor:
    """``input`` with ``alpha * source`` slices added at positions ``index`` of ``dim``
    (repeats add up); the result keeps ``input``'s dtype, as PyTorch (alpha truncated)."""
    x = as_tensor(input)
    source = as_tensor(source)
    if not isinstance(index, Tensor):
        raise TypeError(f"index_add(): argument 'index' must be Tensor, not "
                        f"{type(index).__name__}")
    idx = index._data
    if idx.ndim > 1:
        raise IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: "
                         f"{idx.ndim} with type: {type_name(index)} and size: {list(idx.shape)}")
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"index_add_(): Expected dtype int32/int64 for index but got: "
                           f"{type_name(index)}")
    nd = x._data.ndim
    d = _axis(dim, builtins.max(nd, 1))
    idx = idx.reshape(-1).astype(np.int64)
    if source._data.dtype != x._data.dtype and _numeric(x, source):
        raise RuntimeError(f"index_add_(): self ({type_name(x)}) and source "
                           f"({type_name(source)}) must have the same scalar type")
    sshape, xshape = source._data.shape, x._data.shape
    n = sshape[d] if source._data.ndim else 1
    if idx.size != n:
        raise RuntimeError(f"index_add_(): Number of indices ({idx.size}) should be equal to "
                           f"source.size(dim): ({n}), for dim: {d}")
    if nd and (len(sshape) != nd or sshape[:d] + sshape[d + 1:] != xshape[:d] + xshape[d + 1:]):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(xshape)} "
                           f"source.shape = {list(sshape)}")
    if idx.size:
        check_along_bounds(idx, xshape[d] if nd else 1, d)
    kind = x._data.dtype.kind
    if kind == "b":
        alpha = builtins.bool(alpha)
    elif kind in "iu":
        alpha = int(alpha)
    where_ = (slice(None),) * d + (idx,) if nd else ()
    return apply(INDEX_ADD_AT, x, source, index=where_, alpha=alpha)


# ================================================================ statistics, grids
def var_mean(input, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction=None) -> tuple[Tensor, Tensor]:
    from symgrad.ops.reduction import mean, var

    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction=None) -> tuple[Tensor, Tensor]:
    from symgrad.ops.reduction import mean, std

    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


def meshgrid(*tensors, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids of 1-d tensors (``indexing="xy"`` swaps the first two axes)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = tensor_items(tensors)
    n = len(ts)
    order = list(range(n))
    if indexing == "xy" and n >= 2:
        order[0], order[1] = 1, 0
    shape = [0] * n
    for k, t in enumerate(ts):
        shape[order[k]] = t._data.size
    out = []
    for k, t in enumerate(ts):
        view = [1] * n
        view[order[k]] = t._data.size
        out.append(sh.expand(sh.reshape(t, tuple(view)), tuple(shape)))
    return tuple(out)


# ================================================================ torch.nn.functional
# Imported by ``symgrad.nn.functional`` and deliberately absent from ``__all__``: they add
# no ``symgrad.*`` function or Tensor method (torch's top-level ``torch.embedding`` and
# ``torch.layer_norm`` take other arguments, and ``torch.normalize`` does not exist).
def _need_tensor(fn: str, name: str, position: int, value: Any) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be Tensor, not "
                        f"{type(value).__name__}")
    return value


def _int_list(fn: str, name: str, position: int, value: Any) -> tuple[int, ...]:
    """An argument PyTorch parses as a tuple of ints (a list, tuple or Size)."""
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be tuple of "
                        f"ints, not {type(value).__name__}")
    for k, v in enumerate(value):
        if isinstance(v, builtins.bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be tuple of "
                            f"ints, but found element of type {type(v).__name__} at pos {k}")
    return tuple(int(v) for v in value)


def _symbolic(t: Tensor) -> bool:
    return t._data.dtype.kind == "O"


def normalize(input: Tensor, p: float = 2.0, dim=1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``; clamped norms pass no gradient."""
    if out is not None:
        raise TypeError("normalize(): out= is not supported")
    denom = ew.clamp_min(norm(input, p, dim, keepdim=True), eps)
    return ew.div(input, denom.expand_as(input))     # PyTorch's nodes: Expand of ClampMin


def _floor_norm(n: Tensor, eps: float) -> Tensor:
    """``max(n, eps)`` whose gradient is ``n``'s everywhere, even where clamped: PyTorch's
    cosine_similarity clamps its norms in place under no_grad. Exact values: a clamped
    entry is ``(n - n) + eps``, any other ``n - 0 + 0``."""
    if _symbolic(n):  # no data to compare: the forward's textbook form
        return ew.clamp_min(n, eps)
    small = n._data < eps
    if not small.any():
        return n
    return ew.add(ew.sub(n, _const(np.where(small, n._data, 0))),
                  _const(np.where(small, eps, 0).astype(n._data.dtype)))


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps))`` along ``dim`` of the broadcast
    shape (each vector scaled first, as PyTorch 2.x, so the result stays in [-1, 1]); a
    clamped norm still passes its gradient, as in PyTorch (see ``_floor_norm``)."""
    _need_tensor("cosine_similarity", "x1", 1, x1)
    _need_tensor("cosine_similarity", "x2", 2, x2)
    if isinstance(dim, builtins.bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"cosine_similarity(): argument 'dim' must be int, not "
                        f"{type(dim).__name__}")
    if eps < 0:
        raise RuntimeError(f"eps must be non-negative, got: {eps:g}")
    common = _dtype.result_type(x1._data, x2._data)
    if common.kind not in "fO":
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{type_name(_dtype.from_numpy_dtype(common))}")
    a, b = (t if t._data.dtype.kind in "fO" else t.to(_dtype.from_numpy_dtype(common))
            for t in (x1, x2))
    broadcast_check(a, b)
    shape = np.broadcast_shapes(a._data.shape, b._data.shape)
    a, b = (t if t._data.shape == shape else sh.expand(t, shape) for t in (a, b))
    d = _axis(int(dim), len(shape))
    na = _floor_norm(norm(a, 2, d, keepdim=True), eps)
    nb = _floor_norm(norm(b, 2, d, keepdim=True), eps)
    return _sum(ew.mul(ew.div(a, na), ew.div(b, nb)), d)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dimension of the broadcast shape (eps keeps
    the 2-norm differentiable where x1 == x2)."""
    _need_tensor("pairwise_distance", "x1", 1, x1)
    _need_tensor("pairwise_distance", "x2", 2, x2)
    if isinstance(eps, builtins.bool) or not isinstance(eps, (int, float, np.number)):
        raise TypeError(f"pairwise_distance(): argument 'eps' must be float, not "
                        f"{type(eps).__name__}")
    last = builtins.max(x1._data.ndim, x2._data.ndim) - 1
    shifted = apply(ew.ADD_NUMBER, ew.sub(x1, x2), eps)   # PyTorch's nodes: AddBackward1,
    return vector_norm(shifted, p, last, keepdim, _node="NormBackward1")   # NormBackward1


def _layer_norm_param(t: Tensor | None, what: str, position: int,
                      shape: tuple[int, ...]) -> Tensor | None:
    if t is None:
        return None
    _need_tensor("layer_norm", what, position, t)
    if t._data.shape != shape:
        raise RuntimeError(f"Expected {what} to be of same shape as normalized_shape, but got "
                           f"{what} of shape {list(t._data.shape)} and normalized_shape = "
                           f"{list(shape)}")
    return t


def _check_param_dtype(x: Tensor, t: Tensor | None) -> None:
    """PyTorch's CPU kernel wants the parameters in the input's dtype (float32 ones are also
    taken with a float16 input)."""
    if t is None:
        return
    xd, td = x._data.dtype, t._data.dtype
    if td == xd or (xd == np.float16 and td == np.float32) or "O" in (xd.kind, td.kind):
        return
    if xd in (np.float16, np.float32):
        raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
    raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """``(x - mean) / sqrt(var + eps) * weight + bias`` over the trailing
    ``normalized_shape`` dimensions, with the biased variance (divides by n)."""
    x = _need_tensor("layer_norm", "input", 1, input)
    shape = _int_list("layer_norm", "normalized_shape", 2, normalized_shape)
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    w = _layer_norm_param(weight, "weight", 3, shape)
    b = _layer_norm_param(bias, "bias", 4, shape)
    k = len(shape)
    if x._data.shape[-k:] != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(x._data.shape)}")
    if x._data.dtype.kind not in "fO":
        raise NotImplementedError(f"\"LayerNormKernelImpl\" not implemented for '{type_name(x)}'")
    _check_param_dtype(x, w)
    _check_param_dtype(x, b)
    half = x._data.dtype == np.float16  # computed in float32, as PyTorch's CPU kernel
    if half:
        x, w, b = (None if t is None else t.to(_dtype.float32) for t in (x, w, b))
    dims = tuple(range(x._data.ndim - k, x._data.ndim))
    out = apply(LAYER_NORM, x, w, b, dims=dims, eps=float(eps))
    return out.to(_dtype.float16) if half else out


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 rows with a 1 at each class index (``num_classes=-1``: max index + 1)."""
    t = _need_tensor("one_hot", "input", 1, tensor)
    if isinstance(num_classes, Tensor) and num_classes._data.ndim == 0:
        num_classes = num_classes.item()
    if isinstance(num_classes, builtins.bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"one_hot(): argument 'num_classes' (position 2) must be int, not "
                        f"{type(num_classes).__name__}")
    d = t._data
    if d.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    n = int(num_classes)
    if d.size == 0:
        if n <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    else:
        if d.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if n == -1:
            n = int(d.max()) + 1
        elif n <= d.max():
            raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._wrap((d[..., None] == np.arange(n)).astype(np.int64))


_C_TYPES = {"float64": "double", "float32": "float", "float16": "c10::Half", "int32": "int"}


def _fill_value(value: Any, dtype: np.dtype) -> Any:
    """``value`` as an entry of ``dtype``, refused where PyTorch refuses (overflow)."""
    if isinstance(value, Tensor):
        value = value.item()
    if isinstance(value, (builtins.bool, np.bool_)) or dtype.kind == "b":
        return builtins.bool(value)
    if not isinstance(value, (int, float, np.number)) or isinstance(value, np.complexfloating):
        raise TypeError(f"pad(): argument 'value' (position 4) must be float, not "
                        f"{type(value).__name__}")
    v = float(value)
    if dtype.kind == "O":
        return v
    if dtype.kind == "f":
        bad = np.isfinite(v) and abs(v) > float(np.finfo(dtype).max)
    else:
        info = np.iinfo(dtype)
        bad = not np.isfinite(v) or not info.min <= np.trunc(v) <= info.max
    if bad:
        ctype = _C_TYPES.get(dtype.name, f"{dtype.name}_t")
        raise RuntimeError(f"value cannot be converted to type {ctype} without overflow")
    return v if dtype.kind == "f" else int(np.trunc(v))


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """``input`` with ``pad[2k], pad[2k+1]`` entries of ``value`` before and after its
    k-th last dimension; negative amounts crop instead. Modes "reflect", "replicate" and
    "circular" repeat the input's own entries instead of ``value``."""
    x = _need_tensor("pad", "input", 1, input)
    amounts = _int_list("pad", "pad", 2, pad)
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    nd = x._data.ndim
    if len(amounts) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(amounts) > 2 * nd:
        raise RuntimeError(f"Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(amounts)} and input "
                           f"of dimension {nd}")
    if mode != "constant":
        if value is not None and value != 0:
            raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
        return _pad_from_edges(x, amounts, mode)
    fill = _fill_value(0.0 if value is None else value, x._data.dtype)
    shape = x._data.shape
    crop = [slice(None)] * nd
    inner = [slice(None)] * nd
    out_shape = list(shape)
    for k in range(len(amounts) // 2):   # (crop first, as PyTorch narrows before padding)
        d, left, right = nd - 1 - k, amounts[2 * k], amounts[2 * k + 1]
        lo, hi = builtins.max(0, -left), shape[d] - builtins.max(0, -right)
        if hi < lo or shape[d] + left + right < 0:
            raise RuntimeError(f"The input size {shape[d]}, plus negative padding {left} and "
                               f"{right} resulted in a negative output size, which is invalid. "
                               f"Check dimension {d} of your input.")
        crop[d] = slice(lo, hi)
        out_shape[d] = shape[d] + left + right
        inner[d] = slice(builtins.max(0, left), builtins.max(0, left) + hi - lo)
    return apply(sh.CONSTANT_PAD, x, crop=tuple(crop), inner=tuple(inner),
                 out_shape=tuple(out_shape), fill=fill)


# PyTorch's node names: ReflectionPad2DBackward0 ...; circular padding is written by
# slices into a new tensor there (CopySlices). Each reads the input at an index: INDEX's rule.
_PAD_NODES = {(mode, k): sh.INDEX.variant(f"{name}{k}DBackward0")
              for mode, name in (("reflect", "ReflectionPad"), ("replicate", "ReplicationPad"))
              for k in (1, 2, 3)}
_CIRCULAR = sh.INDEX.variant("CopySlices")
_CIRCULAR.node_class.qualified_name = "torch::autograd::CopySlices"


def _pad_from_edges(x: Tensor, amounts: list[int], mode: str) -> Tensor:
    """Reflect, replicate or circular padding: each output entry reads an input entry,
    found per padded dimension (after cropping for negative amounts, as PyTorch does)."""
    k, nd, shape = len(amounts) // 2, x._data.ndim, x._data.shape
    if k not in (1, 2, 3) or nd not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(amounts)} is not supported for {nd}D input tensor. Supported "
            "combinations for non-constant padding: 2D or 3D input with padding size 2, 3D or "
            "4D input with padding size 4, 4D or 5D input with padding size 6.")
    index = [np.arange(n) for n in shape]
    for j in range(k):
        d, left, right = nd - 1 - j, amounts[2 * j], amounts[2 * j + 1]
        lo, hi = builtins.max(0, -left), shape[d] - builtins.max(0, -right)
        n, left, right = hi - lo, builtins.max(0, left), builtins.max(0, right)
        if mode == "reflect" and not (left < n and right < n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({amounts[2 * j]}, "
                               f"{amounts[2 * j + 1]}) at dimension {d} of input "
                               f"{list(shape)}")
        if mode == "circular" and not (left <= n and right <= n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if n <= 0:
            raise RuntimeError(f"input tensor has an empty dimension {d} to pad from "
                               f"({mode} padding)")
        i = np.arange(-left, n + right)
        if mode == "reflect":
            i = np.abs(i)
            i = np.where(i > n - 1, 2 * (n - 1) - i, i)
        elif mode == "replicate":
            i = np.clip(i, 0, n - 1)
        else:
            i = i % n
        index[d] = lo + i
    op = _CIRCULAR if mode == "circular" else _PAD_NODES[mode, k]
    return apply(op, x, index=np.ix_(*index), in_shape=shape)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` at the indices ``input`` (shape ``(*input.shape, dim)``).

    Repeated indices add up in the gradient; the row ``padding_idx`` is returned but gets
    no gradient. ``max_norm`` first rescales, in place and without recording, each looked-up
    row whose ``norm_type``-norm exceeds it (to ``max_norm / (norm + 1e-7)`` times itself)."""
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("symgrad's embedding has no scale_grad_by_freq or sparse "
                                  "gradients")
    v = weight.size(0) if isinstance(weight, Tensor) and weight._data.ndim else 0
    if padding_idx is not None:
        if not isinstance(padding_idx, (int, np.integer)):
            raise TypeError(f"embedding(): argument 'padding_idx' (position 3) must be int, not "
                            f"{type(padding_idx).__name__}")
        if not -v <= padding_idx < v:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = int(padding_idx) % v
    _need_tensor("embedding", "weight", 1, weight)
    _need_tensor("embedding", "indices", 2, input)
    if weight._data.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    idx = input._data
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got symgrad."
                           f"{type_name(input)}Tensor instead (while checking arguments for "
                           f"embedding)")
    if idx.size and (idx.min() < 0 or idx.max() >= v):
        raise IndexError("index out of range in self")
    flat = idx.reshape(-1).astype(np.int64)
    if max_norm is not None:
        rows = np.unique(flat)
        with no_grad():
            norms = vector_norm(weight[rows], norm_type, dim=1)._data
            over = norms > max_norm
            if over.any():
                scale = (max_norm / (norms[over] + 1e-7))[:, None]
                weight[rows[over]] = ew.mul(weight[rows[over]], _const(scale))
    if padding_idx is not None and not (flat == padding_idx).any():
        padding_idx = None
    idx = idx.astype(np.int64, copy=False)
    if padding_idx is None:
        return apply(EMBEDDING, weight, indices=idx)
    return apply(EMBEDDING, weight, indices=idx, padding_idx=padding_idx,
                 padding_row=weight._data[padding_idx].copy())


def softsign(input: Tensor) -> Tensor:
    """``input / (1 + |input|)``."""
    return ew.div(input, ew.add(ew.abs(input), 1))


def tanhshrink(input: Tensor) -> Tensor:
    """``input - tanh(input)``."""
    return ew.sub(input, ew.tanh(input))
