"""Which entries of a Jacobian can be nonzero, and which columns can be probed together.

An output entry depends only on the symbols its mirror expression holds, so the
structure of a Jacobian is known before any derivative is taken. Columns that share no
row can then be moved together: one probe (a forward-mode pass over the mirror, or a
central difference of the function) serves the whole group, and each row still sees
exactly one column of it (Curtis, Powell and Reid's grouping). An elementwise function
needs one probe instead of one per input entry.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import numpy as np

__all__ = ["pattern", "groups"]


def pattern(exprs: np.ndarray, syms: np.ndarray, free_of: Callable | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the Jacobian entries d exprs[r] / d syms[c] that can be nonzero
    (flat indices, sorted by row then column). ``free_of(e)``: ``e.free_symbols``, perhaps
    from a cache that later walks share."""
    position = {s: k for k, s in enumerate(syms.reshape(-1))}
    rows: list[int] = []
    cols: list[int] = []
    for r, e in enumerate(exprs.reshape(-1)):
        if free_of is not None and hasattr(type(e), "free_symbols"):   # (on the class: an
            free = free_of(e)                                           # instance computes it)
        else:
            free = getattr(e, "free_symbols", ())
        cs = sorted(position[s] for s in free if s in position)
        rows.extend([r] * len(cs))
        cols.extend(cs)
    return np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)


def groups(structure: tuple[Any, Any], n_out: int, n_in: int, most: int | None = None
           ) -> list[np.ndarray] | None:
    """Columns in groups that share no row (greedy, in column order); None when that
    would take more than ``most`` groups (default a quarter of the columns), where
    grouping saves little (a row with many entries forces as many groups)."""
    rows, cols = (np.asarray(p, dtype=np.intp) for p in structure)
    limit = max(1, n_in // 4) if most is None else most
    widest = np.bincount(rows, minlength=n_out).max() if rows.size else 0
    if n_in < 2 or widest > limit:
        return None
    if widest <= 1:   # no row holds two columns (elementwise): one group, as the loop finds
        return [np.arange(n_in, dtype=np.intp)]
    order = np.argsort(cols, kind="stable")
    starts = np.searchsorted(cols[order], np.arange(n_in + 1))
    used: list[np.ndarray] = []
    members: list[list[int]] = []
    for c in range(n_in):
        rs = rows[order[starts[c]:starts[c + 1]]]
        for u, m in zip(used, members):
            if not u[rs].any():
                u[rs] = True
                m.append(c)
                break
        else:
            if len(used) >= limit:
                return None
            u = np.zeros(n_out, dtype=bool)
            u[rs] = True
            used.append(u)
            members.append([c])
    return [np.asarray(m, dtype=np.intp) for m in members]
