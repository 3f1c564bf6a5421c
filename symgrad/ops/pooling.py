"""Pooling: max, average, adaptive and power-average pooling in 1, 2 and 3 dimensions.

Two records cover the pools, both over a window index (``conv.window_index``: for every
window entry and output position, the flat input position read, or a spare slot where the
window reads padding):

* ``window_max``: the entries at the indices the public function chose (the first maximum
  of each window in PyTorch's scan order, as its kernels choose), so the gradient goes to
  exactly that entry; ties are declared as kinks, as ``max(dim)`` does;
* ``window_mean``: each window's sum divided by a per-window divisor (which entries count
  is what distinguishes avg_pool's options and adaptive pooling).

A third, ``window_unpool``, is max_pool's adjoint in its values: max_unpool writes them
back at the returned indices.

1-d pooling runs the 2-d op on an unsqueezed input, as PyTorch does (its graph shows the
same Unsqueeze / Squeeze nodes). lp_pool is composed as PyTorch composes it.
"""

from __future__ import annotations

import math

import numpy as np

from symgrad.ops import elementwise as ew
from symgrad.ops._apply import apply
from symgrad.ops._record import REAL, Kink, register
from symgrad.ops._util import type_name
from symgrad.ops.conv import gather, ntuple, scatter, window_index, windows
from symgrad.ops.namespaces import SYMPY
from symgrad.tensor import Tensor, as_tensor

# the functions torch.* has too (the rest are torch.nn.functional only)
__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "avg_pool1d",
           "adaptive_avg_pool1d", "adaptive_max_pool1d"]

#: Functions here that torch.Tensor has no method for (all of them).
NOT_METHODS = tuple(__all__)


# ================================================================ the records
def _rows(xp, x, count):
    """x (*lead, *size) as (1, B, S): the layout ``gather`` reads."""
    nd = len(count)
    b = math.prod(x.shape[:x.ndim - nd])
    return xp.reshape(x, (1, b, math.prod(x.shape[x.ndim - nd:])))


def _take(xp, x, indices, count):
    """The entries of x (*lead, *size) at the flat spatial ``indices`` (B, L), shaped
    (*lead, *count)."""
    nd = len(count)
    picked = xp.take_along_axis(_rows(xp, x, count)[0], indices, 1)
    return xp.reshape(picked, tuple(x.shape[:x.ndim - nd]) + tuple(count))


def _put(xp, v, indices, size, shape):
    """The adjoint of ``_take``: v's entries added at ``indices`` into zeros of ``shape``,
    whose spatial part is ``size``."""
    rows = xp.reshape(v, indices.shape)
    return xp.reshape(xp.put_along_axis((indices.shape[0], math.prod(size)), indices, rows, 1,
                                        like=v), tuple(shape))


def _max_forward(xp, x, *, indices, windows, count):
    return _take(xp, x, indices, count)


def _max_vjp(xp, g, ans, x, *, indices, windows, count):
    return _put(xp, g, indices, x.shape[x.ndim - len(count):], x.shape)


def _max_mirror(x, *, indices, windows, count):
    nd = len(count)
    rows = np.reshape(x, (indices.shape[0], -1))
    return np.take_along_axis(rows, indices, 1).reshape(x.shape[:x.ndim - nd] + tuple(count))


def _max_ties(x, *, indices, windows, count):
    """Windows where another entry equals the chosen maximum."""
    rows = np.reshape(x, (indices.shape[0], -1))
    vals = np.concatenate([rows, np.full((rows.shape[0], 1), -np.inf)], 1)[:, windows]
    best = np.take_along_axis(rows, indices, 1)
    hits = np.sum(vals == best[:, None, :], axis=1) > 1
    return hits.reshape(x.shape[:x.ndim - len(count)] + tuple(count))


