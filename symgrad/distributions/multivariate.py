"""Distributions over vectors: MultivariateNormal, Dirichlet (and Beta, a Dirichlet over
two categories, as PyTorch builds it), and Independent, which reads batch dimensions of
another distribution as event dimensions.

MultivariateNormal's ``log_prob`` solves with its Cholesky factor through symgrad's
triangular solve, so gradients reach ``loc`` and the matrix it was given."""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any

import symgrad as sg
from symgrad.distributions import constraints
from symgrad.distributions.distribution import Distribution, LocIsMean, broadcast_all
from symgrad.distributions.transforms import sum_rightmost
from symgrad.tensor import Tensor

__all__ = ["MultivariateNormal", "LowRankMultivariateNormal", "Dirichlet", "Beta",
           "Independent"]


def mahalanobis(L: Tensor, x: Tensor) -> Tensor:
    """|L^{-1} x|^2 over the last dimension of ``x`` (``L`` lower triangular, broadcast)."""
    n = x.shape[-1]
    batch = sg.broadcast_shapes(tuple(L.shape[:-2]), tuple(x.shape[:-1]))
    Lb = L.expand(tuple(batch) + (n, n))
    sol = sg.linalg.solve_triangular(Lb, x.expand(tuple(batch) + (n,)).unsqueeze(-1),
                                     upper=False)
    return sol.squeeze(-1).pow(2).sum(-1)


def trace_xxt(m: Tensor) -> Tensor:
    """trace(M M^T): the sum of squares of each matrix of the batch."""
    return m.reshape(tuple(m.shape[:-2]) + (-1,)).pow(2).sum(-1)


def _precision_to_scale_tril(P: Tensor) -> Tensor:
    """The lower Cholesky factor of P^{-1}, without inverting P: the reversed-order Cholesky
    factor of P, transposed and flipped, is the inverse of the wanted factor."""
    Lf = sg.linalg.cholesky(sg.flip(P, (-2, -1)))
    L_inv = sg.flip(Lf, (-2, -1)).transpose(-2, -1)
    eye = sg.eye(P.shape[-1], dtype=P.dtype)
    return sg.linalg.solve_triangular(L_inv, eye.expand(L_inv.shape), upper=False)


class _Gaussian(LocIsMean):
    """What the two Gaussians over vectors share: ``loc`` is the mean and the mode."""

    support = constraints.real_vector
    has_rsample = True

    def _full(self, t: Tensor, *tail: int) -> Tensor:
        """``t`` broadcast to batch + event shape (+ ``tail``)."""
        return t.expand(tuple(self._batch_shape) + tuple(self._event_shape) + tail)


