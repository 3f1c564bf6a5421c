"""``LinAlgError`` and LAPACK's ``info`` for the factorizations that can fail: the first
zero pivot of an LU factorization with partial pivoting (``inv``, ``solve``,
``lu_factor``) and the first leading minor that is not positive-definite (``cholesky``),
1-based per matrix and 0 where the factorization succeeds, as PyTorch reports them."""

from __future__ import annotations

import numpy as np

__all__ = ["LinAlgError", "zero_pivot_info", "cholesky_info", "partial_cholesky",
           "failure_message"]


class LinAlgError(RuntimeError):
    """A linear-algebra routine failed on its input (a singular matrix, one that is not
    positive-definite); a RuntimeError, as PyTorch's ``torch.linalg.LinAlgError``."""


def _per_matrix(a: np.ndarray, one) -> np.ndarray:
    flat = a.reshape((-1,) + a.shape[-2:])
    return np.array([one(m) for m in flat], dtype=np.int32).reshape(a.shape[:-2])


def _zero_pivot(m: np.ndarray) -> int:
    w = np.array(m, dtype=np.float64 if m.dtype.kind != "c" else m.dtype)
    n = min(w.shape)
    first = 0
    for k in range(n):
        p = k + int(np.argmax(np.abs(w[k:, k])))
        if w[p, k] == 0:
            first = first or k + 1   # LAPACK carries on; info is the first zero pivot
            continue
        w[[k, p]] = w[[p, k]]
        w[k + 1:, k] /= w[k, k]
        w[k + 1:, k + 1:] -= np.outer(w[k + 1:, k], w[k, k + 1:])
    return first


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
    return _per_matrix(a, _zero_pivot)


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
