"""``symgrad.autograd.forward_ad``: PyTorch's forward-mode AD API.

>>> import symgrad as sg
>>> import symgrad.autograd.forward_ad as fwAD
>>> x = sg.tensor([0.0, 1.0])
>>> with fwAD.dual_level():
...     y = fwAD.make_dual(x, sg.ones(2)).exp()
...     jvp = fwAD.unpack_dual(y).tangent
>>> jvp
tensor([1.0000, 2.7183])

A dual tensor is an ordinary tensor with a tangent attached; every op on it attaches the
tangent of its output, ``J t``, derived from the op's reverse rule (``symgrad/ops/_forward.py``).
Tangents do not depend on the grad mode and do not make tensors require grad; they are
dropped when the level exits. One level at a time, as in PyTorch.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from symgrad.autograd import _dual
from symgrad.autograd.grad_mode import _state
from symgrad.tensor import Tensor

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "UnpackedDualTensor"]


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the primal (a view) and the tangent (or None)."""

    primal: Tensor
    tangent: Tensor | None


def enter_dual_level() -> int:
    """Open a level (only one may be open) and return its number."""
    return _dual.open_level().index


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the open level; every tangent made in it is dropped."""
    _dual.close_level(level)


class dual_level:
    """``with dual_level():`` opens a level for the block (PyTorch's context manager)."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()


def _check_level(level: int | None, where: str) -> _dual.DualLevel | None:
    current = _dual.current_level()
    if level is not None and (current is None or level != current.index):
        raise RuntimeError(f"Invalid level given to {where}")
    return current


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A view of ``tensor`` carrying ``tangent`` (kept as given, not copied)."""
    if _dual.current_level() is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    _check_level(level, "make_dual")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError("make_dual expects Tensors for the primal and the tangent, got "
                        f"{type(tensor).__name__} and {type(tangent).__name__}")
    if tensor._data.dtype.kind != "f":
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    if tangent._data.dtype.kind != "f":
        raise ValueError(f"Expected tangent to be floating point or complex, but got: "
                         f"{tangent.dtype}")
    if tangent._data.shape != tensor._data.shape:
        raise RuntimeError(f"Trying to set a forward gradient that has a different size than "
                           f"that of the original Tensor, this is not supported. Tensor is of "
                           f"size {list(tensor.shape)} while the given forward gradient is of "
                           f"size {list(tangent.shape)}.")
    if _dual.tangent_of(tensor) is not None:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward "
                           "gradient at the same level 0 is not supported.")
    with _dual.suspended():
        dual = tensor.view_as(tensor)
    _dual.set_tangent(dual, tangent)
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)``: a view of ``tensor`` without tangent, and the tangent at the
    open level (None if it has none, or no level is open)."""
    _check_level(level, "_fw_primal")
    tangent = _dual.tangent_of(tensor) if _state.fw_level is not None else None
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    with _dual.suspended():
        primal = tensor.view_as(tensor) if tensor._requires_grad else tensor.detach()
    return UnpackedDualTensor(primal, tangent)
