"""Rearranging and resampling images: pixel_shuffle, pixel_unshuffle, channel_shuffle and
interpolate (nearest, nearest-exact, linear, bilinear, trilinear, bicubic, area).

The shuffles are permutations: one record each, whose rule is the inverse permutation.
Every interpolation mode except area is separable and linear: along each spatial
dimension the output is a fixed matrix (output size x input size, a few nonzeros per row)
times the input. One record applies those matrices; its rule applies their transposes,
its mirror writes each output entry as the weighted sum of its neighbours. The matrices
are built as PyTorch's kernels compute source coordinates (nearest in float32, as they do).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from symgrad.ops._apply import apply
from symgrad.ops._record import REAL, register
from symgrad.ops.conv import _einsum
from symgrad.ops.namespaces import is_namespace, to_exact
from symgrad.tensor import Tensor, as_tensor

__all__ = ["pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle"]

#: Functions here that torch.Tensor has no method for (all of them).
NOT_METHODS = tuple(__all__)


# ================================================================ pixel shuffle
def _shuffle_axes(ndim: int) -> list[int]:
    """(*, C, r, r, H, W) -> (*, C, H, r, W, r)."""
    b = ndim - 5
    return list(range(b)) + [b, b + 3, b + 1, b + 4, b + 2]


def _unshuffle_axes(ndim: int) -> list[int]:
    """(*, C, H, r, W, r) -> (*, C, r, r, H, W)."""
    b = ndim - 5
    return list(range(b)) + [b, b + 2, b + 4, b + 1, b + 3]


def _pixel(xp, x, factor: int, inverse: bool):
    lead, (c, h, w), r = tuple(x.shape[:-3]), tuple(x.shape[-3:]), factor
    if not inverse:
        y = xp.reshape(x, lead + (c // (r * r), r, r, h, w))
        y = xp.transpose(y, _shuffle_axes(y.ndim))
        return xp.reshape(y, lead + (c // (r * r), h * r, w * r))
    y = xp.reshape(x, lead + (c, h // r, r, w // r, r))
    y = xp.transpose(y, _unshuffle_axes(y.ndim))
    return xp.reshape(y, lead + (c * r * r, h // r, w // r))


PIXEL_SHUFFLE = register(
    "pixel_shuffle", "PixelShuffleBackward0",
    forward=lambda xp, x, *, factor, inverse=False: _pixel(xp, x, factor, inverse),
    vjp=lambda xp, g, ans, x, *, factor, inverse=False: _pixel(xp, g, factor, not inverse),
    mirror=lambda x, *, factor, inverse=False: _pixel(np, x, factor, inverse),
    kind="shape", domain=(REAL,),
    examples=((((1, 4, 1, 2),), {"factor": 2}), (((2, 2, 2),), {"factor": 2,
                                                                 "inverse": True})),
)
PIXEL_UNSHUFFLE = PIXEL_SHUFFLE.variant("PixelUnshuffleBackward0")


def _check_factor(name: str, what: str, factor) -> int:
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)):
        raise TypeError(f"{name}(): argument '{what}' must be int, not "
                        f"{type(factor).__name__}")
    if factor <= 0:
        raise RuntimeError(f"{name} expects a positive {what}, but got {factor}")
    return int(factor)


def _at_least_3d(name: str, x: Tensor) -> None:
    if x.dim() < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got "
                           f"input with {x.dim()} dimension(s)")


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r): channel blocks become spatial blocks."""
    x = as_tensor(input)
    r = _check_factor("pixel_shuffle", "upscale_factor", upscale_factor)
    _at_least_3d("pixel_shuffle", x)
    if x.shape[-3] % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)="
                           f"{x.shape[-3]} is not divisible by {r * r}")
    return apply(PIXEL_SHUFFLE, x, factor=r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of pixel_shuffle."""
    x = as_tensor(input)
    r = _check_factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    _at_least_3d("pixel_unshuffle", x)
    for what, size in (("height", x.shape[-2]), ("width", x.shape[-1])):
        if size % r:
            raise RuntimeError(f"pixel_unshuffle expects {what} to be divisible by "
                               f"downscale_factor, but input.size({-2 if what == 'height' else -1})"
                               f"={size} is not divisible by {r}")
    return apply(PIXEL_UNSHUFFLE, x, factor=r, inverse=True)


# ================================================================ channel shuffle
def _channels(xp, x, groups: int):
    n, c, rest = x.shape[0], x.shape[1], tuple(x.shape[2:])
    y = xp.reshape(x, (n, groups, c // groups) + rest)
    return xp.reshape(xp.swapaxes(y, 1, 2), (n, c) + rest)


CHANNEL_SHUFFLE = register(
    "channel_shuffle", "ChannelShuffleBackward0",
    forward=lambda xp, x, *, groups: _channels(xp, x, groups),
    vjp=lambda xp, g, ans, x, *, groups: _channels(xp, g, x.shape[1] // groups),
    mirror=lambda x, *, groups: _channels(np, x, groups),
    kind="shape", domain=(REAL,),
    examples=((((1, 6, 2),), {"groups": 2}), (((2, 6),), {"groups": 3})),
)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Dimension 1 split into ``groups`` groups and interleaved: channel ``g * (C / groups)
    + i`` moves to ``i * groups + g``."""
    x = as_tensor(input)
    groups = _check_factor("channel_shuffle", "groups", groups)
    _at_least_3d("channel_shuffle", x)
    if x.shape[1] % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got "
                           f"{x.shape[1]} channels and {groups} groups.")
    return apply(CHANNEL_SHUFFLE, x, groups=groups)


