"""Shape ops: reshape/view, transposes, expand, squeeze, indexing, splitting, joining.

Most of them only move entries around, so their rules only move the gradient back to the
argument's layout. Every way of reading entries at positions (``t[i]``, ``t[1:3]``,
``t[mask]``, ``select``, ``narrow``, ``split``, ``unbind``, ``index_select``, ``gather``)
is the one INDEX record under the node name PyTorch records: its rule adds the incoming
gradient back at the same positions, so repeated positions accumulate.

``t[index]`` follows PyTorch step by step, as PyTorch records it: integers select, slices
slice, ``None`` unsqueezes (one node each, in order), then the tensor and list parts of the
index (if any) make one IndexBackward0 node.
"""

from __future__ import annotations

import math
import operator
import warnings
from typing import Any

import numpy as np

from symgrad import _dtype
from symgrad.ops._apply import apply
from symgrad.ops._record import REAL, register
from symgrad.autograd.grad_mode import is_grad_enabled
from symgrad.ops._util import (broadcast_check, check_along_bounds, checked_scalar, size_args,
                               tensor_input, type_name)
from symgrad.ops.namespaces import along_index, to_exact
from symgrad.tensor import Tensor, _axis

__all__ = ["cat", "concat", "concatenate", "stack", "reshape", "view", "flatten", "transpose",
           "t", "numpy_T", "permute", "expand", "broadcast_to", "squeeze", "unsqueeze", "index",
           "to_dtype", "clone", "view_as", "reshape_as", "expand_as", "swapaxes", "swapdims",
           "movedim", "moveaxis", "unflatten", "select", "narrow", "index_select", "gather",
           "split", "chunk", "unbind", "tensor_split", "masked_fill", "repeat", "flip",
           "fliplr", "flipud", "roll"]


def _at(dim: int, item: Any) -> tuple:
    """The numpy index that applies ``item`` to dimension ``dim``."""
    return (slice(None),) * dim + (item,)


def _c_order(t: Tensor) -> Tensor:
    """``t`` with its entries in row-major order. numpy lays out the results of fancy
    indexing (and so of flip, roll, gather ...) in other orders; PyTorch's are contiguous,
    which decides where ``view`` works."""
    if not t._data.flags.c_contiguous:
        t._data = np.ascontiguousarray(t._data)
    return t


def _int(v: Any, what: str) -> int:
    """A Python int from an int, a numpy integer or a one-element integer tensor."""
    if isinstance(v, Tensor):
        if v._data.size != 1 or v._data.dtype.kind not in "iu":
            raise TypeError(f"{what} must be an int or an integer tensor with one element")
        return int(v._data.reshape(()))
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{what} must be an int, not {type(v).__name__}")
    return int(v)


def _dim_list(dims: Any, ndim: int) -> tuple[int, ...]:
    """Dimensions (an int or a sequence) as non-negative ints; repeats are an error."""
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    out = [_axis(_int(d, "dim"), ndim) for d in dims]
    for k, d in enumerate(out):
        if d in out[:k]:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return tuple(out)


def _args_or_kw(name: str, args: tuple, kw: Any) -> tuple:
    """``f(2, 3)``, ``f((2, 3))`` or ``f(name=(2, 3))``."""
    if kw is not None:
        if args:
            raise TypeError(f"{name} given both positionally and by keyword")
        return (kw,)
    return args


# ================================================================ reshape / view
RESHAPE = register(
    "reshape", "ViewBackward0",
    forward=lambda xp, x, *, shape, in_shape: xp.reshape(x, shape),
    vjp=lambda xp, g, ans, x, *, shape, in_shape: xp.reshape(g, in_shape),
    mirror=lambda x, *, shape, in_shape: np.reshape(x, shape),
    kind="shape", view=True, domain=(REAL,),
    examples=((((2, 3),), {"shape": (3, 2), "in_shape": (2, 3)}),
              (((2, 3),), {"shape": (6,), "in_shape": (2, 3)})),
)
# reshape of a strided tensor that still is a view; and of one that needs a copy first
RESHAPE_ALIAS = RESHAPE.variant("ReshapeAliasBackward0")
UNSAFE_VIEW = RESHAPE.variant("UnsafeViewBackward0")
UNSAFE_VIEW.view = False   # (reshape's copy: a view of a clone no one else sees, as PyTorch)


