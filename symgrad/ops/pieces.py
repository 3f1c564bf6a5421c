"""More ways to cut and reshape: ravel, hsplit / vsplit / dsplit, split_with_sizes and the
``unsafe_*`` splits, row_stack, adjoint, sum_to_size, narrow_copy, ``Tensor.unfold`` and
``as_strided``.

All but ``unfold`` and ``as_strided`` are compositions of recorded shape ops (as
``compose``). Those two are view records (UnfoldBackward0, AsStridedBackward0): their
results share memory with the input, as in PyTorch, so an in-place change of the input
shows in them; their rules add each entry's gradient back to the input entry it reads
(entries read more than once accumulate).
"""

from __future__ import annotations

import numpy as np

from symgrad.ops import compose as co
from symgrad.ops import shape as sh
from symgrad.ops._apply import apply
from symgrad.ops._record import REAL, register
from symgrad.ops.reduction import sum as _sum
from symgrad.ops._util import tensor_input, tensor_pair
from symgrad.tensor import Tensor, _axis, as_tensor

__all__ = ["ravel", "hsplit", "vsplit", "dsplit", "split_with_sizes", "unsafe_split",
           "unsafe_split_with_sizes", "unsafe_chunk", "row_stack", "adjoint", "sum_to_size",
           "narrow_copy", "unfold", "is_same_size", "as_strided"]

#: Functions here that torch.Tensor has no method for / torch has no function for.
NOT_METHODS = ("row_stack",)
NOT_FUNCTIONS = ("sum_to_size", "unfold")


def ravel(input: Tensor) -> Tensor:
    """The entries as a 1-d tensor (a view when the layout allows)."""
    return sh.reshape(input, (-1,))


def _directional_split(name: str, input: Tensor, indices_or_sections, dim: int,
                       min_dims: int) -> tuple[Tensor, ...]:
    """tensor_split along ``dim``; a number of sections must divide the size exactly."""
    x = as_tensor(input)
    if x._data.ndim < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, "
                           f"but got a tensor with {x._data.ndim} dimensions!")
    if isinstance(indices_or_sections, (int, np.integer)) and \
            not isinstance(indices_or_sections, bool):
        n, k = x._data.shape[dim], int(indices_or_sections)
        if k == 0 or n % k:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the "
                               f"size of the dimension {n} is not divisible by the split_size "
                               f"{k}!")
        return sh.tensor_split(x, k, dim)
    return sh.tensor_split(x, list(indices_or_sections), dim)


def hsplit(input: Tensor, indices_or_sections) -> tuple[Tensor, ...]:
    """Split into columns: along dimension 1 (0 for a vector)."""
    x = as_tensor(input)
    dim = 0 if x._data.ndim == 1 else 1
    return _directional_split("hsplit", x, indices_or_sections, dim, 1)


