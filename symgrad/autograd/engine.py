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
    deps: dict[Node, int] = {}
    stack = [r for r in roots]
    seen = set(stack)
    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is None:
                continue
            if child in seen:
                deps[child] += 1
            else:
                seen.add(child)
                deps[child] = 1
                stack.append(child)
    remaining = dict(deps)
    order: list[Node] = []
    ready = [r for r in dict.fromkeys(roots) if r not in remaining]
    while ready:
        node = ready.pop()
        order.append(node)
        for child, _ in node.next_functions:
            if child is None:
                continue
            left = remaining[child] - 1
            remaining[child] = left
            if left == 0:
                ready.append(child)
    return order, deps


def _repeated_ids(outs: Sequence[Any]) -> set[int]:
    """Ids of the arrays a node hands to more than one input (they must not be mutated)."""
    seen: set[int] = set()
    repeated: set[int] = set()
    for o in outs:
        if o is not None:
            i = id(o)
            if i in seen:
                repeated.add(i)
            seen.add(i)
    return repeated


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
    for node in order:
        g = buffers.pop(node, None)
        if g is None or (needed is not None and node not in needed):
            continue
        hooks = node._pre_hooks if run_hooks else None
        if hooks:
            for hook in hooks:
                r = hook(g)
                if r is not None:
                    shared.discard(id(g))
                    g = r
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
        g_shared = id(g) in shared
        repeated = _repeated_ids(outs) if len(outs) > 1 else ()
        for (child, _), r in zip(node.next_functions, outs):
            if child is None or r is None or (needed is not None and child not in needed):
                continue
            if (r is g and g_shared) or id(r) in repeated:
                shared.add(id(r))
            prev = buffers.get(child)
            buffers[child] = r if prev is None else prev + r
    if not retain_graph:
        for node in executed:
            node.release()
    return captured
