"""``backward`` and ``grad``: PyTorch's entry points into the reverse-mode pass.

They turn tensors into graph roots and seed gradients, call the engine, and put the
results where PyTorch puts them (``.grad`` of leaves, or a tuple returned to the caller).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from symgrad._quiet import quiet_enter, quiet_exit
from symgrad.autograd.anomaly_mode import _state as _anomaly
from symgrad.autograd.anomaly_mode import checking_apply
from symgrad.autograd.engine import _all_lead_to, _dependencies, _run_all, _run_capture
from symgrad.autograd.grad_mode import _state
from symgrad.autograd.multi_grad_hook import graph_task, live as _multi_live
from symgrad.autograd.graph import (AccumulateGrad, GradientEdge, OutputGrads, add_output,
                                    output_grad)
from symgrad.tensor import Tensor

__all__ = ["backward", "grad"]


def _run(roots, seeds, retain_graph: bool, create_graph: bool, shared: set,
         capture=None, accumulate: bool = True, deps: dict | None = None,
         task: bool = False) -> dict:
    """The engine, with recording on only for ``create_graph`` and numpy's floating-point
    warnings off (a context manager each would cost more than a small graph's backward).
    While multi-grad hooks exist, the run is one ``graph_task`` they can tell apart.
    In anomaly mode each node's results go through a nan check, via the engine's ``apply``
    hook: the plain loop, which never looks at the mode, runs otherwise. ``deps``: the
    graph's dependency counts, worked out by a caller that knows every path ends at a
    captured node (``grad_rows``); they are not used up."""
    if _multi_live[0] and not task:
        with graph_task(roots, capture):
            return _run(roots, seeds, retain_graph, create_graph, shared, capture,
                        accumulate, deps, True)
    apply = checking_apply(create_graph, _anomaly.check_nan) if _anomaly.enabled else None
    prev = _state.enabled
    _state.enabled = create_graph
    token = quiet_enter()
    try:
        if capture is None and apply is None:  # the common case: the engine's loop directly
            return _run_all(roots, seeds, retain_graph, create_graph, accumulate, shared, True)
        if deps is not None:
            return _run_all(roots, seeds, retain_graph, create_graph, accumulate, shared, True,
                            set(capture), apply, dict(deps))
        return _run_capture(roots, seeds, retain_graph, create_graph, capture, accumulate,
                            shared, apply, True)
    finally:
        quiet_exit(token)
        _state.enabled = prev


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, (Tensor, GradientEdge)):   # (an edge is a tuple: not a list of inputs)
        return [x]
    return list(x.values() if isinstance(x, dict) else x)


def _outputs(x) -> list:
    """The outputs to differentiate, a ``GradientEdge`` among them standing as a tensor
    made by its node (its values are never read: only its shape and dtype)."""
    outs = _as_list(x)
    for i, t in enumerate(outs):
        if type(t) is GradientEdge:
            shape, dtype = _meta(t)
            stand_in = Tensor._wrap(np.empty(shape, dtype), None, True)
            if type(t.node) is AccumulateGrad:
                stand_in._acc = weakref.ref(t.node)
            else:
                stand_in._set_history(t.node, t.output_nr)
            outs[i] = stand_in
    return outs


def _root(t: Tensor, i: int):
    if not isinstance(t, Tensor):
        raise TypeError(f"outputs must be Tensors, got {type(t).__name__} at index {i}")
    if t.grad_fn is not None:
        return t.grad_fn
    if t._requires_grad:
        return t._grad_accumulator()
    raise RuntimeError(
        f"element {i} of tensors does not require grad and does not have a grad_fn: nothing "
        "that requires grad was used to compute it (or it was computed under no_grad / "
        "after .detach())")


def _seed(t: Tensor, g, i: int, create_graph: bool, shared: set):
    """The gradient a root starts with: given, or 1 for a one-element output."""
    if g is None:
        if t._data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs (output {i} has shape "
                f"{tuple(t.shape)}); pass gradient=... of that shape, e.g. "
                "symgrad.ones_like(out)")
        shape = t._data.shape  # np.array(1) is np.ones(()) without its Python layer
        seed = np.ones(shape, dtype=t._data.dtype) if shape else np.array(1, t._data.dtype)
        return Tensor._wrap(seed) if create_graph else seed
    out = t._data
    if not isinstance(g, Tensor):
        g = Tensor._wrap(np.asarray(g, dtype=out.dtype))
    data = g._data
    if data.shape != out.shape:  # (what ``.shape`` wraps, without building two Sizes)
        raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape!r} "
                           f"and output[{i}] has a shape of {t.shape!r}.")
    dtype = out.dtype
    if data.dtype.kind != dtype.kind:
        raise RuntimeError(f"For complex or floating outputs, grad_output[{i}] must have a "
                           f"floating dtype like the output; got {g.dtype!r} for an output of "
                           f"dtype {t.dtype!r}")
    if create_graph:
        return g
    if data.dtype != dtype:
        data = data.astype(dtype)
    shared.add(id(data))
    return data


def _at_output(t: Tensor, seed):
    """A root's seed as the engine takes it: for output 1, 2, ... of a node with several
    outputs, in that node's per-output buffer."""
    nr = t.output_nr
    return add_output(None, nr, seed) if nr else seed


def _captured(got: dict, node, t: Tensor | GradientEdge):
    """The captured ``(gradient, shared)`` of ``t`` (None if none arrived): the entry of
    ``t``'s output when its node has several."""
    entry = got.get(node)
    if type(t) is GradientEdge:
        nr = t.output_nr
    else:
        nr = t.output_nr if t._extra is not None else 0
    if entry is None or (type(entry[0]) is not OutputGrads and not nr):
        return entry
    g = output_grad(entry[0], nr)
    return None if g is None else (g, True)


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Sequence[Tensor] | None = None) -> None:
    """Accumulate d(tensors)/d(leaf) into each leaf's ``.grad`` (PyTorch's ``backward``)."""
    if retain_graph is None:
        retain_graph = create_graph
    shared: set = set()
    if grad_tensors is None and inputs is None and type(tensors) is Tensor:
        # ``loss.backward()``, the common call: one root, its seed implicit
        root = _root(tensors, 0)
        seed = _seed(tensors, None, 0, create_graph, shared)
        if tensors._extra is not None:
            seed = _at_output(tensors, seed)
        _run([root], [seed], retain_graph, create_graph, shared)
        return
    outs = _outputs(tensors)
    gs = _as_list(grad_tensors) if grad_tensors is not None else [None] * len(outs)
    if len(gs) != len(outs):
        raise RuntimeError(f"got {len(gs)} gradients for {len(outs)} tensors")
    roots = [_root(t, i) for i, t in enumerate(outs)]
    seeds = [_at_output(t, _seed(t, g, i, create_graph, shared))
             for i, (t, g) in enumerate(zip(outs, gs))]
    inputs_l = _as_list(inputs) if inputs is not None else None   # (a dict: its values)
    if inputs is not None and not inputs_l:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    capture = None
    if inputs_l is not None:
        capture = [_input_node(t, i) for i, t in enumerate(inputs_l)]
    got = _run(roots, seeds, retain_graph=retain_graph, create_graph=create_graph,
               capture=capture, accumulate=True, shared=shared)
    if inputs_l is not None:
        for t, node in zip(inputs_l, capture):
            entry = _captured(got, node, t)
            # (a tensor that retains its grad has had it stored by its retain_grad hook; a
            # GradientEdge has no .grad to fill, as in PyTorch)
            if (type(t) is not GradientEdge and t.grad_fn is not None and entry is not None
                    and not t.retains_grad):
                t._store_retained(entry[0])


