"""Functions of the number format: erfc, entr (torch.special's), fix, signbit, copysign,
ldexp, frexp, gcd, lcm, nextafter, isreal (and the real-only conj / resolve_conj /
resolve_neg / is_conj / is_neg).

``erfc`` is one record (as PyTorch's ErfcBackward0): ``1 - erf(x)`` would lose every digit
past x = 6. ``copysign`` and ``ldexp`` are compositions (``|x| * s`` with the constant sign
``s`` of the other argument; ``x * 2**e``), as PyTorch composes ldexp. The rest are
integer or bit-level functions without a derivative: their results carry no gradient.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgrad import _dtype
from symgrad.ops import elementwise as ew
from symgrad.ops import reduction as red
from symgrad.ops import shape as sh
from symgrad.ops import special as special_ops
from symgrad.ops._apply import apply
from symgrad.ops._record import NONZERO, POSITIVE, REAL, Kink, register
from symgrad.ops._util import (check_kernel, lazy_head, not_tensor, sp, tensor_input,
                               tensor_pair, type_name)
from symgrad.ops.reduction import _named_result, return_types
from symgrad.tensor import Tensor, as_tensor

__all__ = ["erfc", "fix", "signbit", "copysign", "ldexp", "frexp", "gcd", "lcm", "nextafter",
           "isreal", "conj", "resolve_conj", "resolve_neg", "is_conj", "is_neg", "real",
           "mvlgamma", "bitwise_left_shift", "bitwise_right_shift"]

NOT_METHODS = ("real",)

return_types.frexp = _named_result("frexp", ("mantissa", "exponent"))
_INF = math.inf


# ================================================================ erfc
ERFC = register(
    "erfc", "ErfcBackward0",
    forward=lambda xp, x: xp.erfc(x),
    vjp=lambda xp, g, ans, x: g * -2 * xp.exp(-x * x) / ew._c(xp.sqrt(ew._pi(xp))),
    mirror=lambda x: lazy_head(sp.erfc, x),
    kind="elementwise", elementwise=True, domain=(REAL,),
)


def erfc(input) -> Tensor:
    """The complementary error function ``1 - erf(x)``, accurate where erf is near 1."""
    return apply(ERFC, ew._float_input(input))


# ================================================================ entr (torch.special.entr)
ENTR = register(
    "entr", "SpecialEntrBackward0",
    forward=lambda xp, x: xp.where(
        xp.greater(x, 0), -x * xp.log(xp.where(xp.greater(x, 0), x, 1)),
        xp.where(xp.equal(x, 0), 0 * x, -_INF - 0 * x)),
    # -(1 + log x): +inf at 0, as PyTorch (the limit from the right)
    vjp=lambda xp, g, ans, x: g * -(1 + xp.log(x)),
    mirror=lambda x: sp.Piecewise((-x * lazy_head(sp.log, x), x > 0), (0, sp.Eq(x, 0)),
                                  (-sp.oo, True)),
    kind="elementwise", elementwise=True, domain=(POSITIVE,),
)


def entr(input) -> Tensor:
    """``-x * log(x)``: 0 at 0, -inf below 0 (``torch.special.entr``)."""
    return apply(ENTR, ew._float_input(input))


def fix(input) -> Tensor:
    """Another name for ``trunc``: round towards zero."""
    return ew.trunc(input)


# ================================================================ signs
def signbit(input) -> Tensor:
    """True where the sign bit is set (negative numbers, -0.0 and -nan)."""
    x = tensor_input(input)
    return Tensor._wrap(np.asarray(np.signbit(x._data)))


def _sign_of(other: Any, like: np.dtype) -> Any:
    """+-1 with ``other``'s sign bit: a number for a number, else a constant tensor."""
    if isinstance(other, Tensor):
        data = other._data
        dt = data.dtype if data.dtype.kind == "f" else like
        return Tensor._wrap(np.where(np.signbit(data), -1, 1).astype(dt))
    return -1.0 if math.copysign(1.0, float(other)) < 0 else 1.0


