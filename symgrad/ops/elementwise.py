"""Elementwise ops: arithmetic, exp/log, trigonometric and hyperbolic functions, rounding,
activations, clamp, maximum/minimum, atan2, where, comparisons.

Each record reads top to bottom as: forward (numpy-careful), one rule per argument, the
textbook SymPy mirror (for one entry), the sampling domain and any kinks. Binary ops
broadcast; their rules return gradients in the broadcast shape and the node sums back.
"""

from __future__ import annotations

import math
import sys
import warnings
from typing import Any

import numpy as np

from symgrad import _dtype
from symgrad.ops._apply import _wrap_int, apply
from symgrad.ops._record import NONZERO, POSITIVE, REAL, Domain, Kink, register
from symgrad.ops._util import (C_TYPES, broadcast_check, check_kernel, checked_scalar, lazy_head,
                               not_tensor, sp, tensor_input, tensor_pair,
                               type_name)
from symgrad.ops.namespaces import NUMPY
from symgrad.tensor import Tensor

__all__ = ["add", "sub", "rsub", "mul", "div", "neg", "pow", "exp", "log", "sigmoid", "tanh",
           "relu", "eq", "ne", "lt", "le", "gt", "ge", "logical_not", "logical_and",
           "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor",
           "bitwise_not", "floor_divide", "remainder", "fmod", "reciprocal", "logaddexp",
           # unary
           "sin", "cos", "tan", "sqrt", "rsqrt", "abs", "sign", "expm1", "log1p", "log2",
           "log10", "square", "sinh", "cosh", "asin", "acos", "atan", "arcsin", "arccos",
           "arctan", "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "erf", "floor",
           "ceil", "round", "trunc",
           # activations (torch.nn.functional)
           "leaky_relu", "elu", "gelu", "softplus", "silu", "logsigmoid", "hardtanh", "relu6",
           # clamping and binary
           "clamp", "clip", "clamp_min", "clamp_max", "maximum", "minimum", "atan2", "arctan2",
           "where",
           # compound pointwise ops
           "addcmul", "addcdiv", "lerp", "frac", "exp2", "logit", "hypot", "nan_to_num",
           # other names
           "subtract", "multiply", "negative", "absolute", "divide", "true_divide", "greater",
           "greater_equal", "less", "less_equal", "not_equal", "sgn", "positive"]


def _binary(op, x, y, **params) -> Tensor:
    try:
        return apply(op, x, y, **params)
    except ValueError:
        broadcast_check(x, y)
        raise


def _power_mirror(x, exponent):
    from symgrad.ops import _sums   # imports SymPy: not at start-up

    return _sums.power(x, exponent)


def _float_input(x: Any) -> Any:
    """``_floating`` of a function's ``input``, which must be a Tensor: PyTorch raises a
    TypeError for ``torch.exp(2.0)`` (the caller's name goes into the message)."""
    if not isinstance(x, Tensor):
        raise not_tensor(sys._getframe(1).f_code.co_name, x)
    if x._data.dtype.kind in "biu":
        return Tensor._wrap(x._data.astype(_dtype.get_default_dtype().np))
    return x


def _floating(x: Any) -> Any:
    """Integer and bool tensors as the default float dtype (PyTorch: ``sqrt(int) -> float``)."""
    if isinstance(x, Tensor) and x._data.dtype.kind in "biu":
        return Tensor._wrap(x._data.astype(_dtype.get_default_dtype().np))
    return x


# ================================================================ arithmetic
def _add_mirror(x, y):
    from symgrad.ops import _sums   # imports SymPy: not at start-up

    return _sums.add(x, y)


ADD = register(
    "add", "AddBackward0",
    forward=lambda xp, x, y, alpha=1: x + y if alpha == 1 else x + alpha * y,
    vjp=(lambda xp, g, ans, x, y, alpha=1: g,
         lambda xp, g, ans, x, y, alpha=1: g if alpha == 1 else g * alpha),
    mirror=lambda x, y, alpha=1: _add_mirror(x, y if alpha == 1 else alpha * y),
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, REAL),
)


#: tensor + number recorded inside PyTorch's C++ composites (a Python ``+`` gives AddBackward0)
ADD_NUMBER = ADD.variant("AddBackward1")

_ONE = 1   # the default alpha: ``alpha is _ONE`` is the fast test (alpha=True == 1 too)


def add(input, other, *, alpha=1) -> Tensor:
    """``input + alpha * other``, broadcasting as numpy and PyTorch do."""
    if alpha is not _ONE:
        return _scaled(ADD, input, other, alpha, 1)
    try:  # _binary, inlined: ``+`` is the most frequent op
        return apply(ADD, input, other)
    except ValueError:
        broadcast_check(input, other)
        raise


# ---------------------------------------------------------------- alpha of add, sub, rsub
# PyTorch converts alpha to the result's dtype and refuses what does not fit: a bool alpha
# for a result that is not bool, a floating alpha for integers, a value out of the dtype's
# range. (numpy would promote integers to floats, or multiply bools as integers.)
_C_TYPES = C_TYPES


def _result_dtype(x: Any, y: Any) -> np.dtype | None:
    """The dtype PyTorch gives ``x + y`` (None for symbolic tensors or two numbers)."""
    arrays = [v._data for v in (x, y) if isinstance(v, Tensor)]
    if not arrays or any(a.dtype.kind == "O" for a in arrays):
        return None
    res = arrays[0].dtype if len(arrays) == 1 else _dtype.result_type(*arrays)
    scalars = [v for v in (x, y) if not isinstance(v, Tensor)]
    if any(isinstance(v, (float, np.floating)) for v in scalars) and res.kind in "biu":
        return _dtype.get_default_dtype().np
    if res.kind == "b" and any(isinstance(v, (int, np.integer)) and not isinstance(
            v, (bool, np.bool_)) for v in scalars):
        return np.dtype(np.int64)
    return res


def _checked_alpha(name: str, alpha: Any, res: np.dtype | None) -> Any:
    """``alpha`` as PyTorch accepts it for a result of dtype ``res``, converted to it."""
    if isinstance(alpha, Tensor):
        alpha = alpha.item()
    elif isinstance(alpha, np.generic):   # (PyTorch reads a numpy bool as the integer)
        alpha = int(alpha) if isinstance(alpha, np.bool_) else alpha.item()
    if not isinstance(alpha, (bool, int, float, complex)):
        kind = type(alpha)
        what = kind.__name__ if kind.__module__ == "builtins" else \
            f"{kind.__module__}.{kind.__qualname__}"
        raise TypeError(f"{name}(): argument 'alpha' must be Number, not {what}")
    if type(alpha) is int and not -(1 << 63) <= alpha < 1 << 64:
        raise OverflowError(f"int too big to convert: alpha={alpha} does not fit in 64 bits")
    if res is None:
        return alpha
    if isinstance(alpha, bool) and res.kind != "b":
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if isinstance(alpha, (float, complex)) and res.kind in "biu":
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    if isinstance(alpha, complex):
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a "
                           "complex number.")
    return checked_scalar(alpha, res)   # (unsigned: -1 is the largest value, as PyTorch)


def _times_alpha(v: Any, alpha: Any, res: np.dtype) -> Any:
    """``alpha * v`` for an integer or bool result, computed in ``res`` (wrapping, as
    PyTorch; bools: ``alpha and v``)."""
    if isinstance(v, Tensor):
        d = v._data.astype(res, copy=False)
        return Tensor._wrap(np.logical_and(d, alpha) if res.kind == "b" else d * alpha)
    if res.kind == "b":
        return bool(v) and alpha
    return _wrap_int(_wrap_int(int(v), res) * alpha, res)


def _scaled(op, x: Any, y: Any, alpha: Any, scaled: int) -> Tensor:
    """``op`` with ``alpha`` times argument ``scaled`` (add, sub: ``y``; rsub: ``x``)."""
    res = _result_dtype(x, y)
    alpha = _checked_alpha(op.name, alpha, res)
    if res is not None and res.kind in "biu":   # no gradient: scale in the result dtype
        if scaled:
            y = _times_alpha(y, alpha, res)
        else:
            x = _times_alpha(x, alpha, res)
        return _binary(op, x, y)
    if alpha == 1:
        return _binary(op, x, y)
    return _binary(op, x, y, alpha=alpha)


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


def _is_bool(v: Any) -> bool:
    """A bool tensor or a Python bool (which PyTorch treats as a bool tensor here)."""
    return v._data.dtype.kind == "b" if isinstance(v, Tensor) else type(v) is bool


def _no_bool_subtraction(x: Any, y: Any) -> None:
    """PyTorch refuses ``-`` on bools (numpy raises a TypeError, or quietly makes ints)."""
    bx, by = _is_bool(x), _is_bool(y)
    if bx and by:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if bx or by:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")


def sub(input, other, *, alpha=1) -> Tensor:
    """``input - alpha * other`` (SubBackward0, a Python number on the left too; the
    operator ``number - tensor`` is PyTorch's ``rsub``)."""
    if _is_bool(input) or _is_bool(other):
        _no_bool_subtraction(input, other)
    if alpha is not _ONE:
        return _scaled(SUB, input, other, alpha, 1)
    return _binary(SUB, input, other)


def rsub(input, other, *, alpha=1) -> Tensor:
    """``other - alpha * input`` (PyTorch's reversed subtraction)."""
    if _is_bool(tensor_input(input)) or _is_bool(other):
        _no_bool_subtraction(input, other)
    op = RSUB if not isinstance(other, Tensor) else RSUB_TENSOR
    if alpha is not _ONE:
        return _scaled(op, input, other, alpha, 0)
    return _binary(op, input, other)


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
            _integer_division("div_floor_cpu", input, other)
            return _binary(DIV_FLOOR, input, other)
        if rounding_mode == "trunc":
            _integer_division("div_trunc_cpu", input, other)
            return _binary(DIV_TRUNC, input, other)
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found {rounding_mode!r}")
    input, other = _true_division_operands(input, other)
    return _binary(DIV, input, other)   # a number on the left too: DivBackward0, as PyTorch


def _true_division_operands(x: Any, y: Any) -> tuple[Any, Any]:
    """Integer and bool tensors as floats before a true division, as PyTorch divides them:
    in the other operand's floating dtype when it is a floating tensor, else the default
    (so int8 / 1000 is 0.001, not a wrapped integer divided, and float32 stays float32)."""
    kinds = [t._data.dtype.kind if isinstance(t, Tensor) else None for t in (x, y)]
    if not any(k in ("b", "i", "u") for k in kinds):
        return x, y
    floating = [t._data.dtype for t, k in zip((x, y), kinds) if k == "f"]
    target = floating[0] if floating else _dtype.get_default_dtype().np
    return tuple(Tensor._wrap(t._data.astype(target)) if k in ("b", "i", "u") else t
                 for t, k in zip((x, y), kinds))


RECIPROCAL = register(
    "reciprocal", "ReciprocalBackward0",
    forward=lambda xp, x: 1.0 / x,
    vjp=lambda xp, g, ans, x: -g * ans * ans,
    mirror=lambda x: 1 / x,
    kind="elementwise", elementwise=True, domain=(NONZERO,),
)


def reciprocal(input) -> Tensor:
    """``1 / input``."""
    return apply(RECIPROCAL, _float_input(input))


NEG = register(
    "neg", "NegBackward0",
    forward=lambda xp, x: -x,
    vjp=lambda xp, g, ans, x: -g,
    mirror=lambda x: -x,
    kind="elementwise", elementwise=True, domain=(REAL,),
)


