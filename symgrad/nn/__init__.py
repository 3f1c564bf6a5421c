"""``symgrad.nn``: PyTorch-style layers, losses and parameters.

``symgrad.nn.functional`` is loaded with symgrad; the layer classes (``nn.Linear``,
``nn.Module``, ...), ``nn.Parameter``, ``nn.init`` and ``nn.utils`` are loaded on first use,
so ``import symgrad`` costs no more than before.
"""

from __future__ import annotations

import importlib
from typing import Any

from symgrad.nn import functional

__all__ = ["functional", "init", "utils", "modules", "Parameter", "Buffer"]

_SUBMODULES = ("init", "utils", "modules", "parameter")


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        value = importlib.import_module(f"symgrad.nn.{name}")
    elif name in ("Parameter", "Buffer"):
        value = getattr(importlib.import_module("symgrad.nn.parameter"), name)
    else:
        modules = importlib.import_module("symgrad.nn.modules")
        if name not in modules.__all__:
            raise AttributeError(f"module 'symgrad.nn' has no attribute {name!r}")
        value = getattr(modules, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    from symgrad.nn import modules

    return sorted(set(globals()) | set(__all__) | set(modules.__all__))
