"""Graph nodes: what a tensor's ``grad_fn`` is, and the leaf sink ``AccumulateGrad``.

A node knows its parents (``next_functions``) and how to turn the gradient of its output
into gradients of its inputs (``apply``). It knows no op by name: op nodes are made by the
op table (``symgrad.ops``), one subclass per PyTorch node name.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from collections.abc import Callable

import numpy as np

from symgrad.autograd.multi_grad_hook import register_multi_grad_hook
from symgrad.autograd.saved_tensors import (allow_mutation_on_saved_tensors,
                                            disable_saved_tensors_hooks, increment_version,
                                            save_on_cpu, saved_tensors_hooks)

__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
           "increment_version", "allow_mutation_on_saved_tensors", "Node", "AccumulateGrad",
           "GradientEdge", "get_gradient_edge", "register_multi_grad_hook", "HookHandle",
           "NodeHooks", "DROPPED", "OutputGrads", "add_output", "merge_grads", "output_grad",
           "FREED_MESSAGE"]

_new = object.__new__

FREED_MESSAGE = (
    "Trying to backward through the graph a second time, or to read values saved for "
    "backward after they were freed. The values an op saves for its backward pass are "
    "released when .backward() or autograd.grad() has used them; pass retain_graph=True "
    "to the first call if you need to go through the graph again."
)


class Node:
    """A recorded operation: the ``grad_fn`` of the tensors it produced."""

    # (``_metadata`` is left unset until first read: nodes are made by the million)
    __slots__ = ("next_functions", "_hooks", "_metadata", "__weakref__")

    #: PyTorch's ``name()`` of the nodes it writes in C++ (``torch::autograd::CopySlices``),
    #: where it differs from the class name that reprs and printed tensors show.
    qualified_name: str | None = None

    def name(self) -> str:
        """The PyTorch name of this node, e.g. ``"AddBackward0"``."""
        return self.qualified_name or type(self).__name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {id(self):#x}>"

    def apply(self, grad: Any, create_graph: bool) -> tuple:
        """Gradients of the inputs (one per entry of ``next_functions``) from ``grad``."""
        raise NotImplementedError(f"{self.name()} has no backward rule")

    def release(self) -> None:
        """Free what was saved for the backward pass (after a backward without retain_graph)."""

    @property
    def metadata(self) -> dict:
        """A dict for the user's own notes about this node (PyTorch's ``grad_fn.metadata``),
        kept as long as the node lives."""
        try:
            return self._metadata
        except AttributeError:
            self._metadata = meta = {}
            return meta

    # ------------------------------------------------------------------ outputs
    def _output_grads(self, g: Any) -> list:
        """The engine's gradient for this node as one entry per output (None where none
        arrived); a node with one output gets its gradient itself."""
        return [g]

    # ------------------------------------------------------------------ hooks
    def _hook_set(self) -> NodeHooks:
        hooks = self._hooks
        if hooks is None:
            self._hooks = hooks = NodeHooks()
        return hooks

    def register_prehook(self, fn: Callable) -> HookHandle:
        """PyTorch's node pre-hook: ``fn(grad_outputs)`` before this node runs, with
        ``grad_outputs`` a tuple of one Tensor per output (None where no gradient arrived);
        a returned tuple replaces it. Runs after the hooks of the node's output tensors."""
        def wrapped(g):
            grads = self._output_grads(g)
            got = fn(_as_tensors(grads))
            if got is None:
                return None
            new = _checked_hook_result(fn, got, grads)
            return self._from_output_grads(new, g)

        hooks = self._hook_set().pre
        hooks.append(wrapped)
        return HookHandle(hooks, wrapped)

    def register_hook(self, fn: Callable) -> HookHandle:
        """PyTorch's node post-hook: ``fn(grad_inputs, grad_outputs)`` after this node has
        run, with one gradient per input edge (None where none flows) and per output; a
        returned tuple of the same length replaces ``grad_inputs`` (None drops one)."""
        if not callable(fn):
            raise TypeError(f"a node hook must be callable, got {type(fn).__name__}")

        def wrapped(outs, g):
            got = fn(_as_tensors(outs), _as_tensors(self._output_grads(g)))
            if got is None:
                return None
            return _checked_hook_result(fn, got, outs)

        hooks = self._hook_set().post
        hooks.append(wrapped)
        return HookHandle(hooks, wrapped)

    def _from_output_grads(self, grads: list, g: Any) -> Any:
        """The inverse of ``_output_grads``: what the engine hands this node."""
        r = grads[0]
        return DROPPED if r is None else r

    def _add_prehook(self, fn: Callable) -> HookHandle:
        """Call ``fn(grad)`` (the raw gradient, an array or a Tensor) before this node
        runs, as a retain_grad hook does; a non-None result replaces the gradient."""
        hooks = self._hook_set().retain
        hooks.append(fn)
        return HookHandle(hooks, fn)


#: What a hook returns to say the gradient is dropped (a hook's None means "unchanged").
DROPPED = object()


