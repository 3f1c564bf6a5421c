"""``symgrad.nn.functional``: PyTorch's functional API over the op table.

Most entries are the ops themselves; the wrappers here only add what PyTorch's functional
signatures add on top (``inplace=``, and softmax's deprecated implicit ``dim``).
"""

from __future__ import annotations

import warnings

import numpy as np

from symgrad._dtype import get_default_dtype
from symgrad.factories import _rng
from symgrad.ops import elementwise as _ew
from symgrad.ops import reduction as _red
from symgrad.nn._attention import scaled_dot_product_attention  # noqa: F401
from symgrad.ops._util import type_name
from symgrad.ops.activations import (celu, glu, hardshrink, hardsigmoid, hardswish,  # noqa: F401
                                     mish, prelu, rrelu, selu, softshrink, threshold)
from symgrad.ops.compose import (cosine_similarity, embedding, layer_norm, normalize,  # noqa: F401
                                 one_hot, pad, pairwise_distance, softsign, tanhshrink)
from symgrad.ops.conv import (conv1d, conv2d, conv3d, conv_tbc,  # noqa: F401
                              conv_transpose1d, conv_transpose2d, conv_transpose3d)
from symgrad.ops.inplace import inplace as inplace_op
from symgrad.ops.pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d,  # noqa: F401
                                 adaptive_avg_pool3d, adaptive_max_pool1d,
                                 adaptive_max_pool1d_with_indices, adaptive_max_pool2d,
                                 adaptive_max_pool2d_with_indices, adaptive_max_pool3d,
                                 adaptive_max_pool3d_with_indices, avg_pool1d, avg_pool2d,
                                 avg_pool3d, lp_pool1d, lp_pool2d, lp_pool3d, max_pool1d,
                                 max_pool1d_with_indices, max_pool2d, max_pool2d_with_indices,
                                 max_pool3d, max_pool3d_with_indices, max_unpool1d,
                                 max_unpool2d, max_unpool3d)
from symgrad.ops.elementwise import (elu, gelu, hardtanh, leaky_relu, logsigmoid,  # noqa: F401
                                     relu6, silu, softplus)
from symgrad.ops.ctc import ctc_loss  # noqa: F401
from symgrad.ops.grid import affine_grid, grid_sample  # noqa: F401
from symgrad.ops.linalg import linear  # noqa: F401
from symgrad.ops.nn_compose import (embedding_bag, local_response_norm,  # noqa: F401
                                    multilabel_margin_loss, triplet_margin_with_distance_loss)
from symgrad.ops.resample import (channel_shuffle, interpolate,  # noqa: F401
                                  native_channel_shuffle, pixel_shuffle, pixel_unshuffle,
                                  upsample, upsample_bilinear, upsample_nearest)
from symgrad.ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: F401
                              cross_entropy, huber_loss, kl_div, l1_loss, mse_loss, nll_loss,
                              smooth_l1_loss, margin_ranking_loss, hinge_embedding_loss,
                              soft_margin_loss, multilabel_soft_margin_loss,
                              cosine_embedding_loss, triplet_margin_loss, multi_margin_loss,
                              poisson_nll_loss, gaussian_nll_loss)
from symgrad.ops.normalization import (batch_norm, bilinear, fold,  # noqa: F401
                                       group_norm, instance_norm, pdist, rms_norm, unfold)
from symgrad.tensor import Tensor

