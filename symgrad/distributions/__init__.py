"""``symgrad.distributions``: the distributions of ``torch.distributions`` most used, with
PyTorch's shapes (``batch_shape``, ``event_shape``, ``sample_shape``), argument and sample
validation, ``log_prob`` / ``cdf`` / ``icdf`` / ``entropy`` / moments, ``rsample`` where the
sample is a differentiable function of the parameters, and ``kl_divergence``.

Everything is built from symgrad's ops, so the gradients of log-likelihoods, entropies,
KL divergences and reparameterised samples are recorded and can be verified exactly.
Gamma, Chi2, InverseGamma, Beta, Dirichlet and StudentT sample without gradient
(``has_rsample = False``; PyTorch differentiates its gamma sampler).

>>> import symgrad as sg
>>> from symgrad.distributions import Normal, kl_divergence
>>> loc = sg.tensor([0.0, 1.0], requires_grad=True)
>>> d = Normal(loc, 2.0)
>>> d.batch_shape, d.sample((5,)).shape
(symgrad.Size([2]), symgrad.Size([5, 2]))
>>> d.log_prob(sg.tensor([0.5, 0.5])).sum().backward()
>>> loc.grad
tensor([ 0.1250, -0.1250])
>>> kl_divergence(d, Normal(0.0, 1.0))
tensor([0.8069, 1.3069], grad_fn=<MulBackward0>)
>>> Normal(0.0, -1.0)  # doctest: +ELLIPSIS
Traceback (most recent call last):
ValueError: Expected parameter scale ... GreaterThan(lower_bound=0.0), but found invalid values:
-1.0
"""

from symgrad.distributions import constraints, transforms
from symgrad.distributions.constraint_registry import biject_to, transform_to
from symgrad.distributions.continuous import (Cauchy, Chi2, Exponential, Gamma, Gumbel,
                                              HalfCauchy, HalfNormal, Laplace, LogNormal,
                                              Normal, StudentT, Uniform, VonMises)
from symgrad.distributions.discrete import (Bernoulli, Binomial, Categorical, Geometric,
                                            Multinomial, NegativeBinomial, OneHotCategorical,
                                            Poisson)
from symgrad.distributions.distribution import Distribution
from symgrad.distributions.kl import kl_divergence, register_kl
from symgrad.distributions.mixture import MixtureSameFamily
from symgrad.distributions.multivariate import (Beta, Dirichlet, Independent,
                                                LowRankMultivariateNormal, MultivariateNormal)
from symgrad.distributions.relaxed import (ContinuousBernoulli, RelaxedBernoulli,
                                           RelaxedOneHotCategorical)
from symgrad.distributions.transformed import (InverseGamma, Kumaraswamy, Pareto,
                                               TransformedDistribution, Weibull)
from symgrad.distributions.transforms import (AffineTransform, ComposeTransform, ExpTransform,
                                              IndependentTransform, PowerTransform,
                                              SigmoidTransform, SoftmaxTransform,
                                              StickBreakingTransform, TanhTransform, Transform)

__all__ = ["Distribution", "constraints", "Normal", "HalfNormal", "HalfCauchy", "Uniform",
           "Exponential", "Laplace", "LogNormal", "Gamma", "Chi2", "Cauchy", "Gumbel",
           "StudentT", "Beta", "Dirichlet", "MultivariateNormal", "Independent",
           "MixtureSameFamily", "Bernoulli", "Binomial", "NegativeBinomial", "Categorical",
           "Geometric", "OneHotCategorical", "Multinomial", "Poisson", "kl_divergence",
           "register_kl", "TransformedDistribution", "transforms", "Transform",
           "ComposeTransform", "ExpTransform", "AffineTransform", "SigmoidTransform",
           "TanhTransform", "PowerTransform", "RelaxedBernoulli",
           "RelaxedOneHotCategorical", "Weibull", "Pareto",
           "LowRankMultivariateNormal", "InverseGamma", "Kumaraswamy", "ContinuousBernoulli",
           "VonMises",
           "biject_to", "transform_to", "IndependentTransform", "SoftmaxTransform",
           "StickBreakingTransform"]