def native_channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """``channel_shuffle`` (PyTorch's name for its native kernel)."""
    return channel_shuffle(input, groups)


# ================================================================ interpolation matrices
def _area_scale(n_in: int, n_out: int, align_corners: bool, scale) -> float:
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else n_in / n_out


def _nearest(n_in: int, n_out: int, scale, exact: bool) -> np.ndarray:
    s = np.float32(1.0 / scale if scale is not None and scale > 0 else n_in / n_out)
    dst = np.arange(n_out, dtype=np.float32)
    if exact:
        src = np.floor((dst + np.float32(0.5)) * s)
    elif n_out == n_in:
        src = dst
    elif n_out == 2 * n_in:
        src = np.arange(n_out) // 2
    else:
        src = np.floor(dst * s)
    src = np.minimum(src.astype(np.int64), n_in - 1)
    m = np.zeros((n_out, n_in))
    m[np.arange(n_out), src] = 1.0
    return m


def _linear(n_in: int, n_out: int, align_corners: bool, scale) -> np.ndarray:
    s = _area_scale(n_in, n_out, align_corners, scale)
    dst = np.arange(n_out, dtype=np.float64)
    src = s * dst if align_corners else np.maximum(s * (dst + 0.5) - 0.5, 0.0)
    i0 = src.astype(np.int64)
    i1 = i0 + (i0 < n_in - 1)
    l1 = np.clip(src - i0, 0.0, 1.0)
    m = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    np.add.at(m, (rows, i0), 1.0 - l1)
    np.add.at(m, (rows, i1), l1)
    return m


def _cubic_weights(t: np.ndarray, a: float = -0.75) -> list[np.ndarray]:
    """Keys' cubic convolution weights of the four neighbours at fraction ``t``."""
    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]


def _cubic(n_in: int, n_out: int, align_corners: bool, scale) -> np.ndarray:
    s = _area_scale(n_in, n_out, align_corners, scale)
    dst = np.arange(n_out, dtype=np.float64)
    src = s * dst if align_corners else s * (dst + 0.5) - 0.5
    base = np.floor(src)
    weights = _cubic_weights(src - base)
    m = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    for k, w in enumerate(weights):      # neighbours past an edge read the edge entry
        np.add.at(m, (rows, np.clip(base.astype(np.int64) - 1 + k, 0, n_in - 1)), w)
    return m


