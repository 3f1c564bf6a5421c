"""The storage keywords of PyTorch's factory functions (``layout``, ``pin_memory``,
``memory_format``): accepted by the torch.* factories for programs that pass them, with
PyTorch's answers for a dense CPU build (a sparse layout is not available, pinning needs an
accelerator, any memory format gives the same dense tensor here)."""

from __future__ import annotations

import functools
from typing import Any
from collections.abc import Callable

from symgrad._layout import layout as _layout_type, memory_format as _format_type, strided
from symgrad.tensor import Tensor

__all__ = ["STORAGE_FACTORIES", "with_storage_options"]

#: The factories that also take ``memory_format`` (as PyTorch's do).
_WITH_FORMAT = ("empty", "zeros_like", "ones_like", "empty_like", "full_like", "rand_like",
                "randn_like", "randint_like")

#: The torch.* factories given the keywords (``*_like`` and ``empty`` take memory_format).
STORAGE_FACTORIES = (
    "zeros", "ones", "empty", "full", "eye", "arange", "linspace", "logspace", "rand", "randn",
    "randint", "randperm", "zeros_like", "ones_like", "empty_like", "full_like", "rand_like",
    "randn_like", "randint_like", "empty_strided",
)


def with_storage_options(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``fn`` also taking ``layout``, ``pin_memory`` and ``memory_format``."""
    @functools.wraps(fn)
    def call(*args: Any, layout: Any = None, pin_memory: bool | None = False,
             memory_format: Any = None, **kwargs: Any) -> Tensor:
        name = fn.__name__
        if layout is not None and layout is not strided:
            if not isinstance(layout, _layout_type):
                raise TypeError(f"{name}(): argument 'layout' must be torch.layout, not "
                                f"{type(layout).__name__}")
            raise NotImplementedError(f"{name}(): symgrad tensors are dense; layout={layout!r} "
                                      "is not supported")
        if memory_format is not None:
            if name not in _WITH_FORMAT:
                raise TypeError(f"{name}() got an unexpected keyword argument 'memory_format'")
            if not isinstance(memory_format, _format_type):
                raise TypeError(f"{name}(): argument 'memory_format' must be torch.memory_format,"
                                f" not {type(memory_format).__name__}")
        if pin_memory:
            raise RuntimeError("pin_memory=True requires a CUDA or other accelerator backend; no "
                               "pinned memory allocator is available on this system.")
        return fn(*args, **kwargs)

    return call
