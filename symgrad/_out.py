"""``out=``: the torch.* functions that PyTorch programs call with an output tensor
(``torch.matmul(a, b, out=y)``) write their result into it, as PyTorch does.

Only the namespace functions get the keyword (Tensor methods and operators call the op
functions directly, so the hot path pays nothing). The result is computed as usual and
copied in: resized first if its shape differs (with PyTorch's warning when the output
had entries), cast to the output's dtype where PyTorch casts, and refused while a
gradient would be recorded, since a write into ``out`` has no place in the graph.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any
from collections.abc import Callable

import numpy as np

from symgrad.autograd import grad_mode
from symgrad.tensor import Tensor

__all__ = ["OUT_FUNCTIONS", "with_out"]

#: The torch.* functions given ``out=`` (single-tensor results).
OUT_FUNCTIONS = (
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "matmul",
    "mm", "bmm", "mv", "dot", "outer", "addmm", "cat", "concat", "concatenate", "stack",
    "exp", "log", "log1p", "expm1", "log2", "log10", "sqrt", "rsqrt", "abs", "neg",
    "negative", "sin", "cos", "tan", "tanh", "sigmoid", "clamp", "clip", "pow", "maximum",
    "minimum", "where", "sum", "mean", "prod", "cumsum", "cumprod", "floor", "ceil", "round",
    "trunc", "sign", "reciprocal", "square", "remainder", "fmod", "atan2", "lerp", "erf",
    "sinh", "cosh", "asin", "acos", "atan", "logsumexp", "softmax", "log_softmax", "norm",
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not",
)


def with_out(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``fn`` taking an optional keyword ``out``."""
    @functools.wraps(fn)
    def call(*args: Any, out: Tensor | None = None, **kwargs: Any) -> Tensor:
        if out is None:
            return fn(*args, **kwargs)
        return write_out(fn.__name__, fn(*args, **kwargs), out)

    return call


def write_out(name: str, result: Tensor, out: Any) -> Tensor:
    """Copy ``result`` into ``out`` (PyTorch's checks and resizing) and return ``out``."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if grad_mode._state.enabled and (result._requires_grad or out._requires_grad):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    src, dst = result._data, out._data
    if src.dtype != dst.dtype and not np.can_cast(src.dtype, dst.dtype, casting="same_kind"):
        from symgrad.ops._util import type_name

        raise RuntimeError(f"result type {type_name(result)} can't be cast to the desired "
                           f"output type {type_name(out)}")
    if dst.shape != src.shape:
        if dst.size:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(dst.shape)}, which does not match the required output shape "
                f"{list(src.shape)}. This behavior is deprecated: resize the output to zero "
                "elements first (t.resize_(0)) to reuse it.", UserWarning, stacklevel=3)
        out._data = dst = np.empty(src.shape, dst.dtype)
    np.copyto(dst, src, casting="unsafe")
    out._vc[0] += 1
    return out
