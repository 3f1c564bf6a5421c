"""Elementwise ops: arithmetic, exp/log, activations, comparisons.

Each record reads top to bottom as: forward (numpy-careful), one rule per argument, the
textbook SymPy mirror (for one entry), the sampling domain and any kinks. Binary ops
broadcast; their rules return gradients in the broadcast shape and the node sums back.
"""

from __future__ import annotations

from typing import Any

from symgrad.ops._apply import apply
from symgrad.ops._record import NONZERO, POSITIVE, REAL, Domain, Kink, register
from symgrad.ops._util import broadcast_check, sp
from symgrad.tensor import Tensor

__all__ = ["add", "sub", "rsub", "mul", "div", "neg", "pow", "exp", "log", "sigmoid", "tanh",
           "relu", "eq", "ne", "lt", "le", "gt", "ge", "logical_not", "logical_and",
           "logical_or", "logical_xor", "floor_divide", "remainder", "reciprocal"]


def _binary(op, x, y, **params) -> Tensor:
    try:
        return apply(op, x, y, **params)
    except ValueError:
        broadcast_check(x, y)
        raise


# ================================================================ arithmetic
ADD = register(
    "add", "AddBackward0",
    forward=lambda xp, x, y, alpha=1: x + y if alpha == 1 else x + alpha * y,
    vjp=(lambda xp, g, ans, x, y, alpha=1: g,
         lambda xp, g, ans, x, y, alpha=1: g if alpha == 1 else g * alpha),
    mirror=lambda x, y, alpha=1: x + alpha * y,
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, REAL),
)


def add(input, other, *, alpha=1) -> Tensor:
    """``input + alpha * other``, broadcasting as numpy and PyTorch do."""
    if alpha == 1:
        return _binary(ADD, input, other)
    return _binary(ADD, input, other, alpha=alpha)


SUB = register(
    "sub", "SubBackward0",
    forward=lambda xp, x, y, alpha=1: x - y if alpha == 1 else x - alpha * y,
    vjp=(lambda xp, g, ans, x, y, alpha=1: g,
         lambda xp, g, ans, x, y, alpha=1: -g if alpha == 1 else -g * alpha),
    mirror=lambda x, y, alpha=1: x - alpha * y,
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, REAL),
)

RSUB = register(
    "rsub", "RsubBackward1",
    forward=lambda xp, x, y, alpha=1: y - x if alpha == 1 else y - alpha * x,
    vjp=(lambda xp, g, ans, x, y, alpha=1: -g if alpha == 1 else -g * alpha,
         lambda xp, g, ans, x, y, alpha=1: g),
    mirror=lambda x, y, alpha=1: y - alpha * x,
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, REAL),
)
RSUB_TENSOR = RSUB.variant("RsubBackward0")


def sub(input, other, *, alpha=1) -> Tensor:
    """``input - alpha * other``. A Python number on the left is PyTorch's ``rsub``."""
    if isinstance(input, (int, float)) and isinstance(other, Tensor):
        return rsub(other, input, alpha=alpha)
    if alpha == 1:
        return _binary(SUB, input, other)
    return _binary(SUB, input, other, alpha=alpha)


def rsub(input, other, *, alpha=1) -> Tensor:
    """``other - alpha * input`` (PyTorch's reversed subtraction)."""
    op = RSUB if not isinstance(other, Tensor) else RSUB_TENSOR
    if alpha == 1:
        return _binary(op, input, other)
    return _binary(op, input, other, alpha=alpha)


MUL = register(
    "mul", "MulBackward0",
    forward=lambda xp, x, y: x * y,
    vjp=(lambda xp, g, ans, x, y: g * y,
         lambda xp, g, ans, x, y: g * x),
    mirror=lambda x, y: x * y,
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, REAL),
)


def mul(input, other) -> Tensor:
    """Entrywise product, broadcasting."""
    return _binary(MUL, input, other)


DIV = register(
    "div", "DivBackward0",
    forward=lambda xp, x, y: x / y,
    vjp=(lambda xp, g, ans, x, y: g / y,
         lambda xp, g, ans, x, y: -g * x / (y * y)),
    mirror=lambda x, y: x / y,
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, NONZERO),
)


def div(input, other, *, rounding_mode: str | None = None) -> Tensor:
    """True division (integers give floats); ``rounding_mode`` "trunc" or "floor" rounds."""
    if rounding_mode is not None:
        if rounding_mode == "floor":
            return floor_divide(input, other)
        if rounding_mode == "trunc":
            return _binary(TRUNC_DIV, input, other)
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found {rounding_mode!r}")
    if isinstance(input, (int, float)) and isinstance(other, Tensor):
        return mul(reciprocal(other), input)
    return _binary(DIV, input, other)


