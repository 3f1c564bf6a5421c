"""nn.functional's normalizations, distance helpers and sliding blocks: batch_norm,
instance_norm, group_norm, rms_norm, pdist, bilinear, unfold and fold.

batch_norm, group_norm, pdist, unfold (im2col) and fold (col2im) are one record each, as
PyTorch's NativeBatchNormBackward0, NativeGroupNormBackward0, PdistBackward0,
Im2ColBackward0 and Col2ImBackward0 (users print ``grad_fn``); instance_norm is batch_norm
over the (sample, channel) pairs, as PyTorch computes it. The others are composed of
recorded ops.
"""

from __future__ import annotations

import math

import numpy as np

from symgrad.autograd.grad_mode import no_grad
from symgrad.ops._apply import apply
from symgrad.ops._record import POSITIVE, REAL, register
from symgrad.ops._util import sp, type_name
from symgrad.ops.conv import conv_size, gather, scatter, windows
from symgrad.ops.elementwise import ADD_NUMBER
from symgrad.ops.namespaces import NUMPY
from symgrad.ops.reduction import _count, _each, _normalised
from symgrad.tensor import Tensor

__all__ = ["batch_norm", "instance_norm", "group_norm", "rms_norm", "pdist", "bilinear",
           "unfold", "fold"]



# ================================================================ records
# batch_norm: each channel (dimension 1) normalised over ``dims`` (every other dimension) by
# the batch's statistics (biased variance) when ``training``, else by the running mean and
# variance (constants: no rule); then ``* weight + bias`` per channel (either may be None).
def _per_channel(xp, t, ndim: int):
    return xp.reshape(t, (-1,) + (1,) * (ndim - 2))


def _channel_affine(xp, out, weight, bias, ndim: int):
    """``out * weight + bias``, both per channel (dimension 1), either may be None."""
    if weight is not None:
        out = out * _per_channel(xp, weight, ndim)
    return out if bias is None else out + _per_channel(xp, bias, ndim)


def _bn_normalised(xp, x, mean, var, *, training, eps):
    """(x - mean) / sqrt(var + eps) and 1 / sqrt(var + eps), broadcast over x."""
    dims = (0,) + tuple(range(2, x.ndim))
    if training:
        return _normalised(xp, x, dims, eps)
    rstd = 1 / xp.sqrt(_per_channel(xp, var, x.ndim) + eps)
    return (x - _per_channel(xp, mean, x.ndim)) * rstd, rstd


def _batch_norm(xp, x, weight, bias, mean, var, *, training, eps):
    out, _ = _bn_normalised(xp, x, mean, var, training=training, eps=eps)
    return _channel_affine(xp, out, weight, bias, x.ndim)


def _batch_norm_vjp_x(xp, g, ans, x, weight, bias, mean, var, *, training, eps):
    xhat, rstd = _bn_normalised(xp, x, mean, var, training=training, eps=eps)
    gw = g if weight is None else g * _per_channel(xp, weight, x.ndim)
    if not training:
        return gw * rstd
    dims = (0,) + tuple(range(2, x.ndim))
    n = _count(x, dims)
    return rstd * (gw - xp.sum(gw, axis=dims, keepdims=True) / n
                   - xhat * xp.sum(gw * xhat, axis=dims, keepdims=True) / n)


def _batch_norm_vjp_weight(xp, g, ans, x, weight, bias, mean, var, *, training, eps):
    xhat, _ = _bn_normalised(xp, x, mean, var, training=training, eps=eps)
    return xp.sum(g * xhat, axis=(0,) + tuple(range(2, x.ndim)))


def _batch_norm_mirror(x, weight, bias, mean, var, *, training, eps):
    dims = (0,) + tuple(range(2, x.ndim))
    if training:
        n = _count(x, dims)
        mean = np.sum(x, axis=dims, keepdims=True) / n
        var = np.sum((x - mean) ** 2, axis=dims, keepdims=True) / n
    else:
        mean, var = _per_channel(np, mean, x.ndim), _per_channel(np, var, x.ndim)
    return _channel_affine(np, (x - mean) / _each(sp.sqrt, var + eps), weight, bias, x.ndim)