def _input_node(t: Tensor | GradientEdge, i: int):
    if type(t) is GradientEdge:
        return t.node
    if not isinstance(t, Tensor):
        raise TypeError(f"inputs must be Tensors, got {type(t).__name__} at index {i}")
    if t.grad_fn is not None:
        return t.grad_fn
    if not t._requires_grad:
        raise RuntimeError(f"One of the differentiated Tensors (index {i}) does not require grad")
    return t._grad_accumulator()


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    One entry per input; an input the outputs do not depend on raises unless
    ``allow_unused=True`` (then its entry is None, or zeros with ``materialize_grads``).
    """
    if is_grads_batched:
        return _grad_batched(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    if isinstance(inputs, dict):   # named inputs: named gradients
        got = grad(outputs, list(inputs.values()), grad_outputs, retain_graph, create_graph,
                   only_inputs, allow_unused, is_grads_batched, materialize_grads)
        return dict(zip(inputs, got))
    outs = _outputs(outputs)
    ins = _as_list(inputs)
    if not ins:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         f"materialize_grads=True, but got: allow_unused={allow_unused}.")
    gs = _as_list(grad_outputs) if grad_outputs is not None else [None] * len(outs)
    if len(gs) != len(outs):
        raise RuntimeError(f"grad_outputs has {len(gs)} entries for {len(outs)} outputs")
    if retain_graph is None:
        retain_graph = create_graph
    shared: set = set()
    # (loops rather than comprehensions: cheaper for the usual one or two entries)
    roots, seeds, capture = [], [], []
    for i, t in enumerate(outs):
        roots.append(_root(t, i))
    for i, t in enumerate(outs):
        seed = _seed(t, gs[i], i, create_graph, shared)
        seeds.append(seed if t._extra is None else _at_output(t, seed))
    for i, t in enumerate(ins):
        capture.append(_input_node(t, i))
        if materialize_grads and type(t) is GradientEdge:
            raise RuntimeError("materialize_grads cannot be used when the given input is a "
                               "GradientEdge")
    got = _run(roots, seeds, retain_graph, create_graph, shared, capture, False)
    result = []
    for i, (t, node) in enumerate(zip(ins, capture)):
        entry = _captured(got, node, t)
        if entry is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior.")
            result.append(Tensor._wrap(np.zeros(*_meta(t))) if materialize_grads else None)
            continue
        g, is_shared = entry
        result.append(g if isinstance(g, Tensor)
                      else Tensor._wrap(_owned(g, is_shared, _meta(t)[1])))
    return tuple(result)


def _grad_batched(outputs, inputs, grad_outputs, retain_graph: bool | None,
                  create_graph: bool, allow_unused: bool | None, materialize_grads: bool
                  ) -> tuple:
    """``grad`` with ``is_grads_batched``: the first axis of each grad_output indexes
    cotangents; one backward per cotangent (PyTorch vmaps a single one), stacked."""
    from symgrad.ops.shape import stack

    outs = _outputs(outputs)
    gs = _as_list(grad_outputs) if grad_outputs is not None else [None] * len(outs)
    if len(gs) != len(outs):
        raise RuntimeError(f"grad_outputs has {len(gs)} entries for {len(outs)} outputs")
    sizes = set()
    for i, (t, g) in enumerate(zip(outs, gs)):
        if g is None:
            raise RuntimeError("grad can be implicitly created only for scalar outputs (with "
                               "is_grads_batched=True, pass grad_outputs with a batch axis)")
        if tuple(g.shape[1:]) != tuple(t.shape) or not g.ndim:
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each "
                "grad_output as the batch dimension. The sizes of the remaining dimensions are "
                f"expected to match the shape of corresponding output, but a mismatch was "
                f"detected: grad_output[{i}] has a shape of {tuple(g.shape)} and output[{i}] "
                f"has a shape of {tuple(t.shape)}.")
        sizes.add(g.shape[0])
    if len(sizes) > 1:
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sorted(sizes)} for the mapped dimension")
    (n,) = sizes
    keep = create_graph if retain_graph is None else retain_graph
    rows = [grad(outs, inputs, [g[b] for g in gs], retain_graph=keep or b < n - 1,
                 create_graph=create_graph, allow_unused=allow_unused,
                 materialize_grads=materialize_grads) for b in range(n)]
    return tuple(None if col[0] is None else stack(list(col)) for col in zip(*rows))


def _meta(t: Tensor | GradientEdge) -> tuple:
    """Shape and dtype of the gradient of an input of ``grad`` (a tensor or an edge)."""
    if type(t) is not GradientEdge:
        return t._data.shape, t._data.dtype
    node, nr = t.node, t.output_nr
    if type(node) is AccumulateGrad:
        return node.variable._data.shape, node.variable._data.dtype
    return node._output_meta(nr) if nr else (node._shape, node._dtype)


def _owned(g, is_shared: bool, dtype: np.dtype) -> np.ndarray:
    """A captured gradient as an array the caller may keep and change, in ``dtype``."""
    if type(g) is not np.ndarray:
        g = np.asarray(g)
    if is_shared or g.base is not None or not g.flags.writeable:
        g = g.copy()
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


def grad_rows(output: Tensor, input: Tensor, cotangents: Iterable[np.ndarray]
              ) -> Iterator[np.ndarray]:
    """For each cotangent, ``grad(output, input, ct, retain_graph=True, allow_unused=True,
    materialize_grads=True)`` as an array: a Jacobian's rows (the verifier asks for
    hundreds), with the graph's dependency counts worked out once instead of per row."""
    root, node = _root(output, 0), _input_node(input, 0)
    deps = _dependencies([root])
    targets = {node}
    direct = _all_lead_to([root], deps, targets)
    dtype = output._data.dtype
    for ct in cotangents:
        seed_t = Tensor._wrap(np.asarray(ct).astype(dtype))
        if not direct:   # part of the graph leads elsewhere: grad itself
            (g,) = grad([output], [input], grad_outputs=[seed_t], retain_graph=True,
                        allow_unused=True, materialize_grads=True)
            yield g._data
            continue
        shared: set = set()
        seed = _at_output(output, _seed(output, seed_t, 0, False, shared))
        got = _run([root], [seed], True, False, shared, [node], False, deps)
        entry = _captured(got, node, input)
        yield (np.zeros(input._data.shape, input._data.dtype) if entry is None
               else _owned(entry[0], entry[1], input._data.dtype))
