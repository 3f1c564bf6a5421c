"""``torch.linalg``'s norms, as ``symgrad.linalg`` (compositions of the op table), and
its names for the products, systems and matrix functions of ``symgrad.ops`` (det, inv,
matrix_power, cross, multi_dot, vecdot, solve, solve_triangular, cholesky, lu_factor,
lu_solve, matrix_exp, slogdet, vander, tensorinv, tensorsolve).

svd, svdvals, qr, eigh, eigvalsh, pinv, lstsq and matrix_rank give values only (an input
that requires grad is refused: symgrad has no proved rule for them). Matrix norms that need
singular values (ord 2, -2, 'nuc') are values-only in the same way; eig / eigvals (complex
results) are not implemented.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgrad import _dtype, ops
from symgrad.autograd.grad_mode import is_grad_enabled as _grad_enabled, no_grad
from symgrad.ops._util import type_name
from symgrad.ops.reduction import _named_result, vector_norm
from symgrad.ops.factorizations import (eigh, eigvalsh, linalg_lu as lu,  # noqa: F401
                                        linalg_lu_solve as lu_solve, linalg_qr as qr,
                                        linalg_svd as svd, lstsq, lu_factor as _lu_factor,
                                        matrix_rank, pinv, svdvals)
from symgrad.ops._lapack_info import (LinAlgError, cholesky_info, failure_message,
                                      partial_cholesky, zero_pivot_info)
from symgrad.ops.matrix import SINGULAR_INV
from symgrad.ops.solve import NOT_POSITIVE, SINGULAR_SOLVE, solve, solve_triangular
from symgrad.ops.statistics import increasing_powers as _increasing_powers
from symgrad.tensor import Tensor

__all__ = ["vector_norm", "norm", "matrix_norm", "det", "inv", "matrix_power", "cross",
           "multi_dot", "vecdot", "vander", "diagonal", "matmul", "solve", "solve_ex",
           "solve_triangular", "inv_ex", "cholesky", "cholesky_ex", "matrix_exp", "slogdet",
           "tensorinv", "tensorsolve", "svd", "svdvals", "qr", "eigh", "eigvalsh", "pinv",
           "matrix_rank", "lstsq", "lu_factor", "lu_factor_ex", "lu", "lu_solve", "cond",
           "LinAlgError"]


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
        return _spectral_norm(A, ord, dims, keepdim, dtype)
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


def _spectral_norm(A: Tensor, ord: Any, dims: tuple, keepdim: bool, dtype) -> Tensor:
    """The largest / smallest singular value or their sum, by value only: symgrad has no
    proved rule for singular values, so an input that requires grad is refused."""
    if A.requires_grad and _grad_enabled():
        raise NotImplementedError(f"symgrad.linalg.matrix_norm: ord={ord!r} needs singular "
                                  "values, which have no gradient in symgrad; 'fro', 1, -1, "
                                  "inf and -inf are differentiable (or call it under "
                                  "no_grad())")
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = (d % A.ndim for d in dims)
    moved = np.moveaxis(A._data, (d0, d1), (-2, -1))
    s = svdvals(Tensor._wrap(np.ascontiguousarray(moved)))._data
    out = s.sum(-1) if ord == "nuc" else s.max(-1) if ord == 2 else s.min(-1)
    if keepdim:
        out = np.expand_dims(out, tuple(sorted((d0, d1))))
    return Tensor._wrap(np.asarray(out, dtype=A._data.dtype))


def cond(A: Tensor, p: Any = None) -> Tensor:
    """The condition number ``norm(A, p) * norm(inv(A), p)``; for ``p`` None, 2 or -2 the
    ratio of the extreme singular values (by value only, as singular values have no
    gradient in symgrad), as PyTorch."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.cond(): argument 'A' must be Tensor, not {type(A).__name__}")
    if A.ndim < 2:
        raise RuntimeError(f"linalg.cond: The input tensor A must have at least 2 dimensions. "
                           f"Got {A.ndim}")
    if p in (None, 2, -2):
        if A.requires_grad and _grad_enabled():
            raise NotImplementedError("symgrad.linalg.cond: p=None, 2, -2 and 'nuc' need "
                                      "singular values, which have no gradient in symgrad; "
                                      "'fro', 1, -1, inf and -inf are differentiable (or call "
                                      "it under no_grad())")
        s = svdvals(Tensor._wrap(A._data))._data
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
        return Tensor._wrap(np.asarray(ratio, dtype=A._data.dtype))
    if p not in ("fro", "nuc", 1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.cond(ord={p}): A must be batches of square matrices, but "
                           f"they are {A.shape[-2]} by {A.shape[-1]} matrices")
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def _nuclear_norm(input: Tensor, dim=(-2, -1), keepdim: bool = False) -> Tensor:
    """``torch.nuclear_norm`` (torch.linalg has none): the sum of the singular values, by
    value only."""
    if isinstance(dim, bool):
        dim, keepdim = (-2, -1), dim
    return matrix_norm(input, "nuc", dim, keepdim)


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


