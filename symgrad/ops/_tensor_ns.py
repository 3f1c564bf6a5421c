"""The array namespace over symgrad Tensors: rules run on it record a graph.

This is what makes ``create_graph=True`` work without a second set of rules: the same
rule text that runs on numpy arrays runs here on Tensors, and every function call is an
ordinary (recorded) op call.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from symgrad import ops
from symgrad.tensor import Tensor, as_tensor

__all__ = ["build"]


def _t(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def _sum(a, axis=None, keepdims=False):
    return ops.sum(_t(a), dim=axis, keepdim=keepdims)


def _where(c, a, b):
    return ops.where(_t(c), a, b)


def _index_add(shape, index, values, like=None):
    return ops.index_put(ops.zeros_like_shape(shape, _t(values)), index, values, accumulate=True)


def _unsupported(name):
    def f(*args, **kwargs):
        raise NotImplementedError(
            f"'{name}' has no differentiable symgrad op yet, so a rule using it cannot be run "
            "with create_graph=True")
    return f


def build() -> SimpleNamespace:
    fns = {}
    direct = {
        "exp": "exp", "log": "log", "log1p": "log1p", "expm1": "expm1", "sqrt": "sqrt",
        "tanh": "tanh", "sin": "sin", "cos": "cos", "tan": "tan", "arctan": "atan",
        "arcsin": "asin", "arccos": "acos", "sinh": "sinh", "cosh": "cosh", "abs": "abs",
        "sign": "sign", "sigmoid": "sigmoid", "softplus": "softplus", "logaddexp": "logaddexp",
        "erf": "erf", "maximum": "maximum", "minimum": "minimum", "arctan2": "atan2",
        "floor": "floor", "isfinite": "isfinite", "matmul": "matmul", "prod": None,
    }
    for name, target in direct.items():
        fn = getattr(ops, target, None) if target else None
        fns[name] = fn if fn is not None else _unsupported(name)
    fns.update(
        name="tensor",
        sum=_sum,
        prod=lambda a, axis=None, keepdims=False: ops.prod(_t(a), dim=axis, keepdim=keepdims)
        if hasattr(ops, "prod") else _unsupported("prod")(),
        amax=lambda a, axis=None, keepdims=False: ops.amax(_t(a), dim=axis, keepdim=keepdims),
        amin=lambda a, axis=None, keepdims=False: ops.amin(_t(a), dim=axis, keepdim=keepdims),
        where=_where,
        swapaxes=lambda a, i, j: ops.transpose(_t(a), i, j),
        transpose=lambda a, axes=None: ops.permute(
            _t(a), *(axes if axes is not None else range(_t(a).ndim - 1, -1, -1))),
        reshape=lambda a, shape: ops.reshape(_t(a), tuple(shape)),
        broadcast_to=lambda a, shape: ops.expand(_t(a), tuple(shape)),
        expand_dims=_expand_dims,
        squeeze=lambda a, axis=None: ops.squeeze(_t(a), axis),
        concatenate=lambda seq, axis=0: ops.cat([_t(s) for s in seq], dim=axis),
        stack=lambda seq, axis=0: ops.stack([_t(s) for s in seq], dim=axis),
        zeros_like=lambda a: Tensor._wrap(np.zeros(tuple(_t(a).shape), _t(a)._data.dtype)),
        ones_like=lambda a: Tensor._wrap(np.ones(tuple(_t(a).shape), _t(a)._data.dtype)),
        index_add=_index_add,
        take_along_axis=lambda a, idx, axis: ops.take_along_dim(_t(a), idx, axis),
        put_along_axis=lambda shape, idx, values, axis, like=None: ops.scatter_into(
            shape, idx, values, axis),
        repeat_along=lambda a, axis, n: ops.repeat_interleave(_t(a), n, dim=axis),
        astype=lambda a, dtype: ops.to_dtype(_t(a), dtype),
    )
    return SimpleNamespace(**fns)


def _expand_dims(a, axis):
    t = _t(a)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    n = t.ndim + len(axes)
    for ax in sorted(d % n for d in axes):
        t = ops.unsqueeze(t, ax)
    return t
