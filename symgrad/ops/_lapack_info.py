"""``LinAlgError`` and LAPACK's ``info`` for the factorizations that can fail: the first
zero pivot of an LU factorization with partial pivoting (``inv``, ``solve``,
``lu_factor``) and the first leading minor that is not positive-definite (``cholesky``),
1-based per matrix and 0 where the factorization succeeds, as PyTorch reports them."""

from __future__ import annotations

import numpy as np

__all__ = ["LinAlgError", "getrf", "zero_pivot_info", "cholesky_info", "partial_cholesky",
           "failure_message"]


class LinAlgError(RuntimeError):
    """A linear-algebra routine failed on its input (a singular matrix, one that is not
    positive-definite); a RuntimeError, as PyTorch's ``torch.linalg.LinAlgError``."""


def _per_matrix(a: np.ndarray, one) -> np.ndarray:
    flat = a.reshape((-1,) + a.shape[-2:])
    return np.array([one(m) for m in flat], dtype=np.int32).reshape(a.shape[:-2])


def getrf(m: np.ndarray) -> tuple[np.ndarray, int]:
    """LAPACK's getrf on one matrix, in numpy: its 1-based row swaps (partial pivoting,
    the first largest entry) and its info, the first zero pivot (LAPACK carries on past
    it) or 0."""
    w = np.array(m, dtype=np.float64 if m.dtype.kind != "c" else m.dtype)
    k = min(w.shape)
    piv = np.empty(k, dtype=np.int32)
    first = 0
    for j in range(k):
        p = j + int(np.argmax(np.abs(w[j:, j])))
        piv[j] = p + 1
        if p != j:
            w[[j, p]] = w[[p, j]]
        if w[j, j] == 0:
            first = first or j + 1
            continue
        w[j + 1:, j] /= w[j, j]
        w[j + 1:, j + 1:] -= np.outer(w[j + 1:, j], w[j, j + 1:])
    return piv, first


def partial_cholesky(m: np.ndarray) -> tuple[np.ndarray, int]:
    """LAPACK's unblocked Cholesky of the lower triangle of ``m``: the factor and 0, or,
    stopping at the first leading minor that is not positive-definite, the columns done so
    far, that minor's pivot in its diagonal place and the rest of the input, and its order
    (what PyTorch returns in ``cholesky_ex``)."""
    low = np.tril(np.array(m, dtype=np.result_type(m.dtype, np.float64)))
    n = low.shape[-1]
    for j in range(n):
        d = low[j, j] - low[j, :j] @ low[j, :j].conj()
        if not d.real > 0:   # (nan too)
            low[j, j] = d
            return low, j + 1
        low[j, j] = np.sqrt(d)
        low[j + 1:, j] = (low[j + 1:, j] - low[j + 1:, :j] @ low[j, :j].conj()) / low[j, j]
    return low, 0


def zero_pivot_info(a: np.ndarray) -> np.ndarray:
    """Per matrix of ``a`` (..., n, n): the 1-based first zero pivot of LU, or 0."""
    return _per_matrix(a, lambda m: getrf(m)[1])


def cholesky_info(a: np.ndarray) -> np.ndarray:
    """Per matrix: the order of the first leading minor (of the lower triangle, mirrored)
    that is not positive-definite, or 0."""
    return _per_matrix(a, lambda m: partial_cholesky(m)[1])


def failure_message(name: str, info: np.ndarray, what: str) -> str:
    """PyTorch's message for the first failing matrix; ``what`` has ``{k}`` for its info."""
    flat = info.reshape(-1)
    first = int(np.flatnonzero(flat)[0])
    batch = f"(Batch element {first}): " if info.ndim else ""
    return f"{name}: {batch}{what.format(k=int(flat[first]))}"