# ================================================================ torch.linalg's names
def det(A: Tensor) -> Tensor:
    """``torch.linalg.det``: the determinant of a square matrix or a batch of them."""
    return ops.det(A)


def inv(A: Tensor) -> Tensor:
    """``torch.linalg.inv``: the inverse (a singular matrix raises RuntimeError)."""
    return ops.inverse(A)


def matrix_power(A: Tensor, n: int) -> Tensor:
    """``torch.linalg.matrix_power``: A times itself n times (n < 0: of the inverse)."""
    return ops.matrix_power(A, n)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """``torch.linalg.cross``: the cross product of 3-vectors along ``dim`` (default the
    last, unlike the deprecated default of ``torch.cross``)."""
    return ops.cross(input, other, dim=dim)


def multi_dot(tensors) -> Tensor:
    """``torch.linalg.multi_dot``: the product of two or more matrices, left to right; the
    first may be a row vector and the last a column vector (1-d, dropped in the result)."""
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    for k, t in enumerate(ts):
        if not isinstance(t, Tensor):
            raise TypeError(f"linalg_multi_dot(): argument 'tensors' must be tuple of Tensors, "
                            f"not {type(t).__name__}")
        end = k in (0, len(ts) - 1)
        if not (t.ndim == 2 or end and t.ndim == 1):
            where = ("the first tensor" if k == 0 else "the last tensor" if k == len(ts) - 1
                     else f"tensor {k}")
            want = "1D or 2D" if end else "2D"
            raise RuntimeError(f"multi_dot(): {where} must be {want} but got {t.ndim}D")
        if t.dtype != ts[0].dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but "
                               f"tensor 0 is {ts[0].dtype.name} and tensor {k} "
                               f"{t.dtype.name}")
    first, last = ts[0].ndim == 1, ts[-1].ndim == 1
    ms = list(ts)
    if first:
        ms[0] = ops.unsqueeze(ms[0], 0)
    if last:
        ms[-1] = ops.unsqueeze(ms[-1], -1)
    for k in range(len(ms) - 1):
        if ms[k].shape[1] != ms[k + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {k} and {k + 1} with shapes "
                               f"{list(ms[k].shape)} and {list(ms[k + 1].shape)} cannot be "
                               "multiplied")
    out = ms[0]
    for m in ms[1:]:
        out = ops.mm(out, m)
    if first and last:
        return ops.reshape(out, ())
    if first:
        return ops.squeeze(out, 0)
    return ops.squeeze(out, -1) if last else out


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """``torch.linalg.vecdot``: the dot product of the vectors along ``dim`` (broadcasting);
    floating tensors of one dtype."""
    for t in (x, y):
        if not isinstance(t, Tensor):
            raise TypeError(f"linalg_vecdot(): argument must be Tensor, not {type(t).__name__}")
    if x.dtype != y.dtype:
        names = {n: type_name(t) for n, t in (("x", x), ("y", y))}
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found "
                           f"x of type {names['x']} and y of type {names['y']} instead")
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vecdot: Expected a floating point or complex tensor as "
                           f"input. Got {type_name(x)}")
    return ops.sum(ops.mul(x, y), dim)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """``x**0, x**1, ..., x**(N-1)`` of each entry of ``x`` (shape ``(*, n)``) along a new
    last dimension (``N`` defaults to n)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.vander(): argument 'x' must be Tensor, not {type(x).__name__}")
    if x.ndim == 0:
        raise RuntimeError("linalg.vander: x must have at least one dimension")
    n = x.shape[-1] if N is None else int(N)
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    if x._data.dtype.kind in "biu" and x._data.dtype != np.int64:
        x = x.to(_dtype.int64)
    return _increasing_powers(x, n)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """``torch.diagonal`` with the last two dimensions as default."""
    return ops.diagonal(A, offset, dim1, dim2)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    return ops.matmul(input, other)


# ================================================================ systems and factorizations
_SOLVE_EX = _named_result("linalg_solve_ex", ("result", "info"))
_INV_EX = _named_result("linalg_inv_ex", ("inverse", "info"))
_CHOLESKY_EX = _named_result("linalg_cholesky_ex", ("L", "info"))

def _info(A: Tensor) -> Tensor:
    """LAPACK's info of a factorization that succeeded: 0 for each matrix."""
    return Tensor._wrap(np.zeros(A.shape[:-2], dtype=np.int32))


