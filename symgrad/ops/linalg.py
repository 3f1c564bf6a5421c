"""Linear algebra: ``matmul`` in every combination of 1-d, 2-d and batched operands,
``addmm`` (beta * input + alpha * mat1 @ mat2) and ``linear`` built from them.

One record covers all matmul cases; the node name follows what PyTorch records for each case
(``MmBackward0`` for matrix @ matrix, ``MvBackward0``, ``DotBackward0``, ...).
"""

from __future__ import annotations

import math

import numpy as np

from symgrad.ops._apply import apply
from symgrad.ops._record import REAL, register
from symgrad.ops._util import c_type_name, check_kernel, tensor_input, type_name
from symgrad.tensor import Tensor, as_tensor

# ``linear`` is torch.nn.functional.linear only (not a torch.* function nor a Tensor
# method), so it is not in __all__ (whose names become Tensor methods).
__all__ = ["matmul", "mm", "mv", "dot", "bmm", "outer", "addmm"]


def _mT(xp, a):
    """``a`` with its last two axes swapped; an ndarray's own method skips the ~0.4 us of
    ``np.swapaxes``'s Python dispatch (the same view)."""
    return a.swapaxes(-1, -2) if type(a) is np.ndarray else xp.swapaxes(a, -1, -2)


def _matmul_vjp_a(xp, g, ans, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return g * b
    if a.ndim == 1:                       # (k,) @ (..., k, m): g is (..., m)
        return xp.squeeze(xp.matmul(b, xp.expand_dims(g, -1)), axis=-1)
    if b.ndim == 1:                       # (..., n, k) @ (k,): g is (..., n)
        return xp.expand_dims(g, -1) * b
    return xp.matmul(g, _mT(xp, b))


def _matmul_vjp_b(xp, g, ans, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if a.ndim == 1:                       # g is (..., m): outer product a g
        return xp.expand_dims(a, -1) * xp.expand_dims(g, -2)
    if b.ndim == 1:                       # g is (..., n): a^T g
        return xp.squeeze(xp.matmul(_mT(xp, a), xp.expand_dims(g, -1)), axis=-1)
    return xp.matmul(_mT(xp, a), g)


def _matmul_mirror(a, b):
    """``c[..., i, j] = sum_k a[..., i, k] b[..., k, j]``, each sum built in one step.

    ``np.matmul`` on object arrays adds the products one at a time, and SymPy re-flattens
    the growing sum at every step: quadratic in k. Same value, one ``Add`` per entry (built
    directly for constants times symbols, see ``_sums``).
    """
    from symgrad.ops import _sums

    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    va, vb = a.ndim == 1, b.ndim == 1
    if va:
        a = a[None, :]
    if vb:
        b = b[:, None]
    products = np.frompyfunc(_sums.times, 2, 1)(a[..., :, :, None], b[..., None, :, :])
    terms = np.moveaxis(np.asarray(products, dtype=object), -2, -1)  # (..., n, m, k)
    out = np.empty(terms.shape[:-1], dtype=object)
    for idx in np.ndindex(*out.shape):
        out[idx] = _sums.add_terms(list(terms[idx]))
    if vb:
        out = out[..., 0]
    if va:
        out = out[..., 0, :] if not vb else out[..., 0]
    return out


MATMUL = register(
    "matmul", "MmBackward0",
    forward=lambda xp, a, b: xp.matmul(a, b),
    vjp=(_matmul_vjp_a, _matmul_vjp_b),
    mirror=_matmul_mirror,
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


def _operand(v, name: str, position: int) -> Tensor:
    """A matmul operand as a Tensor: numpy arrays convert (``ndarray @ tensor``); a number
    or list is PyTorch's TypeError (``t @ 2``), not a 0-d operand's RuntimeError."""
    if isinstance(v, (Tensor, np.ndarray)):
        return as_tensor(v)
    raise TypeError(f"matmul(): argument '{name}' (position {position}) must be Tensor, not "
                    f"{type(v).__name__}")


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
        if len(sa) == len(sb) == 1:
            raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                               f"{type_name(a)} and {type_name(b)}")
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{c_type_name(a)} != {c_type_name(b)}")
    if a._data.dtype.kind == "b":   # (only then: this runs for every product)
        check_kernel(_kernel(len(sa), len(sb)), a, "b")


def _kernel(ndim_a: int, ndim_b: int) -> str:
    """The PyTorch CPU kernel a product of these ranks runs (named in its dtype errors)."""
    if ndim_b == 1:
        return "dot" if ndim_a == 1 else "addmv_impl_cpu"
    return "addmm_impl_cpu_" if ndim_b == 2 else "bmm"


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with numpy's rules: 1-d operands are vectors, extra leading
    dimensions are batches and broadcast."""
    a = input if type(input) is Tensor else _operand(input, "input", 1)
    b = other if type(other) is Tensor else _operand(other, "other", 2)
    sa, sb = a._data.shape, b._data.shape
    if (len(sa) == 2 and len(sb) == 2 and sa[1] == sb[0] and a._data.dtype == b._data.dtype
            and a._data.dtype.kind != "b"):
        return apply(MATMUL, a, b)  # matrix @ matrix, the checks below passed
    _check(a, b)
    op = _BY_NDIM.get((a._data.ndim, b._data.ndim), _BATCHED)
    return apply(op, a, b)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Matrix @ matrix (both 2-d)."""
    if tensor_input(input).ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: both arguments must be 2D, got {input.ndim}D and {mat2.ndim}D")
    return matmul(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    if tensor_input(input).ndim != 2 or vec.ndim != 1:
        raise RuntimeError("mv: expected a 2D matrix and a 1D vector")
    return matmul(input, vec)


def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-d tensors."""
    if tensor_input(input).ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
                           f"[{other.shape[0]}] to have the same number of elements, but got "
                           f"{input.shape[0]} and {other.shape[0]} elements respectively")
    return matmul(input, other)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of two 3-d tensors with the same batch size."""
    if tensor_input(input).ndim != 3 or mat2.ndim != 3:
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


# ================================================================ addmm
def _scaled(v, s):
    return v if s == 1 else v * s


def _addmm_forward(xp, input, mat1, mat2, *, beta=1, alpha=1):
    prod = _scaled(xp.matmul(mat1, mat2), alpha)
    if beta == 0:                         # PyTorch ignores input then (nan and inf included)
        return prod
    return _scaled(input, beta) + prod


ADDMM = register(
    "addmm", "AddmmBackward0",
    forward=_addmm_forward,
    vjp=(lambda xp, g, ans, input, mat1, mat2, *, beta=1, alpha=1: _scaled(g, beta),
         lambda xp, g, ans, input, mat1, mat2, *, beta=1, alpha=1: _scaled(
             xp.matmul(g, xp.swapaxes(mat2, 0, 1)), alpha),
         lambda xp, g, ans, input, mat1, mat2, *, beta=1, alpha=1: _scaled(
             xp.matmul(xp.swapaxes(mat1, 0, 1), g), alpha)),
    mirror=lambda input, mat1, mat2, *, beta=1, alpha=1: (
        beta * np.asarray(input, dtype=object) + alpha * _matmul_mirror(mat1, mat2)),
    kind="linalg", domain=(REAL, REAL, REAL),
    examples=((((2,), (2, 3), (3, 2)), {}), (((2, 1), (2, 2), (2, 1)), {"beta": 0.5, "alpha": 2.0}),
              (((), (1, 2), (2, 2)), {"beta": 0}), (((1, 2), (1, 2), (2, 2)), {"alpha": -1.5})),
)

def _same_dtype(a: Tensor, b: Tensor, what: str) -> None:
    da, db = a._data.dtype, b._data.dtype
    if da != db and object not in (da, db):
        raise RuntimeError(f"{what} must have the same dtype, but got {type_name(a)} and "
                           f"{type_name(b)}")


def _mm_shapes(rows: int, k: int, mat2_shape: tuple) -> None:
    if k != mat2_shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and "
                           f"{mat2_shape[0]}x{mat2_shape[1]})")


def _expandable(input: Tensor, size: tuple) -> None:
    """PyTorch's checks for ``input.expand(size)`` (addmm's input against the product)."""
    shape = tuple(input.shape)
    if len(shape) > len(size):
        raise RuntimeError(f"expand(symgrad.{input.dtype.name}{{{list(shape)}}}, "
                           f"size={list(size)}): the number of sizes provided ({len(size)}) "
                           "must be greater or equal to the number of dimensions in the tensor "
                           f"({len(shape)})")
    lead = len(size) - len(shape)
    for i, s in enumerate(shape):
        if s != 1 and s != size[lead + i]:
            raise RuntimeError(f"The expanded size of the tensor ({size[lead + i]}) must match "
                               f"the existing size ({s}) at non-singleton dimension {lead + i}."
                               f"  Target sizes: {list(size)}.  Tensor sizes: {list(shape)}")


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` for matrices ``mat1``, ``mat2``; ``input``
    broadcasts to the product's shape (with ``beta=0`` it is ignored, nan included)."""
    input, mat1, mat2 = as_tensor(input), as_tensor(mat1), as_tensor(mat2)
    for name, m in (("mat1", mat1), ("mat2", mat2)):
        if m.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {m.ndim}-D tensor")
    _mm_shapes(mat1.shape[0], mat1.shape[1], tuple(mat2.shape))
    _expandable(input, (mat1.shape[0], mat2.shape[1]))
    _same_dtype(mat1, mat2, "mat1 and mat2")
    _same_dtype(input, mat2, "self and mat2")
    check_kernel("addmm_impl_cpu_", mat2, "b")
    params = {k: v for k, v in (("beta", beta), ("alpha", alpha)) if v != 1}
    return apply(ADDMM, input, mat1, mat2, **params)


# ================================================================ linear
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` (torch.nn.functional.linear), recorded as PyTorch records
    it: ``addmm`` for a 2-d input with a bias (a contiguous n-d input with a 1-d bias is
    flattened to 2-d around it: ViewBackward0), ``matmul`` (+ ``add``) otherwise."""
    from symgrad.ops.shape import reshape, t

    x, w = as_tensor(input), as_tensor(weight)
    if x.ndim == 0 or w.ndim == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are "
                           f"{x.ndim}D and {w.ndim}D")
    wt = t(w)
    rows, k = math.prod(x.shape[:-1]), x.shape[-1]
    if bias is not None:
        b = as_tensor(bias)
        if x.ndim == 2:
            return addmm(b, x, wt)
        if b.ndim == 1 and x._data.flags.c_contiguous:
            if wt.ndim != 2:
                raise RuntimeError(f"mat2 must be a matrix, got {wt.ndim}-D tensor")
            _mm_shapes(rows, k, tuple(wt.shape))
            out = addmm(b, reshape(x, (rows, k)), wt)
            return reshape(out, (*x.shape[:-1], wt.shape[1]))
    out = _linear_matmul(x, wt, rows, k)
    if bias is None:
        return out
    shape = tuple(out.shape)
    try:
        full = np.broadcast_shapes(shape, tuple(b.shape))
    except ValueError:
        full = None
    if full != shape:
        if full is None:
            return out + b                # the usual "size of tensor a ... must match" error
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape "
                           f"{list(full)}")
    return out + b


def _linear_matmul(x: Tensor, wt: Tensor, rows: int, k: int) -> Tensor:
    if wt.ndim == 2:
        _mm_shapes(rows, k, tuple(wt.shape))
    elif x.ndim == 1:
        return dot(x, wt)
    elif k != wt.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{k}), vec "
                           f"({wt.shape[0]})")
    if x._data.dtype != wt._data.dtype and object not in (x._data.dtype, wt._data.dtype):
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{type_name(x).lower()} != {type_name(wt).lower()}")
    return matmul(x, wt)
