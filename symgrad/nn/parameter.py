"""``Parameter`` and ``Buffer``: the tensors a ``Module`` registers when they are assigned.

A Parameter is a leaf Tensor (it shares the storage of the data it wraps) whose class is
the mark: ``module.w = Parameter(t)`` registers ``w`` as a parameter. Operations on a
Parameter return plain Tensors, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgrad import _dtype
from symgrad.tensor import Tensor

__all__ = ["Parameter", "Buffer"]


def _adopt(t: Tensor, data: Any) -> None:
    """Fill ``t``'s slots with ``data``'s storage and version counter (as ``detach()``)."""
    if data is None:
        src = Tensor._wrap(np.empty((0,), dtype=_dtype.get_default_dtype().np))
    elif isinstance(data, Tensor):
        src = data
    else:
        raise TypeError(f"{type(t).__name__}(): data must be a Tensor, got {type(data).__name__}")
    t._data = src._data
    t._requires_grad = False
    t.grad_fn = None
    t._grad = None
    t._vc = src._vc
    t._acc = None
    t._extra = None


class Parameter(Tensor):
    """A tensor that is a module parameter: requires grad unless told otherwise."""

    __slots__ = ()

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        _adopt(self, data)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._data, self._requires_grad))

    def __deepcopy__(self, memo: dict) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(Tensor._wrap(self._data.copy()), self._requires_grad)
        if self._grad is not None:
            p._grad = Tensor._wrap(self._grad._data.copy())
        memo[id(self)] = p
        return p


def _rebuild_parameter(data: np.ndarray, requires_grad: bool) -> Parameter:
    return Parameter(Tensor._wrap(data), requires_grad)


class Buffer(Tensor):
    """A tensor assigned to a module that ``Module.__setattr__`` registers as a buffer
    (state saved in ``state_dict`` that is not trained); stored as a plain Tensor."""

    __slots__ = ("persistent",)

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True) -> None:
        _adopt(self, data)
        self.persistent = persistent
