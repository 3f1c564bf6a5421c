"""Special functions on numpy arrays: log-gamma, polygamma (digamma for n = 0), erfinv, and
the modified Bessel functions I0, I1 (plain and exponentially scaled), and the regularized
incomplete gamma functions P(a, x), Q(a, x).

numpy has none of them and symgrad depends on numpy and SymPy only, so they are computed
here, in float64, with the classical methods: the recurrence psi(x) = psi(x + 1) - 1/x up
to a large argument and the asymptotic (Euler-Maclaurin) series there; the reflection
formula for negative arguments; Newton steps on erf / erfc for erfinv; the power series of
I_nu up to |x| = 30 and its asymptotic expansion beyond; for P and Q the power series
below x = a + 1 and the continued fraction (Lentz) above. Values at the poles
follow PyTorch (see each function). A float32 input gives a float32 result.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cache

import numpy as np

__all__ = ["lgamma", "polygamma", "erfinv", "bessel_i", "gammainc"]


def _as_float(x) -> tuple[np.ndarray, np.dtype]:
    """``x`` as float64 and the dtype to give back (float32 stays float32)."""
    x = np.asarray(x)
    out = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    return x.astype(np.float64), out


# ---------------------------------------------------------------- log-gamma
def _lgamma1(v: float) -> float:
    try:
        return math.lgamma(v)
    except ValueError:   # a pole (0, -1, -2, ...): log|Gamma| is +inf there, as PyTorch
        return math.inf


_lgamma_each = np.frompyfunc(_lgamma1, 1, 1)


def lgamma(x) -> np.ndarray:
    """``log|Gamma(x)|`` (C's lgamma, as PyTorch; +inf at the poles)."""
    a, out = _as_float(x)
    return np.asarray(_lgamma_each(a), dtype=np.float64).astype(out)


# ---------------------------------------------------------------- polygamma
@cache
def _bernoulli(k: int) -> Fraction:
    """The Bernoulli number B_k (B_1 = -1/2), by the classical recurrence."""
    b = [Fraction(1)]
    for m in range(1, k + 1):
        b.append(-sum(math.comb(m + 1, j) * b[j] for j in range(m)) / (m + 1))
    return b[k]


_TERMS = 10   # asymptotic terms: the error is below 1e-17 at the shifted arguments


def _digamma_positive(x: np.ndarray) -> np.ndarray:
    """psi(x) for x > 0: shift up to x >= 10 by psi(x) = psi(x + 1) - 1/x, then
    psi(a) ~ log(a) - 1/(2a) - sum_j B_2j / (2j a^2j)."""
    shift = np.zeros_like(x)
    a = x.copy()
    low = a < 10
    while low.any():
        shift = np.where(low, shift + 1 / np.where(low, a, 1), shift)
        a = np.where(low, a + 1, a)
        low = a < 10
    inv2 = 1 / (a * a)
    series = np.zeros_like(a)
    for j in range(_TERMS, 0, -1):   # Horner in 1/a^2
        series = (series + float(_bernoulli(2 * j)) / (2 * j)) * inv2
    return np.log(a) - 0.5 / a - series - shift


def _zeta_positive(s: int, x: np.ndarray) -> np.ndarray:
    """Hurwitz zeta(s, x) = sum_k (x + k)^-s for x > 0, s >= 2: the first terms summed, the
    rest by Euler-Maclaurin at a >= 20 + s."""
    start = 20 + s
    total = np.zeros_like(x)
    a = x.copy()
    low = a < start
    while low.any():
        total = np.where(low, total + np.where(low, a, 1) ** -s, total)
        a = np.where(low, a + 1, a)
        low = a < start
    tail = a ** (1 - s) / (s - 1) + 0.5 * a ** -s
    rising = float(s)          # s (s + 1) ... (s + 2j - 2)
    power = a ** (-s - 1)      # a^(-s - 2j + 1)
    for j in range(1, _TERMS + 1):
        tail = tail + float(_bernoulli(2 * j) / math.factorial(2 * j)) * rising * power
        rising *= (s + 2 * j - 1) * (s + 2 * j)
        power = power / (a * a)
    return total + tail


@cache
def _cot_derivative(n: int) -> tuple[int, ...]:
    """Coefficients (constant first) of P_n with d^n/dt^n cot(t) = P_n(cot t):
    P_0 = c and P_{k+1} = -(1 + c^2) P_k'."""
    p = [0, 1]
    for _ in range(n):
        d = [k * p[k] for k in range(1, len(p))] or [0]
        nxt = [0] * (len(d) + 2)
        for k, c in enumerate(d):
            nxt[k] -= c
            nxt[k + 2] -= c
        p = nxt
    return tuple(p)


def _cot_pi(x: np.ndarray) -> np.ndarray:
    """cot(pi x), with x first reduced to [-1/2, 1/2] (exact) so large x keep accuracy."""
    r = x - np.round(x)
    return np.cos(np.pi * r) / np.sin(np.pi * r)


def _float(v: int | float) -> float:
    """A (possibly huge) Python number as a float: +-inf beyond float64's range."""
    try:
        return float(v)
    except OverflowError:   # n! beyond n = 170: inf, as PyTorch's polygamma gives there
        return math.inf if v > 0 else -math.inf


def _positive(n: int, x: np.ndarray) -> np.ndarray:
    if n == 0:
        return _digamma_positive(x)
    sign = 1.0 if n % 2 else -1.0
    return sign * _float(math.factorial(n)) * _zeta_positive(n + 1, x)


def polygamma(n: int, x) -> np.ndarray:
    """The n-th derivative of digamma: ``psi^(n)(x)`` (n = 0 is digamma itself).

    Negative x by the reflection formula ``psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi^(n+1)
    P_n(cot(pi x))``. At the poles, as PyTorch: digamma(+-0) = -+inf and nan at the
    negative integers; for n >= 1, (-1)^(n+1) inf at 0 and the negative integers."""
    a, out = _as_float(x)
    res = np.full(a.shape, np.nan)
    with np.errstate(all="ignore"):
        pos = a > 0
        if pos.any():
            res[pos] = _positive(n, a[pos])
        neg = (a < 0) & (a != np.floor(a)) & np.isfinite(a)
        if neg.any():
            v = a[neg]
            c = _cot_pi(v)
            poly = np.zeros_like(c)
            for coef in reversed(_cot_derivative(n)):
                poly = poly * c + _float(coef)
            res[neg] = (-1) ** n * _positive(n, 1 - v) - np.power(np.pi, n + 1.0) * poly
        pole = (a <= 0) & (a == np.floor(a))
        if n == 0:
            res[a == 0] = -1 / a[a == 0]                 # -inf at +0, +inf at -0
        else:
            res[pole] = math.inf if n % 2 else -math.inf
        res[a == math.inf] = math.inf if n == 0 else 0.0
    return res.astype(out)


# ---------------------------------------------------------------- erfinv
_erf = np.frompyfunc(math.erf, 1, 1)
_erfc = np.frompyfunc(math.erfc, 1, 1)


def _f64(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


def erfinv(y) -> np.ndarray:
    """The x with erf(x) = y, for -1 <= y <= 1 (+-inf at +-1, nan outside).

    A first guess (a series near 0, the tail's asymptotics beyond |y| = 1/2), then Halley
    steps on erf(x) = |y| where |y| <= 1/2 and on erfc(x) = 1 - |y| (exact for |y| >= 1/2)
    beyond, where erf(x) - y would cancel; they converge cubically, in 3 to 5 steps."""
    a, out = _as_float(y)
    s, t = np.sign(a), np.abs(a)
    x = np.full(a.shape, np.nan)
    with np.errstate(all="ignore"):
        for tail in (False, True):
            pick = (t > 0.5) & (t < 1) if tail else t <= 0.5
            if pick.any():
                x[pick] = _erfinv_part(t[pick], tail)
        x[t == 1] = math.inf
    return (s * x).astype(out)


def _erfinv_part(t: np.ndarray, tail: bool) -> np.ndarray:
    """erfinv(t) for 0 <= t <= 1/2 (``tail`` False) or 1/2 < t < 1 (``tail`` True)."""
    if tail:
        q = 1 - t                                   # exact here
        w = -np.log(q)
        x = np.sqrt(np.maximum(w - 0.5 * np.log(np.pi * np.maximum(w, 1)), 0.1))
    else:
        x = math.sqrt(math.pi) / 2 * t * (1 + math.pi / 12 * t * t)
    for _ in range(12):
        f = q - _f64(_erfc(x)) if tail else _f64(_erf(x)) - t
        step = f / (2 / math.sqrt(math.pi) * np.exp(-x * x))
        x = x - step / (1 + x * step)               # Halley's step (f'' = -2x f')
        if not (np.abs(step) > 1e-17 * np.abs(x)).any():
            break
    return x


# ---------------------------------------------------------------- modified Bessel I0, I1
_SERIES_LIMIT = 30.0


def _bessel_series(nu: int, a: np.ndarray) -> np.ndarray:
    """sum_k (a/2)^(2k+nu) / (k! (k+nu)!) for 0 <= a <= 30 (positive terms: no
    cancellation; 90 terms reach below 1e-17 of the sum)."""
    q = (a / 2) ** 2
    term = (a / 2) ** nu / math.factorial(nu)
    total = term.copy()
    for k in range(1, 90):
        term = term * q / (k * (k + nu))
        total += term
    return total


def _bessel_asymptotic_scaled(nu: int, a: np.ndarray) -> np.ndarray:
    """exp(-a) I_nu(a) ~ 1/sqrt(2 pi a) sum_k (-1)^k prod_j (4 nu^2 - (2j-1)^2) / (k! (8a)^k)
    for a > 30 (the terms shrink until k ~ 2a; 25 of them reach float64 precision)."""
    mu = 4 * nu * nu
    term = np.ones_like(a)
    total = term.copy()
    for k in range(1, 25):
        term = term * -(mu - (2 * k - 1) ** 2) / (k * 8 * a)
        total += term
    return total / np.sqrt(2 * np.pi * a)


def bessel_i(nu: int, x, scaled: bool = False) -> np.ndarray:
    """The modified Bessel function I_nu(x) for nu = 0 or 1; with ``scaled``,
    exp(-|x|) I_nu(x). I0 is even, I1 odd."""
    x, out_dtype = _as_float(x)
    a = np.abs(x)
    small = a <= _SERIES_LIMIT
    res = np.empty_like(a)
    with np.errstate(over="ignore", invalid="ignore"):
        if small.any():
            v = _bessel_series(nu, a[small])
            res[small] = v * np.exp(-a[small]) if scaled else v
        big = ~small
        if big.any():
            v = _bessel_asymptotic_scaled(nu, a[big])
            res[big] = v if scaled else v * np.exp(a[big])
    if nu % 2:
        res = np.where(x < 0, -res, res)
    res = np.where(np.isnan(x), np.nan, res)
    return res.astype(out_dtype)


# ---------------------------------------------------------------- regularized incomplete gamma
def _gamma_prefactor(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """x^a exp(-x) / Gamma(a)."""
    return np.exp(a * np.log(x) - x - lgamma(a))


def _gamma_series(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """P(a, x) = x^a e^-x / Gamma(a) sum_n x^n / (a (a+1) ... (a+n)), for x < a + 1."""
    term = 1.0 / a
    total = term.copy()
    for n in range(1, 400):
        term = term * x / (a + n)
        total += term
    return total * _gamma_prefactor(a, x)


def _gamma_fraction(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Q(a, x) by the continued fraction of Gamma(a, x) (modified Lentz), for x >= a + 1."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = np.full_like(x, 1.0 / tiny)
    d = 1.0 / b
    h = d.copy()
    for i in range(1, 400):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        h = h * (d * c)
    return h * _gamma_prefactor(a, x)


def gammainc(a, x, upper: bool = False) -> np.ndarray:
    """The regularized lower incomplete gamma P(a, x) (or Q = 1 - P with ``upper``), with
    PyTorch's values at the edges: P(0, x > 0) = 1, P(a, 0) = 0, nan for a < 0 or x < 0."""
    a, out_dtype = _as_float(a)
    x, _ = _as_float(x)
    a, x = np.broadcast_arrays(a, x)
    res = np.full(a.shape, np.nan)
    inside = (a > 0) & (x > 0) & np.isfinite(a) & np.isfinite(x)
    with np.errstate(all="ignore"):
        low = inside & (x < a + 1)
        high = inside & ~low
        if low.any():
            p = _gamma_series(a[low], x[low])
            res[low] = 1.0 - p if upper else p
        if high.any():
            q = _gamma_fraction(a[high], x[high])
            res[high] = q if upper else 1.0 - q
    edge_one = ((a == 0) & (x > 0)) | ((a > 0) & (x == np.inf))
    edge_zero = (a > 0) & (x == 0)
    res = np.where(edge_one, 0.0 if upper else 1.0, res)
    res = np.where(edge_zero, 1.0 if upper else 0.0, res)
    return res.astype(out_dtype)