def _aa_filter(mode: str):
    """(support width, filter) of the antialiased modes: the tent for bilinear, Keys' cubic
    with a = -0.5 for bicubic (PIL's, which PyTorch follows)."""
    if mode == "bilinear":
        return 2, lambda x: np.maximum(0.0, 1.0 - np.abs(x))
    a = -0.5

    def cubic(x):
        x = np.abs(x)
        return np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                        np.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0.0))
    return 4, cubic


def _antialiased(mode: str, n_in: int, n_out: int, align_corners: bool, scale) -> np.ndarray:
    """Downsampling weights that average over the input pixels an output pixel covers: the
    filter stretched by the scale (never narrower than itself), each row normalised."""
    width, f = _aa_filter(mode)
    s = _area_scale(n_in, n_out, align_corners, scale)
    support = width / 2 * s if s >= 1 else width / 2
    stretch = 1 / s if s >= 1 else 1.0
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        center = s * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), n_in)
        w = f((np.arange(lo, hi) - center + 0.5) * stretch)
        m[i, lo:hi] = w / w.sum()
    return m


def _matrix(mode: str, n_in: int, n_out: int, align_corners: bool, scale,
            antialias: bool = False) -> np.ndarray:
    if antialias:
        m = _antialiased(mode, n_in, n_out, align_corners, scale)
    elif mode in ("nearest", "nearest-exact"):
        m = _nearest(n_in, n_out, scale, mode == "nearest-exact")
    elif mode == "bicubic":
        m = _cubic(n_in, n_out, align_corners, scale)
    else:
        m = _linear(n_in, n_out, align_corners, scale)
    m.flags.writeable = False
    return m


# ================================================================ the record
def _along(xp, x, m, axis: int):
    """``m`` (out, in) applied along ``axis`` of ``x``."""
    letters = "abcdefgh"[:x.ndim]
    out = letters[:axis] + "z" + letters[axis + 1:]
    return _einsum(xp, f"{letters},z{letters[axis]}->{out}", x, m)


def _weights_in(xp, x, m):
    """The weights as exact numbers where the namespace is exact (rule proofs), else in
    ``x``'s floating dtype, so float32 stays float32 as in PyTorch."""
    if is_namespace(xp, "sympy"):
        return to_exact(m)
    dt = getattr(x, "_data", x).dtype
    return m.astype(dt, copy=False) if dt.kind == "f" else m


def _resample(xp, x, matrices, transpose: bool):
    first = x.ndim - len(matrices)
    for d, m in enumerate(matrices):
        x = _along(xp, x, _weights_in(xp, x, m.T if transpose else m), first + d)
    return x


def _resample_mirror(x, *, matrices):
    """Each output entry as the weighted sum of the input entries its row of weights
    names, one spatial dimension after the other."""
    from symgrad.ops._sums import add_terms, times

    first = x.ndim - len(matrices)
    for d, m in enumerate(matrices):
        exact = to_exact(m)
        moved = np.moveaxis(x, first + d, -1)
        out = np.empty(moved.shape[:-1] + (m.shape[0],), dtype=object)
        for idx in np.ndindex(*moved.shape[:-1]):
            line = moved[idx]
            for o in range(m.shape[0]):
                out[idx + (o,)] = add_terms([times(exact[o, i], line[i])
                                             for i in np.flatnonzero(m[o])])
        x = np.moveaxis(out, -1, first + d)
    return x


