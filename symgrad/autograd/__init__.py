"""Autograd: grad mode, anomaly mode, graph nodes and the reverse-mode engine (the core,
knowing no op), plus PyTorch's entry points ``backward``, ``grad``, ``Function``,
``functional``, ``forward_ad`` and ``gradcheck``/``gradgradcheck``.

The core modules import nothing above them; the entry points, which need ``Tensor``, are
loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from symgrad.autograd.anomaly_mode import (detect_anomaly, is_anomaly_check_nan_enabled,
                                           is_anomaly_enabled, set_detect_anomaly)
from symgrad.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                                        set_grad_enabled)
from symgrad.autograd.graph import AccumulateGrad, Node

__all__ = ["backward", "grad", "Function", "Variable", "functional", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "inference_mode", "Node", "AccumulateGrad",
           "gradcheck", "gradgradcheck", "detect_anomaly", "set_detect_anomaly",
           "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "forward_ad"]

_LAZY = {"backward": "symgrad.autograd.api", "grad": "symgrad.autograd.api",
         "Function": "symgrad.autograd.function", "FunctionCtx": "symgrad.autograd.function",
         "Variable": "symgrad.autograd.variable", "functional": None, "variable": None,
         "forward_ad": None, "function": None}
# (gradcheck, gradgradcheck: bound by symgrad/__init__.py)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'symgrad.autograd' has no attribute {name!r}")
    if _LAZY[name] is None:
        value = importlib.import_module(f"symgrad.autograd.{name}")
    else:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
