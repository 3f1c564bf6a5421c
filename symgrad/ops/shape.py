"""Shape ops: reshape/view, transpose/t/permute, expand, squeeze/unsqueeze, indexing, casts.

Most of them are views in numpy (no copy); their rules only move the gradient back to
the argument's layout.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgrad import _dtype
from symgrad.ops._apply import apply
from symgrad.ops._record import REAL, register
from symgrad.ops._util import size_args
from symgrad.tensor import Tensor, _axis

__all__ = ["cat", "concat", "concatenate", "stack", "reshape", "view", "flatten", "transpose",
           "t", "numpy_T", "permute", "expand", "broadcast_to", "squeeze", "unsqueeze", "index",
           "to_dtype", "clone", "view_as", "reshape_as", "expand_as", "swapaxes", "movedim",
           "unflatten"]


# ================================================================ reshape / view
RESHAPE = register(
    "reshape", "ViewBackward0",
    forward=lambda xp, x, *, shape: xp.reshape(x, shape),
    vjp=lambda xp, g, ans, x, *, shape: xp.reshape(g, x.shape),
    mirror=lambda x, *, shape: np.reshape(x, shape),
    kind="shape", view=True, domain=(REAL,),
    examples=((((2, 3),), {"shape": (3, 2)}), (((2, 3),), {"shape": (6,)})),
)


def _infer_shape(shape: tuple[int, ...], numel: int) -> tuple[int, ...]:
    if sum(1 for s in shape if s == -1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"invalid shape dimension {min(shape)}")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def reshape(input: Tensor, *shape) -> Tensor:
    """The same entries in a new shape (one dimension may be -1)."""
    new = _infer_shape(size_args(shape), input._data.size)
    if new == input._data.shape:
        return apply(RESHAPE, input, shape=new)
    return apply(RESHAPE, input, shape=new)


def view(input: Tensor, *shape) -> Tensor:
    """Like ``reshape``, but only where no copy is needed (as PyTorch's ``view``)."""
    if len(shape) == 1 and isinstance(shape[0], (_dtype.dtype, type)):
        raise NotImplementedError("view(dtype) reinterprets bits; symgrad does not support it")
    new = _infer_shape(size_args(shape), input._data.size)
    probe = input._data.view()
    try:
        probe.shape = new
    except AttributeError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        ) from None
    return apply(RESHAPE, input, shape=new)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return view(input, tuple(other.shape))


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, tuple(other.shape))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim`` ... ``end_dim`` into one."""
    shape = input._data.shape
    if not shape:
        return reshape(input, 1)
    s, e = _axis(start_dim, len(shape)), _axis(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    return reshape(input, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    shape = input._data.shape
    d = _axis(dim, len(shape))
    sizes = tuple(sizes)
    if -1 in sizes:
        sizes = _infer_shape(sizes, shape[d])
    return reshape(input, shape[:d] + sizes + shape[d + 1:])


# ================================================================ transposes
TRANSPOSE = register(
    "transpose", "TransposeBackward0",
    forward=lambda xp, x, *, dim0, dim1: xp.swapaxes(x, dim0, dim1),
    vjp=lambda xp, g, ans, x, *, dim0, dim1: xp.swapaxes(g, dim0, dim1),
    mirror=lambda x, *, dim0, dim1: np.swapaxes(x, dim0, dim1),
    kind="shape", view=True, domain=(REAL,), params={"dim0": (0,), "dim1": (1,)},
)
T = TRANSPOSE.variant("TBackward0")


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    n = input._data.ndim
    d0, d1 = _axis(dim0, n), _axis(dim1, n)
    if n == 0:
        return _identity_view(input)
    return apply(TRANSPOSE, input, dim0=d0, dim1=d1)


swapaxes = transpose


def t(input: Tensor) -> Tensor:
    """Transpose of a matrix; 0-d and 1-d tensors are returned as they are."""
    n = input._data.ndim
    if n > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {n}D")
    if n < 2:
        return apply(T, input, dim0=0, dim1=0) if n == 1 else _identity_view(input)
    return apply(T, input, dim0=0, dim1=1)


def _identity_view(input: Tensor) -> Tensor:
    return apply(RESHAPE, input, shape=input._data.shape)


PERMUTE = register(
    "permute", "PermuteBackward0",
    forward=lambda xp, x, *, dims: xp.transpose(x, dims),
    vjp=lambda xp, g, ans, x, *, dims: xp.transpose(g, tuple(np.argsort(dims))),
    mirror=lambda x, *, dims: np.transpose(x, dims),
    kind="shape", view=True, domain=(REAL,),
    examples=((((2, 3),), {"dims": (1, 0)}), (((2, 3, 2),), {"dims": (2, 0, 1)})),
)


def permute(input: Tensor, *dims) -> Tensor:
    """Reorder the dimensions."""
    n = input._data.ndim
    dims = size_args(dims) if dims else ()
    if len(dims) != n:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {n} is not equal to len(dims) = {len(dims)}")
    dims = tuple(_axis(d, n) for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return apply(PERMUTE, input, dims=dims)


def numpy_T(input: Tensor) -> Tensor:
    """``t.T``: all dimensions reversed."""
    n = input._data.ndim
    return apply(PERMUTE, input, dims=tuple(range(n - 1, -1, -1)))


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dimensions ``source`` to positions ``destination``, keeping the others in order."""
    n = input._data.ndim
    src = [_axis(d, n) for d in ((source,) if isinstance(source, int) else source)]
    dst = [_axis(d, n) for d in ((destination,) if isinstance(destination, int) else destination)]
    if len(src) != len(dst):
        raise RuntimeError("movedim: Invalid source or destination dims: source and destination "
                           "must have the same number of dims")
    order: list = [None] * n
    for s_, d_ in zip(src, dst):
        order[d_] = s_
    rest = iter(d for d in range(n) if d not in src)
    return apply(PERMUTE, input, dims=tuple(o if o is not None else next(rest) for o in order))