def _infer_shape(shape: tuple[int, ...], numel: int) -> tuple[int, ...]:
    for k, s in enumerate(shape):
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s} at index {k} of shape {list(shape)}")
    if sum(1 for s in shape if s == -1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0:
            if numel == 0:
                raise RuntimeError(
                    f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                    "unspecified dimension size -1 can be any value and is ambiguous")
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        if numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _viewable(data: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Whether ``data`` can take ``shape`` without copying (its strides allow it)."""
    try:
        np.reshape(data, shape, copy=False)
    except ValueError:
        return False
    except TypeError:  # pragma: no cover - numpy < 2.1 has no copy=
        probe = data.view()
        try:
            probe.shape = shape
        except AttributeError:
            return False
    return True


def reshape(input: Tensor, *args, shape=None) -> Tensor:
    """The same entries in a new shape (one dimension may be -1): a view where the layout
    allows it (ViewBackward0 / ReshapeAliasBackward0), else a copy (UnsafeViewBackward0)."""
    new = _infer_shape(size_args(_args_or_kw("shape", args, shape)), tensor_input(input)._data.size)
    data = input._data
    if data.flags.c_contiguous:
        op = RESHAPE
    elif _viewable(data, new):
        op = RESHAPE_ALIAS
    else:
        input, op = _c_order(apply(CLONE, input)), UNSAFE_VIEW
    return apply(op, input, shape=new, in_shape=data.shape)


def view(input: Tensor, *args, size=None) -> Tensor:
    """Like ``reshape``, but only where no copy is needed (as PyTorch's ``view``)."""
    args = _args_or_kw("size", args, size)
    if len(args) == 1 and isinstance(args[0], (_dtype.dtype, type)):
        raise NotImplementedError("view(dtype) reinterprets bits; symgrad does not support it")
    new = _infer_shape(size_args(args), input._data.size)
    if not _viewable(input._data, new):
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
    return apply(RESHAPE, input, shape=new, in_shape=input._data.shape)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return view(input, tuple(other.shape))


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, tuple(other.shape))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim`` ... ``end_dim`` into one (a reshape)."""
    shape = tensor_input(input)._data.shape
    s, e = _axis(start_dim, len(shape)), _axis(end_dim, len(shape))
    if not shape:
        return reshape(input, 1)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    return reshape(input, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one may be -1); always a view."""
    shape = tensor_input(input)._data.shape
    d = _axis(dim, len(shape))
    sizes = size_args((sizes,))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if sum(1 for s in sizes if s == -1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in sizes if s != -1)
    if (known != shape[d] if -1 not in sizes else (known == 0 or shape[d] % known)):
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shape[d]}) in the input tensor")
    sizes = tuple(shape[d] // known if s == -1 else s for s in sizes)
    return view(input, shape[:d] + sizes + shape[d + 1:])


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    """``input`` itself when its entries are laid out in row-major order, else a copy
    that is (CloneBackward0), as PyTorch's ``Tensor.contiguous``."""
    if input._data.flags.c_contiguous:
        return input
    return _c_order(apply(CLONE, input))


# ================================================================ transposes
def _swap(xp, a, dim0: int, dim1: int):
    return a[...] if dim0 == dim1 else xp.swapaxes(a, dim0, dim1)


TRANSPOSE = register(
    "transpose", "TransposeBackward0",
    forward=lambda xp, x, *, dim0, dim1: _swap(xp, x, dim0, dim1),
    vjp=lambda xp, g, ans, x, *, dim0, dim1: g if dim0 == dim1 else xp.swapaxes(g, dim0, dim1),
    mirror=lambda x, *, dim0, dim1: x if dim0 == dim1 else np.swapaxes(x, dim0, dim1),
    kind="shape", view=True, domain=(REAL,), params={"dim0": (0,), "dim1": (1,)},
)
T = TRANSPOSE.variant("TBackward0")


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    n = tensor_input(input)._data.ndim
    return apply(TRANSPOSE, input, dim0=_axis(dim0, n), dim1=_axis(dim1, n))


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose of a matrix; 0-d and 1-d tensors come back unchanged (still TBackward0)."""
    n = tensor_input(input)._data.ndim
    if n > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {n}D")
    return apply(T, input, dim0=0, dim1=1 if n == 2 else 0)


PERMUTE = register(
    "permute", "PermuteBackward0",
    forward=lambda xp, x, *, dims: xp.transpose(x, dims),
    vjp=lambda xp, g, ans, x, *, dims: xp.transpose(g, tuple(np.argsort(dims))),
    mirror=lambda x, *, dims: np.transpose(x, dims),
    kind="shape", view=True, domain=(REAL,),
    examples=((((2, 3),), {"dims": (1, 0)}), (((2, 3, 2),), {"dims": (2, 0, 1)})),
)


def permute(input: Tensor, *args, dims=None) -> Tensor:
    """Reorder the dimensions."""
    n = tensor_input(input)._data.ndim
    args = _args_or_kw("dims", args, dims)
    if not args:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    order = size_args(args)
    if len(order) != n:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {n} is not equal to len(dims) = {len(order)}")
    order = tuple(_axis(d, n) for d in order)
    if len(set(order)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return apply(PERMUTE, input, dims=order)


def numpy_T(input: Tensor) -> Tensor:
    """``t.T``: all dimensions reversed (PyTorch deprecates it for tensors that are not 2-D)."""
    n = input._data.ndim
    if n != 2:
        warnings.warn(f"x.T on a tensor with {n} dimension(s) reverses all of them; PyTorch "
                      "deprecates .T for tensors that are not matrices (use x.mT for batches of "
                      "matrices, or x.permute(...) to reverse the dimensions)",
                      UserWarning, stacklevel=3)
    return apply(PERMUTE, input, dims=tuple(range(n - 1, -1, -1)))


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dimensions ``source`` to positions ``destination``, keeping the others in order."""
    n = tensor_input(input)._data.ndim
    src = [_axis(_int(d, "source"), n) for d in ((source,) if isinstance(
        source, (int, np.integer)) else source)]
    dst = [_axis(_int(d, "destination"), n) for d in ((destination,) if isinstance(
        destination, (int, np.integer)) else destination)]
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                           f"should contain the same number of dims as destination ({dst} dims)")
    for name, ds in (("source", src), ("destination", dst)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({ds})")
    if n == 0:
        return apply(ALIAS, input, index=Ellipsis, in_shape=())
    order: list = [None] * n
    for s_, d_ in zip(src, dst):
        order[d_] = s_
    rest = iter(d for d in range(n) if d not in src)
    return apply(PERMUTE, input, dims=tuple(o if o is not None else next(rest) for o in order))


moveaxis = movedim


# ================================================================ broadcasting views
EXPAND = register(
    "expand", "ExpandBackward0",
    forward=lambda xp, x, *, shape: xp.broadcast_to(x, shape),
    vjp=lambda xp, g, ans, x, *, shape: g,
    mirror=lambda x, *, shape: np.broadcast_to(x, shape),
    kind="shape", view=True, domain=(REAL,),
    examples=((((3, 1),), {"shape": (2, 3, 4)}),),
)


def expand(input: Tensor, *args, size=None) -> Tensor:
    """A broadcast view with ``sizes`` (-1 keeps a dimension)."""
    sizes = size_args(_args_or_kw("size", args, size))
    shape = tensor_input(input)._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({len(shape)})")
    lead = len(sizes) - len(shape)
    new = []
    for i, s in enumerate(sizes):
        old = shape[i - lead] if i >= lead else None
        if s == -1:
            if old is None:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            s = old
        elif s < 0:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must be non-negative "
                               f"(or -1 to keep a dimension). Target sizes: {list(sizes)}")
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
    vjp=lambda xp, g, ans, x, *, dim: xp.expand_dims(g, dim),
    mirror=lambda x, *, dim: np.squeeze(x, axis=dim),
    kind="shape", view=True, domain=(REAL,),
    examples=((((2, 1, 3),), {"dim": (1,)}), (((1, 2, 1),), {"dim": (0, 2)}),
              (((2, 3),), {"dim": ()})),
)
SQUEEZE_DIM = SQUEEZE.variant("SqueezeBackward1")
SQUEEZE_DIMS = SQUEEZE.variant("SqueezeBackward2")


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Drop dimensions of size 1: all of them, or those in ``dim`` (an int or a tuple) that
    have size 1; naming a dimension of another size is allowed and leaves it."""
    shape = tensor_input(input)._data.shape
    if dim is None:
        return apply(SQUEEZE, input, dim=tuple(i for i, s in enumerate(shape) if s == 1))
    op = SQUEEZE_DIM if isinstance(dim, (int, np.integer)) else SQUEEZE_DIMS
    dims = _dim_list(dim, len(shape))
    return apply(op, input, dim=tuple(sorted(d for d in dims if shape and shape[d] == 1)))


UNSQUEEZE = register(
    "unsqueeze", "UnsqueezeBackward0",
    forward=lambda xp, x, *, dim: xp.expand_dims(x, dim),
    vjp=lambda xp, g, ans, x, *, dim: xp.squeeze(g, axis=dim),
    mirror=lambda x, *, dim: np.expand_dims(x, dim),
    kind="shape", view=True, domain=(REAL,), params={"dim": (0, 1)},
)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim``."""
    n = tensor_input(input)._data.ndim + 1
    dim = _int(dim, "dim")
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return apply(UNSQUEEZE, input, dim=dim % n)


