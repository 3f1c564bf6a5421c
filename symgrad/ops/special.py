"""Elementwise functions beyond the core set: special functions (lgamma, digamma, polygamma,
erfinv, sinc, xlogy, the modified Bessel functions i0 / i1 / i0e / i1e, the regularized
incomplete gamma functions igamma / igammac), base-2 and angle
conversions, sgn, and the nan-skipping fmax / fmin.

Each record reads as the ones in ``elementwise``: forward, one rule per argument, the
textbook SymPy mirror for one entry, the domain and any kinks. The numeric special
functions live in ``_special_np`` and reach rules as ``xp.lgamma``, ``xp.polygamma`` and
``xp.erfinv``, so that rules run at high precision and symbolically too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgrad import _dtype
from symgrad.ops import _special_np
from symgrad.ops._apply import apply
from symgrad.ops._record import NONZERO, POSITIVE, REAL, Domain, Kink, register
from symgrad.ops._util import (check_kernel, lazy_head, not_tensor, sp, tensor_input,
                               tensor_pair)
from symgrad.ops.elementwise import SIGN, _binary, _c, _float_input, _floating, _pi
from symgrad.tensor import Tensor, as_tensor

__all__ = ["xlogy", "sinc", "heaviside", "fmax", "fmin", "logaddexp2", "deg2rad", "rad2deg",
           "sgn", "lgamma", "digamma", "polygamma", "erfinv", "float_power", "i0", "igamma",
           "igammac"]

#: Every function here is a Tensor method too (``t.polygamma(n)`` passes the tensor first).
NOT_METHODS: tuple[str, ...] = ()

def _both_floating(x: Any, y: Any) -> tuple[Any, Any]:
    """Two integral operands as the default float dtype (PyTorch: ``xlogy(int, int)`` is
    float); otherwise the promotion of the op decides."""
    kinds = [v._data.dtype.kind if isinstance(v, Tensor) else
             ("f" if isinstance(v, float) else "i") for v in (x, y)]
    if all(k in "biu" for k in kinds):
        return _floating(as_tensor(x)), _floating(as_tensor(y))
    return x, y


# ================================================================ xlogy
def _xlogy(xp, x, y) -> Any:
    """``x * log(y)``, and 0 where x is 0 (unless y is nan), as PyTorch."""
    return xp.where(xp.equal(x, 0), xp.where(xp.equal(y, y), 0, y), x * xp.log(y))


XLOGY = register(
    "xlogy", "XlogyBackward0",
    forward=_xlogy,
    # PyTorch 2.13: d/dx = xlogy(g, y), set to 0 where x == 0 and y <= 0 (so log(y) at
    # x == 0 for y > 0, the one-sided derivative); d/dy = x / y
    vjp=(lambda xp, g, ans, x, y: xp.where(
        xp.logical_and(xp.equal(x, 0), xp.less_equal(y, 0)), 0, _xlogy(xp, g, y)),
         lambda xp, g, ans, x, y: g * x / y),
    mirror=lambda x, y: sp.Piecewise((0, sp.Eq(x, 0)), (x * lazy_head(sp.log, y), True)),
    kind="elementwise", elementwise=True, promote=True, domain=(NONZERO, POSITIVE),
    kinks=Kink(lambda x, y: np.equal(x, 0),
               "xlogy(0, y) = 0 for every y: at x == 0 the rules give d/dx = log(y) (0 "
               "where y <= 0) and d/dy = 0 / y, as PyTorch"),
)
XLOGY_SCALAR_SELF = XLOGY.variant("XlogyBackward1")     # xlogy(number, tensor)
XLOGY_SCALAR_OTHER = XLOGY.variant("XlogyBackward2")    # xlogy(tensor, number)


def xlogy(input, other) -> Tensor:
    """``input * log(other)``, with 0 where ``input`` is 0 (nan if ``other`` is nan)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise not_tensor("xlogy", other, "other", 2)   # (a number may be one of them)
    input, other = _both_floating(input, other)
    if not isinstance(input, Tensor):
        return _binary(XLOGY_SCALAR_SELF, float(input), other)
    if not isinstance(other, Tensor):
        # the number in the tensor's float type: log(number) must not widen float32 results
        kind = input._data.dtype
        return _binary(XLOGY_SCALAR_OTHER, input,
                       kind.type(other) if kind.kind == "f" else float(other))
    return _binary(XLOGY, input, other)