def neg(input) -> Tensor:
    """``-input``."""
    if tensor_input(input)._data.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return apply(NEG, input)


# ---------------------------------------------------------------- powers
def _pow_scalar(xp, x, *, exponent) -> Any:
    # PyTorch's kernel computes the cube as two products and -2 as 1/(x*x), not with pow():
    # the same roundings give the same printed losses (e.g. the tutorials' x ** 3 fits)
    if exponent == 3 and xp.name == "numpy" and x.dtype.kind == "f":
        return x * x * x
    if exponent == -2 and xp.name == "numpy" and x.dtype.kind == "f":
        return 1.0 / (x * x)
    return x ** exponent


POW = register(
    "pow", "PowBackward0",
    forward=_pow_scalar,
    vjp=lambda xp, g, ans, x, *, exponent: (
        g * exponent * x ** (exponent - 1) if exponent != 0 else xp.zeros_like(g)),
    mirror=lambda x, *, exponent: _power_mirror(x, exponent),
    kind="elementwise", elementwise=True, domain=(POSITIVE,),
    params={"exponent": (2, 3, -1, 0.5, -1.5, 0)},
    doc="tensor ** number",
)

def _integer_power(x, y) -> np.ndarray:
    """``x ** y`` of integer arrays as PyTorch computes it, where numpy refuses negative
    exponents: 0 there, except for the bases 1 (1) and -1 (+-1 by the exponent's parity)."""
    neg = np.less(y, 0)
    if not neg.any():
        return x ** y
    out = x ** np.where(neg, 0, y)
    at_neg = np.equal(x, 1).astype(out.dtype)
    if out.dtype.kind == "i":
        at_neg = np.where(np.equal(x, -1), np.where(np.equal(y % 2, 0), 1, -1), at_neg)
    return np.where(neg, at_neg, out).astype(out.dtype, copy=False)


def _pow_tensor(xp, x, y) -> Any:
    if xp.name == "numpy" and np.result_type(x, y).kind in "iu":
        return _integer_power(x, y)
    return x ** y


def _pow_scalar_base(xp, y, base) -> Any:
    if xp.name == "numpy" and y.dtype.kind in "iu" and isinstance(base, int):
        # an int (or bool) base takes the exponent's integer type, wrapping as PyTorch
        return _integer_power(np.asarray(_wrap_int(int(base), y.dtype), dtype=y.dtype), y)
    return base ** y


POW_TENSOR = register(
    "pow_tensor", "PowBackward1",
    forward=_pow_tensor,
    vjp=(lambda xp, g, ans, x, y: xp.where(xp.equal(y, 0), 0.0, g * y * x ** (y - 1)),
         lambda xp, g, ans, x, y: xp.where(
             xp.logical_and(xp.equal(x, 0), xp.greater_equal(y, 0)), 0.0, g * ans * xp.log(x))),
    mirror=lambda x, y: x ** y,
    kind="elementwise", elementwise=True, promote=True, domain=(POSITIVE, REAL),
    doc="tensor ** tensor",
)

POW_SCALAR_BASE = register(
    "pow_scalar_base", "PowBackward2",
    forward=lambda xp, y, *, base: _pow_scalar_base(xp, y, base),
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
        if _is_bool(exponent) and _is_bool(input):
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")
        if isinstance(input, Tensor):
            return _binary(POW_TENSOR, input, exponent)
        base = input.item() if hasattr(input, "item") else input
        return apply(POW_SCALAR_BASE, exponent, base=base)
    if not isinstance(input, Tensor):
        raise TypeError("pow needs a tensor for the base or the exponent")
    e = exponent.item() if hasattr(exponent, "item") else exponent
    if input._data.dtype.kind in "biu" and isinstance(e, int) and e < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    kind = input._data.dtype.kind
    if isinstance(e, float) and kind in "biu":
        input = _floating(input)   # PyTorch: int ** 0.5 has the default floating dtype
    elif kind == "b":   # as PyTorch: bool ** 2 is int64, bool ** bool a bool (no gradient)
        if isinstance(e, bool):
            return Tensor._wrap(np.logical_or(input._data, not e))
        input = Tensor._wrap(input._data.astype(np.int64))
    return apply(POW, input, exponent=e)


# ================================================================ exp and log
EXP = register(
    "exp", "ExpBackward0",
    forward=lambda xp, x: xp.exp(x),
    vjp=lambda xp, g, ans, x: g * ans,
    mirror=lambda x: lazy_head(sp.exp, x),
    kind="elementwise", elementwise=True, domain=(Domain(typical=(-10.0, 10.0)),),
)


def exp(input) -> Tensor:
    """``e ** input``."""
    return apply(EXP, _float_input(input))


LOG = register(
    "log", "LogBackward0",
    forward=lambda xp, x: xp.log(x),
    vjp=lambda xp, g, ans, x: g / x,
    mirror=lambda x: lazy_head(sp.log, x),
    kind="elementwise", elementwise=True, domain=(POSITIVE,),
)


def log(input) -> Tensor:
    """Natural logarithm (``nan`` below 0, ``-inf`` at 0, as numpy and PyTorch)."""
    return apply(LOG, _float_input(input))


# numpy's logaddexp shifts by the larger argument: no overflow, and the same infinity
# twice is that infinity. The rules are the softmax weights written as sigmoids, which
# stay finite at an infinite argument (1 for it, 0 for the other; nan for two equal
# infinities), as PyTorch's. The mirror is the textbook form: SymPy and mpmath compute
# exactly and have no overflow to avoid.
LOGADDEXP = register(
    "logaddexp", "LogaddexpBackward0",
    forward=lambda xp, x, y: xp.logaddexp(x, y),
    vjp=(lambda xp, g, ans, x, y: g * xp.sigmoid(x - y),
         lambda xp, g, ans, x, y: g * xp.sigmoid(y - x)),
    mirror=lambda x, y: lazy_head(sp.log, lazy_head(sp.exp, x) + lazy_head(sp.exp, y)),
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, REAL),
)


def logaddexp(input, other) -> Tensor:
    """``log(exp(input) + exp(other))``, without overflow; floating point only."""
    if _all_integral(*tensor_pair(input, other)):
        arrays = [v._data if isinstance(v, Tensor) else np.asarray(v) for v in (input, other)]
        check_kernel("logaddexp_cpu", _dtype.result_type(*arrays))
    return _binary(LOGADDEXP, input, other)


# ================================================================ activations
SIGMOID = register(
    "sigmoid", "SigmoidBackward0",
    forward=lambda xp, x: xp.sigmoid(x),
    vjp=lambda xp, g, ans, x: g * ans * (1 - ans),
    mirror=lambda x: 1 / (1 + lazy_head(sp.exp, -x)),
    kind="elementwise", elementwise=True, domain=(Domain(typical=(-8.0, 8.0)),),
)


def sigmoid(input) -> Tensor:
    """``1 / (1 + exp(-input))``, computed without overflow for any input."""
    return apply(SIGMOID, _float_input(input))


TANH = register(
    "tanh", "TanhBackward0",
    forward=lambda xp, x: xp.tanh(x),
    vjp=lambda xp, g, ans, x: g * (1 - ans * ans),
    mirror=lambda x: lazy_head(sp.tanh, x),
    kind="elementwise", elementwise=True, domain=(REAL,),
)


def tanh(input) -> Tensor:
    """Hyperbolic tangent."""
    return apply(TANH, _float_input(input))


def _backward_op(op, xp, *args, **params) -> Any:
    """A rule that is itself an op, as PyTorch records some (relu's ThresholdBackward):
    its forward in any namespace; on Tensors (``create_graph=True``) a recorded call, so
    the gradient depends on the input (with derivative 0), as PyTorch's does."""
    if xp is not NUMPY and xp.name == "tensor":
        return apply(op, *args, **params)
    return op.forward(xp, *args, **params)


RELU = register(
    "relu", "ReluBackward0",
    forward=lambda xp, x: xp.maximum(x, 0),
    # PyTorch's test (threshold_backward): 0 where relu(x) <= 0, so nan passes g through
    vjp=lambda xp, g, ans, x: _backward_op(RELU_BACKWARD, xp, g, ans),
    mirror=lambda x: sp.Max(x, 0),
    kind="elementwise", elementwise=True, domain=(NONZERO,),
    kinks=Kink(lambda x: x == 0, "relu'(0) = 0, as in PyTorch"),
)

# relu's rule as an op of (gradient, relu's output): linear in the gradient, constant in
# the output (a step). PyTorch's double backward of relu runs through the same node.
RELU_BACKWARD = register(
    "threshold_backward", "ThresholdBackwardBackward0",
    forward=lambda xp, grad, result: xp.where(xp.less_equal(result, 0), 0, grad),
    vjp=(lambda xp, g, ans, grad, result: xp.where(xp.less_equal(result, 0), 0, g),
         lambda xp, g, ans, grad, result: xp.zeros_like(g)),
    mirror=lambda grad, result: sp.Piecewise((0, result <= 0), (grad, True)),
    kind="elementwise", elementwise=True, domain=(REAL, NONZERO),
    kinks=Kink(lambda grad, result: np.equal(result, 0) & np.not_equal(grad, 0),
               "the step at result == 0 has derivative 0 there, as PyTorch"),
    doc="relu's backward: grad where result > 0, else 0",
)


def relu(input) -> Tensor:
    """``max(input, 0)``."""
    if tensor_input(input)._data.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
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
    forward=lambda xp, x, y: xp.floor_divide(x, y), vjp=(None, None),
    mirror=lambda x, y: sp.floor(x / y), kind="comparison", elementwise=True, promote=True)


# div(..., rounding_mode=...): a step function of both operands. PyTorch records it
# (DivBackward2) and gives both the derivative 0, the exact one between the jumps; `//`
# (floor_divide, above) it does not differentiate at all. Integers stay integers.
def _int_division(x, y) -> bool:
    return np.result_type(x, y).kind in "biu"


def _div_trunc(xp, x, y) -> Any:
    if xp.name == "numpy" and _int_division(x, y):
        q = np.floor_divide(x, y)
        return q + ((q < 0) & (q * y != x))   # floor, raised by one where it rounded down
    return _trunc_xp(xp, x / y)


def _div_floor(xp, x, y) -> Any:
    if xp.name == "numpy":
        return np.floor_divide(x, y)   # Python's (and PyTorch's) floor of x / y, ints too
    return xp.floor(x / y)


def _integer_quotients(x, y) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.true_divide(x, y)
        return np.equal(np.floor(q), q) | np.equal(y, 0)


_ZERO_RULE = lambda xp, g, ans, x, y: xp.zeros_like(g)  # noqa: E731

DIV_TRUNC = register(
    "div_trunc", "DivBackward2",
    forward=_div_trunc, vjp=(_ZERO_RULE, _ZERO_RULE),
    mirror=lambda x, y: sp.Piecewise((-_floor_ae(-x / y), x / y < 0), (_floor_ae(x / y), True)),
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, NONZERO),
    kinks=Kink(_integer_quotients, "trunc(x / y) jumps where x / y is an integer; the "
               "derivative is 0 there too, as PyTorch"),
    doc="div(x, y, rounding_mode='trunc')",
)

DIV_FLOOR = register(
    "div_floor", "DivBackward2",
    forward=_div_floor, vjp=(_ZERO_RULE, _ZERO_RULE),
    mirror=lambda x, y: _floor_ae(x / y),
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, NONZERO),
    kinks=Kink(_integer_quotients, "floor(x / y) jumps where x / y is an integer; the "
               "derivative is 0 there too, as PyTorch"),
    doc="div(x, y, rounding_mode='floor')",
)