WINDOW_MAX = register(
    "window_max", "MaxPool2DWithIndicesBackward0",
    forward=_max_forward, vjp=_max_vjp, mirror=_max_mirror,
    kind="reduction", domain=(REAL,),
    kinks=Kink(_max_ties, "ties in a window: the whole gradient goes to the returned index "
                          "(the first maximum in the window's row-major scan), as PyTorch"),
    examples=((((1, 2, 3, 3),), {"indices": np.array([[4, 0, 8, 2], [1, 5, 3, 7]]),
                                 "windows": windows((3, 3), (2, 2), (1, 1), (0, 0), (1, 1),
                                                    (2, 2)), "count": (2, 2)}),),
    doc="max pooling: the window entries at the chosen indices",
)
_MAX_OPS = {(False, 2): WINDOW_MAX,
            (False, 3): WINDOW_MAX.variant("MaxPool3DWithIndicesBackward0"),
            (True, 2): WINDOW_MAX.variant("AdaptiveMaxPool2DBackward0"),
            (True, 3): WINDOW_MAX.variant("AdaptiveMaxPool3DBackward0")}


def _over(a, divisor):
    """``a / divisor`` in ``a``'s float dtype (the divisor is an exact int array)."""
    if isinstance(a, np.ndarray) and a.dtype.kind == "f":
        return a / divisor.astype(a.dtype)
    if isinstance(a, np.ndarray) and a.dtype.kind in "iu":   # C's division: toward zero
        return (np.abs(a) // divisor * np.sign(a)).astype(a.dtype)
    return a / divisor


def _mean_forward(xp, x, *, windows, divisor, count):
    nd = len(count)
    cols = gather(xp, _rows(xp, x, count), windows)
    out = _over(xp.sum(cols, axis=2), divisor)
    return xp.reshape(out, tuple(x.shape[:x.ndim - nd]) + tuple(count))


def _mean_vjp(xp, g, ans, x, *, windows, divisor, count):
    nd = len(count)
    size = tuple(x.shape[x.ndim - nd:])
    rows = _over(xp.reshape(g, (1, -1, 1, windows.shape[1])), divisor)
    cols = xp.broadcast_to(rows, (1, rows.shape[1]) + windows.shape)
    return xp.reshape(scatter(xp, cols, windows, (math.prod(size),)), x.shape)


def _mean_mirror(x, *, windows, divisor, count):
    """``y[b, o] = (sum of x[b, i] over the window o) / divisor[o]``."""
    from symgrad.ops._sums import add_terms

    nd = len(count)
    rows = np.reshape(x, (-1, math.prod(x.shape[x.ndim - nd:])))
    s = rows.shape[1]
    out = np.empty((rows.shape[0], windows.shape[1]), dtype=object)
    for b, o in np.ndindex(*out.shape):
        out[b, o] = add_terms([rows[b, i] for i in windows[:, o] if i < s]) / int(divisor[o])
    return out.reshape(x.shape[:x.ndim - nd] + tuple(count))


WINDOW_MEAN = register(
    "window_mean", "AvgPool2DBackward0",
    forward=_mean_forward, vjp=_mean_vjp, mirror=_mean_mirror,
    kind="reduction", domain=(REAL,),
    examples=((((1, 2, 3, 3),), {"windows": windows((3, 3), (2, 2), (2, 1), (1, 0), (1, 1),
                                                    (2, 2)),
                                 "divisor": np.array([2, 2, 4, 4]), "count": (2, 2)}),),
    doc="average pooling: each window's sum over a divisor",
)
_MEAN_OPS = {(False, 2): WINDOW_MEAN,
             (False, 3): WINDOW_MEAN.variant("AvgPool3DBackward0"),
             (True, 2): WINDOW_MEAN.variant("AdaptiveAvgPool2DBackward0"),
             (True, 3): WINDOW_MEAN.variant("AdaptiveAvgPool3DBackward0")}


def _unpool_shape(x, count):
    return tuple(x.shape[:x.ndim - len(count)]) + tuple(count)


def _kept(xp, v, keep):
    return v if keep is None else xp.where(keep, v, 0)


WINDOW_UNPOOL = register(
    "window_unpool", "MaxUnpool2DBackward0",
    forward=lambda xp, x, *, indices, count, keep=None: _put(
        xp, _kept(xp, x, keep), indices, count, _unpool_shape(x, count)),
    vjp=lambda xp, g, ans, x, *, indices, count, keep=None: _kept(xp, xp.reshape(
        _take(xp, g, indices, x.shape[x.ndim - len(count):]), x.shape), keep),
    mirror=lambda x, *, indices, count, keep=None: _put(
        SYMPY, _kept(SYMPY, x, keep), indices, count, _unpool_shape(x, count)),
    kind="shape", domain=(REAL,),
    examples=((((1, 2, 2, 1),), {"indices": np.array([[0, 5], [3, 4]]), "count": (3, 2)}),
              (((1, 3),), {"indices": np.array([[1, 1, 2]]), "count": (4,),
                           "keep": np.array([[False, True, True]])})),
    doc="max_unpool: values written at their flat indices (once each), zeros elsewhere",
)
_UNPOOL_OPS = {2: WINDOW_UNPOOL, 3: WINDOW_UNPOOL.variant("MaxUnpool3DBackward0")}


# ================================================================ geometry
def _out_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size: with ceil_mode the last window may run past the
    input, but must start inside it (or inside the left padding)."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _check_input(name: str, x: Tensor, nd: int) -> None:
    if x.dim() not in (nd + 1, nd + 2) or any(v == 0 for v in x.shape[x.dim() - nd:]):
        raise RuntimeError(f"{name}: non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor "
                           f"expected for input, but got input of size {list(x.shape)}")


def _params(name, nd, kernel_size, stride, padding, dilation):
    k = ntuple("kernel_size", kernel_size, nd)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else (
        ntuple("stride", stride, nd))
    p, d = ntuple("padding", padding, nd), ntuple("dilation", dilation, nd)
    if any(v <= 0 for v in k):
        raise RuntimeError(f"{name}: kernel_size must be greater than zero, but got "
                           f"{list(k)}")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"{name}: stride should be greater than zero, but got {list(s)}")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"{name}: dilation should be greater than zero, but got {list(d)}")
    return k, s, p, d


