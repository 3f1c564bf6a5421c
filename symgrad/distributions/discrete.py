"""Discrete distributions: Bernoulli, Geometric, Binomial (``probs`` or ``logits``), Poisson,
Categorical and OneHotCategorical. The parameter not given is derived on first use and
then kept (as PyTorch's lazy properties), so the repr names what was given."""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any

import symgrad as sg
from symgrad.distributions import constraints
from symgrad.distributions.distribution import Distribution, broadcast_all, probs_to_logits
from symgrad.nn import functional as F
from symgrad.tensor import Tensor

__all__ = ["Bernoulli", "Geometric", "Binomial", "NegativeBinomial", "Poisson", "Categorical",
           "OneHotCategorical", "Multinomial"]


def _one_of(probs: Any, logits: Any) -> None:
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


class _Binary(Distribution):
    """A success probability given as ``probs`` or as log-odds ``logits``."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        (param,) = self._set(probs, logits)
        super().__init__(param.shape, validate_args=validate_args)

    def _set(self, probs: Any, logits: Any, *others: Any) -> list[Tensor]:
        _one_of(probs, logits)
        name = "probs" if probs is not None else "logits"
        param, *rest = broadcast_all(probs if probs is not None else logits, *others)
        self.__dict__[name] = param
        return [param, *rest]

    @cached_property
    def probs(self) -> Tensor:
        return self.logits.sigmoid()

    @cached_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)


class Bernoulli(_Binary):
    """Bernoulli; ``log_prob`` is minus the binary cross-entropy with logits, as PyTorch
    computes it."""

    support = constraints.boolean
    has_enumerate_support = True

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        m = (self.probs >= 0.5).to(self.probs.dtype)
        return sg.where(self.probs == 0.5, float("nan"), m)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with sg.no_grad():
            return sg.bernoulli(self.probs.detach().expand(self._extended_shape(sample_shape)))

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        return self._over_batch(sg.arange(2, dtype=self._dtype), expand)


class Geometric(_Binary):
    """The number of failures before the first success."""

    support = constraints.nonnegative_integer

    @property
    def mean(self) -> Tensor:
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> Tensor:
        return sg.zeros_like(self.probs)

    @property
    def variance(self) -> Tensor:
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with sg.no_grad():
            p = self.probs.detach()
            u = self._noise("uniform", sample_shape)
            return (u.log() / (-p).log1p()).floor()

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        value, probs = broadcast_all(value, self.probs)
        # a certain success has log-probability 0 at value 0 (not 0 * log 0 = nan)
        probs = sg.where((probs == 1) & (value == 0), 0.0, probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs,
                                                  reduction="none") / self.probs


class Binomial(_Binary):
    """Successes in ``total_count`` trials; ``log_prob`` in PyTorch's overflow-safe form."""

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count: Any = 1, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        param, count = self._set(probs, logits, total_count)
        self.total_count = count.to(param.dtype)
        Distribution.__init__(self, param.shape, validate_args=validate_args)

    @property
    def support(self) -> constraints.Constraint:   # type: ignore[override]
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with sg.no_grad():
            shape = self._extended_shape(sample_shape)
            return sg.binomial(self.total_count.detach().expand(shape),
                               self.probs.detach().expand(shape))

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        n, lg = self.total_count, self.logits
        positive_part = (lg.clamp(min=0) + lg - lg.clamp(max=0)) / 2
        normalize = n * positive_part + n * (-lg.abs()).exp().log1p() - (n + 1).lgamma()
        return (value * lg - normalize - (value + 1).lgamma() - (n - value + 1).lgamma())

    def enumerate_support(self, expand: bool = True) -> Tensor:
        top = int(self.total_count.max())
        if not int(self.total_count.min()) == top:
            raise NotImplementedError("Inhomogeneous total count not supported by "
                                      "`enumerate_support`.")
        return self._over_batch(sg.arange(1 + top, dtype=self._dtype), expand)

    def entropy(self) -> Tensor:
        top = int(self.total_count.max())
        if not int(self.total_count.min()) == top:
            raise NotImplementedError("Inhomogeneous total count not supported by `entropy`.")
        lp = self.log_prob(self.enumerate_support(False))
        return -(lp.exp() * lp).sum(0)


