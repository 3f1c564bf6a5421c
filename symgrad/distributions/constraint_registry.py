"""``biject_to`` / ``transform_to``: from a constraint to a transform that maps unconstrained
reals onto it, so a constrained parameter (a positive scale, a probability) can be optimised
as an unconstrained tensor. The same transforms as PyTorch's, for the constraints symgrad
has transforms for (not the matrix ones: Cholesky factors, positive-definite and correlation
matrices); others raise NotImplementedError."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

from symgrad.distributions import constraints as C
from symgrad.distributions import transforms as T

__all__ = ["ConstraintRegistry", "biject_to", "transform_to"]


class ConstraintRegistry:
    """Constraint class -> factory of a transform; looked up by the constraint's type."""

    def __init__(self) -> None:
        self._registry: dict[type, Callable] = {}

    def register(self, constraint: Any, factory: Callable | None = None) -> Any:
        if factory is None:
            return lambda f: self.register(constraint, f)
        if isinstance(constraint, C.Constraint):
            constraint = type(constraint)
        self._registry[constraint] = factory
        return factory

    def __call__(self, constraint: C.Constraint) -> T.Transform:
        try:
            factory = self._registry[type(constraint)]
        except KeyError:
            raise NotImplementedError(f"Cannot transform {type(constraint).__name__} "
                                      "constraints") from None
        return factory(constraint)


biject_to = ConstraintRegistry()
transform_to = ConstraintRegistry()


def _both(constraint: Any) -> Callable:
    def add(factory: Callable) -> Callable:
        biject_to.register(constraint, factory)
        transform_to.register(constraint, factory)
        return factory
    return add


@_both(C.real)
def _to_real(constraint: C.Constraint) -> T.Transform:
    return T.identity_transform


@biject_to.register(C.independent)
def _biject_to_independent(constraint: Any) -> T.Transform:
    return T.IndependentTransform(biject_to(constraint.base_constraint),
                                  constraint.reinterpreted_batch_ndims)


@transform_to.register(C.independent)
def _transform_to_independent(constraint: Any) -> T.Transform:
    return T.IndependentTransform(transform_to(constraint.base_constraint),
                                  constraint.reinterpreted_batch_ndims)


@_both(C.greater_than)
@_both(C.greater_than_eq)
def _to_greater_than(constraint: Any) -> T.Transform:
    return T.ComposeTransform([T.ExpTransform(), T.AffineTransform(constraint.lower_bound, 1)])


@_both(C.less_than)
def _to_less_than(constraint: Any) -> T.Transform:
    return T.ComposeTransform([T.ExpTransform(), T.AffineTransform(constraint.upper_bound, -1)])


@_both(C.interval)
@_both(C.half_open_interval)
def _to_interval(constraint: Any) -> T.Transform:
    lo, hi = constraint.lower_bound, constraint.upper_bound
    if isinstance(lo, numbers.Number) and lo == 0 and isinstance(hi, numbers.Number) and hi == 1:
        return T.SigmoidTransform()
    return T.ComposeTransform([T.SigmoidTransform(), T.AffineTransform(lo, hi - lo)])


@biject_to.register(C.simplex)
def _biject_to_simplex(constraint: C.Constraint) -> T.Transform:
    return T.StickBreakingTransform()


@transform_to.register(C.simplex)
def _transform_to_simplex(constraint: C.Constraint) -> T.Transform:
    return T.SoftmaxTransform()
