"""Finite differences and integrals of samples: diff, gradient, trapezoid (trapz) and
cumulative_trapezoid.

Compositions of narrow, sub, mul, sum and cumsum: their gradients are those ops' proved
rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgrad import _dtype
from symgrad.ops import elementwise as ew
from symgrad.ops import shape as sh
from symgrad.ops._util import tensor_input
from symgrad.ops.reduction import sum as _sum
from symgrad.ops.scan import cumsum
from symgrad.tensor import Tensor, _axis, as_tensor

__all__ = ["diff", "trapezoid", "trapz", "cumulative_trapezoid", "gradient"]

#: Functions here that torch.Tensor has no method for.
NOT_METHODS = ("trapezoid", "trapz", "cumulative_trapezoid", "gradient")


def _steps(x: Tensor, d: int) -> tuple[Tensor, Tensor]:
    """The entries along ``d`` without the first, and without the last."""
    n = x._data.shape[d]
    return sh.narrow(x, d, 1, n - 1), sh.narrow(x, d, 0, n - 1)


def _edge(t, x: Tensor, d: int, what: str) -> Tensor:
    t = as_tensor(t)
    if t._data.ndim != x._data.ndim:
        raise RuntimeError(f"diff expects {what} to be the same dimension as input")
    return t


def diff(input, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """The n-th forward difference along ``dim`` (``prepend`` / ``append`` joined first);
    for bools, ``!=`` of neighbours, as PyTorch."""
    x = as_tensor(input)
    if x._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _axis(dim, x._data.ndim)
    parts = [p for p in (_edge(prepend, x, d, "prepend or append") if prepend is not None
                         else None, x,
                         _edge(append, x, d, "prepend or append") if append is not None
                         else None) if p is not None]
    if len(parts) > 1:
        x = sh.cat(parts, d)
    for _ in range(n):
        if x._data.shape[d] == 0:
            break
        later, earlier = _steps(x, d)
        x = ew.ne(later, earlier) if x._data.dtype == np.bool_ else ew.sub(later, earlier)
    return sh.clone(x) if x is input else x   # (n = 0: a copy, never the input itself)


def _floating(y: Tensor) -> Tensor:
    return y.to(_dtype.get_default_dtype()) if y._data.dtype.kind in "biu" else y


def _spacing(x: Any, y: Tensor, d: int) -> Tensor:
    """The widths ``x[i+1] - x[i]`` in a shape that broadcasts against ``y``'s segments: a
    1-d ``x`` lies along ``d``, a full one broadcasts as it is."""
    x = as_tensor(x)
    n = y._data.shape[d]
    if x._data.ndim == 1:
        if x._data.shape[0] != n:
            raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
        later, earlier = _steps(x, 0)
        widths = ew.sub(later, earlier)
        return sh.reshape(widths, (n - 1,) + (1,) * (y._data.ndim - 1 - d))
    later, earlier = _steps(x, _axis(d - y._data.ndim, x._data.ndim))
    return ew.sub(later, earlier)


def _segments(y, x, dx, dim: int, name: str) -> tuple[Tensor, int]:
    """The areas of the trapezoids along ``dim``, and that dimension."""
    y = as_tensor(y)
    if isinstance(x, Tensor) and x._data.dtype.kind == "f" and y._data.dtype.kind in "biu":
        y = y.to(x.dtype)
    y = _floating(y)
    if x is not None and dx is not None:
        raise TypeError(f"{name}(): pass either x or dx, not both")
    d = _axis(dim, max(y._data.ndim, 1))
    if y._data.ndim == 0:
        raise IndexError("Dimension out of range (expected a tensor with at least 1 "
                         "dimension)")
    n = y._data.shape[d]
    if n == 0:
        return sh.narrow(y, d, 0, 0), d
    later, earlier = _steps(y, d)
    heights = ew.add(later, earlier)
    width = _spacing(x, y, d) if x is not None else (1 if dx is None else dx)
    return ew.div(ew.mul(heights, width), 2), d


def trapezoid(y, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along ``dim``: samples ``y`` at points ``x`` (or spaced ``dx``,
    default 1)."""
    segments, d = _segments(y, x, dx, dim, "trapezoid")
    return _sum(segments, d)


