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
from symgrad.ops._util import norm_dims
from symgrad.ops.reduction import _named_result, return_types
from symgrad.ops.reduction import sum as _sum
from symgrad.ops.scatter import take_along_dim
from symgrad.tensor import Tensor, _axis, as_tensor

__all__ = ["addcmul", "addcdiv", "lerp", "logaddexp", "exp2", "hypot", "logit", "frac",
           "tril", "triu", "diagonal", "diag", "trace", "nan_to_num", "masked_select", "sort",
           "argsort", "topk", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "all",
           "any", "isclose", "allclose", "equal", "count_nonzero", "type_as", "hstack",
           "vstack", "tile", "repeat_interleave", "scatter_add", "scatter", "index_add",
           "var_mean", "std_mean", "meshgrid"]

#: Functions here that torch.Tensor has no method for.
NOT_METHODS = ("hstack", "vstack", "var_mean", "std_mean", "meshgrid")


def _const(a: np.ndarray) -> Tensor:
    return Tensor._wrap(np.asarray(a))


# ================================================================ arithmetic
def addcmul(input, tensor1, tensor2, *, value=1) -> Tensor:
    """``input + value * tensor1 * tensor2``."""
    return ew.add(input, ew.mul(ew.mul(tensor1, tensor2), value))


def addcdiv(input, tensor1, tensor2, *, value=1) -> Tensor:
    """``input + value * tensor1 / tensor2``."""
    return ew.add(input, ew.mul(ew.div(tensor1, tensor2), value))


def lerp(input, end, weight) -> Tensor:
    """``input + weight * (end - input)``."""
    return ew.add(input, ew.mul(weight, ew.sub(end, input)))


def logaddexp(input, other) -> Tensor:
    """``log(exp(input) + exp(other))`` without overflow: shifted by the larger argument
    (a constant, so the gradient is exactly the softmax weights)."""
    a, b = as_tensor(input), as_tensor(other)
    with np.errstate(all="ignore"):
        m = np.maximum(a._data, b._data)
        m = np.where(np.isfinite(m), m, 0.0)
    shift = _const(m)
    return ew.add(shift, ew.log(ew.add(ew.exp(ew.sub(a, shift)), ew.exp(ew.sub(b, shift)))))


def exp2(input) -> Tensor:
    """``2 ** input``."""
    x = as_tensor(input)
    if x._data.dtype.kind in "biu":
        x = x.to(_dtype.get_default_dtype())
    return ew.pow(2.0, x)


def hypot(input, other) -> Tensor:
    """``sqrt(input**2 + other**2)``, scaled by the larger magnitude so it neither
    overflows nor underflows where the result itself is representable."""
    a, b = as_tensor(input), as_tensor(other)
    with np.errstate(all="ignore"):
        m = np.maximum(np.abs(a._data), np.abs(b._data))
        m = np.where((m == 0) | ~np.isfinite(m), 1.0, m)
    s = _const(m)
    return ew.mul(s, ew.sqrt(ew.add(ew.square(ew.div(a, s)), ew.square(ew.div(b, s)))))


def logit(input, eps: float | None = None) -> Tensor:
    """``log(p / (1 - p))``; with ``eps``, ``p`` is first clamped to [eps, 1 - eps]."""
    p = as_tensor(input)
    if eps is not None:
        p = ew.clamp(p, eps, 1 - eps)
    return ew.sub(ew.log(p), ew.log1p(ew.neg(p)))


def frac(input) -> Tensor:
    """The fractional part, ``input - trunc(input)`` (its derivative is 1)."""
    return ew.sub(input, ew.trunc(input))


# ================================================================ triangles and diagonals
def _triangle(input, diagonal: int, lower: bool, name: str) -> Tensor:
    x = as_tensor(input)
    if x._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    r, c = x._data.shape[-2:]
    keep = np.tril(np.ones((r, c), dtype=bool), diagonal) if lower else \
        np.triu(np.ones((r, c), dtype=bool), diagonal)
    # where, not a product with the mask: inf * 0 would be nan where PyTorch gives 0
    return ew.where(_const(keep), x, 0)


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
    moved = sh.movedim(x, (d1, d2), (-2, -1))
    i, j = _diag_index(*moved._data.shape[-2:], offset)
    return moved[..., i, j]


_diagonal_of = diagonal  # ``diag``'s parameter is named ``diagonal`` too, as in PyTorch