# ================================================================ sinc
def _sinc(xp, x) -> Any:
    """``sin(pi x) / (pi x)``, 1 at 0 (numpy's sinc, written in the rule vocabulary)."""
    zero = xp.equal(x, 0)
    px = _pi(xp) * xp.where(zero, 1, x)
    return xp.where(zero, 1, xp.sin(px) / px)


SINC = register(
    "sinc", "SincBackward0",
    forward=_sinc,
    # (cos(pi x) - sinc(x)) / x, and sinc'(0) = 0 (the limit, as PyTorch)
    vjp=lambda xp, g, ans, x: g * xp.where(
        xp.equal(x, 0), 0, (xp.cos(_pi(xp) * x) - ans) / xp.where(xp.equal(x, 0), 1, x)),
    mirror=lambda x: sp.Piecewise((1, sp.Eq(x, 0)),
                                  (lazy_head(sp.sin, sp.pi * x) / (sp.pi * x), True)),
    kind="elementwise", elementwise=True, domain=(NONZERO,),
)


def sinc(input) -> Tensor:
    """The normalised sinc, ``sin(pi x) / (pi x)`` (1 at 0)."""
    return apply(SINC, _float_input(input))


# ================================================================ heaviside (no derivative)
HEAVISIDE = register(
    "heaviside", "HeavisideBackward0",
    forward=lambda xp, x, values: xp.where(
        xp.equal(x, 0), values, xp.astype(xp.greater(x, 0), x.dtype)),
    vjp=(None, None),
    mirror=lambda x, values: sp.Piecewise((values, sp.Eq(x, 0)), (1, x > 0), (0, True)),
    kind="comparison", elementwise=True,
    doc="a step: PyTorch defines no derivative (its backward raises)",
)


def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """The step function: 0 below 0, 1 above, ``values`` at 0 (nan counts as below).

    Not differentiable: the result never requires grad. (PyTorch's does, and its backward
    raises "derivative for aten::heaviside is not implemented".)"""
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside(): argument 'values' (position 2) must be Tensor, not "
                        f"{type(values).__name__}")
    x = as_tensor(input)
    if x._data.dtype != values._data.dtype and object not in (x._data.dtype,
                                                               values._data.dtype):
        raise RuntimeError("heaviside is not yet implemented for tensors with different "
                           "dtypes.")
    return _binary(HEAVISIDE, x, values)


# ================================================================ fmax, fmin
def _fmax_keeps_x(xp, x, y) -> Any:
    """Where ``fmax`` is ``x``: x >= y (ties included), or y is nan."""
    return xp.logical_or(xp.greater_equal(x, y), xp.not_equal(y, y))


def _fmin_keeps_x(xp, x, y) -> Any:
    return xp.logical_or(xp.less_equal(x, y), xp.not_equal(y, y))


_TIE_TO_INPUT = ("a tie x == y gives the whole gradient to input (x), and a nan operand "
                 "gives it to the other one, as PyTorch")

FMAX = register(
    "fmax", "FmaxBackward0",
    forward=lambda xp, x, y: xp.where(_fmax_keeps_x(xp, x, y), x, y),
    vjp=(lambda xp, g, ans, x, y: xp.where(_fmax_keeps_x(xp, x, y), g, 0),
         lambda xp, g, ans, x, y: xp.where(_fmax_keeps_x(xp, x, y), 0, g)),
    # written so that its derivative at a tie is PyTorch's (all to x)
    mirror=lambda x, y: sp.Piecewise((x, x >= y), (y, True)),
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, REAL),
    examples=((((), ()), {}), (((2, 1), (3,)), {})),
    kinks=Kink(lambda x, y: np.equal(x, y), _TIE_TO_INPUT),
)

