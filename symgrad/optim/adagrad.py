"""``Adagrad``: per-entry steps scaled by the root of the summed squared gradients."""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable

import numpy as np

from symgrad.optim.optimizer import Optimizer, bump_step, grad_of, scalar_step, write_
from symgrad.tensor import Tensor

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Duchi et al.'s Adagrad as PyTorch computes it: ``s += g^2``,
    ``p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)``."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        for name, value in (("learning rate", lr), ("lr_decay value", lr_decay),
                            ("weight_decay value", weight_decay),
                            ("initial_accumulator_value value", initial_accumulator_value),
                            ("epsilon value", eps)):
            if value < 0.0:
                raise ValueError(f"Invalid {name}: {value}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))
        # (PyTorch makes the state at construction: state_dict() shows it before a step)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = scalar_step()
                state["sum"] = Tensor._wrap(np.full_like(p._data,
                                                         group["initial_accumulator_value"]))

    def _update(self, group: dict[str, Any]) -> None:
        lr = group["lr"]
        for p in self._params_with_grad(group):
            state = self.state[p]
            step = bump_step(state)
            g = grad_of(p, group)
            clr = lr / (1 + (step - 1) * group["lr_decay"])
            total = state["sum"]
            write_(total, total._data + g * g)
            std = np.sqrt(total._data) + group["eps"]
            write_(p, p._data + (-clr) * (g / std))