__all__ = ["affine_grid", "alpha_dropout", "batch_norm", "bilinear", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "celu", "celu_", "cosine_embedding_loss",
           "cosine_similarity", "cross_entropy", "ctc_loss", "dropout", "dropout1d", "dropout2d",
           "dropout3d",
           "elu", "elu_", "embedding", "feature_alpha_dropout", "fold", "gaussian_nll_loss",
           "gelu", "glu", "grid_sample", "group_norm", "gumbel_softmax", "hardshrink",
           "hardsigmoid", "hardswish",
           "hardtanh", "hardtanh_", "hinge_embedding_loss", "huber_loss", "instance_norm",
           "kl_div", "l1_loss", "layer_norm", "leaky_relu", "leaky_relu_", "linear", "log_softmax",
           "logsigmoid", "margin_ranking_loss", "mish", "mse_loss", "multi_margin_loss",
           "multilabel_soft_margin_loss", "nll_loss", "normalize", "one_hot", "pad",
           "pairwise_distance", "pdist", "poisson_nll_loss", "prelu", "relu", "relu6", "relu_",
           "rms_norm", "rrelu", "rrelu_", "selu", "selu_", "sigmoid", "silu", "smooth_l1_loss",
           "soft_margin_loss", "softmax", "softmin", "softplus", "softshrink", "softsign", "tanh",
           "tanhshrink", "threshold", "threshold_", "triplet_margin_loss", "unfold"]