def trapz(y, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """``trapezoid`` under its older name."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The running trapezoidal integral along ``dim`` (one entry fewer than ``y``)."""
    segments, d = _segments(y, x, dx, dim, "cumulative_trapezoid")
    return cumsum(segments, d)


# ================================================================ gradient (numpy's scheme)
def _weighted(parts: list, coefs: list, d: int, nd: int, dt) -> Tensor:
    """``sum_k coefs[k] * parts[k]``, each coefficient (a number or a vector along ``d``)
    broadcast along dimension ``d``."""
    out = None
    for part, c in zip(parts, coefs):
        c = np.asarray(c, dtype=dt)
        if c.ndim:
            c = c.reshape((-1,) + (1,) * (nd - 1 - d))
        term = ew.mul(part, Tensor._wrap(c))
        out = term if out is None else ew.add(out, term)
    return out


def _gradient_along(f: Tensor, d: int, x: np.ndarray | float, edge_order: int) -> Tensor:
    n, nd = f._data.shape[d], f._data.ndim
    dt = f._data.dtype

    def at(start: int, length: int) -> Tensor:
        return sh.narrow(f, d, start % n if start < 0 else start, length)

    if np.ndim(x) == 0:
        h = float(x)
        inner = _weighted([at(2, n - 2), at(0, n - 2)], [0.5 / h, -0.5 / h], d, nd, dt)
        if edge_order == 1:
            first = _weighted([at(1, 1), at(0, 1)], [1 / h, -1 / h], d, nd, dt)
            last = _weighted([at(-1, 1), at(-2, 1)], [1 / h, -1 / h], d, nd, dt)
        else:
            first = _weighted([at(0, 1), at(1, 1), at(2, 1)], [-1.5 / h, 2 / h, -0.5 / h],
                              d, nd, dt)
            last = _weighted([at(-3, 1), at(-2, 1), at(-1, 1)], [0.5 / h, -2 / h, 1.5 / h],
                             d, nd, dt)
    else:
        dx = np.diff(np.asarray(x, dtype=np.float64))
        hd, hs = dx[:-1], dx[1:]
        inner = _weighted([at(0, n - 2), at(1, n - 2), at(2, n - 2)],
                          [-hs / (hd * (hd + hs)), (hs - hd) / (hd * hs),
                           hd / (hs * (hd + hs))], d, nd, dt)
        if edge_order == 1:
            first = _weighted([at(1, 1), at(0, 1)], [1 / dx[0], -1 / dx[0]], d, nd, dt)
            last = _weighted([at(-1, 1), at(-2, 1)], [1 / dx[-1], -1 / dx[-1]], d, nd, dt)
        else:
            a, b = dx[0], dx[1]
            first = _weighted([at(0, 1), at(1, 1), at(2, 1)],
                              [-(2 * a + b) / (a * (a + b)), (a + b) / (a * b),
                               -a / (b * (a + b))], d, nd, dt)
            a, b = dx[-2], dx[-1]
            last = _weighted([at(-3, 1), at(-2, 1), at(-1, 1)],
                             [b / (a * (a + b)), -(a + b) / (a * b),
                              (2 * b + a) / (b * (a + b))], d, nd, dt)
    return sh.cat([first, inner, last], d)


def gradient(input, *, spacing=1, dim=None, edge_order: int = 1) -> tuple[Tensor, ...]:
    """The derivative estimated by central differences in the interior and one-sided ones
    (of order ``edge_order``) at the ends, along each dimension in ``dim`` (default: all).
    ``spacing``: one number for every dimension, one per dimension, or the coordinates of
    the samples (1-d tensors) per dimension."""
    f = tensor_input(input)
    if f._data.dtype.kind in "biu":
        f = ew._floating(f)
    nd = f._data.ndim
    dims = list(range(nd)) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    dims = [_axis(d, nd) for d in dims]
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    for d in dims:
        if f._data.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar "
                               f"or it's size to match the number of dimensions "
                               f"({len(dims)}), but got {len(spacing)}")
        steps = [s._data if isinstance(s, Tensor) else s for s in spacing]
    else:
        steps = [spacing._data if isinstance(spacing, Tensor) else spacing] * len(dims)
    return tuple(_gradient_along(f, d, s, edge_order) for d, s in zip(dims, steps))
