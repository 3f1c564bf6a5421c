"""Graph nodes: what a tensor's ``grad_fn`` is, and the leaf sink ``AccumulateGrad``.

A node knows its parents (``next_functions``) and how to turn the gradient of its output
into gradients of its inputs (``apply``). It knows no op by name: op nodes are made by the
op table (``symgrad.ops``), one subclass per PyTorch node name.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import numpy as np

__all__ = ["Node", "AccumulateGrad", "HookHandle", "FREED_MESSAGE"]

_new = object.__new__

FREED_MESSAGE = (
    "Trying to backward through the graph a second time, or to read values saved for "
    "backward after they were freed. The values an op saves for its backward pass are "
    "released when .backward() or autograd.grad() has used them; pass retain_graph=True "
    "to the first call if you need to go through the graph again."
)


class Node:
    """A recorded operation: the ``grad_fn`` of the tensors it produced."""

    __slots__ = ("next_functions", "_pre_hooks", "__weakref__")

    def name(self) -> str:
        """The PyTorch name of this node, e.g. ``"AddBackward0"``."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    def apply(self, grad: Any, create_graph: bool) -> tuple:
        """Gradients of the inputs (one per entry of ``next_functions``) from ``grad``."""
        raise NotImplementedError(f"{self.name()} has no backward rule")

    def release(self) -> None:
        """Free what was saved for the backward pass (after a backward without retain_graph)."""

    def register_prehook(self, fn: Callable) -> HookHandle:
        """PyTorch's node pre-hook: ``fn(grad_outputs)`` before this node runs, with
        ``grad_outputs`` a tuple of one Tensor; a returned tuple replaces it."""
        def wrapped(g):
            from symgrad.tensor import Tensor

            raw = not isinstance(g, Tensor)
            r = fn((Tensor._wrap(g) if raw else g,))
            if r is None:
                return None
            if not isinstance(r, (tuple, list)):
                raise TypeError(f"expected tuple, but hook returned '{type(r).__name__}' (a "
                                f"pre-hook of {self.name()} returns None or a tuple)")
            if len(r) != 1:
                raise RuntimeError(f"hook '{getattr(fn, '__name__', fn)}' returned {len(r)} "
                                   f"gradients; {self.name()} has one output")
            new = r[0]
            if not isinstance(new, Tensor) or new._data.shape != np.shape(g):
                raise RuntimeError(f"hook '{getattr(fn, '__name__', fn)}' has changed the size "
                                   f"of value 0 (a pre-hook of {self.name()})")
            return new._data if raw else new

        return self._add_prehook(wrapped)

    def _add_prehook(self, fn: Callable) -> HookHandle:
        """Call ``fn(grad)`` (the raw gradient, an array or a Tensor) before this node
        runs; a non-None result replaces the gradient."""
        hooks = self._pre_hooks
        if hooks is None:
            self._pre_hooks = hooks = []
        hooks.append(fn)
        return HookHandle(hooks, fn)


class HookHandle:
    """What registering a hook returns: ``remove()`` takes the hook off again."""

    def __init__(self, hooks: list, fn: Callable) -> None:
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)

    def __enter__(self) -> HookHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


class AccumulateGrad(Node):
    """The sink for a leaf tensor: adds the incoming gradient into ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable) -> None:
        self.variable = variable
        self.next_functions = ()
        self._pre_hooks = None

    @classmethod
    def of(cls, variable) -> AccumulateGrad:
        """``AccumulateGrad(variable)`` without the type call's overhead: a leaf gets a new
        one in every step's graph (it holds it weakly, as PyTorch does)."""
        acc = _new(cls)
        acc.variable, acc.next_functions, acc._pre_hooks = variable, (), None
        return acc

    def apply(self, grad: Any, create_graph: bool) -> tuple:
        return ()
