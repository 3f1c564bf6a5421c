"""Linear algebra: ``matmul`` in every combination of 1-d, 2-d and batched operands.

One record covers all cases; the node name follows what PyTorch records for each case
(``MmBackward0`` for matrix @ matrix, ``MvBackward0``, ``DotBackward0``, ...).
"""

from __future__ import annotations

import numpy as np

from symgrad.ops._apply import apply
from symgrad.ops._record import REAL, register
from symgrad.tensor import Tensor, as_tensor

__all__ = ["matmul", "mm", "mv", "dot", "bmm", "outer"]


def _matmul_vjp_a(xp, g, ans, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return g * b
    if a.ndim == 1:                       # (k,) @ (..., k, m): g is (..., m)
        return xp.squeeze(xp.matmul(b, xp.expand_dims(g, -1)), axis=-1)
    if b.ndim == 1:                       # (..., n, k) @ (k,): g is (..., n)
        return xp.expand_dims(g, -1) * b
    return xp.matmul(g, xp.swapaxes(b, -1, -2))


def _matmul_vjp_b(xp, g, ans, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if a.ndim == 1:                       # g is (..., m): outer product a g
        return xp.expand_dims(a, -1) * xp.expand_dims(g, -2)
    if b.ndim == 1:                       # g is (..., n): a^T g
        return xp.squeeze(xp.matmul(xp.swapaxes(a, -1, -2), xp.expand_dims(g, -1)), axis=-1)
    return xp.matmul(xp.swapaxes(a, -1, -2), g)


MATMUL = register(
    "matmul", "MmBackward0",
    forward=lambda xp, a, b: xp.matmul(a, b),
    vjp=(_matmul_vjp_a, _matmul_vjp_b),
    mirror=lambda a, b: np.matmul(a, b),
    kind="linalg", domain=(REAL, REAL),
    examples=((((2, 3), (3, 2)), {}), (((3,), (3, 2)), {}), (((2, 3), (3,)), {}),
              (((3,), (3,)), {}), (((2, 2, 3), (3, 2)), {}), (((3,), (2, 3, 2)), {})),
)
_BY_NDIM = {
    (2, 2): MATMUL,
    (2, 1): MATMUL.variant("MvBackward0"),
    (1, 1): MATMUL.variant("DotBackward0"),
    (1, 2): MATMUL.variant("SqueezeBackward4"),
}
_BATCHED = MATMUL.variant("UnsafeViewBackward0")
_BMM = MATMUL.variant("BmmBackward0")


def _check(a: Tensor, b: Tensor) -> None:
    sa, sb = a._data.shape, b._data.shape
    if not sa or not sb:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{len(sa)}D and {len(sb)}D")
    k1 = sa[-1]
    k2 = sb[-2] if len(sb) > 1 else sb[0]
    if k1 != k2:
        if len(sa) == 2 and len(sb) == 2:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa[0]}x{sa[1]} and "
                               f"{sb[0]}x{sb[1]})")
        raise RuntimeError(f"matmul: shapes {tuple(sa)} and {tuple(sb)} cannot be multiplied "
                           f"(inner dimensions {k1} and {k2} differ)")
    if len(sa) > 2 and len(sb) > 2:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise RuntimeError(f"matmul: batch dimensions of shapes {tuple(sa)} and {tuple(sb)} "
                               "do not broadcast") from None
    if a._data.dtype != b._data.dtype and a._data.dtype != object and b._data.dtype != object:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{a.dtype!r} != {b.dtype!r}")


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with numpy's rules: 1-d operands are vectors, extra leading
    dimensions are batches and broadcast."""
    a, b = as_tensor(input), as_tensor(other)
    _check(a, b)
    op = _BY_NDIM.get((a._data.ndim, b._data.ndim), _BATCHED)
    return apply(op, a, b)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Matrix @ matrix (both 2-d)."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: both arguments must be 2D, got {input.ndim}D and {mat2.ndim}D")
    return matmul(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError("mv: expected a 2D matrix and a 1D vector")
    return matmul(input, vec)


def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-d tensors."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
                           f"[{other.shape[0]}] to have the same number of elements, but got "
                           f"{input.shape[0]} and {other.shape[0]} elements respectively")
    return matmul(input, other)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of two 3-d tensors with the same batch size."""
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"bmm: batch1 must be a 3D tensor and batch2 must be a 3D tensor, got "
                           f"{input.ndim}D and {mat2.ndim}D")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ ({input.shape[0]} and {mat2.shape[0]})")
    _check(input, mat2)
    return apply(_BMM, input, mat2)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two 1-d tensors."""
    from symgrad.ops.shape import unsqueeze

    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError("outer: expected two 1D tensors")
    return unsqueeze(input, 1) * vec2
