"""``optim.swa_utils``: stochastic weight averaging and exponential moving averages of a
model's weights (``AveragedModel``), the SWA learning-rate schedule (``SWALR``) and the
recomputation of batch-norm statistics for the averaged weights (``update_bn``)."""

from __future__ import annotations

import copy
import itertools
import math
from typing import Any
from collections.abc import Callable, Iterable

from symgrad._dtype import int64
from symgrad.autograd.grad_mode import no_grad
from symgrad.factories import tensor
from symgrad.nn.modules.module import Module
from symgrad.nn.modules.normalization import _BatchNorm
from symgrad.optim.lr_scheduler import LRScheduler, _per_group
from symgrad.optim.optimizer import Optimizer
from symgrad.tensor import Tensor

__all__ = ["AveragedModel", "SWALR", "update_bn", "get_ema_avg_fn", "get_swa_avg_fn",
           "get_ema_multi_avg_fn", "get_swa_multi_avg_fn"]


def get_swa_avg_fn() -> Callable[[Tensor, Tensor, Any], Tensor]:
    """The running mean: ``avg + (new - avg) / (n + 1)``."""
    def swa_update(averaged: Tensor, current: Tensor, num_averaged: Any) -> Tensor:
        return averaged + (current - averaged) / (num_averaged + 1)
    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable[[Tensor, Tensor, Any], Tensor]:
    """The exponential moving average: ``decay * avg + (1 - decay) * new``."""
    def ema_update(averaged: Tensor, current: Tensor, num_averaged: Any) -> Tensor:
        return decay * averaged + (1 - decay) * current
    return ema_update


def _in_place(one: Callable[[Tensor, Tensor, Any], Tensor]) -> Callable[[list, list, Any], None]:
    """``one`` applied to lists of tensors, writing into the averages."""
    def update(averaged: list, current: list, num_averaged: Any) -> None:
        for a, c in zip(averaged, current):
            a.copy_(one(a, c, num_averaged))
    return update


def get_swa_multi_avg_fn() -> Callable[[list, list, Any], None]:
    """``get_swa_avg_fn`` over lists of tensors, in place."""
    return _in_place(get_swa_avg_fn())


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable[[list, list, Any], None]:
    """``get_ema_avg_fn`` over lists of tensors, in place."""
    return _in_place(get_ema_avg_fn(decay))


class AveragedModel(Module):
    """A copy of ``model`` whose parameters (and buffers, with ``use_buffers``) are the
    average of the model's values at each ``update_parameters`` call."""

    def __init__(self, model: Module, device: Any = None,
                 avg_fn: Callable[[Tensor, Tensor, Any], Tensor] | None = None,
                 multi_avg_fn: Callable[[list, list, Any], None] | None = None,
                 use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        self.register_buffer("n_averaged", tensor(0, dtype=int64))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def _averaged(self, model: Module) -> tuple[list, list]:
        if self.use_buffers:
            return (list(itertools.chain(self.module.parameters(), self.module.buffers())),
                    list(itertools.chain(model.parameters(), model.buffers())))
        return list(self.parameters()), list(model.parameters())

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current values into the average."""
        mine, theirs = self._averaged(model)
        pairs = [(a, c.detach()) for a, c in zip(mine, theirs) if a is not None]
        n = self.n_averaged
        with no_grad():
            if int(n) == 0:
                for a, c in pairs:
                    a.copy_(c)
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn([a for a, _ in pairs], [c for _, c in pairs], n)
            else:
                fn = self.avg_fn or get_swa_avg_fn()
                for a, c in pairs:
                    a.copy_(fn(a.detach(), c, n))
            if not self.use_buffers:   # the buffers follow the model (not averaged)
                for b, c in zip(self.module.buffers(), model.buffers()):
                    b.copy_(c.detach())
            self.n_averaged.add_(1)


def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recompute every batch norm's running statistics of ``model`` with one pass over
    ``loader`` (a cumulative average over its batches), leaving the mode as it was."""
    momenta = {}
    for m in model.modules():
        if isinstance(m, _BatchNorm) and m.running_mean is not None:
            m.reset_running_stats()
            momenta[m] = m.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for m in momenta:
        m.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        model(batch)
    for m, momentum in momenta.items():
        m.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's rate from its current value to ``swa_lr`` over
    ``anneal_epochs`` steps (cosine or linear), then hold it."""

    def __init__(self, optimizer: Optimizer, swa_lr: float | list[float],
                 anneal_epochs: int = 10, anneal_strategy: str = "cos",
                 last_epoch: int = -1) -> None:
        for value, group in zip(_per_group(swa_lr, optimizer, "swa_lr"),
                                optimizer.param_groups):
            group["swa_lr"] = value
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_strategy, self.anneal_epochs = anneal_strategy, anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _share(self, step: int) -> float:
        """How far along the annealing is after ``step`` steps: 0 (start) to 1 (swa_lr)."""
        t = max(0.0, min(1.0, step / max(1, self.anneal_epochs)))
        return t if self.anneal_strategy == "linear" else (1 - math.cos(math.pi * t)) / 2

    def get_lr(self) -> list[float]:
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        before, now = self._share(step - 1), self._share(step)
        out = []
        for group in self.optimizer.param_groups:
            lr, swa = group["lr"], group["swa_lr"]
            # the rate the annealing started from, recovered from the last blend
            start = swa if before == 1 else (lr - before * swa) / (1 - before)
            out.append(swa * now + start * (1 - now))
        return out
