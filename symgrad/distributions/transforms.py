"""``torch.distributions.transforms``: invertible maps y = f(x) with log |det df/dx|, for
TransformedDistribution. Elementwise (and Affine over ``event_dim`` dimensions), built from
symgrad ops so log-densities of transformed samples differentiate exactly.

``cache_size=1`` keeps the last (x, y): inverting the y just produced returns that very x
(atanh(tanh(x)) would lose it where tanh saturates), as PyTorch."""

from __future__ import annotations

import math
import numbers
from typing import Any

import symgrad as sg
from symgrad.distributions import constraints
from symgrad.nn import functional as F
from symgrad.tensor import Tensor

__all__ = ["Transform", "ComposeTransform", "IndependentTransform", "ExpTransform",
           "AffineTransform", "SigmoidTransform", "TanhTransform", "PowerTransform",
           "SoftmaxTransform", "StickBreakingTransform", "identity_transform"]


def sum_rightmost(t: Tensor, n: int) -> Tensor:
    """``t`` summed over its ``n`` rightmost dimensions."""
    return t.reshape(tuple(t.shape[:t.ndim - n]) + (-1,)).sum(-1) if n > 0 else t


def _equal(a: Any, b: Any) -> bool:
    """Two parameters equal everywhere (numbers or tensors)."""
    if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
        return a == b
    return bool((sg.as_tensor(a) == sg.as_tensor(b)).all())


