"""The older, hook-based ``nn.utils.weight_norm`` / ``remove_weight_norm`` (deprecated in
PyTorch for ``parametrizations.weight_norm``, still common in published code): parameters
``<name>_g`` and ``<name>_v``, and ``<name>`` recomputed from them before every forward."""

from __future__ import annotations

import warnings

from symgrad.nn.modules.module import Module
from symgrad.nn.parameter import Parameter
from symgrad.nn.utils.parametrizations import _norm_except_dim

__all__ = ["weight_norm", "remove_weight_norm"]


def _compute(module: Module, name: str, dim: int) -> None:
    g, v = getattr(module, name + "_g"), getattr(module, name + "_v")
    object.__setattr__(module, name, v * (g / _norm_except_dim(v, dim)))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Split ``module.<name>`` into magnitude ``<name>_g`` and direction ``<name>_v``."""
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    hooks = module.__dict__.setdefault("_weight_norm_hooks", {})
    if name in hooks:
        raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
    dim = -1 if dim is None else dim
    weight = getattr(module, name)
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, dim).detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    _compute(module, name, dim)
    hooks[name] = (module.register_forward_pre_hook(
        lambda m, _args: _compute(m, name, dim)), dim)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Fold ``<name>_g`` and ``<name>_v`` back into one parameter ``<name>``."""
    hooks = module.__dict__.get("_weight_norm_hooks", {})
    if name not in hooks:
        raise ValueError(f"weight_norm of '{name}' not found in {module}")
    handle, dim = hooks.pop(name)
    handle.remove()
    _compute(module, name, dim)
    weight = module.__dict__.pop(name)
    del module._parameters[name + "_g"]
    del module._parameters[name + "_v"]
    module.register_parameter(name, Parameter(weight.detach()))
    return module
