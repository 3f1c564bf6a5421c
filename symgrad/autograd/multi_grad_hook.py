"""``register_multi_grad_hook``: one hook over the gradients of several tensors.

Mode ``"all"`` calls ``fn(grads)`` once per backward, when every one of the tensors that
this backward reaches has its gradient (None in ``grads`` for the others); mode ``"any"``
calls ``fn(grad)`` once per backward, with the first of them to arrive.

"Once per backward" needs to know which backward is running: ``backward`` and ``grad``
open a ``graph_task`` around the engine, but only while a multi-grad hook exists (``live``),
so code that never uses one pays a counter test per backward call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["register_multi_grad_hook", "MultiGradHandle", "graph_task", "live"]

#: How many multi-grad hooks exist (``api._run`` opens a ``graph_task`` only when some do).
live = [0]


class _Current(threading.local):
    task: _Task | None = None


_current = _Current()


class _Task:
    """One backward: its roots and captured nodes (which decide what it reaches), and the
    state of each multi-grad hook it has met."""

    __slots__ = ("roots", "capture", "states", "_reached")

    def __init__(self, roots: Sequence[Any], capture: Sequence[Any] | None) -> None:
        self.roots, self.capture = roots, capture
        self.states: dict[int, list] = {}
        self._reached: set | None = None

    def reached(self) -> set:
        """The nodes this backward runs (the ones leading to a captured node, with capture)."""
        if self._reached is None:
            from symgrad.autograd.engine import _dependencies, _kahn, _leading_to

            deps = _dependencies(self.roots)
            nodes = set(deps) | set(self.roots)
            if self.capture is not None:
                nodes = _leading_to(_kahn(self.roots, deps), set(self.capture))[1]
            self._reached = nodes
        return self._reached


class graph_task:
    """Run the engine as one backward that multi-grad hooks can tell apart; at its end, an
    ``"all"`` hook still waiting (a reached tensor got no gradient) is called with what came."""

    def __init__(self, roots: Sequence[Any], capture: Sequence[Any] | None) -> None:
        self.task = _Task(roots, capture)

    def __enter__(self) -> None:
        self._prev = _current.task
        _current.task = self.task

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        _current.task = self._prev
        if exc_type is not None:
            return
        for state in self.task.states.values():
            hook, grads, waiting = state
            if waiting:   # (an "any" hook's state is never waiting)
                state[2] = 0
                hook._fn(tuple(grads))


class MultiGradHandle:
    """What ``register_multi_grad_hook`` returns: ``remove()`` takes the hook off every
    tensor."""

    def __init__(self, fn: Callable, mode: str, nodes: list) -> None:
        self._fn, self._mode, self._nodes = fn, mode, nodes
        self._handles: list = []
        self._removed = False

    def remove(self) -> None:
        if self._removed:
            return
        self._removed = True
        live[0] -= 1
        for h in self._handles:
            h.remove()

    def __enter__(self) -> MultiGradHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()

    def _arrived(self, i: int, grad: Any) -> None:
        """Tensor ``i``'s gradient reached its hook in the current backward."""
        task = _current.task
        if task is None:   # a pass no graph_task wraps (the verifier's): one of its own
            task = _Task([], None)
        state = task.states.get(id(self))
        if self._mode == "any":
            if state is None:
                task.states[id(self)] = [self, [], 0]
                self._fn(grad)
            return
        if state is None:
            reached = task.reached() if task.roots else set()
            waiting = sum(1 for n in self._nodes if n in reached) or 1
            state = task.states[id(self)] = [self, [None] * len(self._nodes), waiting]
        grads = state[1]
        if grads[i] is None:
            grads[i] = grad
            state[2] -= 1
            if state[2] == 0:
                self._fn(tuple(grads))


def register_multi_grad_hook(tensors: Sequence[Any], fn: Callable, *,
                             mode: str = "all") -> MultiGradHandle:
    """Call ``fn`` on the gradients of ``tensors`` once per backward: ``fn(grads)`` when all
    that backward computes have arrived (``mode="all"``), or ``fn(grad)`` on the first
    (``mode="any"``). Returns a handle whose ``remove()`` unregisters it."""
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = list(tensors)
    for t in tensors:
        if not t.requires_grad:
            raise AssertionError("Expected gradient function to be set: every tensor given to "
                                 "register_multi_grad_hook must require grad")
    nodes = [t.grad_fn if t.grad_fn is not None else t._grad_accumulator() for t in tensors]
    handle = MultiGradHandle(fn, mode, nodes)
    live[0] += 1
    for i, t in enumerate(tensors):
        def inner(grad: Any, i: int = i) -> None:
            handle._arrived(i, grad)
        handle._handles.append(t.register_hook(inner))
    return handle
