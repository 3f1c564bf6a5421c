"""Sample statistics and polynomial tables: cov, corrcoef, vander; the log-determinants
logdet, slogdet; and the deprecated frobenius_norm.

Compositions of recorded ops, written as PyTorch composes them (cov: weighted mean,
centred product, division by the degrees of freedom; vander: a cumulative product of the
repeated input, so the derivative at 0 is exact), so gradients agree with PyTorch's.
"""

from __future__ import annotations

import warnings

import numpy as np

from symgrad import _dtype
from symgrad.ops import elementwise as ew
from symgrad.ops import reduction as red
from symgrad.ops import shape as sh
from symgrad.ops.compose import diagonal
from symgrad.ops.linalg import matmul
from symgrad.ops.matrix import det
from symgrad.ops.reduction import _named_result, return_types
from symgrad.ops.scan import cumprod
from symgrad.ops._util import tensor_input, type_name
from symgrad.tensor import Tensor, as_tensor

__all__ = ["cov", "corrcoef", "vander", "logdet", "slogdet", "frobenius_norm"]

NOT_METHODS = ("vander", "frobenius_norm")

return_types.slogdet = _named_result("slogdet", ("sign", "logabsdet"))


def _observations(input, name: str) -> Tensor:
    x = as_tensor(input)
    if x._data.ndim > 2:
        raise RuntimeError(f"{name}(): expected input to have two or fewer dimensions but got "
                           f"an input with {x._data.ndim} dimensions")
    if x._data.dtype.kind in "biu":
        x = ew._floating(x)
    return sh.reshape(x, (1, -1)) if x._data.ndim < 2 else x


def _weights(w, n: int, name: str, integral: bool) -> Tensor | None:
    if w is None:
        return None
    w = as_tensor(w)
    if w._data.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                           f"{name} with {w._data.ndim} dimensions")
    if w.numel() != n:
        raise RuntimeError(f"cov(): expected {name} to have the same number of elements as "
                           f"the number of observations {n} but got {w.numel()}")
    if integral and w._data.dtype.kind not in "iu":
        raise RuntimeError(f"cov(): expected fweights to have integral dtype but got "
                           f"fweights with {type_name(w)} dtype")
    if not integral and w._data.dtype.kind != "f":
        raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got "
                           f"aweights with {type_name(w)} dtype")
    if np.any(w._data < 0):
        raise RuntimeError(f"cov(): expected {name} to be non-negative")
    return w


def cov(input, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:
    """The covariance matrix of the variables in the rows of ``input`` (observations in
    columns; a vector is one variable, giving a 0-d result), optionally weighted by the
    integer frequencies ``fweights`` and the observation weights ``aweights``."""
    was_vector = tensor_input(input)._data.ndim < 2
    x = _observations(input, "cov")
    n = x._data.shape[1]
    fw = _weights(fweights, n, "fweights", True)
    aw = _weights(aweights, n, "aweights", False)
    w = fw if aw is None else aw if fw is None else ew.mul(fw, aw)
    if w is None:
        w_sum = float(n)
        avg = red.mean(x, 1)
    else:
        w = w.to(x.dtype) if w._data.dtype != x._data.dtype else w
        w_sum = red.sum(w)
        avg = ew.div(red.sum(ew.mul(x, w), 1), w_sum)
    if w is None:
        norm = w_sum - correction
    elif aw is None:
        norm = ew.sub(w_sum, correction)
    else:
        norm = ew.sub(w_sum, ew.div(ew.mul(red.sum(ew.mul(w, aw)), correction), w_sum))
    norm_value = float(np.asarray(norm._data if isinstance(norm, Tensor) else norm))
    if norm_value <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        norm = 0.0
    xm = ew.sub(x, sh.unsqueeze(avg, 1))
    xw = xm if w is None else ew.mul(xm, w)
    c = ew.div(matmul(xw, sh.transpose(xm, 0, 1)), norm)
    return sh.reshape(c, ()) if was_vector and x._data.shape[0] == 1 else c


def corrcoef(input) -> Tensor:
    """Pearson correlation coefficients of the rows of ``input``, clipped to [-1, 1]."""
    c = cov(input)
    if c._data.ndim == 0:
        return ew.div(c, c)
    std = ew.sqrt(diagonal(c))
    c = ew.div(c, sh.unsqueeze(std, 1))
    c = ew.div(c, sh.unsqueeze(std, 0))
    return ew.clamp(c, -1, 1)


def increasing_powers(v: Tensor, n: int) -> Tensor:
    """``v**0, v**1, ..., v**(n-1)`` along a new last dimension, as a cumulative product of
    ``[1, v, v, ...]`` (so the derivative at 0 is exact, as PyTorch composes it)."""
    shape = tuple(v._data.shape)
    ones = Tensor._wrap(np.ones(shape + (1,), dtype=v._data.dtype))
    if n == 0:
        return Tensor._wrap(np.zeros(shape + (0,), dtype=v._data.dtype))
    if n == 1:
        return ones
    reps = sh.expand(sh.unsqueeze(v, -1), shape + (n - 1,))
    return cumprod(sh.cat([ones, reps], -1), -1)


def vander(x, N: int | None = None, increasing: bool = False) -> Tensor:
    """The matrix of powers ``x**(N-1), ..., x, 1`` of a vector (ascending with
    ``increasing``)."""
    v = as_tensor(x)
    if v._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = v._data.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if v._data.dtype.kind == "b" or v._data.dtype.kind in "iu" and v._data.dtype != np.int64:
        v = v.to(_dtype.int64)
    out = increasing_powers(v, n)
    return out if increasing or n == 0 else sh.flip(out, 1)


# ================================================================ log-determinants
def _floating_matrix(input, name: str) -> Tensor:
    a = as_tensor(input)
    if a._data.ndim < 2 or a._data.shape[-1] != a._data.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they "
                           f"are {' by '.join(map(str, a._data.shape[-2:]))} matrices")
    if a._data.dtype.kind not in "fO":
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as "
                           f"input. Got {type_name(a)}")
    return a


def logdet(input) -> Tensor:
    """``log(det(input))``: nan for a negative determinant, -inf for a singular matrix."""
    return ew.log(det(_floating_matrix(input, "logdet")))


def slogdet(input):
    """``(sign, log|det|)`` of square matrices; the sign carries no gradient."""
    d = det(_floating_matrix(input, "slogdet"))
    return return_types.slogdet(ew.sign(d).detach(), ew.log(ew.abs(d)))


def frobenius_norm(input, dim, keepdim: bool = False) -> Tensor:
    """The 2-norm over ``dim`` (PyTorch's deprecated name for ``vector_norm(input, 2, dim)``)."""
    return red.vector_norm(as_tensor(input), 2, dim, keepdim)
