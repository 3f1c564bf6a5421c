"""The array namespace over symgrad Tensors: rules run on it record a graph.

This is what makes ``create_graph=True`` work without a second set of rules: the same
rule text that runs on numpy arrays runs here on Tensors, and every function call is an
ordinary (recorded) op call, so derivatives of derivatives come from the same table.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from collections.abc import Callable

import math

import numpy as np

from symgrad import ops
from symgrad.tensor import Tensor, as_tensor

__all__ = ["build"]


def _t(x: Any) -> Any:
    """Arrays become (constant) tensors; Python numbers stay numbers."""
    if isinstance(x, Tensor) or isinstance(x, (int, float, bool)):
        return x
    return as_tensor(x)


_NUMBERS = (int, float, bool)


def _op(name: str) -> Callable:
    """The op function ``name`` of symgrad.ops, looked up when first called. A number as
    the first argument (``xp.log(2.0)`` in a rule) becomes a constant 0-d tensor, as the
    ops want a Tensor input like PyTorch's (and a 0-d tensor promotes as a number does);
    polygamma's first argument is its order ``n``, a number."""
    number_first = name == "polygamma"

    def call(*args, **kwargs):
        if args and isinstance(args[0], _NUMBERS) and not number_first:
            args = (as_tensor(args[0]),) + args[1:]
        fn = getattr(ops, name, None)
        if fn is None:
            raise NotImplementedError(
                f"symgrad has no differentiable op '{name}' yet, so a rule that uses it cannot "
                "run with create_graph=True")
        return fn(*[_t(a) for a in args], **kwargs)
    call.__name__ = name
    return call


def _where(c, a, b):
    return ops.where(_t(c), a, b)


def _sum(a, axis=None, keepdims=False):
    return ops.sum(_t(a), dim=axis, keepdim=keepdims)


def _prod(a, axis=None, keepdims=False):
    a = _t(a)
    if axis is None:
        return ops.prod(a) if not keepdims else ops.prod(a).reshape((1,) * a.ndim)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for ax in sorted((x % a.ndim for x in axes), reverse=True):
        a = ops.prod(a, ax, keepdim=keepdims)
    return a


def _reduce_max(name: str):
    def red(a, axis=None, keepdims=False):
        fn = getattr(ops, name)
        return fn(_t(a), dim=axis, keepdim=keepdims) if axis is not None else (
            fn(_t(a)) if not keepdims else fn(_t(a)).reshape((1,) * _t(a).ndim))
    return red


def _expand_dims(a, axis):
    t = _t(a)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    n = t.ndim + len(axes)
    for ax in sorted(d % n for d in axes):
        t = ops.unsqueeze(t, ax)
    return t


def _squeeze(a, axis=None):
    t = _t(a)
    if axis is None:
        return ops.squeeze(t)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for ax in sorted((d % t.ndim for d in axes), reverse=True):
        t = ops.squeeze(t, ax)
    return t


def _transpose(a, axes=None):
    t = _t(a)
    axes = tuple(range(t.ndim - 1, -1, -1)) if axes is None else tuple(axes)
    return ops.permute(t, axes)   # (one tuple: () for a 0-d tensor)


def _zeros_like(a):
    t = _t(a)
    return Tensor._wrap(np.zeros(tuple(np.shape(t._data)), t._data.dtype))


def _ones_like(a):
    t = _t(a)
    return Tensor._wrap(np.ones(tuple(np.shape(t._data)), t._data.dtype))


def _index_add(shape, index, values, like=None):
    from symgrad.ops.scatter import index_add_into

    return index_add_into(_t(values), shape, index)


def _take_along(a, indices, axis):
    from symgrad.ops.scatter import take_along_dim

    return take_along_dim(_t(a), indices, axis)


def _put_along(shape, indices, values, axis, like=None):
    from symgrad.ops.scatter import put_along_dim

    return put_along_dim(_t(values), shape, indices, axis)


