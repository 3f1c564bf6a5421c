"""``Adamax``: Adam with the infinity norm in place of the root mean square."""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable

import numpy as np

from symgrad.optim.adam import check_adam_options
from symgrad.optim.optimizer import Optimizer, bump_step, grad_of, lerp, write_

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Kingma and Ba's Adamax as PyTorch computes it: ``m`` the moving average of ``g``,
    ``u = max(b2 u, |g| + eps)``, ``p -= lr / (1 - b1^t) * m / u``."""

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        check_adam_options(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _update(self, group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        for p in self._params_with_grad(group):
            g = grad_of(p, group)
            state = self._state_of(p, "exp_avg", "exp_inf")
            step = bump_step(state)
            m, u = state["exp_avg"], state["exp_inf"]
            write_(m, lerp(m._data, g, 1 - beta1))
            write_(u, np.maximum(u._data * beta2, np.abs(g) + eps))
            clr = lr / (1 - beta1 ** step)
            write_(p, p._data + (-clr) * (m._data / u._data))
