"""``symgrad.device``: PyTorch's device objects, so code that names its device runs as is.

symgrad computes with numpy on the CPU: every tensor's device is ``device(type='cpu')``.
Other device types can be named (as in PyTorch, where ``torch.device("cuda")`` needs no
GPU), but a tensor cannot be placed on them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["device"]

#: The device types PyTorch's parser accepts.
_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
          "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
          "privateuseone")


class device:  # noqa: N801 - PyTorch's name
    """A device type and optional index: ``device("cpu")``, ``device("cuda:1")``,
    ``device("cuda", 0)``."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): a device object takes no index")
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):   # device(0): cuda:0
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got "
                            f"({_typename(type)})")
        name, sep, idx = type.partition(":")
        if name not in _TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of "
                               f"device string: {type}")
        if sep:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index "
                                   f"was passed explicitly: {type}")
            if not idx.isdigit() or (len(idx) > 1 and idx[0] == "0"):
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)
                                  or index < 0):
            raise RuntimeError(f"Device index must not be negative, got {index}"
                               if isinstance(index, int) else "Device index must be an int")
        self.type, self.index = name, index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, device):
            return NotImplemented
        return other.type == self.type and other.index == self.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))


def _typename(x: Any) -> str:
    return type(x).__name__


CPU = device("cpu")


def check_device(d: Any) -> None:
    """Accept ``None``, "cpu" or a cpu device (any index); refuse the others clearly."""
    if d is None:
        return
    if not isinstance(d, device):
        d = device(d)
    if d.type != "cpu":
        raise RuntimeError(f"symgrad runs on the CPU only (numpy); device '{d}' is not "
                           "available")