def diag(input, diagonal: int = 0) -> Tensor:
    """A 1-d input as the ``diagonal``-th diagonal of a square matrix; a 2-d input's
    ``diagonal``-th diagonal."""
    x = as_tensor(input)
    if x._data.ndim == 2:
        return _diagonal_of(x, diagonal)
    if x._data.ndim != 1:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x._data.ndim}D")
    n = x._data.shape[0] + abs(diagonal)
    i, j = _diag_index(n, n, diagonal)
    from symgrad.ops.inplace import index_put

    zeros = Tensor._wrap(np.zeros((n, n), dtype=x._data.dtype))
    return index_put(zeros, (i, j), x)


def trace(input) -> Tensor:
    """The sum of a matrix's diagonal."""
    x = as_tensor(input)
    if x._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x._data.ndim}")
    return _sum(diagonal(x))


# ================================================================ selection
def nan_to_num(input, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """nan, +inf and -inf replaced (by 0 and the dtype's largest and smallest finite
    values unless given); the gradient passes only where the input was finite."""
    x = as_tensor(input)
    if x._data.dtype.kind != "f":
        return x.clone()
    info = np.finfo(x._data.dtype)
    hi = info.max if posinf is None else posinf
    lo = info.min if neginf is None else neginf
    d = x._data
    repl = np.where(np.isnan(d), nan, np.where(d > 0, hi, lo)).astype(d.dtype)
    return ew.where(_const(np.isfinite(d)), x, _const(repl))


def masked_select(input, mask) -> Tensor:
    """The entries of ``input`` where the (broadcast) boolean ``mask`` holds, as 1-d."""
    x, m = as_tensor(input), as_tensor(mask)
    if m._data.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {m.dtype}")
    shape = np.broadcast_shapes(x._data.shape, m._data.shape)
    xb = sh.expand(x, shape) if x._data.shape != shape else x
    return xb[np.broadcast_to(m._data, shape)]


# (values, indices), printed as PyTorch prints torch.return_types.sort / .topk
return_types.sort = _named_result("sort")
return_types.topk = _named_result("topk")


def _order(data: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """Stable argsort along ``dim``; descending keeps equal entries in their order and puts
    nan first (nan counts as the largest value, as in PyTorch)."""
    if not descending:
        return np.argsort(data, axis=dim, kind="stable")
    n = data.shape[dim]
    rev = np.argsort(np.flip(data, dim), axis=dim, kind="stable")
    return np.flip(n - 1 - rev, dim)


def sort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    """``(values, indices)`` sorted along ``dim`` (stable, whatever ``stable`` says)."""
    x = as_tensor(input)
    if x._data.ndim == 0:
        return return_types.sort(x.clone(), Tensor._wrap(np.zeros((), dtype=np.int64)))
    d = _axis(dim, x._data.ndim)
    idx = _order(x._data, d, descending)
    return return_types.sort(take_along_dim(x, idx, d), Tensor._wrap(idx.astype(np.int64)))


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
    if nd == 0:
        return return_types.topk(x.clone(), Tensor._wrap(np.zeros((), dtype=np.int64)))
    idx = np.take(_order(x._data, d, largest), np.arange(k), axis=d)
    return return_types.topk(take_along_dim(x, idx, d), Tensor._wrap(idx.astype(np.int64)))


# ================================================================ predicates (no gradient)
def _bool(a: np.ndarray) -> Tensor:
    return Tensor._wrap(np.asarray(a, dtype=bool))


def isnan(input) -> Tensor:
    return _bool(np.isnan(as_tensor(input)._data))


def isinf(input) -> Tensor:
    return _bool(np.isinf(as_tensor(input)._data))


def isfinite(input) -> Tensor:
    return _bool(np.isfinite(as_tensor(input)._data))


def isposinf(input) -> Tensor:
    return _bool(np.isposinf(as_tensor(input)._data))


def isneginf(input) -> Tensor:
    return _bool(np.isneginf(as_tensor(input)._data))


def _dims(input: Tensor, dim) -> Any:
    # A 0-d tensor takes dim 0 / -1 (as PyTorch) but numpy has no axis to reduce: ().
    return norm_dims(dim, input._data.ndim)


def all(input, dim=None, keepdim: bool = False) -> Tensor:
    """True where every entry (along ``dim``) is nonzero."""
    x = as_tensor(input)
    return _bool(np.all(x._data, axis=_dims(x, dim), keepdims=keepdim))


def any(input, dim=None, keepdim: bool = False) -> Tensor:
    """True where some entry (along ``dim``) is nonzero."""
    x = as_tensor(input)
    return _bool(np.any(x._data, axis=_dims(x, dim), keepdims=keepdim))


def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """``|input - other| <= atol + rtol * |other|`` entry by entry."""
    return _bool(np.isclose(as_tensor(input)._data, as_tensor(other)._data, rtol=rtol,
                            atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when every entry is ``isclose``."""
    return builtins.bool(np.all(isclose(input, other, rtol, atol, equal_nan)._data))


def equal(input, other) -> bool:
    """True when both tensors have the same shape and entries."""
    a, b = as_tensor(input)._data, as_tensor(other)._data
    return a.shape == b.shape and builtins.bool(np.array_equal(a, b))


def count_nonzero(input, dim=None) -> Tensor:
    """The number of nonzero entries (along ``dim``; an empty ``dim`` counts them all)."""
    x = as_tensor(input)
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
    x = as_tensor(input)
    dims = tuple(dims) if not isinstance(dims, int) else (dims,)
    dims = (1,) * builtins.max(0, x._data.ndim - len(dims)) + dims
    return sh.repeat(x, *dims)


def repeat_interleave(input, repeats, dim: int | None = None) -> Tensor:
    """Each slice along ``dim`` repeated ``repeats`` times in place (a flattened input
    when ``dim`` is None); the gradient adds the copies back."""
    x = as_tensor(input)
    if dim is None:
        x, dim = sh.reshape(x, (-1,)), 0
    d = _axis(dim, builtins.max(x._data.ndim, 1))
    reps = np.asarray(repeats._data if isinstance(repeats, Tensor) else repeats)
    if reps.dtype.kind not in "iu" or np.any(reps < 0):
        raise RuntimeError("repeats must be non-negative integers")
    index = np.repeat(np.arange(x._data.shape[d]), reps)
    return sh.index_select(x, d, Tensor._wrap(index.astype(np.int64)))


def _scatter_src(src, index: np.ndarray, like: Tensor) -> Tensor:
    if not isinstance(src, Tensor):  # a number: the same value at every index
        return Tensor._wrap(np.full(index.shape, src, dtype=like._data.dtype))
    if src._data.shape != index.shape:  # PyTorch reads src only where index has entries
        src = src[tuple(slice(0, n) for n in index.shape)]
    return src


def scatter_add(input, dim: int, index, src) -> Tensor:
    """``input`` with ``src[...]`` added at ``index`` along ``dim`` (repeats add up)."""
    from symgrad.ops.scatter import _indices, put_along_dim

    x = as_tensor(input)
    idx = _indices(index)
    d = _axis(dim, x._data.ndim)
    return ew.add(x, put_along_dim(_scatter_src(src, idx, x), x._data.shape, idx, d))


def scatter(input, dim: int, index, src=None, *, value=None, reduce=None) -> Tensor:
    """``input`` with ``src`` (or ``value``) written at ``index`` along ``dim``.

    Where an index repeats, the last write in row-major order wins, as on PyTorch's CPU
    (where PyTorch leaves it unspecified); the writes it replaces get no gradient."""
    from symgrad.ops.scatter import _indices, put_along_dim

    if reduce is not None:
        raise NotImplementedError("scatter(reduce=...) is not supported; use scatter_add")
    x = as_tensor(input)
    idx = _indices(index)
    d = _axis(dim, x._data.ndim)
    written = np.zeros(x._data.shape, dtype=bool)
    np.put_along_axis(written, idx, True, d)
    values = _scatter_src(src if src is not None else value, idx, x)
    last = _last_writes(idx, d, x._data.shape)
    if last is not None:   # one write per position: put_along_dim adds the writes up
        values = ew.where(_const(last), values, 0)
    new = put_along_dim(values, x._data.shape, idx, d)
    return ew.where(_const(written), new, x)


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
    """``input`` with ``alpha * source`` slices added at positions ``index`` of ``dim``."""
    from symgrad.ops.scatter import _indices, index_add_into

    x = as_tensor(input)
    idx = _indices(index)
    d = _axis(dim, builtins.max(x._data.ndim, 1))
    src = as_tensor(source) if alpha == 1 else ew.mul(source, alpha)
    where_ = (slice(None),) * d + (idx,)
    return ew.add(x, index_add_into(src, x._data.shape, where_))


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
    ts = [as_tensor(t) for t in tensors]
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
