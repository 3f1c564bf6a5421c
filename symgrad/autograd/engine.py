"""The reverse-mode pass: order the graph, run each node once, route the gradients.

Everything here is iterative (a graph of a million nodes is a million loop turns, never a
deep recursion) and op-agnostic: nodes are only asked for ``next_functions``, ``apply``
and ``release``. Gradient values are numpy arrays, or Tensors when ``create_graph`` asks
for the backward pass itself to be recorded; the engine only ever adds them with ``+``.
A node with several outputs (a custom Function returning a tuple) is reached by edges
``(node, nr)``; its gradients are gathered per output in an ``OutputGrads`` and it runs
once, after every edge into it.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Collection, Sequence

from symgrad.autograd.graph import (DROPPED, AccumulateGrad, Node, NodeHooks, OutputGrads,
                                    add_output, merge_grads)

__all__ = ["run_backward", "topological_order"]


def topological_order(roots: Sequence[Node]) -> tuple[list[Node], dict[Node, int]]:
    """Nodes reachable from ``roots``, each after every node that feeds it a gradient.

    Also returns, per node, how many edges of the reachable graph point at it.
    """
    deps = _dependencies(roots)
    return _kahn(roots, dict(deps)), deps


def _kahn(roots: Sequence[Node], remaining: dict[Node, int]) -> list[Node]:
    """``topological_order``'s order, from the edge counts of ``_dependencies`` (which it
    uses up): a node is emitted once every edge into it has been."""
    order: list[Node] = []
    if len(roots) == 1:
        ready = list(roots)  # (one root: nothing reachable leads back to it)
    else:
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
    return order


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


def _seen(shared: set[int], g: Any) -> None:
    """``g`` was shown to a hook, which may keep it: it counts as shared (for a node with
    several outputs, each output's gradient in it)."""
    shared.add(id(g))
    if type(g) is OutputGrads:
        shared.update([id(e) for e in g if e is not None])


def _call_hooks(g: Any, shared: set[int], *groups: Sequence[Callable]) -> Any:
    """Run hooks on a node's gradient: a hook's result replaces it (``DROPPED``: no
    gradient any more). What the hooks saw may be kept by them, so it counts as shared."""
    for hooks in groups:
        for hook in hooks:
            _seen(shared, g)
            r = hook(g)
            if r is not None:
                g = None if r is DROPPED else r
                _seen(shared, g)
    return g


def _apply_hooked(node: Node, g: Any, hooks: NodeHooks, apply: Callable | None,
                  create_graph: bool, shared: set[int]) -> Sequence[Any]:
    """Run a node that has pre- or post-hooks: pre-hooks on its gradient, the node, then
    post-hooks on what it produced (PyTorch's ``Node.register_hook``)."""
    if hooks.pre:
        g = _call_hooks(g, shared, hooks.pre)
        if g is None:
            return (None,) * len(node.next_functions)
    outs = node.apply(g, create_graph) if apply is None else apply(node, g)
    for hook in hooks.post:
        shared.update([id(r) for r in outs if r is not None])
        _seen(shared, g)
        got = hook(outs, g)
        if got is not None:
            outs = got
            shared.update([id(r) for r in outs if r is not None])
    return outs


def _accumulate(node: AccumulateGrad, g: Any, hooks: NodeHooks | None, create_graph: bool,
                shared: set[int]) -> None:
    """A leaf's AccumulateGrad node runs: its pre-hooks, ``.grad += g``, its post-hooks
    (with no gradients of inputs: a leaf has none)."""
    if hooks is not None:
        g = _call_hooks(g, shared, hooks.pre)
        if g is None:
            return
    node.variable._accumulate_grad(g, id(g) in shared, create_graph)
    if hooks is not None:
        for hook in hooks.post:
            hook((), g)


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
    shared = set() if shared is None else shared
    if capture is None and apply is None:
        return _run_all(roots, grads, retain_graph, create_graph, accumulate, shared, run_hooks)
    return _run_capture(roots, grads, retain_graph, create_graph, capture, accumulate, shared,
                        apply, run_hooks)


def _run_capture(roots: Sequence[Node], grads: Sequence[Any], retain_graph: bool,
                 create_graph: bool, capture: Sequence[Node] | None, accumulate: bool,
                 shared: set[int], apply: Callable | None, run_hooks: bool) -> dict:
    """``run_backward`` with ``capture`` or ``apply``: only the nodes that lead to a captured
    node run, in ``topological_order`` (which ``_run_all``'s loop also follows)."""
    deps = _dependencies(roots)
    targets = set(capture) if capture is not None else set()
    if capture is None or _all_lead_to(roots, deps, targets):
        # No node to leave out: the whole-graph loop, which needs no order worked out first.
        return _run_all(roots, grads, retain_graph, create_graph, accumulate, shared, run_hooks,
                        targets, apply, deps)
    order, needed, runs = _leading_to(_kahn(roots, deps), targets)
    if accumulate:   # backward(inputs=...) runs a captured node too, hooks and all, as
        runs.update(targets)   # PyTorch does (its results go nowhere: nothing needs them)

    buffers: dict[Node, Any] = {}
    for root, g in zip(roots, grads):
        prev = buffers.get(root)
        buffers[root] = g if prev is None else merge_grads(prev, g)

    captured: dict[Node, tuple[Any, bool]] = {}
    executed: list[Node] = []
    pop, get, accumulate_grad = buffers.pop, buffers.get, AccumulateGrad
    for node in order:
        g = pop(node, None)
        if g is None:
            continue
        hooks = node._hooks if run_hooks else None
        if hooks is not None:  # the tensor's hooks and retain_grad, before it is captured
            g = _call_hooks(g, shared, hooks.tensor, hooks.retain)
        if node in targets:
            captured[node] = (g, id(g) in shared)
        if type(node) is accumulate_grad:
            if accumulate:
                _accumulate(node, g, hooks, create_graph, shared)
            continue
        if node not in runs:
            continue
        if hooks is not None:
            outs = _apply_hooked(node, g, hooks, apply, create_graph, shared)
        else:
            outs = node.apply(g, create_graph) if apply is None else apply(node, g)
        executed.append(node)
        # An array handed on unchanged (add's rule returns g itself) or to two inputs is
        # shared: whoever keeps it must copy before adding into it.
        g_shared = id(g) in shared
        repeated = _repeated_ids(outs) if len(outs) > 1 else ()
        for (child, nr), r in zip(node.next_functions, outs):
            if r is None or child not in needed:  # (None is never in ``needed``)
                continue
            if (g_shared and r is g) or (repeated and id(r) in repeated):
                shared.add(id(r))
            prev = get(child)
            if nr:  # output 1, 2, ... of a node with several outputs
                buffers[child] = add_output(prev, nr, r)
                continue
            buffers[child] = r if prev is None else prev + r
    if not retain_graph:
        for node in executed:
            node.release()
    return captured


def _all_lead_to(roots: Sequence[Node], deps: dict[Node, int], targets: set[Node]) -> bool:
    """Whether every node reachable from ``roots`` (``deps`` holds the others) leads to a
    target: true when every end of a path is a target leaf, since every path ends.

    (An end that is not a leaf, such as a node without edges, sends the caller the long way.)
    """
    accumulate_grad = AccumulateGrad
    for nodes in (deps, roots):
        for node in nodes:
            if type(node) is accumulate_grad:
                if node not in targets:
                    return False
                continue
            edges = node.next_functions  # (nearly always, the first edge is a parent)
            if not edges or (edges[0][0] is None and all(c is None for c, _ in edges)):
                return False
    return True


def _leading_to(order: list[Node], targets: set[Node]) -> tuple[list[Node], set[Node], set[Node]]:
    """The nodes of ``order`` that lead to a target (in order, and as a set), and those of
    them that must run: the ones with an edge into that set (a target may have none).

    One reverse pass suffices: every node comes after all the nodes feeding it, so its
    children are settled before it is."""
    needed: set[Node] = set()
    runs: set[Node] = set()
    kept: list[Node] = []
    for node in reversed(order):
        for child, _ in node.next_functions:
            if child in needed:  # (None never is)
                runs.add(node)
                break
        else:
            if node not in targets:
                continue
        needed.add(node)
        kept.append(node)
    kept.reverse()
    return kept, needed, runs


def _dependencies(roots: Sequence[Node]) -> dict[Node, int]:
    """Per reachable node, how many edges of the graph point at it (a root that another
    root leads to counts too: it runs after that root)."""
    deps: dict[Node, int] = {}
    if len(roots) == 1:
        stack, start = list(roots), ()  # (one root: nothing reachable leads back to it)
    else:
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
             create_graph: bool, accumulate: bool, shared: set[int], run_hooks: bool,
             targets: Collection[Node] = (), apply: Callable | None = None,
             deps: dict[Node, int] | None = None) -> dict:
    """``run_backward`` for a whole graph (the common case): one pass that runs each node
    as soon as every node feeding it has run, as PyTorch's engine does.

    The gradients reaching ``targets`` are returned as ``capture``'s are (the caller has
    checked that every node leads to one); ``deps``, if given, is ``_dependencies(roots)``.
    """
    if deps is None:
        deps = _dependencies(roots)
    captured: dict[Node, tuple[Any, bool]] = {}
    buffers: dict[Node, Any] = {}
    for root, g in zip(roots, grads):
        prev = buffers.get(root)
        buffers[root] = g if prev is None else merge_grads(prev, g)
    if len(roots) == 1:
        ready = list(roots)  # (one root: nothing reachable leads back to it)
    else:
        ready = [r for r in dict.fromkeys(roots) if r not in deps]
    pop_ready, push_ready, pop, get = ready.pop, ready.append, buffers.pop, buffers.get
    accumulate_grad = AccumulateGrad
    while ready:
        node = pop_ready()
        g = pop(node, None)
        edges = node.next_functions
        if g is not None:
            hooks = node._hooks if run_hooks else None
            if hooks is not None:  # the tensor's hooks and retain_grad, before it is captured
                g = _call_hooks(g, shared, hooks.tensor, hooks.retain)
            if targets and node in targets:
                captured[node] = (g, id(g) in shared)
            if type(node) is accumulate_grad:
                if accumulate:
                    _accumulate(node, g, hooks, create_graph, shared)
                continue
            if hooks is not None:
                outs = _apply_hooked(node, g, hooks, apply, create_graph, shared)
            else:
                outs = node.apply(g, create_graph) if apply is None else apply(node, g)
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
        for (child, nr), r in zip(edges, outs):
            if child is None:
                continue
            left = deps[child] - 1
            deps[child] = left
            if r is not None:
                prev = get(child)
                if nr:  # output 1, 2, ... of a node with several outputs
                    buffers[child] = add_output(prev, nr, r)
                elif (not left and type(child) is accumulate_grad
                        and not (run_hooks and child._hooks)):
                    # A leaf's last gradient: into .grad (or the captured ones) now, without
                    # a turn of the loop (PyTorch also runs an AccumulateGrad once ready).
                    if prev is not None:
                        del buffers[child]
                        r = prev + r
                    if targets and child in targets:
                        captured[child] = (r, id(r) in shared)
                    if accumulate:
                        child.variable._accumulate_grad(r, id(r) in shared, create_graph)
                    continue
                else:
                    buffers[child] = r if prev is None else prev + r
            if not left:
                push_ready(child)
    return captured