# ================================================================ broadcasting views
EXPAND = register(
    "expand", "ExpandBackward0",
    forward=lambda xp, x, *, shape: xp.broadcast_to(x, shape),
    vjp=lambda xp, g, ans, x, *, shape: g,
    mirror=lambda x, *, shape: np.broadcast_to(x, shape),
    kind="shape", view=True, domain=(REAL,),
    examples=((((3, 1),), {"shape": (2, 3, 4)}),),
)


def expand(input: Tensor, *sizes) -> Tensor:
    """A broadcast view with ``sizes`` (-1 keeps a dimension)."""
    sizes = size_args(sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({len(shape)})")
    lead = len(sizes) - len(shape)
    new = []
    for i, s in enumerate(sizes):
        old = shape[i - lead] if i >= lead else None
        if s == -1:
            if old is None:
                raise RuntimeError("expand: -1 is not allowed in a leading, non-existing dimension")
            s = old
        if old is not None and old != 1 and old != s:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({old}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(shape)}")
        new.append(s)
    return apply(EXPAND, input, shape=tuple(new))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, tuple(other.shape))


def broadcast_to(input: Tensor, size) -> Tensor:
    return expand(input, tuple(size))


SQUEEZE = register(
    "squeeze", "SqueezeBackward0",
    forward=lambda xp, x, *, dim: xp.squeeze(x, axis=dim),
    vjp=lambda xp, g, ans, x, *, dim: xp.reshape(g, x.shape),
    mirror=lambda x, *, dim: np.squeeze(x, axis=dim),
    kind="shape", view=True, domain=(REAL,),
    examples=((((2, 1, 3),), {"dim": (1,)}),),
)
SQUEEZE_DIM = SQUEEZE.variant("SqueezeBackward1")


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Drop dimensions of size 1 (all of them, or those in ``dim`` that have size 1)."""
    shape = input._data.shape
    if dim is None:
        dims = tuple(i for i, s in enumerate(shape) if s == 1)
        return apply(SQUEEZE, input, dim=dims)
    ds = (dim,) if isinstance(dim, int) else tuple(dim)
    dims = tuple(sorted({_axis(d, len(shape)) for d in ds} if shape else ()))
    dims = tuple(d for d in dims if shape[d] == 1)
    return apply(SQUEEZE_DIM, input, dim=dims)


UNSQUEEZE = register(
    "unsqueeze", "UnsqueezeBackward0",
    forward=lambda xp, x, *, dim: xp.expand_dims(x, dim),
    vjp=lambda xp, g, ans, x, *, dim: xp.squeeze(g, axis=dim),
    mirror=lambda x, *, dim: np.expand_dims(x, dim),
    kind="shape", view=True, domain=(REAL,), params={"dim": (0, 1)},
)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim``."""
    n = input._data.ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return apply(UNSQUEEZE, input, dim=dim % n)


# ================================================================ joining (variadic)
def _cat_vjp(xp, g, ans, *tensors, i, dim):
    start = sum(t.shape[dim] for t in tensors[:i])
    return g[(slice(None),) * dim + (slice(start, start + tensors[i].shape[dim]),)]


CAT = register(
    "cat", "CatBackward0",
    forward=lambda xp, *tensors, dim: xp.concatenate(tensors, axis=dim),
    vjp=_cat_vjp,
    mirror=lambda *tensors, dim: np.concatenate(tensors, axis=dim),
    kind="shape", variadic=True,
    examples=((((2, 3), (1, 3)), {"dim": 0}), (((2, 1), (2, 2), (2, 1)), {"dim": 1})),
)