class MultivariateNormal(_Gaussian):
    """N(loc, Sigma) with exactly one of ``covariance_matrix``, ``precision_matrix`` or
    ``scale_tril`` (lower Cholesky factor L of Sigma); ``rsample`` is loc + L eps."""

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}

    def __init__(self, loc: Tensor, covariance_matrix: Tensor | None = None,
                 precision_matrix: Tensor | None = None, scale_tril: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [(k, v) for k, v in (("covariance_matrix", covariance_matrix),
                                     ("precision_matrix", precision_matrix),
                                     ("scale_tril", scale_tril)) if v is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        name, matrix = given[0]
        if matrix.dim() < 2:
            what = {"scale_tril": "scale_tril matrix",
                    "covariance_matrix": "covariance_matrix",
                    "precision_matrix": "precision_matrix"}[name]
            raise ValueError(f"{what} must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        batch = sg.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1]))
        self.__dict__[name] = matrix.expand(tuple(batch) + (-1, -1))
        self.loc = loc.expand(tuple(batch) + (-1,))
        super().__init__(batch, loc.shape[-1:], validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = sg.linalg.cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(matrix)

    @cached_property
    def scale_tril(self) -> Tensor:
        return self._full(self._unbroadcasted_scale_tril, self._event_shape[0])

    @cached_property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return self._full(L @ L.mT, self._event_shape[0])

    @cached_property
    def precision_matrix(self) -> Tensor:
        return self._full(sg.cholesky_inverse(self._unbroadcasted_scale_tril),
                          self._event_shape[0])

    @property
    def variance(self) -> Tensor:
        return self._full(self._unbroadcasted_scale_tril.pow(2).sum(-1))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        eps = self._noise("normal", sample_shape)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self) -> Tensor:
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        M = mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M) - self._half_log_det()

    def entropy(self) -> Tensor:
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return H if len(self._batch_shape) == 0 else H.expand(tuple(self._batch_shape))


def _plus_identity(K: Tensor) -> Tensor:
    return K + sg.eye(K.shape[-1], dtype=K.dtype)


class LowRankMultivariateNormal(_Gaussian):
    """N(loc, W W^T + diag(D)) with ``cov_factor`` W (n x m) and ``cov_diag`` D: log-density
    and entropy through the m x m capacitance matrix I + W^T D^-1 W, never an n x n one."""

    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}

    def __init__(self, loc: Tensor, cov_factor: Tensor, cov_diag: Tensor,
                 validate_args: bool | None = None) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = tuple(loc.shape[-1:])
        if cov_factor.dim() < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if tuple(cov_factor.shape[-2:-1]) != event_shape:
            raise ValueError(f"cov_factor must be a batch of matrices with shape "
                             f"{event_shape[0]} x m")
        if tuple(cov_diag.shape[-1:]) != event_shape:
            raise ValueError(f"cov_diag must be a batch of vectors with shape "
                             f"{sg.Size(event_shape)}")
        try:
            loc_, self.cov_factor, diag_ = sg.broadcast_tensors(
                loc.unsqueeze(-1), cov_factor, cov_diag.unsqueeze(-1))
        except RuntimeError as e:
            raise ValueError(f"Incompatible batch shapes: loc {loc.shape}, cov_factor "
                             f"{cov_factor.shape}, cov_diag {cov_diag.shape}") from e
        self.loc, self.cov_diag = loc_[..., 0], diag_[..., 0]
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        Wt_Dinv = cov_factor.mT / cov_diag.unsqueeze(-2)
        self._unbroadcasted_capacitance_tril = sg.linalg.cholesky(
            _plus_identity(Wt_Dinv @ cov_factor))
        super().__init__(self.loc.shape[:-1], event_shape, validate_args=validate_args)

    @property
    def variance(self) -> Tensor:
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return self._full(W.pow(2).sum(-1) + D)

    @cached_property
    def scale_tril(self) -> Tensor:
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        d_sqrt = D.sqrt().unsqueeze(-1)
        Dinvsqrt_W = W / d_sqrt
        K = _plus_identity(Dinvsqrt_W @ Dinvsqrt_W.mT)
        return self._full(d_sqrt * sg.linalg.cholesky(K), self._event_shape[0])

    @cached_property
    def covariance_matrix(self) -> Tensor:
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return self._full(W @ W.mT + sg.diag_embed(D), self._event_shape[0])

    @cached_property
    def precision_matrix(self) -> Tensor:
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        A = sg.linalg.solve_triangular(self._unbroadcasted_capacitance_tril,
                                       W.mT / D.unsqueeze(-2), upper=False)
        return self._full(sg.diag_embed(D.reciprocal()) - A.mT @ A, self._event_shape[0])

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        eps_W = self._noise("normal", sample_shape, size=shape[:-1] + tuple(W.shape[-1:]))
        eps_D = self._noise("normal", sample_shape)
        return self.loc + (W @ eps_W.unsqueeze(-1)).squeeze(-1) + D.sqrt() * eps_D

    def _log_det(self) -> Tensor:
        L = self._unbroadcasted_capacitance_tril
        return (2 * L.diagonal(dim1=-2, dim2=-1).log().sum(-1)
                + self._unbroadcasted_cov_diag.log().sum(-1))

    def _mahalanobis(self, x: Tensor) -> Tensor:
        """x^T (W W^T + D)^-1 x by the Woodbury identity."""
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        Wt_Dinv_x = ((W.mT / D.unsqueeze(-2)) @ x.unsqueeze(-1)).squeeze(-1)
        return (x.pow(2) / D).sum(-1) - mahalanobis(self._unbroadcasted_capacitance_tril,
                                                    Wt_Dinv_x)

    def log_prob(self, value: Any) -> Tensor:
        M = self._mahalanobis(self._checked(value) - self.loc)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + self._log_det() + M)

    def entropy(self) -> Tensor:
        H = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._log_det())
        return H if len(self._batch_shape) == 0 else H.expand(tuple(self._batch_shape))