# ================================================================ reading entries at positions
INDEX = register(
    "index", "IndexBackward0",
    forward=lambda xp, x, *, index, in_shape: x[index],
    vjp=lambda xp, g, ans, x, *, index, in_shape: xp.index_add(in_shape, index, g, like=g),
    mirror=lambda x, *, index, in_shape: x[index],
    kind="shape", domain=(REAL,),
    examples=(
        (((3, 4),), {"index": (slice(None), np.array([0, 2, 2])), "in_shape": (3, 4)}),
        (((4,),), {"index": (np.array([3, 1, 3, 0]),), "in_shape": (4,)}),
        (((3, 2),), {"index": (np.array([[True, False], [False, True], [True, True]]),),
                     "in_shape": (3, 2)}),
        (((2, 3, 2),), {"index": (np.array([0, 1, 1]), slice(None), np.array([1, 1, 0])),
                        "in_shape": (2, 3, 2)}),
        (((3, 2),), {"index": along_index(np.array([[0, 2], [0, 0]]), 0), "in_shape": (3, 2)}),
        (((2, 3),), {"index": (1, Ellipsis), "in_shape": (2, 3)}),
        (((5,),), {"index": (slice(1, 5, 2),), "in_shape": (5,)}),
        (((2, 3),), {"index": Ellipsis, "in_shape": (2, 3)}),
    ),
)


def _view_variant(grad_fn: str):
    """INDEX for basic indices (ints and slices): numpy returns a view, as PyTorch does."""
    v = INDEX.variant(grad_fn)
    v.view = True
    return v


SELECT = _view_variant("SelectBackward0")
SLICE = _view_variant("SliceBackward0")
ALIAS = _view_variant("AliasBackward0")
SPLIT = _view_variant("SplitBackward0")
SPLIT_WITH_SIZES = _view_variant("SplitWithSizesBackward0")
UNBIND = _view_variant("UnbindBackward0")
INDEX_SELECT = INDEX.variant("IndexSelectBackward0")
GATHER = INDEX.variant("GatherBackward0")
MASKED_SELECT = INDEX.variant("MaskedSelectBackward0")
DIAGONAL = _view_variant("DiagonalBackward0")


def _diagonal_forward(xp, x, *, index, in_shape):
    """The diagonal of the last two dimensions, ``index`` being ``(..., i, j)``: for a
    numeric array a strided view (PyTorch's diagonal is one, so ``t.diagonal().add_(1)``
    changes ``t``), else the entries picked by the index."""
    i, j = index[-2], index[-1]
    if type(x) is not np.ndarray or x.dtype == object:
        return x[index]
    corner = x[..., i[0]:, j[0]:] if len(i) else x
    st = x.strides
    return np.lib.stride_tricks.as_strided(
        corner, shape=x.shape[:-2] + (len(i),), strides=st[:-2] + (st[-2] + st[-1],),
        writeable=x.flags.writeable)


DIAGONAL.forward = _diagonal_forward
DIAGONAL_COPY = INDEX.variant("DiagonalBackward0_copy")   # torch.diag of a matrix

_BAD_ITEM = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
             "are valid indices (got {})")
_BAD_TENSOR = "tensors used as indices must be long, int, byte or bool tensors"
_NONE, _ELLIPSIS = ("none",), ("ellipsis",)


def _index_array(a: np.ndarray, tensor: bool) -> np.ndarray:
    """An index tensor's entries: booleans (masks; byte tensors are masks too) or int64."""
    if a.dtype.kind == "b":
        return a
    if a.dtype == np.uint8:
        return a.astype(bool)
    if a.dtype.kind in "iu" and (not tensor or a.dtype in (np.int64, np.int32)):
        return a.astype(np.int64, copy=False)
    raise IndexError(_BAD_TENSOR)


def _plain(seq: Any) -> Any:
    if isinstance(seq, (list, tuple)):
        return [_plain(s) for s in seq]
    if isinstance(seq, Tensor):
        return seq._data.tolist()
    if isinstance(seq, np.ndarray):
        return seq.tolist()
    return seq


def _list_array(seq: Any) -> np.ndarray:
    """A list used as an index: booleans make a mask, numbers a long index (as PyTorch)."""
    try:
        a = np.array(_plain(seq))
    except ValueError:
        raise IndexError(f"could not make an index tensor of {seq!r}") from None
    if a.dtype.kind == "b":
        return a
    if a.dtype.kind in "iuf":
        return a.astype(np.int64)
    raise IndexError(_BAD_ITEM.format(type(a.flat[0]).__name__ if a.size else "list"))


def _slice_ints(s: slice) -> tuple:
    parts = []
    for v in (s.start, s.stop, s.step):
        try:
            parts.append(None if v is None else operator.index(v))
        except TypeError:
            raise TypeError("slice indices must be integers or None or have an __index__ "
                            "method") from None
    if parts[2] is not None:
        if parts[2] == 0:
            raise ValueError("slice step cannot be zero")
        if parts[2] < 0:
            raise ValueError("step must be greater than zero")
    return tuple(parts)


def _token(item: Any) -> tuple:
    """One entry of an index, classified: int, slice, none, ellipsis, bool or array."""
    if item is None:
        return _NONE
    if item is Ellipsis:
        return _ELLIPSIS
    if isinstance(item, (bool, np.bool_)):
        return ("bool", bool(item))
    if isinstance(item, (int, np.integer)):
        return ("int", int(item))
    if isinstance(item, slice):
        return ("slice",) + _slice_ints(item)
    if isinstance(item, Tensor):
        a = _index_array(item._data, True)
    elif isinstance(item, np.ndarray):
        a = _index_array(item, False)
    elif isinstance(item, (list, tuple)):
        a = _list_array(item)
    elif isinstance(item, range):   # t[range(n), target]: a sequence of ints, as in PyTorch
        a = _list_array(list(item))
    else:
        raise IndexError(_BAD_ITEM.format(type(item).__name__))
    if a.ndim == 0:
        return ("bool", bool(a)) if a.dtype.kind == "b" else ("int", int(a))
    return ("array", a)


def _sequence_as_tuple(seq: list) -> bool:
    """PyTorch (after numpy) reads a short list holding slices, None, ..., lists or tensors
    as a tuple of indices."""
    return len(seq) < 32 and any(
        e is None or e is Ellipsis or isinstance(e, (slice, list, tuple, Tensor, np.ndarray))
        for e in seq)