RECIPROCAL = register(
    "reciprocal", "ReciprocalBackward0",
    forward=lambda xp, x: 1.0 / x,
    vjp=lambda xp, g, ans, x: -g * ans * ans,
    mirror=lambda x: 1 / x,
    kind="elementwise", elementwise=True, domain=(NONZERO,),
)


def reciprocal(input) -> Tensor:
    """``1 / input``."""
    return apply(RECIPROCAL, input)


NEG = register(
    "neg", "NegBackward0",
    forward=lambda xp, x: -x,
    vjp=lambda xp, g, ans, x: -g,
    mirror=lambda x: -x,
    kind="elementwise", elementwise=True, domain=(REAL,),
)


def neg(input) -> Tensor:
    """``-input``."""
    return apply(NEG, input)


# ---------------------------------------------------------------- powers
POW = register(
    "pow", "PowBackward0",
    forward=lambda xp, x, *, exponent: x ** exponent,
    vjp=lambda xp, g, ans, x, *, exponent: (
        g * exponent * x ** (exponent - 1) if exponent != 0 else xp.zeros_like(g)),
    mirror=lambda x, *, exponent: x ** exponent,
    kind="elementwise", elementwise=True, domain=(POSITIVE,),
    params={"exponent": (2, 3, -1, 0.5, -1.5, 0)},
    doc="tensor ** number",
)

POW_TENSOR = register(
    "pow_tensor", "PowBackward1",
    forward=lambda xp, x, y: x ** y,
    vjp=(lambda xp, g, ans, x, y: xp.where(xp.equal(y, 0), 0.0, g * y * x ** (y - 1)),
         lambda xp, g, ans, x, y: xp.where(
             xp.logical_and(xp.equal(x, 0), xp.greater_equal(y, 0)), 0.0, g * ans * xp.log(x))),
    mirror=lambda x, y: x ** y,
    kind="elementwise", elementwise=True, promote=True, domain=(POSITIVE, REAL),
    doc="tensor ** tensor",
)

POW_SCALAR_BASE = register(
    "pow_scalar_base", "PowBackward2",
    forward=lambda xp, y, *, base: base ** y,
    vjp=lambda xp, g, ans, y, *, base: (
        g * ans * xp.log(base) if base != 0 else
        xp.where(xp.greater_equal(y, 0), 0.0, g * ans * xp.log(base))),
    mirror=lambda y, *, base: base ** y,
    kind="elementwise", elementwise=True, domain=(REAL,),
    params={"base": (2, 0.5, 3.25)},
    doc="number ** tensor",
)


def pow(input, exponent) -> Tensor:
    """``input ** exponent``: tensor ** number, tensor ** tensor, or number ** tensor."""
    if isinstance(exponent, Tensor):
        if isinstance(input, Tensor):
            return _binary(POW_TENSOR, input, exponent)
        base = input.item() if hasattr(input, "item") else input
        return apply(POW_SCALAR_BASE, exponent, base=base)
    if not isinstance(input, Tensor):
        raise TypeError("pow needs a tensor for the base or the exponent")
    if input._data.dtype.kind in "iu" and isinstance(exponent, int) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    e = exponent.item() if hasattr(exponent, "item") else exponent
    return apply(POW, input, exponent=e)


# ================================================================ exp and log
EXP = register(
    "exp", "ExpBackward0",
    forward=lambda xp, x: xp.exp(x),
    vjp=lambda xp, g, ans, x: g * ans,
    mirror=lambda x: sp.exp(x),
    kind="elementwise", elementwise=True, domain=(Domain(typical=(-10.0, 10.0)),),
)


def exp(input) -> Tensor:
    """``e ** input``."""
    return apply(EXP, input)


LOG = register(
    "log", "LogBackward0",
    forward=lambda xp, x: xp.log(x),
    vjp=lambda xp, g, ans, x: g / x,
    mirror=lambda x: sp.log(x),
    kind="elementwise", elementwise=True, domain=(POSITIVE,),
)


def log(input) -> Tensor:
    """Natural logarithm (``nan`` below 0, ``-inf`` at 0, as numpy and PyTorch)."""
    return apply(LOG, input)


# ================================================================ activations
SIGMOID = register(
    "sigmoid", "SigmoidBackward0",
    forward=lambda xp, x: xp.sigmoid(x),
    vjp=lambda xp, g, ans, x: g * ans * (1 - ans),
    mirror=lambda x: 1 / (1 + sp.exp(-x)),
    kind="elementwise", elementwise=True, domain=(Domain(typical=(-8.0, 8.0)),),
)


def sigmoid(input) -> Tensor:
    """``1 / (1 + exp(-input))``, computed without overflow for any input."""
    return apply(SIGMOID, input)