UPSAMPLE = register(
    "upsample", "UpsampleNearest2DBackward0",
    forward=lambda xp, x, *, matrices: _resample(xp, x, matrices, False),
    vjp=lambda xp, g, ans, x, *, matrices: _resample(xp, g, matrices, True),
    mirror=_resample_mirror,
    kind="linalg", domain=(REAL,),
    examples=((((1, 1, 2, 3),), {"matrices": (_matrix("linear", 2, 3, False, None),
                                              _matrix("bicubic", 3, 4, True, None))}),
              (((1, 2, 2),), {"matrices": (_matrix("nearest", 2, 5, False, None),)})),
    doc="interpolate: fixed interpolation matrices applied along each spatial dimension",
)
_NAMES = {"nearest": "UpsampleNearest{}DBackward0",
          "nearest-exact": "UpsampleNearestExact{}DBackward0",
          "linear": "UpsampleLinear1DBackward0", "bilinear": "UpsampleBilinear2DBackward0",
          "trilinear": "UpsampleTrilinear3DBackward0", "bicubic": "UpsampleBicubic2DBackward0"}
_UPSAMPLE_OPS: dict = {}


def _upsample_op(mode: str, nd: int, antialias: bool = False):
    name = _NAMES[mode].format(nd)
    if antialias:
        name = name.replace("2DBackward0", "2DAaBackward0")
    op = _UPSAMPLE_OPS.get(name)
    if op is None:
        op = UPSAMPLE if name == UPSAMPLE.grad_fn else UPSAMPLE.variant(name)
        _UPSAMPLE_OPS[name] = op
    return op


_MODE_NDIM = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")


def _sizes(x: Tensor, nd: int, size, scale_factor, recompute_scale_factor):
    """Output sizes, and the scales the kernels are given (None: in / out is used)."""
    spatial = list(x.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        out = [size] * nd if isinstance(size, (int, np.integer)) else list(size)
        if len(out) != nd:
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of {spatial} "
                             f"and output size of {out}. Please provide input tensor in (N, C, "
                             "d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                             "format.")
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        return [int(v) for v in out], [None] * nd
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    scales = ([scale_factor] * nd if isinstance(scale_factor, (int, float))
              else list(scale_factor))
    if len(scales) != nd:
        raise ValueError(f"Input and scale_factor must have the same number of spatial "
                         f"dimensions, but got input with spatial dimensions of {spatial} and "
                         f"scale_factor of shape {scales}. Please provide input tensor in (N, "
                         "C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) "
                         "format.")
    out = [int(math.floor(float(n) * float(s))) for n, s in zip(spatial, scales)]
    return out, ([None] * nd if recompute_scale_factor else [float(s) for s in scales])


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dimensions (all but the first two) to ``size``, or by
    ``scale_factor``, with PyTorch's modes and coordinate conventions."""
    x = as_tensor(input)
    if mode not in _MODES:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {x.dim()}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | area | nearest-exact (got "
                                  f"{mode})")
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias and (mode not in ("bilinear", "bicubic") or x.dim() != 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    nd = x.dim() - 2
    if nd not in (1, 2, 3):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {x.dim()}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | area | nearest-exact (got "
                                  f"{mode})")
    if mode in _MODE_NDIM and _MODE_NDIM[mode] != nd:
        raise NotImplementedError(f"Got {x.dim()}D input, but {mode} mode needs "
                                  f"{_MODE_NDIM[mode] + 2}D input")
    out, scales = _sizes(x, nd, size, scale_factor, recompute_scale_factor)
    if any(o <= 0 for o in out):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({'x'.join(map(str, x.shape[2:]))}) and output "
                           f"({'x'.join(map(str, out))})")
    if mode == "area":
        from symgrad.ops import pooling

        return getattr(pooling, f"adaptive_avg_pool{nd}d")(x, tuple(out))
    if x._data.dtype.kind not in "fO":
        raise NotImplementedError(f"\"upsample_{mode}{nd}d_out_frame\" not implemented for "
                                  f"integer inputs")
    corners = bool(align_corners)
    matrices = tuple(_matrix(mode, n, o, corners, s, antialias)
                     for n, o, s in zip(x.shape[2:], out, scales))
    return apply(_upsample_op(mode, nd, antialias), x, matrices=matrices)


def _deprecated(name: str) -> None:
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", UserWarning, stacklevel=3)


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """The deprecated name of ``interpolate``."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Bilinear with ``align_corners=True`` (what this deprecated function always did)."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
