"""``RMSprop``: steps scaled by a moving root mean square of the gradient."""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable

import numpy as np

from symgrad.optim.optimizer import (Optimizer, bump_step, grad_of, lerp, scalar_step, write_,
                                     zeros_like)
from symgrad.tensor import Tensor

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """Hinton's RMSprop as PyTorch computes it: ``s = alpha s + (1 - alpha) g^2``,
    ``p -= lr g / (sqrt(s) + eps)``; ``centered`` subtracts the squared mean gradient
    from ``s``; ``momentum`` accumulates the scaled steps in a buffer."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        for name, value in (("learning rate", lr), ("epsilon value", eps),
                            ("momentum value", momentum), ("weight_decay value", weight_decay),
                            ("alpha value", alpha)):
            if value < 0.0:
                raise ValueError(f"Invalid {name}: {value}")
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def _state_of(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = self.state[p]
        if not state:
            state["step"] = scalar_step()
            state["square_avg"] = zeros_like(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = zeros_like(p)
        return state

    def _update(self, group: dict[str, Any]) -> None:
        lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
        for p in self._params_with_grad(group):
            g = grad_of(p, group["maximize"])
            state = self._state_of(p, group)
            bump_step(state)
            if wd != 0:
                g = g + wd * p._data
            sq = state["square_avg"]
            write_(sq, sq._data * alpha + (1 - alpha) * g * g)
            if group["centered"]:
                ga = state["grad_avg"]
                write_(ga, lerp(ga._data, g, 1 - alpha))
                avg = np.sqrt(sq._data + (-1) * ga._data * ga._data) + eps
            else:
                avg = np.sqrt(sq._data) + eps
            if group["momentum"] > 0:
                buf = state["momentum_buffer"]
                write_(buf, buf._data * group["momentum"] + g / avg)
                write_(p, p._data + (-lr) * buf._data)
            else:
                write_(p, p._data + (-lr) * (g / avg))