def _quotients(x, y) -> Any:
    """Where ``remainder`` jumps: ``x / y`` an integer (or y = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.equal(np.remainder(x, y), 0) | np.equal(y, 0)


# x - y floor(x / y): d/dx = 1, d/dy = -floor(x / y) (floor' = 0 away from its jumps)
def _remainder(xp, x, y) -> Any:
    """``x % y``; a zero result has the sign of ``x`` as PyTorch's (numpy's has ``y``'s)."""
    r = x % y
    return xp.where(xp.equal(r, 0), 0 * x, r)


REMAINDER = register(
    "remainder", "RemainderBackward1",
    forward=_remainder,
    vjp=(lambda xp, g, ans, x, y: g, lambda xp, g, ans, x, y: -g * xp.floor_divide(x, y)),
    mirror=lambda x, y: x - y * _floor_ae(x / y),
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, NONZERO),
    kinks=Kink(_quotients, "remainder jumps where input / other is an integer; the rules "
               "give d/d input = 1 and d/d other = -floor(input / other) there, as PyTorch"),
)
REMAINDER_SCALAR = REMAINDER.variant("RemainderBackward0")   # tensor % number


def _fmod_jumps(x, y) -> Any:
    """Where ``fmod`` jumps: ``x / y`` a nonzero integer (or y = 0). At x = 0 it is
    continuous (x itself on both sides), unlike ``remainder``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.equal(np.fmod(x, y), 0) & np.not_equal(x, 0)) | np.equal(y, 0)


def _trunc_xp(xp, q) -> Any:
    """Round towards zero, in the rule vocabulary (which has floor only)."""
    return xp.where(xp.less(q, 0), -xp.floor(-q), xp.floor(q))


def _fmod(xp, x, y) -> Any:
    """C's fmod, exactly: numpy's is C's (integer minimums and -0.0 included); elsewhere
    ``%`` of two non-negative numbers needs no sign correction (which would round), then
    the sign of x goes back on; a zero keeps x's sign (-0.0, as C)."""
    if xp.name == "numpy":
        return np.fmod(x, y)
    r = xp.abs(x) % (abs(y) if isinstance(y, (int, float)) else xp.abs(y))  # a number stays
    return xp.where(xp.equal(r, 0), x * 0, xp.sign(x) * r)                   # weak (float32)


# x - y trunc(x / y): d/dx = 1, d/dy = -trunc(x / y), the quotient rounded as PyTorch rounds
# it (div with rounding_mode="trunc").
FMOD = register(
    "fmod", "FmodBackward1",
    forward=_fmod,
    vjp=(lambda xp, g, ans, x, y: g, lambda xp, g, ans, x, y: -g * _trunc_xp(xp, x / y)),
    mirror=lambda x, y: x - y * sp.Piecewise((-_floor_ae(-x / y), x / y < 0),
                                             (_floor_ae(x / y), True)),
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, NONZERO),
    kinks=Kink(_fmod_jumps, "fmod jumps where input / other is a nonzero integer; the rules "
               "give d/d input = 1 and d/d other = -trunc(input / other) there, as PyTorch"),
)
FMOD_SCALAR = FMOD.variant("FmodBackward0")   # fmod(tensor, number)


def eq(input, other) -> Tensor:
    """Entrywise ``==`` (a bool tensor; never requires grad)."""
    return _binary(EQ, tensor_input(input), other)


def ne(input, other) -> Tensor:
    return _binary(NE, tensor_input(input), other)


def lt(input, other) -> Tensor:
    return _binary(LT, tensor_input(input), other)


def le(input, other) -> Tensor:
    return _binary(LE, tensor_input(input), other)


def gt(input, other) -> Tensor:
    return _binary(GT, tensor_input(input), other)


def ge(input, other) -> Tensor:
    return _binary(GE, tensor_input(input), other)


def logical_and(input, other) -> Tensor:
    return _binary(AND, *tensor_pair(input, other))


def logical_or(input, other) -> Tensor:
    return _binary(OR, *tensor_pair(input, other))


def logical_xor(input, other) -> Tensor:
    return _binary(XOR, *tensor_pair(input, other))


def logical_not(input) -> Tensor:
    return apply(NOT, tensor_input(input))


def _kind(v: Any) -> str:
    """The numpy kind of an operand: a tensor's or array's dtype kind, or a number's."""
    data = v._data if isinstance(v, Tensor) else v
    if isinstance(data, np.ndarray):
        return data.dtype.kind
    if isinstance(v, (bool, np.bool_)):
        return "b"
    return "i" if isinstance(v, (int, np.integer)) else "f"


def _integer_division(kernel: str, x: Any, y: Any) -> None:
    """PyTorch's errors for an integer ``//``, ``%``, fmod or truncating division, where
    numpy answers quietly: two bools have no kernel, and a zero divisor raises (numpy gives
    0). Float division by zero is IEEE's inf or nan, as PyTorch; symbolic data passes."""
    kx, ky = _kind(x), _kind(y)
    if kx not in "biu" or ky not in "biu":
        return
    if kx == "b" and ky == "b":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    ydata = y._data if isinstance(y, Tensor) else np.asarray(y)
    if not (ydata == 0).any():
        return
    xdata = x._data if isinstance(x, Tensor) else np.asarray(x)
    try:
        empty = 0 in np.broadcast_shapes(xdata.shape, ydata.shape)
    except ValueError:
        return   # the op itself reports shapes that do not broadcast
    if not empty:
        raise RuntimeError("ZeroDivisionError: integer division or remainder by zero")


def floor_divide(input, other) -> Tensor:
    """``floor(input / other)`` (not differentiable)."""
    _integer_division("div_floor_cpu", input, other)
    return _binary(FLOOR_DIV, input, other)


def remainder(input, other) -> Tensor:
    """Python-style modulus, with the sign of ``other``: ``input - other * floor(input /
    other)``, differentiable in both (PyTorch: 1 and -floor(input / other))."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise not_tensor("remainder", other, "other", 2)   # (a number may be one of them)
    _integer_division("remainder_cpu", input, other)
    if isinstance(other, (int, float)) and isinstance(input, Tensor):
        return apply(REMAINDER_SCALAR, input, other)
    return _binary(REMAINDER, input, other)


def fmod(input, other) -> Tensor:
    """C-style remainder, with the sign of ``input``: ``input - other * trunc(input /
    other)``, differentiable in both (PyTorch: 1 and -trunc(input / other))."""
    _integer_division("fmod_cpu", tensor_input(input), other)
    if isinstance(other, (int, float)) and isinstance(input, Tensor):
        return apply(FMOD_SCALAR, input, other)
    return _binary(FMOD, input, other)


# ================================================================ bitwise (not differentiable)
# Integer and bool operands only, as in PyTorch. The wrappers promote the operands to the
# result dtype first (a Python int wraps to its width: uint8 & 300 is uint8 & 44), so each
# forward sees one dtype, where numpy's ``&`` is bitwise on integers and logical on bools.
# There is no SymPy mirror: SymPy has no bitwise operations on expressions.
BITWISE_AND = register("bitwise_and", "BitwiseAndBackward0", forward=lambda xp, x, y: x & y,
                       vjp=(None, None), mirror=None, kind="comparison", elementwise=True)
BITWISE_OR = register("bitwise_or", "BitwiseOrBackward0", forward=lambda xp, x, y: x | y,
                      vjp=(None, None), mirror=None, kind="comparison", elementwise=True)
BITWISE_XOR = register("bitwise_xor", "BitwiseXorBackward0", forward=lambda xp, x, y: x ^ y,
                       vjp=(None, None), mirror=None, kind="comparison", elementwise=True)
BITWISE_NOT = register("bitwise_not", "BitwiseNotBackward0", forward=lambda xp, x: ~x,
                       vjp=(None,), mirror=None, kind="comparison", elementwise=True)

_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}


def _bitwise_operand(name: str, v: Any) -> Any:
    """A tensor (or array) operand as its numpy data, a number as its kind ("b", "i" or
    "f"); None for anything else."""
    if isinstance(v, Tensor):
        v = v._data
    elif isinstance(v, np.ndarray):
        v = v.astype(_dtype.from_numpy_dtype(v.dtype).np, copy=False)
    if isinstance(v, np.ndarray):
        if v.dtype.kind == "O":
            raise NotImplementedError(f"{name} is not defined for symbolic tensors (SymPy "
                                      "has no bitwise operations on expressions)")
        return v
    if isinstance(v, (bool, np.bool_)):
        return "b"
    if isinstance(v, (int, np.integer)):
        return "i"
    if isinstance(v, (float, np.floating)):
        return "f"
    return None


def _bitwise_scalar(v: Any, res: np.dtype) -> np.ndarray:
    """A Python number as a 0-d array of ``res``; ints wrap to its width, as in PyTorch."""
    v = int(v)
    if res.kind in "iu":
        v = _wrap_int(v, res)   # as every op's scalar operand
    elif not -(1 << 63) <= v < 1 << 64:
        raise OverflowError("int too big to convert")
    return np.asarray(v, dtype=res)


def _check_integral(name: str, res: np.dtype) -> None:
    if res.kind not in "biu":
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{type_name(res)}'")


def _bitwise_operands(name: str, input: Any, other: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Both operands in PyTorch's result dtype of ``name``, or None when one is neither a
    tensor nor a number (so that ``t & x`` can return NotImplemented)."""
    a, b = _bitwise_operand(name, input), _bitwise_operand(name, other)
    if a is None or b is None:
        return None
    arrays = [d for d in (a, b) if isinstance(d, np.ndarray)]
    if not arrays:
        raise TypeError(f"{name}(): at least one argument must be a Tensor, got "
                        f"{type(input).__name__} and {type(other).__name__}")
    res = _dtype.result_type(a, b) if len(arrays) == 2 else arrays[0].dtype
    scalar = next((d for d in (a, b) if isinstance(d, str)), None)
    if scalar is not None and _KIND_RANK[scalar] > _KIND_RANK.get(res.kind, 3):
        # a number of a higher kind decides: bool tensor & 3 is int64, int tensor & 1.5 float
        res = np.dtype(np.int64) if scalar == "i" else _dtype.get_default_dtype().np
    _check_integral(name, res)
    return tuple(_bitwise_scalar(v, res) if isinstance(d, str) else d.astype(res, copy=False)
                 for d, v in ((a, input), (b, other)))


def _bitwise_binary(op, input: Any, other: Any) -> Tensor:
    args = _bitwise_operands(op.name, input, other)
    if args is None:
        raise TypeError(f"{op.name}(): expected Tensors or numbers, got "
                        f"{type(input).__name__} and {type(other).__name__}")
    return _binary(op, *args)


def bitwise_and(input, other) -> Tensor:
    """Entrywise ``input & other`` of integer or bool tensors (logical and for bools)."""
    return _bitwise_binary(BITWISE_AND, input, other)


def bitwise_or(input, other) -> Tensor:
    """Entrywise ``input | other`` of integer or bool tensors (logical or for bools)."""
    return _bitwise_binary(BITWISE_OR, input, other)


def bitwise_xor(input, other) -> Tensor:
    """Entrywise ``input ^ other`` of integer or bool tensors (logical xor for bools)."""
    return _bitwise_binary(BITWISE_XOR, input, other)


