"""Pytrees: nested tuples, lists and dicts whose leaves are tensors (or anything else).

``flatten`` lists the leaves in a fixed order and returns a spec that ``unflatten`` uses to
rebuild the same nesting around new leaves; two values have the same structure when their
specs are equal. Namedtuples keep their type.
"""

from __future__ import annotations

from typing import Any

__all__ = ["flatten", "unflatten", "LEAF", "describe"]

#: The spec of a single leaf.
LEAF = "*"


def flatten(tree: Any) -> tuple[list, Any]:
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree: Any, leaves: list) -> Any:
    if isinstance(tree, tuple):
        kind = type(tree) if hasattr(tree, "_fields") else tuple
        return (kind, tuple(_flatten(x, leaves) for x in tree))
    if isinstance(tree, list):
        return (list, tuple(_flatten(x, leaves) for x in tree))
    if isinstance(tree, dict):
        keys = tuple(tree)
        return (dict, keys, tuple(_flatten(tree[k], leaves) for k in keys))
    leaves.append(tree)
    return LEAF


def unflatten(leaves: list, spec: Any) -> Any:
    it = iter(leaves)
    out = _build(spec, it)
    if next(it, _END) is not _END:
        raise ValueError("more leaves than the structure holds")
    return out


_END = object()


def _build(spec: Any, it: Any) -> Any:
    if spec == LEAF:
        return next(it)
    kind = spec[0]
    if kind is dict:
        return {k: _build(s, it) for k, s in zip(spec[1], spec[2])}
    items = [_build(s, it) for s in spec[1]]
    if kind is list:
        return items
    if kind is tuple:
        return tuple(items)
    return kind(*items)   # a namedtuple


def describe(spec: Any) -> str:
    """A spec as PyTorch prints one in messages: ``*`` a leaf, ``(*, *)`` a tuple ..."""
    if spec == LEAF:
        return "*"
    kind = spec[0]
    if kind is dict:
        return "{" + ", ".join(f"{k!r}: {describe(s)}" for k, s in zip(spec[1], spec[2])) + "}"
    inner = ", ".join(describe(s) for s in spec[1])
    if kind is list:
        return f"[{inner}]"
    return f"({inner},)" if len(spec[1]) == 1 else f"({inner})"