def _count(name, x, nd, k, s, p, d, ceil_mode):
    size = tuple(x.shape[x.dim() - nd:])
    count = tuple(_out_size(size[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(nd))
    if any(c < 1 for c in count):
        lead = list(x.shape[:x.dim() - nd])[-1:]
        raise RuntimeError(f"{name}: Given input size: ({'x'.join(map(str, lead + list(size)))})"
                           f". Calculated output size: ({'x'.join(map(str, lead + list(count)))})"
                           ". Output size is too small")
    return size, count


# ================================================================ max pooling
def first_max(values: np.ndarray, idx: np.ndarray, spare: int) -> np.ndarray:
    """Per window (axis 1 of ``values`` (B, KK, L)) the flat input index PyTorch's kernels
    return: the first maximum in scan order (strict ``>``), the last NaN if any, and the
    first entry inside the input when every entry is -inf (padding is never returned)."""
    pick = np.argmax(values, axis=1)
    nan = np.isnan(values)
    if nan.any():
        last_nan = values.shape[1] - 1 - np.argmax(nan[:, ::-1], axis=1)
        pick = np.where(nan.any(axis=1), last_nan, pick)
    cols = np.arange(idx.shape[1])
    pos = idx[pick, cols]
    padded = pos == spare
    if padded.any():
        first_inside = idx[np.argmax(idx != spare, axis=0), cols]
        pos = np.where(padded, first_inside, pos)
    return pos


def _max_pool(name: str, nd: int, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    x = as_tensor(input)
    if nd == 1:
        _check_input(name, x, 1)
        k, s, p, d = _params(name, 1, kernel_size, stride, padding, dilation)
        out = _max_pool("max_pool2d", 2, x.unsqueeze(-2), (1,) + k, (1,) + s, (0,) + p,
                        (1,) + d, ceil_mode, return_indices)
        if return_indices:
            return out[0].squeeze(-2), Tensor._wrap(out[1]._data.squeeze(-2))
        return out.squeeze(-2)
    _check_input(name, x, nd)
    k, s, p, d = _params(name, nd, kernel_size, stride, padding, dilation)
    if any(2 * pi > (ki - 1) * di + 1 for pi, ki, di in zip(p, k, d)):
        raise RuntimeError(f"{name}: pad should be at most half of effective kernel size, but "
                           f"got pad={list(p)}, kernel_size={list(k)} and dilation={list(d)}")
    size, count = _count(name, x, nd, k, s, p, d, ceil_mode)
    return _max_apply(x, windows(size, k, s, p, d, count), size, count, False, return_indices)


def _max_apply(x: Tensor, idx: np.ndarray, size: tuple, count: tuple, adaptive: bool,
               return_indices: bool):
    nd = len(size)
    lead = tuple(x.shape[:x.dim() - nd])
    rows = x._data.reshape(-1, math.prod(size))
    if rows.dtype.kind == "b":
        raise RuntimeError(f"\"max_pool{nd}d\" not implemented for '{type_name(x)}'")
    if rows.dtype == object:
        raise TypeError("max pooling compares entries to choose its indices, which symbolic "
                        "entries do not allow")
    low = -np.inf if rows.dtype.kind == "f" else np.iinfo(rows.dtype).min
    spare = np.full((rows.shape[0], 1), low, dtype=rows.dtype)
    values = np.concatenate([rows, spare], 1)[:, idx]
    chosen = first_max(values, idx, math.prod(size))
    out = apply(_MAX_OPS[adaptive, nd], x, indices=chosen, windows=idx, count=count)
    if return_indices:
        return out, Tensor._wrap(chosen.reshape(lead + count).astype(np.int64))
    return out


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """Maximum over sliding windows of the last dimension; the gradient goes to the
    first maximum of each window (padding never wins)."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """Maximum over sliding 2-d windows of (N, C, H, W) or (C, H, W) input."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """Maximum over sliding 3-d windows of (N, C, D, H, W) or (C, D, H, W) input."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ================================================================ max unpooling
def _max_unpool(name: str, nd: int, input, indices, kernel_size, stride, padding,
                output_size):
    """Zeros of the pooled input's size with ``input``'s values at ``indices`` (what
    max_pool returned). Where overlapping windows returned an index twice, PyTorch writes
    the value once (the last write wins; both are that entry's value): so does symgrad,
    and the shadowed copy gets no gradient (PyTorch gives it the gradient too)."""
    x = as_tensor(input)
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype != np.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{type_name(Tensor._wrap(idx))}")
    if tuple(idx.shape) != tuple(x.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input "
                           f"tensor ({list(x.shape)}) but got indices tensor with shape: "
                           f"{list(idx.shape)}")
    if x.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: Input to max_unpooling{nd}d should be a "
                           f"{nd + 1}d or {nd + 2}d Tensor, but got a tensor with "
                           f"{x.dim()} dimensions.")
    k = ntuple("kernel_size", kernel_size, nd)
    s = k if stride is None else ntuple("stride", stride, nd)
    p = ntuple("padding", padding, nd)
    small = x.shape[x.dim() - nd:]
    default = [(small[d] - 1) * s[d] - 2 * p[d] + k[d] for d in range(nd)]
    if output_size is None:
        count = tuple(default)
    else:
        if len(tuple(output_size)) not in (nd, nd + 2):
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                             f"elements, but it has a length of '{len(tuple(output_size))}'")
        count = tuple(int(v) for v in tuple(output_size)[-nd:])
        for d in range(nd):
            if not default[d] - s[d] < count[d] < default[d] + s[d]:
                raise ValueError(f"invalid output_size \"{tuple(output_size)}\" (dim {d} "
                                 f"must be between {default[d] - s[d]} and "
                                 f"{default[d] + s[d]})")
    rows = idx.reshape(-1, math.prod(small))
    total = math.prod(count)
    bad = (rows < 0) | (rows >= total)
    if bad.any():
        raise RuntimeError(f"Found an invalid max index: {rows[bad][0]} (output volumes are "
                           f"of size {'x'.join(map(str, count))})")
    keep = _last_writes(rows)
    keep = None if keep.all() else keep.reshape(x.shape)
    if nd == 1:
        out = apply(WINDOW_UNPOOL, x.unsqueeze(-2), indices=rows, count=(1,) + count,
                    keep=None if keep is None else keep[..., None, :])
        return out.squeeze(-2)
    return apply(_UNPOOL_OPS[nd], x, indices=rows, count=count, keep=keep)


def _last_writes(rows: np.ndarray) -> np.ndarray:
    """Per row, True at the last occurrence of each index (the write that stays)."""
    flipped = rows[:, ::-1]
    keep = np.zeros(rows.shape, dtype=bool)
    for r in range(rows.shape[0]):
        _, first = np.unique(flipped[r], return_index=True)
        keep[r, rows.shape[1] - 1 - first] = True
    return keep


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of max_pool1d: values back at their indices, zeros elsewhere."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of max_pool2d (indices as it returns them)."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of max_pool3d."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                       output_size)


# ================================================================ average pooling
def _avg_divisor(size, k, s, p, count, ceil_mode, count_include_pad, divisor_override):
    """Per output position, what PyTorch divides the window sum by: the window clipped to
    the padded input (count_include_pad) or to the input itself, or the override."""
    total = np.ones((1,), dtype=np.int64)
    for d in range(len(size)):
        start = np.arange(count[d]) * s[d] - p[d]
        end = np.minimum(start + k[d], size[d] + p[d])
        if count_include_pad:
            n = end - start
        else:
            n = np.minimum(end, size[d]) - np.maximum(start, 0)
        total = (total[:, None] * n[None, :]).reshape(-1)
    if divisor_override is not None:
        total = np.full_like(total, divisor_override)
    return total


def _avg_pool(name: str, nd: int, input, kernel_size, stride, padding, ceil_mode,
              count_include_pad, divisor_override):
    x = as_tensor(input)
    if nd == 1:
        _check_input(name, x, 1)
        k, s, p, _ = _params(name, 1, kernel_size, stride, padding, 1)
        out = _avg_pool("avg_pool2d", 2, x.unsqueeze(-2), (1,) + k, (1,) + s, (0,) + p,
                        ceil_mode, count_include_pad, divisor_override)
        return out.squeeze(-2)
    _check_input(name, x, nd)
    k, s, p, d = _params(name, nd, kernel_size, stride, padding, 1)
    if any(2 * pi > ki for pi, ki in zip(p, k)):
        raise RuntimeError(f"{name}: pad should be at most half of effective kernel size, but "
                           f"got pad={list(p)} and kernel_size={list(k)}")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    size, count = _count(name, x, nd, k, s, p, d, ceil_mode)
    div = _avg_divisor(size, k, s, p, count, ceil_mode, count_include_pad, divisor_override)
    return _mean_apply(x, windows(size, k, s, p, d, count), div, count, False)


def _mean_apply(x: Tensor, idx, divisor, count, adaptive: bool) -> Tensor:
    if x._data.dtype.kind == "b":
        raise RuntimeError(f"\"avg_pool{len(count)}d\" not implemented for 'Bool'")
    return apply(_MEAN_OPS[adaptive, len(count)], x, windows=idx, divisor=divisor, count=count)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over sliding windows of the last dimension."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over sliding 2-d windows; padding counts unless ``count_include_pad=False``."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over sliding 3-d windows."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


# ================================================================ adaptive pooling
def _adaptive_windows(size: tuple, count: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Window o of a dimension spans [floor(o S / O), ceil((o + 1) S / O)); returns the
    window index and each window's entry count."""
    per_dim, n = [], np.ones((1,), dtype=np.int64)
    for sz, c in zip(size, count):
        o = np.arange(c)
        start, end = (o * sz) // c, -((-(o + 1) * sz) // c)
        k = int((end - start).max())
        pos = start[None, :] + np.arange(k)[:, None]
        per_dim.append((pos, pos < end[None, :]))
        n = (n[:, None] * (end - start)[None, :]).reshape(-1)
    return window_index(size, per_dim), n


def _output_size(name: str, x: Tensor, nd: int, output_size) -> tuple[int, ...]:
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size,) * nd
    out = tuple(output_size)
    if len(out) != nd:
        raise RuntimeError(f"{name}: output_size must be {nd}")
    size = x.shape[x.dim() - nd:]
    return tuple(int(size[i]) if v is None else int(v) for i, v in enumerate(out))


def _adaptive(name: str, nd: int, input, output_size, largest: bool, return_indices=False):
    x = as_tensor(input)
    if nd == 1:
        _check_input(name, x, 1)
        out = _output_size(name, x, 1, output_size)
        r = _adaptive(name.replace("1d", "2d"), 2, x.unsqueeze(-2), (1,) + out, largest,
                      return_indices)
        if return_indices:
            return r[0].squeeze(-2), Tensor._wrap(r[1]._data.squeeze(-2))
        return r.squeeze(-2)
    _check_input(name, x, nd)
    count = _output_size(name, x, nd, output_size)
    if any(c < 0 for c in count):
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal "
                           f"to 0 but received {list(count)}")
    size = tuple(x.shape[x.dim() - nd:])
    if not largest and all(c == 1 for c in count):
        return x.mean(tuple(range(x.dim() - nd, x.dim())), keepdim=True)
    idx, n = _adaptive_windows(size, count)
    if largest:
        return _max_apply(x, idx, size, count, True, return_indices)
    return _mean_apply(x, idx, n, count, True)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Mean over ``output_size`` windows that tile the last dimension (sizes differ by at
    most one)."""
    return _adaptive("adaptive_avg_pool1d", 1, input, output_size, False)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Mean over windows that tile H and W into ``output_size`` (None keeps a size)."""
    return _adaptive("adaptive_avg_pool2d", 2, input, output_size, False)


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    return _adaptive("adaptive_avg_pool3d", 3, input, output_size, False)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Maximum over ``output_size`` windows that tile the last dimension."""
    return _adaptive("adaptive_max_pool1d", 1, input, output_size, True, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    return _adaptive("adaptive_max_pool2d", 2, input, output_size, True, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    return _adaptive("adaptive_max_pool3d", 3, input, output_size, True, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool3d(input, output_size, True)


# ================================================================ power-average pooling
def _lp_pool(avg, nd: int, input, norm_type, kernel_size, stride, ceil_mode):
    """``(sum over the window of x**p) ** (1/p)``, composed as PyTorch composes it:
    ``(sign(a) * relu(|a|) * window size) ** (1/p)`` with ``a`` the average of ``x**p``."""
    x = as_tensor(input)
    k = ntuple("kernel_size", kernel_size, nd)
    a = avg(ew.pow(x, norm_type), k, stride, 0, ceil_mode=ceil_mode)
    scaled = ew.mul(ew.mul(ew.sign(a), ew.relu(ew.abs(a))), math.prod(k))
    return ew.pow(scaled, 1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """The ``norm_type``-norm of each window (power-average pooling)."""
    return _lp_pool(avg_pool1d, 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    return _lp_pool(avg_pool2d, 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    return _lp_pool(avg_pool3d, 3, input, norm_type, kernel_size, stride, ceil_mode)


def torch_adaptive_max_pool1d(input: Tensor, output_size) -> tuple[Tensor, Tensor]:
    """``torch.adaptive_max_pool1d``: always (values, indices), unlike nn.functional's."""
    return adaptive_max_pool1d(input, output_size, True)