# |x| times other's sign, found by numpy as the constant ``sign`` (+-1 by the sign bit, so
# -0.0 counts as negative). As PyTorch's CopysignBackward0: input gets g * sign(x) * sign
# (0 at x = 0), other 0.
COPYSIGN = register(
    "copysign", "CopysignBackward0",
    forward=lambda xp, x, y, sign: xp.abs(x) * sign,
    vjp=(lambda xp, g, ans, x, y, sign: xp.where(xp.equal(x, 0), xp.zeros_like(g),
                                                 g * xp.sign(x) * sign),
         lambda xp, g, ans, x, y, sign: xp.zeros_like(g), None),
    mirror=lambda x, y, sign: sp.Abs(x) * sign,
    kind="elementwise", elementwise=True, promote=True, domain=(NONZERO, REAL, REAL),
    kinks=Kink(lambda x, y, sign: np.equal(x, 0), "|x| has a kink at 0: the rule gives "
               "input the gradient 0 there, as PyTorch"),
)
COPYSIGN_SCALAR = COPYSIGN.variant("CopysignBackward1")   # copysign(tensor, number)


def copysign(input, other) -> Tensor:
    """``|input|`` with the sign of ``other``; the gradient flows to ``input`` (0 where
    input is 0), and 0 to ``other``, as in PyTorch."""
    x = tensor_input(input)
    if x._data.dtype.kind == "b":   # (abs has no bool kernel; the result is floating anyway)
        x = Tensor._wrap(x._data.astype(np.int64))
    if x._data.dtype.kind in "biu":
        if not isinstance(other, Tensor) or other._data.dtype.kind in "biu":
            x = ew._floating(x)
    like = x._data.dtype if x._data.dtype.kind == "f" else _dtype.get_default_dtype().np
    op = COPYSIGN if isinstance(other, Tensor) else COPYSIGN_SCALAR
    return ew._apply_checked(op, x, other, _sign_of(other, like))


LDEXP = register(
    "ldexp", "LdexpBackward0",
    forward=lambda xp, x, e: x * 2 ** e,
    vjp=(lambda xp, g, ans, x, e: g * 2 ** e,
         lambda xp, g, ans, x, e: g * x * 2 ** e * ew._c(xp.log(2))),
    mirror=lambda x, e: x * 2 ** e,
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, REAL),
)


def ldexp(input, other) -> Tensor:
    """``input * 2**other``."""
    x, other = tensor_pair(input, other)
    dt = _dtype.result_type(x._data, other._data)   # PyTorch's promotion: f32 with i64 is f32
    if dt.kind != "f":
        dt = _dtype.get_default_dtype().np
    if other._data.dtype.kind in "biu":
        other = Tensor._wrap(other._data.astype(dt))
    if x._data.dtype.kind in "biu":
        x = sh.to_dtype(x, _dtype.from_numpy_dtype(dt))
    return ew._binary(LDEXP, x, other)


# The mantissa is input / 2**exponent, the power a constant found by numpy: PyTorch's
# FrexpBackward0 passes g / 2**exponent (the exponent has no gradient).
FREXP = register(
    "frexp", "FrexpBackward0",
    forward=lambda xp, x, power: x / power,
    vjp=(lambda xp, g, ans, x, power: g / power, None),
    mirror=lambda x, power: x / power,
    kind="elementwise", elementwise=True, domain=(REAL, POSITIVE),
)


def frexp(input):
    """``(mantissa, exponent)`` with ``input = mantissa * 2**exponent`` and
    ``0.5 <= |mantissa| < 1`` (exponent int32); the mantissa's gradient is
    ``g / 2**exponent``, as PyTorch's."""
    x = tensor_input(input)
    if x._data.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    _, e = np.frexp(x._data)
    m = apply(FREXP, x, Tensor._wrap(np.asarray(np.ldexp(np.ones((), x._data.dtype), e))))
    return return_types.frexp(m,
                              Tensor._wrap(np.asarray(e, dtype=np.int32)))


