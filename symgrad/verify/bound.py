"""Module parameters as ``check`` inputs: ``check(lambda *ps: loss(model), *model.parameters())``.

``check`` normally differentiates fresh copies of its inputs, which ``fn`` receives as
arguments. A model's forward pass reads its parameters from the module instead, so a
copy would never be used and every gradient would come out zero. A ``Parameter`` input
is therefore checked in place: for the duration of the check it becomes a fresh leaf
(its own values copied, no ``.grad``, no hooks, a new version counter) and the finite-
difference witness moves its values in place; everything is restored afterwards.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any
from collections.abc import Iterator, Sequence

import numpy as np

from symgrad.nn.parameter import Parameter
from symgrad.tensor import Tensor

__all__ = ["bound_parameters", "is_bound", "values_at"]

_SLOTS = ("_data", "_requires_grad", "grad_fn", "_grad", "_vc", "_acc", "_extra")


@contextmanager
def bound_parameters(inputs: Sequence[Any]) -> Iterator[None]:
    """Make every Parameter among ``inputs`` a fresh leaf until the block ends."""
    saved: dict[int, tuple[Parameter, tuple]] = {}
    for x in inputs:
        if isinstance(x, Parameter) and id(x) not in saved:
            saved[id(x)] = (x, tuple(getattr(x, s) for s in _SLOTS))
            x._data = np.array(x._data, copy=True)
            x._grad = x._acc = x._extra = None
            x._vc = [0, False]
    try:
        yield
    finally:
        for p, values in saved.values():
            for s, v in zip(_SLOTS, values):
                setattr(p, s, v)


def is_bound(t: Tensor) -> bool:
    """Whether ``check`` differentiates ``t`` itself rather than a copy."""
    return isinstance(t, Parameter)


@contextmanager
def values_at(args: Sequence[Tensor], k: int, x: np.ndarray) -> Iterator[list]:
    """The arguments with argument ``k`` at the values ``x``: a new tensor in the list, or,
    for a bound Parameter, the same object holding ``x`` until the block ends."""
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
