"""Random sampling beyond randn / rand / randint: randperm, randint_like, normal, bernoulli,
multinomial, poisson, binomial.

All draw from symgrad's one generator (``manual_seed`` resets it), so a seeded script is
reproducible; the numbers differ from PyTorch's. Samples carry no gradient: PyTorch
records a node whose gradient is 0 (``NormalBackward``, ``BernoulliBackward0``), symgrad
records none.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgrad import _dtype
from symgrad.factories import _finish, _float_dtype, _rng, _shape, randint
from symgrad.ops._util import type_name
from symgrad.tensor import Tensor, as_tensor

__all__ = ["randperm", "randint_like", "normal", "bernoulli", "multinomial", "poisson",
           "binomial"]


def randperm(n: int, *, generator=None, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of 0, ..., n - 1 (int64 unless ``dtype`` says otherwise)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"randperm(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    np_dtype = _dtype.to_np(dtype) or np.dtype(np.int64)
    return _finish(_rng(generator).permutation(n).astype(np_dtype), requires_grad)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, dtype=None,
                 device=None, requires_grad: bool = False) -> Tensor:
    """Integers uniform in [low, high) in ``input``'s shape and dtype; ``randint_like(x,
    high)`` means low = 0."""
    if high is None:
        low, high = 0, low
    dt = dtype if dtype is not None else as_tensor(input).dtype
    return randint(low, high, tuple(as_tensor(input).shape), dtype=dt,
                   requires_grad=requires_grad)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float, np.number)) and not isinstance(v, bool)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples with the given ``mean`` and ``std`` (tensors broadcast; two numbers
    need ``size``)."""
    if _number(mean) and _number(std):
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: two "
                            "numbers need a size (normal(mean, std, size))")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        shape = _shape((size,))
        arr = mean + std * _rng(generator).standard_normal(shape)
        return _finish(arr.astype(_float_dtype(dtype), copy=False), requires_grad)
    if size is not None:
        raise TypeError("normal(): size is only taken with a number mean and std")
    m = mean._data if isinstance(mean, Tensor) else np.asarray(mean, dtype=np.float64)
    s = std._data if isinstance(std, Tensor) else np.asarray(std, dtype=np.float64)
    for v in (m, s):
        if v.dtype.kind != "f":
            raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for "
                                      f"'{type_name(v.dtype)}'")
    if (s < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    shape = np.broadcast_shapes(m.shape, s.shape)
    dt = m.dtype if isinstance(mean, Tensor) else s.dtype
    return Tensor._wrap((m + s * _rng(generator).standard_normal(shape)).astype(dt, copy=False))


def bernoulli(input, p: float | None = None, *, generator=None) -> Tensor:
    """1 with probability ``input`` (or ``p`` for every entry), else 0; in input's dtype."""
    x = as_tensor(input)
    probs = x._data if p is None else np.full(x._data.shape, float(p))
    if probs.dtype.kind != "f" and p is None:
        raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for "
                                  f"'{type_name(x)}'")
    if not ((probs >= 0) & (probs <= 1)).all():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    draws = _rng(generator).random(x._data.shape) < probs
    return Tensor._wrap(draws.astype(x._data.dtype))


def multinomial(input, num_samples: int, replacement: bool = False, *,
                generator=None) -> Tensor:
    """``num_samples`` category indices per row of the (unnormalised) weights ``input``
    (1-d or 2-d); without ``replacement`` each category at most once, zero-weight ones
    only after all the others."""
    x = as_tensor(input)
    w = x._data
    if w.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{type_name(x)}")
    if w.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > w.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if not np.isfinite(w).all() or (w < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = np.atleast_2d(w).astype(np.float64)
    totals = rows.sum(axis=-1, keepdims=True)
    if (totals <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if replacement:
        cdf = np.cumsum(rows / totals, axis=-1)
        u = _rng(generator).random((rows.shape[0], num_samples))
        out = np.stack([np.searchsorted(c, r, side="right") for c, r in zip(cdf, u)])
        out = np.minimum(out, rows.shape[-1] - 1)
    else:
        # exponential race: category i finishes at E_i / w_i; the first ones to finish are a
        # sample without replacement (zero weights finish last, at inf)
        with np.errstate(divide="ignore"):
            finish = _rng(generator).exponential(size=rows.shape) / rows
        out = np.argsort(finish, axis=-1, kind="stable")[:, :num_samples]
    out = out.astype(np.int64)
    return Tensor._wrap(out if w.ndim == 2 else out[0])


def poisson(input: Tensor, generator=None) -> Tensor:
    """Poisson samples with the rates in ``input`` (same shape and dtype)."""
    x = as_tensor(input)
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{type_name(x)}'")
    if np.any(x._data < 0):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return Tensor._wrap(np.asarray(_rng(generator).poisson(x._data)).astype(x._data.dtype))


def binomial(count: Tensor, prob: Tensor, generator=None) -> Tensor:
    """Binomial samples: successes in ``count`` trials of probability ``prob`` (broadcast;
    ``count``'s dtype)."""
    n, p = as_tensor(count), as_tensor(prob)
    if n._data.dtype.kind != "f":
        raise NotImplementedError(f"\"binomial_cpu\" not implemented for '{type_name(n)}'")
    if np.any((p._data < 0) | (p._data > 1)):
        raise RuntimeError("binomial: prob must be in [0, 1]")
    draws = _rng(generator).binomial(n._data.astype(np.int64), p._data)
    return Tensor._wrap(np.asarray(draws).astype(n._data.dtype))
