"""Products and distances built from matmul: kron, inner, tensordot, vdot, cross, addmv,
addr, addbmm, baddbmm, chain_matmul, matrix_power, cdist, dist.

Compositions of recorded ops (as ``compose``): their gradients come from matmul, mul, sum
and vector_norm, whose rules the table proves. A ``beta`` of 0 drops ``input`` entirely
(nan and inf in it included), as PyTorch does.
"""

from __future__ import annotations

import builtins
import math
import warnings
from typing import Any

import numpy as np

from symgrad.ops import elementwise as ew
from symgrad.ops import linalg as la
from symgrad.ops import shape as sh
from symgrad.ops._util import tensor_input, tensor_pair, type_name
from symgrad.ops.reduction import sum as _sum
from symgrad.ops.reduction import vector_norm
from symgrad.tensor import Tensor, _axis, as_tensor

__all__ = ["kron", "inner", "tensordot", "vdot", "cross", "addmv", "addr", "addbmm", "baddbmm",
           "chain_matmul", "matrix_power", "cdist", "dist"]

#: Functions here that torch.Tensor has no method for.
NOT_METHODS = ("tensordot", "chain_matmul", "cdist")


def _scaled(t: Tensor, s: Any) -> Tensor:
    return t if s == 1 else ew.mul(t, s)


def _plus_input(input, product: Tensor, beta, alpha) -> Tensor:
    """``beta * input + alpha * product``. When beta is 0 the value of ``input`` is ignored
    (nan and inf too) and its gradient is 0, as PyTorch's."""
    x = as_tensor(input)
    if beta == 0:
        nothing = Tensor._wrap(np.zeros(x._data.shape, dtype=bool))
        x, beta = ew.where(nothing, x, 0), 1
    return ew.add(_scaled(x, beta), _scaled(product, alpha))


# ================================================================ products of tensors
def kron(input, other) -> Tensor:
    """The Kronecker product: every entry of ``input`` times the whole of ``other``, laid
    out block by block (the shorter shape padded with leading 1s)."""
    a, b = tensor_pair(input, other)
    nd = builtins.max(a._data.ndim, b._data.ndim)
    sa = (1,) * (nd - a._data.ndim) + a._data.shape
    sb = (1,) * (nd - b._data.ndim) + b._data.shape
    ai = sh.reshape(a, tuple(v for s in sa for v in (s, 1)))
    bi = sh.reshape(b, tuple(v for s in sb for v in (1, s)))
    return sh.reshape(ew.mul(ai, bi), tuple(x * y for x, y in zip(sa, sb)))


def tensordot(a, b, dims=2) -> Tensor:
    """Sum of products over the last ``dims`` dimensions of ``a`` and the first of ``b``,
    or over the paired dimensions ``dims = (dims_a, dims_b)``."""
    a, b = as_tensor(a), as_tensor(b)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > builtins.min(a._data.ndim, b._data.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got "
                               f"dims={dims}")
        da = list(range(a._data.ndim - dims, a._data.ndim))
        db = list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    da = [_axis(d, a._data.ndim) for d in da]
    db = [_axis(d, b._data.ndim) for d in db]
    for i, j in zip(da, db):
        if a._data.shape[i] != b._data.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a._data.shape[i]} in dim {i} and second has size "
                               f"{b._data.shape[j]} in dim {j}")
    free_a = [d for d in range(a._data.ndim) if d not in da]
    free_b = [d for d in range(b._data.ndim) if d not in db]
    k = math.prod(a._data.shape[d] for d in da)
    left = sh.reshape(sh.permute(a, *(free_a + da)), (-1, k)) if a._data.ndim else \
        sh.reshape(a, (1, 1))
    right = sh.reshape(sh.permute(b, *(db + free_b)), (k, -1)) if b._data.ndim else \
        sh.reshape(b, (1, 1))
    out = la.matmul(left, right)
    return sh.reshape(out, tuple(a._data.shape[d] for d in free_a) +
                      tuple(b._data.shape[d] for d in free_b))


def inner(input, other) -> Tensor:
    """Sum of products over the last dimension of both (a product when either is 0-d)."""
    a, b = tensor_pair(input, other)
    if a._data.ndim == 0 or b._data.ndim == 0:
        return ew.mul(a, b)
    if a._data.shape[-1] != b._data.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(a._data.shape)} and {list(b._data.shape)}")
    if a._data.shape[-1] == 0:
        # nothing to contract: zeros of shape a[:-1] + b[:-1] (tensordot cannot reshape)
        sa = sh.reshape(_sum(a, -1), a._data.shape[:-1] + (1,) * (b._data.ndim - 1))
        return ew.mul(sa, _sum(b, -1))
    return tensordot(a, b, ([-1], [-1]))


def vdot(input, other) -> Tensor:
    """The dot product of two 1-d tensors (real tensors: no conjugation to do)."""
    a, b = as_tensor(input), as_tensor(other)
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a._data.ndim}D and "
                           f"{b._data.ndim}D tensors")
    return la.dot(a, b)


