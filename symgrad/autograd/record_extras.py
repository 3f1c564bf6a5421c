"""The extra work of recording a node while a feature that wants it is on (see
``_switches``): pack the saved tensors for saved-tensor hooks, keep the forward's
traceback for anomaly mode (in ``node.metadata["traceback_"]``, as PyTorch)."""

from __future__ import annotations

import traceback
from typing import Any

from symgrad.autograd.anomaly_mode import _state as _anomaly
from symgrad.autograd.saved_tensors import _hooks, pack_node

__all__ = ["on_record", "note_traceback"]


def on_record(node: Any, args: tuple, out: Any) -> None:
    """Called by ``ops._apply.apply`` for a node it has just recorded."""
    if _hooks.pair is not None and node._saved:
        pack_node(node, args, out)
    note_traceback(node)


def note_traceback(node: Any) -> None:
    """In anomaly mode, where the user's code made this node: the stack without
    symgrad's own frames."""
    if _anomaly.enabled:
        frames = [f for f in traceback.extract_stack()[:-1]
                  if "/symgrad/" not in f.filename.replace("\\", "/")]
        node.metadata["traceback_"] = traceback.format_list(frames)
