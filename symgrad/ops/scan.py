"""Cumulative ops: running sums and running products along a dimension."""

from __future__ import annotations

import numpy as np

from symgrad import _dtype
from symgrad.ops._apply import apply
from symgrad.ops._record import NONZERO, REAL, register
from symgrad.tensor import Tensor, _axis, as_tensor

__all__ = ["cumsum", "cumprod"]


def _reversed(a, dim: int):
    """``a`` in reverse order along ``dim`` (by indexing: the rule vocabulary has no flip)."""
    return a[(slice(None),) * dim + (np.arange(a.shape[dim] - 1, -1, -1),)]


def _tail_sums(xp, a, dim: int):
    """``sum_{i >= k} a[i]`` along ``dim``: a running sum of the reversed entries (exact
    where ``total - running`` would cancel, as products of many factors often would)."""
    return _reversed(xp.cumsum(_reversed(a, dim), dim), dim)


def _cumsum_vjp(xp, g, ans, x, *, dim):
    # out[i] = sum_{k<=i} x[k], so dx[k] = sum_{i>=k} g[i]: the reversed running sum. (As
    # total - running + g it would cancel: g = [1e20, 1, 1] gave 1, not 2, in the middle.)
    if len(g.shape) == 0:   # one term: the identity
        return g
    return _tail_sums(xp, g, dim)


CUMSUM = register(
    "cumsum", "CumsumBackward0",
    # (the reshapes keep a 0-d input 0-d, so that it records CumsumBackward0 as in PyTorch)
    forward=lambda xp, x, *, dim: xp.reshape(xp.cumsum(x, dim), x.shape),
    vjp=_cumsum_vjp,
    mirror=lambda x, *, dim: np.reshape(np.cumsum(np.asarray(x, dtype=object), axis=dim),
                                        np.shape(x)),
    kind="reduction", domain=(REAL,), params={"dim": (0, 1)},
)


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sums of ``input`` along ``dim`` (integer and bool inputs sum as int64)."""
    input = as_tensor(input)
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu":
        input = input.to(_dtype.int64)
    return apply(CUMSUM, input, dim=_axis(dim, input._data.ndim))


# ---------------------------------------------------------------- cumprod
def _cumprod_vjp(xp, g, ans, x, *, dim):
    # dx[k] = sum_{i>=k} g[i] prod_{j<=i, j!=k} x[j]. Before the first zero z1 that is
    # tail(g * out)[k] / x[k] (out is 0 from z1 on). At z1 it is the tail of g times the
    # products with x[z1] left out. Every later entry is x[z1] times the same derivative
    # with x[z1] = 1: written with the factor x[z1] (0 in value) so that derivatives of
    # this rule (create_graph) keep its term; after z1 that derivative is tail / x[k] up to
    # the second zero z2 and, at z2, the tail with x[z1] and x[z2] left out. Beyond z2 the
    # entries have two zero factors: 0, with first and second derivatives 0.
    if len(x.shape) == 0:   # one factor: the identity
        return g
    zero = xp.equal(x, 0)
    seen = xp.cumsum(xp.where(zero, 1, 0), dim)         # zeros up to and including k
    first = xp.logical_and(zero, xp.equal(seen, 1))
    second = xp.logical_and(zero, xp.equal(seen, 2))
    between = xp.logical_and(xp.logical_not(zero), xp.equal(seen, 1))
    safe = xp.where(zero, 1, x)
    x1 = xp.where(first, 1, x)
    x_z1 = xp.sum(xp.where(first, x, 0), axis=dim, keepdims=True)
    tail1 = _tail_sums(xp, g * xp.cumprod(x1, dim), dim)
    tail2 = _tail_sums(xp, g * xp.cumprod(xp.where(second, 1, x1), dim), dim)
    return xp.where(xp.equal(seen, 0), _tail_sums(xp, g * ans, dim) / safe,
                    xp.where(first, tail1,
                             xp.where(between, x_z1 * tail1 / safe,
                                      xp.where(second, x_z1 * tail2, 0))))


CUMPROD = register(
    "cumprod", "CumprodBackward0",
    # (the reshapes keep a 0-d input 0-d, as for cumsum)
    forward=lambda xp, x, *, dim: xp.reshape(xp.cumprod(x, dim), x.shape),
    vjp=_cumprod_vjp,
    mirror=lambda x, *, dim: np.reshape(np.cumprod(np.asarray(x, dtype=object), axis=dim),
                                        np.shape(x)),
    # smooth everywhere (a polynomial); the proofs run on nonzero symbols, where the rule's
    # zero branches fold away: those are checked at inputs with zeros by the tests
    kind="reduction", domain=(NONZERO,), params={"dim": (0, 1)},
)


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running products of ``input`` along ``dim`` (integer and bool inputs as int64); the
    gradient is exact where the input has zeros (no division by them)."""
    input = as_tensor(input)
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu":
        input = input.to(_dtype.int64)
    return apply(CUMPROD, input, dim=_axis(dim, input._data.ndim))
