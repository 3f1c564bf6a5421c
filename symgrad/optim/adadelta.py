"""``Adadelta``: steps scaled by the ratio of two moving root mean squares."""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable

import numpy as np

from symgrad.optim.optimizer import Optimizer, bump_step, grad_of, write_

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Zeiler's Adadelta as PyTorch computes it: ``s = rho s + (1 - rho) g^2``,
    ``d = sqrt(a + eps) / sqrt(s + eps) * g``, ``a = rho a + (1 - rho) d^2``,
    ``p -= lr * d``."""

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable,
                                      foreach=foreach, differentiable=differentiable))

    def _update(self, group: dict[str, Any]) -> None:
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        for p in self._params_with_grad(group):
            state = self._state_of(p, "square_avg", "acc_delta")
            bump_step(state)
            g = grad_of(p, group)
            sq, acc = state["square_avg"], state["acc_delta"]
            write_(sq, sq._data * rho + (1 - rho) * g * g)
            delta = np.sqrt(acc._data + eps) / np.sqrt(sq._data + eps) * g
            write_(acc, acc._data * rho + (1 - rho) * delta * delta)
            write_(p, p._data + (-lr) * delta)