BATCH_NORM = register(
    "batch_norm", "NativeBatchNormBackward0",
    forward=_batch_norm,
    vjp=(_batch_norm_vjp_x, _batch_norm_vjp_weight,
         lambda xp, g, ans, x, weight, bias, mean, var, *, training, eps:
             xp.sum(g, axis=(0,) + tuple(range(2, x.ndim))),
         None, None),
    mirror=_batch_norm_mirror,
    kind="reduction", domain=(REAL, REAL, REAL, REAL, POSITIVE),
    examples=((((3, 2), (2,), (2,), None, None), {"training": True, "eps": 1e-5}),
              (((2, 1, 2), None, None, None, None), {"training": True, "eps": 0.5}),
              (((2, 2, 1), (2,), (2,), (2,), (2,)), {"training": False, "eps": 1e-5})),
    doc="F.batch_norm: batch statistics when training, else the running ones",
)


# group_norm: each sample's channels in ``groups`` groups, each group normalised over its
# channels and every spatial entry (biased variance); then ``* weight + bias`` per channel.
def _grouped(xp, x, groups: int):
    return xp.reshape(x, (x.shape[0], groups, -1))


def _gn_normalised(xp, x, groups, eps):
    xhat, rstd = _normalised(xp, _grouped(xp, x, groups), (2,), eps)
    return xp.reshape(xhat, tuple(x.shape)), rstd


def _group_norm(xp, x, weight, bias, *, groups, eps):
    out, _ = _gn_normalised(xp, x, groups, eps)
    return _channel_affine(xp, out, weight, bias, x.ndim)


def _group_norm_vjp_x(xp, g, ans, x, weight, bias, *, groups, eps):
    xhat, rstd = _gn_normalised(xp, x, groups, eps)
    gw = g if weight is None else g * _per_channel(xp, weight, x.ndim)
    gw, xhat = _grouped(xp, gw, groups), _grouped(xp, xhat, groups)
    n = gw.shape[2]
    gx = rstd * (gw - xp.sum(gw, axis=(2,), keepdims=True) / n
                 - xhat * xp.sum(gw * xhat, axis=(2,), keepdims=True) / n)
    return xp.reshape(gx, tuple(x.shape))


def _group_norm_vjp_weight(xp, g, ans, x, weight, bias, *, groups, eps):
    xhat, _ = _gn_normalised(xp, x, groups, eps)
    return xp.sum(g * xhat, axis=(0,) + tuple(range(2, x.ndim)))


def _group_norm_mirror(x, weight, bias, *, groups, eps):
    grouped = x.reshape(x.shape[0], groups, -1)
    n = grouped.shape[2]
    mean = np.sum(grouped, axis=2, keepdims=True) / n
    var = np.sum((grouped - mean) ** 2, axis=2, keepdims=True) / n
    out = ((grouped - mean) / _each(sp.sqrt, var + eps)).reshape(x.shape)
    return _channel_affine(np, out, weight, bias, x.ndim)


GROUP_NORM = register(
    "group_norm", "NativeGroupNormBackward0",
    forward=_group_norm,
    vjp=(_group_norm_vjp_x, _group_norm_vjp_weight,
         lambda xp, g, ans, x, weight, bias, *, groups, eps:
             xp.sum(g, axis=(0,) + tuple(range(2, x.ndim)))),
    mirror=_group_norm_mirror,
    kind="reduction", domain=(REAL, REAL, REAL),
    examples=((((2, 4), (4,), (4,)), {"groups": 2, "eps": 1e-5}),
              (((1, 2, 2), None, None), {"groups": 1, "eps": 0.5})),
    doc="F.group_norm: channel groups normalised per sample, weight and bias optional",
)