TANH = register(
    "tanh", "TanhBackward0",
    forward=lambda xp, x: xp.tanh(x),
    vjp=lambda xp, g, ans, x: g * (1 - ans * ans),
    mirror=lambda x: sp.tanh(x),
    kind="elementwise", elementwise=True, domain=(REAL,),
)


def tanh(input) -> Tensor:
    """Hyperbolic tangent."""
    return apply(TANH, input)


RELU = register(
    "relu", "ReluBackward0",
    forward=lambda xp, x: xp.maximum(x, 0),
    vjp=lambda xp, g, ans, x: xp.where(xp.greater(ans, 0), g, 0),
    mirror=lambda x: sp.Max(x, 0),
    kind="elementwise", elementwise=True, domain=(NONZERO,),
    kinks=Kink(lambda x: x == 0, "relu'(0) = 0, as in PyTorch"),
)


def relu(input) -> Tensor:
    """``max(input, 0)``."""
    return apply(RELU, input)


# ================================================================ not differentiable
def _compare(name: str, grad_fn: str, fn, sym) -> Any:
    return register(name, grad_fn, forward=fn, vjp=(None, None), mirror=sym,
                    kind="comparison", elementwise=True, promote=True)


EQ = _compare("eq", "EqBackward0", lambda xp, x, y: x == y, lambda x, y: sp.Eq(x, y))
NE = _compare("ne", "NeBackward0", lambda xp, x, y: x != y, lambda x, y: sp.Ne(x, y))
LT = _compare("lt", "LtBackward0", lambda xp, x, y: x < y, lambda x, y: sp.Lt(x, y))
LE = _compare("le", "LeBackward0", lambda xp, x, y: x <= y, lambda x, y: sp.Le(x, y))
GT = _compare("gt", "GtBackward0", lambda xp, x, y: x > y, lambda x, y: sp.Gt(x, y))
GE = _compare("ge", "GeBackward0", lambda xp, x, y: x >= y, lambda x, y: sp.Ge(x, y))
AND = _compare("logical_and", "LogicalAndBackward0", lambda xp, x, y: (x != 0) & (y != 0),
               lambda x, y: sp.And(x, y))
OR = _compare("logical_or", "LogicalOrBackward0", lambda xp, x, y: (x != 0) | (y != 0),
              lambda x, y: sp.Or(x, y))
XOR = _compare("logical_xor", "LogicalXorBackward0", lambda xp, x, y: (x != 0) ^ (y != 0),
               lambda x, y: sp.Xor(x, y))
NOT = register("logical_not", "LogicalNotBackward0", forward=lambda xp, x: x == 0, vjp=(None,),
               mirror=lambda x: sp.Not(x), kind="comparison", elementwise=True)
FLOOR_DIV = register(
    "floor_divide", "FloorDivideBackward0",
    forward=lambda xp, x, y: x // y, vjp=(None, None),
    mirror=lambda x, y: sp.floor(x / y), kind="comparison", elementwise=True, promote=True)
TRUNC_DIV = register(
    "trunc_divide", "DivBackward1",
    forward=lambda xp, x, y: _trunc(x / y), vjp=(None, None),
    mirror=lambda x, y: sp.sign(x / y) * sp.floor(sp.Abs(x / y)), kind="comparison",
    elementwise=True, promote=True)
REMAINDER = register(
    "remainder", "RemainderBackward0",
    forward=lambda xp, x, y: x % y, vjp=(None, None),
    mirror=lambda x, y: sp.Mod(x, y), kind="comparison", elementwise=True, promote=True)


def _trunc(a):
    import numpy as np

    return np.trunc(a)


def eq(input, other) -> Tensor:
    """Entrywise ``==`` (a bool tensor; never requires grad)."""
    return _binary(EQ, input, other)


def ne(input, other) -> Tensor:
    return _binary(NE, input, other)


def lt(input, other) -> Tensor:
    return _binary(LT, input, other)


def le(input, other) -> Tensor:
    return _binary(LE, input, other)


def gt(input, other) -> Tensor:
    return _binary(GT, input, other)


def ge(input, other) -> Tensor:
    return _binary(GE, input, other)


def logical_and(input, other) -> Tensor:
    return _binary(AND, input, other)


def logical_or(input, other) -> Tensor:
    return _binary(OR, input, other)


def logical_xor(input, other) -> Tensor:
    return _binary(XOR, input, other)


def logical_not(input) -> Tensor:
    return apply(NOT, input)


def floor_divide(input, other) -> Tensor:
    """``floor(input / other)`` (not differentiable)."""
    return _binary(FLOOR_DIV, input, other)


def remainder(input, other) -> Tensor:
    """Python-style modulus, the sign of ``other`` (not differentiable)."""
    return _binary(REMAINDER, input, other)
