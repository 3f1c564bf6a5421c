"""More of ``torch.nn.functional``'s pointwise activations: selu, celu, mish, hardswish,
hardsigmoid, hardshrink, softshrink, threshold, prelu and rrelu.

Each is one record (forward, rule, textbook SymPy mirror, domain, kinks) under the node name
PyTorch gives it; elementwise.py holds the older ones (elu, leaky_relu, hardtanh, ...). At a
kink the rule returns what PyTorch's kernel returns, and the ``Kink`` says which side that is.
"""

from __future__ import annotations

import numpy as np

from symgrad.ops._apply import apply
from symgrad.ops._record import NONZERO, REAL, Domain, Kink, register
from symgrad.ops._util import check_kernel, sp, type_name
from symgrad.ops.elementwise import LEAKY_RELU, _in_place
from symgrad.tensor import Tensor

__all__ = ["selu", "celu", "mish", "hardswish", "hardsigmoid", "hardshrink", "softshrink",
           "threshold", "prelu", "rrelu"]

# the constants of Klambauer et al. (2017), as PyTorch uses them
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_WIDE = Domain(typical=(-5.0, 5.0))


# ================================================================ exponential family
SELU = register(
    "selu", "EluBackward0",
    forward=lambda xp, x: SELU_SCALE * xp.where(xp.greater(x, 0), x,
                                                SELU_ALPHA * xp.expm1(xp.minimum(x, 0))),
    vjp=lambda xp, g, ans, x: xp.where(
        xp.greater(x, 0), g * SELU_SCALE,
        SELU_SCALE * (SELU_ALPHA * (g * xp.exp(xp.minimum(x, 0))))),
    mirror=lambda x: SELU_SCALE * sp.Piecewise((x, x > 0), (SELU_ALPHA * (sp.exp(x) - 1), True)),
    kind="elementwise", elementwise=True, domain=(NONZERO,),
    kinks=Kink(lambda x: np.equal(x, 0),
               "selu'(0) = scale * alpha (the left derivative), as PyTorch"),
)
SELU_INPLACE = SELU.variant("EluBackward1")


def selu(input, inplace: bool = False) -> Tensor:
    """``scale * elu(input, alpha)`` with the self-normalising constants."""
    check_kernel("elu_cpu", input)
    return _in_place(input, SELU_INPLACE, "selu") if inplace else apply(SELU, input)


CELU = register(
    "celu", "CeluBackward0",
    forward=lambda xp, x, alpha=1.0: xp.where(xp.greater(x, 0), x,
                                              alpha * xp.expm1(xp.minimum(x, 0) / alpha)),
    vjp=lambda xp, g, ans, x, alpha=1.0: xp.where(
        xp.greater(x, 0), g, g * xp.exp(xp.minimum(x, 0) / alpha)),
    mirror=lambda x, alpha=1.0: sp.Piecewise((x, x > 0), (alpha * (sp.exp(x / alpha) - 1), True)),
    kind="elementwise", elementwise=True, domain=(REAL,),
    params={"alpha": (1.0, 2.0, 0.5)},
)
CELU_INPLACE = CELU.variant("CeluBackward1")


def celu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``: continuously differentiable."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    check_kernel("elu_cpu", input)
    if inplace:
        return _in_place(input, CELU_INPLACE, "celu", alpha=float(alpha))
    return apply(CELU, input, alpha=float(alpha))


def _mish_grad(xp, x):
    t = xp.tanh(xp.softplus(x))
    return t + x * xp.sigmoid(x) * (1 - t * t)


MISH = register(
    "mish", "MishBackward0",
    forward=lambda xp, x: x * xp.tanh(xp.softplus(x)),
    vjp=lambda xp, g, ans, x: g * _mish_grad(xp, x),
    mirror=lambda x: x * sp.tanh(sp.log(1 + sp.exp(x))),
    kind="elementwise", elementwise=True, domain=(_WIDE,),
)


def mish(input, inplace: bool = False) -> Tensor:
    """``input * tanh(softplus(input))``; PyTorch keeps MishBackward0 in place too."""
    check_kernel("mish_cpu", input)
    return _in_place(input, MISH, "mish") if inplace else apply(MISH, input)


# ================================================================ piecewise linear
def _at(*points):
    return lambda x: np.isin(x, points)


HARDSWISH = register(
    "hardswish", "HardswishBackward0",
    forward=lambda xp, x: x * xp.minimum(xp.maximum(x + 3, 0), 6) / 6,
    vjp=lambda xp, g, ans, x: xp.where(
        xp.less_equal(x, -3), xp.zeros_like(g), xp.where(xp.less(x, 3), g * (x / 3 + 0.5), g)),
    mirror=lambda x: sp.Piecewise((0, x <= -3), (x * (x + 3) / 6, x < 3), (x, True)),
    kind="elementwise", elementwise=True, domain=(Domain(((-np.inf, -3.0), (-3.0, 3.0),
                                                          (3.0, np.inf)), (-5.0, 5.0)),),
    kinks=Kink(_at(-3.0, 3.0), "hardswish' = 0 at -3 and 1 at 3 (the outer sides), as PyTorch"),
)


