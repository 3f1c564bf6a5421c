"""``RAdam``: Adam whose adaptive step is switched on once its variance is tractable."""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable

import numpy as np

from symgrad.optim.adam import MOMENTS, check_adam_options, update_moments
from symgrad.optim.optimizer import Optimizer, bump_step, grad_of, write_

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """Liu et al.'s rectified Adam as PyTorch computes it: plain momentum steps while the
    approximated SMA length ``rho_t <= 5``, then Adam steps times the rectification term."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        check_adam_options(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      differentiable=differentiable))

    def _update(self, group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        for p in self._params_with_grad(group):
            g = grad_of(p, group)
            state = self._state_of(p, *MOMENTS)
            step = bump_step(state)
            m, v = update_moments(state, g, beta1, beta2)
            bc1, bc2 = 1 - beta1 ** step, 1 - beta2 ** step
            corrected = m._data / bc1
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * step * (beta2 ** step) / bc2
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                        / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                adaptive = bc2 ** 0.5 / (np.sqrt(v._data) + eps)
                write_(p, p._data - corrected * lr * adaptive * rect)
            else:
                write_(p, p._data - corrected * lr)