def bitwise_not(input: Tensor) -> Tensor:
    """Entrywise ``~input`` of an integer or bool tensor (logical not for bools)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bitwise_not(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    _bitwise_operand("bitwise_not", input)   # symbolic: a clear error
    _check_integral("bitwise_not", input._data.dtype)
    return apply(BITWISE_NOT, input)


# ================================================================ more unary ops
# Constants come from xp (``xp.log(2)``, ``_pi(xp)``), never as float literals, so that the
# SymPy and mpmath runs of a rule see the exact value rather than a float's rounding.
# Integer inputs of the float-valued functions become the default float dtype, as in PyTorch.
def _c(value) -> Any:
    """A constant computed by numpy as a Python float, which (unlike np.float64) does not
    promote float32 arrays to float64; other namespaces' values pass through."""
    return float(value) if isinstance(value, np.floating) else value


def _pi(xp) -> Any:
    return _c(xp.arccos(-1))


def _sgn(xp, x) -> Any:
    """sign(x), with sign(nan) = 0 as PyTorch (numpy gives nan)."""
    return xp.where(xp.equal(x, x), xp.sign(x), 0)


# ---------------------------------------------------------------- trigonometric
SIN = register(
    "sin", "SinBackward0",
    forward=lambda xp, x: xp.sin(x),
    vjp=lambda xp, g, ans, x: g * xp.cos(x),
    mirror=lambda x: lazy_head(sp.sin, x),
    kind="elementwise", elementwise=True, domain=(REAL,),
)


def sin(input) -> Tensor:
    """Sine (radians)."""
    return apply(SIN, _float_input(input))


COS = register(
    "cos", "CosBackward0",
    forward=lambda xp, x: xp.cos(x),
    vjp=lambda xp, g, ans, x: -g * xp.sin(x),
    mirror=lambda x: lazy_head(sp.cos, x),
    kind="elementwise", elementwise=True, domain=(REAL,),
)


def cos(input) -> Tensor:
    """Cosine (radians)."""
    return apply(COS, _float_input(input))


TAN = register(
    "tan", "TanBackward0",
    forward=lambda xp, x: xp.tan(x),
    vjp=lambda xp, g, ans, x: g * (1 + ans * ans),
    mirror=lambda x: lazy_head(sp.tan, x),
    kind="elementwise", elementwise=True,
    domain=(Domain(((-math.pi / 2, math.pi / 2),), typical=(-1.3, 1.3)),),
)


def tan(input) -> Tensor:
    """Tangent (radians); its poles are at pi/2 + k*pi."""
    return apply(TAN, _float_input(input))


ASIN = register(
    "asin", "AsinBackward0",
    forward=lambda xp, x: xp.arcsin(x),
    vjp=lambda xp, g, ans, x: g / xp.sqrt(1 - x * x),
    mirror=lambda x: sp.asin(x),
    kind="elementwise", elementwise=True,
    domain=(Domain(((-1.0, 1.0),), typical=(-0.95, 0.95)),),
    kinks=Kink(lambda x: np.equal(np.abs(x), 1), "asin'(+-1) = inf (the ends of the domain), "
               "as PyTorch"),
)


def asin(input) -> Tensor:
    """Inverse sine; ``nan`` outside [-1, 1]."""
    return apply(ASIN, _float_input(input))


ACOS = register(
    "acos", "AcosBackward0",
    forward=lambda xp, x: xp.arccos(x),
    vjp=lambda xp, g, ans, x: -g / xp.sqrt(1 - x * x),
    mirror=lambda x: sp.acos(x),
    kind="elementwise", elementwise=True,
    domain=(Domain(((-1.0, 1.0),), typical=(-0.95, 0.95)),),
    kinks=Kink(lambda x: np.equal(np.abs(x), 1), "acos'(+-1) = -inf (the ends of the domain), "
               "as PyTorch"),
)


def acos(input) -> Tensor:
    """Inverse cosine; ``nan`` outside [-1, 1]."""
    return apply(ACOS, _float_input(input))


ATAN = register(
    "atan", "AtanBackward0",
    forward=lambda xp, x: xp.arctan(x),
    vjp=lambda xp, g, ans, x: g / (1 + x * x),
    mirror=lambda x: lazy_head(sp.atan, x),
    kind="elementwise", elementwise=True, domain=(REAL,),
)


def atan(input) -> Tensor:
    """Inverse tangent."""
    return apply(ATAN, _float_input(input))


arcsin, arccos, arctan = asin, acos, atan

# ---------------------------------------------------------------- hyperbolic
SINH = register(
    "sinh", "SinhBackward0",
    forward=lambda xp, x: xp.sinh(x),
    vjp=lambda xp, g, ans, x: g * xp.cosh(x),
    mirror=lambda x: lazy_head(sp.sinh, x),
    kind="elementwise", elementwise=True, domain=(REAL,),
)


def sinh(input) -> Tensor:
    """Hyperbolic sine."""
    return apply(SINH, _float_input(input))


COSH = register(
    "cosh", "CoshBackward0",
    forward=lambda xp, x: xp.cosh(x),
    vjp=lambda xp, g, ans, x: g * xp.sinh(x),
    mirror=lambda x: lazy_head(sp.cosh, x),
    kind="elementwise", elementwise=True, domain=(REAL,),
)


def cosh(input) -> Tensor:
    """Hyperbolic cosine."""
    return apply(COSH, _float_input(input))


ASINH = register(
    "asinh", "AsinhBackward0",
    forward=lambda xp, x: xp.arcsinh(x),
    vjp=lambda xp, g, ans, x: g / xp.sqrt(x * x + 1),
    mirror=lambda x: lazy_head(sp.asinh, x),
    kind="elementwise", elementwise=True, domain=(REAL,),
)


def asinh(input) -> Tensor:
    """Inverse hyperbolic sine."""
    return apply(ASINH, _float_input(input))


# (x - 1)(x + 1) rather than x*x - 1 (and (1 - x)(1 + x) for atanh): no cancellation near
# the end of the domain at 1, where these functions are mostly used.
ACOSH = register(
    "acosh", "AcoshBackward0",
    forward=lambda xp, x: xp.arccosh(x),
    vjp=lambda xp, g, ans, x: g / xp.sqrt((x - 1) * (x + 1)),
    mirror=lambda x: sp.acosh(x),
    kind="elementwise", elementwise=True,
    domain=(Domain(((1.0, math.inf),), typical=(1.05, 5.0)),),
    kinks=Kink(lambda x: np.equal(x, 1), "acosh'(1) = inf (the end of the domain), "
               "as PyTorch"),
)


def acosh(input) -> Tensor:
    """Inverse hyperbolic cosine; ``nan`` below 1."""
    return apply(ACOSH, _float_input(input))


ATANH = register(
    "atanh", "AtanhBackward0",
    forward=lambda xp, x: xp.arctanh(x),
    vjp=lambda xp, g, ans, x: g / ((1 - x) * (1 + x)),
    mirror=lambda x: sp.atanh(x),
    kind="elementwise", elementwise=True,
    domain=(Domain(((-1.0, 1.0),), typical=(-0.95, 0.95)),),
)


def atanh(input) -> Tensor:
    """Inverse hyperbolic tangent; ``+-inf`` at +-1, ``nan`` outside [-1, 1]."""
    return apply(ATANH, _float_input(input))


arcsinh, arccosh, arctanh = asinh, acosh, atanh


# ---------------------------------------------------------------- roots, exp and log forms
SQRT = register(
    "sqrt", "SqrtBackward0",
    forward=lambda xp, x: xp.sqrt(x),
    vjp=lambda xp, g, ans, x: g / (2 * ans),
    mirror=lambda x: sp.sqrt(x),
    kind="elementwise", elementwise=True, domain=(POSITIVE,),
    kinks=Kink(lambda x: np.equal(x, 0), "sqrt'(0) = inf (g / (2 * sqrt(0)); -inf at -0.0), "
               "as PyTorch"),
)


def sqrt(input) -> Tensor:
    """Square root; ``nan`` below 0."""
    return apply(SQRT, _float_input(input))


RSQRT = register(
    "rsqrt", "RsqrtBackward0",
    forward=lambda xp, x: 1 / xp.sqrt(x),
    vjp=lambda xp, g, ans, x: -g * ans * ans * ans / 2,
    mirror=lambda x: 1 / sp.sqrt(x),
    kind="elementwise", elementwise=True, domain=(POSITIVE,),
)


def rsqrt(input) -> Tensor:
    """``1 / sqrt(input)``."""
    return apply(RSQRT, _float_input(input))


def square(input) -> Tensor:
    """``input ** 2``: PyTorch records it as ``pow`` (PowBackward0); integers stay integers."""
    return pow(input, 2)


EXPM1 = register(
    "expm1", "Expm1Backward0",
    forward=lambda xp, x: xp.expm1(x),
    vjp=lambda xp, g, ans, x: g * (ans + 1),
    mirror=lambda x: lazy_head(sp.exp, x) - 1,
    kind="elementwise", elementwise=True, domain=(REAL,),
)


def expm1(input) -> Tensor:
    """``exp(input) - 1``, accurate near 0."""
    return apply(EXPM1, _float_input(input))


LOG1P = register(
    "log1p", "Log1PBackward0",
    forward=lambda xp, x: xp.log1p(x),
    vjp=lambda xp, g, ans, x: g / (x + 1),
    mirror=lambda x: lazy_head(sp.log, 1 + x),
    kind="elementwise", elementwise=True,
    domain=(Domain(((-1.0, math.inf),), typical=(-0.9, 4.0)),),
)


def log1p(input) -> Tensor:
    """``log(1 + input)``, accurate near 0."""
    return apply(LOG1P, _float_input(input))


LOG2 = register(
    "log2", "Log2Backward0",
    forward=lambda xp, x: xp.log(x) / _c(xp.log(2)),
    vjp=lambda xp, g, ans, x: g / (x * _c(xp.log(2))),
    mirror=lambda x: sp.log(x) / sp.log(2),
    kind="elementwise", elementwise=True, domain=(POSITIVE,),
)


def log2(input) -> Tensor:
    """Base-2 logarithm."""
    return apply(LOG2, _float_input(input))


LOG10 = register(
    "log10", "Log10Backward0",
    forward=lambda xp, x: xp.log(x) / _c(xp.log(10)),
    vjp=lambda xp, g, ans, x: g / (x * _c(xp.log(10))),
    mirror=lambda x: sp.log(x) / sp.log(10),
    kind="elementwise", elementwise=True, domain=(POSITIVE,),
)


def log10(input) -> Tensor:
    """Base-10 logarithm."""
    return apply(LOG10, _float_input(input))


ERF = register(
    "erf", "ErfBackward0",
    forward=lambda xp, x: xp.erf(x),
    vjp=lambda xp, g, ans, x: g * 2 * xp.exp(-x * x) / _c(xp.sqrt(_pi(xp))),
    mirror=lambda x: lazy_head(sp.erf, x),
    kind="elementwise", elementwise=True, domain=(REAL,),
)


def erf(input) -> Tensor:
    """The error function ``2/sqrt(pi) * integral_0^x exp(-t**2) dt``."""
    return apply(ERF, _float_input(input))


# ---------------------------------------------------------------- abs and sign
ABS = register(
    "abs", "AbsBackward0",
    forward=lambda xp, x: xp.abs(x),
    vjp=lambda xp, g, ans, x: g * _sgn(xp, x),
    mirror=lambda x: sp.Abs(x),
    kind="elementwise", elementwise=True, domain=(NONZERO,),
    kinks=Kink(lambda x: np.equal(x, 0), "abs'(0) = 0 (the sign of 0), as PyTorch"),
)


