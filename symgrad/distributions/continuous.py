"""Univariate continuous distributions with PyTorch's formulas, built from symgrad ops so the
log-densities, entropies, moments and reparameterised samples carry verifiable graphs.

Gamma, Beta and StudentT draw through numpy's gamma sampler: symgrad has no differentiable
standard-gamma op, so they have ``has_rsample = False`` (PyTorch: True)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import symgrad as sg
from symgrad.distributions import constraints
from symgrad.distributions.distribution import (LOG_SQRT_2PI, Distribution, LocIsMean,
                                                broadcast_all)
from symgrad.factories import _rng
from symgrad.tensor import Tensor

__all__ = ["Normal", "HalfNormal", "HalfCauchy", "Uniform", "Exponential", "Laplace",
           "LogNormal", "Gamma", "Chi2", "Cauchy", "Gumbel", "StudentT", "VonMises"]

EULER = 0.57721566490153286060


class _LocScale(LocIsMean):
    """``loc`` (real) and ``scale`` (positive), broadcast to the batch shape."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)


class Normal(_LocScale):
    """N(loc, scale^2); ``rsample`` is loc + scale * eps, so gradients reach the parameters."""

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.stddev.pow(2)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.loc + self._noise("normal", sample_shape) * self.scale

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        var = self.scale ** 2
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() - LOG_SQRT_2PI

    def cdf(self, value: Any) -> Tensor:
        value = self._checked(value)
        return 0.5 * (1 + sg.erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value: Any) -> Tensor:
        return self.loc + self.scale * sg.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()


class Laplace(_LocScale):
    """Laplace(loc, scale); ``rsample`` inverts the CDF at a uniform draw in (-1, 1)."""

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale.pow(2)

    @property
    def stddev(self) -> Tensor:
        return (2 ** 0.5) * self.scale

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        eps = float(sg.finfo(self.loc.dtype).eps)
        u = self._noise("uniform", sample_shape) * (2 - eps) + (eps - 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value: Any) -> Tensor:
        value = self._checked(value)
        z = value - self.loc
        return 0.5 - 0.5 * z.sign() * (-z.abs() / self.scale).expm1()

    def icdf(self, value: Any) -> Tensor:
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self) -> Tensor:
        return 1 + (2 * self.scale).log()


class Cauchy(_LocScale):
    """Cauchy(loc, scale): no mean (NaN) and infinite variance, as PyTorch reports them."""

    @property
    def mean(self) -> Tensor:
        return sg.full(self._extended_shape(), float("nan"), dtype=self.loc.dtype)

    @property
    def variance(self) -> Tensor:
        return sg.full(self._extended_shape(), float("inf"), dtype=self.loc.dtype)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.loc + self._noise("cauchy", sample_shape) * self.scale

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        return (-math.log(math.pi) - self.scale.log()
                - (((value - self.loc) / self.scale) ** 2).log1p())

    def cdf(self, value: Any) -> Tensor:
        value = self._checked(value)
        return sg.atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value: Any) -> Tensor:
        return sg.tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self) -> Tensor:
        return math.log(4 * math.pi) + self.scale.log()


class Gumbel(_LocScale):
    """Gumbel(loc, scale); ``rsample`` is loc - scale * log(-log u)."""

    @property
    def mean(self) -> Tensor:
        return self.loc + self.scale * EULER

    @property
    def stddev(self) -> Tensor:
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self) -> Tensor:
        return self.stddev.pow(2)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        u = self._noise("uniform", sample_shape)
        return self.loc - self.scale * (-u.log()).log()

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        y = (self.loc - value) / self.scale
        return (y - y.exp()) - self.scale.log()

    def cdf(self, value: Any) -> Tensor:
        value = self._checked(value)
        return (-((self.loc - value) / self.scale).exp()).exp()

    def icdf(self, value: Any) -> Tensor:
        return self.loc - self.scale * (-value.log()).log()

    def entropy(self) -> Tensor:
        return self.scale.log() + (1 + EULER)


