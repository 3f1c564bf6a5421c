"""Anomaly mode: make backward stop at the first node whose rule returns nan.

A nan in ``x.grad`` says nothing about where it came from; with anomaly mode on, each node's
results are checked as it runs and the first bad one is named. The state is process-wide,
as PyTorch's (grad mode is per thread). The engine's loop never reads it: ``backward`` and
``grad`` hand the engine a checking ``apply`` only while the mode is on, so switched off it
costs nothing per node. While it is on, ops also keep the traceback of the forward call
that made each node (``node.metadata["traceback_"]``), and an error in a node's backward
warns with it before it propagates.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from symgrad.autograd._switches import switch

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]


class _State:
    enabled = False
    check_nan = True


_state = _State()


def is_anomaly_enabled() -> bool:
    """True when anomaly mode is on."""
    return _state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """True when anomaly mode, once on, checks nodes' results for nan."""
    return _state.check_nan


def _set(enabled: bool, check_nan: bool) -> None:
    enabled = bool(enabled)
    if enabled != _state.enabled:   # ops keep forward tracebacks while the mode is on
        switch(1 if enabled else -1)
    _state.enabled = enabled
    _state.check_nan = bool(check_nan)


class detect_anomaly:
    """Anomaly mode on inside a ``with`` block or a decorated function.

    Backward then raises a RuntimeError naming the node whose rule returned nan
    (``check_nan=False``: no check; symgrad records nothing else in anomaly mode)."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        warnings.warn("anomaly detection is on: every backward node's result is checked for "
                      "nan, which slows backward down; use it for debugging", stacklevel=2)

    def __enter__(self) -> None:
        self._prev = (_state.enabled, _state.check_nan)
        _set(True, self.check_nan)

    def __exit__(self, *exc: Any) -> None:
        _set(*self._prev)

    def __call__(self, fn: Callable) -> Callable:
        check_nan = self.check_nan

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = (_state.enabled, _state.check_nan)   # per call: safe under recursion
            _set(True, check_nan)
            try:
                return fn(*args, **kwargs)
            finally:
                _set(*prev)

        return wrapper


class set_detect_anomaly:
    """Switch anomaly mode on or off: as a function call, or as a context manager that
    restores the previous setting on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._prev = (_state.enabled, _state.check_nan)
        _set(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        _set(*self._prev)


def checking_apply(create_graph: bool, check_nan: bool = True
                   ) -> Callable[[Any, Any], Sequence[Any]]:
    """An ``apply`` for the engine that runs a node's rule and rejects nan results (with
    ``check_nan``); an error in a node warns with the traceback of the forward call that
    made the node, as PyTorch does, before it propagates."""

    def apply(node, g):
        try:
            outs = node.apply(g, create_graph)
            if check_nan:
                _reject_nan(node, outs)
        except Exception:
            tb = node.metadata.get("traceback_")
            if tb:
                warnings.warn(f"Error detected in {node.name()}. Traceback of forward call "
                              "that caused the error:\n" + "".join(tb), stacklevel=2)
            raise
        return outs

    return apply


def _reject_nan(node: Any, outs: Sequence[Any]) -> None:
    for i, r in enumerate(outs):
        if r is None:
            continue
        data = getattr(r, "_data", r)   # a Tensor under create_graph, else an array
        if np.asarray(data).dtype.kind in "fc" and np.isnan(data).any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its "
                               f"{i}th output.")