class OutputGrads(list):
    """The gradients gathered for a node with several outputs: entry ``nr`` for output
    ``nr`` (None: nothing arrived; missing trailing entries too).

    The engine routes a gradient for output 0 as it does for any node, ``prev + r``: once a
    later output has made the buffer an ``OutputGrads``, that ``+`` adds into entry 0. So a
    graph of ordinary nodes never pays for this; only edges to outputs 1, 2, ... do
    (through ``add_output``)."""

    __slots__ = ()

    def __add__(self, g: Any) -> OutputGrads:  # type: ignore[override]
        add_output(self, 0, g)
        return self


def add_output(prev: Any, nr: int, g: Any) -> OutputGrads:
    """Add ``g``, a gradient for output ``nr``, to a node's buffer ``prev`` (None, the
    gradient of output 0, or an ``OutputGrads``); returns the new buffer."""
    if type(prev) is not OutputGrads:
        prev = OutputGrads([prev])
    if len(prev) <= nr:
        prev.extend([None] * (nr + 1 - len(prev)))
    old = prev[nr]
    prev[nr] = g if old is None else old + g
    return prev


def merge_grads(a: Any, b: Any) -> Any:
    """``a + b`` for two buffers of one node, either of which may be an ``OutputGrads``."""
    if type(b) is OutputGrads:
        for nr, g in enumerate(b):
            if g is not None:
                a = add_output(a, nr, g)
        return a
    return a + b


def output_grad(g: Any, nr: int) -> Any:
    """The gradient of output ``nr`` in a node's buffer ``g`` (None if none arrived)."""
    if type(g) is OutputGrads:
        return g[nr] if nr < len(g) else None
    return g if nr == 0 else None


class NodeHooks:
    """A node's hooks, in the order PyTorch runs them on the gradient of the node's output
    before the node runs: hooks of the tensors it made, then retain_grad's, then the node's
    own pre-hooks; its post-hooks run after it, on what it produced.

    A leaf's ``tensor`` list is the tensor's own: its hooks outlive each graph's node."""

    __slots__ = ("tensor", "retain", "pre", "post")

    def __init__(self, tensor: list | None = None) -> None:
        self.tensor: list = [] if tensor is None else tensor
        self.retain: list = []
        self.pre: list = []
        self.post: list = []


def _as_tensors(grads: Any) -> tuple:
    """Engine gradients (arrays, or Tensors under create_graph) as a tuple of Tensors."""
    from symgrad.tensor import Tensor

    return tuple(r if r is None or isinstance(r, Tensor) else Tensor._wrap(r) for r in grads)


def _checked_hook_result(fn: Callable, got: Any, old: Any) -> list:
    """A hook's replacement tuple, checked as PyTorch checks it and unwrapped to what the
    engine holds (arrays, or Tensors under create_graph)."""
    from symgrad.tensor import Tensor

    name = getattr(fn, "__name__", repr(fn))
    if not isinstance(got, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(got).__name__}'")
    if len(got) != len(old):
        raise RuntimeError(f"hook '{name}' has returned an incorrect number of values (got "
                           f"{len(got)}, but expected {len(old)})")
    new = []
    for r, o in zip(got, old):
        if r is None:
            new.append(None)
            continue
        if not isinstance(r, Tensor):
            raise TypeError(f"expected Variable, but hook returned '{type(r).__name__}'")
        if o is None:
            raise RuntimeError("can't replace a None gradient with a non-None value")
        raw = not isinstance(o, Tensor)
        data, ref = r._data, (o if raw else o._data)
        if data.shape != np.shape(ref):
            raise RuntimeError(f"hook '{name}' has changed the size of value")
        if data.dtype != ref.dtype:
            raise RuntimeError(f"hook '{name}' has changed the type of value (was "
                               f"{_dtype_name(ref.dtype)} got {_dtype_name(data.dtype)})")
        new.append(data if raw else r)
    return new


def _dtype_name(dt: np.dtype) -> str:
    return f"symgrad.{np.dtype(dt).name}"


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
    qualified_name = "torch::autograd::AccumulateGrad"

    def __init__(self, variable) -> None:
        self.variable = variable
        self.next_functions = ()
        self._hooks = None

    @classmethod
    def of(cls, variable) -> AccumulateGrad:
        """``AccumulateGrad(variable)`` without the type call's overhead: a leaf gets a new
        one in every step's graph (it holds it weakly, as PyTorch does)."""
        acc = _new(cls)
        acc.variable, acc.next_functions, acc._hooks = variable, (), None
        return acc

    def apply(self, grad: Any, create_graph: bool) -> tuple:
        return ()


class GradientEdge(NamedTuple):
    """Where a tensor's gradient enters the graph: output ``output_nr`` of ``node``. It
    stands for the tensor as an ``inputs=`` entry of ``autograd.grad`` (the gradient of that
    output), and holds the node, not the tensor, so the tensor may be gone."""

    node: Node
    output_nr: int
    ownership_token: Any = None


def get_gradient_edge(tensor: Any) -> GradientEdge:
    """The ``GradientEdge`` of a tensor that requires grad: its ``grad_fn`` and output
    number, or a leaf's AccumulateGrad node."""
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that "
                           "does not require gradients")
    if tensor.grad_fn is None:
        return GradientEdge(tensor._grad_accumulator(), 0)
    return GradientEdge(tensor.grad_fn, tensor.output_nr)
