"""Cumulative ops: running sums along a dimension."""

from __future__ import annotations

import numpy as np

from symgrad import _dtype
from symgrad.ops._apply import apply
from symgrad.ops._record import REAL, register
from symgrad.tensor import Tensor, _axis, as_tensor

__all__ = ["cumsum"]


def _cumsum_vjp(xp, g, ans, x, *, dim):
    # out[i] = sum_{k<=i} x[k], so dx[k] = sum_{i>=k} g[i]: the reversed running sum,
    # written as total - running + g to need no flip.
    return xp.sum(g, axis=dim, keepdims=True) - xp.cumsum(g, dim) + g


CUMSUM = register(
    "cumsum", "CumsumBackward0",
    forward=lambda xp, x, *, dim: xp.cumsum(x, dim),
    vjp=_cumsum_vjp,
    mirror=lambda x, *, dim: np.cumsum(np.asarray(x, dtype=object), axis=dim),
    kind="reduction", domain=(REAL,), params={"dim": (0, 1)},
)


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sums of ``input`` along ``dim`` (integer and bool inputs sum as int64)."""
    input = as_tensor(input)
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu":
        input = input.to(_dtype.int64)
    if input._data.ndim == 0:
        return apply(CUMSUM, input.reshape(1), dim=0).reshape(())
    return apply(CUMSUM, input, dim=_axis(dim, input._data.ndim))
