"""Custom ``Function``s under a dual level: the outputs' tangents come from the user's
static ``jvp(ctx, *tangents)``, as in PyTorch (which also refuses a Function without one).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgrad.autograd._dual import set_tangent, suspended, tangent_of
from symgrad.tensor import Tensor

__all__ = ["forward_function_apply"]


def forward_function_apply(fn: type, ctx: Any, args: tuple) -> Any:
    tangents = [tangent_of(a) if isinstance(a, Tensor) else None for a in args]
    with suspended():
        out = fn._apply_with(ctx, args)
        if all(t is None for t in tangents):
            return out
        if "jvp" not in _defined(fn):
            raise NotImplementedError("You must implement the jvp function for custom "
                                      "autograd.Function to use it with forward mode AD.")
        given = [t if t is not None else
                 (Tensor._wrap(np.zeros(a._data.shape, a._data.dtype))
                  if isinstance(a, Tensor) and a._data.dtype.kind == "f" else None)
                 for a, t in zip(args, tangents)]
        ctx._in_jvp = True
        try:
            got = fn.jvp(ctx, *given)
        finally:
            ctx._in_jvp = False
    outs = out if isinstance(out, tuple) else (out,)
    got = got if isinstance(got, tuple) else (got,)
    if len(got) != len(outs):
        raise RuntimeError(f"function {fn.__name__}.jvp returned an incorrect number of "
                           f"forward gradients (expected {len(outs)}, got {len(got)})")
    for o, t in zip(outs, got):
        if t is None or not isinstance(o, Tensor) or o._data.dtype.kind != "f":
            continue
        if not isinstance(t, Tensor):
            t = Tensor._wrap(np.asarray(t, dtype=o._data.dtype))
        if t._data.shape != o._data.shape:
            raise RuntimeError(f"function {fn.__name__}.jvp returned a forward gradient of "
                               f"shape {list(t.shape)} for an output of shape {list(o.shape)}")
        set_tangent(o, t)
    return out


def _defined(fn: type) -> set:
    """Names defined by ``fn`` or a base other than ``Function`` itself."""
    from symgrad.autograd.function import Function

    names: set = set()
    for klass in fn.__mro__:
        if klass is Function or klass is object:
            break
        names.update(vars(klass))
    return names
