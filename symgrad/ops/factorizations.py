"""Matrix factorizations by their values: svd, svdvals, qr, eigh, eigvalsh, pinv,
matrix_rank, lstsq (numpy's LAPACK), and the LU family (lu_factor, lu, lu_unpack,
lu_solve).

The orthogonal factorizations have no rule here (their derivatives need the spectral
formulas, which have no SymPy mirror to be proved against): they compute values, and
refuse an input that requires grad while gradients are recorded, rather than return a
result whose gradient would silently be missing. The LU family is differentiable: the
factorization is Doolittle's elimination with partial pivoting written with recorded ops
(the pivot order is a constant), and unpacking and solving are compositions of
triangles and ``solve``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgrad.autograd.grad_mode import is_grad_enabled
from symgrad.ops import compose as co
from symgrad.ops import elementwise as ew
from symgrad.ops import shape as sh
from symgrad.ops._lapack_info import getrf
from symgrad.ops._util import type_name
from symgrad.ops.linalg import matmul
from symgrad.ops.reduction import _named_result, return_types
from symgrad.ops.solve import solve
from symgrad.tensor import Tensor, as_tensor

__all__ = ["svd", "qr", "pinverse", "lu", "lu_solve", "lu_unpack"]

#: torch.Tensor has these methods too; symgrad.linalg has the linalg forms.
NOT_METHODS: tuple[str, ...] = ("lu_unpack",)

for _name, _fields in (("svd", ("U", "S", "V")), ("linalg_svd", ("U", "S", "Vh")),
                       ("qr", ("Q", "R")), ("linalg_qr", ("Q", "R")),
                       ("linalg_eigh", ("eigenvalues", "eigenvectors")),
                       ("linalg_lstsq", ("solution", "residuals", "rank", "singular_values")),
                       ("linalg_lu_factor", ("LU", "pivots")), ("linalg_lu", ("P", "L", "U")),
                       ("lu_unpack", ("P", "L", "U"))):
    setattr(return_types, _name, _named_result(_name, _fields))


def _values_only(name: str, *tensors: Any) -> list[np.ndarray]:
    """The numpy data of floating matrices; an input that requires grad is refused."""
    out = []
    for t in tensors:
        x = as_tensor(t)
        if x._data.ndim < 2:
            raise RuntimeError(f"linalg.{name}: The input tensor A must have at least 2 "
                               "dimensions.")
        if x._data.dtype.kind != "f":
            raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as "
                               f"input. Got {type_name(x)}")
        if x.requires_grad and is_grad_enabled():
            raise NotImplementedError(
                f"symgrad has no derivative for linalg.{name} (no rule with a SymPy mirror): "
                "call it under no_grad() or on a detached tensor")
        out.append(x._data)
    return out


def _wrap(a: np.ndarray, like: np.ndarray | None = None) -> Tensor:
    dt = like.dtype if like is not None else a.dtype
    return Tensor._wrap(np.ascontiguousarray(a, dtype=dt))


# ================================================================ orthogonal factorizations
def linalg_svd(A: Tensor, full_matrices: bool = True):
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``, singular values descending (the signs of
    singular vectors may differ from PyTorch's: both are valid)."""
    (a,) = _values_only("svd", A)
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    return return_types.linalg_svd(_wrap(u, a), _wrap(s, a), _wrap(vh, a))


def svdvals(A: Tensor) -> Tensor:
    (a,) = _values_only("svdvals", A)
    return _wrap(np.linalg.svd(a, compute_uv=False), a)


def svd(input: Tensor, some: bool = True, compute_uv: bool = True):
    """The legacy form: ``(U, S, V)`` (``V``, not its transpose); reduced unless ``some`` is
    False; square zero matrices for U and V without ``compute_uv``."""
    (a,) = _values_only("svd", input)
    if not compute_uv:
        s = np.linalg.svd(a, compute_uv=False)
        m, n = a.shape[-2:]
        zu = np.zeros(a.shape[:-2] + (m, m), a.dtype)
        zv = np.zeros(a.shape[:-2] + (n, n), a.dtype)
        return return_types.svd(_wrap(zu), _wrap(s, a), _wrap(zv))
    u, s, vh = np.linalg.svd(a, full_matrices=not some)
    return return_types.svd(_wrap(u, a), _wrap(s, a), _wrap(np.swapaxes(vh, -1, -2), a))


