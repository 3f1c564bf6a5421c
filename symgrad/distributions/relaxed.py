"""The relaxed (Concrete / Gumbel-softmax) distributions: continuous stand-ins for Bernoulli
and one-hot Categorical draws whose samples differentiate in the probabilities, sharper as
``temperature`` goes to 0. Built as PyTorch builds them: a distribution over logits (or
log-probabilities) pushed through a sigmoid (or exp)."""

from __future__ import annotations

from typing import Any

import symgrad as sg
from symgrad.distributions import constraints
from symgrad.distributions.discrete import Categorical, _Binary, _OverCategorical
from symgrad.distributions.distribution import Distribution, broadcast_all
from symgrad.distributions.transformed import TransformedDistribution
from symgrad.distributions.transforms import ExpTransform, SigmoidTransform
from symgrad.tensor import Tensor

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli", "ExpRelaxedCategorical",
           "RelaxedOneHotCategorical"]


def _clamp_probs(p: Tensor) -> Tensor:
    eps = float(sg.finfo(p.dtype).eps)
    return p.clamp(min=eps, max=1 - eps)


def _temperature(t: Any, like: Tensor) -> Tensor:
    return t if isinstance(t, Tensor) else sg.tensor(float(t), dtype=like.dtype)


class LogitRelaxedBernoulli(_Binary):
    """The logit of a RelaxedBernoulli draw: (logistic noise + logits) / temperature."""

    support = constraints.real     # has_rsample stays False, as PyTorch's (rsample works)

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        (param,) = self._set(probs, logits)
        self.temperature = _temperature(temperature, param)
        Distribution.__init__(self, param.shape, validate_args=validate_args)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        probs = _clamp_probs(self.probs.expand(shape))
        u = _clamp_probs(self._noise("uniform", sample_shape))
        return (u.log() - (-u).log1p() + probs.log() - (-probs).log1p()) / self.temperature

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value * self.temperature
        return self.temperature.log() + diff - 2 * diff.exp().log1p()


class _Relaxed(TransformedDistribution):
    """The parameters are the base distribution's."""

    @property
    def temperature(self) -> Tensor:
        return self.base_dist.temperature

    @property
    def probs(self) -> Tensor:
        return self.base_dist.probs

    @property
    def logits(self) -> Tensor:
        return self.base_dist.logits


class RelaxedBernoulli(_Relaxed):
    """Values in (0, 1) that approach Bernoulli draws as ``temperature`` -> 0."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        base = LogitRelaxedBernoulli(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)


class ExpRelaxedCategorical(_OverCategorical):
    """The log of a RelaxedOneHotCategorical draw: log-softmax of (logits + Gumbel noise) /
    temperature."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        self._categorical = Categorical(probs, logits)
        self.temperature = _temperature(temperature, self._categorical.logits)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        u = _clamp_probs(self._noise("uniform", sample_shape))
        scores = (self.logits - (-u.log()).log()) / self.temperature
        return scores - scores.logsumexp(-1, keepdim=True)

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        k = self._categorical._num_events
        logits, value = broadcast_all(self.logits, value)
        log_scale = (sg.full_like(self.temperature, float(k)).lgamma()
                     - self.temperature.log() * -(k - 1))
        score = logits - value * self.temperature
        return (score - score.logsumexp(-1, keepdim=True)).sum(-1) + log_scale


class RelaxedOneHotCategorical(_Relaxed):
    """Points of the simplex that approach one-hot Categorical draws as ``temperature``
    -> 0 (the Gumbel-softmax)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)
