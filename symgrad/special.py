"""``torch.special`` as ``symgrad.special``: PyTorch's names for the special functions that
symgrad has (every one is the op of ``symgrad.ops`` itself, so gradients, node names and
the SymPy mirrors are those of the op).

``ndtr``, ``log_ndtr``, ``xlog1py`` and ``multigammaln`` are compositions of those ops;
``erfc`` and ``entr`` are op records of their own.

Not here (symgrad has no such op yet): erfcx, ndtri, zeta, the Bessel J / Y / K functions and
the orthogonal-polynomial families.
"""

from __future__ import annotations

import math
from typing import Any
from collections.abc import Callable

import numpy as np

from symgrad import ops
from symgrad.ops.elementwise import _floating
from symgrad.ops._util import type_name
from symgrad.ops import special as _bessel_ops
from symgrad.ops.numbers import entr as _entr_op
from symgrad.ops.special import bessel as _bessel
from symgrad.tensor import Tensor
from symgrad.tensor import as_tensor as _as_tensor

__all__ = ["expit", "logit", "erf", "erfinv", "xlogy", "gammaln", "digamma", "psi",
           "polygamma", "sinc", "log_softmax", "softmax", "logsumexp", "expm1", "exp2",
           "log1p", "round", "erfc", "ndtr", "log_ndtr", "entr", "xlog1py", "multigammaln",
           "i0", "i0e", "i1", "i1e", "gammainc", "gammaincc"]


def _tensor(x: Any, fn: str, name: str = "input", position: int = 1) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"special_{fn}(): argument '{name}' (position {position}) must be "
                        f"Tensor, not {type(x).__name__}")


def _unary(fn: Callable, name: str) -> Callable:
    def special(input: Tensor) -> Tensor:
        _tensor(input, name)
        return fn(input)
    special.__name__ = special.__qualname__ = name
    special.__doc__ = f"``torch.special.{name}``: ``{fn.__name__}``."
    return special


expit = _unary(ops.sigmoid, "expit")
erf = _unary(ops.erf, "erf")
erfinv = _unary(ops.erfinv, "erfinv")
gammaln = _unary(ops.lgamma, "gammaln")
digamma = _unary(ops.digamma, "digamma")
psi = _unary(ops.digamma, "psi")
sinc = _unary(ops.sinc, "sinc")
expm1 = _unary(ops.expm1, "expm1")
exp2 = _unary(ops.exp2, "exp2")
log1p = _unary(ops.log1p, "log1p")
erfc = _unary(ops.erfc, "erfc")
i0 = _unary(ops.i0, "i0")
i0e = _unary(lambda x: _bessel(_bessel_ops.I0E, x), "i0e")
i1 = _unary(lambda x: _bessel(_bessel_ops.I1, x), "i1")
i1e = _unary(lambda x: _bessel(_bessel_ops.I1E, x), "i1e")


def gammainc(input: Tensor, other: Tensor) -> Tensor:
    """``torch.special.gammainc``: the regularized lower incomplete gamma function."""
    return ops.igamma(input, other)


def gammaincc(input: Tensor, other: Tensor) -> Tensor:
    """``torch.special.gammaincc``: the regularized upper incomplete gamma function."""
    return ops.igammac(input, other)


def ndtr(input: Tensor) -> Tensor:
    """The standard normal CDF, ``erfc(-x / sqrt(2)) / 2`` (accurate in the lower tail)."""
    _tensor(input, "ndtr")
    return ops.mul(ops.erfc(ops.mul(_floating(input), -1 / math.sqrt(2))), 0.5)


def log_ndtr(input: Tensor) -> Tensor:
    """``log(ndtr(x))``; -inf once ndtr underflows (below about x = -38)."""
    _tensor(input, "log_ndtr")
    return ops.log(ndtr(input))


def entr(input: Tensor) -> Tensor:
    """``-x * log(x)``: 0 at 0, -inf below 0."""
    _tensor(input, "entr")
    return _entr_op(input)


def xlog1py(input, other) -> Tensor:
    """``input * log1p(other)``, 0 where input is 0 (unless other is nan)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"special_xlog1py() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(other).__name__})")
    x, y = _floating(_as_tensor(input)), _floating(_as_tensor(other))
    out = ops.mul(x, ops.log1p(y))
    # 0 * log1p(-1) would be nan: PyTorch gives 0 wherever input is 0 (other not nan)
    zero = np.logical_and(x._data == 0, y._data == -1)
    return ops.where(Tensor._wrap(zero), 0.0, out) if zero.any() else out


def multigammaln(input: Tensor, p: int) -> Tensor:
    """The log of the multivariate gamma function of dimension ``p``."""
    _tensor(input, "multigammaln")
    return ops.mvlgamma(input, p)


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """``torch.special.logit``: ``log(p / (1 - p))``, p clamped to [eps, 1 - eps] if given."""
    _tensor(input, "logit")
    return ops.logit(input, eps)


def xlogy(input, other) -> Tensor:
    """``torch.special.xlogy``: ``input * log(other)``, 0 where input is 0 (a number is
    allowed on one side, not both)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"special_xlogy() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(other).__name__})")
    return ops.xlogy(input, other)


def polygamma(n: int, input: Tensor) -> Tensor:
    """``torch.special.polygamma``: the n-th derivative of digamma."""
    _tensor(input, "polygamma", position=2)
    return ops.polygamma(n, input)


def log_softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """``torch.special.log_softmax`` (``dim`` is required)."""
    _tensor(input, "log_softmax")
    return ops.log_softmax(input, dim, dtype=dtype)


def softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """``torch.special.softmax`` (``dim`` is required)."""
    _tensor(input, "softmax")
    return ops.softmax(input, dim, dtype=dtype)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``torch.special.logsumexp`` (``dim`` is required)."""
    _tensor(input, "logsumexp")
    return ops.logsumexp(input, dim, keepdim)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001
    """``torch.special.round``: round half to even, at ``decimals`` places."""
    _tensor(input, "round")
    if not input.dtype.is_floating_point:     # unlike torch.round, an integer kernel is missing
        raise NotImplementedError(f"\"round_vml_cpu\" not implemented for "
                                  f"'{type_name(input)}'")
    return ops.round(input, decimals=decimals)