def _logaddexp(a, b):
    a, b = _t(a), _t(b)
    m = np.maximum(a._data, b._data)
    m = Tensor._wrap(np.where(np.isfinite(m), m, 0.0))  # a constant shift: exact, no overflow
    return m + ops.log(ops.exp(a - m) + ops.exp(b - m))


def _compare(name: str):
    def cmp(a, b):   # (a number first is a constant tensor: comparisons want a Tensor input)
        a, b = (as_tensor(v) if isinstance(v, _NUMBERS) else _t(v) for v in (a, b))
        return getattr(ops, name)(a, b)
    return cmp


def _bessel(record: str) -> Callable:
    """The Bessel records that are no function of the namespace (torch.special's)."""
    def call(a):
        from symgrad.ops import special

        return special.bessel(getattr(special, record), _t(a))
    return call


def build() -> SimpleNamespace:
    same = ("exp", "log", "log1p", "expm1", "sqrt", "tanh", "sin", "cos", "tan", "sinh", "cosh",
            "abs", "sign", "sigmoid", "erf", "maximum", "minimum", "floor", "floor_divide",
            "matmul", "lgamma", "polygamma", "erfinv", "erfc")
    fns: dict[str, Any] = {n: _op(n) for n in same}
    fns.update(
        name="tensor",
        cumsum=lambda a, axis: ops.cumsum(_t(a), axis),
        cumprod=lambda a, axis: ops.cumprod(_t(a), axis),
        einsum=lambda equation, *a: ops.einsum(equation, *[_t(x) for x in a]),
        # numpy's softplus is exact everywhere; ops.softplus switches to x past a threshold.
        softplus=lambda a: ops.softplus(_t(a), threshold=math.inf),
        logaddexp=_logaddexp,
        isfinite=lambda a: Tensor._wrap(np.isfinite(_t(a)._data)),
        arctan=_op("atan"), arcsin=_op("asin"), arccos=_op("acos"), arctan2=_op("atan2"),
        arcsinh=_op("asinh"), arccosh=_op("acosh"), arctanh=_op("atanh"),
        sum=_sum, prod=_prod, amax=_reduce_max("amax"), amin=_reduce_max("amin"),
        where=_where,
        swapaxes=lambda a, i, j: ops.transpose(_t(a), i, j),
        transpose=_transpose,
        reshape=lambda a, shape: ops.reshape(_t(a), tuple(shape)),
        broadcast_to=lambda a, shape: ops.expand(_t(a), tuple(shape)),
        expand_dims=_expand_dims,
        squeeze=_squeeze,
        concatenate=lambda seq, axis=0: ops.cat([_t(s) for s in seq], dim=axis),
        stack=lambda seq, axis=0: ops.stack([_t(s) for s in seq], dim=axis),
        zeros_like=_zeros_like, ones_like=_ones_like,
        index_add=_index_add, take_along_axis=_take_along, put_along_axis=_put_along,
        repeat_along=lambda a, axis, n: _op("repeat_interleave")(a, n, dim=axis),
        astype=lambda a, dtype: ops.to_dtype(_t(a), dtype),
        greater=_compare("gt"), greater_equal=_compare("ge"), less=_compare("lt"),
        less_equal=_compare("le"), equal=_compare("eq"), not_equal=_compare("ne"),
        logical_and=_compare("logical_and"), logical_or=_compare("logical_or"),
        logical_not=lambda a: ops.logical_not(_t(a)),
        i0=_op("i0"), i1=_bessel("I1"), i0e=_bessel("I0E"), i1e=_bessel("I1E"),
    )
    missing = set(_namespace_functions()) - set(fns)
    if missing:
        raise RuntimeError(f"the tensor namespace lacks {sorted(missing)}")
    return SimpleNamespace(**fns)


def _namespace_functions() -> tuple:
    from symgrad.ops.namespaces import FUNCTIONS

    return FUNCTIONS
