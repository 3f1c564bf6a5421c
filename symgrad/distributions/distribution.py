"""The ``Distribution`` base: batch / event shapes, ``sample_shape``, argument and sample
validation with PyTorch's ``ValueError`` messages, ``expand``, ``perplexity``, the repr."""

from __future__ import annotations

import math
import numbers
from functools import cached_property
from typing import Any

import numpy as np

import symgrad as sg
from symgrad.distributions import constraints
from symgrad.factories import _rng
from symgrad.tensor import Tensor

__all__ = ["Distribution", "broadcast_all"]


def broadcast_all(*values: Any) -> list[Tensor]:
    """The values as tensors of one broadcast shape; numbers take the dtype of the first
    tensor among them (the default dtype when there is none), as PyTorch's helper."""
    if not all(isinstance(v, (Tensor, numbers.Real)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, torch.Tensor or "
                         "objects implementing __torch_function__.")
    like = next((v for v in values if isinstance(v, Tensor)), None)
    dtype = like.dtype if like is not None else sg.get_default_dtype()
    ts = [v if isinstance(v, Tensor) else sg.tensor(float(v), dtype=dtype) for v in values]
    return list(sg.broadcast_tensors(*ts))


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Log-odds (binary) or log-probabilities of probabilities clamped away from 0 and 1."""
    eps = float(sg.finfo(probs.dtype).eps)
    p = probs.clamp(eps, 1 - eps)
    return p.log() - (-p).log1p() if is_binary else p.log()


class Distribution:
    """What every distribution has: shapes, validation, ``sample`` by ``rsample`` without a
    graph, ``expand``, ``perplexity``; what one lacks raises NotImplementedError."""

    has_rsample = False
    has_enumerate_support = False
    arg_constraints: dict[str, constraints.Constraint] = {}
    support: constraints.Constraint | None = None
    _validate_args = True

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Switch argument / sample validation on or off for distributions made after."""
        if value not in (True, False):
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape: Any = (), event_shape: Any = (),
                 validate_args: bool | None = None) -> None:
        self._batch_shape = sg.Size(tuple(batch_shape))
        self._event_shape = sg.Size(tuple(event_shape))
        if validate_args is not None:
            self._validate_args = validate_args
        if not self._validate_args:
            return
        for name, constraint in self.arg_constraints.items():
            lazy = isinstance(getattr(type(self), name, None), cached_property)
            if constraints.is_dependent(constraint) or (lazy and name not in self.__dict__):
                continue      # the parameter not given, derived from the other on first use
            value = getattr(self, name)
            if not bool(constraint.check(value).all()):
                raise ValueError(
                    f"Expected parameter {name} ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                    f"constraint {constraint!r}, but found invalid values:\n{value}")

    @property
    def batch_shape(self) -> sg.Size:
        return self._batch_shape

    @property
    def event_shape(self) -> sg.Size:
        return self._event_shape

    def _extended_shape(self, sample_shape: Any = ()) -> sg.Size:
        return sg.Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    # ------------------------------------------------------------------ expand
    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        """A copy whose parameters are expanded (views, no new checks) to ``batch_shape``:
        every tensor attribute of shape ``old_batch + tail`` becomes ``batch_shape + tail``
        (``_unbroadcasted*`` ones are kept: they broadcast against any batch)."""
        batch_shape = sg.Size(tuple(batch_shape))
        new = type(self).__new__(type(self))
        old = len(self._batch_shape)
        for key, value in self.__dict__.items():
            if key.startswith("_unbroadcasted"):
                pass
            elif isinstance(value, Tensor) and value.ndim >= old:
                value = value.expand(tuple(batch_shape) + tuple(value.shape[old:]))
            elif isinstance(value, Distribution):
                value = value.expand(tuple(batch_shape) + tuple(value.batch_shape[old:]))
            new.__dict__[key] = value
        new._batch_shape = batch_shape
        return new

    # ------------------------------------------------------------------ sampling
    def sample(self, sample_shape: Any = ()) -> Tensor:
        with sg.no_grad():
            return self.rsample(sample_shape).detach()

    _why_no_rsample = "no reparameterised sampling"

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no rsample "
                                  f"({self._why_no_rsample}): use sample()")

    def sample_n(self, n: int) -> Tensor:
        return self.sample((n,))

    def _noise(self, kind: str, sample_shape: Any, size: Any = None, **kw: Any) -> Tensor:
        """Standard noise (``normal``, ``uniform`` in [tiny, 1), ``cauchy``, ``exponential``,
        ``gamma`` with ``shape=``) of the extended shape (or ``size``), in the parameters'
        dtype, without a graph: every draw of the distributions goes through here."""
        shape = tuple(self._extended_shape(sample_shape) if size is None else size)
        gen = _rng(None)
        if kind == "normal":
            arr = gen.standard_normal(shape)
        elif kind == "uniform":
            arr = np.maximum(gen.random(shape), np.finfo(np.float64).tiny)
        elif kind == "cauchy":
            arr = gen.standard_cauchy(shape)
        elif kind == "exponential":
            arr = gen.standard_exponential(shape)
        else:
            arr = np.maximum(gen.standard_gamma(np.broadcast_to(kw["shape"], shape)),
                             np.finfo(np.float64).tiny)
        return sg.tensor(arr, dtype=self._dtype)

    @property
    def _dtype(self) -> Any:
        for value in self.__dict__.values():
            if isinstance(value, Tensor) and value.is_floating_point():
                return value.dtype
        return sg.get_default_dtype()

    # ------------------------------------------------------------------ moments & co
    @property
    def mean(self) -> Tensor:
        raise NotImplementedError

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def log_prob(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def cdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def icdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def entropy(self) -> Tensor:
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True) -> Tensor:
        raise NotImplementedError

    def _over_batch(self, values: Tensor, expand: bool) -> Tensor:
        """The support ``values`` (one per row, each of the event shape) along a new first
        dimension, broadcast over the batch (``expand``) or with size-1 batch dimensions."""
        event = tuple(values.shape[1:])
        values = values.reshape((-1,) + (1,) * len(self._batch_shape) + event)
        return values.expand((-1,) + tuple(self._batch_shape) + event) if expand else values

    def perplexity(self) -> Tensor:
        return self.entropy().exp()

    # ------------------------------------------------------------------ validation
    def _validate_sample(self, value: Any) -> None:
        """PyTorch's checks of a value to score: a Tensor, the event shape on the right, the
        batch shape broadcastable, every entry in the support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        size, event = tuple(value.shape), tuple(self._event_shape)
        if size[len(size) - len(event):] != event:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{value.size()} vs {self._event_shape}.")
        expected = tuple(self._batch_shape) + event
        for i, j in zip(reversed(size), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{value.size()} vs {sg.Size(expected)}.")
        support = self.support
        if support is not None and not bool(support.check(value).all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape "
                f"{tuple(value.shape)}) to be within the support ({support!r}) of the "
                f"distribution {self!r}, but found invalid values:\n{value}")

    def _checked(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return value if isinstance(value, Tensor) else sg.tensor(float(value), dtype=self._dtype)

    def __repr__(self) -> str:
        names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(f"{k}: {_brief(self.__dict__[k])}" for k in names)
        return f"{type(self).__name__}({args})"


class LocIsMean(Distribution):
    """A distribution whose ``loc`` is its mean and its mode."""

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc


def _brief(t: Tensor) -> str:
    return f"{t}" if t.numel() == 1 else str(t.size())


LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))
