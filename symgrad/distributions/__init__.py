"""``symgrad.distributions``: the common distributions of ``torch.distributions`` (Normal,
Uniform, Bernoulli, Categorical, Exponential), with ``log_prob``, ``entropy``, ``sample`` /
``rsample`` and ``kl_divergence``, built from symgrad's ops so their gradients (the
reparameterised samples, the log-likelihoods) are recorded and verifiable."""

from symgrad.distributions.distributions import (Bernoulli, Categorical, Distribution,
                                                 Exponential, Normal, Uniform, kl_divergence)

__all__ = ["Distribution", "Normal", "Uniform", "Bernoulli", "Categorical", "Exponential",
           "kl_divergence"]
