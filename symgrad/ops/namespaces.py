"""Array namespaces: the one vocabulary forwards and rules are written in.

The same rule text runs four ways:

* ``NUMPY``   float arrays, for speed (most entries are numpy's own functions);
* ``MPMATH``  object arrays of mpmath numbers at high precision: the rule evaluated
              (almost) exactly, which separates a wrong rule from float64 rounding;
* ``SYMPY``   object arrays of SymPy expressions: the rule as a formula, for proofs;
* ``tensor_namespace()``  symgrad Tensors, so the backward pass is itself recorded
              (``create_graph=True``) and derivatives of derivatives work.

Rules may use arithmetic operators, comparisons, indexing and the functions below;
nothing else (in particular no ndarray methods such as ``g.sum()``).
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any
from collections.abc import Callable

import numpy as np

from symgrad.ops import _special_np

__all__ = ["NUMPY", "MPMATH", "SYMPY", "tensor_namespace", "unbroadcast", "FUNCTIONS",
           "to_mpmath", "to_exact", "is_namespace", "along_index"]

#: The functions every namespace provides (the vocabulary of forwards and rules).
FUNCTIONS = (
    "exp", "log", "log1p", "expm1", "sqrt", "tanh", "sin", "cos", "tan", "arctan", "arcsin",
    "arccos", "sinh", "cosh", "abs", "sign", "sigmoid", "softplus", "logaddexp", "erf",
    "maximum", "minimum", "where", "arctan2", "floor", "floor_divide", "isfinite",
    "sum", "prod", "amax", "amin", "matmul", "swapaxes", "transpose", "reshape",
    "broadcast_to", "expand_dims", "squeeze", "concatenate", "stack", "zeros_like",
    "ones_like", "index_add", "take_along_axis", "put_along_axis", "repeat_along", "astype",
    "greater", "greater_equal", "less", "less_equal", "equal", "not_equal", "logical_and",
    "logical_or", "logical_not", "cumsum", "einsum", "arcsinh", "arccosh", "arctanh", "cumprod",
    "lgamma", "polygamma", "erfinv", "erfc", "i0", "i1", "i0e", "i1e",
)
# Comparisons are functions, not operators: numpy turns ``a > b`` on object arrays into
# Python bools, which SymPy symbols cannot give; ``xp.greater`` keeps the relation.


def _np_expand_dims(a, axis):
    # np.expand_dims normalises its axis argument in Python (~3 us); one int is a reshape.
    if type(axis) is int and type(a) is np.ndarray:
        s = a.shape
        ax = axis + len(s) + 1 if axis < 0 else axis
        if 0 <= ax <= len(s):
            return a.reshape(s[:ax] + (1,) + s[ax:])
    return np.expand_dims(a, axis)


def _np_sigmoid(x):
    e = np.exp(-np.abs(x))
    r = 1.0 / (1.0 + e)
    return np.where(x >= 0, r, e * r)


def _np_softplus(x):
    return np.logaddexp(0.0, x)


_np_erf = np.frompyfunc(math.erf, 1, 1)
_np_erfc = np.frompyfunc(math.erfc, 1, 1)


def _np_erf_typed(x, fn=_np_erf):
    x = np.asarray(x)
    return np.asarray(fn(x), dtype=x.dtype if x.dtype.kind == "f" else np.float64)


def _np_erfc_typed(x):
    return _np_erf_typed(x, _np_erfc)


def _np_index_add(shape, index, values, like):
    """Zeros of ``shape`` with ``values`` added at ``index`` (repeated indices accumulate)."""
    out = np.zeros(shape, dtype=like.dtype)
    np.add.at(out, index, values)
    return out


def along_index(indices: np.ndarray, axis: int) -> tuple:
    """A fancy index addressing ``a[..., indices[...], ...]`` along ``axis`` (as
    take_along_axis does), usable with ``np.add.at`` so repeated indices accumulate."""
    indices = np.asarray(indices)
    axis = axis % indices.ndim
    grids = np.indices(indices.shape, sparse=True)
    return tuple(indices if d == axis else grids[d] for d in range(indices.ndim))


def _np_put_along_axis(shape, indices, values, axis, like):
    """Zeros of ``shape`` with ``values`` added along ``axis`` at ``indices`` (accumulating)."""
    out = np.zeros(shape, dtype=like.dtype)
    np.add.at(out, along_index(indices, axis), np.broadcast_to(values, np.shape(indices)))
    return out


def _np_repeat_along(a, axis, n):
    return np.repeat(a, n, axis=axis)


_add_reduce, _max_reduce, _min_reduce = np.add.reduce, np.maximum.reduce, np.minimum.reduce


def _amax(a, axis=None, keepdims=False):
    if type(a) is np.ndarray:  # the ufunc's reduce skips np.amax's (and .max's) Python layers
        return _max_reduce(a, axis=axis, keepdims=keepdims)
    return np.amax(a, axis=axis, keepdims=keepdims)


def _amin(a, axis=None, keepdims=False):
    if type(a) is np.ndarray:
        return _min_reduce(a, axis=axis, keepdims=keepdims)
    return np.amin(a, axis=axis, keepdims=keepdims)


def _sum(a, axis=None, keepdims=False):
    if type(a) is np.ndarray:  # what np.sum and .sum call, without their Python layers
        return _add_reduce(a, axis=axis, keepdims=keepdims)
    return np.sum(a, axis=axis, keepdims=keepdims)


NUMPY = SimpleNamespace(
    name="numpy",
    exp=np.exp, log=np.log, log1p=np.log1p, expm1=np.expm1, sqrt=np.sqrt, tanh=np.tanh,
    sin=np.sin, cos=np.cos, tan=np.tan, arctan=np.arctan, arcsin=np.arcsin, arccos=np.arccos,
    sinh=np.sinh, cosh=np.cosh, abs=np.abs, sign=np.sign, sigmoid=_np_sigmoid,
    softplus=_np_softplus, logaddexp=np.logaddexp, erf=_np_erf_typed, maximum=np.maximum,
    minimum=np.minimum, where=np.where, arctan2=np.arctan2, floor=np.floor,
    floor_divide=np.floor_divide, isfinite=np.isfinite,
    sum=_sum, prod=np.prod, amax=_amax, amin=_amin, matmul=np.matmul, swapaxes=np.swapaxes,
    transpose=np.transpose, reshape=np.reshape, broadcast_to=np.broadcast_to,
    expand_dims=_np_expand_dims, squeeze=np.squeeze, concatenate=np.concatenate,
    stack=np.stack, zeros_like=np.zeros_like, ones_like=np.ones_like,
    index_add=_np_index_add, take_along_axis=np.take_along_axis,
    put_along_axis=_np_put_along_axis, repeat_along=_np_repeat_along,
    astype=lambda a, dtype: a.astype(dtype), cumsum=np.cumsum, einsum=np.einsum,
    arcsinh=np.arcsinh, arccosh=np.arccosh, arctanh=np.arctanh, cumprod=np.cumprod,
    greater=np.greater, greater_equal=np.greater_equal, less=np.less, less_equal=np.less_equal,
    equal=np.equal, not_equal=np.not_equal, logical_and=np.logical_and,
    logical_or=np.logical_or, logical_not=np.logical_not,
    lgamma=_special_np.lgamma, polygamma=_special_np.polygamma, erfinv=_special_np.erfinv,
    erfc=_np_erfc_typed,
    i0=lambda x: _special_np.bessel_i(0, x), i1=lambda x: _special_np.bessel_i(1, x),
    i0e=lambda x: _special_np.bessel_i(0, x, True), i1e=lambda x: _special_np.bessel_i(1, x, True),
)


# ---------------------------------------------------------------- object-array namespaces
def _elementwise(fn: Callable, nin: int = 1) -> Callable:
    uf = np.frompyfunc(fn, nin, 1)

    def apply(*args):
        out = uf(*args)
        return out if isinstance(out, np.ndarray) else _object_scalar(out)

    apply.__name__ = getattr(fn, "__name__", "elementwise")
    return apply


def _object_scalar(v) -> np.ndarray:
    a = np.empty((), dtype=object)
    a[()] = v
    return a


def _obj(x) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return x if x.dtype == object else x.astype(object)
    return _object_scalar(x)


def _object_common(**fns) -> dict[str, Any]:
    """The structural functions, shared by both object namespaces."""

    def sum_(a, axis=None, keepdims=False):
        return _obj(np.sum(_obj(a), axis=axis, keepdims=keepdims))

    def prod_(a, axis=None, keepdims=False):
        return _obj(np.prod(_obj(a), axis=axis, keepdims=keepdims))

    def index_add(shape, index, values, like=None):
        out = np.zeros(shape, dtype=int).astype(object)
        np.add.at(out, index, values)
        return out

    def put_along_axis(shape, indices, values, axis, like=None):
        out = np.zeros(shape, dtype=int).astype(object)
        np.add.at(out, along_index(indices, axis), np.broadcast_to(values, np.shape(indices)))
        return out

    def matmul(a, b):
        return _obj(np.matmul(_obj(a), _obj(b)))

    def cumsum(a, axis):
        return _obj(np.cumsum(_obj(a), axis=axis))

    def cumprod(a, axis):
        return _obj(np.cumprod(_obj(a), axis=axis))

    def einsum(equation, *operands):
        return _obj(np.einsum(equation, *[_obj(o) for o in operands]))

    base = dict(
        cumsum=cumsum, cumprod=cumprod, einsum=einsum, sum=sum_, prod=prod_, matmul=matmul,
        swapaxes=np.swapaxes, transpose=np.transpose,
        reshape=np.reshape, broadcast_to=np.broadcast_to, expand_dims=np.expand_dims,
        squeeze=np.squeeze, concatenate=np.concatenate, stack=np.stack,
        zeros_like=lambda a: np.zeros(np.shape(a), dtype=int).astype(object),
        ones_like=lambda a: np.ones(np.shape(a), dtype=int).astype(object),
        index_add=index_add, take_along_axis=np.take_along_axis,
        put_along_axis=put_along_axis, repeat_along=_np_repeat_along,
        astype=lambda a, dtype: a,
    )
    base.update(fns)
    return base


def _make_mpmath():
    import mpmath

    def where(c, a, b):
        return _obj(np.where(np.asarray(c, dtype=object).astype(bool), _obj(a), _obj(b)))

    def reduce_with(fn):
        def red(a, axis=None, keepdims=False):
            return _reduce_axes(_obj(a), axis, keepdims, fn)
        return red

    def sigmoid(x):
        return 1 / (1 + mpmath.exp(-x))

    def softplus(x):
        return mpmath.log(1 + mpmath.exp(x))

    def logaddexp(a, b):
        return mpmath.log(mpmath.exp(a) + mpmath.exp(b))

    def sign(x):
        return mpmath.mpf(mpmath.sign(x))

    def isfinite(x):
        return bool(mpmath.isfinite(x))

    fns = _object_common(
        exp=_elementwise(mpmath.exp), log=_elementwise(_mp_log), log1p=_elementwise(_mp_log1p),
        expm1=_elementwise(mpmath.expm1), sqrt=_elementwise(_mp_sqrt),
        tanh=_elementwise(mpmath.tanh), sin=_elementwise(mpmath.sin),
        cos=_elementwise(mpmath.cos), tan=_elementwise(mpmath.tan),
        arctan=_elementwise(mpmath.atan), arcsin=_elementwise(_mp_asin),
        arccos=_elementwise(_mp_acos), sinh=_elementwise(mpmath.sinh),
        cosh=_elementwise(mpmath.cosh), arcsinh=_elementwise(mpmath.asinh),
        arccosh=_elementwise(_mp_acosh), arctanh=_elementwise(_mp_atanh),
        abs=_elementwise(abs), sign=_elementwise(sign),
        sigmoid=_elementwise(sigmoid), softplus=_elementwise(softplus),
        logaddexp=_elementwise(logaddexp, 2), erf=_elementwise(mpmath.erf),
        maximum=_elementwise(_mp_max, 2), minimum=_elementwise(_mp_min, 2), where=where,
        arctan2=_elementwise(mpmath.atan2, 2), floor=_elementwise(mpmath.floor),
        floor_divide=_elementwise(lambda a, b: mpmath.floor(a / b), 2),
        isfinite=_elementwise(isfinite),
        amax=reduce_with(max), amin=reduce_with(min),
        greater=np.greater, greater_equal=np.greater_equal, less=np.less,
        less_equal=np.less_equal, equal=np.equal, not_equal=np.not_equal,
        logical_and=np.logical_and, logical_or=np.logical_or, logical_not=np.logical_not,
        lgamma=_elementwise(_mp_lgamma), erfinv=_elementwise(_mp_erfinv),
        erfc=_elementwise(mpmath.erfc),
        i0=_elementwise(lambda v: mpmath.besseli(0, v)),
        i1=_elementwise(lambda v: mpmath.besseli(1, v)),
        i0e=_elementwise(lambda v: mpmath.besseli(0, v) * mpmath.exp(-abs(v))),
        i1e=_elementwise(lambda v: mpmath.besseli(1, v) * mpmath.exp(-abs(v))),
        polygamma=lambda n, x: _elementwise(lambda v: _mp_polygamma(n, v))(x),
    )
    fns["matmul"] = _mp_matmul(mpmath)
    return SimpleNamespace(name="mpmath", **fns)


def _mp_matmul(mpmath) -> Callable:
    """``np.matmul`` of object arrays, the product of 2-d ones restricted to the rows of
    ``a`` and the columns of ``b`` that hold a nonzero: a Jacobian's rules run once per
    one-hot cotangent, whose matmul rules then cost a row or a column, not the whole
    product. Each computed entry is numpy's own sum, in the same order; a skipped one is
    the 0 numpy would give (0 * x is 0 for finite x: skipped only then; an int 0 where
    every product is of ints, else mpf 0)."""
    mpf = type(mpmath.mpf(0))
    zero = mpmath.mpf(0)._mpf_

    def live(rows: list) -> list:
        """Indices of the rows holding a nonzero (nan included)."""
        out = []
        for i, row in enumerate(rows):
            for v in row:
                if (v._mpf_ != zero) if type(v) is mpf else (v != 0):
                    out.append(i)
                    break
        return out

    def finite(rows: list) -> bool:
        """Only ints and finite mpfs (whose products with 0 are 0)."""
        for row in rows:
            for v in row:
                t = type(v)
                if not (t is int or t is bool or (t is mpf and (v._mpf_[1] or not v._mpf_[2]))):
                    return False
        return True

    def zero_of(rows: list) -> list:
        return [zero_mp if any(type(v) is mpf for v in row) else 0 for row in rows]

    zero_mp = mpmath.mpf(0)

    def matmul(a, b):
        a, b = _obj(a), _obj(b)
        if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0] or not a.size or not b.size:
            return _obj(np.matmul(a, b))
        a_rows, b_cols = a.tolist(), b.T.tolist()
        rows, cols = live(a_rows), live(b_cols)
        if len(rows) == len(a_rows) and len(cols) == len(b_cols):
            return _obj(np.matmul(a, b))
        if not (finite(a_rows) and finite(b_cols)):   # inf or nan: numpy decides
            return _obj(np.matmul(a, b))
        za, zb = zero_of(a_rows), zero_of(b_cols)
        out = np.empty((len(a_rows), len(b_cols)), dtype=object)
        for i, z in enumerate(za):
            out[i] = [z if z is zero_mp else w for w in zb]
        if rows and cols:
            out[np.ix_(rows, cols)] = np.matmul(a[rows], b[:, cols])
        return out

    return matmul


def _mp_log1p(x):
    import mpmath

    return mpmath.mpf("nan") if x < -1 else mpmath.log1p(x)   # nan below -1 (mpmath: complex)


def _mp_log(x):
    import mpmath

    if x == 0:
        return mpmath.mpf("-inf")
    if x < 0:
        return mpmath.mpf("nan")
    return mpmath.log(x)


def _mp_sqrt(x):
    import mpmath

    return mpmath.mpf("nan") if x < 0 else mpmath.sqrt(x)


def _mp_asin(x):
    # real values only, as numpy: nan outside [-1, 1] (mpmath: complex)
    import mpmath

    return mpmath.asin(x) if abs(x) <= 1 else mpmath.mpf("nan")


def _mp_acos(x):
    import mpmath

    return mpmath.acos(x) if abs(x) <= 1 else mpmath.mpf("nan")   # nan too (mpmath: complex)


def _mp_acosh(x):
    import mpmath

    return mpmath.acosh(x) if x >= 1 else mpmath.mpf("nan")   # nan too (mpmath: complex)


def _mp_atanh(x):
    # real values only, as numpy: nan outside [-1, 1], +-inf at the ends (mpmath: complex)
    import mpmath

    return mpmath.atanh(x) if abs(x) <= 1 else mpmath.mpf("nan")


def _mp_lgamma(x):
    """log|Gamma(x)| (the real part of mpmath's complex loggamma below 0); +inf at the
    poles, as numpy's lgamma."""
    import mpmath

    if mpmath.isnan(x):
        return x
    if x <= 0 and x == mpmath.floor(x):
        return mpmath.mpf("inf")
    return mpmath.re(mpmath.loggamma(x))


def _mp_polygamma(n, x):
    """psi^(n)(x), with numpy's values at the poles (see ``_special_np.polygamma``)."""
    import mpmath

    if mpmath.isnan(x) or x == mpmath.mpf("-inf"):
        return mpmath.mpf("nan")
    if x == mpmath.mpf("inf"):
        return mpmath.mpf("inf") if n == 0 else mpmath.mpf(0)
    if x <= 0 and x == mpmath.floor(x):
        if n == 0:
            return mpmath.mpf("-inf") if x == 0 else mpmath.mpf("nan")
        return mpmath.mpf("inf") if n % 2 else mpmath.mpf("-inf")
    return mpmath.polygamma(n, x)


def _mp_erfinv(x):
    import mpmath

    return mpmath.erfinv(x) if abs(x) <= 1 else mpmath.mpf("nan")   # nan too (mpmath: error)


def _mp_max(a, b):
    import mpmath

    if mpmath.isnan(a) or mpmath.isnan(b):
        return mpmath.mpf("nan")
    return a if a >= b else b


def _mp_min(a, b):
    import mpmath

    if mpmath.isnan(a) or mpmath.isnan(b):
        return mpmath.mpf("nan")
    return a if a <= b else b


def _reduce_axes(a, axis, keepdims, fn):
    if axis is None:
        axes = tuple(range(a.ndim))
    else:
        axes = tuple(ax % a.ndim for ax in (axis if isinstance(axis, tuple) else (axis,)))
    keep = [ax for ax in range(a.ndim) if ax not in axes]
    moved = np.transpose(a, keep + list(axes)).reshape([a.shape[k] for k in keep] + [-1])
    out = np.empty(moved.shape[:-1], dtype=object)
    for idx in np.ndindex(*out.shape):
        out[idx] = fn(list(moved[idx]))
    if keepdims:
        out = out.reshape([1 if ax in axes else a.shape[ax] for ax in range(a.ndim)])
    return out


def _make_sympy():
    import sympy

    def where(c, a, b):
        c, a, b = np.broadcast_arrays(_obj(c), _obj(a), _obj(b))
        out = np.empty(c.shape, dtype=object)
        for idx in np.ndindex(*c.shape):
            cond = c[idx]
            if cond is True or cond == sympy.true:
                out[idx] = a[idx]
            elif cond is False or cond == sympy.false:
                out[idx] = b[idx]
            else:
                out[idx] = sympy.Piecewise((a[idx], cond), (b[idx], True))
        return out

    def red(fn):
        def r(a, axis=None, keepdims=False):
            return _reduce_axes(_obj(a), axis, keepdims, lambda v: fn(*v))
        return r

    def sigmoid(x):
        return 1 / (1 + sympy.exp(-x))

    def softplus(x):
        return sympy.log(1 + sympy.exp(x))

    def logaddexp(a, b):
        return sympy.log(sympy.exp(a) + sympy.exp(b))

    def isfinite(x):
        return sympy.Ne(sympy.Abs(x), sympy.oo)

    fns = _object_common(
        exp=_elementwise(sympy.exp), log=_elementwise(sympy.log), log1p=_elementwise(
            lambda x: sympy.log(1 + x)), expm1=_elementwise(lambda x: sympy.exp(x) - 1),
        sqrt=_elementwise(sympy.sqrt), tanh=_elementwise(sympy.tanh),
        sin=_elementwise(sympy.sin), cos=_elementwise(sympy.cos), tan=_elementwise(sympy.tan),
        arctan=_elementwise(sympy.atan), arcsin=_elementwise(sympy.asin),
        arccos=_elementwise(sympy.acos), sinh=_elementwise(sympy.sinh),
        cosh=_elementwise(sympy.cosh), arcsinh=_elementwise(sympy.asinh),
        arccosh=_elementwise(sympy.acosh), arctanh=_elementwise(sympy.atanh),
        abs=_elementwise(sympy.Abs),
        sign=_elementwise(sympy.sign), sigmoid=_elementwise(sigmoid),
        softplus=_elementwise(softplus), logaddexp=_elementwise(logaddexp, 2),
        erf=_elementwise(sympy.erf), maximum=_elementwise(sympy.Max, 2),
        minimum=_elementwise(sympy.Min, 2), where=where, arctan2=_elementwise(sympy.atan2, 2),
        floor=_elementwise(sympy.floor),
        floor_divide=_elementwise(lambda a, b: sympy.floor(a / b), 2),
        isfinite=_elementwise(isfinite),
        amax=red(sympy.Max), amin=red(sympy.Min),
        greater=_elementwise(sympy.Gt, 2), greater_equal=_elementwise(sympy.Ge, 2),
        less=_elementwise(sympy.Lt, 2), less_equal=_elementwise(sympy.Le, 2),
        equal=_elementwise(lambda a, b: sympy.Eq(a, b), 2),
        not_equal=_elementwise(lambda a, b: sympy.Ne(a, b), 2),
        logical_and=_elementwise(sympy.And, 2), logical_or=_elementwise(sympy.Or, 2),
        logical_not=_elementwise(sympy.Not),
        lgamma=_elementwise(lambda x: sympy.log(sympy.Abs(sympy.gamma(x)))),
        polygamma=lambda n, x: _elementwise(lambda v: sympy.polygamma(n, v))(x),
        erfinv=_elementwise(sympy.erfinv), erfc=_elementwise(sympy.erfc),
        i0=_elementwise(lambda v: sympy.besseli(0, v)),
        i1=_elementwise(lambda v: sympy.besseli(1, v)),
        i0e=_elementwise(lambda v: sympy.besseli(0, v) * sympy.exp(-sympy.Abs(v))),
        i1e=_elementwise(lambda v: sympy.besseli(1, v) * sympy.exp(-sympy.Abs(v))),
    )
    return SimpleNamespace(name="sympy", **fns)


class _Lazy:
    """Build a namespace on first use (mpmath and SymPy are only imported when needed)."""

    def __init__(self, make: Callable[[], SimpleNamespace]) -> None:
        self._make, self._ns = make, None

    def __getattr__(self, name: str):
        if self._ns is None:
            self._ns = self._make()
        return getattr(self._ns, name)


MPMATH: Any = _Lazy(_make_mpmath)
SYMPY: Any = _Lazy(_make_sympy)
_TENSOR: list = []


def tensor_namespace() -> SimpleNamespace:
    """The namespace over symgrad Tensors: every function records, like any op call."""
    if _TENSOR:
        return _TENSOR[0]
    from symgrad.ops import _tensor_ns

    _TENSOR.append(_tensor_ns.build())
    return _TENSOR[0]


def is_namespace(xp, name: str) -> bool:
    return getattr(xp, "name", None) == name


# ---------------------------------------------------------------- broadcasting, undone once
def unbroadcast(xp, g, shape: tuple) -> Any:
    """Bring a rule's gradient to an argument's ``shape``: the one place broadcasting is undone.

    Rules return gradients in the output's (broadcast) shape; this helper, called by the
    node and never by a rule, sums away the leading axes broadcasting added and the axes
    where the argument had size 1. A gradient that is smaller than the argument and
    broadcasts to it (a reduction's rule returns ``g`` with kept dims) is expanded instead.
    """
    gshape = tuple(g.shape)
    shape = tuple(shape)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead > 0 and gshape[lead:] == shape:  # only leading axes added: the common bias case
        return xp.sum(g, axis=tuple(range(lead)))
    try:
        if np.broadcast_shapes(gshape, shape) == shape:
            return xp.broadcast_to(g, shape)
    except ValueError:
        pass
    lead = len(gshape) - len(shape)
    if lead < 0:
        raise RuntimeError(f"a gradient of shape {gshape} cannot be brought to shape {shape}")
    if lead:
        g = xp.sum(g, axis=tuple(range(lead)))
    ones = tuple(i for i, s in enumerate(shape) if s == 1 and gshape[lead + i] != 1)
    if ones:
        g = xp.sum(g, axis=ones, keepdims=True)
    if tuple(g.shape) != shape:
        raise RuntimeError(f"a gradient of shape {gshape} cannot be brought to shape {shape}")
    return g


# ---------------------------------------------------------------- exact values
def to_mpmath(a) -> np.ndarray:
    """An object array of mpmath numbers equal to the float array ``a`` (exactly)."""
    import mpmath

    arr = np.asarray(a)
    if arr.dtype == object:
        return arr
    if arr.dtype.kind == "b":
        return arr
    conv = np.frompyfunc(lambda v: mpmath.mpf(v), 1, 1)
    with np.errstate(invalid="ignore"):  # nan converts to mpf nan, silently
        out = conv(arr.astype(np.float64) if arr.dtype.kind == "f" else arr)
    return out if isinstance(out, np.ndarray) else _object_scalar(out)


def to_exact(a) -> np.ndarray:
    """An object array of SymPy numbers equal to the array ``a`` (floats as exact rationals).

    An object array passes through, but plain Python or numpy numbers inside it (a numeric
    tensor converted to the symbolic dtype, a user's ``[x, 0.5]``) become exact too:
    ``sympify`` would make 0.5 a Float and the closed forms inexact."""
    arr = np.asarray(a)
    if arr.dtype == object:
        if any(type(v) in _PLAIN_NUMBERS or isinstance(v, np.number) for v in arr.flat):
            out = np.frompyfunc(exact_number, 1, 1)(arr)
            return out if isinstance(out, np.ndarray) else _object_scalar(out)
        return arr
    if arr.dtype.kind == "b":
        return arr
    out = np.frompyfunc(exact_number, 1, 1)(arr.astype(np.float64) if arr.dtype.kind == "f"
                                            else arr)
    return out if isinstance(out, np.ndarray) else _object_scalar(out)


_PLAIN_NUMBERS = (float, int)


def exact_number(v):
    """A Python or numpy number as an exact SymPy number (floats as the rational they
    hold, nan and infinities as SymPy's); anything else (SymPy values, bools) unchanged."""
    import sympy

    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (float, int, np.number)):
        return v
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v):
            return sympy.nan
        if math.isinf(v):
            return sympy.oo if v > 0 else -sympy.oo
        return sympy.Rational(v)
    return sympy.Integer(int(v))