def _items(index: Any) -> tuple[tuple, bool]:
    """The entries of an index and whether it was a single (non-tuple) entry."""
    if isinstance(index, tuple):
        return index, False
    if isinstance(index, list) and _sequence_as_tuple(index):
        warnings.warn("indexing with a list that holds slices, None, ..., lists or tensors "
                      "reads it as a tuple of indices, as PyTorch still does; PyTorch deprecates "
                      "this: write t[tuple(seq)]", UserWarning, stacklevel=5)
        return tuple(index), False
    return (index,), True


def _specified(tok: tuple) -> int:
    kind = tok[0]
    if kind in ("int", "slice"):
        return 1
    if kind == "array":
        return tok[1].ndim if tok[1].dtype.kind == "b" else 1
    return 0


class _Plan:
    """``t[index]`` as PyTorch performs it: basic ``steps`` in order (select, slice,
    unsqueeze), then one advanced index over the result (``advanced``, or None)."""

    __slots__ = ("steps", "advanced", "shape", "_np_items", "_bools", "_empty")

    def __init__(self, index: Any, shape: tuple[int, ...]) -> None:
        items, single = _items(index)
        toks = [_token(i) for i in items]
        ndim = len(shape)
        if single and ndim == 0 and isinstance(items[0], (int, np.integer)) and not isinstance(
                items[0], (bool, np.bool_)):
            i = toks[0][1]
            if i == 0:
                raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python "
                                 "or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a "
                                 "number")
            raise IndexError(f"index {i} is out of bounds for dimension 0 with size 0")
        if single and toks[0][0] == "slice" and ndim == 0:
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
        specified = sum(_specified(tok) for tok in toks)
        if specified > ndim:
            raise IndexError(f"too many indices for tensor of dimension {ndim}")
        cur = list(shape)
        steps: list = []
        adv: dict[int, np.ndarray] = {}
        np_items: list = []      # the same index for numpy, on the original dimensions
        bools = False
        dim = 0
        for pos, tok in enumerate(toks):
            kind = tok[0]
            if dim >= len(cur) + (kind in ("none", "bool")) and kind != "ellipsis":
                # only a second ``...`` gets here (each one skips the unnamed dimensions)
                if kind == "int":
                    raise IndexError(f"index {tok[1]} is out of bounds for dimension {pos} with "
                                     "size 0")
                if kind == "array":
                    raise IndexError(f"too many indices for tensor of dimension {len(cur)} "
                                     f"(got {dim + 1})")
                n = len(cur) + (kind in ("none", "bool"))
                raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, "
                                 f"{n - 1}], but got {dim})")
            if kind == "int":
                i, size = tok[1], cur[dim]
                if not -size <= i < size:
                    raise IndexError(f"index {i} is out of bounds for dimension {pos} with size "
                                     f"{size}")
                steps.append(("select", dim, i % size))
                np_items.append(i % size)
                del cur[dim]
            elif kind == "slice":
                start, stop, step = tok[1:]
                size = cur[dim]
                if (not single and start in (None, 0) and (stop is None or stop >= size)
                        and step in (None, 1)):
                    np_items.append(slice(None))      # the whole dimension: nothing recorded
                else:
                    a, b, c = slice(start, stop, step).indices(size)
                    steps.append(("slice", dim, a, b, c))
                    np_items.append(slice(a, b, c))
                    cur[dim] = len(range(a, b, c))
                dim += 1
            elif kind == "none":
                steps.append(("unsqueeze", dim))
                np_items.append(None)
                cur.insert(dim, 1)
                dim += 1
            elif kind == "ellipsis":
                skip = ndim - specified
                np_items.extend([slice(None)] * skip)
                dim += skip
            elif kind == "bool":
                steps.append(("unsqueeze", dim))
                cur.insert(dim, 1)
                adv[dim] = np.zeros(1 if tok[1] else 0, dtype=np.int64)
                np_items.append(tok[1])
                bools = True
                dim += 1
            else:
                a = tok[1]
                adv[dim] = a
                np_items.append(a)
                dim += a.ndim if a.dtype.kind == "b" else 1
        self.steps = steps
        self.shape = tuple(cur)
        self._empty = False
        self.advanced = self._advanced(adv) if adv else None
        while np_items and isinstance(np_items[-1], slice) and np_items[-1] == slice(None):
            np_items.pop()       # trailing whole slices (a second ... may add too many)
        self._np_items, self._bools = np_items, bools

    def numpy_index(self) -> tuple | None:
        """The index as numpy reads it the same way (None where numpy would differ)."""
        if self._bools or self._empty or not self._one_block(self._np_items):
            return None
        return tuple(self._np_items)

    def _advanced(self, adv: dict) -> tuple:
        """The advanced part as a numpy index (int64 arrays and masks at their dimensions,
        whole slices between them), after PyTorch's checks in PyTorch's order."""
        shape = self.shape
        entries = sorted(adv.items())
        for p, a in entries:
            k = a.ndim if a.dtype.kind == "b" else 1
            if p + k > len(shape):
                raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
            if a.dtype.kind == "b":
                for j in range(k):
                    if a.shape[j] != shape[p + j]:
                        raise IndexError(
                            f"The shape of the mask {list(a.shape)} at index {j} does not match "
                            f"the shape of the indexed tensor {list(shape)} at index {p + j}")
        shapes = []
        for _, a in entries:
            shapes.extend([(int(np.count_nonzero(a)),)] * a.ndim if a.dtype.kind == "b"
                          else [a.shape])
        try:
            reads = math.prod(np.broadcast_shapes(*shapes))
        except ValueError:
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together "
                             "with shapes " + ", ".join(str(list(s)) for s in shapes)) from None
        # PyTorch checks the values only where it reads (a result with entries)
        indexed = {p + j for p, a in entries for j in range(a.ndim if a.dtype.kind == "b" else 1)}
        empty = reads == 0 or any(n == 0 for d, n in enumerate(shape) if d not in indexed)
        self._empty = empty
        out: list = []
        covered = 0                      # dimensions the entries of ``out`` index
        ordinal = 0                      # PyTorch counts index tensors, masks as their ndim
        for p, a in entries:
            out.extend([slice(None)] * (p - covered))
            if a.dtype.kind == "b":
                out.append(a)
                covered = p + a.ndim
                ordinal += a.ndim
                continue
            covered = p + 1
            size = shape[p]
            if size == 0 and reads:
                raise IndexError("index is out of bounds for dimension with size 0")
            if a.size:
                lo, hi = a.min(), a.max()
                if hi >= size or lo < -size:
                    if empty:            # nothing is read: any valid position will do
                        a = np.where((a >= size) | (a < -size), 0, a)
                    else:
                        bad = a[(a >= size) | (a < -size)].flat[0]
                        raise IndexError(f"index {bad} is out of bounds for dimension {ordinal} "
                                         f"with size {size}")
                if lo < 0:
                    a = np.where(a < 0, a + size, a)
            out.append(a)
            ordinal += 1
        return tuple(out)

    @staticmethod
    def _one_block(items: list) -> bool:
        """Integers and arrays form one run: numpy then places the result as PyTorch does."""
        if not any(isinstance(i, np.ndarray) for i in items):
            return True
        marks = [isinstance(i, (int, np.ndarray)) and not isinstance(i, bool) for i in items]
        first = marks.index(True)
        last = len(marks) - 1 - marks[::-1].index(True)
        return all(marks[first:last + 1])

    def run(self, input: Tensor) -> Tensor:
        """Apply the steps as ops (one node each, as PyTorch records them)."""
        t = input
        for step in self.steps:
            kind, dim = step[0], step[1]
            shape = t._data.shape
            if kind == "select":
                t = apply(SELECT, t, index=_at(dim, step[2]) + (Ellipsis,), in_shape=shape)
            elif kind == "slice":
                t = apply(SLICE, t, index=_at(dim, slice(*step[2:])), in_shape=shape)
            else:
                t = apply(UNSQUEEZE, t, dim=dim)
        if self.advanced is not None:
            return _c_order(apply(INDEX, t, index=self.advanced, in_shape=t._data.shape))
        if t is input:
            return apply(ALIAS, t, index=Ellipsis, in_shape=t._data.shape)
        return t

    def coordinates(self, shape: tuple[int, ...]) -> tuple:
        """The positions the index reads, as one all-advanced numpy index (any layout)."""
        pos = np.arange(math.prod(shape)).reshape(shape)
        for step in self.steps:
            kind, dim = step[0], step[1]
            if kind == "select":
                pos = pos[_at(dim, step[2])]
            elif kind == "slice":
                pos = pos[_at(dim, slice(*step[2:]))]
            else:
                pos = np.expand_dims(pos, dim)
        if self.advanced is not None:
            pos = pos[self.advanced]
        return np.unravel_index(pos, shape)


