"""``Rprop``: steps of a per-element size that grows while the gradient keeps its sign."""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable

import numpy as np

from symgrad.optim.optimizer import Optimizer, bump_step, write_
from symgrad.tensor import Tensor

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Resilient backpropagation as PyTorch computes it: each element's step size is
    multiplied by ``etas[1]`` when its gradient keeps its sign, by ``etas[0]`` when it flips
    (and that element then waits a step), clamped to ``step_sizes``; ``p -= sign(g) size``.
    Only the gradient's sign is used, so there is no weight decay."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _update(self, group: dict[str, Any]) -> None:
        etaminus, etaplus = group["etas"]
        lo, hi = group["step_sizes"]
        for p in self._params_with_grad(group):
            g = -p._grad._data if group["maximize"] else p._grad._data
            state = self._state_of(p, "prev")
            if "step_size" not in state:
                state["step_size"] = Tensor._wrap(np.full_like(p._data, group["lr"]))
            bump_step(state)
            prev, size = state["prev"], state["step_size"]
            sign = np.sign(g * prev._data)
            factor = np.where(sign > 0, etaplus, np.where(sign < 0, etaminus, 1.0))
            write_(size, np.clip(size._data * factor, lo, hi))
            g = np.where(sign < 0, 0.0, g)     # after a sign flip: no step, and no memory
            write_(p, p._data - np.sign(g) * size._data)
            write_(prev, g)
