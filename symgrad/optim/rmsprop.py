"""``RMSprop``: steps scaled by a moving root mean square of the gradient."""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable

import numpy as np

from symgrad.optim.optimizer import Optimizer, bump_step, grad_of, lerp, write_

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

    def _update(self, group: dict[str, Any]) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        zeros = ("square_avg",) + (("momentum_buffer",) if group["momentum"] > 0 else ()) + (
            ("grad_avg",) if group["centered"] else ())
        for p in self._params_with_grad(group):
            g = grad_of(p, group)
            state = self._state_of(p, *zeros)
            bump_step(state)
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