def hardswish(input, inplace: bool = False) -> Tensor:
    """``input * relu6(input + 3) / 6``."""
    check_kernel("hardswish_cpu", input)
    return _in_place(input, HARDSWISH, "hardswish") if inplace else apply(HARDSWISH, input)


HARDSIGMOID = register(
    "hardsigmoid", "HardsigmoidBackward0",
    forward=lambda xp, x: xp.minimum(xp.maximum(x + 3, 0), 6) / 6,
    vjp=lambda xp, g, ans, x: xp.where(
        xp.logical_and(xp.greater(x, -3), xp.less(x, 3)), g / 6, xp.zeros_like(g)),
    mirror=lambda x: sp.Piecewise((0, x <= -3), (1, x >= 3), ((x + 3) / 6, True)),
    kind="elementwise", elementwise=True, domain=(Domain(((-np.inf, -3.0), (-3.0, 3.0),
                                                          (3.0, np.inf)), (-5.0, 5.0)),),
    kinks=Kink(_at(-3.0, 3.0), "hardsigmoid' = 0 at -3 and at 3 (the flat sides), as PyTorch"),
)


def hardsigmoid(input, inplace: bool = False) -> Tensor:
    """``relu6(input + 3) / 6``."""
    check_kernel("hardsigmoid_cpu", input)
    return _in_place(input, HARDSIGMOID, "hardsigmoid") if inplace else apply(HARDSIGMOID, input)


def _inside(xp, x, lambd):
    return xp.logical_and(xp.greater_equal(x, -lambd), xp.less_equal(x, lambd))


def _on_lambd(x, lambd=0.5):
    return np.equal(np.abs(x), lambd)


_SHRINK_DOMAIN = Domain(((-np.inf, -1.0), (-1.0, -0.5), (-0.5, 0.5), (0.5, 1.0), (1.0, np.inf)),
                        (-2.0, 2.0))
HARDSHRINK = register(
    "hardshrink", "HardshrinkBackward0",
    forward=lambda xp, x, lambd=0.5: xp.where(_inside(xp, x, lambd), xp.zeros_like(x), x),
    vjp=lambda xp, g, ans, x, lambd=0.5: xp.where(_inside(xp, x, lambd), xp.zeros_like(g), g),
    mirror=lambda x, lambd=0.5: sp.Piecewise((0, (x >= -lambd) & (x <= lambd)), (x, True)),
    kind="elementwise", elementwise=True, domain=(_SHRINK_DOMAIN,),
    params={"lambd": (0.5, 1.0)},
    kinks=Kink(_on_lambd, "hardshrink jumps at |x| == lambd; its derivative there is 0 "
               "(the inner side), as PyTorch"),
)


def hardshrink(input, lambd: float = 0.5) -> Tensor:
    """``input`` where ``|input| > lambd``, else 0."""
    check_kernel("hardshrink_cpu", input)
    return apply(HARDSHRINK, input, lambd=float(lambd))


SOFTSHRINK = register(
    "softshrink", "SoftshrinkBackward0",
    forward=lambda xp, x, lambd=0.5: xp.where(
        xp.greater(x, lambd), x - lambd, xp.where(xp.less(x, -lambd), x + lambd, 0 * x)),
    vjp=lambda xp, g, ans, x, lambd=0.5: xp.where(_inside(xp, x, lambd), xp.zeros_like(g), g),
    mirror=lambda x, lambd=0.5: sp.Piecewise((x - lambd, x > lambd), (x + lambd, x < -lambd),
                                             (0, True)),
    kind="elementwise", elementwise=True, domain=(_SHRINK_DOMAIN,),
    params={"lambd": (0.5, 1.0)},
    kinks=Kink(_on_lambd, "softshrink' = 0 at |x| == lambd (the inner side), as PyTorch"),
)


def softshrink(input, lambd: float = 0.5) -> Tensor:
    """``input`` moved ``lambd`` towards 0, and 0 within ``[-lambd, lambd]``."""
    check_kernel("softshrink_cpu", input)
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return apply(SOFTSHRINK, input, lambd=float(lambd))


THRESHOLD = register(
    "threshold", "ThresholdBackward0",
    forward=lambda xp, x, threshold=0.0, value=0.0: xp.where(
        xp.greater(x, threshold), x, 0 * x + value),
    vjp=lambda xp, g, ans, x, threshold=0.0, value=0.0: xp.where(
        xp.greater(x, threshold), g, xp.zeros_like(g)),
    mirror=lambda x, threshold=0.0, value=0.0: sp.Piecewise((x, x > threshold), (value, True)),
    kind="elementwise", elementwise=True,
    domain=(Domain(((-np.inf, 0.0), (0.0, 0.5), (0.5, np.inf)), (-2.0, 2.0)),),
    examples=((((3,),), {"threshold": 0.0, "value": 0.0}),
              (((3,),), {"threshold": 0.5, "value": -2.0})),
    kinks=Kink(lambda x, threshold=0.0, value=0.0: np.equal(x, threshold),
               "threshold' = 0 at x == threshold (the side that is replaced), as PyTorch"),
)
THRESHOLD_INPLACE = THRESHOLD.variant("ThresholdBackward1")