FMIN = register(
    "fmin", "FminBackward0",
    forward=lambda xp, x, y: xp.where(_fmin_keeps_x(xp, x, y), x, y),
    vjp=(lambda xp, g, ans, x, y: xp.where(_fmin_keeps_x(xp, x, y), g, 0),
         lambda xp, g, ans, x, y: xp.where(_fmin_keeps_x(xp, x, y), 0, g)),
    mirror=lambda x, y: sp.Piecewise((x, x <= y), (y, True)),
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, REAL),
    examples=((((), ()), {}), (((2, 1), (3,)), {})),
    kinks=Kink(lambda x, y: np.equal(x, y), _TIE_TO_INPUT),
)


def fmax(input, other) -> Tensor:
    """Entrywise maximum that skips nan (nan only where both are nan), broadcasting."""
    return _binary(FMAX, *tensor_pair(input, other))


def fmin(input, other) -> Tensor:
    """Entrywise minimum that skips nan (nan only where both are nan), broadcasting."""
    return _binary(FMIN, *tensor_pair(input, other))


# ================================================================ base 2 and angles
def _ln2(xp) -> Any:
    return _c(xp.log(2))


def _logaddexp2(xp, x, y) -> Any:
    if xp.name == "numpy":
        return np.logaddexp2(x, y)   # shifted by the larger argument: no overflow
    return xp.logaddexp(x * _ln2(xp), y * _ln2(xp)) / _ln2(xp)


LOGADDEXP2 = register(
    "logaddexp2", "Logaddexp2Backward0",
    forward=_logaddexp2,
    # 2^x / (2^x + 2^y), as a sigmoid: finite at infinite arguments, as logaddexp's rules
    vjp=(lambda xp, g, ans, x, y: g * xp.sigmoid((x - y) * _ln2(xp)),
         lambda xp, g, ans, x, y: g * xp.sigmoid((y - x) * _ln2(xp))),
    mirror=lambda x, y: lazy_head(sp.log, 2 ** x + 2 ** y) / sp.log(2),
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, REAL),
    # SymPy proves these at once; with broadcasting (sums of two rule entries) its simplify
    # times out on powers of 2. The broadcast shapes are tested numerically (tests/test_ops).
    examples=((((3,), (3,)), {}), (((), ()), {})),
)


def logaddexp2(input, other) -> Tensor:
    """``log2(2**input + 2**other)``, without overflow; floating point only."""
    tensor_pair(input, other)
    kinds = [v._data.dtype.kind if isinstance(v, Tensor) else
             ("f" if isinstance(v, float) else "i") for v in (input, other)]
    if all(k in "biu" for k in kinds):
        arrays = [v._data if isinstance(v, Tensor) else np.asarray(v) for v in (input, other)]
        check_kernel("logaddexp2_cpu", _dtype.result_type(*arrays))
    return _binary(LOGADDEXP2, input, other)


DEG2RAD = register(
    "deg2rad", "Deg2RadBackward0",
    forward=lambda xp, x: x * _c(_pi(xp) / 180),
    vjp=lambda xp, g, ans, x: g * _c(_pi(xp) / 180),
    mirror=lambda x: x * sp.pi / 180,
    kind="elementwise", elementwise=True, domain=(REAL,),
)

RAD2DEG = register(
    "rad2deg", "Rad2DegBackward0",
    forward=lambda xp, x: x * _c(180 / _pi(xp)),
    vjp=lambda xp, g, ans, x: g * _c(180 / _pi(xp)),
    mirror=lambda x: x * 180 / sp.pi,
    kind="elementwise", elementwise=True, domain=(REAL,),
)


def _angle_input(input, name: str) -> Tensor:
    # bool and integer tensors become the default float dtype (PyTorch: deg2rad(bool) works)
    if not isinstance(input, Tensor):
        raise not_tensor(name.removeprefix("torch."), input)
    return _floating(input)


