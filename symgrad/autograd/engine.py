"""The reverse-mode pass: order the graph, run each node once, route the gradients.

Everything here is iterative (a graph of a million nodes is a million loop turns, never a
deep recursion) and op-agnostic: nodes are only asked for ``next_functions``, ``apply``
and ``release``. Gradient values are numpy arrays, or Tensors when ``create_graph`` asks
for the backward pass itself to be recorded; the engine only ever adds them with ``+``.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Sequence

from symgrad.autograd.graph import AccumulateGrad, Node

__all__ = ["run_backward", "topological_order"]


def topological_order(roots: Sequence[Node]) -> tuple[list[Node], dict[Node, int]]:
    """Nodes reachable from ``roots``, each after every node that feeds it a gradient.

    Also returns, per node, how many edges of the reachable graph point at it.
    """
    deps = _dependencies(roots)
    remaining = dict(deps)
    order: list[Node] = []
    ready = [r for r in dict.fromkeys(roots) if r not in remaining]
    pop, push, emit = ready.pop, ready.append, order.append
    while ready:
        node = pop()
        emit(node)
        for child, _ in node.next_functions:
            if child is not None:
                left = remaining[child] - 1
                remaining[child] = left
                if not left:
                    push(child)
    return order, deps


def _repeated_ids(outs: Sequence[Any]) -> Sequence[int]:
    """Ids of the arrays a node hands to more than one input (they must not be mutated)."""
    if len(outs) == 2:  # the common binary op, without building sets
        a, b = outs
        return (id(a),) if a is b and a is not None else ()
    seen: set[int] = set()
    repeated: set[int] = set()
    for o in outs:
        if o is not None:
            i = id(o)
            if i in seen:
                repeated.add(i)
            seen.add(i)
    return repeated


def _call_hooks(hooks: Sequence[Callable], g: Any, shared: set[int]) -> Any:
    """Run a node's pre-hooks on its gradient; a hook's non-None result replaces it."""
    for hook in hooks:
        r = hook(g)
        if r is not None:
            shared.discard(id(g))
            g = r
    return g


def run_backward(
    roots: Sequence[Node],
    grads: Sequence[Any],
    *,
    retain_graph: bool,
    create_graph: bool,
    capture: Sequence[Node] | None = None,
    accumulate: bool = True,
    shared: set[int] | None = None,
    apply: Callable[[Node, Any], Sequence[Any]] | None = None,
    run_hooks: bool = True,
) -> dict[Node, tuple[Any, bool]]:
    """Propagate ``grads`` (one per root) back through the graph.

    Leaves receive their gradient through ``AccumulateGrad`` (when ``accumulate``). With
    ``capture``, only the part of the graph that leads to those nodes runs, and the gradient
    arriving at each of them is returned as ``{node: (grad, shared)}``; ``shared`` says the
    array is also held elsewhere, so a caller that keeps it must copy it first. ``apply``
    replaces ``node.apply`` (the verifier uses it to run the rules at high precision), and
    ``run_hooks=False`` skips tensor hooks (and ``retain_grad``) for such side passes.
    """
    if capture is None and apply is None:
        return _run_all(roots, grads, retain_graph, create_graph, accumulate,
                        set() if shared is None else shared, run_hooks)
    order, _ = topological_order(roots)
    targets = None if capture is None else set(capture)
    needed = None
    if targets is not None:
        needed = set()
        for node in reversed(order):
            if node in targets or any(c in needed for c, _ in node.next_functions if c is not None):
                needed.add(node)

    shared = set() if shared is None else shared
    buffers: dict[Node, Any] = {}
    for root, g in zip(roots, grads):
        if root in buffers:
            buffers[root] = buffers[root] + g
        else:
            buffers[root] = g

    captured: dict[Node, tuple[Any, bool]] = {}
    executed: list[Node] = []
    pop, get = buffers.pop, buffers.get
    for node in order:
        g = pop(node, None)
        if g is None or (needed is not None and node not in needed):
            continue
        hooks = node._pre_hooks if run_hooks else None
        if hooks:
            g = _call_hooks(hooks, g, shared)
        if targets is not None and node in targets:
            captured[node] = (g, id(g) in shared)
        if type(node) is AccumulateGrad:
            if accumulate:
                node.variable._accumulate_grad(g, id(g) in shared, create_graph)
            continue
        if needed is not None and not any(c in needed for c, _ in node.next_functions):
            continue
        outs = node.apply(g, create_graph) if apply is None else apply(node, g)
        executed.append(node)
        # An array handed on unchanged (add's rule returns g itself) or to two inputs is
        # shared: whoever keeps it must copy before adding into it.
        g_shared = shared and id(g) in shared
        repeated = _repeated_ids(outs) if len(outs) > 1 else ()
        for (child, _), r in zip(node.next_functions, outs):
            if child is None or r is None or (needed is not None and child not in needed):
                continue
            if (g_shared and r is g) or (repeated and id(r) in repeated):
                shared.add(id(r))
            prev = get(child)
            buffers[child] = r if prev is None else prev + r
    if not retain_graph:
        for node in executed:
            node.release()
    return captured


def _dependencies(roots: Sequence[Node]) -> dict[Node, int]:
    """Per reachable node, how many edges of the graph point at it (a root that another
    root leads to counts too: it runs after that root)."""
    deps: dict[Node, int] = {}
    stack = list(dict.fromkeys(roots))
    start = set(stack)
    get, push, pop = deps.get, stack.append, stack.pop
    while stack:
        for child, _ in pop().next_functions:
            if child is not None:
                n = get(child, 0)
                deps[child] = n + 1
                if not n and child.next_functions and child not in start:
                    push(child)  # (a node without parents, such as a leaf's, ends a path)
    return deps


def _run_all(roots: Sequence[Node], grads: Sequence[Any], retain_graph: bool,
             create_graph: bool, accumulate: bool, shared: set[int], run_hooks: bool) -> dict:
    """``run_backward`` for a whole graph (the common case): one pass that runs each node
    as soon as every node feeding it has run, as PyTorch's engine does."""
    deps = _dependencies(roots)
    buffers: dict[Node, Any] = {}
    for root, g in zip(roots, grads):
        prev = buffers.get(root)
        buffers[root] = g if prev is None else prev + g
    ready = [r for r in dict.fromkeys(roots) if r not in deps]
    pop_ready, push_ready, pop, get = ready.pop, ready.append, buffers.pop, buffers.get
    accumulate_grad = AccumulateGrad
    while ready:
        node = pop_ready()
        g = pop(node, None)
        edges = node.next_functions
        if g is not None:
            if run_hooks:
                hooks = node._pre_hooks
                if hooks:
                    g = _call_hooks(hooks, g, shared)
            if type(node) is accumulate_grad:
                if accumulate:
                    node.variable._accumulate_grad(g, id(g) in shared, create_graph)
                continue
            outs = node.apply(g, create_graph)
            if not retain_graph:
                node.release()  # its saved values are no longer needed: free them now
            # An array handed to two inputs is shared: whoever keeps it must copy before
            # adding into it. (``g`` handed on unchanged, as add's rule does, stays shared
            # if it was: its id is already in ``shared``.)
            if len(outs) == 2:
                a, b = outs
                if a is b and a is not None:
                    shared.add(id(a))
            elif len(outs) > 2:
                shared.update(_repeated_ids(outs))
        else:
            outs = (None,) * len(edges)  # nothing reached this node: only release its children
        for (child, _), r in zip(edges, outs):
            if child is None:
                continue
            left = deps[child] - 1
            deps[child] = left
            if r is not None:
                prev = get(child)
                if (not left and type(child) is accumulate_grad and accumulate
                        and not (run_hooks and child._pre_hooks)):
                    # A leaf's last gradient: into .grad now, without a turn of the loop
                    # (PyTorch also runs an AccumulateGrad as soon as it is ready).
                    if prev is not None:
                        del buffers[child]
                        r = prev + r
                    child.variable._accumulate_grad(r, id(r) in shared, create_graph)
                    continue
                buffers[child] = r if prev is None else prev + r
            if not left:
                push_ready(child)
    return {}
