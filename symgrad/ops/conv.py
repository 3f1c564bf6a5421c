"""Convolutions: conv1d/2d/3d and their transposes, one record each (PyTorch names both
``ConvolutionBackward0``).

Both records rest on one geometry: for every kernel offset and every output position, the
flat index of the input entry it reads (or a spare slot holding 0 where it reads padding).
A convolution gathers those entries (im2col) and contracts them with the weight; its
input gradient scatters back (col2im), which is also the forward of the transpose. The
rules use only gathers, scatter-adds, reshapes and einsums of the array namespace, so
they run on numpy, mpmath, SymPy and (for ``create_graph``) on Tensors. The mirrors are
the textbook sums, written entry by entry.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from symgrad.ops._apply import apply
from symgrad.ops._record import REAL, register
from symgrad.ops._util import c_type_name, type_name
from symgrad.ops.namespaces import NUMPY
from symgrad.tensor import Tensor, as_tensor

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "conv_tbc"]

#: Functions here that torch.Tensor has no method for (all of them).
NOT_METHODS = tuple(__all__)


# ================================================================ geometry
@functools.lru_cache(maxsize=512)
def windows(size: tuple, kernel: tuple, stride: tuple, pad_lo: tuple, dilation: tuple,
            count: tuple) -> np.ndarray:
    """Index array (prod(kernel), prod(count)): for kernel offset k and output position o,
    the flat index into an input of spatial ``size`` of the entry read, ``prod(size)``
    where that entry is padding."""
    per_dim = []
    for d in range(len(size)):
        pos = (np.arange(kernel[d]).reshape(-1, 1) * dilation[d]
               + np.arange(count[d]).reshape(1, -1) * stride[d] - pad_lo[d])
        per_dim.append((pos, (pos >= 0) & (pos < size[d])))
    return window_index(size, per_dim)


def window_index(size: tuple, per_dim: list) -> np.ndarray:
    """The flat (prod(K), prod(O)) window index from, per dimension, the positions read
    (K_d, O_d) and whether each is inside the input; outside reads ``prod(size)``."""
    nd = len(size)
    flat = np.zeros((1,) * (2 * nd), dtype=np.int64)
    valid = np.ones((1,) * (2 * nd), dtype=bool)
    step = math.prod(size)
    for d, (pos, ok) in enumerate(per_dim):
        step //= size[d]
        shape = [1] * (2 * nd)
        shape[d], shape[nd + d] = pos.shape
        flat = flat + (pos * step).reshape(shape)
        valid = valid & ok.reshape(shape)
    idx = np.where(valid, flat, math.prod(size))
    kernel, count = idx.shape[:nd], idx.shape[nd:]
    out = np.ascontiguousarray(idx.reshape(math.prod(kernel), math.prod(count)))
    out.flags.writeable = False
    return out


def conv_size(size: int, k: int, s: int, lo: int, hi: int, d: int) -> int:
    return (size + lo + hi - d * (k - 1) - 1) // s + 1


def gather(xp, x, idx, fill=None):
    """(N, C, *size) -> (N, C, KK, L): the entries each window reads (im2col); padding
    reads 0, or ``fill`` (an (N, C, 1) array) when given."""
    n, c = x.shape[0], x.shape[1]
    flat = xp.reshape(x, (n, c, math.prod(x.shape[2:])))
    spare = xp.zeros_like(flat[:, :, :1]) if fill is None else fill
    return xp.concatenate([flat, spare], axis=2)[:, :, idx]


def scatter(xp, cols, idx, size: tuple):
    """The adjoint of ``gather``: (N, C, KK, L) summed into (N, C, *size) (col2im)."""
    n, c = cols.shape[0], cols.shape[1]
    s = math.prod(size)
    out = xp.index_add((n, c, s + 1), (slice(None), slice(None), idx), cols, like=cols)
    return xp.reshape(out[:, :, :s], (n, c) + tuple(size))


def _einsum(xp, eq, a, b):
    if xp is NUMPY:     # numpy's einsum without optimize does not call BLAS
        return np.einsum(eq, a, b, optimize=True)
    return xp.einsum(eq, a, b)


# ================================================================ the three products
# x: (N, C, *size), w: (G*Og, Cg, *kernel), y: (N, G*Og, *count); C = G*Cg.
def _apply_weight(xp, x, w, idx, groups, count):
    """y = w * x (the convolution), via the gathered windows."""
    n, c = x.shape[0], x.shape[1]
    cols = xp.reshape(gather(xp, x, idx), (n, groups, c // groups * idx.shape[0], idx.shape[1]))
    wg = xp.reshape(w, (groups, w.shape[0] // groups, cols.shape[2]))
    y = _einsum(xp, "gok,ngkl->ngol", wg, cols)
    return xp.reshape(y, (n, w.shape[0]) + tuple(count))


def _apply_weight_t(xp, y, w, idx, groups, size):
    """x = w^T y: the adjoint of ``_apply_weight`` in its first argument (col2im)."""
    n, kk, length = y.shape[0], idx.shape[0], idx.shape[1]
    yg = xp.reshape(y, (n, groups, w.shape[0] // groups, length))
    wg = xp.reshape(w, (groups, w.shape[0] // groups, w.shape[1] * kk))
    cols = _einsum(xp, "gok,ngol->ngkl", wg, yg)
    return scatter(xp, xp.reshape(cols, (n, groups * w.shape[1], kk, length)), idx, size)


def _weight_grad(xp, y, x, idx, groups, wshape):
    """d<y, w * x>/dw for the cotangent ``y``: windows of x against y, summed over N."""
    n, c, kk, length = x.shape[0], x.shape[1], idx.shape[0], idx.shape[1]
    cols = xp.reshape(gather(xp, x, idx), (n, groups, c // groups * kk, length))
    yg = xp.reshape(y, (n, groups, wshape[0] // groups, length))
    return xp.reshape(_einsum(xp, "ngol,ngkl->gok", yg, cols), tuple(wshape))


def _with_bias(xp, y, b):
    if b is None:
        return y
    return y + xp.reshape(b, (b.shape[0],) + (1,) * (y.ndim - 2))


def _bias_grad(xp, g):
    return xp.sum(g, axis=(0,) + tuple(range(2, g.ndim)))


# ================================================================ convolution
def _conv_geometry(x, w, stride, padding, dilation):
    size, kernel = tuple(x.shape[2:]), tuple(w.shape[2:])
    count = tuple(conv_size(size[d], kernel[d], stride[d], lo, hi, dilation[d])
                  for d, (lo, hi) in enumerate(padding))
    idx = windows(size, kernel, tuple(stride), tuple(lo for lo, _ in padding),
                  tuple(dilation), count)
    return idx, size, count


def _conv_forward(xp, x, w, b, *, stride, padding, dilation, groups):
    idx, _, count = _conv_geometry(x, w, stride, padding, dilation)
    return _with_bias(xp, _apply_weight(xp, x, w, idx, groups, count), b)


def _conv_vjp_x(xp, g, ans, x, w, b, *, stride, padding, dilation, groups):
    idx, size, _ = _conv_geometry(x, w, stride, padding, dilation)
    return _apply_weight_t(xp, g, w, idx, groups, size)


def _conv_vjp_w(xp, g, ans, x, w, b, *, stride, padding, dilation, groups):
    idx, _, _ = _conv_geometry(x, w, stride, padding, dilation)
    return _weight_grad(xp, g, x, idx, groups, w.shape)


def _conv_vjp_b(xp, g, ans, x, w, b, *, stride, padding, dilation, groups):
    return _bias_grad(xp, g)


def _tap(i, k, stride, lo, dilation, size) -> tuple | None:
    """The input position kernel entry ``k`` of output position ``i`` reads, or None
    where it reads padding."""
    pos = tuple(i[d] * stride[d] - lo[d] + k[d] * dilation[d] for d in range(len(k)))
    return pos if all(0 <= p < s for p, s in zip(pos, size)) else None


def _sum_of(terms: list):
    from symgrad.ops import _sums

    return _sums.add_terms(terms) if terms else 0


def _conv_mirror(x, w, b, *, stride, padding, dilation, groups):
    """``y[n, o, i] = b[o] + sum_{c, k} w[o, c, k] x[n, g(o) Cg + c, i s - p + k d]``, the
    sum over the kernel entries that fall inside the input."""
    from symgrad.ops._sums import times

    size, kernel = x.shape[2:], w.shape[2:]
    count = tuple(conv_size(size[d], kernel[d], stride[d], lo, hi, dilation[d])
                  for d, (lo, hi) in enumerate(padding))
    og, cg = w.shape[0] // groups, w.shape[1]
    lo = tuple(p for p, _ in padding)
    out = np.empty((x.shape[0], w.shape[0]) + count, dtype=object)
    for n, o, *i in np.ndindex(*out.shape):
        terms = [] if b is None else [b[o]]
        for c in range(cg):
            for k in np.ndindex(*kernel):
                pos = _tap(i, k, stride, lo, dilation, size)
                if pos is not None:
                    terms.append(times(w[(o, c) + k], x[(n, o // og * cg + c) + pos]))
        out[(n, o, *i)] = _sum_of(terms)
    return out


CONV = register(
    "convolution", "ConvolutionBackward0",
    forward=_conv_forward,
    vjp=(_conv_vjp_x, _conv_vjp_w, _conv_vjp_b),
    mirror=_conv_mirror,
    kind="linalg", domain=(REAL, REAL, REAL),
    examples=(
        (((1, 2, 4), (2, 2, 2), (2,)), {"stride": (1,), "padding": ((1, 0),),
                                        "dilation": (1,), "groups": 1}),
        (((1, 2, 3, 3), (2, 1, 2, 2), None), {"stride": (2, 1), "padding": ((1, 1), (0, 0)),
                                              "dilation": (1, 2), "groups": 2}),
    ),
    doc="conv1d/2d/3d: windows of the input contracted with the weight, plus a bias",
)


# ================================================================ transposed convolution
def _t_geometry(x, w, stride, padding, dilation, output_padding):
    """The transpose maps (N, Cin, *count) to (N, Cout, *size): the convolution it is the
    adjoint of reads windows of the big output."""
    count, kernel = tuple(x.shape[2:]), tuple(w.shape[2:])
    size = tuple(transposed_size(count[d], kernel[d], stride[d], padding[d], dilation[d],
                                 output_padding[d]) for d in range(len(count)))
    idx = windows(size, kernel, tuple(stride), tuple(padding), tuple(dilation), count)
    return idx, size


def transposed_size(n: int, k: int, s: int, p: int, d: int, op: int) -> int:
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


def _convt_forward(xp, x, w, b, *, stride, padding, output_padding, dilation, groups):
    idx, size = _t_geometry(x, w, stride, padding, dilation, output_padding)
    return _with_bias(xp, _apply_weight_t(xp, x, w, idx, groups, size), b)


def _convt_vjp_x(xp, g, ans, x, w, b, *, stride, padding, output_padding, dilation, groups):
    idx, _ = _t_geometry(x, w, stride, padding, dilation, output_padding)
    return _apply_weight(xp, g, w, idx, groups, x.shape[2:])


def _convt_vjp_w(xp, g, ans, x, w, b, *, stride, padding, output_padding, dilation, groups):
    idx, _ = _t_geometry(x, w, stride, padding, dilation, output_padding)
    return _weight_grad(xp, x, g, idx, groups, w.shape)


def _convt_vjp_b(xp, g, ans, x, w, b, *, stride, padding, output_padding, dilation, groups):
    return _bias_grad(xp, g)


def _convt_mirror(x, w, b, *, stride, padding, output_padding, dilation, groups):
    """``y[n, o, j] = b[o] + sum x[n, c, i] w[c, o - g(c) Og, k]`` over the input entries i
    and kernel entries k with ``i s - p + k d = j``, c in the group of o."""
    from symgrad.ops._sums import times

    count, kernel = x.shape[2:], w.shape[2:]
    size = tuple(transposed_size(count[d], kernel[d], stride[d], padding[d], dilation[d],
                                 output_padding[d]) for d in range(len(count)))
    og, cg = w.shape[1], x.shape[1] // groups
    cout = og * groups
    terms: dict = {}
    for n, c, *i in np.ndindex(*x.shape):
        for oo in range(og):
            o = c // cg * og + oo
            for k in np.ndindex(*kernel):
                pos = _tap(i, k, stride, padding, dilation, size)
                if pos is not None:
                    terms.setdefault((n, o) + pos, []).append(
                        times(x[(n, c, *i)], w[(c, oo) + k]))
    out = np.empty((x.shape[0], cout) + size, dtype=object)
    for n, o, *j in np.ndindex(*out.shape):
        ts = terms.get((n, o, *j), [])
        out[(n, o, *j)] = _sum_of(([] if b is None else [b[o]]) + ts)
    return out


CONV_T = register(
    "conv_transpose", "ConvolutionBackward0",
    forward=_convt_forward,
    vjp=(_convt_vjp_x, _convt_vjp_w, _convt_vjp_b),
    mirror=_convt_mirror,
    kind="linalg", domain=(REAL, REAL, REAL),
    examples=(
        (((1, 2, 3), (2, 1, 2), (1,)), {"stride": (2,), "padding": (0,),
                                        "output_padding": (1,), "dilation": (1,),
                                        "groups": 1}),
        (((1, 2, 2, 2), (2, 1, 2, 2), (2,)), {"stride": (1, 2), "padding": (1, 0),
                                              "output_padding": (0, 0), "dilation": (2, 1),
                                              "groups": 2}),
    ),
    doc="conv_transpose1d/2d/3d: the adjoint of a convolution in its input, plus a bias",
)


# ================================================================ argument checks
def ntuple(name: str, v, n: int) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints as a tuple of ``n`` ints."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return (int(v),) * n
    t = tuple(v)
    if len(t) == 1:
        t = t * n
    if len(t) != n or not all(isinstance(e, (int, np.integer)) for e in t):
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} "
                           f"values to match the convolution dimensions, but got {name}={v!r}")
    return tuple(int(e) for e in t)


def _fmt(sizes) -> str:
    return " x ".join(str(s) for s in sizes)


def _batched(name: str, input: Tensor, nd: int) -> bool:
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {list(input.shape)}")
    return input.dim() == nd + 2


def _check_common(input: Tensor, weight: Tensor, bias, nd: int, stride, dilation, groups,
                  out_channels: int) -> None:
    if weight.dim() != nd + 2:
        raise RuntimeError(f"weight should have at least three dimensions: expected "
                           f"{nd + 2}D weight, but got {weight.dim()}D weight of size "
                           f"{list(weight.shape)}")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if not isinstance(groups, (int, np.integer)) or groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    dt = input._data.dtype
    # PyTorch looks at the bias first, naming both types as C++ does ("float", "double")
    if bias is not None and bias._data.dtype != dt and object not in (dt, bias._data.dtype):
        raise RuntimeError(f"Input type ({c_type_name(dt)}) and bias type "
                           f"({c_type_name(bias)}) should be the same")
    if weight._data.dtype != dt and object not in (dt, weight._data.dtype):
        raise RuntimeError(f"expected scalar type {type_name(input)} but found "
                           f"{type_name(weight)}")
    if dt.kind == "b":
        raise RuntimeError(f"\"slow_conv{nd}d_cpu\" not implemented for 'Bool'")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be "
                           f"1-dimensional with {out_channels} elements, but got bias of size "
                           f"{list(bias.shape)} instead")


def _padding(padding, nd: int, stride, dilation, kernel) -> tuple[tuple[int, int], ...]:
    """(lo, hi) per dimension; 'same' pads ``d (k - 1)`` in total, the odd one at the end."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                         for d, k in zip(dilation, kernel))
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    p = ntuple("padding", padding, nd)
    if any(v < 0 for v in p):
        raise RuntimeError("negative padding is not supported")
    return tuple((v, v) for v in p)