def linalg_qr(A: Tensor, mode: str = "reduced"):
    """``(Q, R)`` with ``A = Q R`` (modes 'reduced', 'complete', 'r')."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    (a,) = _values_only("qr", A)
    if mode == "r":
        r = np.linalg.qr(a, mode="r")
        return return_types.linalg_qr(_wrap(np.zeros((0,), a.dtype)), _wrap(r, a))
    q, r = np.linalg.qr(a, mode=mode)
    return return_types.linalg_qr(_wrap(q, a), _wrap(r, a))


def qr(input: Tensor, some: bool = True):
    q, r = linalg_qr(input, "reduced" if some else "complete")
    return return_types.qr(q, r)


def _hermitian(a: np.ndarray, uplo: str) -> np.ndarray:
    if uplo not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {uplo}")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError("linalg.eigh: A must be batches of square matrices")
    return a


def eigh(A: Tensor, UPLO: str = "L"):
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices (one triangle read)."""
    (a,) = _values_only("eigh", A)
    w, v = np.linalg.eigh(_hermitian(a, UPLO), UPLO=UPLO)
    return return_types.linalg_eigh(_wrap(w, a), _wrap(v, a))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    (a,) = _values_only("eigvalsh", A)
    return _wrap(np.linalg.eigvalsh(_hermitian(a, UPLO), UPLO=UPLO), a)


def _tolerance(s: np.ndarray, shape: tuple, atol, rtol, dtype) -> np.ndarray:
    """PyTorch's cut-off: max(atol, rtol * largest singular value); without either,
    rtol = eps * max(m, n); with atol > 0 alone, rtol = 0."""
    if rtol is None:
        rtol = 0.0 if atol is not None and np.any(np.asarray(atol) > 0) else \
            np.finfo(dtype).eps * max(shape[-2:])
    atol = 0.0 if atol is None else atol
    top = s[..., :1] if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), s.dtype)
    return np.maximum(np.asarray(atol)[..., None] if np.ndim(atol) else atol,
                      (np.asarray(rtol)[..., None] if np.ndim(rtol) else rtol) * top)


def matrix_rank(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False,
                tol=None) -> Tensor:
    """The number of singular values above the tolerance (int64; no gradient)."""
    a = as_tensor(A)
    if a._data.ndim < 2:
        raise RuntimeError("linalg.matrix_rank: The input tensor A must have at least 2 "
                           "dimensions.")
    if a._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.matrix_rank: Expected a floating point or complex tensor "
                           f"as input. Got {type_name(a)}")
    if tol is not None:
        atol, rtol = tol, 0.0
    data = a._data
    s = np.abs(np.linalg.eigvalsh(data)) if hermitian else np.linalg.svd(data,
                                                                         compute_uv=False)
    if hermitian:
        s = -np.sort(-s, -1)
    cut = _tolerance(s, data.shape, _plain(atol), _plain(rtol), data.dtype)
    return Tensor._wrap(np.asarray(np.sum(s > cut, -1), dtype=np.int64))


def _plain(v):
    return v._data if isinstance(v, Tensor) else v


def pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse: singular values below the tolerance count as 0."""
    (a,) = _values_only("pinv", A)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    cut = _tolerance(s, a.shape, _plain(atol), _plain(rtol), a.dtype)
    inv_s = np.where(s > cut, 1 / np.where(s > cut, s, 1), 0)
    out = np.swapaxes(vh, -1, -2) @ (inv_s[..., :, None] * np.swapaxes(u, -1, -2))
    return _wrap(out, a)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    return pinv(input, rtol=rcond)


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None):
    """``(solution, residuals, rank, singular_values)`` of ``min ||A X - B||``. As PyTorch's
    default CPU driver ('gelsy'): residuals, rank and singular values come back empty except
    the rank; a vector ``B`` is not accepted (``B`` is a matrix)."""
    a, b = _values_only("lstsq", A, B)
    if a.shape[-2] != b.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    x = np.empty(batch + (a.shape[-1], b.shape[-1]), dtype=a.dtype)
    rank = np.empty(batch, dtype=np.int64)
    for idx in np.ndindex(*batch):
        x[idx], _, rank[idx], _ = np.linalg.lstsq(a[idx], b[idx], rcond=rcond)
    empty = np.zeros((0,), a.dtype)
    return return_types.linalg_lstsq(_wrap(x, a), _wrap(empty), Tensor._wrap(rank),
                                     _wrap(empty))


# ================================================================ LU (differentiable)
def _pivots(a: np.ndarray) -> np.ndarray:
    """LAPACK's getrf pivots (1-based row swaps, in order) of each matrix of a batch."""
    k = min(a.shape[-2:])
    piv = np.empty(a.shape[:-2] + (k,), dtype=np.int32)
    for idx in np.ndindex(*a.shape[:-2]):
        piv[idx] = getrf(a[idx])[0]
    return piv


def _permutation(piv: np.ndarray, m: int) -> np.ndarray:
    """For each matrix: ``perm`` with ``(P^T A)[i] = A[perm[i]]`` from the row swaps."""
    perm = np.broadcast_to(np.arange(m), piv.shape[:-1] + (m,)).copy()
    for idx in np.ndindex(*piv.shape[:-1]):
        row = perm[idx]
        for j, p in enumerate(piv[idx] - 1):
            row[j], row[p] = row[p], row[j]
    return perm


