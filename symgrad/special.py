"""``torch.special`` as ``symgrad.special``: PyTorch's names for the special functions that
symgrad has (every one is the op of ``symgrad.ops`` itself, so gradients, node names and
the SymPy mirrors are those of the op).

Not here (symgrad has no such op yet): erfc, erfcx, ndtr, ndtri, log_ndtr, i0, i0e, i1,
entr, xlog1py, multigammaln, zeta and the Bessel / orthogonal-polynomial families.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from symgrad import ops
from symgrad.ops._util import type_name
from symgrad.tensor import Tensor

__all__ = ["expit", "logit", "erf", "erfinv", "xlogy", "gammaln", "digamma", "psi",
           "polygamma", "sinc", "log_softmax", "softmax", "logsumexp", "expm1", "exp2",
           "log1p", "round"]


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
