"""``scaled_dot_product_attention``, composed of recorded ops as PyTorch's math reference
composes it: ``softmax(q k^T * scale + mask) v``.

PyTorch runs a fused kernel (ScaledDotProductFlashAttentionForCpuBackward0) when it can;
symgrad records the matmuls, the mask and the softmax, whose rules the table already
proves. A row whose every score is masked gives zeros (value and gradient), as PyTorch's
``_safe_softmax`` does, not the NaNs of a plain softmax.
"""

from __future__ import annotations

import math

import numpy as np

from symgrad.ops import elementwise as ew
from symgrad.ops import reduction as red
from symgrad.ops import shape as sh
from symgrad.ops.linalg import matmul
from symgrad.tensor import Tensor, as_tensor

__all__ = ["scaled_dot_product_attention"]


def _safe_softmax(scores: Tensor) -> Tensor:
    """Softmax over the last dimension; rows that are all -inf become zeros."""
    data = scores._data
    if data.dtype.kind != "f":
        return red.softmax(scores, -1)
    dead = np.all(np.isneginf(data), axis=-1, keepdims=True)
    if not dead.any():
        return red.softmax(scores, -1)
    dead_t = Tensor._wrap(dead)
    return ew.where(dead_t, 0.0, red.softmax(ew.where(dead_t, 0.0, scores), -1))


def _repeat_heads(t: Tensor, heads: int, what: str) -> Tensor:
    if t.dim() < 3 or heads % t.shape[-3]:
        raise RuntimeError(f"scaled_dot_product_attention: number of heads in {what} must "
                           f"divide the number of heads in query ({heads})")
    n = heads // t.shape[-3]
    return t if n == 1 else t.repeat_interleave(n, dim=-3)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """Attention weights ``softmax(query @ key^T * scale + mask)`` applied to ``value``.

    ``attn_mask`` is a boolean mask (True takes part) or a float bias added to the scores;
    ``is_causal`` masks the keys after each query (the upper triangle); ``scale`` defaults
    to ``1 / sqrt(E)``; with ``enable_gqa`` key and value heads are repeated to the
    query's number of heads. ``dropout_p > 0`` drops attention weights (always, as
    PyTorch's functional does).
    """
    q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
    if q.dim() < 2 or k.dim() < 2 or v.dim() < 2:
        raise RuntimeError("scaled_dot_product_attention: query, key and value must have at "
                           "least 2 dimensions")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                           "set when is_causal=True")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: shapes query {list(q.shape)}, key "
                           f"{list(k.shape)} and value {list(v.shape)} do not fit: query and "
                           "key need the same embedding size, key and value the same length")
    if enable_gqa:
        k = _repeat_heads(k, q.shape[-3], "key")
        v = _repeat_heads(v, q.shape[-3], "value")
    factor = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    scores = ew.mul(matmul(q, sh.transpose(k, -2, -1)), factor)
    length, source = q.shape[-2], k.shape[-2]
    if is_causal:
        attn_mask = Tensor._wrap(np.tril(np.ones((length, source), dtype=bool)))
    if attn_mask is not None:
        mask = as_tensor(attn_mask)
        if mask._data.dtype.kind == "b":
            scores = ew.where(mask, scores, -math.inf)
        else:
            scores = ew.add(scores, mask)
    attn = _safe_softmax(scores)
    if dropout_p > 0.0:
        from symgrad.nn.functional import dropout

        attn = dropout(attn, dropout_p)
    return matmul(attn, v)
