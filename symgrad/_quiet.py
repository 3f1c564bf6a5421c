"""Silence numpy's floating-point warnings around one call, cheaply.

PyTorch never warns about inf or nan; numpy would, once per call site. ``np.errstate``
costs about a microsecond, which is a lot on the per-op hot path and in a small graph's
backward, so where numpy exposes its error-state context variable it is set directly.
"""

from __future__ import annotations

from functools import partial

import numpy as np

__all__ = ["quiet_enter", "quiet_exit"]


def _quiet_context():
    """``(enter, exit)``: ``token = enter()`` silences warnings, ``exit(token)`` restores."""
    try:
        from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj

        cv = _extobj_contextvar
        return partial(cv.set, _make_extobj(all="ignore")), cv.reset
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - other numpy versions
        def enter():
            e = np.errstate(all="ignore")
            e.__enter__()
            return e

        return enter, lambda e: e.__exit__(None, None, None)


quiet_enter, quiet_exit = _quiet_context()