class Transform:
    """y = f(x): ``__call__``, ``inv`` (the inverse map, also a Transform), ``sign`` of the
    derivative (monotone maps) and ``log_abs_det_jacobian(x, y)``."""

    domain: constraints.Constraint = constraints.real
    codomain: constraints.Constraint = constraints.real
    bijective = True
    sign = 1

    def __init__(self, cache_size: int = 0) -> None:
        if cache_size not in (0, 1):
            raise ValueError("cache_size must be 0 or 1")
        self._cache_size = cache_size
        self._cached: tuple[Any, Any] = (None, None)

    @property
    def event_dim(self) -> int:
        return self.domain.event_dim

    @property
    def inv(self) -> Transform:
        return _InverseTransform(self)

    def __call__(self, x: Tensor) -> Tensor:
        if self._cache_size and x is self._cached[0]:
            return self._cached[1]
        y = self._call(x)
        if self._cache_size:
            self._cached = (x, y)
        return y

    def _inv_call(self, y: Tensor) -> Tensor:
        if self._cache_size and y is self._cached[1]:
            return self._cached[0]
        x = self._inverse(y)
        if self._cache_size:
            self._cached = (x, y)
        return x

    def _call(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def _inverse(self, y: Tensor) -> Tensor:
        raise NotImplementedError

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        """The same map: parameter-free transforms of one class are equal, the others when
        their parameters are (PyTorch's rule; KL of transformed pairs relies on it)."""
        if type(other) is not type(self):
            return False
        return self is other or self._same(other)

    __hash__ = object.__hash__

    def _same(self, other: Any) -> bool:
        return True      # no parameters; the transforms with some compare them


class _InverseTransform(Transform):
    def __init__(self, transform: Transform) -> None:
        super().__init__(transform._cache_size)
        self._inv = transform
        self.domain, self.codomain = transform.codomain, transform.domain
        self.sign = transform.sign

    @property
    def inv(self) -> Transform:
        return self._inv

    def _same(self, other: Any) -> bool:
        return self._inv == other._inv

    def __call__(self, x: Tensor) -> Tensor:
        return self._inv._inv_call(x)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -self._inv.log_abs_det_jacobian(y, x)


def _widened(c: constraints.Constraint, event_dim: int) -> constraints.Constraint:
    extra = event_dim - c.event_dim
    return constraints.independent(c, extra) if extra > 0 else c


class ComposeTransform(Transform):
    """The transforms applied left to right."""

    def __init__(self, parts: list[Transform], cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.parts = list(parts)
        self.sign = math.prod(p.sign for p in self.parts)
        if not self.parts:
            return
        # an event of any part is an event of the chain: widen the ends to the widest one
        event_dim = self.parts[-1].codomain.event_dim
        for part in reversed(self.parts):
            event_dim += part.domain.event_dim - part.codomain.event_dim
            event_dim = max(event_dim, part.domain.event_dim)
        self.domain = _widened(self.parts[0].domain, event_dim)
        event_dim = self.parts[0].domain.event_dim
        for part in self.parts:
            event_dim += part.codomain.event_dim - part.domain.event_dim
            event_dim = max(event_dim, part.codomain.event_dim)
        self.codomain = _widened(self.parts[-1].codomain, event_dim)

    def _same(self, other: Any) -> bool:
        return self.parts == other.parts

    def _call(self, x: Tensor) -> Tensor:
        for part in self.parts:
            x = part(x)
        return x

    def _inverse(self, y: Tensor) -> Tensor:
        for part in reversed(self.parts):
            y = part.inv(y)
        return y

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        if not self.parts:
            return sg.zeros_like(x)
        xs = [x]
        for part in self.parts[:-1]:
            xs.append(part(xs[-1]))
        xs.append(y)
        total: Any = 0.0
        event_dim = self.domain.event_dim
        for part, a, b in zip(self.parts, xs[:-1], xs[1:]):
            total = total + sum_rightmost(part.log_abs_det_jacobian(a, b),
                                          event_dim - part.domain.event_dim)
            event_dim += part.codomain.event_dim - part.domain.event_dim
        return total

    def __repr__(self) -> str:
        inner = ",\n    ".join(repr(p) for p in self.parts)
        return f"ComposeTransform(\n    {inner}\n)"


class IndependentTransform(Transform):
    """``base_transform`` with ``reinterpreted_batch_ndims`` more dimensions in one event:
    its log |det J| sums over them."""

    def __init__(self, base_transform: Transform, reinterpreted_batch_ndims: int,
                 cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.base_transform, self.reinterpreted_batch_ndims = (base_transform,
                                                                reinterpreted_batch_ndims)
        self.domain = constraints.independent(base_transform.domain, reinterpreted_batch_ndims)
        self.codomain = constraints.independent(base_transform.codomain,
                                                reinterpreted_batch_ndims)
        self.sign = base_transform.sign

    def _same(self, other: Any) -> bool:
        return (self.base_transform == other.base_transform
                and self.reinterpreted_batch_ndims == other.reinterpreted_batch_ndims)

    def _call(self, x: Tensor) -> Tensor:
        return self.base_transform(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return sum_rightmost(self.base_transform.log_abs_det_jacobian(x, y),
                             self.reinterpreted_batch_ndims)

    def __repr__(self) -> str:
        return (f"IndependentTransform({self.base_transform!r}, "
                f"{self.reinterpreted_batch_ndims})")


class ExpTransform(Transform):
    codomain = constraints.positive

    def _call(self, x: Tensor) -> Tensor:
        return x.exp()

    def _inverse(self, y: Tensor) -> Tensor:
        return y.log()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x


class SigmoidTransform(Transform):
    codomain = constraints.unit_interval

    def _call(self, x: Tensor) -> Tensor:
        finfo = sg.finfo(x.dtype)
        return x.sigmoid().clamp(min=float(finfo.tiny), max=1.0 - float(finfo.eps))

    def _inverse(self, y: Tensor) -> Tensor:
        finfo = sg.finfo(y.dtype)
        y = y.clamp(min=float(finfo.tiny), max=1.0 - float(finfo.eps))
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -F.softplus(-x) - F.softplus(x)


class TanhTransform(Transform):
    codomain = constraints.interval(-1.0, 1.0)

    def _call(self, x: Tensor) -> Tensor:
        return x.tanh()

    def _inverse(self, y: Tensor) -> Tensor:
        return y.atanh()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        # log(1 - tanh(x)^2) in a form that does not lose 1 - tanh^2 for large |x|
        return 2.0 * (math.log(2.0) - x - F.softplus(-2.0 * x))


class PowerTransform(Transform):
    domain = constraints.positive
    codomain = constraints.positive

    def __init__(self, exponent: Any, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.exponent = exponent

    def _same(self, other: Any) -> bool:
        return _equal(self.exponent, other.exponent)

    def _call(self, x: Tensor) -> Tensor:
        return x.pow(self.exponent)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return (self.exponent * y / x).abs().log()


class AffineTransform(Transform):
    """y = loc + scale * x, over ``event_dim`` rightmost dimensions as one event."""

    def __init__(self, loc: Any, scale: Any, event_dim: int = 0, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.loc, self.scale, self._event_dim = loc, scale, event_dim
        self.domain = self.codomain = constraints.independent(constraints.real, event_dim) \
            if event_dim else constraints.real

    @property
    def event_dim(self) -> int:
        return self._event_dim

    @property
    def sign(self) -> Any:   # type: ignore[override]
        if isinstance(self.scale, numbers.Real):
            return 1 if float(self.scale) > 0 else -1 if float(self.scale) < 0 else 0
        return self.scale.sign()

    def _same(self, other: Any) -> bool:
        return _equal(self.loc, other.loc) and _equal(self.scale, other.scale)

    def _call(self, x: Tensor) -> Tensor:
        return self.loc + self.scale * x

    def _inverse(self, y: Tensor) -> Tensor:
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        shape = tuple(x.shape)
        if isinstance(self.scale, numbers.Real):
            result = sg.full_like(x, math.log(abs(self.scale)))
        else:
            result = self.scale.abs().log()
        if self._event_dim:
            result = result.reshape(tuple(result.shape[:-self._event_dim]) + (-1,)).sum(-1)
            shape = shape[:-self._event_dim]
        return result.expand(shape)


class SoftmaxTransform(Transform):
    """Onto the simplex by exp and normalising (not a bijection: no log |det J|)."""

    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = False

    def _call(self, x: Tensor) -> Tensor:
        probs = (x - x.max(-1, True)[0]).exp()
        return probs / probs.sum(-1, True)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.log()


class StickBreakingTransform(Transform):
    """A bijection from R^(k-1) onto the k-simplex: each coordinate breaks off a sigmoid
    share of what is left of the stick (offset so that x = 0 gives the centre)."""

    domain = constraints.real_vector
    codomain = constraints.simplex

    @staticmethod
    def _offset(k: int, like: Tensor) -> Tensor:
        return (k + 1 - sg.ones(k, dtype=like.dtype).cumsum(-1)).log()

    def _call(self, x: Tensor) -> Tensor:
        finfo = sg.finfo(x.dtype)
        z = (x - self._offset(x.shape[-1], x)).sigmoid().clamp(min=float(finfo.tiny),
                                                              max=1.0 - float(finfo.eps))
        left = (1 - z).cumprod(-1)
        return F.pad(z, [0, 1], value=1.0) * F.pad(left, [1, 0], value=1.0)

    def _inverse(self, y: Tensor) -> Tensor:
        crop = y[..., :-1]
        offset = (y.shape[-1] - sg.ones(crop.shape[-1], dtype=y.dtype).cumsum(-1)).log()
        left = (1 - crop.cumsum(-1)).clamp(min=float(sg.finfo(y.dtype).tiny))
        return crop.log() - left.log() + offset

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        x = x - self._offset(x.shape[-1], x)
        return (-x + F.logsigmoid(x) + y[..., :-1].log()).sum(-1)


identity_transform = ComposeTransform([])
