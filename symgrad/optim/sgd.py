"""``SGD``: gradient descent with optional momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable

import numpy as np

from symgrad.optim.optimizer import Optimizer, grad_of, write_
from symgrad.tensor import Tensor

__all__ = ["SGD"]


class SGD(Optimizer):
    """``p -= lr * g`` where ``g`` is the gradient (plus ``weight_decay * p``), or with
    ``momentum`` the buffer ``b = momentum * b + (1 - dampening) * g`` (``g + momentum * b``
    with ``nesterov``); PyTorch's update, the first buffer being the gradient itself."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _update(self, group: dict[str, Any]) -> None:
        lr, momentum = group["lr"], group["momentum"]
        for p in self._params_with_grad(group):
            g = grad_of(p, group)
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = Tensor._wrap(np.array(g, copy=True))
                else:
                    write_(buf, buf._data * momentum + (1 - group["dampening"]) * g)
                g = g + momentum * buf._data if group["nesterov"] else buf._data
            write_(p, p._data - lr * g)