def index(input: Tensor, index: Any) -> Tensor:
    """``input[index]`` as PyTorch reads it: ints, slices (steps > 0), None, ..., booleans,
    integer and boolean tensors or lists, in any combination. Integers select, slices
    slice and None unsqueezes (each its own node, in order); tensors and lists then index
    the result together (IndexBackward0; repeated positions accumulate in the gradient)."""
    shape = input._data.shape
    if type(index) is int and shape and -shape[0] <= index < shape[0]:     # the common t[i]
        return apply(SELECT, input, index=(index % shape[0], Ellipsis), in_shape=shape)
    return _Plan(index, shape).run(input)


def _norm_index(index: Any, shape: tuple[int, ...] | None = None) -> Any:
    """``index`` as a numpy index that selects what PyTorch's ``t[index]`` selects.

    With ``shape`` (the indexed tensor's), PyTorch's bounds errors are raised and mixes
    that numpy would lay out differently (an int and a list apart, ``t[0, :, [1, 2]]``)
    become one all-advanced index. Without it, the index is only converted (tensors and
    lists to arrays), which numpy reads as PyTorch does except in those mixes.
    """
    if shape is not None:
        shape = tuple(shape)
        plan = _Plan(index, shape)
        same = plan.numpy_index()
        if same is not None:
            return same
        return plan.coordinates(shape) if shape else tuple(plan._np_items)
    return tuple(_numpy_item(_token(i)) for i in _items(index)[0])


def _numpy_item(tok: tuple) -> Any:
    kind = tok[0]
    if kind == "none":
        return None
    if kind == "ellipsis":
        return Ellipsis
    if kind == "slice":
        return slice(*tok[1:])
    return tok[1]


# ================================================================ select, narrow, gather
def select(input: Tensor, dim: int, index) -> Tensor:
    """The slice at ``index`` of dimension ``dim``, which it removes (SelectBackward0)."""
    shape = tensor_input(input)._data.shape
    if not shape:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _axis(_int(dim, "dim"), len(shape))
    i = _int(index, "index")
    if not -shape[d] <= i < shape[d]:
        raise IndexError(f"select(): index {i} out of range for tensor of size {list(shape)} at "
                         f"dimension {d}")
    return apply(SELECT, input, index=_at(d, i % shape[d]) + (Ellipsis,), in_shape=shape)


def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """Entries ``start`` ... ``start + length - 1`` of dimension ``dim`` (SliceBackward0)."""
    shape = input._data.shape
    if not shape:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    length = _int(length, "length")
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    d = _axis(_int(dim, "dim"), len(shape))
    n, start = shape[d], _int(start, "start")
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    start = start + n if start < 0 else start
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return apply(SLICE, input, index=_at(d, slice(start, start + length, 1)), in_shape=shape)


