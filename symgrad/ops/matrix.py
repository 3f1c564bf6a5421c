"""Square-matrix functions: ``det`` and ``inverse`` (batched over leading dimensions).

Two records. Their numeric forms are LAPACK's (numpy.linalg); at high precision mpmath's;
the mirrors are the textbook formulas (the determinant expanded without division, the
inverse as adjugate / determinant). The rule of ``det`` is the cofactor matrix, computed
from the singular value decomposition so that it is exact at singular matrices too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgrad.ops._apply import apply
from symgrad.ops._lapack_info import LinAlgError, failure_message, zero_pivot_info
from symgrad.ops._record import REAL, Kink, register
from symgrad.ops._util import type_name
from symgrad.tensor import Tensor, as_tensor

__all__ = ["det", "inverse"]

#: Every function here is a Tensor method too.
NOT_METHODS: tuple[str, ...] = ()


def _per_matrix(fn, a: np.ndarray) -> np.ndarray:
    """``fn`` of each matrix of a batch (object arrays), results stacked in the batch shape."""
    a = np.asarray(a, dtype=object)
    batch = a.shape[:-2]
    outs = [fn(a[idx]) for idx in np.ndindex(*batch)]
    if not outs:
        return np.empty(batch + np.shape(fn(np.zeros(a.shape[-2:], dtype=object))), object)
    first = np.asarray(outs[0], dtype=object)
    out = np.empty(batch + first.shape, dtype=object)
    for idx, v in zip(np.ndindex(*batch), outs):
        out[idx] = v
    return out


def _mp_matrix(m: np.ndarray):
    import mpmath

    return mpmath.matrix(m.tolist()) if m.size else mpmath.matrix(0, 0)


def _mp_det(m: np.ndarray) -> Any:
    import mpmath

    return mpmath.det(_mp_matrix(m)) if m.size else mpmath.mpf(1)


def _mp_cofactor(m: np.ndarray) -> np.ndarray:
    """(-1)^(i+j) times the determinant of ``m`` without row i and column j."""
    n = m.shape[0]
    out = np.empty((n, n), dtype=object)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(m, i, 0), j, 1)
            out[i, j] = (-1) ** (i + j) * _mp_det(minor)
    return out


def _sympy_matrix(m: np.ndarray):
    import sympy

    return sympy.Matrix(m.shape[0], m.shape[1], list(m.reshape(-1)))


def _np_cofactor(a: np.ndarray) -> np.ndarray:
    """The cofactor matrix (the gradient of det) from A = U S Vh:
    cofactor(A) = det(U) det(Vh) U diag(prod_{j != i} s_j) Vh, exact at singular A too."""
    n = a.shape[-1]
    if n == 0:
        return np.zeros(a.shape, dtype=a.dtype)
    u, s, vh = np.linalg.svd(a)
    ones = np.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], -1), -1)
    after = np.flip(np.cumprod(np.concatenate([ones, np.flip(s[..., 1:], -1)], -1), -1), -1)
    others = before * after                                 # prod_{j != i} s_j, no division
    sign = np.linalg.det(u) * np.linalg.det(vh)
    return (sign[..., None, None] * (u * others[..., None, :])) @ vh


def _cofactor(xp, a) -> Any:
    if xp.name == "numpy":
        return _np_cofactor(a)
    if xp.name == "mpmath":
        return _per_matrix(_mp_cofactor, a)
    if xp.name == "sympy":
        return _per_matrix(lambda m: np.array(_sympy_matrix(m).adjugate().T.tolist(),
                                              dtype=object).reshape(m.shape), a)
    return det(a)[..., None, None] * xp.swapaxes(inverse(a), -1, -2)   # Tensors


def _det(xp, a) -> Any:
    if xp.name == "numpy":
        return np.linalg.det(a)
    return _per_matrix(_mp_det, a)


def _det_mirror(a):
    return _per_matrix(lambda m: _sympy_matrix(m).det(method="berkowitz") if m.size else 1, a)


DET = register(
    "det", "LinalgDetBackward0",
    forward=_det,
    vjp=lambda xp, g, ans, a: xp.expand_dims(xp.expand_dims(g, -1), -1) * _cofactor(xp, a),
    mirror=_det_mirror,
    kind="linalg", domain=(REAL,),
    examples=((((2, 2),), {}), (((3, 3),), {}), (((2, 2, 2),), {})),
    doc="determinant; its rule is the cofactor matrix (PyTorch gives 0 at singular matrices)",
)


def _inverse(xp, a) -> Any:
    if xp.name == "numpy":
        return np.linalg.inv(a)
    import mpmath

    def inv(m):
        if not m.size:
            return np.zeros((0, 0), dtype=object)
        r = mpmath.inverse(_mp_matrix(m))
        return np.array(r.tolist(), dtype=object).reshape(m.shape)

    return _per_matrix(inv, a)


def _inverse_mirror(a):
    def inv(m):
        if not m.size:
            return np.zeros((0, 0), dtype=object)
        s = _sympy_matrix(m)
        return np.array((s.adjugate() / s.det(method="berkowitz")).tolist(),
                        dtype=object).reshape(m.shape)

    return _per_matrix(inv, a)


def _mT(xp, a) -> Any:
    return xp.swapaxes(a, -1, -2)


INVERSE = register(
    "inverse", "LinalgInvExBackward0",
    forward=_inverse,
    # d(A^-1) = -A^-1 dA A^-1, so the gradient is -A^-T g A^-T
    vjp=lambda xp, g, ans, a: -xp.matmul(xp.matmul(_mT(xp, ans), g), _mT(xp, ans)),
    mirror=_inverse_mirror,
    kind="linalg", domain=(REAL,),
    examples=((((2, 2),), {}), (((2, 2, 2),), {})),
    kinks=Kink(lambda a: np.abs(np.linalg.det(a)) == 0,
               "singular matrices have no inverse: an error, as PyTorch"),
)


def _square(x: Tensor, name: str) -> None:
    nd = x._data.ndim
    if nd < 2 or x._data.shape[-1] != x._data.shape[-2]:
        rows = x._data.shape[-2] if nd > 1 else 1
        cols = x._data.shape[-1] if nd else 1
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they "
                           f"are {rows} by {cols} matrices")
    if x._data.dtype.kind not in "fO":
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as "
                           f"input. Got {type_name(x)}")


def det(input) -> Tensor:
    """The determinant of a square matrix (or of each matrix of a batch). Its gradient is
    the cofactor matrix, at singular matrices too (PyTorch returns 0 there)."""
    x = as_tensor(input)
    _square(x, "det")
    return apply(DET, x)


def inverse(input) -> Tensor:
    """The inverse of a square matrix (or of each matrix of a batch); singular matrices
    raise, as in PyTorch."""
    x = as_tensor(input)
    _square(x, "inv")
    try:
        return apply(INVERSE, x)
    except np.linalg.LinAlgError:
        raise LinAlgError(failure_message("linalg.inv", zero_pivot_info(x._data), SINGULAR_INV)
                          ) from None


SINGULAR_INV = ("The diagonal element {k} is zero, the inversion could not be completed "
                "because the input matrix is singular.")