def _check_channels(what: str, t: Tensor | None, c: int) -> None:
    if t is not None and t.numel() != c:
        raise RuntimeError(f"{what} should contain {c} elements not {t.numel()}")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (dimension 1) by its batch statistics when ``training`` (the
    running statistics, if given, are updated in place: the variance unbiased), else by
    ``running_mean`` / ``running_var``; then ``* weight + bias`` per channel."""
    if input.dim() < 2:
        raise ValueError(f"Expected 2D or higher input (got {input.dim()}D input)")
    c = input.shape[1]
    for what, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_channels(what, t, c)
    count = input.numel() // max(c, 1)
    if training:
        if count == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {input.size()}")
        _update_running(input, running_mean, running_var, momentum)
        return apply(BATCH_NORM, input, weight, bias, None, None, training=True,
                     eps=float(eps))
    if running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    return apply(BATCH_NORM, input, weight, bias, running_mean, running_var, training=False,
                 eps=float(eps))


def _update_running(input: Tensor, running_mean, running_var, momentum: float) -> None:
    """running = (1 - momentum) * running + momentum * batch statistic, the variance
    unbiased, in place and outside the graph."""
    if running_mean is None and running_var is None:
        return
    c = input.shape[1]
    with no_grad():
        x = input.detach().transpose(0, 1).reshape(c, -1)
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(x.mean(1) * momentum)
        if running_var is not None:
            running_var.mul_(1 - momentum).add_(x.var(1, correction=1) * momentum)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each (sample, channel) over its spatial dimensions: batch_norm of the
    input viewed as one sample of N * C channels (as PyTorch, so the same nodes); running
    statistics, if given, are updated with the mean over the samples, and used instead of
    the input's when ``use_input_stats`` is False."""
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher input (got {input.dim()}D input)")
    if use_input_stats and int(np.prod(input.shape[2:])) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{input.size()}")
    n, c = input.shape[0], input.shape[1]
    for what, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_channels(what, t, c)
    x = input.reshape((1, n * c) + tuple(input.shape[2:]))
    w = None if weight is None else weight.repeat(n)
    b = None if bias is None else bias.repeat(n)
    if use_input_stats:
        if running_mean is not None or running_var is not None:
            stats = input.detach().reshape((n, c) + tuple(input.shape[2:]))
            per = stats.transpose(0, 1).reshape(c, n, -1)
            with no_grad():
                if running_mean is not None:
                    running_mean.mul_(1 - momentum).add_(per.mean(2).mean(1) * momentum)
                if running_var is not None:
                    running_var.mul_(1 - momentum).add_(
                        per.var(2, correction=1).mean(1) * momentum)
        out = apply(BATCH_NORM, x, w, b, None, None, training=True, eps=float(eps))
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        out = apply(BATCH_NORM, x, w, b, running_mean.repeat(n), running_var.repeat(n),
                    training=False, eps=float(eps))
    return out.reshape(tuple(input.shape))


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize each sample over groups of ``C / num_groups`` channels (and all spatial
    dimensions), then ``* weight + bias`` per channel."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.dim()}")
    c = input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    for what, t in (("weight", weight), ("bias", bias)):
        _check_channels(what, t, c)
    return apply(GROUP_NORM, input, weight, bias, groups=int(num_groups), eps=float(eps))


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``input / sqrt(mean(input**2) + eps) * weight`` over the trailing
    ``normalized_shape`` dimensions; ``eps`` defaults to the dtype's machine epsilon."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if tuple(input.shape[input.dim() - k:]) != shape or k > input.dim():
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    if eps is None:
        dt = input._data.dtype
        eps = float(np.finfo(dt if dt.kind == "f" else np.float64).eps)
    dims = tuple(range(input.dim() - k, input.dim()))
    # as PyTorch's nodes: PowBackward0, MeanBackward1, AddBackward1 (+ a number), ...
    out = input * apply(ADD_NUMBER, input.pow(2).mean(dims, keepdim=True), eps).rsqrt()
    return out if weight is None else out * weight


