"""``NAdam``: Adam with Nesterov momentum and a warming-up momentum schedule."""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable

import numpy as np

from symgrad.optim.adam import MOMENTS, check_adam_options, update_moments
from symgrad.optim.optimizer import Optimizer, bump_step, grad_of, scalar_step, write_

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """Dozat's NAdam as PyTorch computes it: momentum ``mu_t = b1 (1 - 0.96^(t psi) / 2)``
    (``psi`` the ``momentum_decay``), its running product in the state, and a step that
    mixes the current gradient with the next momentum's look-ahead."""

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_adam_options(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _update(self, group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        psi = group["momentum_decay"]
        for p in self._params_with_grad(group):
            g = grad_of(p, group)
            state = self._state_of(p, *MOMENTS, mu_product=1.0)
            if "mu_product" not in state:   # (a state loaded without the product so far)
                state["mu_product"] = scalar_step()
                state["mu_product"]._data[...] = 1.0
            step = bump_step(state)
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
            product = state["mu_product"]
            write_(product, product._data * mu)
            mu_product = float(product._data)
            m, v = update_moments(state, g, beta1, beta2)
            denom = np.sqrt(v._data / (1 - beta2 ** step)) + eps
            write_(p, p._data + (-lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom))
            write_(p, p._data + (-lr * mu_next / (1.0 - mu_product * mu_next))
                   * (m._data / denom))
