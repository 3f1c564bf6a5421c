"""Padding layers: ``ZeroPad``, ``ConstantPad``, ``ReflectionPad``, ``ReplicationPad`` and
``CircularPad`` in 1, 2 and 3 dimensions, each ``F.pad`` with its mode fixed."""

from __future__ import annotations

from collections.abc import Sequence

from symgrad.nn import functional as F
from symgrad.nn.modules.module import Module
from symgrad.tensor import Tensor

__all__ = [f"{kind}Pad{d}d" for kind in ("Zero", "Constant", "Reflection", "Replication",
                                         "Circular") for d in (1, 2, 3)]


def _padding(padding: int | Sequence[int], dims: int) -> tuple[int, ...]:
    """An int pads every side; a sequence gives (left, right, top, bottom, front, back),
    checked by F.pad when used (as PyTorch)."""
    return (padding,) * (2 * dims) if isinstance(padding, int) else tuple(padding)


class _PadNd(Module):
    _mode = "constant"
    _dims = 1

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__()
        self.padding = _padding(padding, self._dims)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: int | Sequence[int], value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


def _make(kind: str, base: type, mode: str, dims: int) -> type:
    return type(f"{kind}Pad{dims}d", (base,), {
        "_mode": mode, "_dims": dims, "__module__": __name__,
        "__doc__": f"Pad the last {dims} dimension(s) with F.pad's {mode!r} mode."})


ZeroPad1d, ZeroPad2d, ZeroPad3d = (_make("Zero", _ZeroPadNd, "constant", d) for d in (1, 2, 3))
ConstantPad1d, ConstantPad2d, ConstantPad3d = (_make("Constant", _ConstantPadNd, "constant", d)
                                               for d in (1, 2, 3))
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = (_make("Reflection", _PadNd, "reflect", d)
                                                     for d in (1, 2, 3))
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = (
    _make("Replication", _PadNd, "replicate", d) for d in (1, 2, 3))
CircularPad1d, CircularPad2d, CircularPad3d = (_make("Circular", _PadNd, "circular", d)
                                               for d in (1, 2, 3))
