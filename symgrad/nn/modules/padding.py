"""Padding layers (``ZeroPad2d``, ``ConstantPad1d``, ``ReflectionPad2d``,
``ReplicationPad3d``, ``CircularPad1d`` ...): ``F.pad`` with the padding fixed at
construction, written out per dimension as PyTorch stores and prints it."""

from __future__ import annotations

from typing import Any

from symgrad.nn import functional as F
from symgrad.nn.modules.module import Module
from symgrad.tensor import Tensor

__all__ = [f"{kind}Pad{n}d" for kind in ("Zero", "Constant", "Reflection", "Replication",
                                         "Circular") for n in (1, 2, 3)]


class _PadNd(Module):
    mode = "constant"
    dims = 1

    def __init__(self, padding: int | tuple[int, ...], value: float = 0.0) -> None:
        super().__init__()
        n = 2 * self.dims
        if isinstance(padding, int):
            padding = (padding,) * n
        padding = tuple(padding)
        if len(padding) != n:
            raise ValueError(f"{type(self).__name__} expects padding as an int or a tuple of "
                             f"{n} ints, got {padding}")
        self.padding = padding
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        if self.mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: int | tuple[int, ...], value: float) -> None:
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding: int | tuple[int, ...]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


def _layer(name: str, base: type, dims: int, mode: str) -> type:
    doc = f"``F.pad(input, padding, {mode!r})`` over the last {dims} dimension(s)."
    return type(name, (base,), {"dims": dims, "mode": mode, "__doc__": doc,
                                "__module__": __name__})


_BASES: dict[str, tuple[type, str]] = {
    "Zero": (_ZeroPadNd, "constant"), "Constant": (_ConstantPadNd, "constant"),
    "Reflection": (_PadNd, "reflect"), "Replication": (_PadNd, "replicate"),
    "Circular": (_PadNd, "circular")}
_made: dict[str, Any] = {f"{k}Pad{n}d": _layer(f"{k}Pad{n}d", base, n, mode)
                         for k, (base, mode) in _BASES.items() for n in (1, 2, 3)}
globals().update(_made)
