"""``Variable``: PyTorch's name for a tensor that records history, from before tensors did.

Old code still calls ``Variable(t, requires_grad=True)`` and tests ``isinstance(t,
Variable)``; both work, and what they make is a plain Tensor.
"""

from __future__ import annotations

from typing import Any

from symgrad.tensor import Tensor

__all__ = ["Variable"]


class _VariableMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False)``: a Tensor on ``data``'s storage, without
    its history (``data.detach()``), requiring grad if asked; ``Variable()`` is empty."""

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = False,  # type: ignore[misc]
                volatile: bool = False) -> Tensor:
        if data is None:
            return Tensor([])
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        t = data.detach()
        return t.requires_grad_(True) if requires_grad else t