def abs(input) -> Tensor:
    """``|input|``; integers stay integers."""
    check_kernel("abs_cpu", tensor_input(input), "b")
    return apply(ABS, input)


SIGN = register(
    "sign", "SignBackward0",
    forward=lambda xp, x: _sgn(xp, x),
    vjp=lambda xp, g, ans, x: xp.zeros_like(g),
    mirror=lambda x: sp.Piecewise((1, x > 0), (-1, x < 0), (0, True)),
    kind="elementwise", elementwise=True, domain=(NONZERO,),
    kinks=Kink(lambda x: np.equal(x, 0), "sign' = 0 everywhere, at its jump at 0 too, "
               "as PyTorch"),
)


def sign(input) -> Tensor:
    """-1, 0 or 1 (0 for nan, as PyTorch); its derivative is 0. Bools are their own sign."""
    if tensor_input(input)._data.dtype.kind == "b":
        return Tensor._wrap(input._data.copy())
    return apply(SIGN, input)


# ---------------------------------------------------------------- rounding
# Piecewise constant: the derivative is 0 between the jumps and PyTorch returns 0 at the
# jumps too. The mirrors use ``_floor_ae``, a SymPy floor whose derivative is 0 (SymPy's
# own floor leaves ``Derivative(floor(x), x)`` unevaluated).
_FLOOR_AE: list = []


def _floor_ae(x) -> Any:
    """``floor(x)`` for the mirrors, with ``d/dx floor(x) = 0`` (true away from the jumps)."""
    if not _FLOOR_AE:
        import sympy

        class floor(sympy.Function):  # printed (and evaluated by mpmath) as floor
            @classmethod
            def eval(cls, arg):
                return sympy.floor(arg) if arg.is_Number else None

            def fdiff(self, argindex=1):
                return sympy.S.Zero

        _FLOOR_AE.append(floor)
    return _FLOOR_AE[0](x)


def _round_half_even(xp, x) -> Any:
    """Round to the nearest integer, ties to even, with only ``xp.floor`` (x - floor(x) is
    exact in floating point, so this is exact too)."""
    r = xp.floor(x)
    d = x - r
    out = xp.where(xp.greater(d, 0.5), r + 1,
                   xp.where(xp.less(d, 0.5), r, 2 * xp.floor((r + 1) / 2)))
    out = xp.where(xp.equal(out, 0), x * 0, out)  # -0.3 rounds to -0.0, as PyTorch
    return xp.where(xp.isfinite(x), out, x)


def _round(xp, x, decimals) -> Any:
    if decimals == 0:
        return _round_half_even(xp, x)
    if decimals > 0:
        s = 10.0 ** decimals
        return _round_half_even(xp, x * s) / s
    s = 10.0 ** -decimals
    return _round_half_even(xp, x / s) * s


def _round_mirror(x, decimals=0) -> Any:
    s = sp.Integer(10) ** decimals
    y = x * s
    r = _floor_ae(y)
    half = sp.Rational(1, 2)
    return sp.Piecewise((r + 1, y - r > half), (r, y - r < half),
                        (2 * _floor_ae((r + 1) / 2), True)) / s


def _integers(x) -> Any:
    return np.equal(np.floor(x), x)


FLOOR = register(
    "floor", "FloorBackward0",
    forward=lambda xp, x: xp.floor(x),
    vjp=lambda xp, g, ans, x: xp.zeros_like(g),
    mirror=lambda x: _floor_ae(x),
    kind="elementwise", elementwise=True, domain=(REAL,),
    kinks=Kink(_integers, "floor' = 0, at its jumps (the integers) too, as PyTorch"),
)


def _integral(input, kernel: str) -> Tensor | None:
    """floor/ceil/round/trunc of an integer tensor: a copy, as PyTorch (numpy gives floats);
    of a bool tensor: PyTorch's error."""
    if not isinstance(input, Tensor):
        raise not_tensor(kernel.split("_")[0], input)
    check_kernel(kernel, input, "b")
    if isinstance(input, Tensor) and input._data.dtype.kind in "iu":
        return Tensor._wrap(input._data.copy())
    return None


def floor(input) -> Tensor:
    """The largest integer <= input (a float tensor stays float); its derivative is 0."""
    same = _integral(input, "floor_vml_cpu")
    return same if same is not None else apply(FLOOR, input)


CEIL = register(
    "ceil", "CeilBackward0",
    forward=lambda xp, x: -xp.floor(-x),
    vjp=lambda xp, g, ans, x: xp.zeros_like(g),
    mirror=lambda x: -_floor_ae(-x),
    kind="elementwise", elementwise=True, domain=(REAL,),
    kinks=Kink(_integers, "ceil' = 0, at its jumps (the integers) too, as PyTorch"),
)


def ceil(input) -> Tensor:
    """The smallest integer >= input; its derivative is 0."""
    same = _integral(input, "ceil_vml_cpu")
    return same if same is not None else apply(CEIL, input)


TRUNC = register(
    "trunc", "TruncBackward0",
    forward=lambda xp, x: xp.where(xp.less(x, 0), -xp.floor(-x), xp.floor(x)),
    vjp=lambda xp, g, ans, x: xp.zeros_like(g),
    mirror=lambda x: sp.Piecewise((-_floor_ae(-x), x < 0), (_floor_ae(x), True)),
    kind="elementwise", elementwise=True, domain=(REAL,),
    kinks=Kink(lambda x: _integers(x) & np.not_equal(x, 0),
               "trunc' = 0, at its jumps (the nonzero integers) too, as PyTorch"),
)


def trunc(input) -> Tensor:
    """Round towards zero; its derivative is 0."""
    same = _integral(input, "trunc_vml_cpu")
    return same if same is not None else apply(TRUNC, input)


ROUND = register(
    "round", "RoundBackward0",
    forward=lambda xp, x, *, decimals=0: _round(xp, x, decimals),
    vjp=lambda xp, g, ans, x, *, decimals=0: xp.zeros_like(g),
    mirror=_round_mirror,
    kind="elementwise", elementwise=True, domain=(REAL,),
    params={"decimals": (0, 2, -1)},
    kinks=Kink(lambda x, *, decimals=0: np.equal(np.abs(np.fmod(x * 10.0 ** decimals, 1)), 0.5),
               "round' = 0, at its jumps (halfway between integers) too, as PyTorch"),
)
ROUND_DECIMALS = ROUND.variant("RoundBackward1")


def round(input, *, decimals: int = 0) -> Tensor:
    """Round half to even (as PyTorch and numpy), to ``decimals`` decimal places."""
    if decimals == 0:
        same = _integral(input, "round_vml_cpu")
        return same if same is not None else apply(ROUND, input)
    check_kernel("round_cpu", tensor_input(input), "b")
    return apply(ROUND_DECIMALS, input, decimals=int(decimals))


# ================================================================ compound pointwise ops
# PyTorch computes these in one kernel and records one node (AddcmulBackward0, ...), so
# they are records here too rather than compositions of add and mul.
def _pointwise_tensors(name: str, names: tuple, args: tuple) -> None:
    for position, (n, a) in enumerate(zip(names, args), 1):
        if not isinstance(a, Tensor):
            raise TypeError(f"{name}(): argument '{n}' (position {position}) must be Tensor, "
                            f"not {type(a).__name__}")


def _value_for(value: Any, *tensors: Tensor) -> Any:
    """addcmul/addcdiv's ``value`` in the result dtype: PyTorch truncates it for integers."""
    res = _dtype.result_type(*[t._data for t in tensors[:2]])
    for t in tensors[2:]:
        res = _dtype.result_type(np.empty((1,) * t._data.ndim, res), t._data)
    if res.kind in "iu" and not isinstance(value, bool):
        return int(value)
    return value


ADDCMUL = register(
    "addcmul", "AddcmulBackward0",
    forward=lambda xp, x, t1, t2, *, value=1: x + value * t1 * t2,
    vjp=(lambda xp, g, ans, x, t1, t2, *, value=1: g,
         lambda xp, g, ans, x, t1, t2, *, value=1: g * value * t2,
         lambda xp, g, ans, x, t1, t2, *, value=1: g * value * t1),
    mirror=lambda x, t1, t2, *, value=1: x + value * t1 * t2,
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, REAL, REAL),
    params={"value": (1, 0.5)},
)


def addcmul(input, tensor1, tensor2, *, value=1) -> Tensor:
    """``input + value * tensor1 * tensor2`` (one node, AddcmulBackward0)."""
    _pointwise_tensors("addcmul", ("input", "tensor1", "tensor2"), (input, tensor1, tensor2))
    if all(t._data.dtype.kind == "b" for t in (input, tensor1, tensor2)):
        raise NotImplementedError("\"addcmul_cpu_out\" not implemented for 'Bool'")
    value = _value_for(value, input, tensor1, tensor2)
    try:
        return apply(ADDCMUL, input, tensor1, tensor2, value=value)
    except ValueError:
        broadcast_check(input, tensor1)
        broadcast_check(input, tensor2)
        broadcast_check(tensor1, tensor2)
        raise


ADDCDIV = register(
    "addcdiv", "AddcdivBackward0",
    forward=lambda xp, x, t1, t2, *, value=1: x + value * t1 / t2,
    vjp=(lambda xp, g, ans, x, t1, t2, *, value=1: g,
         lambda xp, g, ans, x, t1, t2, *, value=1: g * value / t2,
         lambda xp, g, ans, x, t1, t2, *, value=1: -g * value * t1 / (t2 * t2)),
    mirror=lambda x, t1, t2, *, value=1: x + value * t1 / t2,
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, REAL, NONZERO),
    params={"value": (1, 0.5)},
)


def addcdiv(input, tensor1, tensor2, *, value=1) -> Tensor:
    """``input + value * tensor1 / tensor2`` (one node, AddcdivBackward0); integer
    ``tensor1`` and ``tensor2`` are refused, as PyTorch refuses them."""
    _pointwise_tensors("addcdiv", ("input", "tensor1", "tensor2"), (input, tensor1, tensor2))
    if tensor1._data.dtype.kind in "biu" and tensor2._data.dtype.kind in "biu":
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a "
                           "future release addcdiv will perform a true division of tensor1 and "
                           "tensor2. Use addcdiv with floating point tensors (or torch.div with "
                           "rounding_mode) instead.")
    try:
        return apply(ADDCDIV, input, tensor1, tensor2, value=_value_for(value, input, tensor1,
                                                                         tensor2))
    except ValueError:
        broadcast_check(input, tensor1)
        broadcast_check(input, tensor2)
        broadcast_check(tensor1, tensor2)
        raise


def _lerp(xp, x, end, weight) -> Any:
    """PyTorch's two-sided form: from ``x`` for weight < 1/2, from ``end`` above, so that
    weight 1 gives ``end`` exactly."""
    if xp.name != "numpy":
        return x + weight * (end - x)
    small = np.abs(weight) < 0.5
    return np.where(small, x + weight * (end - x), end - (end - x) * (1 - weight))


LERP = register(
    "lerp", "LerpBackward0",
    forward=lambda xp, x, end, *, weight=0.5: _lerp(xp, x, end, weight),
    vjp=(lambda xp, g, ans, x, end, *, weight=0.5: g * (1 - weight),
         lambda xp, g, ans, x, end, *, weight=0.5: g * weight),
    mirror=lambda x, end, *, weight=0.5: x + weight * (end - x),
    kind="elementwise", elementwise=True, domain=(REAL, REAL),
    params={"weight": (0.25, 0.75)},
    doc="lerp with a number weight",
)