class LogNormal(_LocScale):
    """exp of a Normal(loc, scale): ``log_prob(x)`` is the Normal's at log x, minus log x."""

    support = constraints.positive

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        super().__init__(loc, scale, validate_args=validate_args)
        self.base_dist = Normal(self.loc, self.scale, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return (self.loc + self.scale.pow(2) / 2).exp()

    @property
    def mode(self) -> Tensor:
        return (self.loc - self.scale.square()).exp()

    @property
    def variance(self) -> Tensor:
        s2 = self.scale.pow(2)
        return s2.expm1() * (2 * self.loc + s2).exp()

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape).exp()

    def log_prob(self, value: Any) -> Tensor:
        x = self._checked(value).log()
        return -x + self.base_dist.log_prob(x)

    def cdf(self, value: Any) -> Tensor:
        return self.base_dist.cdf(self._checked(value).log())

    def icdf(self, value: Any) -> Tensor:
        return self.base_dist.icdf(value).exp()

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() + self.loc

    def __repr__(self) -> str:
        return "LogNormal()"      # PyTorch's: its parameters live on the base Normal


class Uniform(Distribution):
    """Uniform on [low, high); ``rsample`` is low + (high - low) * u."""

    has_rsample = True

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, validate_args=validate_args)

    @property
    def arg_constraints(self) -> dict:   # type: ignore[override]
        return {"low": constraints.less_than(self.high),
                "high": constraints.greater_than(self.low)}

    @property
    def support(self) -> constraints.Constraint:   # type: ignore[override]
        return constraints.interval(self.low, self.high)

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def mode(self) -> Tensor:
        return float("nan") * self.high

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.low + self._noise("uniform", sample_shape) * (self.high - self.low)

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        lb = (self.low <= value).to(self.low.dtype)
        ub = (self.high > value).to(self.low.dtype)
        return (lb * ub).log() - (self.high - self.low).log()

    def cdf(self, value: Any) -> Tensor:
        value = self._checked(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value: Any) -> Tensor:
        return value * (self.high - self.low) + self.low

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()


