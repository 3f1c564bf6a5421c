"""How many rarely used features want extra work each time an op records a node
(saved-tensor hooks pack the saved tensors; anomaly mode keeps the forward's traceback).

``ops._apply.apply`` reads ``active[0]`` and does that work (``record_extras.on_record``)
only when it is nonzero: one list-entry test per recorded op when everything is off.
"""

from __future__ import annotations

import threading

__all__ = ["active", "switch"]

active = [0]
_lock = threading.Lock()


def switch(step: int) -> None:
    """A feature turned on (+1) or off (-1), in any thread."""
    with _lock:
        active[0] += step