def _index_tensor(index: Any, fn: str, position: int, kinds: str) -> np.ndarray:
    if not isinstance(index, Tensor):
        raise TypeError(f"{fn}(): argument 'index' (position {position}) must be Tensor, not "
                        f"{type(index).__name__}")
    a = index._data
    if a.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{fn}(): Expected dtype {kinds} for index")
    return a.astype(np.int64, copy=False)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices at the positions ``index`` (a vector) of dimension ``dim``."""
    idx = _index_tensor(index, "index_select", 2, "int32 or int64")
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    shape = input._data.shape
    d = _axis(_int(dim, "dim"), len(shape))
    idx = idx.reshape(-1)
    if not shape:
        if idx.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                               f"{idx.size} value(s)")
        if idx[0] != 0:
            raise IndexError("index out of range in self")
        return apply(INDEX_SELECT, input, index=(), in_shape=shape)
    bad = (idx < 0) | (idx >= shape[d])
    if bad.any():
        # PyTorch's CPU kernel for dim 1 of a contiguous tensor raises a RuntimeError, its
        # general one an IndexError (whose message is PyTorch's, word for word)
        if d == 1 and input._data.flags.c_contiguous:
            raise RuntimeError(f"index_select(): index {idx[bad][0]} is out of bounds for "
                               f"dimension {d} with size {shape[d]}")
        raise IndexError("index out of range in self")
    return _c_order(apply(INDEX_SELECT, input, index=_at(d, idx), in_shape=shape))


def lift_0d(x: Tensor, index: Any, src: Any = None) -> tuple | None:
    """PyTorch's reading of 0-d operands in gather/scatter: a 0-d self, index or src
    counts as 1-d of length 1 (``zeros(10).scatter_(0, tensor(3), value=1)``). None when
    nothing is 0-d; else ``(x, index, src, self_was_0d)`` with the 0-d ones made 1-d."""
    if not isinstance(index, Tensor) or (index._data.ndim and x._data.ndim):
        return None
    was_0d = x._data.ndim == 0
    one = (1,)
    return (x.reshape(one) if was_0d else x,
            index.reshape(one) if index._data.ndim == 0 else index,
            src.reshape(one) if isinstance(src, Tensor) and src._data.ndim == 0 else src,
            was_0d)


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j][k] = input[index[i][j][k]][j][k]`` (for ``dim=0``): entries of ``input``
    along ``dim`` at ``index``, which has ``input``'s number of dimensions and is no larger
    apart from ``dim``. Repeated positions accumulate in the gradient."""
    idx = _index_tensor(index, "gather", 3, "int32/int64")
    if idx.ndim == 0 and input._data.ndim == 1:   # a 0-d index reads one entry, 0-d
        return gather(input, dim, index.reshape((1,))).reshape(())
    shape = input._data.shape
    d = _axis(_int(dim, "dim"), len(shape))
    if idx.ndim != len(shape) and not (not shape and idx.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    size = shape[d] if shape else 1
    for k in range(len(shape)):
        if k != d and idx.shape[k] > shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index "
                               f"{list(idx.shape)} to be no larger than self {list(shape)} apart "
                               f"from dimension {d}")
    check_along_bounds(idx, size, d)
    if not shape:            # every index is 0: the value tiled to the index's shape
        return apply(GATHER_SCALAR, input, repeats=idx.shape, in_shape=())
    return _c_order(apply(GATHER, input, index=along_index(idx, d), in_shape=shape))


# ================================================================ splitting
def _pieces(input: Tensor, op, dim: int, sizes: list[int]) -> tuple[Tensor, ...]:
    """Consecutive slices of ``sizes`` along ``dim``, each its own node."""
    shape = input._data.shape
    out, start = [], 0
    for s in sizes:
        out.append(apply(op, input, index=_at(dim, slice(start, start + s, 1)), in_shape=shape))
        start += s
    return _several_views(out, op)


def _several_views(outs, op) -> tuple[Tensor, ...]:
    """Mark the views one call returns together (split, chunk, unbind): PyTorch refuses to
    change them in place while recording (see ``ops.inplace``)."""
    for k, t in enumerate(outs):
        if t._extra and "base" in t._extra:
            t._extra["multi_view"] = (k, op.grad_fn)
    return tuple(outs)


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller; SplitBackward0), or
    of the sizes in a list (SplitWithSizesBackward0)."""
    shape = tensor._data.shape
    if not shape:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _axis(_int(dim, "dim"), len(shape))
    n, s = shape[d], split_size_or_sections
    if isinstance(s, Tensor):
        s = _int(s, "split_size") if s.ndim == 0 else s.tolist()
    if isinstance(s, (list, tuple)):
        sizes = [_int(v, "split_sizes") for v in s]
        if any(v < 0 for v in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={sizes}")
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {dim}), but got "
                               f"split_sizes={sizes}")
        return _pieces(tensor, SPLIT_WITH_SIZES, d, sizes)
    s = _int(s, "split_size")
    if s < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
    if s == 0 and n != 0:
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension "
                           f"size of {n}")
    count = max(-(-n // s), 1) if s else 1
    return _pieces(tensor, SPLIT, d, [min(s, n - k * s) for k in range(count)])


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """At most ``chunks`` pieces of equal size ``ceil(n / chunks)`` (the last smaller)."""
    shape = tensor_input(input)._data.shape
    if not shape:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    chunks = _int(chunks, "chunks")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = _axis(_int(dim, "dim"), len(shape))
    size = -(-shape[d] // chunks)
    if size == 0:
        return _pieces(input, SPLIT_WITH_SIZES, d, [0] * chunks)
    return split(input, size, d)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along ``dim``, with ``dim`` removed (UnbindBackward0 each)."""
    shape = tensor_input(input)._data.shape
    if not shape:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = _axis(_int(dim, "dim"), len(shape))
    return _several_views([apply(UNBIND, input, index=_at(d, i) + (Ellipsis,), in_shape=shape)
                           for i in range(shape[d])], UNBIND)


def tensor_split(input: Tensor, indices_or_sections=None, dim: int = 0, *, sections=None,
                 indices=None, tensor_indices_or_sections=None) -> tuple[Tensor, ...]:
    """``sections`` pieces of near-equal size (the first ``n % sections`` one longer), or
    the pieces between the positions in ``indices`` (SliceBackward0 each)."""
    shape = input._data.shape
    if not shape:
        raise RuntimeError(f"tensor_split expected at least a 1-dimensional tensor, but got a "
                           f"tensor with {len(shape)} dims")
    ios = next((v for v in (indices_or_sections, sections, indices, tensor_indices_or_sections)
                if v is not None), None)
    if ios is None:
        raise TypeError("tensor_split() missing 1 required argument: 'indices_or_sections'")
    if isinstance(ios, Tensor):
        if ios.ndim > 1:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a "
                               f"zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {ios.ndim} dims")
        if ios._data.dtype != np.int64:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have dtype "
                               f"of long, but got {ios.dtype}")
        ios = ios.tolist()
    d = _axis(_int(dim, "dim"), len(shape))
    n = shape[d]
    if isinstance(ios, (list, tuple)):
        bounds = [_int(v, "indices") for v in ios] + [n]
    else:
        k = _int(ios, "sections")
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        q, r = divmod(n, k)
        bounds = [(i + 1) * q + min(i + 1, r) for i in range(k)]
    out, start = [], 0
    for b in bounds:
        a, z, _ = slice(start, b).indices(n)
        out.append(apply(SLICE, input, index=_at(d, slice(a, max(a, z), 1)), in_shape=shape))
        start = b
    return tuple(out)


