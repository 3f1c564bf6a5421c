"""The distributions: parameters broadcast to a ``batch_shape``; ``sample(shape)`` draws
``shape + batch_shape`` values without a graph, ``rsample`` (where PyTorch has it) through
the parameters; ``log_prob`` and ``entropy`` as PyTorch computes them."""

from __future__ import annotations

import math
from typing import Any

import symgrad as sg
from symgrad.nn import functional as F
from symgrad.tensor import Tensor

__all__ = ["Distribution", "Normal", "Uniform", "Bernoulli", "Categorical", "Exponential",
           "kl_divergence"]


def _params(*values: Any) -> list[Tensor]:
    """The parameters as tensors of one broadcast shape; numbers take the dtype of the
    first tensor parameter (the default dtype when there is none), as in PyTorch."""
    like = next((v.dtype for v in values if isinstance(v, Tensor)), None)
    ts = [v if isinstance(v, Tensor) else sg.tensor(float(v), dtype=like) for v in values]
    shape = sg.broadcast_shapes(*[t.shape for t in ts])
    return [t.expand(shape) if tuple(t.shape) != tuple(shape) else t for t in ts]


class Distribution:
    """What every distribution has: shapes, ``sample``, and errors for what it lacks."""

    has_rsample = False

    def __init__(self, batch_shape: tuple = (), event_shape: tuple = ()) -> None:
        self.batch_shape = sg.Size(batch_shape)
        self.event_shape = sg.Size(event_shape)

    def _extended(self, sample_shape: Any) -> tuple:
        return tuple(sample_shape) + tuple(self.batch_shape) + tuple(self.event_shape)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with sg.no_grad():
            return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no rsample (no reparameterised "
                                  "sampling): use sample()")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}: {_brief(getattr(self, k))}" for k in self.arg_names)
        return f"{type(self).__name__}({args})"


def _brief(t: Tensor) -> str:
    return repr(t) if t.numel() == 1 else f"{t.size()}"


class Normal(Distribution):
    """N(loc, scale^2); ``rsample`` is loc + scale * eps, so gradients reach the parameters."""

    arg_names = ("loc", "scale")
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = _params(loc, scale)
        if validate_args is not False and bool((self.scale <= 0).any()):
            raise ValueError("Expected parameter scale to satisfy the constraint "
                             "GreaterThan(lower_bound=0.0), but found invalid values")
        super().__init__(tuple(self.loc.shape))

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return self.scale ** 2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        eps = sg.randn(self._extended(sample_shape), dtype=self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value: Any) -> Tensor:
        var = self.scale ** 2
        return (-((value - self.loc) ** 2) / (2 * var) - self.scale.log()
                - math.log(math.sqrt(2 * math.pi)))

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    def cdf(self, value: Any) -> Tensor:
        return 0.5 * (1 + sg.erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))


class Uniform(Distribution):
    """Uniform on [low, high); ``rsample`` is low + (high - low) * u."""

    arg_names = ("low", "high")
    has_rsample = True

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        self.low, self.high = _params(low, high)
        if validate_args is not False and bool((self.low >= self.high).any()):
            raise ValueError("Expected parameter low to be less than high")
        super().__init__(tuple(self.low.shape))

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        u = sg.rand(self._extended(sample_shape), dtype=self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value: Any) -> Tensor:
        value = value if isinstance(value, Tensor) else sg.tensor(float(value))
        inside = ((self.low <= value) & (value < self.high)).to(self.low.dtype)
        return inside.log() - (self.high - self.low).log()

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()


class Exponential(Distribution):
    arg_names = ("rate",)
    has_rsample = True

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = _params(rate)
        super().__init__(tuple(self.rate.shape))

    @property
    def mean(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def variance(self) -> Tensor:
        return self.rate ** -2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        e = sg.empty(self._extended(sample_shape), dtype=self.rate.dtype).exponential_()
        return e / self.rate

    def log_prob(self, value: Any) -> Tensor:
        return self.rate.log() - self.rate * value

    def entropy(self) -> Tensor:
        return 1.0 - self.rate.log()


class Bernoulli(Distribution):
    """Bernoulli with ``probs`` or ``logits`` (one of them); ``log_prob`` is minus the
    binary cross-entropy with logits, as PyTorch computes it."""

    has_rsample = False

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = _params(probs)
            p = self.probs.clamp(_EPS[self.probs.dtype], 1 - _EPS[self.probs.dtype])
            self.logits = p.log() - (1 - p).log()
            self.arg_names = ("probs",)
        else:
            (self.logits,) = _params(logits)
            self.probs = self.logits.sigmoid()
            self.arg_names = ("logits",)
        super().__init__(tuple(self.logits.shape))

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with sg.no_grad():
            return sg.bernoulli(self.probs.expand(self._extended(sample_shape)))

    def log_prob(self, value: Any) -> Tensor:
        logits, value = _params(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


class Categorical(Distribution):
    """A choice among the last dimension's categories, by ``probs`` (normalised) or
    ``logits`` (normalised as log-probabilities)."""

    has_rsample = False

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.probs = probs / probs.sum(-1, keepdim=True)
            p = self.probs.clamp(_EPS[self.probs.dtype], 1 - _EPS[self.probs.dtype])
            self.logits = p.log()
            self.arg_names = ("probs",)
        else:
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
            self.probs = self.logits.softmax(-1)
            self.arg_names = ("logits",)
        self._num_events = self.logits.shape[-1]
        super().__init__(tuple(self.logits.shape[:-1]))

    @property
    def mean(self) -> Tensor:
        return sg.full(tuple(self.batch_shape), float("nan"), dtype=self.probs.dtype)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with sg.no_grad():
            n = int(math.prod(tuple(sample_shape)))
            flat = self.probs.reshape(-1, self._num_events)
            draws = sg.multinomial(flat, max(n, 1), replacement=True)   # (batch, n)
            out = draws.T.reshape(tuple(sample_shape) + tuple(self.batch_shape))
            return out

    def log_prob(self, value: Tensor) -> Tensor:
        value = value.long().unsqueeze(-1)
        value, log_pmf = sg.broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self) -> Tensor:
        logits = self.logits.clamp(min=float(sg.finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)


_EPS = {sg.float64: float(sg.finfo(sg.float64).eps), sg.float32: float(sg.finfo(sg.float32).eps)}


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q) for two Normals, two Bernoullis or two Categoricals (PyTorch's closed
    forms); other pairs are refused."""
    if isinstance(p, Normal) and isinstance(q, Normal):
        var_ratio = (p.scale / q.scale) ** 2
        t1 = ((p.loc - q.loc) / q.scale) ** 2
        return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())
    if isinstance(p, Categorical) and isinstance(q, Categorical):
        return (p.probs * (p.logits - q.logits)).sum(-1)
    if isinstance(p, Bernoulli) and isinstance(q, Bernoulli):
        t1 = p.probs * (F.softplus(-q.logits) - F.softplus(-p.logits))
        t2 = (1 - p.probs) * (F.softplus(q.logits) - F.softplus(p.logits))
        return t1 + t2
    raise NotImplementedError(f"No KL(p || q) is implemented for {type(p).__name__} and "
                              f"{type(q).__name__}")