def deg2rad(input) -> Tensor:
    """Degrees to radians, ``input * pi / 180`` (integers become floats)."""
    return apply(DEG2RAD, _angle_input(input, "torch.deg2rad"))


def rad2deg(input) -> Tensor:
    """Radians to degrees, ``input * 180 / pi`` (integers become floats)."""
    return apply(RAD2DEG, _angle_input(input, "torch.rad2deg"))


SGN = SIGN.variant("SgnBackward0")


def sgn(input) -> Tensor:
    """``input / |input|`` extended by 0 at 0: for real tensors, ``sign`` (recorded as
    PyTorch records sgn); its derivative is 0."""
    x = tensor_input(input)
    if x._data.dtype.kind == "b":
        return Tensor._wrap(x._data.copy())
    return apply(SGN, x)


# ================================================================ gamma family, erfinv
def _poles(x) -> Any:
    """Where Gamma has its poles: 0 and the negative integers."""
    return np.less_equal(x, 0) & np.equal(np.floor(x), x)


# The proofs run on the positive axis (between the poles SymPy cannot decide the sign of
# Gamma and sampling there costs minutes); the tests compare negative arguments with PyTorch.
_GAMMA_DOMAIN = Domain(((0.0, math.inf),), typical=(0.1, 6.0))

def _lgamma_mirror(x) -> Any:
    """log|Gamma(x)|, which is +inf at the poles 0, -1, -2, ... (Gamma's limit in absolute
    value there)."""
    pole = sp.And(x <= 0, sp.Eq(x, sp.floor(x)))
    return sp.Piecewise((sp.oo, pole), (lazy_head(sp.log, sp.Abs(sp.gamma(x))), True))


LGAMMA = register(
    "lgamma", "LgammaBackward0",
    forward=lambda xp, x: xp.lgamma(x),
    vjp=lambda xp, g, ans, x: g * xp.polygamma(0, x),
    mirror=lambda x: _lgamma_mirror(x),
    kind="elementwise", elementwise=True, domain=(_GAMMA_DOMAIN,),
    kinks=Kink(_poles, "poles at 0, -1, -2, ...: lgamma = inf, the rule gives digamma "
               "there (-inf at +0, nan at the negative integers), as PyTorch"),
)

DIGAMMA = register(
    "digamma", "DigammaBackward0",
    forward=lambda xp, x: xp.polygamma(0, x),
    vjp=lambda xp, g, ans, x: g * xp.polygamma(1, x),
    mirror=lambda x: sp.polygamma(0, x),
    kind="elementwise", elementwise=True, domain=(_GAMMA_DOMAIN,),
    kinks=Kink(_poles, "poles at 0, -1, -2, ...: digamma(+-0) = -+inf, nan at the negative "
               "integers; the rule gives trigamma there (+inf)"),
)

POLYGAMMA = register(
    "polygamma", "PolygammaBackward0",
    forward=lambda xp, x, *, n: xp.polygamma(n, x),
    vjp=lambda xp, g, ans, x, *, n: g * xp.polygamma(n + 1, x),
    mirror=lambda x, *, n: sp.polygamma(n, x),
    kind="elementwise", elementwise=True, domain=(_GAMMA_DOMAIN,),
    params={"n": (0, 1, 3)},
    kinks=Kink(lambda x, *, n: _poles(x), "poles at 0, -1, -2, ...: (-1)^(n+1) inf for "
               "n >= 1 (nan / -+inf for n = 0), the rule gives the next order there"),
)