def lu_factor(A: Tensor, *, pivot: bool = True):
    """``(LU, pivots)``: ``L`` (unit lower, below the diagonal) and ``U`` packed in one
    matrix, and LAPACK's 1-based row swaps. Differentiable in ``A``."""
    a = as_tensor(A)
    if a._data.ndim < 2:
        raise RuntimeError("linalg.lu_factor: Expected tensor with 2 or more dimensions.")
    if a._data.dtype.kind not in "fO":
        raise RuntimeError(f"linalg.lu_factor: Expected a floating point or complex tensor as "
                           f"input. Got {type_name(a)}")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    m, n = a._data.shape[-2:]
    piv = _pivots(a._data) if a._data.dtype != object else \
        np.broadcast_to(np.arange(1, min(m, n) + 1, dtype=np.int32),
                        a._data.shape[:-2] + (min(m, n),)).copy()
    perm = _permutation(piv, m)
    rows = np.indices(perm.shape, sparse=True)
    index = tuple(rows[:-1]) + (perm,)
    work = a[index + (slice(None),)] if perm.ndim > 1 else a[perm]
    r, c = np.arange(m)[:, None], np.arange(n)[None, :]
    for j in range(min(m, n)):
        pivot_row = sh.select(work, -2, j)                       # (..., n)
        col = sh.select(work, -1, j)                             # (..., m)
        factors = ew.div(col, sh.unsqueeze(sh.select(pivot_row, -1, j), -1))
        below = Tensor._wrap(np.arange(m) > j)
        factors = ew.where(below, factors, 0.0)
        update = ew.mul(sh.unsqueeze(factors, -1), sh.unsqueeze(pivot_row, -2))
        trailing = Tensor._wrap((r > j) & (c > j))
        work = ew.sub(work, ew.where(trailing, update, 0.0))
        column = Tensor._wrap((r > j) & (c == j))
        work = ew.where(column, sh.unsqueeze(factors, -1), work)
    return return_types.linalg_lu_factor(work, Tensor._wrap(piv))


def _unpack(LU: Tensor, pivots: Tensor, unpack_data: bool = True,
            unpack_pivots: bool = True) -> tuple[Tensor, Tensor, Tensor]:
    lu_t = as_tensor(LU)
    m, n = lu_t._data.shape[-2:]
    k = min(m, n)
    dt = lu_t._data.dtype
    if unpack_pivots:
        perm = _permutation(np.asarray(pivots._data, dtype=np.int64), m)
        p = np.zeros(perm.shape[:-1] + (m, m), dtype=dt if dt.kind != "O" else np.float64)
        np.put_along_axis(p, perm[..., None, :], 1, axis=-2)
        p_t = Tensor._wrap(p)
    else:
        p_t = Tensor._wrap(np.zeros((0,), dtype=dt))
    if not unpack_data:
        empty = Tensor._wrap(np.zeros((0,), dtype=dt))
        return p_t, empty, empty
    low = sh.narrow(co.tril(lu_t, -1), -1, 0, k)
    eye = Tensor._wrap(np.eye(m, k, dtype=dt if dt.kind != "O" else np.float64))
    low = ew.add(low, eye)
    up = sh.narrow(co.triu(lu_t), -2, 0, k)
    return p_t, low, up


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,
              unpack_pivots: bool = True):
    """``(P, L, U)`` with ``A = P L U`` from ``lu_factor``'s result."""
    return return_types.lu_unpack(*_unpack(LU_data, LU_pivots, unpack_data, unpack_pivots))


def linalg_lu(A: Tensor, *, pivot: bool = True):
    """``(P, L, U)`` with ``A = P L U``."""
    lu_t, piv = lu_factor(A, pivot=pivot)
    return return_types.linalg_lu(*_unpack(lu_t, piv))


def linalg_lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,
                    adjoint: bool = False) -> Tensor:
    """The ``X`` with ``A X = B`` (``A^T`` with ``adjoint``; ``X A = B`` unless ``left``)
    from ``A``'s ``lu_factor``."""
    p, low, up = _unpack(LU, pivots)
    a = matmul(p, matmul(low, up))
    if adjoint:
        a = sh.transpose(a, -2, -1)
    return solve(a, as_tensor(B), left=left)


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """The legacy form of ``linalg.lu_solve`` (``b`` first)."""
    return linalg_lu_solve(LU_data, LU_pivots, b)


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False):
    """The legacy form: ``(LU, pivots)`` (and zeros as infos with ``get_infos``)."""
    lu_t, piv = lu_factor(A, pivot=pivot)
    if get_infos:
        return lu_t, piv, Tensor._wrap(np.zeros(lu_t._data.shape[:-2], dtype=np.int32))
    return lu_t, piv