# pdist: the p-norm distances between the rows i < j of an (N, M) input, one node as
# PyTorch's PdistBackward0: the vector norm's record on the row differences, its gradient
# added back to row i and taken from row j.
def _pair_norm(p: float):
    from symgrad.ops import reduction as red

    if p == math.inf:
        return red.NORM_INF, {}
    return (red.NORM0, {}) if p == 0 else (red.NORM, {"ord": int(p) if float(p).is_integer()
                                                      else p})


def _pdist(xp, x, *, rows, cols, p):
    op, params = _pair_norm(p)
    return op.forward(xp, x[rows] - x[cols], dim=(1,), **params)


def _pdist_vjp(xp, g, ans, x, *, rows, cols, p):
    op, params = _pair_norm(p)
    gd = op.vjp[0](xp, xp.expand_dims(g, 1), xp.expand_dims(ans, 1), x[rows] - x[cols],
                   dim=(1,), keepdim=True, **params)
    return (xp.index_add(tuple(x.shape), (rows,), gd, like=gd)
            - xp.index_add(tuple(x.shape), (cols,), gd, like=gd))


def _pdist_mirror(x, *, rows, cols, p):
    op, params = _pair_norm(p)
    return op.mirror(x[rows] - x[cols], dim=(1,), **params)


PDIST = register(
    "pdist", "PdistBackward0",
    forward=_pdist, vjp=_pdist_vjp, mirror=_pdist_mirror,
    kind="reduction", domain=(REAL,),
    examples=(tuple((((3, 2),), {"rows": np.array([0, 0, 1]), "cols": np.array([1, 2, 2]),
                                 "p": p}) for p in (2, 1, math.inf))),
    doc="F.pdist: p-norm distances between the rows i < j",
)


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm distances between the rows of an (N, M) input, for each pair i < j
    in row-major order (the upper triangle of ``cdist(input, input)``)."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    if input._data.dtype.kind != "f" and input._data.dtype != object:
        raise RuntimeError(f"pdist only supports floating-point dtypes, got {type_name(input)}")
    i, j = np.triu_indices(input.shape[0], k=1)
    return apply(PDIST, input, rows=i.astype(np.int64), cols=j.astype(np.int64), p=float(p))


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None
             ) -> Tensor:
    """``y_k = input1 @ weight[k] @ input2 + bias[k]`` over the last dimensions."""
    from symgrad.ops.einsum import einsum

    if weight.dim() != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional, got {weight.dim()}")
    if input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): input sizes {input1.shape[-1]} and "
                           f"{input2.shape[-1]} do not match weight size {tuple(weight.shape)}")
    out = einsum("...i,kij,...j->...k", input1, weight, input2)
    return out if bias is None else out + bias


# ================================================================ sliding blocks
def _pair(name: str, v) -> tuple[int, int]:
    t = (v, v) if isinstance(v, int) else tuple(v)
    if len(t) != 2:
        raise RuntimeError(f"{name} must be an int or a pair of ints")
    return int(t[0]), int(t[1])


def _blocks(size, kernel, dilation, padding, stride) -> np.ndarray:
    """The (kh * kw, L) flat index of every block entry in an image of ``size`` (the
    convolutions' window index: padding reads index ``prod(size)``)."""
    counts = tuple(conv_size(size[d], kernel[d], stride[d], padding[d], padding[d],
                             dilation[d]) for d in range(2))
    if min(counts) < 1:
        raise RuntimeError(f"Given input with spatial size {tuple(size)}, kernel_size "
                           f"{kernel}, dilation {dilation}, padding {padding}, calculated shape "
                           f"of the array of sliding blocks as {counts}, but its components "
                           f"must be at least one.")
    return windows(tuple(size), kernel, stride, padding, dilation, counts)