LERP_TENSOR = register(
    "lerp_tensor", "LerpBackward1",
    forward=lambda xp, x, end, weight: _lerp(xp, x, end, weight),
    vjp=(lambda xp, g, ans, x, end, weight: g * (1 - weight),
         lambda xp, g, ans, x, end, weight: g * weight,
         lambda xp, g, ans, x, end, weight: g * (end - x)),
    mirror=lambda x, end, weight: x + weight * (end - x),
    kind="elementwise", elementwise=True, domain=(REAL, REAL, REAL),
    doc="lerp with a tensor weight",
)


def lerp(input, end, weight) -> Tensor:
    """``input + weight * (end - input)``; floating tensors of one dtype (PyTorch's rule)."""
    _pointwise_tensors("lerp", ("input", "end"), (input, end))
    tensor_weight = isinstance(weight, Tensor)
    kernel = "lerp_kernel_tensor" if tensor_weight else "lerp_kernel_scalar"
    check_kernel(kernel, input)
    others = (("end", end), ("weight", weight)) if tensor_weight else (("end", end),)
    for name, t in others:
        if t._data.dtype != input._data.dtype and t._data.dtype != object \
                and input._data.dtype != object:
            raise RuntimeError(f"expected dtype {_C_TYPES[input._data.dtype.name]} for `{name}` "
                               f"but got dtype {_C_TYPES.get(t._data.dtype.name, 'bool')}")
    try:
        if tensor_weight:
            return apply(LERP_TENSOR, input, end, weight)
        w = weight.item() if isinstance(weight, np.generic) else weight
        return apply(LERP, input, end, weight=w)
    except ValueError:
        broadcast_check(input, end)
        raise


def _nonzero_integers(x) -> Any:
    return np.equal(np.floor(x), x) & np.not_equal(x, 0)


FRAC = register(
    "frac", "FracBackward0",
    forward=lambda xp, x: x - xp.where(xp.less(x, 0), -xp.floor(-x), xp.floor(x)),
    vjp=lambda xp, g, ans, x: g,
    mirror=lambda x: x - sp.Piecewise((-_floor_ae(-x), x < 0), (_floor_ae(x), True)),
    kind="elementwise", elementwise=True, domain=(REAL,),
    kinks=Kink(_nonzero_integers, "frac jumps at the nonzero integers; frac' = 1 there too, "
               "as PyTorch"),
)


def frac(input) -> Tensor:
    """The fractional part, ``input - trunc(input)`` (its derivative is 1)."""
    check_kernel("frac_cpu", tensor_input(input))
    return apply(FRAC, input)


EXP2 = POW_SCALAR_BASE.variant("Exp2Backward0")


def exp2(input) -> Tensor:
    """``2 ** input`` (Exp2Backward0); integers and bools give the default float dtype."""
    return apply(EXP2, _float_input(input), base=2.0)


def _logit_vjp(xp, g, ans, x, *, lo=None, hi=None):
    d = g / (x * (1 - x))
    if lo is None:   # PyTorch: nan outside [0, 1], where logit itself is nan
        return xp.where(xp.logical_or(xp.less(x, 0), xp.greater(x, 1)), math.nan, d)
    return xp.where(xp.logical_or(xp.less(x, lo), xp.greater(x, hi)), 0, d)


def _logit_mirror(x, *, lo=None, hi=None):
    if lo is None:
        return sp.log(x / (1 - x))
    return sp.Piecewise((sp.log(lo / (1 - lo)), x < lo), (sp.log(hi / (1 - hi)), x > hi),
                        (sp.log(x / (1 - x)), True))


def _logit(xp, x, lo=None, hi=None):
    if lo is not None:
        x = xp.minimum(xp.maximum(x, lo), hi)
    if xp.name == "numpy":
        return xp.log(x / (1 - x))                 # PyTorch's kernel
    return xp.log(x) - xp.log1p(-x)   # exact where a bound (a Python float) was taken


LOGIT = register(
    "logit", "LogitBackward0",
    forward=lambda xp, x, *, lo=None, hi=None: _logit(xp, x, lo, hi),
    vjp=_logit_vjp,
    mirror=_logit_mirror,
    kind="elementwise", elementwise=True,
    domain=(Domain(((0.0, 1.0),), (0.05, 0.95)),),
    examples=((((3,),), {}), (((3,),), {"lo": 0.25, "hi": 0.75})),
    kinks=Kink(lambda x, *, lo=None, hi=None: (np.equal(x, lo) | np.equal(x, hi))
               if lo is not None else np.zeros(np.shape(x), dtype=bool),
               "logit(x, eps) clamps x to [eps, 1 - eps]: at the bounds the gradient is the "
               "inner one (1 / (x (1 - x))), 0 outside, as PyTorch"),
)


def logit(input, eps: float | None = None) -> Tensor:
    """``log(p / (1 - p))``; with ``eps`` (>= 0), ``p`` is first clamped to [eps, 1 - eps]
    and the gradient is 0 outside. Integers and bools give the default float dtype."""
    x = _floating(tensor_input(input))
    if eps is None or eps < 0:
        return apply(LOGIT, x)
    return apply(LOGIT, x, lo=float(eps), hi=1 - float(eps))


HYPOT = register(
    "hypot", "HypotBackward0",
    forward=lambda xp, x, y: xp.sqrt(x * x + y * y) if xp.name != "numpy" else np.hypot(x, y),
    vjp=(lambda xp, g, ans, x, y: g * x / ans,
         lambda xp, g, ans, x, y: g * y / ans),
    mirror=lambda x, y: sp.sqrt(x ** 2 + y ** 2),
    kind="elementwise", elementwise=True, promote=True, domain=(NONZERO, NONZERO),
    kinks=Kink(lambda x, y: np.equal(x, 0) & np.equal(y, 0),
               "at the origin the gradient is 0 / 0 = nan, as PyTorch"),
)


def hypot(input, other) -> Tensor:
    """``sqrt(input**2 + other**2)`` without overflow or underflow (numpy's hypot)."""
    _pointwise_tensors("hypot", ("input", "other"), (input, other))
    check_kernel("hypot_cpu", _dtype.result_type(input._data, other._data))
    return _binary(HYPOT, input, other)


# ================================================================ more activations
# torch.nn.functional's pointwise activations. ``inplace=True`` writes the result into the
# input (PyTorch names some of those nodes ...Backward1, as here).
def _in_place(input: Tensor, op, name: str, **params) -> Tensor:
    from symgrad.ops.inplace import inplace

    def fn(t):
        return apply(op, t, **params)

    fn.__name__ = name
    return inplace(input, fn)


LEAKY_RELU = register(
    "leaky_relu", "LeakyReluBackward0",
    forward=lambda xp, x, negative_slope=0.01: xp.where(xp.greater(x, 0), x, x * negative_slope),
    vjp=lambda xp, g, ans, x, negative_slope=0.01: _backward_op(
        LEAKY_RELU_BACKWARD, xp, g, x, negative_slope=negative_slope),
    mirror=lambda x, negative_slope=0.01: sp.Piecewise((x, x > 0), (negative_slope * x, True)),
    kind="elementwise", elementwise=True, domain=(NONZERO,),
    params={"negative_slope": (0.01, 0.2)},
    kinks=Kink(lambda x, negative_slope=0.01: np.equal(x, 0),
               "leaky_relu'(0) = negative_slope (the left slope), as PyTorch"),
)
LEAKY_RELU_INPLACE = LEAKY_RELU.variant("LeakyReluBackward1")

LEAKY_RELU_BACKWARD = register(
    "leaky_relu_backward", "LeakyReluBackwardBackward0",
    forward=lambda xp, grad, x, negative_slope=0.01: xp.where(
        xp.greater(x, 0), grad, grad * negative_slope),
    vjp=(lambda xp, g, ans, grad, x, negative_slope=0.01: xp.where(
        xp.greater(x, 0), g, g * negative_slope),
         lambda xp, g, ans, grad, x, negative_slope=0.01: xp.zeros_like(g)),
    mirror=lambda grad, x, negative_slope=0.01: sp.Piecewise(
        (grad, x > 0), (negative_slope * grad, True)),
    kind="elementwise", elementwise=True, domain=(REAL, NONZERO),
    params={"negative_slope": (0.01, 0.2)},
    kinks=Kink(lambda grad, x, negative_slope=0.01: np.equal(x, 0) & np.not_equal(grad, 0),
               "the step at x == 0 has derivative 0 there, as PyTorch"),
    doc="leaky_relu's backward: grad where x > 0, else negative_slope * grad",
)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``input`` where positive, ``negative_slope * input`` elsewhere."""
    check_kernel("leaky_relu_cpu", input)
    if inplace:
        return _in_place(input, LEAKY_RELU_INPLACE, "leaky_relu",
                         negative_slope=float(negative_slope))
    return apply(LEAKY_RELU, input, negative_slope=float(negative_slope))


ELU = register(
    "elu", "EluBackward0",
    forward=lambda xp, x, alpha=1.0: xp.where(xp.greater(x, 0), x, alpha * xp.expm1(x)),
    # exp(min(x, 0)): the branch not taken cannot overflow (no inf * 0 = nan upstream)
    vjp=lambda xp, g, ans, x, alpha=1.0: xp.where(
        xp.less_equal(x, 0), g * alpha * xp.exp(xp.minimum(x, 0)), g),
    mirror=lambda x, alpha=1.0: sp.Piecewise((x, x > 0), (alpha * (sp.exp(x) - 1), True)),
    kind="elementwise", elementwise=True, domain=(NONZERO,),
    params={"alpha": (1.0, 2.0, 0.5)},
    kinks=Kink(lambda x, alpha=1.0: np.equal(x, 0) & (alpha != 1),
               "elu'(0) = alpha (the left derivative), as PyTorch; smooth at 0 when alpha = 1"),
)
ELU_INPLACE = ELU.variant("EluBackward1")


def elu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``input`` where positive, ``alpha * (exp(input) - 1)`` elsewhere."""
    check_kernel("elu_cpu", input)
    if inplace:
        return _in_place(input, ELU_INPLACE, "elu", alpha=float(alpha))
    return apply(ELU, input, alpha=float(alpha))


def _gelu(xp, x, approximate) -> Any:
    if approximate == "tanh":
        inner = _c(xp.sqrt(2 / _pi(xp))) * (x + x * x * x * 44715 / 1000000)
        return x * (1 + xp.tanh(inner)) / 2
    return x * (1 + xp.erf(x / _c(xp.sqrt(2)))) / 2


def _gelu_grad(xp, x, approximate) -> Any:
    if approximate == "tanh":
        k = _c(xp.sqrt(2 / _pi(xp)))
        t = xp.tanh(k * (x + x * x * x * 44715 / 1000000))
        return (1 + t) / 2 + x * (1 - t * t) * k * (1 + x * x * 134145 / 1000000) / 2
    cdf = (1 + xp.erf(x / _c(xp.sqrt(2)))) / 2
    pdf = xp.exp(-x * x / 2) / _c(xp.sqrt(2 * _pi(xp)))
    return cdf + x * pdf


def _gelu_mirror(x, approximate="none") -> Any:
    if approximate == "tanh":
        kappa = sp.Rational(44715, 1000000)
        return x / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (x + kappa * x ** 3)))
    return x / 2 * (1 + sp.erf(x / sp.sqrt(2)))


GELU = register(
    "gelu", "GeluBackward0",
    forward=lambda xp, x, approximate="none": _gelu(xp, x, approximate),
    vjp=lambda xp, g, ans, x, approximate="none": g * _gelu_grad(xp, x, approximate),
    mirror=_gelu_mirror,
    kind="elementwise", elementwise=True, domain=(REAL,),
    params={"approximate": ("none", "tanh")},
)