def threshold(input, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``input`` where ``input > threshold``, else ``value``."""
    check_kernel("threshold_cpu", input, refused="b")
    params = {"threshold": threshold, "value": value}
    if input._data.dtype.kind == "f":
        params = {k: float(v) for k, v in params.items()}
    if inplace:
        return _in_place(input, THRESHOLD_INPLACE, "threshold", **params)
    return apply(THRESHOLD, input, **params)


# ================================================================ learned and random slopes
PRELU = register(
    "prelu", "PreluKernelBackward0",
    forward=lambda xp, x, w: xp.where(xp.greater(x, 0), x, w * x),
    vjp=(lambda xp, g, ans, x, w: xp.where(xp.greater(x, 0), g, w * g),
         lambda xp, g, ans, x, w: xp.where(xp.greater(x, 0), xp.zeros_like(g), x * g)),
    mirror=lambda x, w: sp.Piecewise((x, x > 0), (w * x, True)),
    kind="elementwise", elementwise=True, domain=(NONZERO, REAL),
    kinks=Kink(lambda x, w: np.equal(x, 0) & np.not_equal(w, 1),
               "prelu'(0) = weight (the left slope), as PyTorch"),
)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``input`` where positive, ``weight * input`` elsewhere; ``weight`` holds one slope,
    or one per channel (dimension 1 of ``input``)."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        bad = input if not isinstance(input, Tensor) else weight
        raise TypeError(f"prelu(): argument must be Tensor, not {type(bad).__name__}")
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(f"expected scalar type {type_name(input)} but found "
                           f"{type_name(weight)}")
    check_kernel("prelu_cpu", input)
    n, ndim = weight.numel(), input.dim()
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.dim()}")
    if n != 1:
        channels = input.shape[1] if ndim >= 2 else 1
        if ndim == 0 or n != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {n} and channel size = {channels}.")
    if ndim == 0:      # viewed to broadcast over the channels (dimension 1), as PyTorch
        weight = weight.reshape(())
    elif ndim >= 2:
        weight = weight.reshape((1, n) + (1,) * (ndim - 2))
    return apply(PRELU, input, weight)


RRELU = LEAKY_RELU.variant("RreluWithNoiseBackward0")
RRELU_INPLACE = LEAKY_RELU.variant("RreluWithNoiseBackward1")


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """leaky_relu with slope ``(lower + upper) / 2``; in training, each negative entry's
    slope is drawn uniformly from [lower, upper) with symgrad's generator."""
    check_kernel("rrelu_with_noise_cpu", input)
    if not training:
        slope = (float(lower) + float(upper)) / 2
        if inplace:
            return _in_place(input, RRELU_INPLACE, "rrelu", negative_slope=slope)
        return apply(RRELU, input, negative_slope=slope)
    from symgrad.factories import _rng
    from symgrad.ops import elementwise as ew

    if lower > upper:
        raise RuntimeError(f"Lower bound should be less than or equal to the upper bound, "
                           f"but got lower={lower} and upper={upper}")
    dt = input._data.dtype
    draws = _rng().uniform(lower, upper, input._data.shape)
    noise = np.where(input._data > 0, 1.0, draws).astype(dt)   # 0 draws a slope, as PyTorch
    noise_t = Tensor._wrap(np.asarray(noise))
    return input.mul_(noise_t) if inplace else ew.mul(input, noise_t)


# ================================================================ glu
# One node, as PyTorch's GluBackward0: ``a * sigmoid(b)`` for the halves a, b of x along dim.
def _halves(x, dim: int):
    h = x.shape[dim] // 2
    lead = (slice(None),) * dim
    return x[lead + (slice(0, h),)], x[lead + (slice(h, None),)]


def _glu_vjp(xp, g, ans, x, *, dim):
    a, b = _halves(x, dim)
    s = xp.sigmoid(b)
    return xp.concatenate([g * s, g * a * s * (1 - s)], axis=dim)


def _glu_mirror(x, *, dim):
    a, b = _halves(x, dim)
    return a * np.frompyfunc(lambda v: 1 / (1 + sp.exp(-v)), 1, 1)(b)


GLU = register(
    "glu", "GluBackward0",
    forward=lambda xp, x, *, dim: _halves(x, dim)[0] * xp.sigmoid(_halves(x, dim)[1]),
    vjp=(_glu_vjp,),
    mirror=_glu_mirror,
    kind="shape", domain=(REAL,),
    examples=((((2, 4),), {"dim": 1}), (((4, 1),), {"dim": 0})),
    doc="F.glu: the first half gated by the sigmoid of the second",
)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """``a * sigmoid(b)`` for the two halves ``a, b`` of ``input`` along ``dim``."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    n = input.dim()
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % n} is size "
                           f"{size}")
    return apply(GLU, input, dim=dim % n)
