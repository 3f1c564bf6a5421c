"""Forward-mode AD state: the open dual level and the tangents attached to tensors.

A tangent is a Tensor kept in its primal's ``_extra`` dict under ``"tangent"``; the level
remembers (weakly) every tensor it gave one, and takes them all back when it closes, so a
tangent never outlives its level. Only one level may be open at a time (per thread), as
with PyTorch's ``torch.autograd.forward_ad``. This module knows no op and imports nothing
above the autograd core.
"""

from __future__ import annotations

import weakref
from contextlib import contextmanager
from typing import Any
from collections.abc import Iterator

from symgrad.autograd.grad_mode import _state

__all__ = ["DualLevel", "open_level", "close_level", "current_level", "tangent_of",
           "set_tangent", "suspended"]


class DualLevel:
    """An open level: its number and the tensors holding a tangent of it."""

    __slots__ = ("index", "tensors")

    def __init__(self, index: int) -> None:
        self.index = index
        # id -> weak reference (a WeakSet would compare tensors with ==, elementwise)
        self.tensors: dict[int, weakref.ref] = {}


def current_level() -> DualLevel | None:
    return _state.fw_level


def open_level() -> DualLevel:
    if _state.fw_level is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    level = _state.fw_level = DualLevel(0)
    _state.forward = True
    return level


def close_level(index: int | None = None) -> None:
    level = _state.fw_level
    if level is None:
        raise RuntimeError("Trying to exit a forward AD level but no level is currently open "
                           "(enter_dual_level() first).")
    if index is not None and index != level.index:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    for ref in level.tensors.values():   # tangents are discarded with their level
        t = ref()
        if t is not None and t._extra:
            t._extra.pop("tangent", None)
    level.tensors.clear()
    _state.fw_level = None
    _state.forward = False


def tangent_of(t: Any) -> Any:
    """The tangent of ``t`` at the open level, or None."""
    extra = t._extra
    return extra.get("tangent") if extra else None


def set_tangent(t: Any, tangent: Any) -> None:
    level = _state.fw_level
    if level is None:   # (only reached while a level is open)
        return
    t._extra_dict()["tangent"] = tangent
    key, tensors = id(t), level.tensors
    if key not in tensors or tensors[key]() is not t:
        def forget(ref: weakref.ref) -> None:   # (the id may be someone else's by now)
            if tensors.get(key) is ref:
                del tensors[key]
        tensors[key] = weakref.ref(t, forget)


@contextmanager
def suspended() -> Iterator[None]:
    """No tangents are propagated inside (while a rule computes one, say)."""
    prev = _state.forward
    _state.forward = False
    try:
        yield
    finally:
        _state.forward = prev
