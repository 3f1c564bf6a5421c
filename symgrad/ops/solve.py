"""Linear systems and the matrix functions built on them: solve (one record), and the
compositions solve_triangular / triangular_solve, cholesky, cholesky_solve,
cholesky_inverse, matrix_exp.

``solve`` is a record (LinalgSolveExBackward0): ``X = A^-1 B`` with the rules
``dB = A^-T g`` and ``dA = -dB X^T``, and the mirror ``adj(A) / det(A) @ B``. The others are
compositions of recorded ops, so their gradients are exact derivatives of what they
compute: ``cholesky`` runs the column-by-column algorithm on the symmetric part of its
input (so its gradient is symmetric, as PyTorch's), ``matrix_exp`` scales the matrix to
norm <= 1/2, sums 18 Taylor terms (error below 1e-21 of the norm) and squares back.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgrad.ops import compose as co
from symgrad.ops import elementwise as ew
from symgrad.ops import shape as sh
from symgrad.ops._apply import apply
from symgrad.ops._lapack_info import LinAlgError, cholesky_info, failure_message, zero_pivot_info
from symgrad.ops._record import REAL, Kink, register
from symgrad.ops._util import type_name
from symgrad.ops.linalg import matmul
from symgrad.ops.matrix import _inverse, _inverse_mirror, _mT, inverse
from symgrad.ops.reduction import _named_result, return_types
from symgrad.tensor import Tensor, as_tensor

# (solve and solve_triangular are symgrad.linalg's only: PyTorch's namespace has neither)
__all__ = ["triangular_solve", "cholesky", "cholesky_solve", "cholesky_inverse", "matrix_exp"]

NOT_METHODS: tuple[str, ...] = ()

return_types.triangular_solve = _named_result("triangular_solve",
                                              ("solution", "cloned_coefficient"))


# ================================================================ solve (a record)
def _solve(xp, a, b) -> Any:
    if xp.name == "numpy":
        return np.linalg.solve(a, b)
    if xp.name == "tensor":
        return apply(SOLVE, a, b)
    inv = _inverse_mirror(a) if xp.name == "sympy" else _inverse(xp, a)
    return np.matmul(inv, b)


SOLVE = register(
    "solve", "LinalgSolveExBackward0",
    forward=_solve,
    vjp=(lambda xp, g, ans, a, b: -xp.matmul(_solve(xp, _mT(xp, a), g), _mT(xp, ans)),
         lambda xp, g, ans, a, b: _solve(xp, _mT(xp, a), g)),
    mirror=lambda a, b: np.matmul(_inverse_mirror(a), b),
    kind="linalg", domain=(REAL, REAL),
    examples=((((2, 2), (2, 3)), {}), (((2, 2, 2), (2, 2, 1)), {})),
    kinks=Kink(lambda a, b: np.abs(np.linalg.det(a)) == 0,
               "singular matrices: an error, as PyTorch"),
)


def _square(a: Tensor, name: str) -> None:
    nd = a._data.ndim
    if nd < 2 or a._data.shape[-1] != a._data.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are "
                           f"{a._data.shape[-2] if nd > 1 else 1} by "
                           f"{a._data.shape[-1] if nd else 1} matrices")
    if a._data.dtype.kind not in "fO":
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as "
                           f"input. Got {type_name(a)}")


def _batched(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """``a`` (..., n, n) and ``b`` (..., n, k) expanded to one batch shape."""
    batch = np.broadcast_shapes(a._data.shape[:-2], b._data.shape[:-2])
    if a._data.shape[:-2] != batch:
        a = sh.expand(a, batch + a._data.shape[-2:])
    if b._data.shape[:-2] != batch:
        b = sh.expand(b, batch + b._data.shape[-2:])
    return a, b


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """The ``X`` with ``A X = B`` (``X A = B`` if not ``left``); ``B`` may be a vector (or a
    batch of them) or a batch of matrices; batch dimensions broadcast."""
    a, b = as_tensor(A), as_tensor(B)
    _square(a, "solve")
    if b._data.dtype != a._data.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found "
                           f"A of type {type_name(a)} and B of type {type_name(b)} instead")
    if not left:
        return sh.transpose(solve(sh.transpose(a, -2, -1), sh.transpose(b, -2, -1)), -2, -1)
    n = a._data.shape[-1]
    vector = b._data.ndim == 1 or (b._data.ndim == a._data.ndim - 1
                                   and b._data.shape == a._data.shape[:-1])
    if vector:
        b = sh.unsqueeze(b, -1)
    if b._data.shape[-2] != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({a._data.shape[-2]}x{n} and "
                           f"{b._data.shape[-2]}x{b._data.shape[-1]})")
    a, b = _batched(a, b)
    try:
        x = apply(SOLVE, a, b)
    except np.linalg.LinAlgError:
        raise LinAlgError(failure_message("linalg.solve", zero_pivot_info(a._data),
                                          SINGULAR_SOLVE)) from None
    return sh.squeeze(x, -1) if vector else x


# ================================================================ triangular systems
def _triangle(a: Tensor, upper: bool, unit: bool) -> Tensor:
    t = co.triu(a) if upper else co.tril(a)
    if not unit:
        return t
    strict = co.triu(a, 1) if upper else co.tril(a, -1)
    eye = Tensor._wrap(np.eye(a._data.shape[-1], dtype=a._data.dtype))
    return ew.add(strict, eye)


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False) -> Tensor:
    """``solve`` with the upper (or lower) triangle of ``A`` (ones on its diagonal with
    ``unitriangular``); the other entries of ``A`` are not read and get no gradient."""
    a, b = as_tensor(A), as_tensor(B)
    _square(a, "solve_triangular")
    if b._data.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 "
                           "dimensions.")
    return solve(_triangle(a, upper, unitriangular), b, left=left)


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False):
    """The legacy form: ``(X, A.clone())`` with ``op(A) X = b``, ``op`` the transpose if
    ``transpose``."""
    a = as_tensor(A)
    t = _triangle(a, upper, unitriangular)
    if transpose:
        t = sh.transpose(t, -2, -1)
    x = solve(t, as_tensor(b))
    return return_types.triangular_solve(x, a.clone())


# ================================================================ Cholesky
SINGULAR_SOLVE = "The solver failed because the input matrix is singular."
NOT_POSITIVE = ("The factorization could not be completed because the input is not "
                "positive-definite (the leading minor of order {k} is not positive-definite).")


def _not_positive_definite(a: np.ndarray, name: str) -> None:
    try:
        np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        raise LinAlgError(failure_message(f"linalg.{name}", cholesky_info(a), NOT_POSITIVE)
                          ) from None


def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """The lower-triangular ``L`` with ``L L^T = A`` (``U = L^T`` with ``upper``) of a
    symmetric positive-definite ``A``. Only the lower triangle of ``A`` is read, as
    PyTorch; the gradient is symmetric."""
    a = as_tensor(input)
    _square(a, "cholesky")
    if a._data.dtype != object:
        _not_positive_definite(np.tril(a._data), "cholesky")
    # the value of the symmetric matrix the lower triangle defines, the gradient of the
    # symmetric part (A + A^T) / 2: PyTorch's convention (its gradient is symmetric)
    if a._data.dtype == object:     # symbolic entries: the lower triangle, mirrored
        sym = ew.add(co.tril(a), sh.transpose(co.tril(a, -1), -2, -1))
    else:
        half = ew.mul(ew.add(a, sh.transpose(a, -2, -1)), 0.5)
        low = a._data
        lower_sym = np.tril(low) + np.swapaxes(np.tril(low, -1), -1, -2)
        sym = ew.add(half, Tensor._wrap(np.asarray(lower_sym - half._data)))
    n = a._data.shape[-1]
    cols: list[Tensor] = []
    for j in range(n):
        col = sh.select(sym, -1, j)                    # A[:, j]
        if j:
            done = sh.stack(cols, -1)                  # L[:, :j]
            row = sh.select(done, -2, j)               # L[j, :j]
            col = ew.sub(col, matmul(done, sh.unsqueeze(row, -1)).squeeze(-1))
        pivot = ew.sqrt(sh.select(col, -1, j))
        below = ew.div(col, sh.unsqueeze(pivot, -1))
        mask = np.arange(n) > j
        col = ew.where(Tensor._wrap(mask), below, 0.0)
        diag = np.arange(n) == j
        col = ew.where(Tensor._wrap(diag), sh.unsqueeze(pivot, -1), col)
        cols.append(col)
    low = sh.stack(cols, -1)
    return sh.transpose(low, -2, -1) if upper else low


def _gram(factor: Tensor, upper: bool) -> Tensor:
    """``L L^T`` (``U^T U``) of the factor's triangle: PyTorch reads no other entry, yet
    passes every entry the gradient of the formula in the whole matrix; so does this (the
    other triangle's entries are cancelled by a constant)."""
    f = as_tensor(factor)
    data = f._data
    tri = np.triu(data) if upper else np.tril(data)
    if f.is_symbolic:
        f = co.triu(f) if upper else co.tril(f)
    elif not np.array_equal(tri, data):
        f = ew.add(f, Tensor._wrap(tri - data))
    ft = sh.transpose(f, -2, -1)
    return matmul(ft, f) if upper else matmul(f, ft)


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:
    """``X`` with ``A X = B`` for ``A = L L^T`` (``U^T U`` with ``upper``)."""
    return solve(_gram(L, upper), B)


def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:
    """The inverse of ``A = L L^T`` (``U^T U`` with ``upper``)."""
    return inverse(_gram(L, upper))


# ================================================================ matrix exponential
_TAYLOR_TERMS = 18


def matrix_exp(A: Tensor) -> Tensor:
    """``exp(A) = sum_k A^k / k!`` of square matrices: scaled by ``2**-s`` to 1-norm <= 1/2,
    a Taylor polynomial (Horner), then squared ``s`` times."""
    a = as_tensor(A)
    if a._data.ndim < 2 or a._data.shape[-1] != a._data.shape[-2]:
        raise RuntimeError("linalg.matrix_exp: A must be batches of square matrices")
    if a._data.dtype.kind in "biu":
        raise RuntimeError(f"linalg.matrix_exp: Expected a floating point or complex tensor as "
                           f"input. Got {type_name(a)}")
    n = a._data.shape[-1]
    data = a._data.astype(np.float64) if a._data.dtype != object else None
    norm = float(np.max(np.sum(np.abs(data), -2))) if data is not None and data.size else 0.0
    s = max(0, math.ceil(math.log2(norm)) + 1) if norm > 0 and math.isfinite(norm) else 0
    x = ew.mul(a, 0.5 ** s) if s else a
    eye = Tensor._wrap(np.broadcast_to(np.eye(n, dtype=a._data.dtype), a._data.shape).copy())
    out = eye
    for k in range(_TAYLOR_TERMS, 0, -1):
        out = ew.add(eye, ew.div(matmul(x, out), float(k)))
    for _ in range(s):
        out = matmul(out, out)
    return out

