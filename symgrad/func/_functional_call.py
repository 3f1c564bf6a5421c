"""``functional_call``: run a module with some of its parameters and buffers replaced.

The function transforms differentiate functions of tensors; a module reads its weights from
itself. ``functional_call(model, {"weight": w}, (x,))`` swaps the named entries in for one
call (restored afterwards, also on error), so ``grad(lambda p: loss(functional_call(model,
p, (x,))))(params)`` differentiates with respect to a dict of weights, as in PyTorch.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any
from collections.abc import Iterator, Mapping, Sequence

__all__ = ["functional_call", "stack_module_state"]


def functional_call(module: Any, parameter_and_buffer_dicts: Mapping | Sequence[Mapping],
                    args: Any = None, kwargs: Mapping | None = None, *,
                    tie_weights: bool = True, strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with the named parameters and buffers replaced by the
    given tensors (``"layer.weight"``-style names). ``tie_weights``: a replaced tensor also
    replaces the names that share it in the module; ``strict``: every parameter and buffer
    must be given, and no other name."""
    dicts = ([parameter_and_buffer_dicts] if isinstance(parameter_and_buffer_dicts, Mapping)
             else list(parameter_and_buffer_dicts))
    values: dict[str, Any] = {}
    for d in dicts:
        repeated = sorted(set(values) & set(d))
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                             "functional call is ambiguous")
        values.update(d)
    known = _named_tensors(module)
    if strict:
        _check_strict(module, values, known)
    if tie_weights:
        values = _with_tied(values, known)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _swapped(module, values):
        return module(*args, **(kwargs or {}))


def _named_tensors(module: Any) -> dict[str, Any]:
    """Every parameter and buffer of ``module`` by name, shared ones under each name."""
    named = dict(module.named_parameters(remove_duplicate=False))
    named.update(module.named_buffers(remove_duplicate=False))
    return named


def _check_strict(module: Any, values: Mapping, known: Mapping) -> None:
    unexpected = [k for k in values if k not in known]
    missing = [k for k in known if k not in values]
    if unexpected or missing:
        lines = []
        if unexpected:
            lines.append("Unexpected key(s): " + ", ".join(f"'{k}'" for k in unexpected) + ".")
        if missing:
            lines.append("Missing key(s): " + ", ".join(f"'{k}'" for k in missing) + ".")
        raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                           + "\n\t".join(lines))


def _with_tied(values: Mapping, known: Mapping) -> dict[str, Any]:
    """``values`` plus, for each replaced tensor that the module holds under several names,
    the other names (PyTorch's tie_weights); two different values for one tied tensor is
    an error."""
    out = dict(values)
    by_tensor: dict[int, list[str]] = {}
    for name, t in known.items():
        by_tensor.setdefault(id(t), []).append(name)
    for names in by_tensor.values():
        given = [n for n in names if n in values]
        if len(names) < 2 or not given:
            continue
        first = values[given[0]]
        if any(values[n] is not first for n in given[1:]):
            raise ValueError(f"functional_call got multiple values for keys {given}, which "
                             "are tied. Consider using tie_weights=False")
        for n in names:
            out.setdefault(n, first)
    return out


@contextmanager
def _swapped(module: Any, values: Mapping) -> Iterator[None]:
    """The module's entries named in ``values`` replaced by them for the block."""
    undo: list[tuple[dict, str, Any, bool]] = []
    try:
        for name, value in values.items():
            owner_path, _, leaf = name.rpartition(".")
            owner = module.get_submodule(owner_path) if owner_path else module
            for kind in ("_parameters", "_buffers"):
                table = owner.__dict__[kind]
                if leaf in table:
                    undo.append((table, leaf, table[leaf], True))
                    table[leaf] = value
                    break
            else:   # a name the module lacks: set as a plain attribute for the call
                undo.append((owner.__dict__, leaf, owner.__dict__.get(leaf), leaf in
                             owner.__dict__))
                owner.__dict__[leaf] = value
        yield
    finally:
        for table, key, old, existed in reversed(undo):
            if existed:
                table[key] = old
            else:
                table.pop(key, None)


def stack_module_state(models: Sequence[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The parameters and buffers of same-shaped modules stacked along a new first
    dimension, by name (for ``vmap(functional_call)`` over an ensemble): the stacked
    parameters are new leaves that require grad, as PyTorch's."""
    from symgrad import stack

    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same training/"
                           "eval mode.")
    kinds = {type(m) for m in models}
    if len(kinds) > 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    params = {k: stack([dict(m.named_parameters())[k].detach() for m in models]).requires_grad_()
              for k, _ in models[0].named_parameters()}
    buffers = {k: stack([dict(m.named_buffers())[k] for m in models])
               for k, _ in models[0].named_buffers()}
    return params, buffers
