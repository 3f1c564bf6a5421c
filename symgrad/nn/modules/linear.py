"""Affine layers: ``Identity``, ``Linear`` and ``Bilinear``, with PyTorch's default init."""

from __future__ import annotations

import math
from typing import Any

from symgrad.factories import empty
from symgrad.nn import functional as F, init
from symgrad.nn.modules.module import Module
from symgrad.nn.parameter import Parameter
from symgrad.tensor import Tensor

__all__ = ["Identity", "Linear", "Bilinear"]


class Identity(Module):
    """Returns its input; takes (and ignores) any arguments, to stand in for a layer."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


def _weight_and_bias(m: Module, weight_shape: tuple[int, ...], bias: bool, device: Any,
                     dtype: Any) -> None:
    """Register ``weight`` and ``bias`` (one entry per output; None without ``bias``),
    uninitialised: ``reset_parameters`` fills them."""
    m.weight = Parameter(empty(weight_shape, dtype=dtype, device=device))
    if bias:
        m.bias = Parameter(empty(weight_shape[0], dtype=dtype, device=device))
    else:
        m.register_parameter("bias", None)


def _uniform_by_fan_in(t: Tensor, fan_in: int) -> None:
    """PyTorch's bias init: Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    init.uniform_(t, -bound, bound)


class Linear(Module):
    """``y = x W^T + b`` with ``W`` of shape (out_features, in_features)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        _weight_and_bias(self, (out_features, in_features), bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # kaiming_uniform_ with a = sqrt(5): Uniform(-1/sqrt(in), 1/sqrt(in)), as PyTorch
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            _uniform_by_fan_in(self.bias, self.in_features)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """``y_k = x1^T A_k x2 + b_k`` with ``A`` of shape (out, in1, in2)."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        _weight_and_bias(self, (out_features, in1_features, in2_features), bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_by_fan_in(self.weight, self.in1_features)
        if self.bias is not None:
            _uniform_by_fan_in(self.bias, self.in1_features)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
