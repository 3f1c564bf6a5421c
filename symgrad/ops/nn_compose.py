"""nn.functional's local_response_norm and triplet_margin_with_distance_loss (composed of
recorded ops, as PyTorch composes them), and multilabel_margin_loss and embedding_bag: one
record each, as PyTorch's MultilabelMarginLossBackward0 and EmbeddingBagBackward0 (users
print ``grad_fn``). Which entries take part (targets, bags, padding) is decided in numpy
and given to the records as parameters.
"""

from __future__ import annotations

import math

import numpy as np

from symgrad.autograd.grad_mode import no_grad
from symgrad.ops import compose as co
from symgrad.ops import elementwise as ew
from symgrad.ops import reduction as red
from symgrad.ops import shape as sh
from symgrad.ops._apply import apply
from symgrad.ops._record import REAL, register
from symgrad.ops._util import sp
from symgrad.ops.namespaces import NUMPY
from symgrad.ops.pooling import avg_pool2d, avg_pool3d
from symgrad.tensor import Tensor, as_tensor

__all__ = ["local_response_norm", "triplet_margin_with_distance_loss",
           "multilabel_margin_loss", "embedding_bag"]


def _const(a) -> Tensor:
    return Tensor._wrap(np.asarray(a))


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "mean":
        return red.mean(loss)
    if reduction == "sum":
        return red.sum(loss)
    raise ValueError(f"{reduction} is not a valid value for reduction")


