"""Pictures of recorded graphs: Graphviz DOT text, and rendering it when ``dot`` exists.

``to_dot`` needs nothing beyond symgrad; ``render`` runs the Graphviz ``dot`` program and
always writes the ``.dot`` text first, so a missing program never loses the picture.

>>> import symgrad as sg
>>> w = sg.ones(3, requires_grad=True)
>>> loss = (w * w).sum()
>>> print(to_dot(loss).splitlines()[0])
digraph symgrad {
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from symgrad.autograd.engine import topological_order
from symgrad.autograd.graph import AccumulateGrad, Node
from symgrad.tensor import Tensor

__all__ = ["to_dot", "render"]

_LEAF_STYLE = 'shape=box, style=filled, fillcolor="#dbeafe"'
_OP_STYLE = 'shape=box, style="rounded,filled", fillcolor="#f3f4f6"'
_BAD_STYLE = 'shape=box, style="rounded,filled", fillcolor="#fee2e2", color=red, fontcolor=red, ' \
             'penwidth=2.5'
_HEADER = ("digraph symgrad {", '  graph [rankdir=TB, fontname="Helvetica"];',
           '  node [fontname="Helvetica", fontsize=11];', '  edge [color="#555555"];')


def _note(message: str) -> str:
    """A one-box graph saying why there is nothing to draw."""
    return "\n".join([*_HEADER, f"  n0 [shape=note, label={_q(message)}];", "}"]) + "\n"


def _q(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, newlines as ``\\n``."""
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "")
    return '"' + text.replace("\n", "\\n") + '"'


def _shape(shape: Any) -> str:
    return "()" if shape is None or len(shape) == 0 else str(tuple(int(n) for n in shape))


def _caller_names(depth: int) -> dict[int, str]:
    """id(tensor) -> variable name in the caller's frame (the mirror's helper when present)."""
    try:
        from symgrad.symbolic.mirror import _caller_names as helper
    except ImportError:  # the helper is private; without it, names come from ``names`` only
        return {}
    return helper(depth + 1)


def _flagged(ops: list[Node], report: Any) -> dict[Node, list[str]]:
    """The op nodes the report's findings name, with the findings' descriptions.

    A finding that holds the node itself is matched by identity; otherwise by node name,
    since ``verify.check`` re-runs the code on its own graph (a wrong rule is wrong for
    every node of that op, so all of them are marked).
    """
    out: dict[Node, list[str]] = {}
    for f in getattr(report, "findings", None) or ():
        desc = f.describe() if hasattr(f, "describe") else str(f)
        ref = getattr(f, "node", None)
        hit = (lambda n: n is ref) if isinstance(ref, Node) else (lambda n: n.name() == ref)
        for n in filter(hit, ops):
            out.setdefault(n, []).append(desc)
    return out


def to_dot(t: Tensor, *, report: Any = None, names: Mapping[str, Tensor] | None = None) -> str:
    """The recorded graph of ``t`` as Graphviz DOT text, inputs above the ops they feed.

    Op nodes show their ``grad_fn`` name and output shape; leaves show their name and
    shape. Leaves are named from ``names`` ({name: tensor}), else after the caller's
    variables, else ``p0, p1, ...`` (as ``symgrad.symbolic.mirror`` names their symbols);
    ``names`` may also name intermediate tensors. With ``report`` (a ``verify.check``
    report) the nodes its findings name are drawn red, so a wrong rule is seen in place.
    """
    if not isinstance(t, Tensor):
        raise TypeError(f"to_dot() expects a Tensor, got {type(t).__name__}")
    by_id = _caller_names(depth=2)
    node_names: dict[int, str] = {}
    for k, v in (names or {}).items():
        if not isinstance(v, Tensor):
            raise TypeError(f"names[{k!r}] must be a Tensor")
        by_id[id(v)] = k
        by_id[id(v._data)] = k
        if v.grad_fn is not None:
            node_names[id(v.grad_fn)] = k

    root = t.grad_fn if t.grad_fn is not None else (
        t._grad_accumulator() if t.requires_grad else None)
    if root is None:
        return _note("no recorded graph (the tensor does not require grad)")
    if t.grad_fn is not None and id(t.grad_fn) not in node_names and id(t) in by_id:
        node_names[id(t.grad_fn)] = by_id[id(t)]

    order, _ = topological_order([root])
    created = list(reversed(order))                 # inputs first: creation order
    ops = [n for n in created if type(n) is not AccumulateGrad]
    bad = _flagged(ops, report)
    ids = {n: f"n{i}" for i, n in enumerate(created)}
    lines = list(_HEADER)
    used: set[str] = set()
    taken = set(by_id.values())                     # never number a leaf like a variable
    counter = 0
    for node in created:
        if type(node) is AccumulateGrad:
            leaf = node.variable
            name = by_id.get(id(leaf)) or by_id.get(id(leaf._data))
            if name is None or name in used:
                while f"p{counter}" in used or f"p{counter}" in taken:
                    counter += 1
                name = f"p{counter}"
            used.add(name)
            label, style, extra = f"{name}\n{_shape(leaf._data.shape)}", _LEAF_STYLE, ""
        else:
            label = f"{node.name()}\n{_shape(getattr(node, '_shape', None))}"
            if id(node) in node_names:
                label = f"{node_names[id(node)]} = {label}"
            style, extra = _OP_STYLE, ""
            if node in bad:
                style = _BAD_STYLE
                extra = f", tooltip={_q(' | '.join(bad[node]))}"
        lines.append(f"  {ids[node]} [{style}, label={_q(label)}{extra}];")
    for node in created:
        for parent, _ in node.next_functions:
            if parent is not None:
                lines.append(f"  {ids[parent]} -> {ids[node]};")
    return "\n".join(lines + ["}"]) + "\n"


def render(dot_text: str, path: str | os.PathLike, format: str = "svg") -> Path:
    """Write ``<path>.dot`` and render it to ``<path>.<format>`` with Graphviz ``dot``.

    ``path`` may carry the format's suffix (``graph.svg``) or none (``graph``). The ``.dot``
    file is written first, always; without the ``dot`` program a RuntimeError says so
    and where the text went. Returns the picture's path.
    """
    if not re.fullmatch(r"[A-Za-z0-9_:.-]+", format):
        raise ValueError(f"format must be a Graphviz output format such as 'svg', got {format!r}")
    p = Path(path)
    stem = p.with_suffix("") if p.suffix == f".{format}" else p
    dot_path = stem.parent / (stem.name + ".dot")
    out_path = stem.parent / (stem.name + f".{format}")
    dot_path.parent.mkdir(parents=True, exist_ok=True)
    dot_path.write_text(dot_text, encoding="utf-8")
    program = shutil.which("dot")
    if program is None:
        raise RuntimeError(f"cannot render {out_path}: the Graphviz 'dot' program was not found "
                           "(install Graphviz, e.g. the Debian package 'graphviz'); the .dot "
                           f"text was written to {dot_path} instead")
    try:
        proc = subprocess.run([program, f"-T{format}", str(dot_path), "-o", str(out_path)],
                              capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RuntimeError(f"Graphviz 'dot' failed ({e}); the .dot text is in {dot_path}") from e
    if proc.returncode != 0:
        msg = (proc.stderr or "").strip().splitlines()
        raise RuntimeError(f"Graphviz 'dot' failed: {msg[0] if msg else proc.returncode}; "
                           f"the .dot text is in {dot_path}")
    return out_path
