"""Symbolic tensors: Tensors whose entries are SymPy symbols.

Ordinary symgrad code run on them evaluates each op's mirror, giving SymPy expressions:

>>> from symgrad import symbolic
>>> w = symbolic.symbols("w", (2,))
>>> (w * w).sum()
tensor(w[0]**2 + w[1]**2, dtype=symbolic)
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence

import numpy as np
import sympy

from symgrad.tensor import Tensor

__all__ = ["symbols", "symbol_array", "entry_name"]


def entry_name(name: str, index: tuple[int, ...]) -> str:
    """``w[0,1]`` for entry (0, 1) of ``w``; a 0-d tensor is just ``w``."""
    if not index:
        return name
    return f"{name}[{','.join(str(i) for i in index)}]"


def symbol_array(name: str, shape: Sequence[int], **assumptions) -> np.ndarray:
    """An object array of real SymPy symbols named ``name[i,j]``."""
    shape = tuple(int(s) for s in shape)
    assumptions.setdefault("real", True)
    arr = np.empty(shape, dtype=object)
    for idx in itertools.product(*(range(s) for s in shape)):
        arr[idx] = sympy.Symbol(entry_name(name, idx), **assumptions)
    return arr


def _shape(shape) -> tuple[int, ...]:
    """``shape`` as a tuple of ints (an int is a 1-d shape), or a TypeError saying why not."""
    items = (shape,) if not isinstance(shape, Sequence) else tuple(shape)
    try:
        if any(isinstance(s, bool) for s in items):
            raise TypeError
        dims = tuple(operator.index(s) for s in items)
    except TypeError:
        raise TypeError(f"symbols(): shape must be an int or a sequence of ints, got "
                        f"{shape!r}") from None
    if any(s < 0 for s in dims):
        raise ValueError(f"symbols(): negative dimension in shape {dims}")
    return dims


def symbols(name: str, shape: Sequence[int] | int = (), **assumptions) -> Tensor:
    """A symbolic Tensor of the given shape with entries ``name[i,j,...]`` (real symbols).

    Extra keyword arguments are SymPy assumptions (``positive=True`` ...).
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"symbol names must be identifiers, got {name!r}")
    shape = _shape(shape)
    return Tensor._wrap(symbol_array(name, shape, **assumptions))