def gelu(input, approximate: str = "none") -> Tensor:
    """``input * Phi(input)`` (Phi the standard normal CDF), or its tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    check_kernel("GeluKernelImpl", input)
    if approximate == "none":
        return apply(GELU, input)
    return apply(GELU, input, approximate=approximate)


SOFTPLUS = register(
    "softplus", "SoftplusBackward0",
    forward=lambda xp, x, beta=1.0, threshold=20.0: xp.where(
        xp.greater(x * beta, threshold), x, xp.softplus(x * beta) / beta),
    vjp=lambda xp, g, ans, x, beta=1.0, threshold=20.0: xp.where(
        xp.greater(x * beta, threshold), g, g * xp.sigmoid(x * beta)),
    # PyTorch's function, linear region included (it is not log(1 + exp) there)
    mirror=lambda x, beta=1.0, threshold=20.0: sp.Piecewise(
        (x, beta * x > threshold), (sp.log(1 + sp.exp(beta * x)) / beta, True)),
    kind="elementwise", elementwise=True, domain=(REAL,),
    examples=((((3,),), {"beta": 1.0, "threshold": 20.0}),
              (((3,),), {"beta": 2.0, "threshold": 1.0})),
    kinks=Kink(lambda x, beta=1.0, threshold=20.0: np.equal(x * beta, threshold),
               "softplus jumps where beta * x == threshold (linear above); there the rule is "
               "sigmoid(beta * x), the log(1 + exp) side, as PyTorch"),
)


def softplus(input, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * input)) / beta``, and ``input`` itself where beta*input >
    threshold (as PyTorch); computed without overflow."""
    check_kernel("softplus_cpu", input)
    return apply(SOFTPLUS, input, beta=float(beta), threshold=float(threshold))


def _silu_grad(xp, x) -> Any:
    s = xp.sigmoid(x)
    return s * (1 + x * (1 - s))


SILU = register(
    "silu", "SiluBackward0",
    forward=lambda xp, x: x * xp.sigmoid(x),
    vjp=lambda xp, g, ans, x: g * _silu_grad(xp, x),
    mirror=lambda x: x / (1 + lazy_head(sp.exp, -x)),
    kind="elementwise", elementwise=True, domain=(Domain(typical=(-8.0, 8.0)),),
)


def silu(input, inplace: bool = False) -> Tensor:
    """``input * sigmoid(input)`` (swish)."""
    check_kernel("silu_cpu", input)
    if inplace:
        return _in_place(input, SILU, "silu")
    return apply(SILU, input)


LOGSIGMOID = register(
    "logsigmoid", "LogSigmoidBackward0",
    forward=lambda xp, x: -xp.softplus(-x),
    vjp=lambda xp, g, ans, x: g * xp.sigmoid(-x),
    mirror=lambda x: lazy_head(sp.log, 1 / (1 + lazy_head(sp.exp, -x))),
    kind="elementwise", elementwise=True, domain=(Domain(typical=(-8.0, 8.0)),),
)


def logsigmoid(input) -> Tensor:
    """``log(sigmoid(input))``, computed without overflow or log(0)."""
    check_kernel("log_sigmoid_cpu", input)
    return apply(LOGSIGMOID, input)


HARDTANH = register(
    "hardtanh", "HardtanhBackward0",
    forward=lambda xp, x, min_val=-1.0, max_val=1.0: xp.minimum(xp.maximum(x, min_val), max_val),
    # PyTorch's test: 0 where x <= min_val or x >= max_val (so nan passes g through)
    vjp=lambda xp, g, ans, x, min_val=-1.0, max_val=1.0: _backward_op(
        HARDTANH_BACKWARD, xp, g, x, min_val=min_val, max_val=max_val),
    # written so that its derivative at a bound is PyTorch's 0 (the flat side)
    mirror=lambda x, min_val=-1.0, max_val=1.0: sp.Piecewise(
        (min_val, x <= min_val), (max_val, x >= max_val), (x, True)),
    kind="elementwise", elementwise=True, domain=(Domain(typical=(-2.0, 2.0)),),
    examples=((((3,),), {"min_val": -1.0, "max_val": 1.0}),
              (((3,),), {"min_val": 0.0, "max_val": 6.0})),
    kinks=Kink(lambda x, min_val=-1.0, max_val=1.0: np.equal(x, min_val) | np.equal(x, max_val),
               "hardtanh' = 0 at x == min_val and at x == max_val, as PyTorch"),
)


HARDTANH_BACKWARD = register(
    "hardtanh_backward", "HardtanhBackwardBackward0",
    forward=lambda xp, grad, x, min_val=-1.0, max_val=1.0: xp.where(
        xp.logical_or(xp.less_equal(x, min_val), xp.greater_equal(x, max_val)), 0, grad),
    vjp=(lambda xp, g, ans, grad, x, min_val=-1.0, max_val=1.0: xp.where(
        xp.logical_or(xp.less_equal(x, min_val), xp.greater_equal(x, max_val)), 0, g),
         lambda xp, g, ans, grad, x, min_val=-1.0, max_val=1.0: xp.zeros_like(g)),
    mirror=lambda grad, x, min_val=-1.0, max_val=1.0: sp.Piecewise(
        (0, (x <= min_val) | (x >= max_val)), (grad, True)),
    kind="elementwise", elementwise=True, domain=(REAL, Domain(typical=(-2.0, 2.0))),
    examples=((((3,), (3,)), {"min_val": -1.0, "max_val": 1.0}),
              (((3,), (3,)), {"min_val": 0.0, "max_val": 6.0})),
    kinks=Kink(lambda grad, x, min_val=-1.0, max_val=1.0: (
        np.equal(x, min_val) | np.equal(x, max_val)) & np.not_equal(grad, 0),
        "the steps at x == min_val and x == max_val have derivative 0 there, as PyTorch"),
    doc="hardtanh's backward: grad where min_val < x < max_val, else 0",
)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
             ) -> Tensor:
    """``input`` clamped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    kind = input._data.dtype.kind if isinstance(input, Tensor) else "f"
    if kind == "b":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    if kind in "iu":   # PyTorch clamps integers to the bounds cast to integers (truncated)
        params = {"min_val": math.trunc(min_val), "max_val": math.trunc(max_val)}
    else:
        params = {"min_val": float(min_val), "max_val": float(max_val)}
    if inplace:
        return _in_place(input, HARDTANH, "hardtanh", **params)
    return apply(HARDTANH, input, **params)


def relu6(input, inplace: bool = False) -> Tensor:
    """``min(max(input, 0), 6)``: PyTorch records it as hardtanh (HardtanhBackward0)."""
    return hardtanh(input, 0.0, 6.0, inplace)


# ================================================================ clamp
# Number bounds are parameters (one argument, ClampBackward1); tensor bounds are arguments
# with their own rules (ClampBackward0). At a bound the input keeps its gradient.
def _clamp(xp, x, lo, hi) -> Any:
    if lo is not None:
        x = xp.maximum(x, lo)
    if hi is not None:
        x = xp.minimum(x, hi)
    return x


def _between(xp, x, lo, hi) -> Any:
    """lo <= x <= hi (a None bound is no bound; nan is outside)."""
    if lo is None:
        return xp.less_equal(x, hi)
    if hi is None:
        return xp.greater_equal(x, lo)
    return xp.logical_and(xp.greater_equal(x, lo), xp.less_equal(x, hi))


def _clamp_mirror(x, min=None, max=None) -> Any:
    """The clamp, written so that its derivative at a bound is PyTorch's choice: x when
    min <= x <= max, max when x > max or max < min, min when x < min."""
    if max is None:
        return sp.Piecewise((x, x >= min), (min, True))
    if min is None:
        return sp.Piecewise((x, x <= max), (max, True))
    return sp.Piecewise((max, (x > max) | (max < min)), (min, x < min), (x, True))


def _on_bound(x, lo, hi) -> Any:
    mask = np.zeros(np.shape(x), dtype=bool)
    for b in (lo, hi):
        if b is not None:
            mask = mask | np.equal(x, b)
    return mask


CLAMP = register(
    "clamp", "ClampBackward1",
    forward=lambda xp, x, min=None, max=None: _clamp(xp, x, min, max),
    vjp=lambda xp, g, ans, x, min=None, max=None: xp.where(_between(xp, x, min, max), g, 0),
    mirror=_clamp_mirror,
    kind="elementwise", elementwise=True, domain=(NONZERO,),
    examples=((((3,),), {"min": -1.0, "max": 1.0}), (((3,),), {"min": 0.0}),
              (((3,),), {"max": 0.0}), (((3,),), {"min": 1.0, "max": -1.0})),
    kinks=Kink(lambda x, min=None, max=None: _on_bound(x, min, max),
               "clamp' = 1 at x == min and at x == max (min <= x <= max), as PyTorch; "
               "0 everywhere when min > max"),
)
CLAMP_MIN = CLAMP.variant("ClampMinBackward0")
CLAMP_MAX = CLAMP.variant("ClampMaxBackward0")

CLAMP_TENSOR = register(
    "clamp_tensor", "ClampBackward0",
    forward=lambda xp, x, min, max: xp.minimum(xp.maximum(x, min), max),
    vjp=(lambda xp, g, ans, x, min, max: xp.where(_between(xp, x, min, max), g, 0),
         lambda xp, g, ans, x, min, max: xp.where(
             xp.logical_and(xp.less(x, min), xp.less(min, max)), g, 0),
         lambda xp, g, ans, x, min, max: xp.where(
             xp.logical_or(xp.greater(x, max), xp.less(max, min)), g, 0)),
    mirror=_clamp_mirror,
    kind="elementwise", elementwise=True, promote=True,
    # min < 0 < max: the proofs never sample the kink min == max (max < min: see the tests)
    domain=(NONZERO, Domain(((-math.inf, 0.0),), typical=(-2.0, 0.0)), POSITIVE),
    examples=((((), (), ()), {}),),
    kinks=Kink(lambda x, min, max: _on_bound(x, min, max) | np.equal(min, max),
               "at x == min or x == max the input gets the gradient (min <= x <= max); min "
               "gets it where x < min < max, max where x > max or max < min (so where "
               "min == max > x neither bound does), as PyTorch"),
)

CLAMP_MIN_TENSOR = register(
    "clamp_min_tensor", "ClampMinBackward1",
    forward=lambda xp, x, min: xp.maximum(x, min),
    vjp=(lambda xp, g, ans, x, min: xp.where(xp.greater_equal(x, min), g, 0),
         lambda xp, g, ans, x, min: xp.where(xp.less(x, min), g, 0)),
    mirror=lambda x, min: _clamp_mirror(x, min=min),
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, REAL),
    examples=((((), ()), {}),),
    kinks=Kink(lambda x, min: np.equal(x, min),
               "at x == min the input gets the gradient, min does not, as PyTorch"),
)
CLAMP_MIN_TENSOR_CLAMP = CLAMP_MIN_TENSOR.variant("ClampBackward0")

CLAMP_MAX_TENSOR = register(
    "clamp_max_tensor", "ClampMaxBackward1",
    forward=lambda xp, x, max: xp.minimum(x, max),
    vjp=(lambda xp, g, ans, x, max: xp.where(xp.less_equal(x, max), g, 0),
         lambda xp, g, ans, x, max: xp.where(xp.greater(x, max), g, 0)),
    mirror=lambda x, max: _clamp_mirror(x, max=max),
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, REAL),
    examples=((((), ()), {}),),
    kinks=Kink(lambda x, max: np.equal(x, max),
               "at x == max the input gets the gradient, max does not, as PyTorch"),
)
CLAMP_MAX_TENSOR_CLAMP = CLAMP_MAX_TENSOR.variant("ClampBackward0")


def _number_bound(b) -> Any:
    if b is None or not isinstance(b, (int, float, np.number, np.bool_)):
        if b is None:
            return None
        raise TypeError(f"clamp() expects its bounds to be numbers or Tensors, got "
                        f"{type(b).__name__}")
    return b.item() if isinstance(b, np.generic) else b


def _apply_checked(op, *args, **params) -> Tensor:
    try:
        return apply(op, *args, **params)
    except ValueError:
        broadcast_check(*args)
        raise


def clamp(input, min=None, max=None) -> Tensor:
    """``input`` limited to [min, max]; either bound may be None, numbers or tensors."""
    tensor_input(input)
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if not all(b is None or isinstance(b, Tensor) for b in (min, max)):
            raise TypeError("clamp() received an invalid combination of arguments: min and max "
                            "must both be Tensors (or None), or both numbers (or None)")
        if max is None:
            return _apply_checked(CLAMP_MIN_TENSOR_CLAMP, input, min)
        if min is None:
            return _apply_checked(CLAMP_MAX_TENSOR_CLAMP, input, max)
        return _apply_checked(CLAMP_TENSOR, input, min, max)
    return _clamp_numbers(CLAMP, input, min=_number_bound(min), max=_number_bound(max))


def _clamp_numbers(op, input, **bounds) -> Tensor:
    bounds = {k: v for k, v in bounds.items() if v is not None}
    if isinstance(input, Tensor) and input._data.dtype.kind == "b" and all(
            isinstance(v, bool) for v in bounds.values()):   # a bool result: no kernel
        which = "" if len(bounds) == 2 else f"_{next(iter(bounds))}"
        raise NotImplementedError(f"\"clamp{which}_scalar_cpu\" not implemented for 'Bool'")
    bounds = {k: int(v) if isinstance(v, bool) else v for k, v in bounds.items()}  # True: 1
    if any(isinstance(v, float) for v in bounds.values()):
        input = _floating(input)
    elif isinstance(input, Tensor) and input._data.dtype.kind in "iu":
        bounds = {k: checked_scalar(v, input._data.dtype) for k, v in bounds.items()}
    return apply(op, input, **bounds)


clip = clamp


def clamp_min(input, min) -> Tensor:
    """``max(input, min)`` (PyTorch's clamp with a lower bound only)."""
    tensor_input(input)
    if isinstance(min, Tensor):
        return _apply_checked(CLAMP_MIN_TENSOR, input, min)
    return _clamp_numbers(CLAMP_MIN, input, min=_number_bound(min))


def clamp_max(input, max) -> Tensor:
    """``min(input, max)`` (PyTorch's clamp with an upper bound only)."""
    tensor_input(input)
    if isinstance(max, Tensor):
        return _apply_checked(CLAMP_MAX_TENSOR, input, max)
    return _clamp_numbers(CLAMP_MAX, input, max=_number_bound(max))


# ================================================================ binary: maximum, atan2, where
MAXIMUM = register(
    "maximum", "MaximumBackward0",
    forward=lambda xp, x, y: xp.maximum(x, y),
    # a tie splits g in halves; nan (neither < nor ==) passes g to both, as PyTorch
    vjp=(lambda xp, g, ans, x, y: xp.where(xp.less(x, y), 0, xp.where(xp.equal(x, y), g / 2, g)),
         lambda xp, g, ans, x, y: xp.where(xp.greater(x, y), 0,
                                           xp.where(xp.equal(x, y), g / 2, g))),
    mirror=lambda x, y: sp.Max(x, y),
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, REAL),
    examples=((((), ()), {}),),
    kinks=Kink(lambda x, y: np.equal(x, y), "a tie x == y splits the gradient in halves "
               "(g/2 to each), as PyTorch"),
)