# ================================================================ integer functions
def _integers(name: str, input, other) -> tuple[np.ndarray, np.ndarray]:
    for pos, v in ((1, input), (2, other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument '{'input' if pos == 1 else 'other'}' "
                            f"(position {pos}) must be Tensor, not {type(v).__name__}")
    a, b = input._data, other._data
    for v in (a, b):
        check_kernel(f"{name}_cpu", v.dtype, "fO")
    check_kernel(f"{name}_cpu", _dtype.result_type(a, b), "b")
    return a, b


def gcd(input: Tensor, other: Tensor) -> Tensor:
    """The greatest common divisor, entry by entry (non-negative; gcd(0, 0) = 0)."""
    a, b = _integers("gcd", input, other)
    return Tensor._wrap(np.asarray(np.gcd(a, b), dtype=_dtype.result_type(a, b)))


def lcm(input: Tensor, other: Tensor) -> Tensor:
    """The least common multiple, entry by entry (non-negative)."""
    a, b = _integers("lcm", input, other)
    return Tensor._wrap(np.asarray(np.abs(np.lcm(a, b)), dtype=_dtype.result_type(a, b)))


# nextafter(x, y) = x + step, the step (one ulp, found by numpy) a constant, and numpy's
# value (a constant) where x == y or the step is not finite (x infinite or nan). As
# PyTorch's NextafterBackward0: the gradient is g for input (0 where x == y), 0 for other.
NEXTAFTER = register(
    "nextafter", "NextafterBackward0",
    forward=lambda xp, x, y, step, value: xp.where(xp.isfinite(step), x + step, value),
    vjp=(lambda xp, g, ans, x, y, step, value: xp.where(xp.equal(x, y), 0 * g, g),
         lambda xp, g, ans, x, y, step, value: xp.zeros_like(g), None, None),
    mirror=lambda x, y, step, value: sp.Piecewise((value, sp.Eq(x, y)), (x + step, True)),
    kind="elementwise", elementwise=True, domain=(REAL, REAL, REAL, REAL),
    kinks=Kink(lambda x, y, step, value: np.equal(x, y), "where input == other the result "
               "is other itself: the rule gives input no gradient there, as PyTorch"),
)


def nextafter(input: Tensor, other: Tensor) -> Tensor:
    """The next floating-point value after ``input`` towards ``other``."""
    x, y = tensor_pair(input, other)
    dt = _dtype.result_type(x._data, y._data)
    if dt.kind != "f":
        raise NotImplementedError(f"\"nextafter_cpu\" not implemented for "
                                  f"'{type_name(_dtype.from_numpy_dtype(dt))}'")
    a, b = x._data.astype(dt), y._data.astype(dt)
    value = np.asarray(np.nextafter(a, b))
    with np.errstate(invalid="ignore", over="ignore"):
        step = np.asarray(value - a)   # exact: neighbours differ by one ulp
    x, y = (t if t._data.dtype == dt else sh.to_dtype(t, _dtype.from_numpy_dtype(dt))
            for t in (x, y))
    return apply(NEXTAFTER, x, y, Tensor._wrap(step), Tensor._wrap(value))


def _shift(name: str, input, other, left: bool) -> Tensor:
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):   # (one may be a number)
        raise not_tensor(name, other, "other", 2)
    x, y = as_tensor(input), as_tensor(other)
    for v in (x, y):
        check_kernel(f"{'l' if left else 'r'}shift_cpu", v._data.dtype, "fO")
    a, b = np.broadcast_arrays(x._data, y._data)
    dt = _dtype.result_type(x._data, y._data)
    check_kernel(f"{'l' if left else 'r'}shift_cpu", dt, "b")   # bool << bool: no kernel
    out = np.left_shift(a, b) if left else np.right_shift(a, b)
    return Tensor._wrap(np.asarray(out, dtype=dt))


def bitwise_left_shift(input, other) -> Tensor:
    """``input << other``, entry by entry (integers)."""
    return _shift("bitwise_left_shift", input, other, True)


def bitwise_right_shift(input, other) -> Tensor:
    """``input >> other`` (arithmetic: the sign is kept), entry by entry (integers)."""
    return _shift("bitwise_right_shift", input, other, False)


# ================================================================ multivariate log-gamma
def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The log of the multivariate gamma function of dimension ``p``:
    ``p (p - 1) / 4 log(pi) + sum_j lgamma(x - j / 2)``, j = 0 ... p - 1."""
    x = ew._floating(tensor_input(input))
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    shifts = Tensor._wrap(-np.arange(p, dtype=x._data.dtype) / 2)
    terms = special_ops.lgamma(ew.add(sh.unsqueeze(x, -1), shifts))
    return ew.add(red.sum(terms, -1), p * (p - 1) / 4 * math.log(math.pi))


# ================================================================ complex parts of real tensors
def isreal(input) -> Tensor:
    """True everywhere: symgrad's tensors are real."""
    return Tensor._wrap(np.ones(tensor_input(input)._data.shape, dtype=bool))


def _itself(name: str, what: str):
    def fn(input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise not_tensor(name, input)
        return input
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{what}: a real tensor itself."
    return fn


def _never(name: str):
    def fn(input: Tensor) -> bool:
        if not isinstance(input, Tensor):
            raise not_tensor(name, input)
        return False
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = "False: real tensors carry no conjugate or negative bit."
    return fn


real = _itself("real", "The real part")
conj = _itself("conj", "The complex conjugate")
resolve_conj = _itself("resolve_conj", "The conjugation materialised")
resolve_neg = _itself("resolve_neg", "The negation materialised")
is_conj = _never("is_conj")
is_neg = _never("is_neg")
