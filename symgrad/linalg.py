"""``torch.linalg``'s norms, as ``symgrad.linalg`` (compositions of the op table).

Matrix norms that need singular values (ord 2, -2, 'nuc') and the decompositions are not
implemented: they raise NotImplementedError naming what is missing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgrad import ops
from symgrad.ops.reduction import vector_norm
from symgrad.tensor import Tensor

__all__ = ["vector_norm", "norm", "matrix_norm"]


def matrix_norm(A: Tensor, ord: Any = "fro", dim=(-2, -1), keepdim: bool = False, *,
                dtype=None) -> Tensor:
    """The Frobenius norm (``ord='fro'``) or the largest / smallest absolute column
    (``ord`` +-1) or row (``ord`` +-inf) sum of the matrices over ``dim`` (a 2-tuple)."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.matrix_norm(): argument 'A' must be Tensor, not "
                        f"{type(A).__name__}")
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 "
                           f"dimensions. Got {A.ndim}")
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                           f"{' '.join(str(d) for d in dims)}")
    if ord == "fro":
        return vector_norm(A, 2, dims, keepdim, dtype=dtype)
    if ord in (2, -2, "nuc"):
        raise NotImplementedError(f"symgrad.linalg.matrix_norm: ord={ord!r} needs singular "
                                  "values (not implemented); 'fro', 1, -1, inf and -inf work")
    if ord not in (1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = (d % A.ndim for d in dims)
    if abs(ord) == math.inf:   # the largest (smallest) row sum: rows run along d1
        d0, d1 = d1, d0
    sums = ops.sum(ops.abs(A), d0, keepdim=keepdim)
    if not keepdim and d0 < d1:
        d1 -= 1
    return (ops.amax if ord > 0 else ops.amin)(sums, d1, keepdim=keepdim)


def norm(A: Tensor, ord: Any = None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``torch.linalg.norm``: a vector norm (``ord`` a number, or None: 2, over ``dim`` or
    all entries) or, for a string ``ord`` or a 2-tuple ``dim`` with ``ord`` given, a matrix
    norm (Frobenius only)."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.norm(): argument 'A' must be Tensor, not {type(A).__name__}")
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None and A.ndim not in (1, 2):
        raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must "
                           f"be 1D or 2D. Got {A.ndim}D.")
    if isinstance(ord, str):
        return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    if dim is None and A.ndim == 2 or (dim is not None and not isinstance(
            dim, (int, np.integer)) and len(tuple(dim)) == 2):
        return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)
