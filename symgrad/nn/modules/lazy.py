"""Lazy layers (``LazyLinear``, ``LazyConv2d``, ``LazyBatchNorm1d`` ...): the input size is
read from the first input. Until then the parameters are ``UninitializedParameter``s; the
first call gives them their shape and PyTorch's initial values (the same draws as building
the full layer then) and the layer becomes the full class (``Linear`` ...), keeping its
parameter objects, so an optimizer made before the first call trains them."""

from __future__ import annotations

from typing import Any

import numpy as np

from symgrad.nn.modules.conv import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d,
                                     ConvTranspose3d)
from symgrad.nn.modules.linear import Linear
from symgrad.nn.modules.module import Module
from symgrad.nn.modules.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d
from symgrad.nn.parameter import Parameter
from symgrad.runtime import get_rng_state, set_rng_state
from symgrad.tensor import Tensor

__all__ = ["UninitializedParameter", "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d",
           "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
           "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d"]

_SHAPE_MESSAGE = ("Can't access the shape of an uninitialized parameter or buffer. This error "
                  "usually happens in `load_state_dict` when trying to load an uninitialized "
                  "parameter into an initialized one. Call `forward` to initialize the "
                  "parameters before accessing their attributes.")


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (of a lazy layer before its first call)."""

    __slots__ = ()

    @property
    def shape(self):   # type: ignore[override]
        raise RuntimeError(_SHAPE_MESSAGE)

    def size(self, dim: int | None = None):
        raise RuntimeError(_SHAPE_MESSAGE)

    def numel(self) -> int:
        raise RuntimeError(_SHAPE_MESSAGE)

    def __repr__(self) -> str:
        return "<UninitializedParameter>"

    __str__ = __repr__

    def materialize(self, value: Tensor) -> None:
        """Take ``value``'s shape and values and become a plain ``Parameter``."""
        self._data = value._data
        self._vc = value._vc
        self.__class__ = Parameter


def _uninitialized(p: Parameter | None) -> UninitializedParameter | None:
    if p is None:
        return None
    return UninitializedParameter(Tensor._wrap(np.empty((0,), dtype=p._data.dtype)),
                                  requires_grad=p.requires_grad)


class _Lazy:
    """Mixed into a lazy layer ahead of its full class ``cls_to_become``; ``_size`` names
    the constructor argument read from the input, ``_placeholder`` a valid stand-in."""

    cls_to_become: type = Module
    _size = ""

    def __init__(self, **kwargs: Any) -> None:
        self._lazy_kwargs = kwargs
        state = get_rng_state()   # the stand-in's draws are not the layer's: no RNG use
        try:
            self.cls_to_become.__init__(self, **{self._size: self._placeholder(kwargs)},
                                        **kwargs)
        finally:
            set_rng_state(state)
        object.__setattr__(self, self._size, 0)
        for name, p in list(self._parameters.items()):
            self._parameters[name] = _uninitialized(p)
        for name in ("running_mean", "running_var"):
            if self._buffers.get(name) is not None:
                self._buffers[name] = _uninitialized(self._buffers[name]).detach()

    def _placeholder(self, kwargs: dict) -> int:
        return int(kwargs.get("groups", 1))

    def _infer(self, input: Tensor) -> int:
        return int(input.shape[1])

    def has_uninitialized_params(self) -> bool:
        """Whether the first call is still to come (a layer without affine parameters
        counts too: its size is not known either)."""
        return "_lazy_kwargs" in self.__dict__

    def initialize_parameters(self, input: Tensor, *args: Any, **kwargs: Any) -> None:
        """Build the full layer for ``input``'s size and take over its state and class."""
        if not self.has_uninitialized_params():
            return
        full = self.cls_to_become(**{self._size: self._infer(input)}, **self._lazy_kwargs)
        full.train(self.training)
        for name, p in full._parameters.items():
            mine = self._parameters[name]
            if isinstance(mine, UninitializedParameter):
                mine.materialize(p)
        for name, b in full._buffers.items():
            self._buffers[name] = b
        keep = {"_parameters", "_buffers", "_modules", "training"}   # (and the hooks)
        for k, v in full.__dict__.items():
            if k not in keep and not k.startswith(("_forward", "_backward")):
                self.__dict__[k] = v
        self.__dict__.pop("_lazy_kwargs", None)
        self.__class__ = self.cls_to_become

    def forward(self, input: Tensor, *args: Any, **kwargs: Any) -> Any:
        self.initialize_parameters(input)
        return self.forward(input, *args, **kwargs)


