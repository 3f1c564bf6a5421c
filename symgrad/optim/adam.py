"""``Adam`` and ``AdamW``: moment estimates of the gradient with bias correction."""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable

import numpy as np

from symgrad.optim.optimizer import Optimizer, bump_step, grad_of, lerp, write_
from symgrad.tensor import Tensor

__all__ = ["Adam", "AdamW"]


def check_adam_options(lr: float, betas: tuple[float, float], eps: float, weight_decay: float
                       ) -> None:
    """PyTorch's checks of the Adam family's options."""
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


#: The moving averages of the gradient and of its square, in each parameter's state.
MOMENTS = ("exp_avg", "exp_avg_sq")


def update_moments(state: dict[str, Any], g: np.ndarray, beta1: float, beta2: float
                   ) -> tuple[Tensor, Tensor]:
    """``m = lerp(m, g, 1 - beta1)``, ``v = beta2 v + (1 - beta2) g^2``, in place."""
    m, v = state["exp_avg"], state["exp_avg_sq"]
    write_(m, lerp(m._data, g, 1 - beta1))
    write_(v, v._data * beta2 + (1 - beta2) * g * g)
    return m, v


class Adam(Optimizer):
    """Kingma and Ba's Adam as PyTorch computes it: ``m`` and ``v`` moving averages of the
    gradient and its square, ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``;
    ``amsgrad`` uses the running maximum of ``v``; ``decoupled_weight_decay`` is AdamW."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        check_adam_options(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable,
                                      fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        zeros = MOMENTS + (("max_exp_avg_sq",) if group["amsgrad"] else ())
        for p in self._params_with_grad(group):
            g = grad_of(p, group)
            state = self._state_of(p, *zeros)
            step = bump_step(state)
            m, v = update_moments(state, g, beta1, beta2)
            if group["amsgrad"]:
                vmax = state["max_exp_avg_sq"]
                write_(vmax, np.maximum(vmax._data, v._data))
                v = vmax
            step_size = lr / (1 - beta1 ** step)
            denom = np.sqrt(v._data) / (1 - beta2 ** step) ** 0.5 + eps
            write_(p, p._data + (-step_size) * (m._data / denom))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): ``p *= 1 - lr * wd``
    before the Adam step, instead of adding ``wd * p`` to the gradient."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
