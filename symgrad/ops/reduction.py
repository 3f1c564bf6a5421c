"""Reductions: sum and mean (all entries, or over ``dim`` with ``keepdim``).

Rules return the gradient with the reduced axes kept as size 1 (or as a 0-d value for a
full reduction); the node broadcasts it back to the argument's shape.
"""

from __future__ import annotations

import math

import numpy as np

from symgrad import _dtype
from symgrad.ops._apply import apply
from symgrad.ops._record import REAL, register
from symgrad.ops._util import norm_dims
from symgrad.tensor import Tensor

__all__ = ["sum", "mean"]

_sum = sum


def _kept(xp, g, dim, keepdim):
    """``g`` with the reduced axes put back as size 1, ready to broadcast."""
    if keepdim or dim is None:
        return g
    return xp.expand_dims(g, dim)


SUM = register(
    "sum", "SumBackward0",
    forward=lambda xp, x, dim=None, keepdim=False: xp.sum(x, axis=dim, keepdims=keepdim),
    vjp=lambda xp, g, ans, x, dim=None, keepdim=False: _kept(xp, g, dim, keepdim),
    mirror=lambda x, dim=None, keepdim=False: np.sum(x, axis=dim, keepdims=keepdim),
    kind="reduction", domain=(REAL,),
    params={"dim": (None, (0,), (1,)), "keepdim": (False, True)},
)
SUM_DIM = SUM.variant("SumBackward1")


def _reduce_args(input: Tensor, dim, name: str):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}() expects a Tensor, got {type(input).__name__}")
    dims = norm_dims(dim, input._data.ndim)
    if dims == () and input._data.ndim > 0:
        dims = None
    return dims


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum of all entries, or over ``dim`` (an int or a tuple), keeping it if ``keepdim``."""
    dims = _reduce_args(input, dim, "sum")
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "bi" and input._data.dtype != np.int64:
        input = input.to(_dtype.int64)
    if dims is None:
        if keepdim:
            return apply(SUM, input, keepdim=True)
        return apply(SUM, input)
    if input._data.ndim == 0:
        return apply(SUM_DIM, input, keepdim=keepdim)
    return apply(SUM_DIM, input, dim=dims, keepdim=keepdim)


def _count(x, dim) -> int:
    shape = x.shape
    if dim is None:
        return math.prod(shape)
    return math.prod(shape[d] for d in dim)


MEAN = register(
    "mean", "MeanBackward0",
    forward=lambda xp, x, dim=None, keepdim=False: (
        xp.sum(x, axis=dim, keepdims=keepdim) / _count(x, dim)),
    vjp=lambda xp, g, ans, x, dim=None, keepdim=False: _kept(xp, g, dim, keepdim) / _count(x, dim),
    mirror=lambda x, dim=None, keepdim=False: (
        np.sum(x, axis=dim, keepdims=keepdim) / _count(x, dim)),
    kind="reduction", domain=(REAL,),
    params={"dim": (None, (0,), (1,)), "keepdim": (False, True)},
)
MEAN_DIM = MEAN.variant("MeanBackward1")


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Arithmetic mean of all entries, or over ``dim``."""
    dims = _reduce_args(input, dim, "mean")
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f" and input._data.dtype != object:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be a floating point dtype, "
            f"got {input.dtype!r}; convert it first (e.g. t.double().mean())")
    if dims is None:
        if keepdim:
            return apply(MEAN, input, keepdim=True)
        return apply(MEAN, input)
    return apply(MEAN_DIM, input, dim=dims, keepdim=keepdim)