ERFINV = register(
    "erfinv", "ErfinvBackward0",
    forward=lambda xp, x: xp.erfinv(x),
    # 1 / erf'(erfinv(y)) = sqrt(pi) / 2 * exp(erfinv(y)^2)
    vjp=lambda xp, g, ans, x: g * _c(xp.sqrt(_pi(xp))) / 2 * xp.exp(ans * ans),
    mirror=lambda x: sp.erfinv(x),
    kind="elementwise", elementwise=True,
    domain=(Domain(((-1.0, 1.0),), typical=(-0.95, 0.95)),),
    kinks=Kink(lambda x: np.equal(np.abs(x), 1), "erfinv'(+-1) = inf (the ends of the "
               "domain), as PyTorch"),
)


def _special_input(input, kernel: str) -> Tensor:
    # bool and integer tensors become the default float dtype, as PyTorch (lgamma(bool) works)
    if not isinstance(input, Tensor):
        raise not_tensor(kernel.split("_")[0], input)
    return _floating(input)


def lgamma(input) -> Tensor:
    """``log|Gamma(input)|`` (+inf at the poles 0, -1, -2, ...)."""
    return apply(LGAMMA, _special_input(input, "lgamma_vml_cpu"))


def digamma(input) -> Tensor:
    """``d/dx log Gamma(x)``; -inf at +0, nan at the negative integers, as PyTorch."""
    return apply(DIGAMMA, _special_input(input, "digamma"))


def polygamma(n: int, input) -> Tensor:
    """The n-th derivative of digamma (``n = 0``: digamma itself). The method
    ``t.polygamma(n)`` calls this with the tensor first; the types tell the two apart."""
    if isinstance(n, Tensor) and not isinstance(input, Tensor):
        n, input = input, n
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return apply(POLYGAMMA, _special_input(input, "polygamma"), n=int(n))


def erfinv(input) -> Tensor:
    """The inverse error function on [-1, 1] (+-inf at +-1, nan outside)."""
    return apply(ERFINV, _special_input(input, "erfinv_cpu"))


# ================================================================ float_power
def float_power(input, exponent) -> Tensor:
    """``input ** exponent`` computed in float64 (both converted first, as PyTorch)."""
    from symgrad.ops.elementwise import pow as _pow

    def f64(v):
        if isinstance(v, Tensor):
            return v if v._data.dtype in (np.float64, object) else v.to(_dtype.float64)
        if isinstance(v, (bool, int, float, np.number)):
            return float(v)
        raise TypeError(f"float_power(): expected a Tensor or a number, got "
                        f"{type(v).__name__}")

    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError("float_power(): at least one argument must be a Tensor")
    return _pow(f64(input), f64(exponent))


# ================================================================ modified Bessel functions
def _sgn_x(xp, x) -> Any:
    return xp.where(xp.greater(x, 0), 1, xp.where(xp.less(x, 0), -1, 0))


def _over_x(xp, v, x) -> Any:
    """``v / x``, with 1/2 at 0 (the limit of i1(x) / x and of i1e(x) / x)."""
    zero = xp.equal(x, 0)
    return xp.where(zero, 0.5, v / xp.where(zero, 1, x))


I0 = register(
    "i0", "I0Backward0",
    forward=lambda xp, x: xp.i0(x),
    vjp=lambda xp, g, ans, x: g * xp.i1(x),
    mirror=lambda x: sp.besseli(0, x),
    kind="elementwise", elementwise=True, domain=(REAL,),
)
I1 = register(
    "i1", "SpecialI1Backward0",
    forward=lambda xp, x: xp.i1(x),
    # i1' = i0 - i1 / x, and 1/2 at 0
    vjp=lambda xp, g, ans, x: g * (xp.i0(x) - _over_x(xp, ans, x)),
    mirror=lambda x: sp.besseli(1, x),
    kind="elementwise", elementwise=True, domain=(NONZERO,),
)
I0E = register(
    "i0e", "SpecialI0EBackward0",
    forward=lambda xp, x: xp.i0e(x),
    # (exp(-|x|) i0)' = exp(-|x|) (i1 - sgn(x) i0)
    vjp=lambda xp, g, ans, x: g * (xp.i1e(x) - _sgn_x(xp, x) * ans),
    mirror=lambda x: sp.besseli(0, x) * sp.exp(-sp.Abs(x)),
    kind="elementwise", elementwise=True, domain=(NONZERO,),
    kinks=Kink(lambda x: np.equal(x, 0), "i0e has a corner at 0 (one-sided slopes -1 and +1); "
               "the rule gives i1e(0) - sgn(0) i0e(0) = 0 there, as PyTorch"),
)
I1E = register(
    "i1e", "SpecialI1EBackward0",
    forward=lambda xp, x: xp.i1e(x),
    # exp(-|x|) (i0 - i1 / x) - sgn(x) i1e, and 1/2 at 0
    vjp=lambda xp, g, ans, x: g * (xp.i0e(x) - _over_x(xp, ans, x) - _sgn_x(xp, x) * ans),
    mirror=lambda x: sp.besseli(1, x) * sp.exp(-sp.Abs(x)),
    kind="elementwise", elementwise=True, domain=(NONZERO,),
)