def _failed(name: str, info: np.ndarray, what: str, check_errors: bool) -> Tensor:
    """The info of a failed factorization, raising ``LinAlgError`` with ``check_errors``."""
    if check_errors:
        raise LinAlgError(failure_message(f"linalg.{name}", info, what))
    return Tensor._wrap(info)


def _nan_where(info: np.ndarray, values: np.ndarray) -> Tensor:
    """``values`` with the matrices of failed factorizations (info > 0) set to nan."""
    out = np.array(values, dtype=values.dtype)
    out[info > 0] = np.nan
    return Tensor._wrap(out)


def _each(a: np.ndarray, fn, fallback) -> np.ndarray:
    """``fn`` of each matrix of ``a``, or ``fallback`` of it where ``fn`` fails."""
    flat = a.reshape((-1,) + a.shape[-2:])
    outs = []
    for m in flat:
        try:
            outs.append(fn(m))
        except np.linalg.LinAlgError:
            outs.append(fallback(m))
    return np.stack(outs).reshape(a.shape[:-2] + outs[0].shape) if outs else np.empty(a.shape)


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False):
    """``(solve(A, B), info)``; a singular matrix gives its first zero pivot in ``info``
    (and nan in the result) instead of raising, unless ``check_errors``."""
    try:
        return _SOLVE_EX(solve(A, B, left=left), _info(A))
    except LinAlgError:
        info = zero_pivot_info(A._data)
        err = _failed("solve_ex", info, SINGULAR_SOLVE, check_errors)
        nan_a = _nan_where(info, A._data)
        with no_grad():
            return _SOLVE_EX(solve(nan_a, B, left=left), err)