def cross(input, other, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (broadcasting); without ``dim``, the
    first dimension of size 3 (deprecated in PyTorch, which warns)."""
    a, b = as_tensor(input), as_tensor(other)
    if a._data.ndim != b._data.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if a._data.dtype != b._data.dtype and object not in (a._data.dtype, b._data.dtype):
        raise RuntimeError(f"expected scalar type {type_name(a)} but found {type_name(b)}")
    shape = np.broadcast_shapes(a._data.shape, b._data.shape)
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated. Please "
                      "either pass the dim explicitly or simply use torch.linalg.cross.",
                      UserWarning, stacklevel=2)
        dim = next((i for i, n in enumerate(shape) if n == 3), -1)
    d = _axis(dim, builtins.max(len(shape), 1))
    na = a._data.shape[d - len(shape) + a._data.ndim] if a._data.ndim else 1
    nb = b._data.shape[d - len(shape) + b._data.ndim] if b._data.ndim else 1
    if na != 3 or nb != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{na} and {nb}")
    a, b = sh.expand(a, shape), sh.expand(b, shape)
    a1, a2, a3 = sh.unbind(a, d)
    b1, b2, b3 = sh.unbind(b, d)
    parts = [ew.sub(ew.mul(a2, b3), ew.mul(a3, b2)), ew.sub(ew.mul(a3, b1), ew.mul(a1, b3)),
             ew.sub(ew.mul(a1, b2), ew.mul(a2, b1))]
    return sh.stack(parts, d)


# ================================================================ add-and-multiply forms
def addmv(input, mat, vec, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``."""
    return _plus_input(input, la.mv(as_tensor(mat), as_tensor(vec)), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``."""
    return _plus_input(tensor_input(input), la.outer(as_tensor(vec1), as_tensor(vec2)), beta,
                       alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (batch1 @ batch2)``, batch by batch."""
    return _plus_input(input, la.bmm(as_tensor(batch1), as_tensor(batch2)), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * sum_b (batch1[b] @ batch2[b])``."""
    return _plus_input(input, _sum(la.bmm(as_tensor(batch1), as_tensor(batch2)), 0), beta,
                       alpha)


def chain_matmul(*matrices) -> Tensor:
    """The product of 2-d matrices, left to right (deprecated in PyTorch for
    ``linalg.multi_dot``, with a warning)."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two "
                  "or more tensors rather than multiple parameters.", UserWarning, stacklevel=2)
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    ms = [as_tensor(m) for m in matrices]
    for k, m in enumerate(ms):
        if m._data.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m._data.ndim}, expected 2 instead. "
                               f"(matrix {k})")
    if len(ms) == 1:
        return sh.clone(ms[0])
    out = ms[0]
    for m in ms[1:]:
        out = la.mm(out, m)
    return out


def matrix_power(input, n: int) -> Tensor:
    """``input`` (a square matrix or a batch of them) times itself ``n`` times, by repeated
    squaring; the identity for ``n = 0``; powers of the inverse for ``n < 0``."""
    x = as_tensor(input)
    if x._data.ndim < 2 or x._data.shape[-1] != x._data.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but "
                           f"they are {x._data.shape[-2] if x._data.ndim > 1 else 1} by "
                           f"{x._data.shape[-1] if x._data.ndim else 1} matrices")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if n == 0:
        eye = Tensor._wrap(np.broadcast_to(np.eye(x._data.shape[-1], dtype=x._data.dtype),
                                           x._data.shape).copy())
        if not x.requires_grad:
            return eye
        # in the graph with a zero gradient, as PyTorch (its identity requires grad)
        from symgrad.ops.elementwise import where

        return where(Tensor._wrap(np.zeros(x._data.shape, bool)), x, eye)
    if n < 0:
        from symgrad.ops.matrix import inverse

        x, n = inverse(x), -n
    result, square = None, x
    while n:
        if n & 1:
            result = square if result is None else la.matmul(result, square)
        n >>= 1
        if n:
            square = la.matmul(square, square)
    return result


# ================================================================ distances
def dist(input, other, p: float = 2) -> Tensor:
    """The p-norm of ``input - other`` over all entries (p > 0 or inf; p = 0 counts the
    entries that differ and has no gradient)."""
    diff = ew.sub(*tensor_pair(input, other))
    if p == 0:
        return Tensor._wrap(np.asarray(np.count_nonzero(diff._data), dtype=diff._data.dtype))
    return vector_norm(diff, p)


def cdist(x1, x2, p: float = 2.0, compute_mode: str | None = None) -> Tensor:
    """The p-norm distance of every row of ``x1`` (..., P, M) to every row of ``x2``
    (..., R, M): shape (..., P, R). Computed from the differences (exact; PyTorch switches
    to a matrix product for large inputs). At coincident points the 2-norm's gradient is
    0, as PyTorch's. For p = inf, coordinates tied for the largest difference share the
    gradient evenly, as ``linalg.vector_norm`` does (PyTorch's cdist gives each the whole
    of it, which is not a subgradient)."""
    a, b = as_tensor(x1), as_tensor(x2)
    for name, t in (("X1", a), ("X2", b)):
        if t._data.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: "
                               f"{t._data.ndim}D")
    if a._data.shape[-1] != b._data.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{a._data.shape[-1]} X2: {b._data.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    diff = ew.sub(sh.unsqueeze(a, -2), sh.unsqueeze(b, -3))
    if p == 0:
        count = Tensor._wrap(np.count_nonzero(diff._data, axis=-1).astype(diff._data.dtype))
        if not diff.requires_grad:
            return count
        # in the graph with a zero gradient, as PyTorch's cdist(p=0)
        return ew.where(Tensor._wrap(np.ones(count._data.shape, bool)), count,
                        _sum(diff, -1))
    if diff._data.size == 0:     # no pairs: any norm (inf has no identity for vector_norm)
        p = 2
    return vector_norm(diff, p, dim=-1)