def vsplit(input: Tensor, indices_or_sections) -> tuple[Tensor, ...]:
    """Split into rows: along dimension 0 of a tensor with at least 2 dimensions."""
    return _directional_split("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections) -> tuple[Tensor, ...]:
    """Split along depth: dimension 2 of a tensor with at least 3 dimensions."""
    return _directional_split("dsplit", input, indices_or_sections, 2, 3)


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of the listed sizes (which must add up to the size of ``dim``)."""
    if isinstance(split_sizes, (int, np.integer)):
        raise TypeError(f"split_with_sizes(): argument 'split_sizes' (position 1) must be tuple "
                        f"of ints, not {type(split_sizes).__name__}")
    return sh.split(input, list(split_sizes), dim)


def unsafe_split(input: Tensor, split_size, dim: int = 0) -> tuple[Tensor, ...]:
    return sh.split(input, split_size, dim)


def unsafe_split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple[Tensor, ...]:
    return split_with_sizes(input, split_sizes, dim)


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    return sh.chunk(input, chunks, dim)


def row_stack(tensors) -> Tensor:
    """Another name for ``vstack``."""
    return co.vstack(tensors)


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dimensions (the transpose, for real
    tensors); a view."""
    x = as_tensor(input)
    if x._data.ndim < 2:
        raise RuntimeError("tensor.adjoint() is only supported on matrices or batches of "
                           f"matrices. Got {x._data.ndim}-D tensor.")
    return sh.transpose(x, -2, -1)


def sum_to_size(input: Tensor, *size) -> Tensor:
    """``input`` summed down to ``size``, which must expand to ``input``'s shape (the
    gradient of a broadcast, as a function)."""
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = tuple(size[0])
    x = as_tensor(input)
    shape = x._data.shape
    target = tuple(int(s) for s in size)
    lead = len(shape) - len(target)
    if lead < 0 or any(t not in (1, s) for t, s in zip(target, shape[lead:])):
        raise RuntimeError(f"size {{{list(target)}}} is not expandable to size "
                           f"{{{list(shape)}}}.")
    dims = tuple(range(lead)) + tuple(lead + i for i, (t, s) in
                                      enumerate(zip(target, shape[lead:])) if t == 1 and s != 1)
    if not dims:
        return x
    out = _sum(x, dims, keepdim=True)
    return sh.reshape(out, target) if lead else out


def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``narrow`` as a new tensor (no shared memory)."""
    return sh.narrow(input, dim, start, length).clone()


def is_same_size(input: Tensor, other: Tensor) -> bool:
    a, b = tensor_pair(input, other)
    return tuple(a._data.shape) == tuple(b._data.shape)


# ================================================================ unfold: a view of windows
def _unfold_forward(xp, x, *, index, in_shape, dim, size, step):
    """For a numeric array a strided view (windows share memory, as PyTorch's unfold);
    otherwise the entries picked by ``index``."""
    if type(x) is not np.ndarray or x.dtype == object:
        return x[index]
    n = (x.shape[dim] - size) // step + 1
    st = x.strides
    shape = x.shape[:dim] + (n,) + x.shape[dim + 1:] + (size,)
    strides = st[:dim] + (st[dim] * step,) + st[dim + 1:] + (st[dim],)
    # overlapping windows would write one entry twice: read-only, as PyTorch refuses too
    return np.lib.stride_tricks.as_strided(x, shape=shape, strides=strides,
                                           writeable=x.flags.writeable and step >= size)


def _unfold_index(shape: tuple, dim: int, size: int, step: int) -> tuple:
    """Index arrays (broadcast to the output's shape) reading the windows of ``dim``."""
    n = (shape[dim] - size) // step + 1
    out_nd = len(shape) + 1
    idx = []
    for k, s in enumerate(shape):
        axis_shape = [1] * out_nd
        if k == dim:
            axis_shape[k] = n
            win = np.arange(n).reshape(axis_shape) * step
            last = [1] * out_nd
            last[-1] = size
            idx.append(win + np.arange(size).reshape(last))
        else:
            axis_shape[k] = s
            idx.append(np.arange(s).reshape(axis_shape))
    return tuple(idx)


UNFOLD = register(
    "unfold", "UnfoldBackward0",
    forward=_unfold_forward,
    vjp=lambda xp, g, ans, x, *, index, in_shape, dim, size, step: xp.index_add(
        in_shape, index, g, like=g),
    mirror=lambda x, *, index, in_shape, dim, size, step: x[index],
    kind="shape", view=True, domain=(REAL,),
    examples=(
        (((5,),), {"index": _unfold_index((5,), 0, 2, 1), "in_shape": (5,), "dim": 0,
                   "size": 2, "step": 1}),
        (((2, 5),), {"index": _unfold_index((2, 5), 1, 2, 2), "in_shape": (2, 5), "dim": 1,
                     "size": 2, "step": 2}),
    ),
)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """All windows of ``size`` entries, ``step`` apart, along ``dimension`` (which then
    counts the windows); a new last dimension holds each window. A view of ``input``."""
    x = as_tensor(input)
    shape = x._data.shape
    nd = len(shape)
    d = _axis(dimension, max(nd, 1))
    n = shape[d] if nd else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if nd == 0:
        return sh.reshape(x, (1,))
    return apply(UNFOLD, x, index=_unfold_index(shape, d, size, step), in_shape=shape,
                 dim=d, size=int(size), step=int(step))


# ================================================================ as_strided: any strided view
def strided_positions(x: Tensor, size, stride, storage_offset: int | None) -> np.ndarray:
    """For each entry of ``as_strided(x, size, stride, storage_offset)``, the flat (C-order)
    index of the entry of ``x`` it reads. ``x`` must be contiguous (its storage positions
    are then its flat indices plus its storage offset)."""
    from symgrad._tensor_extras import storage_offset as _offset

    size, stride = tuple(int(v) for v in size), tuple(int(v) for v in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(v < 0 for v in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    if not x._data.flags.c_contiguous:
        raise NotImplementedError("symgrad's as_strided reads contiguous tensors only; call "
                                  ".contiguous() first")
    own = _offset(x)
    start = own if storage_offset is None else int(storage_offset)
    pos = np.full(size, start - own, dtype=np.int64)
    for k, (n, st) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[k] = n
        pos = pos + np.arange(n).reshape(shape) * st
    if pos.size and (pos.min() < 0 or pos.max() >= x._data.size):
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {start} are out of bounds for the tensor's "
                           f"{x._data.size} entries")
    return pos


def _as_strided_forward(xp, x, *, index, in_shape, size, strides):
    """For a numeric array a strided view of its memory (writable unless two entries share
    one place); otherwise the entries picked by ``index``."""
    if type(x) is not np.ndarray or x.dtype == object or not x.flags.c_contiguous:
        return x[index]
    flat = x.reshape(-1)
    first = int(np.ravel_multi_index(tuple(int(i.flat[0]) for i in index), in_shape)) \
        if flat.size and all(np.size(i) for i in index) else 0
    unique = np.unique(np.ravel_multi_index(index, in_shape)).size == np.size(index[0])
    return np.lib.stride_tricks.as_strided(
        flat[first:], shape=size, strides=tuple(s * x.itemsize for s in strides),
        writeable=x.flags.writeable and unique)


AS_STRIDED = register(
    "as_strided", "AsStridedBackward0",
    forward=_as_strided_forward,
    vjp=lambda xp, g, ans, x, *, index, in_shape, size, strides: xp.index_add(
        in_shape, index, g, like=g),
    mirror=lambda x, *, index, in_shape, size, strides: x[index],
    kind="shape", view=True, domain=(REAL,),
    examples=(
        (((2, 3),), {"index": np.unravel_index(np.array([[0, 1], [1, 2], [2, 3]]), (2, 3)),
                     "in_shape": (2, 3), "size": (3, 2), "strides": (1, 1)}),
    ),
)


def as_strided(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """The view of ``input``'s memory with the given ``size`` and ``stride`` (in entries),
    starting ``storage_offset`` entries into its storage (default: where ``input`` starts).
    Entries read twice get both gradients."""
    x = tensor_input(input)
    pos = strided_positions(x, size, stride, storage_offset)
    if not x._data.ndim:
        x = sh.reshape(x, (1,))
    return apply(AS_STRIDED, x, index=np.unravel_index(pos, x._data.shape),
                 in_shape=x._data.shape, size=tuple(int(v) for v in size),
                 strides=tuple(int(v) for v in stride))