# ================================================================ filling, tiling, reordering
MASKED_FILL = register(
    "masked_fill", "MaskedFillBackward0",
    forward=lambda xp, x, value, *, mask: xp.where(mask, value, x),
    vjp=(lambda xp, g, ans, x, value, *, mask: xp.where(mask, 0, g),
         lambda xp, g, ans, x, value, *, mask: xp.where(mask, g, 0)),
    mirror=lambda x, value, *, mask: np.where(mask, value, x),
    kind="shape", domain=(REAL, REAL),
    examples=((((2, 3), ()), {"mask": np.array([[True, False, True], [False, False, True]])}),
              (((2, 3), ()), {"mask": np.array([True, False, False])}),
              (((3,), ()), {"mask": np.array([[True, False, True], [False, False, False]])})),
)
MASKED_FILL_TENSOR = MASKED_FILL.variant("MaskedFillBackward1")


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``input`` with ``value`` (a number or a 0-d tensor) where ``mask`` is True; the mask
    broadcasts. A tensor ``value`` gets the gradient summed over the filled entries."""
    if not isinstance(mask, (Tensor, np.ndarray)):
        raise TypeError(f"masked_fill(): argument 'mask' (position 1) must be Tensor, not "
                        f"{type(mask).__name__}")
    m = mask._data if isinstance(mask, Tensor) else mask
    if m.dtype.kind != "b":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_dtype.from_numpy_dtype(m.dtype)}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value.ndim} dimension(s).")
        op = MASKED_FILL_TENSOR
    elif isinstance(value, (int, float, np.number)):
        op = MASKED_FILL
    else:
        raise TypeError(f"masked_fill(): argument 'value' must be a Number or a Tensor, not "
                        f"{type(value).__name__}")
    broadcast_check(input, Tensor._wrap(m))
    data = input._data
    if data.dtype.kind not in "fO":         # integer and bool tensors keep their dtype
        if isinstance(value, Tensor) and value.requires_grad and is_grad_enabled():
            raise RuntimeError(f"Autograd not support dtype: {type_name(input)} (masked_fill "
                               "of an integer or bool tensor with a value that requires grad)")
        v = checked_scalar(value.item() if isinstance(value, Tensor) else value, data.dtype)
        return Tensor._wrap(np.where(m, v, data).astype(data.dtype))
    if isinstance(value, Tensor) and value._data.dtype != data.dtype and data.dtype.kind == "f":
        value = to_dtype(value, input.dtype)
    elif not isinstance(value, Tensor) and data.dtype.kind == "f":
        value = checked_scalar(value, data.dtype)   # 1e39 into float32: PyTorch's error
    return apply(op, input, value, mask=m)


def _tiled(repeats: tuple, in_shape: tuple) -> tuple[tuple, tuple, tuple]:
    """For tiling: the input shape padded to len(repeats), with a size-1 axis before each
    dimension, and the same axes holding the repeat counts."""
    full = (1,) * (len(repeats) - len(in_shape)) + tuple(in_shape)
    inter = sum(((1, s) for s in full), ())
    big = sum(((r, s) for r, s in zip(repeats, full)), ())
    return full, inter, big


def _tile(xp, x, repeats, in_shape):
    full, inter, big = _tiled(repeats, in_shape)
    out = xp.reshape(xp.broadcast_to(xp.reshape(x, inter), big),
                     tuple(r * s for r, s in zip(repeats, full)))
    # always a copy, as PyTorch (``where`` copies keeping the dtype; ``* 1`` made bools int)
    return out if any(r > 1 for r in repeats) else xp.where(True, out, out)


def _untile(xp, g, repeats, in_shape):
    full, _, big = _tiled(repeats, in_shape)
    return xp.reshape(xp.sum(xp.reshape(g, big), axis=tuple(range(0, len(big), 2))), in_shape)


REPEAT = register(
    "repeat", "RepeatBackward0",
    forward=lambda xp, x, *, repeats, in_shape: _tile(xp, x, repeats, in_shape),
    vjp=lambda xp, g, ans, x, *, repeats, in_shape: _untile(xp, g, repeats, in_shape),
    mirror=lambda x, *, repeats, in_shape: np.tile(x, repeats),
    kind="shape", domain=(REAL,),
    examples=((((2, 3),), {"repeats": (2, 1), "in_shape": (2, 3)}),
              (((2,),), {"repeats": (3, 1, 2), "in_shape": (2,)}),
              (((),), {"repeats": (2,), "in_shape": ()})),
)


GATHER_SCALAR = REPEAT.variant("GatherBackward0")


def repeat(input: Tensor, *args, repeats=None) -> Tensor:
    """``input`` tiled ``repeats[i]`` times along each dimension (Tensor.repeat; extra
    leading repeats add dimensions). Always a copy."""
    args = _args_or_kw("repeats", args, repeats)
    if not args:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    if len(args) == 1 and isinstance(args[0], Tensor):
        raise TypeError("repeat(): argument 'repeats' (position 1) must be tuple of ints, not "
                        "Tensor")
    reps = size_args(args)
    shape = input._data.shape
    if len(reps) < len(shape):
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    full = (1,) * (len(reps) - len(shape)) + shape
    out = [r * s for r, s in zip(reps, full)]
    if any(r < 0 for r in reps):
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{min(out)}: {out}")
    return apply(REPEAT, input, repeats=reps, in_shape=shape)


def _flip(xp, a, dims):
    for d in dims:
        a = a[_at(d, np.arange(a.shape[d] - 1, -1, -1))]
    return a if dims else a * 1


FLIP = register(
    "flip", "FlipBackward0",
    forward=lambda xp, x, *, dims: _flip(xp, x, dims),
    vjp=lambda xp, g, ans, x, *, dims: _flip(xp, g, dims),
    mirror=lambda x, *, dims: np.flip(x, dims),
    kind="shape", domain=(REAL,),
    examples=((((2, 3),), {"dims": (1,)}), (((2, 3),), {"dims": (0, 1)}),
              (((3,),), {"dims": ()})),
)


def flip(input: Tensor, *args, dims=None) -> Tensor:
    """Reverse the order of entries along ``dims`` (a copy, as PyTorch)."""
    args = _args_or_kw("dims", args, dims)
    if not args:
        raise TypeError('flip() missing 1 required positional arguments: "dims"')
    ds = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
    n = input._data.ndim
    ds = _dim_list(ds, n)
    return _c_order(apply(FLIP, input, dims=ds if n else ()))


def fliplr(input: Tensor) -> Tensor:
    if tensor_input(input)._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    if tensor_input(input)._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


def _roll(xp, a, shifts, dims):
    if dims is None:
        shape = tuple(a.shape)
        return xp.reshape(_roll(xp, xp.reshape(a, (-1,)), shifts, (0,)), shape)
    for s, d in zip(shifts, dims):
        n = a.shape[d]
        if n:
            a = a[_at(d, (np.arange(n) - s) % n)]
    return a


ROLL = register(
    "roll", "RollBackward0",
    forward=lambda xp, x, *, shifts, dims: _roll(xp, x, shifts, dims),
    vjp=lambda xp, g, ans, x, *, shifts, dims: _roll(xp, g, tuple(-s for s in shifts), dims),
    mirror=lambda x, *, shifts, dims: np.roll(x, shifts if dims else shifts[0], axis=dims),
    kind="shape", domain=(REAL,),
    examples=((((2, 3),), {"shifts": (1,), "dims": (1,)}),
              (((2, 3),), {"shifts": (1, -4), "dims": (0, 1)}),
              (((2, 3),), {"shifts": (2,), "dims": None})),
)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift entries cyclically by ``shifts`` along ``dims`` (over the flattened tensor
    when ``dims`` is None)."""
    sh = (shifts,) if isinstance(shifts, (int, np.integer, Tensor)) else tuple(shifts)
    sh = tuple(_int(s, "shifts") for s in sh)
    if not sh:
        raise RuntimeError("`shifts` required")
    n = input._data.ndim
    if dims is None:
        if len(sh) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:0")
        return _c_order(apply(ROLL, input, shifts=sh, dims=None))
    ds = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(sh) != len(ds):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, "
                           f"dims:{len(ds)}")
    if n == 0:
        raise IndexError(f"Dimension specified as {ds[0]} but tensor has no dimensions")
    return _c_order(apply(ROLL, input, shifts=sh,
                          dims=tuple(_axis(_int(d, "dims"), n) for d in ds)))