# convolution, pooling, resampling and attention (symgrad.ops.conv, pooling, resample)
__all__ += ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
            "adaptive_max_pool1d", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d",
            "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d",
            "adaptive_max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d",
            "channel_shuffle", "conv1d", "conv2d", "conv3d", "conv_tbc", "conv_transpose1d",
            "conv_transpose2d", "conv_transpose3d", "interpolate", "lp_pool1d", "lp_pool2d",
            "lp_pool3d", "max_pool1d", "max_pool1d_with_indices", "max_pool2d",
            "max_pool2d_with_indices", "max_pool3d", "max_pool3d_with_indices",
            "max_unpool1d", "max_unpool2d", "max_unpool3d", "native_channel_shuffle",
            "pixel_shuffle", "pixel_unshuffle",
            "scaled_dot_product_attention", "upsample",
            "upsample_bilinear", "upsample_nearest", "embedding_bag", "local_response_norm",
            "multilabel_margin_loss", "triplet_margin_with_distance_loss"]


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)``; with ``inplace`` the result is written into ``input``."""
    return input.relu_() if inplace else _ew.relu(input)


def relu_(input: Tensor) -> Tensor:
    return input.relu_()


def sigmoid(input: Tensor) -> Tensor:
    return _ew.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    return _ew.tanh(input)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def selu_(input: Tensor) -> Tensor:
    return selu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, inplace=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return globals()["threshold"](input, threshold, value, inplace=True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    return rrelu(input, lower, upper, training, inplace=True)


def _implicit_dim(name: str, ndim: int, stacklevel: int = 3) -> int:
    # PyTorch still accepts a missing dim, warns, and picks 0 for 0-, 1- and 3-d inputs
    # and 1 otherwise; code ported from old tutorials relies on it.
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``."""
    if dim is None:
        dim = _implicit_dim("softmax", input.dim(), _stacklevel)
    return _red.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``, without overflow."""
    if dim is None:
        dim = _implicit_dim("log_softmax", input.dim(), _stacklevel)
    return _red.log_softmax(input, dim, dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """``softmax(-x)`` along ``dim``: weights that favour the smallest entries."""
    if dim is None:
        dim = _implicit_dim("softmin", input.dim(), _stacklevel)
    return _red.softmax(_ew.neg(input), dim, dtype=dtype)


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each entry with probability ``p`` and scale the rest by ``1 / (1 - p)`` (the
    expected value is kept), drawing from symgrad's generator (``manual_seed``).

    Outside training, with ``p = 0`` or an empty input, ``input`` itself is returned."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    p = float(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    dt = input._data.dtype
    if p == 1:
        noise = np.zeros((), dtype=dt)
    else:
        if dt.kind not in "fO" and not inplace:  # PyTorch scales the noise in input's dtype
            raise RuntimeError(f"result type {type_name(get_default_dtype())} can't be cast to "
                               f"the desired output type {type_name(input)}")
        keep = _rng().random(input._data.shape) < 1 - p
        noise = keep.astype(dt) / dt.type(1 - p) if dt.kind == "f" else keep / (1 - p)
    noise_t = Tensor._wrap(np.asarray(noise))
    return input.mul_(noise_t) if inplace else _ew.mul(input, noise_t)


def _check_p(p: float) -> float:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _channel_dropout(name: str, input: Tensor, p: float, training: bool, inplace: bool,
                     dims: tuple[int, ...]) -> Tensor:
    """Zero whole channels (dimension 1 of a batched input, 0 of an unbatched one) with
    probability ``p``, scaling the rest by ``1 / (1 - p)``; identity outside training."""
    p = _check_p(p)
    if input.dim() not in dims:
        raise RuntimeError(f"{name}: Expected {' or '.join(f'{d}D' for d in dims)} input, but "
                           f"received a {input.dim()}D input.")
    if not training or p == 0 or input.numel() == 0:
        return input
    shape = input.shape
    batched = input.dim() == max(dims)
    if name == "dropout2d" and input.dim() == 3:   # (N, C, L), as PyTorch still reads it
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.",
                      UserWarning, stacklevel=3)
        batched = True
    lead = 2 if batched else 1
    noise_shape = tuple(shape[:lead]) + (1,) * (input.dim() - lead)
    dt = input._data.dtype
    keep = _rng().random(noise_shape) < 1 - p
    noise = np.zeros(noise_shape, dt) if p == 1 else keep.astype(dt) / dt.type(1 - p)
    noise_t = Tensor._wrap(np.asarray(noise))
    return input.mul_(noise_t) if inplace else _ew.mul(input, noise_t)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    return _channel_dropout("dropout1d", input, p, training, inplace, (2, 3))


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    return _channel_dropout("dropout2d", input, p, training, inplace, (3, 4))


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    return _channel_dropout("dropout3d", input, p, training, inplace, (4, 5))


_SELU_NEG = 1.7580993408473766   # -selu(-inf): the value a dropped selu activation takes


def _alpha_dropout(input: Tensor, p: float, training: bool, noise_shape,
                   inplace: bool = False) -> Tensor:
    p = _check_p(p)
    if not training or p == 0 or input.numel() == 0:
        return input
    dt = input._data.dtype
    if p == 1:
        scale, shift = np.zeros((), dt), None
    else:
        keep = (_rng().random(noise_shape) < 1 - p).astype(dt)
        a = 1.0 / np.sqrt((_SELU_NEG ** 2 * p + 1) * (1 - p))
        scale = keep * dt.type(a)
        shift = ((keep - 1) * (_SELU_NEG * a) + _SELU_NEG * a * p).astype(dt)

    def alpha_dropout(x: Tensor) -> Tensor:
        out = _ew.mul(x, Tensor._wrap(scale))
        return out if shift is None else _ew.add(out, Tensor._wrap(shift))

    return inplace_op(input, alpha_dropout) if inplace else alpha_dropout(input)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for selu networks: dropped entries take selu's negative saturation value and
    an affine map keeps mean and variance; identity outside training."""
    return _alpha_dropout(input, p, training, input._data.shape, inplace)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """alpha_dropout of whole channels (dimension 1)."""
    shape = tuple(input.shape[:2]) + (1,) * max(input.dim() - 2, 0)
    return _alpha_dropout(input, p, training, shape, inplace)


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """``softmax((logits + g) / tau)`` with Gumbel(0, 1) noise ``g`` drawn from symgrad's
    generator; ``hard`` returns the one-hot argmax with the soft sample's gradient."""
    dt = logits._data.dtype
    gumbels = -np.log(_rng().exponential(1.0, logits._data.shape)).astype(dt)
    y_soft = _red.softmax(_ew.div(_ew.add(logits, Tensor._wrap(gumbels)), tau), dim)
    if not hard:
        return y_soft
    soft = y_soft._data
    index = np.expand_dims(np.argmax(soft, axis=dim), dim)
    hard_np = np.zeros_like(soft)
    np.put_along_axis(hard_np, index, 1, axis=dim)
    return _ew.add(_ew.sub(Tensor._wrap(hard_np), y_soft.detach()), y_soft)