# im2col: the blocks of an (N, C, H, W) image as columns (N, C * kh * kw, L), and col2im
# its adjoint (overlapping entries summed): each one's rule is the other, one node each as
# PyTorch's Im2ColBackward0 and Col2ImBackward0. Unbatched inputs lack the leading N.
def _im2col(xp, x, *, kernel, dilation, padding, stride):
    x4 = x if x.ndim == 4 else xp.reshape(x, (1,) + tuple(x.shape))
    n, c = x4.shape[0], x4.shape[1]
    idx = _blocks(tuple(x4.shape[2:]), kernel, dilation, padding, stride)
    cols = xp.reshape(gather(xp, x4, idx), (n, c * idx.shape[0], idx.shape[1]))
    return cols if x.ndim == 4 else xp.reshape(cols, tuple(cols.shape[1:]))


def _col2im(xp, cols, *, output_size, kernel, dilation, padding, stride):
    c3 = cols if cols.ndim == 3 else xp.reshape(cols, (1,) + tuple(cols.shape))
    idx = _blocks(output_size, kernel, dilation, padding, stride)
    n, kk = c3.shape[0], idx.shape[0]
    img = scatter(xp, xp.reshape(c3, (n, c3.shape[1] // kk, kk, idx.shape[1])), idx,
                  tuple(output_size))
    return img if cols.ndim == 3 else xp.reshape(img, tuple(img.shape[1:]))


IM2COL = register(
    "im2col", "Im2ColBackward0",
    forward=_im2col,
    vjp=lambda xp, g, ans, x, *, kernel, dilation, padding, stride: _col2im(
        xp, g, output_size=tuple(x.shape[-2:]), kernel=kernel, dilation=dilation,
        padding=padding, stride=stride),
    mirror=lambda x, **geometry: _im2col(NUMPY, x, **geometry),   # entries moved, none computed
    kind="shape", domain=(REAL,),
    examples=((((1, 2, 3, 3),), {"kernel": (2, 2), "dilation": (1, 1), "padding": (1, 0),
                                 "stride": (2, 1)}),),
    doc="F.unfold (im2col): sliding blocks as columns",
)
COL2IM = register(
    "col2im", "Col2ImBackward0",
    forward=_col2im,
    vjp=lambda xp, g, ans, cols, *, output_size, kernel, dilation, padding, stride: _im2col(
        xp, g, kernel=kernel, dilation=dilation, padding=padding, stride=stride),
    mirror=lambda cols, **geometry: _col2im(NUMPY, cols, **geometry),
    kind="shape", domain=(REAL,),
    examples=((((1, 8, 4),), {"output_size": (3, 3), "kernel": (2, 2), "dilation": (1, 1),
                              "padding": (0, 0), "stride": (1, 1)}),),
    doc="F.fold (col2im): columns summed back into an image",
)


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The sliding ``kernel_size`` blocks of an (N, C, H, W) input as columns:
    (N, C * kh * kw, L), L the number of blocks (im2col)."""
    geometry = {"kernel": _pair("kernel_size", kernel_size),
                "dilation": _pair("dilation", dilation), "padding": _pair("padding", padding),
                "stride": _pair("stride", stride)}
    if input.dim() not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported "
                           f"(got {input.dim()}D)")
    _blocks(tuple(input.shape[-2:]), **geometry)     # the size check, before recording
    return apply(IM2COL, input, **geometry)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The adjoint of ``unfold``: columns (N, C * kh * kw, L) summed back into an
    (N, C, H, W) image, overlapping entries added (col2im)."""
    geometry = {"output_size": _pair("output_size", output_size),
                "kernel": _pair("kernel_size", kernel_size),
                "dilation": _pair("dilation", dilation), "padding": _pair("padding", padding),
                "stride": _pair("stride", stride)}
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors "
                           f"are supported (got {input.dim()}D)")
    idx = _blocks(geometry["output_size"], geometry["kernel"], geometry["dilation"],
                  geometry["padding"], geometry["stride"])
    ckk, length = input.shape[-2], input.shape[-1]
    if ckk % idx.shape[0] or length != idx.shape[1]:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, and dimension 2 to match the calculated "
                           f"number of sliding blocks {idx.shape[1]}, but got input.size(1)="
                           f"{ckk} and input.size(2)={length}.")
    return apply(COL2IM, input, **geometry)