# ================================================================ joining (variadic)
CAT = register(
    "cat", "CatBackward0",
    forward=lambda xp, *tensors, dim, sizes: xp.concatenate(tensors, axis=dim),
    vjp=lambda xp, g, ans, *tensors, i, dim, sizes: g[_at(dim, slice(
        sum(sizes[:i]), sum(sizes[:i + 1])))],
    mirror=lambda *tensors, dim, sizes: np.concatenate(tensors, axis=dim),
    kind="shape", variadic=True,
    examples=((((2, 3), (1, 3)), {"dim": 0, "sizes": (2, 1)}),
              (((2, 1), (2, 2), (2, 1)), {"dim": 1, "sizes": (1, 2, 1)})),
)


def _tensor_list(tensors, name: str, empty_error=RuntimeError,
                 empty_message: str = "expected a non-empty list of Tensors") -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' must be a tuple or list of Tensors, "
                        f"not {type(tensors).__name__}")
    if not tensors:
        raise empty_error(empty_message)
    ts = [t if isinstance(t, Tensor) else Tensor._wrap(np.asarray(t)) for t in tensors]
    # one dtype for all, promoted as PyTorch promotes (float32 with int64 stays float32)
    res = ts[0]._data.dtype
    for t in ts[1:]:
        d = t._data.dtype
        if d != res and object not in (d, res):
            res = _dtype.result_type(np.empty((1,), res), np.empty((1,), d))
    return [t if t._data.dtype == res or t._data.dtype == object
            else to_dtype(t, _dtype.from_numpy_dtype(res)) for t in ts]


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension (1-d empty tensors are skipped, as in
    PyTorch)."""
    ts = _tensor_list(tensors, "cat", ValueError, "cat(): expected a non-empty list of Tensors")
    for k, t in enumerate(ts):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {k}) cannot be "
                               "concatenated")
    used = [t for t in ts if t._data.shape != (0,)] or ts
    ref = used[0]._data
    d = _axis(dim, ref.ndim)
    for k, t in enumerate(used[1:], start=1):
        s, r = t._data.shape, ref.shape
        if len(s) != len(r):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(r)} and "
                               f"{len(s)}")
        for j, (a, b) in enumerate(zip(s, r)):
            if j != d and a != b:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {b} but got size {a} for tensor number {k} "
                                   "in the list.")
    return apply(CAT, *used, dim=d, sizes=tuple(t._data.shape[d] for t in used))


concat = concatenate = cat

STACK = register(
    "stack", "StackBackward0",
    forward=lambda xp, *tensors, dim: xp.stack(tensors, axis=dim),
    vjp=lambda xp, g, ans, *tensors, i, dim: g[_at(dim, i)],
    mirror=lambda *tensors, dim: np.stack(tensors, axis=dim),
    kind="shape", variadic=True,
    examples=((((2, 3), (2, 3)), {"dim": 0}), (((2,), (2,), (2,)), {"dim": 1})),
)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new dimension."""
    ts = _tensor_list(tensors, "stack", RuntimeError, "stack expects a non-empty TensorList")
    shape = ts[0]._data.shape
    for k, t in enumerate(ts[1:], start=1):
        if t._data.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} "
                               f"at entry 0 and {list(t._data.shape)} at entry {k}")
    return apply(STACK, *ts, dim=_axis(dim, len(shape) + 1))


# ================================================================ constant padding
# F.pad(mode="constant"): the (cropped) input written into a block of ``fill``. ``crop``
# selects what stays of the input (negative pads crop), ``inner`` where it lands.
def _pad(x, crop, inner, out_shape, fill, exact=False):
    kind = np.asarray(x).dtype
    out = np.full(out_shape, to_exact(np.float64(fill))[()] if exact else fill,
                  dtype=object if exact or kind.kind == "O" else kind)
    out[inner] = x[crop]
    return out


CONSTANT_PAD = register(
    "constant_pad", "ConstantPadNdBackward0",
    forward=lambda xp, x, *, crop, inner, out_shape, fill=0: _pad(x, crop, inner, out_shape,
                                                                  fill),
    vjp=lambda xp, g, ans, x, *, crop, inner, out_shape, fill=0: xp.index_add(
        x.shape, crop, g[inner], like=g),
    mirror=lambda x, *, crop, inner, out_shape, fill=0: _pad(x, crop, inner, out_shape, fill,
                                                             exact=True),
    kind="shape", domain=(REAL,),
    examples=((((2, 3),), {"crop": (slice(None), slice(1, 3)),
                           "inner": (slice(1, 3), slice(0, 2)), "out_shape": (4, 2),
                           "fill": 0.5}),
              (((3,),), {"crop": (slice(None),), "inner": (slice(2, 5),), "out_shape": (6,)})),
    doc="F.pad with mode='constant' (negative amounts crop)",
)


# ================================================================ copies and casts
CLONE = register(
    "clone", "CloneBackward0",
    forward=lambda xp, x: xp.astype(x, x.dtype),      # a copy in the same layout
    vjp=lambda xp, g, ans, x: g,
    mirror=lambda x: np.array(x, dtype=object),
    kind="shape", domain=(REAL,),
)


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy that stays in the graph (gradients flow back to ``input``); like PyTorch's
    default it keeps the layout, so ``x.t().clone()`` is not contiguous either."""
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
    if target.kind == "O":   # numbers into SymPy's, exactly (a float is the rational it holds)
        return Tensor._wrap(to_exact(input._data))
    if target == input._data.dtype:
        return input
    out = apply(TO_DTYPE, input, dtype=target)
    if target.kind != "f" and out._requires_grad:
        return out.detach()
    return out
