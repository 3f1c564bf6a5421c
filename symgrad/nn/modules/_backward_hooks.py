"""Full backward hooks of a Module: ``hook(module, grad_input, grad_output)``.

The module's tensor inputs and outputs pass through an identity node each way; the
output side's node sees ``grad_output`` (and runs the backward pre-hooks, which may replace
it), the input side's node sees ``grad_input`` and runs the hooks, which may replace it.
Only modules with such hooks pay for this: ``Module.__call__`` checks one list.
"""

from __future__ import annotations

import warnings
from typing import Any
from collections.abc import Callable

from symgrad.autograd.function import Function
from symgrad.autograd.grad_mode import is_grad_enabled
from symgrad.tensor import Tensor

__all__ = ["call_with_backward_hooks"]


class BackwardHookFunction(Function):
    """The identity on several tensors; its backward hands the gradients to a callback."""

    @staticmethod
    def forward(ctx: Any, on_backward: Callable, *xs: Tensor) -> tuple:
        ctx.on_backward = on_backward
        return tuple(x._data.copy() for x in xs)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> tuple:
        return (None, *ctx.on_backward(grads))


def _checked(res: Any, n: int, what: str) -> tuple:
    if not isinstance(res, (tuple, list)) or len(res) != n:
        got = len(res) if isinstance(res, (tuple, list)) else type(res).__name__
        raise RuntimeError(f"Backward hook returned an invalid number of {what}: got {got}, "
                           f"but expected {n}")
    return tuple(res)


def call_with_backward_hooks(module: Any, forward: Callable, args: tuple, kwargs: dict) -> Any:
    """``forward(*args, **kwargs)`` with the module's backward hooks attached."""
    if not is_grad_enabled():
        return forward(*args, **kwargs)
    state: dict[str, Any] = {"grad_output": None}
    tensor_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    wrapped_pos = [i for i in tensor_pos if args[i].requires_grad]

    def fire(grad_input: tuple) -> tuple:
        for hook in list(module._backward_hooks):
            res = hook(module, grad_input, state["grad_output"])
            if res is not None:
                grad_input = _checked(res, len(grad_input), "grad_input")
        return grad_input

    def on_inputs(grads: tuple) -> list:
        by_pos = dict(zip(wrapped_pos, grads))
        grad_input = fire(tuple(by_pos.get(i) for i in tensor_pos))
        new = dict(zip(tensor_pos, grad_input))
        return [new[i] for i in wrapped_pos]

    def on_outputs(grads: tuple) -> tuple:
        for hook in list(module._backward_pre_hooks):
            res = hook(module, grads)
            if res is not None:
                grads = _checked(res, len(grads), "grad_output")
        state["grad_output"] = grads
        if not wrapped_pos and module._backward_hooks:   # the hooks run now, with None
            warnings.warn("Full backward hook is firing when gradients are computed with "
                          "respect to module outputs since no inputs require gradients.",
                          UserWarning, stacklevel=2)
            fire(tuple(None for _ in tensor_pos))
        return grads

    if wrapped_pos:
        new_args = list(args)
        for i, t in zip(wrapped_pos, BackwardHookFunction.apply(
                on_inputs, *[args[i] for i in wrapped_pos])):
            new_args[i] = t
        args = tuple(new_args)
    out = forward(*args, **kwargs)
    outs = out if isinstance(out, tuple) else (out,)
    out_pos = [j for j, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
    if not out_pos:
        return out
    new_outs = list(outs)
    for j, t in zip(out_pos, BackwardHookFunction.apply(on_outputs,
                                                        *[outs[j] for j in out_pos])):
        new_outs[j] = t
    return tuple(new_outs) if isinstance(out, tuple) else new_outs[0]