class NegativeBinomial(_Binary):
    """Successes before ``total_count`` failures, each trial a success with ``probs``."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        param, count = self._set(probs, logits, total_count)
        self.total_count = count.to(param.dtype)
        Distribution.__init__(self, param.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.logits.exp()

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.mean / (-self.logits).sigmoid()

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with sg.no_grad():
            shape = self.total_count.detach().numpy()
            rate = self._noise("gamma", sample_shape, shape=shape) * self.logits.detach().exp()
            return sg.poisson(rate)

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        n = self.total_count
        unnormalised = n * F.logsigmoid(-self.logits) + value * F.logsigmoid(self.logits)
        normalisation = -(n + value).lgamma() + (1.0 + value).lgamma() + n.lgamma()
        # no trials and no successes: probability 1 (lgamma(0) would be inf)
        normalisation = normalisation.masked_fill(n + value == 0.0, 0.0)
        return unnormalised - normalisation


class Poisson(Distribution):
    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with sg.no_grad():
            return sg.poisson(self.rate.detach().expand(self._extended_shape(sample_shape)))

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        rate, value = broadcast_all(self.rate, value)
        return sg.xlogy(value, rate) - rate - (value + 1).lgamma()


class Categorical(Distribution):
    """A choice among the last dimension's categories, by ``probs`` (normalised) or
    ``logits`` (normalised as log-probabilities)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        _one_of(probs, logits)
        param = probs if probs is not None else logits
        if param.dim() < 1:
            name = "probs" if probs is not None else "logits"
            raise ValueError(f"`{name}` parameter must be at least one-dimensional.")
        if probs is not None:
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._num_events = param.shape[-1]
        super().__init__(param.shape[:-1], validate_args=validate_args)

    @cached_property
    def probs(self) -> Tensor:
        return self.logits.softmax(-1)

    @cached_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs)

    @property
    def param_shape(self) -> sg.Size:
        given = self.__dict__["probs"] if "probs" in self.__dict__ else self.logits
        return given.size()

    @property
    def support(self) -> constraints.Constraint:   # type: ignore[override]
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self) -> Tensor:
        return sg.full(tuple(self._extended_shape()), float("nan"), dtype=self.probs.dtype)

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    @property
    def variance(self) -> Tensor:
        return self.mean

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with sg.no_grad():
            n = int(math.prod(tuple(sample_shape)))
            flat = self.probs.detach().reshape(-1, self._num_events)
            draws = sg.multinomial(flat, max(n, 1), replacement=True)   # (batch, n)
            return draws.T.reshape(tuple(sample_shape) + tuple(self.batch_shape))

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = sg.broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self) -> Tensor:
        logits = self.logits.clamp(min=float(sg.finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        return self._over_batch(sg.arange(self._num_events), expand)


class _OverCategorical(Distribution):
    """A distribution built on a Categorical ``_categorical``: its parameters are that one's."""

    _categorical: Categorical

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def param_shape(self) -> sg.Size:
        return self._categorical.param_shape


class OneHotCategorical(_OverCategorical):
    """A Categorical whose samples are one-hot vectors of the last dimension's size."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        super().__init__(self._categorical.batch_shape,
                         self._categorical.param_shape[-1:], validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        return F.one_hot(self.probs.argmax(-1), self.probs.shape[-1]).to(self.probs.dtype)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        indices = self._categorical.sample(sample_shape)
        return F.one_hot(indices, self._categorical._num_events).to(self.probs.dtype)

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        return self._categorical.log_prob(value.max(-1)[1])

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        return self._over_batch(sg.eye(self._categorical._num_events, dtype=self._dtype),
                                expand)



class Multinomial(_OverCategorical):
    """Counts of ``total_count`` draws from a Categorical (the last dimension's categories);
    ``log_prob`` reads the number of draws from the value, as PyTorch."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count: int = 1, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    @property
    def support(self) -> constraints.Constraint:   # type: ignore[override]
        return constraints.multinomial(self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        draws = self._categorical.sample((self.total_count,) + tuple(sample_shape))
        counts = F.one_hot(draws, self._categorical._num_events).sum(0)
        return counts.expand(self._extended_shape(sample_shape)).to(self.probs.dtype)

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        logits, value = broadcast_all(self.logits, value)
        # a category of probability 0 that was never drawn adds 0 (not 0 * -inf = nan)
        logits = sg.where((value == 0) & (logits == -math.inf), 0.0, logits)
        return ((value.sum(-1) + 1).lgamma() - (value + 1).lgamma().sum(-1)
                + (logits * value).sum(-1))

    def entropy(self) -> Tensor:
        n = sg.tensor(float(self.total_count), dtype=self.probs.dtype)
        term1 = n * self._categorical.entropy() - (n + 1).lgamma()
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = self._binomial.log_prob(support).exp()
        return term1 + (binomial_probs * (support + 1).lgamma()).sum([0, -1])