def inv_ex(A: Tensor, *, check_errors: bool = False):
    """``(inv(A), info)``; a singular matrix gives its first zero pivot in ``info`` (and
    nan in the inverse) instead of raising, unless ``check_errors``."""
    try:
        return _INV_EX(inv(A), _info(A))
    except LinAlgError:
        info = zero_pivot_info(A._data)
        err = _failed("inv_ex", info, SINGULAR_INV, check_errors)
        values = _each(A._data, np.linalg.inv, lambda m: np.full(m.shape, np.nan))
        return _INV_EX(Tensor._wrap(values.astype(A._data.dtype)), err)


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor of symmetric positive-definite matrices (lower triangle read)."""
    return ops.cholesky(A, upper)


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False):
    """``(cholesky(A), info)``; a matrix that is not positive-definite gives the order of its
    first such leading minor in ``info`` (and LAPACK's partial factor) instead of raising,
    unless ``check_errors``."""
    try:
        return _CHOLESKY_EX(ops.cholesky(A, upper), _info(A))
    except LinAlgError:
        info = cholesky_info(A._data)
        err = _failed("cholesky_ex", info, NOT_POSITIVE, check_errors)
        low = _each(A._data, lambda m: partial_cholesky(m)[0], None)
        factor = np.swapaxes(low, -1, -2).conj() if upper else low
        return _CHOLESKY_EX(Tensor._wrap(factor.astype(A._data.dtype)), err)


def matrix_exp(A: Tensor) -> Tensor:
    return ops.matrix_exp(A)


def slogdet(A: Tensor):
    return ops.slogdet(A)


def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The inverse of ``A`` read as a linear map from its last dimensions (after the first
    ``ind``) to its first ``ind``: shape ``A.shape[ind:] + A.shape[:ind]``."""
    if ind <= 0:
        raise RuntimeError(f"linalg.tensorinv: Expected a strictly positive integer for 'ind', "
                           f"but got {ind}")
    rows, cols = A.shape[:ind], A.shape[ind:]
    m = math.prod(rows)
    if m != math.prod(cols):
        raise RuntimeError("linalg.tensorinv: Expected self to satisfy the requirement "
                           "prod(self.shape[ind:]) == prod(self.shape[:ind]), but got "
                           f"{math.prod(cols)} != {m}")
    return inv(A.reshape(m, m)).reshape(*cols, *rows)


def tensorsolve(A: Tensor, B: Tensor, dims=None) -> Tensor:
    """The ``X`` with ``tensordot(A, X, X.ndim) = B`` (``dims``: dimensions of ``A`` moved to
    the end first)."""
    if dims is not None:
        nd = A.ndim
        dims = [d % nd for d in dims]
        rest = [d for d in range(nd) if d not in dims]
        A = A.permute(*rest, *dims)
    out_shape = A.shape[B.ndim:]
    n = B.numel()
    return solve(A.reshape(n, -1), B.reshape(n)).reshape(*out_shape)


_LU_FACTOR_EX = _named_result("linalg_lu_factor_ex", ("LU", "pivots", "info"))


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False):
    """``(LU, pivots, info)``: info is the first zero diagonal entry of ``U`` (1-based)."""
    lu_t, piv = _lu_factor(A, pivot=pivot)
    info = _u_zero(lu_t._data)
    if check_errors and info.any():
        raise LinAlgError(failure_message("linalg.lu_factor_ex", info,
                                          "The factorization could not be completed because the "
                                          "input matrix is singular (U[{k},{k}] is zero)."))
    return _LU_FACTOR_EX(lu_t, piv, Tensor._wrap(info))


def lu_factor(A: Tensor, *, pivot: bool = True):
    """``(LU, pivots)``; a zero on U's diagonal raises, as PyTorch (lu_solve would divide
    by it): ``lu_factor_ex`` reports it instead."""
    lu_t, piv = _lu_factor(A, pivot=pivot)
    if lu_t._data.dtype != object:
        info = _u_zero(lu_t._data)
        if info.any():
            raise RuntimeError(failure_message(
                "torch.linalg.lu_factor", info, "U[{k},{k}] is zero and using it on lu_solve "
                "would result in a division by zero. If you still want to perform the "
                "factorization, consider calling linalg.lu(A, pivot) or "
                "linalg.lu_factor_ex(A, pivot)"))
    return lu_t, piv


def _u_zero(lu: np.ndarray) -> np.ndarray:
    """Per matrix, the 1-based position of the first zero on the diagonal, or 0."""
    diag = np.diagonal(lu, axis1=-2, axis2=-1) == 0
    return np.where(diag.any(-1), diag.argmax(-1) + 1, 0).astype(np.int32)


