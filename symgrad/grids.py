"""Factories of value and index grids: logspace, tril_indices, triu_indices."""

from __future__ import annotations

import numpy as np

from symgrad import _dtype
from symgrad.factories import _finish, _float_dtype
from symgrad.ops._util import type_name
from symgrad.tensor import Tensor

__all__ = ["logspace", "tril_indices", "triu_indices"]


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``: ``steps`` values evenly spaced on a log scale
    (integer dtypes truncate, as PyTorch)."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"logspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError(f"number of steps must be non-negative, got {steps}")
    target = _dtype.to_np(dtype) if dtype is not None else _float_dtype(None)
    values = np.power(float(base), np.linspace(float(start), float(end), steps))
    if np.dtype(target).kind in "iu":
        values = np.trunc(values)
    return _finish(values.astype(target), requires_grad)


def _index_dtype(dtype, name: str) -> np.dtype:
    dt = np.dtype(_dtype.to_np(dtype) or np.int64)
    if dt not in (np.dtype(np.int64), np.dtype(np.int32)):
        raise NotImplementedError(f"\"{name}\" not implemented for '{type_name(dt)}'")
    return dt


def _triangle(row: int, col: int, offset: int, lower: bool, dtype) -> Tensor:
    for name, v in (("row", row), ("col", col)):
        if v < 0:
            raise RuntimeError(f"{name} must be non-negative, got{v}")
    r, c = np.indices((row, col))
    keep = (c - r <= offset) if lower else (c - r >= offset)
    return Tensor._wrap(np.stack([r[keep], c[keep]]).astype(
        _index_dtype(dtype, "tril_indices" if lower else "triu_indices")))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """The (2, n) row and column indices of the lower triangle of a row x col matrix
    (entries with column - row <= offset), in row-major order."""
    return _triangle(row, col, offset, True, dtype)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """The (2, n) indices of the upper triangle (column - row >= offset), row-major."""
    return _triangle(row, col, offset, False, dtype)
