"""``check``'s inputs are differentiated in place, as ``torch.autograd.gradcheck`` does.

``fn`` may ignore its arguments and read the tensors from elsewhere: a closure
(``check(lambda *_: (x @ w).tanh().sum(), w)``) or a module
(``check(lambda *ps: loss(model), *model.parameters())``). Had ``check`` differentiated
copies, such an ``fn`` would never touch them, every gradient would come out an exact zero
and a wrong rule would pass. So each differentiated tensor input becomes, for the duration
of the check, a fresh leaf itself (its own values copied, requiring grad, no ``.grad``, no
history, hooks or views, a new version counter), and the finite-difference witness moves
its values in place; everything is restored afterwards. A tensor passed twice is bound
once: the later positions get copies, as before.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any
from collections.abc import Iterator, Sequence

import numpy as np

from symgrad.tensor import Tensor

__all__ = ["bound_inputs", "is_bound", "values_at"]

_SLOTS = ("_data", "_requires_grad", "grad_fn", "_grad", "_vc", "_acc", "_extra")


class _Bound(threading.local):
    ids: frozenset = frozenset()   # the tensors bound by the checks running in this thread


_bound = _Bound()


@contextmanager
def bound_inputs(inputs: Sequence[Any], diff: Sequence[int]) -> Iterator[list[bool]]:
    """Make the tensors ``inputs[i]``, ``i`` in ``diff``, fresh leaves until the block ends;
    yields, per input, whether it is bound (False for later positions of a repeated one)."""
    saved: dict[int, tuple[Tensor, tuple]] = {}
    flags = [False] * len(inputs)
    for i in diff:
        x = inputs[i]
        if isinstance(x, Tensor) and id(x) not in saved:
            saved[id(x)] = (x, tuple(getattr(x, s) for s in _SLOTS))
            flags[i] = True
            x._data = np.array(x._data, copy=True)
            x.grad_fn = x._grad = x._acc = x._extra = None
            x._vc = [0, False]
            x._requires_grad = True
    outer = _bound.ids
    _bound.ids = outer | saved.keys()
    try:
        yield flags
    finally:
        _bound.ids = outer
        for t, values in saved.values():
            for s, v in zip(_SLOTS, values):
                setattr(t, s, v)


def is_bound(t: Tensor) -> bool:
    """Whether a running ``check`` differentiates ``t`` itself rather than a copy."""
    return id(t) in _bound.ids


@contextmanager
def values_at(args: Sequence[Tensor], k: int, x: np.ndarray) -> Iterator[list]:
    """The arguments with argument ``k`` at the values ``x``: a new tensor in the list, or,
    for a bound input, the same object holding ``x`` until the block ends."""
    trial = list(args)
    p = args[k]
    if not is_bound(p):
        trial[k] = Tensor._wrap(x)
        yield trial
        return
    old = p._data
    p._data = np.asarray(x, dtype=old.dtype)
    try:
        yield trial
    finally:
        p._data = old
