"""``symgrad.utils.checkpoint``: PyTorch's activation checkpointing API.

PyTorch's checkpoint frees a segment's activations and recomputes them in backward, trading
time for memory. symgrad keeps every recorded value anyway (the verifier replays the graph
in SymPy), so here a checkpointed segment is recorded like any other code: the values and
gradients are PyTorch's, the memory saving is not. What a program can observe of the two
modes is kept: the reentrant mode's ``use_reentrant`` warning and keyword errors, and its
outputs not requiring grad when no input does (so parameters used inside get no gradient,
as in PyTorch).
"""

from __future__ import annotations

import warnings
from typing import Any
from collections.abc import Callable, Sequence

from symgrad.autograd.grad_mode import no_grad
from symgrad.tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


def _mode(use_reentrant: bool | None, where: str) -> bool:
    if use_reentrant is None:
        warnings.warn(f"{where}: the use_reentrant parameter should be passed explicitly. "
                      "use_reentrant=False is recommended; without it the reentrant variant "
                      "runs, as in PyTorch.", stacklevel=3)
        return True
    return bool(use_reentrant)


def _run(function: Callable, args: tuple, kwargs: dict, reentrant: bool) -> Any:
    if reentrant and not any(isinstance(a, Tensor) and a.requires_grad for a in args):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=3)
        with no_grad():   # PyTorch's reentrant checkpoint records nothing then
            return function(*args, **kwargs)
    return function(*args, **kwargs)


def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = None,
               context_fn: Callable | None = None, determinism_check: str = "default",
               debug: bool = False, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, recorded for backward (see the module docstring)."""
    reentrant = _mode(use_reentrant, "symgrad.utils.checkpoint")
    kwargs.pop("preserve_rng_state", True)   # (nothing is recomputed: the draws are the same)
    kwargs.pop("early_stop", None)
    if reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if context_fn is not None or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    if context_fn is None:
        return _run(function, args, kwargs, reentrant)
    forward_ctx, _ = context_fn()   # (the recompute context has nothing to run under)
    with forward_ctx:
        return _run(function, args, kwargs, reentrant)


def checkpoint_sequential(functions: Sequence[Callable] | Any, segments: int, input: Any,
                          use_reentrant: bool | None = None, **kwargs: Any) -> Any:
    """Run ``functions`` (a list, or an ``nn.Sequential``'s children) in turn on
    ``input``, in ``segments`` checkpointed segments (the last one is not checkpointed)."""
    reentrant = _mode(use_reentrant, "symgrad.utils.checkpoint.checkpoint_sequential")
    kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    from symgrad.nn.modules.container import Sequential

    if isinstance(functions, Sequential):
        functions = list(functions.children())
    functions = list(functions)
    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        segment = functions[start:end + 1]
        input = checkpoint(lambda x, seg=segment: _chain(seg, x), input,
                           use_reentrant=reentrant)
    return _chain(functions[end + 1:], input)


def _chain(functions: list, x: Any) -> Any:
    for f in functions:
        x = f(x)
    return x
