"""In-place operations: ``add_``, ``+=``, ``zero_``, ``copy_``, ``t[i] = v`` ...

An in-place op computes its result out of place with the op table (so the graph records
the same node an out-of-place call would), then writes it into the tensor's storage and
bumps the tensor's version counter. A node that saved the old value notices the bump
and refuses to run, rather than computing a wrong gradient.

Views share storage with their base, so a change through one is a change of the other,
and their histories are rewritten as PyTorch rewrites them: the base's value becomes a
CopySlices of its old value with the changed part written in, and each live view of it
is read again from that (AsStridedBackward0). Which entries of the base a view covers
is found from the memory they share, whatever chain of view ops made it.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import numpy as np

from symgrad.autograd.grad_mode import _state, no_grad
from symgrad.ops._apply import apply
from symgrad.ops._record import REAL, register
from symgrad.ops._util import checked_scalar
from symgrad.ops.shape import INDEX, _norm_index, _sequence_as_tuple
from symgrad.tensor import Tensor, as_tensor, check_in_place, view_family

__all__ = ["inplace", "fill_", "copy_", "index_put_", "fill", "index_put"]


def _records(t: Tensor, args) -> bool:
    return _state.enabled and (t._requires_grad or any(
        isinstance(a, Tensor) and a._requires_grad for a in args))


def _check_target(t: Tensor, what: str, root: Tensor, foreign: bool) -> None:
    if t.grad_fn is None and t._requires_grad:
        raise RuntimeError(
            f"a leaf Variable that requires grad is being used in an in-place operation "
            f"({what}). Wrap the update in `with symgrad.no_grad():` (as in an optimizer step) "
            "or work on a clone.")
    if root is not t and root.grad_fn is None and root._requires_grad:
        raise RuntimeError(
            f"a view of a leaf Variable that requires grad is being used in an in-place "
            f"operation ({what}). Wrap the update in `with symgrad.no_grad():` or change a "
            "view of a clone.")
    extra = t._extra
    if extra and "no_grad_view" in extra:
        raise RuntimeError(
            f"A view was created in no_grad mode and is being modified inplace ({what}) with "
            "grad mode enabled: whether the change is to be recorded is ambiguous. Make both "
            "the view and the in-place change inside the no_grad block (not recorded) or both "
            "outside it (recorded).")
    if extra and "multi_view" in extra:
        k, node = extra["multi_view"]
        raise RuntimeError(
            f"Output {k} of {node} is a view and is being modified inplace ({what}). This view "
            "is the output of a function that returns multiple views. Such functions do not "
            "allow the output views to be modified inplace. You should replace the inplace "
            "operation by an out-of-place one.")
    if foreign:
        raise RuntimeError(
            f"in-place {what} on a tensor that shares storage with another live tensor that "
            "is not a view of it and has a history of its own (the output of a custom "
            "Function that returned its input) while gradients are recorded: symgrad cannot "
            "rewrite that tensor's history. Use the out-of-place form (y = y + 1), work on "
            ".clone(), or drop the other tensor first.")


def _write(t: Tensor, res: Tensor, what: str) -> None:
    src = res._data
    dst = t._data
    if src.shape != dst.shape:
        raise RuntimeError(f"output with shape {list(dst.shape)} doesn't match the broadcast "
                           f"shape {list(src.shape)} ({what})")
    if src.dtype != dst.dtype and not np.can_cast(src.dtype, dst.dtype, casting="same_kind"):
        raise RuntimeError(f"result type {res.dtype.name} can't be cast to the desired output "
                           f"type {t.dtype.name} ({what})")
    if not dst.flags.writeable:
        raise RuntimeError(f"unsupported operation: {what} writes into a tensor whose entries "
                           "share memory (made by expand/broadcast_to); clone() it first")
    np.copyto(dst, src, casting="unsafe")
    t._vc[0] += 1


def inplace(t: Tensor, fn: Callable[..., Tensor], *args: Any, **kwargs: Any) -> Tensor:
    """Apply the out-of-place ``fn(t, *args)`` and store the result in ``t``."""
    what = f"{getattr(fn, '__name__', 'op')}_"
    check_in_place(t)
    if _records(t, args):
        root, views, foreign = view_family(t)
        _check_target(t, what, root, foreign)
        if root is not t and not (t._data.size and np.may_share_memory(root._data, t._data)):
            root, views = t, []   # an empty view changes nothing; or the base's data moved
        if root is not t:
            # t's value read from its base, as PyTorch's CopySlices does: the view's own
            # node (and the hooks on it) are not on the path of the new value
            where = _Positions(root._data)
            index = where.entries(t._data)
            before = root._history_alias(root._data.copy())
            old = apply(VIEW_OF_BASE, before, index=index, in_shape=root._data.shape)
        else:
            old = t._history_alias(t._data.copy())   # (with t's tangent, under a dual level)
        res = fn(old, *args, **kwargs)
        _write(t, res, what)
        now = res
        if root is not t:   # the base gets the change; t is read from it with the others
            now = apply(COPY_SLICES, before, res, index=index)
            _set_history(root, now)
        elif res._requires_grad:
            _set_history(t, res)
        elif t._requires_grad:
            # a result no gradient flows through (t.gt_(0), t.floor_divide_(2)): its old
            # history no longer describes its value. (PyTorch keeps requires_grad with a
            # zero-gradient node; symgrad makes it a constant: the same gradients elsewhere.)
            t.detach_()
        if views:
            _read_views_again(root, now, views, where if root is not t else None)
    else:
        with no_grad():
            res = fn(t, *args, **kwargs)
        _write(t, res, what)
    if _state.forward:   # a dual level is open: the tangent changes in place too
        from symgrad.ops._forward import store_tangent

        store_tangent(t, res)
    return t


def _set_history(t: Tensor, res: Tensor) -> None:
    """``t`` (changed in place to ``res``'s value) takes ``res``'s place in the graph; a
    retained ``.grad`` follows, as it is the gradient of the tensor's current version."""
    old_fn = t.grad_fn
    t._set_history(res.grad_fn)
    t._requires_grad = res._requires_grad
    if t._extra:
        t._move_retain(old_fn)


def _read_views_again(root: Tensor, now: Tensor, views: list[Tensor],
                      where: _Positions | None) -> None:
    """After ``root``'s storage changed to ``now``'s value (with ``now``'s history): each
    live view recorded as reading its entries from it (PyTorch's AsStridedBackward0).
    Views made under no_grad stay constants, as in PyTorch; a view whose base's data was
    replaced (``x.data = ...``) no longer shares it and is left alone."""
    shape = root._data.shape
    for v in views:
        if "no_grad_view" in v._extra or not (
                v._data.size and np.may_share_memory(root._data, v._data)):
            continue
        where = where or _Positions(root._data)
        _set_history(v, apply(VIEW_OF_BASE, now, index=where.entries(v._data), in_shape=shape))


class _Positions:
    """Which entries of a base array the entries of its views are, found from where each
    lies in memory: the base's position numbers are laid over a buffer with its layout,
    and a view's layout read back from it (built once per in-place op, then read once per
    view: the cost of a view is its own size)."""

    def __init__(self, r: np.ndarray) -> None:
        self.shape, self.size = r.shape, r.itemsize
        self.lo, self.hi = _extent(r)
        self.buf = np.full((self.hi - self.lo) // self.size + 1, -1, dtype=np.int64)
        self._over(r)[...] = np.arange(r.size).reshape(r.shape)

    def _over(self, a: np.ndarray) -> np.ndarray:   # ``a``'s layout, laid over the buffer
        size = self.size
        return np.lib.stride_tricks.as_strided(
            self.buf[(a.ctypes.data - self.lo) // size:], shape=a.shape,
            strides=[st // size * 8 for st in a.strides])

    def entries(self, v: np.ndarray) -> tuple:
        """The index of the base's entries that ``v``'s entries are (an index array per
        dimension of the base, shaped like ``v``)."""
        size = self.size
        vlo, vhi = _extent(v)
        if (v.itemsize != size or not self.lo <= vlo <= vhi <= self.hi
                or any(st % size for st in (*v.strides, vlo - self.lo))):
            raise RuntimeError("symgrad cannot tell which entries of its base this view "
                               "covers (a view with another dtype or layout): change a "
                               ".clone() of it")
        pos = self._over(v).copy()
        if v.size and pos.min() < 0:
            raise RuntimeError("symgrad cannot tell which entries of its base this view "
                               "covers: change a .clone() of it")
        if not self.shape:   # a view of a 0-d tensor is that entry, with dimensions of size 1
            return (None,) * v.ndim
        return np.unravel_index(pos, self.shape)


def _extent(a: np.ndarray) -> tuple[int, int]:
    """The addresses of ``a``'s first and last entries in memory."""
    lo = hi = a.ctypes.data
    if a.size:
        for n, st in zip(a.shape, a.strides):
            if st < 0:
                lo += (n - 1) * st
            else:
                hi += (n - 1) * st
    return lo, hi


# ================================================================ fill and copy
# PyTorch's node names: FillBackward2 for a number, FillBackward3 for a 0-d tensor (and for
# t[...] = number), ZeroBackward0 for zero_(), CopyBackwards for copy_.
FILL = register(
    "fill", "FillBackward2",
    forward=lambda xp, x, v: xp.where(True, v, x),
    vjp=(lambda xp, g, ans, x, v: xp.zeros_like(g),
         lambda xp, g, ans, x, v: g),
    mirror=lambda x, v: np.broadcast_to(np.asarray(v, dtype=object), np.shape(x)).copy(),
    kind="shape", domain=(REAL, REAL),
    examples=((((2, 3), ()), {}), (((2, 3), (3,)), {})),
)
FILL_TENSOR = FILL.variant("FillBackward3")
FILL_OUT = FILL.variant("FillBackward0")          # out-of-place torch.fill(t, number)
FILL_OUT_TENSOR = FILL.variant("FillBackward1")   # and torch.fill(t, 0-d tensor)
ZERO = FILL.variant("ZeroBackward0")
COPY = FILL.variant("CopyBackwards")
COPY.node_class.qualified_name = "torch::autograd::CopyBackwards"


def fill(input: Tensor, value) -> Tensor:
    """A tensor shaped like ``input`` filled with ``value`` (a number or a 0-d tensor)."""
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions.")
    if isinstance(value, Tensor):   # the result keeps input's dtype, as PyTorch's
        if value.dtype != input.dtype and not input.is_symbolic:
            from symgrad.ops import to_dtype

            value = to_dtype(value, input.dtype)
        return apply(FILL_OUT_TENSOR, input, value)
    return apply(FILL_OUT, input, _written_value(input, value))


def _zero(input: Tensor) -> Tensor:
    return apply(ZERO, input, 0)


_zero.__name__ = "zero"


def zero_(t: Tensor) -> Tensor:
    """Set every entry of ``t`` to 0."""
    return fill_(t, 0) if not (_records(t, ()) or _state.forward) else inplace(t, _zero)


def fill_(t: Tensor, value) -> Tensor:
    """Set every entry of ``t`` to ``value``."""
    value = _written_value(t, value)
    if not (_records(t, (value,)) or _state.forward):
        check_in_place(t)
        v = value._data if isinstance(value, Tensor) else value
        if t._data.dtype.kind in "iub" and isinstance(v, float) and not float(v).is_integer():
            t._data[...] = v  # numpy truncates, as PyTorch does for fill_
        else:
            t._data[...] = v
        t._vc[0] += 1
        return t
    return inplace(t, _fill_recorded, value)


def _fill_recorded(input: Tensor, value) -> Tensor:
    """``fill_``'s new value when recorded: PyTorch's in-place names (FillBackward2 / 3)."""
    return apply(FILL_TENSOR if isinstance(value, Tensor) else FILL, input, value)


_fill_recorded.__name__ = "fill"


def _copy(input: Tensor, src: Tensor) -> Tensor:
    src = as_tensor(src)
    try:
        np.broadcast_to(src._data, input._data.shape)
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({list(input.shape)}) must match the size of "
                           f"tensor b ({list(src.shape)}) in copy_") from None
    if src._data.dtype != input._data.dtype:
        from symgrad.ops.shape import to_dtype

        src = to_dtype(src, input.dtype)
    return apply(COPY, input, src)


_copy.__name__ = "copy"


def copy_(t: Tensor, src) -> Tensor:
    """Copy ``src`` (broadcast, cast to ``t``'s dtype) into ``t``."""
    return inplace(t, _copy, src)


# ================================================================ item assignment
def _index_put_forward(xp, x, v, *, index):
    out = x.copy()
    out[index] = v
    return out


def _written(xp, x, index, g):
    """True where ``x[index] = ...`` wrote."""
    return xp.greater(xp.index_add(x.shape, index, xp.ones_like(g[index]), like=g), 0)


INDEX_PUT = register(
    "index_put", "IndexPutBackward0",
    forward=_index_put_forward,
    vjp=(lambda xp, g, ans, x, v, *, index: xp.where(_written(xp, x, index, g), 0.0, g),
         lambda xp, g, ans, x, v, *, index: g[index]),
    mirror=lambda x, v, *, index: _index_put_forward(None, np.asarray(x, dtype=object), v,
                                                     index=index),
    kind="shape", domain=(REAL, REAL),
    examples=((((3, 4), (2,)), {"index": (0, slice(1, 3))}),
              (((4,), (2,)), {"index": np.array([3, 1])})),
)
COPY_SLICES = INDEX_PUT.variant("CopySlices")
COPY_SLICES.node_class.qualified_name = "torch::autograd::CopySlices"
VIEW_OF_BASE = INDEX.variant("AsStridedBackward0")   # a view read again from its changed base
FILL_ALL = INDEX_PUT.variant("FillBackward3")
COPY_ALL = INDEX_PUT.variant("CopyBackwards")
COPY_ALL.node_class.qualified_name = "torch::autograd::CopyBackwards"


def _setitem_op(index: Any, shape: tuple, value: Any):
    """The record under PyTorch's node name for ``t[index] = value``.

    PyTorch first applies the basic part of the index (ints, ``None``, bools and partial
    slices make a view; ``...`` and full slices do not), then writes through it: a write
    into a view is CopySlices; otherwise an advanced index makes IndexPutBackward0, and a
    write to the whole tensor is a fill (a number) or a copy (a tensor).
    """
    if isinstance(index, list) and _sequence_as_tuple(index):
        index = tuple(index)
    items = index if isinstance(index, tuple) else (index,)

    def consumed(item: Any) -> int:  # how many of the tensor's dimensions an item indexes
        if item is None or item is Ellipsis or isinstance(item, bool):
            return 0
        arr = item._data if isinstance(item, Tensor) else np.asarray(item)
        return arr.ndim if arr.dtype == bool else 1

    basic = advanced = False
    dim = 0
    for k, item in enumerate(items):
        if item is Ellipsis:
            dim = len(shape) - sum(consumed(i) for i in items[k + 1:])
        elif isinstance(item, slice):
            # PyTorch skips a slice that starts at None or 0 (not a negative start that
            # reaches 0) and ends at or past the end, with step 1; any other makes a view
            n = shape[dim] if dim < len(shape) else 0
            start, stop, step = item.start, item.stop, item.step
            whole = (start is None or _int_like(start) and int(start) == 0) and (
                stop is None or _int_like(stop) and int(stop) >= n) and (
                step is None or _int_like(step) and int(step) == 1)
            basic |= not whole
        elif isinstance(item, (list, np.ndarray, Tensor)) and np.ndim(
                item._data if isinstance(item, Tensor) else item) >= 1:
            advanced = True
        else:
            basic = True  # an int, a 0-d tensor, None or a bool: a view
        if item is not Ellipsis:
            dim += consumed(item)
    if basic:
        return COPY_SLICES
    if advanced:
        return INDEX_PUT
    return COPY_ALL if isinstance(value, Tensor) and value.ndim else FILL_ALL


def _written_value(t: Tensor, value: Any) -> Any:
    """A number as an entry of ``t``'s dtype, with PyTorch's overflow error (numpy raises an
    OverflowError, or overflows a float32 to inf)."""
    if isinstance(value, (int, float, np.number)) and t._data.dtype != object:
        return checked_scalar(value, t._data.dtype)
    return value


def _int_like(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) or isinstance(v, Tensor) and v.ndim == 0


def _check_write(t: Tensor, index: Any, value: Any) -> Any:
    """PyTorch's rules for ``t[index] = value`` that numpy does not share: a uint8 mask
    alone with a number is refused (masked_fill wants bools), and a value may carry
    leading dimensions of size 1 beyond the written part's (they are dropped)."""
    if isinstance(index, Tensor) and index._data.dtype == np.uint8 and (
            not isinstance(value, Tensor) or value.ndim == 0):
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           "unsigned char")
    if isinstance(value, Tensor) and value.ndim and value.shape[0] == 1:
        target = np.empty(t._data.shape, dtype=bool)[_norm_index(index, t._data.shape)].ndim
        lead = 0
        while value.ndim - lead > target and value.shape[lead] == 1:
            lead += 1
        if lead:
            value = value.reshape(tuple(value.shape[lead:]))
    return _written_value(t, value)


def index_put(input: Tensor, index: Any, value) -> Tensor:
    """A copy of ``input`` with ``input[index] = value`` applied."""
    value = _check_write(input, index, value)
    idx = _norm_index(index, input._data.shape)
    op = _setitem_op(index, input._data.shape, value)
    try:
        return apply(op, input, value, index=idx)
    except ValueError as e:
        vshape = np.shape(getattr(value, '_data', value))
        raise RuntimeError(f"cannot assign a value of shape {vshape}"
                           f" to the indexed part of a tensor of shape {tuple(input.shape)}: "
                           f"{e}") from None


def index_put_(t: Tensor, index: Any, value) -> None:
    """``t[index] = value``."""
    value = _check_write(t, index, value)
    if not (_records(t, (value,)) or _state.forward):
        check_in_place(t)
        v = value._data if isinstance(value, Tensor) else value
        idx = _norm_index(index, t._data.shape)
        try:
            t._data[idx] = v
        except ValueError as e:
            raise RuntimeError(f"cannot assign to t[{index!r}] of a tensor of shape "
                               f"{tuple(t.shape)}: {e}") from None
        t._vc[0] += 1
        return
    inplace(t, index_put, index, value)


# ================================================================ torch.index_put
def _put_tensors(input: Tensor, indices: Any, values: Any, accumulate: bool) -> Tensor:
    """``torch.index_put``: a copy of ``input`` with ``values`` written at (or, with
    ``accumulate``, added to) ``input[indices]``, ``indices`` a tuple of index tensors."""
    from symgrad.ops.scatter import INDEX_PUT_ACCUMULATE
    from symgrad.ops._util import type_name

    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put_(): argument 'indices' (position 1) must be tuple of "
                        f"Tensors, not {type(indices).__name__}")
    for k, i in enumerate(indices):
        if not isinstance(i, Tensor):
            raise TypeError(f"expected Tensor as element {k} in argument 1, but got "
                            f"{type(i).__name__}")
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put_(): argument 'values' (position 2) must be Tensor, not "
                        f"{type(values).__name__}")
    if values._data.dtype != input._data.dtype and object not in (values._data.dtype,
                                                                  input._data.dtype):
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{type_name(input)} for the destination and {type_name(values)} "
                           "for the source.")
    index = tuple(indices)
    if not accumulate:
        return index_put(input, index, values)
    idx = _norm_index(index, input._data.shape)
    try:
        return apply(INDEX_PUT_ACCUMULATE, input, values, index=idx)
    except ValueError as e:
        raise RuntimeError(f"shape mismatch: value tensor of shape {tuple(values.shape)} cannot "
                           f"be broadcast to the indexing result: {e}") from None


def index_put_tensors(input: Tensor, indices: Any, values: Any,
                      accumulate: bool = False) -> Tensor:
    """``torch.index_put(input, indices, values, accumulate=False)`` (out of place)."""
    return _put_tensors(input, indices, values, accumulate)


def index_put_tensors_(t: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """``t.index_put_(indices, values, accumulate=False)``: in place, returns ``t``."""
    return inplace(t, _put_tensors, indices, values, accumulate)