def _conv(name: str, nd: int, input, weight, bias, stride, padding, dilation, groups):
    x, w = as_tensor(input), as_tensor(weight)
    b = None if bias is None else as_tensor(bias)
    batched = _batched(name, x, nd)
    stride, dilation = ntuple("stride", stride, nd), ntuple("dilation", dilation, nd)
    _check_common(x, w, b, nd, stride, dilation, groups, w.shape[0])
    pads = _padding(padding, nd, stride, dilation, w.shape[2:])
    if not batched:
        x = x.unsqueeze(0)
    c = x.shape[1]
    if w.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"{list(w.shape)} instead")
    if c != w.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(w.shape)}, expected "
                           f"input{list(x.shape)} to have {w.shape[1] * groups} channels, but "
                           f"got {c} channels instead")
    padded = [x.shape[2 + d] + lo + hi for d, (lo, hi) in enumerate(pads)]
    span = [dilation[d] * (w.shape[2 + d] - 1) + 1 for d in range(nd)]
    if any(p < k for p, k in zip(padded, span)):
        raise RuntimeError(f"Calculated padded input size per channel: ({_fmt(padded)}). "
                           f"Kernel size: ({_fmt(span)}). Kernel size can't be greater than "
                           "actual input size")
    out = apply(CONV, x, w, b, stride=stride, padding=pads, dilation=dilation,
                groups=int(groups))
    return out if batched else out.squeeze(0)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-d convolution (cross-correlation, as PyTorch) of (N, C, L) or (C, L) input with
    (C_out, C / groups, k) weight; ``padding`` may be 'same' or 'valid'."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-d convolution of (N, C, H, W) or (C, H, W) input with (C_out, C / groups, kh, kw)
    weight; ``padding`` may be 'same' or 'valid'."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """3-d convolution of (N, C, D, H, W) or (C, D, H, W) input."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_t(name: str, nd: int, input, weight, bias, stride, padding, output_padding, groups,
            dilation):
    x, w = as_tensor(input), as_tensor(weight)
    b = None if bias is None else as_tensor(bias)
    batched = _batched(name, x, nd)
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    stride, dilation = ntuple("stride", stride, nd), ntuple("dilation", dilation, nd)
    pad, out_pad = ntuple("padding", padding, nd), ntuple("output_padding", output_padding, nd)
    _check_common(x, w, b, nd, stride, dilation, groups, w.shape[1] * groups)
    if any(v < 0 for v in pad):
        raise RuntimeError("negative padding is not supported")
    if any(v < 0 for v in out_pad):
        raise RuntimeError("negative output_padding is not supported")
    if any(op >= s and op >= d for op, s, d in zip(out_pad, stride, dilation)):
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, "
                           f"but got output_padding={list(out_pad)}, stride={list(stride)}, "
                           f"dilation={list(dilation)}")
    if not batched:
        x = x.unsqueeze(0)
    if w.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"{list(w.shape)} instead")
    if x.shape[1] != w.shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {list(w.shape)}, expected "
                           f"input{list(x.shape)} to have {w.shape[0]} channels, but got "
                           f"{x.shape[1]} channels instead")
    size = [transposed_size(x.shape[2 + d], w.shape[2 + d], stride[d], pad[d], dilation[d],
                            out_pad[d]) for d in range(nd)]
    if any(s <= 0 for s in size):
        raise RuntimeError(f"Given input size per channel: ({_fmt(x.shape[2:])}). Calculated "
                           f"output size per channel: ({_fmt(size)}). Output size is too small")
    out = apply(CONV_T, x, w, b, stride=stride, padding=pad, output_padding=out_pad,
                dilation=dilation, groups=int(groups))
    return out if batched else out.squeeze(0)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The transpose (adjoint in ``input``) of conv1d; weight (C_in, C_out / groups, k)."""
    return _conv_t("conv_transpose1d", 1, input, weight, bias, stride, padding,
                   output_padding, groups, dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The transpose of conv2d; weight (C_in, C_out / groups, kh, kw)."""
    return _conv_t("conv_transpose2d", 2, input, weight, bias, stride, padding,
                   output_padding, groups, dilation)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The transpose of conv3d; weight (C_in, C_out / groups, kd, kh, kw)."""
    return _conv_t("conv_transpose3d", 3, input, weight, bias, stride, padding,
                   output_padding, groups, dilation)


# ================================================================ conv_tbc
# One node, as PyTorch's ConvTbcBackward0: the convolution in (time, batch, channel)
# layout, input (T, B, C_in), weight (k, C_in, C_out), bias (C_out,), ``pad`` both sides:
# the convolution record's three definitions with the axes moved around them.
def _tbc_geometry(pad):
    return {"stride": (1,), "padding": ((pad, pad),), "dilation": (1,), "groups": 1}


def _tbc_forward(xp, x, w, b, *, pad):
    y = _conv_forward(xp, xp.transpose(x, (1, 2, 0)), xp.transpose(w, (2, 1, 0)), b,
                      **_tbc_geometry(pad))
    return xp.transpose(y, (2, 0, 1))


def _tbc_vjp(rule, back):
    def vjp(xp, g, ans, x, w, b, *, pad):
        r = rule(xp, xp.transpose(g, (1, 2, 0)), None, xp.transpose(x, (1, 2, 0)),
                 xp.transpose(w, (2, 1, 0)), b, **_tbc_geometry(pad))
        return r if back is None else xp.transpose(r, back)
    return vjp


CONV_TBC = register(
    "conv_tbc", "ConvTbcBackward0",
    forward=_tbc_forward,
    vjp=(_tbc_vjp(_conv_vjp_x, (2, 0, 1)), _tbc_vjp(_conv_vjp_w, (2, 1, 0)),
         _tbc_vjp(_conv_vjp_b, None)),
    mirror=lambda x, w, b, *, pad: np.transpose(_conv_mirror(
        np.transpose(x, (1, 2, 0)), np.transpose(w, (2, 1, 0)), b, **_tbc_geometry(pad)),
        (2, 0, 1)),
    kind="linalg", domain=(REAL, REAL, REAL),
    examples=((((3, 1, 2), (2, 2, 2), (2,)), {"pad": 1}),),
    doc="conv_tbc: conv1d in (time, batch, channel) layout",
)


def conv_tbc(input: Tensor, weight: Tensor, bias: Tensor, pad: int = 0) -> Tensor:
    """conv1d in (time, batch, channel) layout: input (T, B, C_in), weight (k, C_in, C_out);
    one ConvTbcBackward0 node, as PyTorch."""
    x, w = as_tensor(input), as_tensor(weight)
    if x.dim() != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if w.dim() != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, "
                           "out_channels.")
    if as_tensor(bias).dim() != 1:
        raise RuntimeError("Bias must be 1-D")
    if x.shape[2] != w.shape[1]:
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    if as_tensor(bias).shape[0] != w.shape[2]:
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    return apply(CONV_TBC, x, w, as_tensor(bias), pad=int(pad))