def maximum(input, other) -> Tensor:
    """Entrywise larger of two tensors (nan if either is nan), broadcasting."""
    return _binary(MAXIMUM, tensor_input(input), other)


MINIMUM = register(
    "minimum", "MinimumBackward0",
    forward=lambda xp, x, y: xp.minimum(x, y),
    vjp=(lambda xp, g, ans, x, y: xp.where(xp.greater(x, y), 0,
                                           xp.where(xp.equal(x, y), g / 2, g)),
         lambda xp, g, ans, x, y: xp.where(xp.less(x, y), 0, xp.where(xp.equal(x, y), g / 2, g))),
    mirror=lambda x, y: sp.Min(x, y),
    kind="elementwise", elementwise=True, promote=True, domain=(REAL, REAL),
    examples=((((), ()), {}),),
    kinks=Kink(lambda x, y: np.equal(x, y), "a tie x == y splits the gradient in halves "
               "(g/2 to each), as PyTorch"),
)


def minimum(input, other) -> Tensor:
    """Entrywise smaller of two tensors (nan if either is nan), broadcasting."""
    return _binary(MINIMUM, tensor_input(input), other)


def _inv_norm2(xp, y, x) -> Any:
    """1 / (x**2 + y**2), and 0 at the origin (PyTorch's atan2 gradient there is 0)."""
    d = x * x + y * y
    zero = xp.equal(d, 0)
    return xp.where(zero, 0, 1 / xp.where(zero, 1, d))


ATAN2 = register(
    "atan2", "Atan2Backward0",
    forward=lambda xp, y, x: xp.arctan2(y, x),
    vjp=(lambda xp, g, ans, y, x: g * x * _inv_norm2(xp, y, x),
         lambda xp, g, ans, y, x: -g * y * _inv_norm2(xp, y, x)),
    mirror=lambda y, x: sp.atan2(y, x),
    kind="elementwise", elementwise=True, promote=True, domain=(NONZERO, REAL),
    kinks=Kink(lambda y, x: np.equal(y, 0) & np.less_equal(x, 0),
               "at (0, 0) both gradients are 0; on the branch cut y = 0, x < 0 (a jump of "
               "2*pi) the rule gives the one-sided derivatives x/r**2 and -y/r**2; as PyTorch"),
)


def _all_integral(*operands) -> bool:
    for o in operands:
        kind = o._data.dtype.kind if isinstance(o, Tensor) else (
            "f" if isinstance(o, float) else "i")
        if kind not in "biu":
            return False
    return True


def atan2(input, other) -> Tensor:
    """The angle of the point (other, input): ``atan2(y=input, x=other)``, in (-pi, pi]."""
    if _all_integral(*tensor_pair(input, other)):
        input, other = _floating(input), _floating(other)
    return _binary(ATAN2, input, other)


arctan2 = atan2

def _truth(c) -> Any:
    """A condition entry as a SymPy truth value (a number is true when nonzero, as numpy)."""
    return sp.Ne(c, 0) if getattr(c, "is_number", False) else c


WHERE = register(
    "where", "WhereBackward0",
    forward=lambda xp, condition, x, y: xp.where(condition, x, y),
    vjp=(None,
         lambda xp, g, ans, condition, x, y: xp.where(condition, g, 0),
         lambda xp, g, ans, condition, x, y: xp.where(condition, 0, g)),
    mirror=lambda condition, x, y: sp.Piecewise((x, _truth(condition)), (y, True)),
    kind="elementwise", elementwise=True, domain=(REAL, REAL, REAL),
)

def _where_condition(condition) -> Tensor:
    if not isinstance(condition, Tensor):
        raise TypeError(f"where(): argument 'condition' (position 1) must be Tensor, not "
                        f"{type(condition).__name__}")
    dt = condition._data.dtype
    if dt == np.uint8:
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated; "
                      "use a boolean condition instead.", UserWarning, stacklevel=3)
        return Tensor._wrap(condition._data.astype(bool))
    if dt.kind not in "bO":
        name = type_name(dt)
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {name}")
    return condition


def _where_operands(input, other) -> list:
    """``input`` and ``other`` as tensors of their promoted dtype (numbers become 0-d)."""
    ops_ = [input, other]
    tensors = [o for o in ops_ if isinstance(o, Tensor)]
    if tensors:
        from symgrad.ops._apply import _promote

        promoted = _promote([o._data if isinstance(o, Tensor) else o for o in ops_])
        # (numbers wrapped into an integer dtype by _promote; bool and 2 give int64)
        dt = _result_dtype(input, other)
        if dt is None:   # symbolic
            dt = next(d.dtype for d in promoted if isinstance(d, np.ndarray))
        ops_ = [o if isinstance(o, Tensor) else checked_scalar(o, dt) if dt.kind != "O" else p
                for o, p in zip(ops_, promoted)]
    elif any(isinstance(o, float) for o in ops_):
        dt = _dtype.get_default_dtype().np
    elif all(isinstance(o, bool) for o in ops_):
        dt = np.dtype(bool)
    else:
        dt = np.dtype(np.int64)
    out = []
    for o in ops_:
        if not isinstance(o, Tensor):
            o = Tensor._wrap(np.asarray(o, dtype=dt))
        elif o._data.dtype != dt:
            o = o.to(_dtype.from_numpy_dtype(dt))
        out.append(o)
    return out


def where(condition, input=None, other=None) -> Tensor | tuple[Tensor, ...]:
    """``input`` where ``condition`` holds, else ``other`` (broadcasting; numbers allowed).
    With the condition alone: the indices of its True entries, one tensor per dimension."""
    if input is None and other is None:   # nonzero(condition, as_tuple=True): any dtype
        c = tensor_input(condition)._data
        return tuple(Tensor._wrap(i) for i in np.nonzero(c.reshape(1) if c.ndim == 0 else c))
    if input is None or other is None:
        raise TypeError("where() takes a condition and both input and other (or the "
                        "condition alone)")
    cond = _where_condition(condition)
    x, y = _where_operands(input, other)
    return _apply_checked(WHERE, cond, x, y)


# where() under other PyTorch node names: ops that keep some entries and replace the others
# by constants (the constants and the choice are arguments without gradient)
NAN_TO_NUM = WHERE.variant("NanToNumBackward0")
TRIL = WHERE.variant("TrilBackward0")
TRIU = WHERE.variant("TriuBackward0")


def nan_to_num(input, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """nan, +inf and -inf replaced (by 0 and the dtype's largest and smallest finite
    values unless given); the gradient passes only where the input was finite."""
    x = tensor_input(input)
    d = x._data
    if d.dtype.kind != "f":
        return Tensor._wrap(d.copy())
    info = np.finfo(d.dtype)
    hi = info.max if posinf is None else posinf
    lo = info.min if neginf is None else neginf
    with np.errstate(invalid="ignore"):
        repl = np.where(np.isnan(d), nan, np.where(d > 0, hi, lo)).astype(d.dtype)
    return apply(NAN_TO_NUM, np.isfinite(d), x, repl)


# ================================================================ PyTorch's other names
subtract, multiply, negative, absolute = sub, mul, neg, abs
divide = true_divide = div
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
SGN = SIGN.variant("SgnBackward0")


def sgn(input) -> Tensor:
    """``sign`` under PyTorch's other name (the same for real entries; SgnBackward0)."""
    if isinstance(input, Tensor) and input._data.dtype.kind == "b":
        return Tensor._wrap(input._data.copy())
    return apply(SGN, input)


def positive(input) -> Tensor:
    """``input`` itself (``+input``); bools are refused, as PyTorch."""
    if tensor_input(input)._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input

