"""Arranging entries: atleast_1d/2d/3d, broadcast_tensors, block_diag, diag_embed, diagflat,
rot90, take, dstack, column_stack, cartesian_prod, combinations.

Compositions of recorded shape and selection ops (as ``compose``): no rule or mirror of
their own, so their gradients are those of the ops the table already proves. PyTorch
implements these as compositions too, so its graphs show the same kinds of nodes.
"""

from __future__ import annotations

import builtins
import itertools

import numpy as np

from symgrad import _dtype
from symgrad.ops import compose as co
from symgrad.ops import elementwise as ew
from symgrad.ops import shape as sh
from symgrad.ops._util import tensor_input, tensor_items
from symgrad.tensor import Size, Tensor, _axis, as_tensor

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_tensors", "broadcast_shapes",
           "block_diag", "diag_embed", "diagflat", "rot90", "take", "dstack", "column_stack",
           "cartesian_prod", "combinations"]

#: Functions here that torch.Tensor has no method for.
NOT_METHODS = ("atleast_1d", "atleast_2d", "atleast_3d", "broadcast_tensors",
               "broadcast_shapes", "block_diag", "dstack", "column_stack", "cartesian_prod",
               "combinations")


def _const(a: np.ndarray) -> Tensor:
    return Tensor._wrap(np.asarray(a))


def _sequence(tensors: tuple) -> tuple[list, bool]:
    """``f(a, b)`` and ``f([a, b])`` both mean the tensors a, b; the flag says whether a
    single tensor was given (then a single tensor is returned)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tensor_items(tensors[0]), False
    return tensor_items(tensors), len(tensors) == 1


# ================================================================ atleast_nd
def _at_least_1d(t: Tensor) -> Tensor:
    return sh.reshape(t, (1,)) if t._data.ndim == 0 else t


def _at_least_2d(t: Tensor) -> Tensor:
    if t._data.ndim >= 2:
        return t
    return sh.unsqueeze(_at_least_1d(t), 0)


def _at_least_3d(t: Tensor) -> Tensor:
    """(n,) -> (1, n, 1) and (m, n) -> (m, n, 1), as PyTorch and numpy."""
    nd = t._data.ndim
    if nd >= 3:
        return t
    if nd == 2:
        return sh.unsqueeze(t, 2)
    return sh.unsqueeze(sh.unsqueeze(_at_least_1d(t), 0), 2)


def _each(fn, tensors: tuple) -> Tensor | tuple[Tensor, ...]:
    ts, single = _sequence(tensors)
    out = tuple(fn(as_tensor(t)) for t in ts)
    return out[0] if single else out


def atleast_1d(*tensors) -> Tensor | tuple[Tensor, ...]:
    """Each tensor with at least one dimension (a 0-d one becomes shape (1,))."""
    return _each(_at_least_1d, tensors)


def atleast_2d(*tensors) -> Tensor | tuple[Tensor, ...]:
    """Each tensor with at least two dimensions (new ones in front)."""
    return _each(_at_least_2d, tensors)


def atleast_3d(*tensors) -> Tensor | tuple[Tensor, ...]:
    """Each tensor with at least three dimensions ((n,) becomes (1, n, 1))."""
    return _each(_at_least_3d, tensors)


# ================================================================ broadcasting
def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of ``shapes`` broadcast to."""
    norm = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    try:
        return Size(np.broadcast_shapes(*norm))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape "
                           f"({', '.join(str(list(s)) for s in norm)})") from None


def broadcast_tensors(*tensors) -> tuple[Tensor, ...]:
    """The tensors expanded to their common broadcast shape (views; gradients sum back)."""
    ts = [as_tensor(t) for t in _sequence(tensors)[0]]
    shape = tuple(broadcast_shapes(*[t._data.shape for t in ts]))
    return tuple(t if t._data.shape == shape else sh.expand(t, shape) for t in ts)