class LazyLinear(_Lazy, Linear):
    """``Linear`` with ``in_features`` read from the input's last dimension."""

    cls_to_become = Linear
    _size = "in_features"

    def __init__(self, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        _Lazy.__init__(self, out_features=out_features, bias=bias, device=device, dtype=dtype)

    def _placeholder(self, kwargs: dict) -> int:
        return 1

    def _infer(self, input: Tensor) -> int:
        return int(input.shape[-1])


class _LazyConv(_Lazy):
    """A convolution with ``in_channels`` read from the input (dimension 1, or 0 for an
    unbatched input)."""

    _size = "in_channels"

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 *args: Any, **kwargs: Any) -> None:
        names = self._argument_names
        kwargs.update(zip(names, args))
        _Lazy.__init__(self, out_channels=out_channels, kernel_size=kernel_size, stride=stride,
                       padding=padding, **kwargs)

    def _infer(self, input: Tensor) -> int:
        return int(input.shape[0 if input.dim() == self.dims + 1 else 1])


_CONV_ARGS = ("dilation", "groups", "bias", "padding_mode", "device", "dtype")
_TRANSPOSE_ARGS = ("output_padding", "groups", "bias", "dilation", "padding_mode", "device",
                   "dtype")


class _LazyBatchNorm(_Lazy):
    """Batch norm with ``num_features`` read from the input's dimension 1."""

    _size = "num_features"

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None
                 ) -> None:
        _Lazy.__init__(self, eps=eps, momentum=momentum, affine=affine,
                       track_running_stats=track_running_stats, device=device, dtype=dtype)

    def _placeholder(self, kwargs: dict) -> int:
        return 1


def _lazy(name: str, base: type, full: type, extra: dict | None = None) -> type:
    attrs = {"cls_to_become": full, "__module__": __name__,
             "__doc__": f"``{full.__name__}`` with its input size read from the first input.",
             **(extra or {})}
    return type(name, (base, full), attrs)


LazyConv1d = _lazy("LazyConv1d", _LazyConv, Conv1d, {"_argument_names": _CONV_ARGS})
LazyConv2d = _lazy("LazyConv2d", _LazyConv, Conv2d, {"_argument_names": _CONV_ARGS})
LazyConv3d = _lazy("LazyConv3d", _LazyConv, Conv3d, {"_argument_names": _CONV_ARGS})
LazyConvTranspose1d = _lazy("LazyConvTranspose1d", _LazyConv, ConvTranspose1d,
                            {"_argument_names": _TRANSPOSE_ARGS})
LazyConvTranspose2d = _lazy("LazyConvTranspose2d", _LazyConv, ConvTranspose2d,
                            {"_argument_names": _TRANSPOSE_ARGS})
LazyConvTranspose3d = _lazy("LazyConvTranspose3d", _LazyConv, ConvTranspose3d,
                            {"_argument_names": _TRANSPOSE_ARGS})
LazyBatchNorm1d = _lazy("LazyBatchNorm1d", _LazyBatchNorm, BatchNorm1d)
LazyBatchNorm2d = _lazy("LazyBatchNorm2d", _LazyBatchNorm, BatchNorm2d)
LazyBatchNorm3d = _lazy("LazyBatchNorm3d", _LazyBatchNorm, BatchNorm3d)