class Exponential(Distribution):
    """Exponential(rate); ``rsample`` is a standard exponential draw over ``rate``."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        return sg.zeros_like(self.rate)

    @property
    def stddev(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def variance(self) -> Tensor:
        return self.rate.pow(-2)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self._noise("exponential", sample_shape) / self.rate

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value: Any) -> Tensor:
        value = self._checked(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value: Any) -> Tensor:
        return -(-value).log1p() / self.rate

    def entropy(self) -> Tensor:
        return 1.0 - self.rate.log()


class Gamma(Distribution):
    """Gamma(concentration, rate). Sampling only (numpy's gamma sampler, no gradient):
    symgrad has no differentiable standard-gamma op."""

    _why_no_rsample = ("symgrad has no differentiable gamma sampler; PyTorch "
                       "differentiates its own")
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative

    def __init__(self, concentration: Any, rate: Any,
                 validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.pow(2)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with sg.no_grad():
            g = self._noise("gamma", sample_shape, shape=self.concentration.detach().numpy())
            return (g / self.rate.detach()).clamp(min=float(sg.finfo(self.rate.dtype).tiny))

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        c = self.concentration
        return sg.xlogy(c, self.rate) + sg.xlogy(c - 1, value) - self.rate * value - c.lgamma()

    def cdf(self, value: Any) -> Tensor:
        value = self._checked(value)
        return sg.special.gammainc(self.concentration, self.rate * value)

    def entropy(self) -> Tensor:
        c = self.concentration
        return c - self.rate.log() + c.lgamma() + (1.0 - c) * c.digamma()


class Chi2(Gamma):
    """Chi-square with ``df`` degrees of freedom: Gamma(df / 2, 1 / 2)."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df: Any, validate_args: bool | None = None) -> None:
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    @property
    def df(self) -> Tensor:
        return self.concentration * 2


class _Half(Distribution):
    """|X| for X of a location-0 ``base_dist`` symmetric about 0: the density and the
    probabilities doubled on [0, inf); ``rsample`` is |X|."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, base: Distribution, validate_args: bool | None) -> None:
        self.base_dist = base
        super().__init__(base.batch_shape, validate_args=validate_args)

    @property
    def scale(self) -> Tensor:
        return self.base_dist.scale

    @property
    def mode(self) -> Tensor:
        return sg.zeros_like(self.scale)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape).abs()

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        lp = self.base_dist.log_prob(value) + math.log(2)
        return sg.where(value >= 0, lp, -math.inf)

    def cdf(self, value: Any) -> Tensor:
        return 2 * self.base_dist.cdf(self._checked(value)) - 1

    def icdf(self, prob: Any) -> Tensor:
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() - math.log(2)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"   # PyTorch's: the parameter lives on the base


class HalfNormal(_Half):
    """|X| for X ~ N(0, scale^2)."""

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        super().__init__(Normal(0, scale, validate_args=False), validate_args)

    @property
    def mean(self) -> Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2) * (1 - 2 / math.pi)


class HalfCauchy(_Half):
    """|X| for X ~ Cauchy(0, scale): infinite mean and variance."""

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        super().__init__(Cauchy(0, scale, validate_args=False), validate_args)

    @property
    def mean(self) -> Tensor:
        return sg.full(tuple(self._extended_shape()), math.inf, dtype=self.scale.dtype)

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance


class StudentT(Distribution):
    """Student's t(df, loc, scale). Sampling only: its chi-square draw comes from numpy's
    gamma sampler (symgrad has no differentiable standard-gamma op)."""

    _why_no_rsample = ("symgrad has no differentiable gamma sampler; PyTorch "
                       "differentiates its own")
    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0,
                 validate_args: bool | None = None) -> None:
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        super().__init__(self.df.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return sg.where(self.df <= 1, float("nan"), self.loc)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        df = self.df
        finite = self.scale.pow(2) * df / sg.where(df > 2, df - 2, 1.0)
        heavy = sg.where(df > 1, float("inf"), float("nan"))
        return sg.where(df > 2, finite, heavy.to(df.dtype))

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with sg.no_grad():
            df = self.df.detach()
            chi2 = 2 * self._noise("gamma", sample_shape, shape=0.5 * df.numpy())
            x = self._noise("normal", sample_shape)
            return self.loc + self.scale * x * (chi2 / df).rsqrt()

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        y = (value - self.loc) / self.scale
        df = self.df
        z = (self.scale.log() + 0.5 * df.log() + 0.5 * math.log(math.pi)
             + (0.5 * df).lgamma() - (0.5 * (df + 1.0)).lgamma())
        return -0.5 * (df + 1.0) * (y ** 2.0 / df).log1p() - z

    def entropy(self) -> Tensor:
        df = self.df
        lbeta = (0.5 * df).lgamma() + math.lgamma(0.5) - (0.5 * (df + 1)).lgamma()
        return (self.scale.log()
                + 0.5 * (df + 1) * ((0.5 * (df + 1)).digamma() - (0.5 * df).digamma())
                + 0.5 * df.log() + lbeta)


class VonMises(LocIsMean):
    """Angles around ``loc`` with ``concentration`` kappa: density exp(kappa cos(x - loc)) /
    (2 pi I0(kappa)). I0 is symgrad's exact Bessel op (PyTorch uses a polynomial
    approximation, good to about 1e-7). Sampling only (numpy's von Mises sampler), as
    PyTorch; mean and variance are the circular ones."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real

    def __init__(self, loc: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def _log_i0(self) -> Tensor:
        k = self.concentration
        return sg.special.i0e(k).log() + k

    @property
    def variance(self) -> Tensor:
        k = self.concentration
        return 1 - sg.special.i1e(k) / sg.special.i0e(k)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with sg.no_grad():
            shape = tuple(self._extended_shape(sample_shape))
            loc = np.broadcast_to(self.loc.detach().numpy(), shape)
            kappa = np.broadcast_to(self.concentration.detach().numpy(), shape)
            draws = _rng(None).vonmises(loc, kappa)
            return sg.tensor((draws + math.pi) % (2 * math.pi) - math.pi, dtype=self.loc.dtype)

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        return (self.concentration * (value - self.loc).cos() - math.log(2 * math.pi)
                - self._log_i0())
