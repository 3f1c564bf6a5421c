"""The relaxed (Concrete / Gumbel-softmax) distributions: continuous stand-ins for Bernoulli
and one-hot Categorical draws whose samples differentiate in the probabilities, sharper as
``temperature`` goes to 0. Built as PyTorch builds them: a distribution over logits (or
log-probabilities) pushed through a sigmoid (or exp). And ContinuousBernoulli: the Bernoulli
likelihood made a proper density on [0, 1] (for [0, 1]-valued data in VAEs)."""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any

import symgrad as sg
from symgrad.distributions import constraints
from symgrad.distributions.discrete import Categorical, _Binary, _OverCategorical
from symgrad.distributions.distribution import Distribution, broadcast_all
from symgrad.distributions.transformed import TransformedDistribution
from symgrad.distributions.transforms import ExpTransform, SigmoidTransform
from symgrad.nn import functional as F
from symgrad.tensor import Tensor

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli", "ExpRelaxedCategorical",
           "RelaxedOneHotCategorical", "ContinuousBernoulli"]


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


class ContinuousBernoulli(_Binary):
    """Density C(p) p^x (1 - p)^(1 - x) on [0, 1]; near p = 1/2 (inside ``lims``), where
    the closed forms divide 0 by 0, PyTorch's Taylor expansions are used instead.
    ``rsample`` inverts the CDF at a uniform draw."""

    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, probs: Any = None, logits: Any = None,
                 lims: tuple[float, float] = (0.499, 0.501),
                 validate_args: bool | None = None) -> None:
        (param,) = self._set(probs, logits)
        if probs is not None:
            if validate_args is not None and not bool(
                    constraints.unit_interval.check(param).all()):
                raise ValueError("The parameter probs has invalid values")
            self.probs = _clamp_probs(param)
        self._lims = lims
        Distribution.__init__(self, param.shape, validate_args=validate_args)

    @cached_property
    def probs(self) -> Tensor:
        return _clamp_probs(self.logits.sigmoid())

    def _stable(self) -> Tensor:
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self) -> Tensor:
        return sg.where(self._stable(), self.probs, self._lims[0] * sg.ones_like(self.probs))

    def _log_norm(self) -> Tensor:
        """log C(p)."""
        cut = self._cut_probs()
        below = sg.where(cut <= 0.5, cut, sg.zeros_like(cut))
        above = sg.where(cut >= 0.5, cut, sg.ones_like(cut))
        log_norm = ((-cut).log1p() - cut.log()).abs().log() - sg.where(
            cut <= 0.5, (-2.0 * below).log1p(), (2.0 * above - 1.0).log())
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return sg.where(self._stable(), log_norm, taylor)

    @property
    def mean(self) -> Tensor:
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / ((-cut).log1p() - cut.log())
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return sg.where(self._stable(), mus, taylor)

    @property
    def variance(self) -> Tensor:
        cut = self._cut_probs()
        var = (cut * (cut - 1.0) / (1.0 - 2.0 * cut).pow(2)
               + 1.0 / ((-cut).log1p() - cut.log()).pow(2))
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return sg.where(self._stable(), var, taylor)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.icdf(self._noise("uniform", sample_shape))

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        logits, value = broadcast_all(self.logits, value)
        return (-F.binary_cross_entropy_with_logits(logits, value, reduction="none")
                + self._log_norm())

    def cdf(self, value: Any) -> Tensor:
        value = self._checked(value)
        cut = self._cut_probs()
        cdfs = (cut.pow(value) * (1.0 - cut).pow(1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        inside = sg.where(self._stable(), cdfs, value)
        return sg.where(value <= 0.0, sg.zeros_like(value),
                        sg.where(value >= 1.0, sg.ones_like(value), inside))

    def icdf(self, value: Any) -> Tensor:
        cut = self._cut_probs()
        inverse = (((-cut + value * (2.0 * cut - 1.0)).log1p() - (-cut).log1p())
                   / (cut.log() - (-cut).log1p()))
        return sg.where(self._stable(), inverse, value)

    def entropy(self) -> Tensor:
        log_p0, log_p1 = (-self.probs).log1p(), self.probs.log()
        return self.mean * (log_p0 - log_p1) - self._log_norm() - log_p0