def _tensor_list(tensors, name: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' must be a tuple or list of Tensors, "
                        f"not {type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{name}(): expected a non-empty list of Tensors")
    return [t if isinstance(t, Tensor) else Tensor._wrap(np.asarray(t)) for t in tensors]


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    ts = _tensor_list(tensors, "cat")
    ref = ts[0]._data
    d = _axis(dim, ref.ndim)
    for k, t in enumerate(ts[1:], start=1):
        s, r = t._data.shape, ref.shape
        if len(s) != len(r) or any(a != b for j, (a, b) in enumerate(zip(s, r)) if j != d):
            raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected "
                               f"size {r} but got size {s} for tensor number {k} in the list.")
    return apply(CAT, *ts, dim=d)


concat = concatenate = cat

STACK = register(
    "stack", "StackBackward0",
    forward=lambda xp, *tensors, dim: xp.stack(tensors, axis=dim),
    vjp=lambda xp, g, ans, *tensors, i, dim: g[(slice(None),) * dim + (i,)],
    mirror=lambda *tensors, dim: np.stack(tensors, axis=dim),
    kind="shape", variadic=True,
    examples=((((2, 3), (2, 3)), {"dim": 0}), (((2,), (2,), (2,)), {"dim": 1})),
)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new dimension."""
    ts = _tensor_list(tensors, "stack")
    shape = ts[0]._data.shape
    for k, t in enumerate(ts[1:], start=1):
        if t._data.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} "
                               f"at entry 0 and {list(t._data.shape)} at entry {k}")
    return apply(STACK, *ts, dim=_axis(dim, len(shape) + 1))


# ================================================================ indexing
INDEX = register(
    "index", "IndexBackward0",
    forward=lambda xp, x, *, index: x[index],
    vjp=lambda xp, g, ans, x, *, index: xp.index_add(x.shape, index, g, like=g),
    mirror=lambda x, *, index: x[index],
    kind="shape", view=True, domain=(REAL,),
    examples=((((3, 4),), {"index": (slice(0, 2), 1)}), (((4,),), {"index": np.array([0, 2, 2])}),
              (((3, 2),), {"index": np.array([[True, False], [False, True], [True, True]])})),
)
SELECT = INDEX.variant("SelectBackward0")
SLICE = INDEX.variant("SliceBackward0")
UNSQUEEZE_INDEX = INDEX.variant("UnsqueezeBackward0")


def _norm_index(index: Any) -> Any:
    """Tensors in an index become numpy arrays; lists become integer or boolean arrays."""
    if isinstance(index, tuple):
        return tuple(_norm_index_item(i) for i in index)
    return _norm_index_item(index)


def _norm_index_item(i: Any) -> Any:
    if isinstance(i, Tensor):
        a = i._data
        if a.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return a
    if isinstance(i, list):
        a = np.asarray(i)
        if a.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return a
    return i


def index(input: Tensor, index: Any) -> Tensor:
    """``input[index]``: ints, slices (with steps), None, ..., integer and boolean arrays."""
    idx = _norm_index(index)
    items = idx if isinstance(idx, tuple) else (idx,)
    if any(isinstance(i, slice) and i.step is not None and i.step <= 0 for i in items):
        raise ValueError("step must be greater than zero")
    advanced = any(isinstance(i, np.ndarray) for i in items)
    if advanced:
        op = INDEX
    elif all(isinstance(i, (int, np.integer)) for i in items):
        op = SELECT
    elif all(i is None for i in items):
        op = UNSQUEEZE_INDEX
    else:
        op = SLICE
    try:
        return apply(op, input, index=idx)
    except IndexError as e:
        raise IndexError(f"{e} (indexing a tensor of shape {tuple(input.shape)})") from None


# ================================================================ copies and casts
CLONE = register(
    "clone", "CloneBackward0",
    forward=lambda xp, x: x.copy() if hasattr(x, "copy") else x,
    vjp=lambda xp, g, ans, x: g,
    mirror=lambda x: np.array(x, dtype=object),
    kind="shape", domain=(REAL,),
)


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy that stays in the graph (gradients flow back to ``input``)."""
    return apply(CLONE, input)


TO_DTYPE = register(
    "to_dtype", "ToCopyBackward0",
    forward=lambda xp, x, *, dtype: xp.astype(x, dtype),
    vjp=lambda xp, g, ans, x, *, dtype: g,
    mirror=lambda x, *, dtype: x,
    kind="shape", domain=(REAL,),
    examples=((((2, 3),), {"dtype": np.dtype(np.float64)}),),
)


def to_dtype(input: Tensor, dtype) -> Tensor:
    """``input`` converted to ``dtype`` (differentiable between floating dtypes)."""
    target = _dtype.to_np(dtype)
    if input._data.dtype == object:
        return input
    if target == input._data.dtype:
        return input
    out = apply(TO_DTYPE, input, dtype=target)
    if target.kind != "f" and out._requires_grad:
        return out.detach()
    return out