class Dirichlet(Distribution):
    """Dirichlet(concentration) on the simplex of the last dimension. Sampling only
    (normalised numpy gamma draws): symgrad has no differentiable standard-gamma op."""

    _why_no_rsample = ("symgrad has no differentiable gamma sampler; PyTorch "
                       "differentiates its own")
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex

    def __init__(self, concentration: Tensor, validate_args: bool | None = None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:],
                         validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self) -> Tensor:
        cm1 = (self.concentration - 1).clamp(min=0.0)
        mode = cm1 / cm1.sum(-1, True)
        # every concentration below 1: the density peaks at the corner of the largest one
        corner = (self.concentration < 1).all(-1, keepdim=True)
        hot = sg.nn.functional.one_hot(mode.argmax(-1), cm1.shape[-1]).to(mode.dtype)
        return sg.where(corner, hot, mode)

    @property
    def variance(self) -> Tensor:
        c = self.concentration
        c0 = c.sum(-1, True)
        return c * (c0 - c) / (c0.pow(2) * (c0 + 1))

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with sg.no_grad():
            g = self._noise("gamma", sample_shape, shape=self.concentration.detach().numpy())
            return (g / g.sum(-1, True)).clamp(min=float(sg.finfo(g.dtype).tiny),
                                               max=1 - float(sg.finfo(g.dtype).eps))

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        c = self.concentration
        return sg.xlogy(c - 1.0, value).sum(-1) + c.sum(-1).lgamma() - c.lgamma().sum(-1)

    def entropy(self) -> Tensor:
        c = self.concentration
        k, a0 = c.size(-1), c.sum(-1)
        return (c.lgamma().sum(-1) - a0.lgamma() - (k - a0) * a0.digamma()
                - ((c - 1.0) * c.digamma()).sum(-1))


class Beta(Distribution):
    """Beta(concentration1, concentration0): a Dirichlet over (x, 1 - x). Sampling only."""

    _why_no_rsample = ("symgrad has no differentiable gamma sampler; PyTorch "
                       "differentiates its own")
    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval

    def __init__(self, concentration1: Any, concentration0: Any,
                 validate_args: bool | None = None) -> None:
        c1, c0 = broadcast_all(concentration1, concentration0)
        self._dirichlet = Dirichlet(sg.stack([c1, c0], -1), validate_args=validate_args)
        super().__init__(self._dirichlet._batch_shape, validate_args=validate_args)

    @property
    def concentration1(self) -> Tensor:
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self) -> Tensor:
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return self._dirichlet.sample(sample_shape).select(-1, 0)

    def log_prob(self, value: Any) -> Tensor:
        value = self._checked(value)
        return self._dirichlet.log_prob(sg.stack([value, 1.0 - value], -1))

    def entropy(self) -> Tensor:
        return self._dirichlet.entropy()


class Independent(Distribution):
    """``base_distribution`` with its rightmost ``reinterpreted_batch_ndims`` batch
    dimensions read as event dimensions: log-probabilities and entropies sum over them."""

    arg_constraints: dict = {}

    def __init__(self, base_distribution: Distribution, reinterpreted_batch_ndims: int,
                 validate_args: bool | None = None) -> None:
        n = reinterpreted_batch_ndims
        if n > len(base_distribution.batch_shape):
            raise ValueError(f"Expected reinterpreted_batch_ndims <= "
                             f"len(base_distribution.batch_shape), actual {n} vs "
                             f"{len(base_distribution.batch_shape)}")
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        event_dim = n + len(base_distribution.event_shape)
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = n
        super().__init__(shape[:len(shape) - event_dim], shape[len(shape) - event_dim:],
                         validate_args=validate_args)

    @property
    def has_rsample(self) -> bool:   # type: ignore[override]
        return self.base_dist.has_rsample

    @property
    def has_enumerate_support(self) -> bool:   # type: ignore[override]
        return False if self.reinterpreted_batch_ndims > 0 else \
            self.base_dist.has_enumerate_support

    @property
    def support(self) -> constraints.Constraint:   # type: ignore[override]
        base = self.base_dist.support
        n = self.reinterpreted_batch_ndims
        return constraints.independent(base, n) if n else base

    @property
    def mean(self) -> Tensor:
        return self.base_dist.mean

    @property
    def mode(self) -> Tensor:
        return self.base_dist.mode

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def _sum_rightmost(self, t: Tensor) -> Tensor:
        return sum_rightmost(t, self.reinterpreted_batch_ndims)

    def log_prob(self, value: Any) -> Tensor:
        return self._sum_rightmost(self.base_dist.log_prob(value))

    def entropy(self) -> Tensor:
        return self._sum_rightmost(self.base_dist.entropy())

    def __repr__(self) -> str:
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