def bessel(record, input) -> Tensor:
    """One of the Bessel records on ``input`` (integers read as the default float)."""
    return apply(record, _floating(as_tensor(input)))


def i0(input) -> Tensor:
    """The modified Bessel function of the first kind of order 0."""
    return bessel(I0, tensor_input(input))


# ================================================================ regularized incomplete gamma
def _incomplete_gamma(upper: bool):
    def forward(xp, a, x):
        if xp.name == "numpy":
            return _special_np.gammainc(a, x, upper)
        if xp.name == "sympy":
            return _igamma_mirror(upper)(a, x)
        import mpmath

        def one(av, xv):
            return mpmath.gammainc(av, xv, mpmath.inf, regularized=True) if upper else \
                mpmath.gammainc(av, 0, xv, regularized=True)
        return np.frompyfunc(one, 2, 1)(a, x)
    return forward


def _igamma_mirror(upper: bool):
    def mirror(a, x):
        part = sp.uppergamma(a, x) if upper else sp.lowergamma(a, x)
        return part / sp.gamma(a)
    return mirror


def _density(xp, a, x):
    """x^(a-1) exp(-x) / Gamma(a): the derivative of P(a, x) in x."""
    return xp.exp((a - 1) * xp.log(x) - x - xp.lgamma(a))


_GAMMA_ARGS = (Domain(((0.0, math.inf),), (0.5, 6.0)), POSITIVE)
IGAMMA = register(
    "igamma", "IgammaBackward0",
    forward=_incomplete_gamma(False),
    # no rule in a (PyTorch has none either); d/dx P = x^(a-1) e^-x / Gamma(a)
    vjp=(None, lambda xp, g, ans, a, x: g * _density(xp, a, x)),
    mirror=_igamma_mirror(False),
    kind="elementwise", elementwise=True, promote=True, domain=_GAMMA_ARGS,
)
IGAMMAC = register(
    "igammac", "IgammacBackward0",
    forward=_incomplete_gamma(True),
    vjp=(None, lambda xp, g, ans, a, x: -g * _density(xp, a, x)),
    mirror=_igamma_mirror(True),
    kind="elementwise", elementwise=True, promote=True, domain=_GAMMA_ARGS,
)


def _gamma_call(op, name: str, input, other) -> Tensor:
    for pos, v in ((1, input), (2, other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument '{'input' if pos == 1 else 'other'}' "
                            f"(position {pos}) must be Tensor, not {type(v).__name__}")
    check_kernel(f"{name}_cpu", _dtype.result_type(input._data, other._data))
    a, x = _both_floating(input, other)   # int with float32 is float32, as PyTorch
    return _binary(op, a, x)


def igamma(input: Tensor, other: Tensor) -> Tensor:
    """The regularized lower incomplete gamma function P(input, other); differentiable in
    ``other`` only (as PyTorch)."""
    return _gamma_call(IGAMMA, "igamma", input, other)


def igammac(input: Tensor, other: Tensor) -> Tensor:
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P."""
    return _gamma_call(IGAMMAC, "igammac", input, other)
