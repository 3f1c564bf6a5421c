"""Gather and scatter-add: the ops that move values to and from indexed positions.

They are each other's rule (the gradient of a gather is a scatter-add and back), which is
also what makes rules that use them differentiable again under ``create_graph=True``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgrad.ops import shape as sh
from symgrad.ops._apply import apply
from symgrad.ops._record import REAL, register
from symgrad.ops._util import broadcast_mismatch
from symgrad.ops.namespaces import SYMPY, to_exact
from symgrad.tensor import Tensor, _axis, as_tensor

__all__ = ["take_along_dim", "index_add_into", "put_along_dim"]


def _indices(idx: Any) -> np.ndarray:
    a = idx._data if isinstance(idx, Tensor) else np.asarray(idx)
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"indices must be an integer tensor, got dtype {a.dtype}")
    return a


TAKE_ALONG = register(
    "take_along_dim", "GatherBackward0",
    forward=lambda xp, x, *, indices, dim: xp.take_along_axis(x, indices, dim),
    vjp=lambda xp, g, ans, x, *, indices, dim: xp.put_along_axis(x.shape, indices, g, dim,
                                                                 like=g),
    mirror=lambda x, *, indices, dim: np.take_along_axis(x, indices, dim),
    kind="shape", domain=(REAL,),
    examples=((((3, 4),), {"indices": np.array([[0], [2], [2]]), "dim": 1}),
              (((3, 2),), {"indices": np.array([[0, 1], [0, 0]]), "dim": 0})),
)


# gathers PyTorch records under other names: the values of sort and topk
SORT = TAKE_ALONG.variant("SortBackward0")
TOPK = TAKE_ALONG.variant("TopkBackward0")


def take_along_dim(input: Tensor, indices: Any, dim: int | None = None) -> Tensor:
    """``input`` read at ``indices`` along ``dim`` (numpy's take_along_axis, PyTorch's
    take_along_dim); repeated indices accumulate in the gradient.

    As in PyTorch: the dimensions other than ``dim`` broadcast (``input`` is expanded first,
    so its gradient sums back to its shape), indices along ``dim`` wrap modulo its size, and
    without ``dim`` both are flattened (and the indices must be in range).
    """
    idx = _indices(indices)
    if dim is None:
        flat = idx.reshape(-1)
        n = input.numel()
        bad = (flat < 0) | (flat >= n)
        if bad.any():
            raise RuntimeError(f"index {flat[bad][0]} is out of bounds for dimension 0 with "
                               f"size {n}")
        return apply(TAKE_ALONG, sh.view(input, -1), indices=flat, dim=0)
    if idx.ndim != input.ndim:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {input.ndim} dimensions for input, "
                           f"and {idx.ndim} dimensions for indices")
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = _axis(dim, input.ndim)
    size = input.shape[d]
    other = tuple(input.shape[:d]) + (idx.shape[d],) + tuple(input.shape[d + 1:])
    bad = broadcast_mismatch(other, idx.shape)
    if bad is not None:
        k, da, db = bad
        raise RuntimeError(f"The size of tensor a ({da}) must match the size of tensor b ({db}) "
                           f"at non-singleton dimension {input.ndim - k}")
    out = np.broadcast_shapes(other, idx.shape)
    if idx.shape != out:
        idx = np.broadcast_to(idx, out)
    if size == 0 and idx.size:
        raise RuntimeError(f"index {idx.flat[0]} is out of bounds for dimension {d} with size 0")
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        idx = np.mod(idx, size)
    in_shape = out[:d] + (size,) + out[d + 1:]
    if tuple(input.shape) != in_shape:
        input = sh.expand(input, in_shape)
    return apply(TAKE_ALONG, input, indices=idx, dim=d)


PUT_ALONG = register(
    "put_along_dim", "ScatterAddBackward0",
    forward=lambda xp, v, *, shape, indices, dim: xp.put_along_axis(shape, indices, v, dim,
                                                                    like=v),
    vjp=lambda xp, g, ans, v, *, shape, indices, dim: xp.take_along_axis(g, indices, dim),
    mirror=lambda v, *, shape, indices, dim: SYMPY.put_along_axis(shape, indices, v, dim),
    kind="shape", domain=(REAL,),
    examples=((((3, 1),), {"shape": (3, 4), "indices": np.array([[0], [2], [2]]), "dim": 1}),),
)


def put_along_dim(values: Tensor, shape: tuple, indices: Any, dim: int) -> Tensor:
    """Zeros of ``shape`` with ``values`` added at ``indices`` along ``dim``."""
    return apply(PUT_ALONG, as_tensor(values), shape=tuple(shape), indices=_indices(indices),
                 dim=dim)


INDEX_ADD = register(
    "index_add_into", "IndexPutBackward0",
    forward=lambda xp, v, *, shape, index: xp.index_add(shape, index, v, like=v),
    vjp=lambda xp, g, ans, v, *, shape, index: g[index],
    mirror=lambda v, *, shape, index: SYMPY.index_add(shape, index, v),
    kind="shape", domain=(REAL,),
    examples=((((3,),), {"shape": (4,), "index": np.array([1, 1, 3])}),
              (((2,),), {"shape": (2, 3), "index": (0, slice(1, 3))})),
)


def index_add_into(values: Tensor, shape: tuple, index: Any) -> Tensor:
    """Zeros of ``shape`` with ``values`` added at ``zeros[index]`` (repeats accumulate)."""
    return apply(INDEX_ADD, as_tensor(values), shape=tuple(shape), index=index)


#: diag of a vector: the vector written on a diagonal of zeros
DIAG_EMBED = INDEX_ADD.variant("DiagEmbedBackward0")


# ================================================================ scatter, index_add, embedding
# One node each, as PyTorch records them. ``indices`` (along ``dim``, as take_along_axis
# reads them) and the derived masks are parameters; the tensors are the arguments.
SCATTER_ADD = register(
    "scatter_add", "ScatterAddBackward0",
    forward=lambda xp, x, src, *, indices, dim: x + xp.put_along_axis(x.shape, indices, src,
                                                                      dim, like=x),
    vjp=(lambda xp, g, ans, x, src, *, indices, dim: g,
         lambda xp, g, ans, x, src, *, indices, dim: xp.take_along_axis(g, indices, dim)),
    mirror=lambda x, src, *, indices, dim: x + SYMPY.put_along_axis(x.shape, indices, src, dim),
    kind="shape", domain=(REAL, REAL),
    examples=((((3, 2), (2, 2)), {"indices": np.array([[0, 2], [0, 0]]), "dim": 0}),
              (((2, 3), (2, 1)), {"indices": np.array([[2], [1]]), "dim": 1})),
)


def _kept(xp, src, keep):
    return src if keep is None else xp.where(keep, src, 0)


SCATTER = register(
    "scatter", "ScatterBackward0",
    forward=lambda xp, x, src, *, indices, dim, written, keep=None: xp.where(
        written, xp.put_along_axis(x.shape, indices, _kept(xp, src, keep), dim, like=x), x),
    vjp=(lambda xp, g, ans, x, src, *, indices, dim, written, keep=None: xp.where(written, 0, g),
         lambda xp, g, ans, x, src, *, indices, dim, written, keep=None: _kept(
             xp, xp.take_along_axis(g, indices, dim), keep)),
    mirror=lambda x, src, *, indices, dim, written, keep=None: np.where(
        written, SYMPY.put_along_axis(x.shape, indices, _kept(SYMPY, src, keep), dim), x),
    kind="shape", domain=(REAL, REAL),
    examples=((((3, 2), (2, 2)), {"indices": np.array([[0, 2], [1, 0]]), "dim": 0,
                                  "written": np.array([[True, True], [True, False],
                                                       [False, True]])}),
              (((3,), (3,)), {"indices": np.array([1, 2, 1]), "dim": 0,
                              "written": np.array([False, True, True]),
                              "keep": np.array([False, True, True])})),
    doc="values written at indices along dim; where an index repeats, the last write (keep)",
)

#: scatter of a number: a masked_fill of the written positions
SCATTER_VALUE = sh.MASKED_FILL.variant("ScatterBackward1")


def _index_add(xp, x, source, index, alpha):
    return x + xp.index_add(x.shape, index, source if alpha == 1 else source * alpha, like=x)


INDEX_ADD_AT = register(
    "index_add", "IndexAddBackward0",
    forward=lambda xp, x, source, *, index, alpha=1: _index_add(xp, x, source, index, alpha),
    vjp=(lambda xp, g, ans, x, source, *, index, alpha=1: g,
         lambda xp, g, ans, x, source, *, index, alpha=1: g[index] if alpha == 1 else
         g[index] * alpha),
    mirror=lambda x, source, *, index, alpha=1: _index_add(SYMPY, x, source, index, alpha),
    kind="shape", domain=(REAL, REAL),
    examples=((((3, 2), (2, 2)), {"index": (np.array([2, 2]),)}),
              (((2, 3), (2, 2)), {"index": (slice(None), np.array([0, 2])), "alpha": 2})),
    doc="index_add: alpha * source's slices added at positions index of a dimension",
)


#: index_put(..., accumulate=True): values added at an index (a tuple of index arrays)
INDEX_PUT_ACCUMULATE = INDEX_ADD_AT.variant("IndexPutBackward0")


def _padding_mask(indices, padding_idx):
    return np.expand_dims(np.not_equal(indices, padding_idx), -1)


def _embedding(xp, weight, indices, padding_idx, padding_row):
    rows = weight[indices]
    if padding_idx is None:
        return rows
    # the padding row is a constant (no gradient): its value at the call
    if xp is SYMPY:
        padding_row = to_exact(padding_row)
    return xp.where(_padding_mask(indices, padding_idx), rows, padding_row)


EMBEDDING = register(
    "embedding", "EmbeddingBackward0",
    forward=lambda xp, weight, *, indices, padding_idx=None, padding_row=None: _embedding(
        xp, weight, indices, padding_idx, padding_row),
    vjp=lambda xp, g, ans, weight, *, indices, padding_idx=None, padding_row=None: xp.index_add(
        weight.shape, (indices,), g if padding_idx is None else xp.where(
            _padding_mask(indices, padding_idx), g, 0), like=g),
    mirror=lambda weight, *, indices, padding_idx=None, padding_row=None: _embedding(
        SYMPY, weight, indices, padding_idx, padding_row),
    kind="shape", domain=(REAL,),
    examples=((((3, 2),), {"indices": np.array([[0, 2], [2, 1]])}),
              (((3, 2),), {"indices": np.array([1, 0, 1]), "padding_idx": 1,
                           "padding_row": np.array([0.25, -1.5])})),
    doc="rows of weight at indices; the padding_idx row is a constant (no gradient)",
)