# ================================================================ diagonals and blocks
def block_diag(*tensors) -> Tensor:
    """The tensors (0-d as 1x1, 1-d as one row) as blocks along a diagonal, zeros elsewhere."""
    ts = tensor_items(tensors)
    for k, t in enumerate(ts):
        if t._data.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {k} has {t._data.ndim} dimensions")
    if not ts:
        return Tensor._wrap(np.zeros((1, 0), dtype=_dtype.get_default_dtype().np))
    ordered = [t for t in ts if t._data.ndim] + [t for t in ts if not t._data.ndim]
    dt = ordered[0]._data.dtype
    for t in ordered[1:]:
        dt = _dtype.result_type(np.empty((1,) * ordered[0]._data.ndim, dt), t._data)
    ts = [_at_least_2d(t) for t in ts]
    ts = [t if t._data.dtype == dt else t.to(_dtype.from_numpy_dtype(dt)) for t in ts]
    cols = builtins.sum(t._data.shape[1] for t in ts)
    rows, left = [], 0
    for t in ts:
        r, c = t._data.shape
        pad_l = _const(np.zeros((r, left), dtype=dt))
        pad_r = _const(np.zeros((r, cols - left - c), dtype=dt))
        rows.append(sh.cat([pad_l, t, pad_r], 1))
        left += c
    return sh.cat(rows, 0)


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Each last-dimension vector of ``input`` as the ``offset``-th diagonal of a square
    matrix in the dimensions ``dim1``, ``dim2`` of the result (one dimension more)."""
    x = as_tensor(input)
    if x._data.ndim == 0:
        raise IndexError("Dimension out of range (diag_embed needs at least 1 dimension)")
    nd = x._data.ndim + 1
    d1, d2 = _axis(dim1, nd), _axis(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    k = x._data.shape[-1]
    n = k + builtins.abs(offset)
    zeros = _const(np.zeros(x._data.shape[:-1] + (n - k,), dtype=x._data.dtype))
    padded = sh.cat([x, zeros], -1)                        # the vector, then zeros: length n
    r, c = np.indices((n, n))
    on_diagonal = _const(c - r == offset)
    # above the main diagonal the row picks the entry, below it the column does
    spread = sh.unsqueeze(padded, -1 if offset >= 0 else -2)
    out = ew.where(on_diagonal, spread, 0)
    if out._data.dtype != x._data.dtype:
        out = out.to(_dtype.from_numpy_dtype(x._data.dtype))
    return sh.movedim(out, (nd - 2, nd - 1), (d1, d2)) if (d1, d2) != (nd - 2, nd - 1) else out


def diagflat(input, offset: int = 0) -> Tensor:
    """The flattened input as the ``offset``-th diagonal of a square matrix."""
    return co.diag(sh.reshape(tensor_input(input), (-1,)), offset)


# ================================================================ rotation, take
def rot90(input, k: int = 1, dims=(0, 1)) -> Tensor:
    """``input`` rotated by 90 degrees ``k`` times in the plane ``dims``, from the first
    axis towards the second (as numpy's rot90)."""
    x = as_tensor(input)
    dims = list(dims)
    nd = x._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    for d in dims:    # PyTorch wraps the dims (IndexError) before comparing them
        if not -nd <= d < nd:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, "
                             f"{nd - 1}], but got {d})")
    if dims[0] == dims[1] or (dims[0] - dims[1]) % nd == 0:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} "
                           f"and dim1 = {dims[1]}")
    a, b = dims[0] % nd, dims[1] % nd
    k %= 4
    if k == 0:
        return sh.clone(x)
    if k == 2:
        return sh.flip(x, (a, b))
    return sh.transpose(sh.flip(x, (b,) if k == 1 else (a,)), a, b)


def take(input, index) -> Tensor:
    """The entries of the flattened ``input`` at ``index`` (negative ones count from the
    end), in the shape of ``index``."""
    x = as_tensor(input)
    if not isinstance(index, Tensor):
        raise TypeError(f"take(): argument 'index' (position 2) must be Tensor, not "
                        f"{type(index).__name__}")
    idx = index._data
    if idx.dtype != np.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{index.dtype.name.capitalize()}")
    n = x._data.size
    bad = (idx < -n) | (idx >= n)
    if bad.any():
        raise IndexError(f"out of range: tried to access index {int(idx[bad].flat[0])} on a "
                         f"tensor of {n} elements.")
    idx = idx % builtins.max(n, 1)
    if idx.ndim == 0:   # numpy would read a 0-d index as a basic one: a view, not a copy
        return sh.reshape(sh.reshape(x, (-1,))[_const(idx.reshape(1))], ())
    return sh.reshape(x, (-1,))[_const(idx)]


# ================================================================ stacking
def _non_empty(tensors, name: str) -> None:
    if len(tensors) == 0:
        raise RuntimeError(f"{name} expects a non-empty TensorList")


def dstack(tensors) -> Tensor:
    """Join along the third dimension, after ``atleast_3d``."""
    _non_empty(tensors, "dstack")
    return sh.cat([_at_least_3d(as_tensor(t)) for t in tensors], 2)


def column_stack(tensors) -> Tensor:
    """Join as columns: 0-d and 1-d tensors become columns (n, 1), others join along dim 1."""
    _non_empty(tensors, "column_stack")
    cols = []
    for t in tensors:
        t = as_tensor(t)
        cols.append(sh.reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t)
    return sh.cat(cols, 1)


# ================================================================ products of index sets
def _vectors(tensors, name: str) -> list[Tensor]:
    ts = [as_tensor(t) for t in tensors]
    for t in ts:
        if t._data.ndim != 1:
            raise RuntimeError(f"{name}: Expect a 1D vector, but got shape {list(t._data.shape)}")
    return ts


def cartesian_prod(*tensors) -> Tensor:
    """Every combination of one entry from each 1-d tensor, as rows (numpy's product order)."""
    ts = _vectors(tensors, "Expect a 1D vector")
    if len({t._data.dtype for t in ts}) > 1:
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    if len(ts) == 1:
        return ts[0]
    grids = co.meshgrid(*ts, indexing="ij")
    return sh.stack([sh.reshape(g, (-1,)) for g in grids], 1)


def combinations(input, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of the entries of a 1-d tensor, as rows (itertools'
    order); with ``with_replacement`` an entry may repeat."""
    (x,) = _vectors([input], "Expect a 1D vector")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    n = x._data.shape[0]
    if r == 0:
        return Tensor._wrap(np.zeros((0,), dtype=x._data.dtype))
    pick = (itertools.combinations_with_replacement if with_replacement
            else itertools.combinations)
    rows = list(pick(range(n), r))
    idx = np.asarray(rows, dtype=np.int64).reshape(len(rows), r)
    return x[_const(idx)]
