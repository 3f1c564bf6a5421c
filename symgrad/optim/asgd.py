"""``ASGD``: SGD with a decaying step and a running average of the iterates."""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable

import numpy as np

from symgrad.optim.optimizer import Optimizer, bump_step, grad_of, scalar_step, write_

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """Averaged SGD (Polyak and Juditsky) as PyTorch computes it: ``p`` shrinks by
    ``1 - lambd eta`` and steps by ``-eta g``; ``ax`` averages the iterates from step ``t0``
    on (``mu = 1 / max(1, t - t0)``); ``eta = lr / (1 + lambd lr t) ** alpha``."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _update(self, group: dict[str, Any]) -> None:
        lr, lambd = group["lr"], group["lambd"]
        for p in self._params_with_grad(group):
            g = grad_of(p, group)
            state = self._state_of(p, "ax", eta=lr, mu=1)
            if "eta" not in state:
                state["eta"], state["mu"] = scalar_step(), scalar_step()
                state["eta"]._data[...] = lr
                state["mu"]._data[...] = 1
            step = bump_step(state)
            eta, mu, ax = state["eta"], state["mu"], state["ax"]
            e = float(eta._data)
            write_(p, p._data * (1 - lambd * e))
            write_(p, p._data + (-e) * g)
            if float(mu._data) != 1:
                write_(ax, ax._data + (p._data - ax._data) * mu._data)
            else:
                write_(ax, p._data)
            write_(eta, np.asarray(lr / ((1 + lambd * lr * step) ** group["alpha"])))
            write_(mu, np.asarray(1 / max(1, step - group["t0"])))
