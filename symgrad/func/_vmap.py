"""``vmap``: PyTorch's ``torch.func.vmap`` as a loop over the batch.

Not vectorised: ``func`` runs once per batch entry on views of the inputs (``select``), and
the outputs are stacked, so every op, custom Function and transform works inside it, and
gradients flow through the views and the stack. It costs what the loop costs.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Any
from collections.abc import Callable, Iterator

from symgrad.func._pytree import flatten, unflatten
from symgrad.tensor import Tensor

__all__ = ["vmap"]

_RANDOMNESS = ("error", "different", "same")


def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """``func`` mapped over dimension ``in_dims`` of its inputs (an int, None for an input
    that is not mapped, or a nesting of them matching the arguments); the outputs are
    stacked along ``out_dims``. ``randomness``: ``"error"`` refuses random ops inside,
    ``"different"`` draws new numbers per entry, ``"same"`` the same numbers for each.
    ``chunk_size`` is checked and otherwise ignored (the loop runs one entry at a time)."""
    if randomness not in _RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got "
                         f"{chunk_size})")
    name = getattr(func, "__name__", repr(func))

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        leaves, spec = flatten(args)
        dims = _leaf_dims(in_dims, args, name)
        size = _batch_size(leaves, dims, name, in_dims)
        results = []
        with _random_mode(randomness) as each:
            for b in range(size):
                each()
                sliced = [x.select(d, b) if d is not None else x for x, d in zip(leaves, dims)]
                results.append(func(*unflatten(sliced, spec), **kwargs))
        return _stack(results, out_dims, name)

    return wrapper


def _leaf_dims(in_dims: Any, args: tuple, name: str) -> list:
    """One mapped dimension (or None) per leaf of ``args``."""
    if isinstance(in_dims, int) and not isinstance(in_dims, bool):
        return [in_dims] * len(flatten(args)[0])
    if not isinstance(in_dims, tuple):
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` "
                         "to be int or a (potentially nested) tuple matching the structure of "
                         f"inputs, got: {type(in_dims)}.")
    if len(in_dims) != len(args):
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
                         f"compatible with the structure of `inputs`. in_dims has structure "
                         f"of {len(in_dims)} entries but inputs has {len(args)} arguments.")
    out: list = []
    for d, a in zip(in_dims, args):
        out.extend(_prefix(d, a, name, in_dims))
    return out


def _prefix(d: Any, tree: Any, name: str, in_dims: Any) -> list:
    """``d`` spread over the leaves of ``tree`` (``d`` an int/None, or a matching nesting)."""
    if d is None or (isinstance(d, int) and not isinstance(d, bool)):
        return [d] * len(flatten(tree)[0])
    if isinstance(d, (tuple, list)) and isinstance(tree, (tuple, list)) and len(d) == len(tree):
        return [x for sub, t in zip(d, tree) for x in _prefix(sub, t, name, in_dims)]
    if isinstance(d, dict) and isinstance(tree, dict) and set(d) == set(tree):
        return [x for k in tree for x in _prefix(d[k], tree[k], name, in_dims)]
    raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
                     "compatible with the structure of `inputs`.")


def _batch_size(leaves: list, dims: list, name: str, in_dims: Any) -> int:
    sizes = []
    for x, d in zip(leaves, dims):
        if d is None:
            continue
        if not isinstance(x, Tensor):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} "
                             f"for an input but the input is of type {type(x)}. We cannot vmap "
                             "over non-Tensor arguments, please use None as the respective "
                             "in_dim")
        n = x.ndim
        if not -n <= d < n:
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} "
                             f"for some input, but that input is a Tensor of dimensionality {n} "
                             f"so expected in_dim to satisfy -{n} <= in_dim < {n}.")
        sizes.append(x.shape[d])
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if len(set(sizes)) != 1:
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    return sizes[0]


def _stack(results: list, out_dims: Any, name: str) -> Any:
    from symgrad.ops import stack

    if not results:
        raise ValueError(f"vmap({name}, ...): cannot map over a batch of size 0 (symgrad's "
                         "vmap runs the function once per entry)")
    flat = [flatten(r) for r in results]
    spec = flat[0][1]
    leaves0 = flat[0][0]
    dims = ([out_dims] * len(leaves0) if out_dims is None or isinstance(out_dims, int)
            else _out_prefix(out_dims, results[0], name))
    out = []
    for k, d in enumerate(dims):
        column = [f[0][k] for f in flat]
        if d is None:
            out.append(column[0])
            continue
        for v in column:
            if not isinstance(v, Tensor):
                raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got "
                                 f"type {type(v)}. Did you mean to set out_dims= to None for "
                                 "output?")
        n = column[0].ndim + 1
        if not -n <= d < n:
            raise ValueError(f"vmap({name}, ...): Got out_dim={d} for an output of "
                             f"dimensionality {n - 1}; expected -{n} <= out_dim < {n}.")
        out.append(stack(column, d))
    return unflatten(out, spec)


def _out_prefix(out_dims: Any, result: Any, name: str) -> list:
    if isinstance(out_dims, tuple) and isinstance(result, tuple) and len(out_dims) == len(result):
        return [x for d, r in zip(out_dims, result) for x in _prefix(d, r, name, out_dims)]
    if isinstance(out_dims, tuple) and not isinstance(result, tuple) and len(out_dims) == 1:
        return _prefix(out_dims[0], result, name, out_dims)
    raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not "
                     "compatible with the structure of `outputs`.")


class _NoRandom:
    """Stands in for the random generator under ``randomness="error"``."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("vmap: called random operation while in randomness error mode. "
                           "Please either use the 'same' or 'different' randomness flags on "
                           "vmap or perform the randomness operation out of vmap")


@contextmanager
def _random_mode(randomness: str) -> Iterator[Callable[[], None]]:
    """A callable to run before each entry: ``"same"`` rewinds the generator."""
    from symgrad import factories

    gen = factories._GEN
    if randomness == "different":
        yield lambda: None
        return
    if randomness == "error":
        saved = gen[0]
        gen[0] = _NoRandom()
        try:
            yield lambda: None
        finally:
            gen[0] = saved
        return
    state = gen[0].bit_generator.state
    first = [True]

    def rewind() -> None:
        if not first[0]:
            gen[0].bit_generator.state = state
        first[0] = False

    yield rewind