# ================================================================ local response norm
def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """``input / (k + alpha * mean of input**2 over size neighbouring channels) ** beta``."""
    x = as_tensor(input)
    dim = x.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if x.numel() == 0:
        return x
    div = ew.mul(x, x)
    if dim == 3:
        div = co.pad(sh.unsqueeze(div, 1), (0, 0, size // 2, (size - 1) // 2))
        div = sh.squeeze(avg_pool2d(div, (size, 1), stride=1), 1)
    else:
        sizes = tuple(x.shape)
        div = sh.reshape(div, (sizes[0], 1, sizes[1], sizes[2], -1))
        div = co.pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = sh.reshape(sh.squeeze(avg_pool3d(div, (size, 1, 1), stride=1), 1), sizes)
    div = ew.pow(ew.add(ew.mul(div, alpha), k), beta)
    return ew.div(x, div)


# ================================================================ triplet loss
def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """``max(margin + d(anchor, positive) - d(anchor, negative), 0)`` for any distance
    ``d`` (default: pairwise_distance); ``swap`` uses ``min(d(a, n), d(p, n))``."""
    a, p, n = as_tensor(anchor), as_tensor(positive), as_tensor(negative)
    if not a.dim() == p.dim() == n.dim():
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have "
                           f"the same number of dimensions, but got: anchor {a.dim()}D, "
                           f"positive {p.dim()}D, and negative {n.dim()}D inputs")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    dist = co.pairwise_distance if distance_function is None else distance_function
    d_pos, d_neg = dist(a, p), dist(a, n)
    if swap:
        d_neg = ew.minimum(d_neg, dist(p, n))
    loss = ew.clamp_min(ew.sub(ew.add(d_pos, margin), d_neg), 0)
    return _reduce(loss, reduction)


# ================================================================ multi-label margin
# One node, as PyTorch's MultilabelMarginLossBackward0: per sample, the sum over target
# classes y_j and non-target classes i of max(0, 1 - (x[y_j] - x[i])), divided by C.
# ``labels`` (N, J) are the target classes (0 past the first -1), ``pairs`` (N, J, C) marks
# the (target, non-target) pairs that count; both are parameters, not differentiated.
def _ml_margins(xp, x, labels):
    x2 = xp.reshape(x, (1, -1)) if x.ndim <= 1 else x
    scores = xp.take_along_axis(x2, labels, axis=1)                          # (N, J)
    return 1 - xp.expand_dims(scores, 2) + xp.expand_dims(x2, 1)            # (N, J, C)


def _ml_reduce(xp, loss, x, reduction):
    if x.ndim <= 1 and reduction == "none":
        return xp.reshape(loss, ())
    if reduction == "none":
        return loss
    total = xp.sum(loss)
    return total if reduction == "sum" else total / loss.shape[0]


def _multilabel_margin(xp, x, *, labels, pairs, reduction):
    m = _ml_margins(xp, x, labels)
    hinge = xp.where(pairs, m, 0)
    hinge = xp.where(xp.greater(hinge, 0), hinge, 0)
    return _ml_reduce(xp, xp.sum(hinge, axis=(1, 2)) / m.shape[2], x, reduction)


def _multilabel_margin_vjp(xp, g, ans, x, *, labels, pairs, reduction):
    m = _ml_margins(xp, x, labels)
    n, c = m.shape[0], m.shape[2]
    active = xp.where(xp.greater(xp.where(pairs, m, 0), 0), m * 0 + 1, 0)  # m's dtype
    rows = xp.reshape(g, (-1, 1)) if reduction == "none" else (g / n if reduction == "mean"
                                                               else g)
    onehot = np.zeros(m.shape, dtype=np.int8)                               # y_j as a row
    np.put_along_axis(onehot, labels[:, :, None], 1, axis=2)
    toward = xp.sum(active, axis=1) - xp.sum(xp.expand_dims(xp.sum(active, axis=2), 2)
                                             * onehot, axis=1)
    return xp.reshape(rows * toward / c, tuple(x.shape))


def _multilabel_margin_mirror(x, *, labels, pairs, reduction):
    x2 = x.reshape(1, -1) if x.ndim <= 1 else x
    n, c = x2.shape
    loss = np.empty(n, dtype=object)
    for r in range(n):
        loss[r] = sum((sp.Max(0, 1 - x2[r, labels[r, j]] + x2[r, i])
                       for j in range(labels.shape[1]) for i in range(c) if pairs[r, j, i]),
                      sp.Integer(0)) / c
    return _ml_reduce(np, loss, x, reduction)


MULTILABEL_MARGIN = register(
    "multilabel_margin_loss", "MultilabelMarginLossBackward0",
    forward=_multilabel_margin,
    vjp=_multilabel_margin_vjp,
    mirror=_multilabel_margin_mirror,
    kind="loss", domain=(REAL,),
    examples=((((2, 3),), {"labels": np.array([[2, 0], [1, 0]]),
                           "pairs": np.array([[[1, 1, 0], [0, 1, 0]], [[1, 0, 1], [0, 0, 0]]],
                                             dtype=bool), "reduction": "mean"}),
              (((3,),), {"labels": np.array([[1]]), "pairs": np.array([[[1, 0, 1]]], dtype=bool),
                         "reduction": "none"})),
)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Per sample ``sum over targets j and non-targets i of max(0, 1 - (x[y_j] - x[i]))
    / C``; the targets are the entries of ``target`` before its first -1."""
    x, t = as_tensor(input), as_tensor(target)
    if size_average is not None or reduce is not None:
        reduction = "mean" if (reduce is not False and size_average is not False) else (
            "sum" if reduce is not False else "none")
    if x.dim() not in (0, 1, 2) or tuple(t.shape) != tuple(x.shape):
        raise RuntimeError(f"inconsistent target size: {list(t.shape)} for input of size: "
                           f"{list(x.shape)}")
    shape2 = (1, max(x.numel(), 1)) if x.dim() <= 1 else tuple(x.shape)
    tgt = t._data.reshape(shape2).astype(np.int64)
    c = shape2[1]
    if ((tgt < -1) | (tgt >= c)).any():
        raise RuntimeError("argument #2 'target' is out of range")
    valid = np.cumprod(tgt >= 0, axis=1).astype(bool)          # before the first -1
    labels = np.where(valid, tgt, 0)
    is_target = np.zeros(shape2, dtype=bool)
    rows = np.broadcast_to(np.arange(shape2[0])[:, None], tgt.shape)
    is_target[rows[valid], labels[valid]] = True
    pairs = valid[:, :, None] & ~is_target[:, None, :]
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return apply(MULTILABEL_MARGIN, x, labels=labels, pairs=pairs, reduction=reduction)


# ================================================================ embedding bag
def _bags(inp: np.ndarray, offsets, include_last_offset: bool) -> tuple[np.ndarray, np.ndarray,
                                                                         int]:
    """Flat indices, the bag of each, and the number of bags."""
    if inp.ndim == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated "
                             f"is a mini-batch of fixed length sequences. However, found "
                             f"offsets of type {type(offsets)}")
        b, length = inp.shape
        return inp.reshape(-1), np.repeat(np.arange(b), length), b
    if inp.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{inp.ndim}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    off = np.asarray(offsets._data if isinstance(offsets, Tensor) else offsets, np.int64)
    if off.ndim != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    if off.size and off[0] != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the "
                           f"mini-batch has to start from position 0. However, got {off[0]}")
    starts = off[:-1] if include_last_offset else off
    ends = np.append(starts[1:], off[-1] if include_last_offset else len(inp))
    if (ends < starts).any() or (ends > len(inp)).any():
        raise RuntimeError("offsets must be non-decreasing and within the input")
    bag = np.repeat(np.arange(len(starts)), ends - starts)
    return inp, bag, len(starts)


# One node, as PyTorch's EmbeddingBagBackward0: the rows ``weight[idx]`` (times the
# per-sample weights ``psw`` at positions ``pos``, mode sum) reduced per bag (``bag``, a bag
# number per row, ``n_bags`` bags) by sum, mean or max; an empty bag gives zeros.
# ================================================================ embedding bag records
def _bag_rows(xp, weight, psw, idx, pos):
    rows = weight[idx]
    return rows if psw is None else rows * xp.expand_dims(xp.reshape(psw, (-1,))[pos], 1)


def _bag_counts(bag, n_bags, like):
    dt = getattr(getattr(like, "_data", like), "dtype", np.dtype(np.float64))
    counts = np.maximum(np.bincount(bag, minlength=n_bags), 1)[:, None]
    return counts.astype(dt) if dt.kind == "f" else counts


def _bag_winners(rows, bag, n_bags) -> np.ndarray:
    """(n_bags, D): the row of each bag holding each feature's maximum (its first
    occurrence, as PyTorch), -1 for an empty bag."""
    data = np.asarray(rows)
    out = np.full((n_bags, data.shape[1]), -1, dtype=np.int64)
    for b in range(n_bags):
        members = np.flatnonzero(bag == b)
        if members.size:
            out[b] = members[np.argmax(data[members], axis=0)]
    return out


def _embedding_bag_fw(xp, weight, psw, *, idx, pos, bag, n_bags, mode, winners=None):
    rows = _bag_rows(xp, weight, psw, idx, pos)
    if mode == "max":
        win = winners
        picked = xp.take_along_axis(rows, np.maximum(win, 0), axis=0)
        return xp.where(win >= 0, picked, 0)
    total = xp.index_add((n_bags, weight.shape[1]), (bag,), rows, like=rows)
    return total if mode == "sum" else total / _bag_counts(bag, n_bags, rows)


def _bag_rows_grad(xp, g, idx, bag, n_bags, mode, win):
    """The gradient of the (weighted) rows, (K, D)."""
    if mode != "max":
        return g[bag] if mode == "sum" else (g / _bag_counts(bag, n_bags, g))[bag]
    d = win.shape[1]
    flat = (np.maximum(win, 0) * d + np.arange(d)).reshape(-1)
    vals = xp.reshape(xp.where(win >= 0, g, 0), (-1,))
    return xp.reshape(xp.index_add((len(idx) * d,), (flat,), vals, like=g), (len(idx), d))


def _embedding_bag_vjp_weight(xp, g, ans, weight, psw, *, idx, pos, bag, n_bags, mode,
                              winners=None):
    gr = _bag_rows_grad(xp, g, idx, bag, n_bags, mode, winners)
    if psw is not None:
        gr = gr * xp.expand_dims(xp.reshape(psw, (-1,))[pos], 1)
    return xp.index_add(tuple(weight.shape), (idx,), gr, like=gr)


def _embedding_bag_vjp_psw(xp, g, ans, weight, psw, *, idx, pos, bag, n_bags, mode,
                           winners=None):
    gr = _bag_rows_grad(xp, g, idx, bag, n_bags, mode, winners)
    per = xp.sum(gr * weight[idx], axis=1)
    return xp.reshape(xp.index_add((math.prod(psw.shape),), (pos,), per, like=per),
                      tuple(psw.shape))


def _embedding_bag_mirror(weight, psw, *, idx, pos, bag, n_bags, mode, winners=None):
    """Per bag the sum or mean of its rows; for max, the row chosen per feature (given, as
    max(dim)'s record takes its indices)."""
    rows = _bag_rows(NUMPY, weight, psw, idx, pos)
    out = np.zeros((n_bags, weight.shape[1]), dtype=object)
    for b in range(n_bags):
        members = rows[bag == b]
        for d in range(weight.shape[1] if len(members) else 0):
            if mode == "max":
                out[b, d] = rows[winners[b, d], d]
            else:
                out[b, d] = sp.Add(*members[:, d]) / (len(members) if mode == "mean" else 1)
    return out


EMBEDDING_BAG = register(
    "embedding_bag", "EmbeddingBagBackward0",
    forward=_embedding_bag_fw,
    vjp=(_embedding_bag_vjp_weight, _embedding_bag_vjp_psw),
    mirror=_embedding_bag_mirror,
    kind="shape", domain=(REAL, REAL),
    examples=tuple((((4, 2), (3,) if mode == "sum" else None),
                    {"idx": np.array([0, 3, 1]), "pos": np.array([0, 1, 2]),
                     "bag": np.array([0, 0, 2]), "n_bags": 3, "mode": mode,
                     **({"winners": np.array([[1, 0], [-1, -1], [2, 2]])} if mode == "max"
                        else {})})
                   for mode in ("sum", "mean", "max")),
    doc="F.embedding_bag: sums, means or maxima of bags of weight rows",
)


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sum, mean or max of the ``weight`` rows of each bag of indices: the rows of a 2-d
    ``input``, or the runs of a 1-d one starting at ``offsets``. An empty bag gives zeros;
    ``padding_idx`` entries are left out (and not counted by the mean)."""
    w = as_tensor(weight)
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    inp = as_tensor(input)._data
    flat, bag, n_bags = _bags(inp, offsets, include_last_offset)
    keep = np.ones(flat.shape, dtype=bool)
    if padding_idx is not None:
        keep = flat != (padding_idx % w.shape[0])
    idx, bag = flat[keep], bag[keep]
    if max_norm is not None or scale_grad_by_freq or sparse:   # the in-place renorm, checks
        with no_grad():
            co.embedding(_const(idx.astype(np.int64)), w, max_norm=max_norm,
                         norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq,
                         sparse=sparse)
    psw = None if per_sample_weights is None else as_tensor(per_sample_weights)
    idx, bag = idx.astype(np.int64), bag.astype(np.int64)
    extra = {"winners": _bag_winners(w._data[idx], bag, n_bags)} if mode == "max" else {}
    return apply(EMBEDDING_BAG, w, psw, idx=idx, pos=np.flatnonzero(keep).astype(np.int64),
                 bag=bag, n_bags=int(n_bags), mode=mode, **extra)
