"""``ctc_loss``: the connectionist temporal classification loss, composed of recorded ops.

The forward (alpha) recursion runs over time in log space: each state of the target with
blanks interleaved takes the log-sum-exp of the states it can come from plus its
emission. Which transitions exist (repeats, blanks, each sample's lengths) is decided in
numpy; an impossible state carries a huge negative finite value rather than ``-inf``, so
log-sum-exp never meets ``-inf - -inf`` (the values are the same: its weight underflows to
an exact 0 next to any possible state). An alignment that cannot exist gives ``inf`` (0
with ``zero_infinity``), as PyTorch.

The gradient with respect to ``log_probs`` is the exact one. PyTorch's kernel returns it
plus ``exp(log_probs)``, a term that vanishes once the log-softmax that made the
log-probabilities is differentiated too: gradients of the logits agree, those of a
``log_probs`` leaf differ by ``exp(log_probs)`` (see the README).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgrad.ops import elementwise as ew
from symgrad.ops import reduction as red
from symgrad.ops import shape as sh
from symgrad.tensor import Tensor, as_tensor

__all__ = ["ctc_loss"]

#: Functions here that torch.Tensor has no method for.
NOT_METHODS = tuple(__all__)

_IMPOSSIBLE = -1e300


def _lengths(v: Any, n: int, what: str) -> np.ndarray:
    a = np.asarray(v._data if isinstance(v, Tensor) else v, dtype=np.int64).reshape(-1)
    if a.shape[0] != n:
        raise RuntimeError(f"{what} must be of size batch_size ({n}), got {a.shape[0]}")
    return a


def _targets(targets: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    """Each sample's labels, from padded (N, S) or concatenated 1-d targets."""
    if targets.ndim == 2:
        return [targets[i, :k] for i, k in enumerate(lengths)]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return [targets[s:s + k] for s, k in zip(starts, lengths)]


def _feasible(ext: np.ndarray, skip: np.ndarray, valid: np.ndarray, steps: int) -> bool:
    """Whether some alignment of ``steps`` frames reaches one of the two final states."""
    reach = np.zeros(ext.shape[0], dtype=bool)
    reach[:2] = True
    reach &= valid
    for _ in range(steps - 1):
        nxt = reach.copy()
        nxt[1:] |= reach[:-1]
        nxt[2:] |= reach[:-2] & skip[2:]
        reach = nxt & valid
    last = int(valid.sum()) - 1
    return bool(reach[last] or (last > 0 and reach[last - 1]))


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Minus the log-probability of ``targets`` summed over all alignments with the
    frames of ``log_probs`` (T, N, C) (or (T, C)); ``reduction="mean"`` divides each
    sample's loss by its target length first, as PyTorch."""
    lp = as_tensor(log_probs)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    unbatched = lp.ndim == 2
    if unbatched:
        lp = sh.unsqueeze(lp, 1)
    if lp.ndim != 3:
        raise RuntimeError(f"log_probs must be 3-D (input_length, batch_size, num_labels), "
                           f"got {lp.ndim}-D")
    T, N, C = lp.shape
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    tg = np.asarray(targets._data if isinstance(targets, Tensor) else targets)
    if tg.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #2 'targets' to have one of the "
                           f"following scalar types: Long, Int; but got {tg.dtype}")
    if unbatched and tg.ndim == 1 and np.ndim(target_lengths) == 0:
        tg = tg[None, :]
    in_len = _lengths(input_lengths, N, "input_lengths")
    tg_len = _lengths(target_lengths, N, "target_lengths")
    if (in_len > T).any():
        raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value "
                           f"{int(in_len.max())}")
    labels = _targets(tg, tg_len)
    S = 2 * int(tg_len.max(initial=0)) + 1
    ext = np.full((N, S), blank, dtype=np.int64)
    valid = np.zeros((N, S), dtype=bool)
    for n, lab in enumerate(labels):
        ext[n, 1:2 * len(lab):2] = lab
        valid[n, :2 * len(lab) + 1] = True
    skip = np.zeros((N, S), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    feasible = np.array([in_len[n] > 0 and _feasible(ext[n], skip[n], valid[n], in_len[n])
                         for n in range(N)])
    index = Tensor._wrap(ext)
    start = np.full((N, S), _IMPOSSIBLE)
    start[:, :2] = 0.0
    start[~valid] = _IMPOSSIBLE
    alpha = ew.add(Tensor._wrap(start.astype(lp._data.dtype)), lp[0].gather(1, index))
    dt = lp._data.dtype
    impossible = Tensor._wrap(np.asarray(_IMPOSSIBLE, dtype=dt))
    may_skip, is_state = Tensor._wrap(skip), Tensor._wrap(valid)

    def shifted(k: int) -> Tensor:   # alpha of state s - k at state s (impossible for s < k)
        return sh.cat([Tensor._wrap(np.full((N, k), _IMPOSSIBLE, dt)), alpha[:, :-k]], 1)

    for t in range(1, T):
        came = sh.stack([alpha, shifted(1), ew.where(may_skip, shifted(2), impossible)])
        new = ew.where(is_state, ew.add(red.logsumexp(came, 0), lp[t].gather(1, index)),
                       impossible)
        alpha = ew.where(Tensor._wrap((t < in_len)[:, None]), new, alpha)
    last = 2 * tg_len                       # the final blank; the final label before it
    ends = np.stack([last, np.maximum(last - 1, 0)], 1)
    final = alpha.gather(1, Tensor._wrap(ends))
    final = ew.where(Tensor._wrap(np.stack([np.ones(N, bool), last > 0], 1)), final,
                     impossible)
    nll = ew.neg(red.logsumexp(final, 1))
    fail = 0.0 if zero_infinity else float("inf")
    nll = ew.where(Tensor._wrap(feasible), nll, fail)
    if reduction == "none":
        return nll[0] if unbatched else nll
    if reduction == "sum":
        return red.sum(nll)
    per_target = ew.div(nll, Tensor._wrap(np.maximum(tg_len, 1).astype(lp._data.dtype)))
    return red.mean(per_target)
