"""Whether operations are recorded for differentiation: thread-local, as in PyTorch.

Each thread starts with recording on; ``no_grad`` in one thread never affects another.
"""

from __future__ import annotations

import functools
import inspect
import threading

__all__ = ["is_grad_enabled", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode"]


class _State(threading.local):
    enabled = True
    # The verifier sets this while it builds a graph of derivatives: then every op records a
    # node, constants included, so the graph can be replayed exactly (no baked-in roundings).
    record_all = False


_state = _State()


def is_grad_enabled() -> bool:
    """True when new operations are recorded in the graph (in this thread)."""
    return _state.enabled


class _GradModeContext:
    """A context manager that is also a decorator, like PyTorch's grad-mode guards."""

    _mode: bool = True

    def __enter__(self) -> None:
        self._prev = _state.enabled
        _state.enabled = self._mode

    def __exit__(self, *exc) -> None:
        _state.enabled = self._prev

    def __call__(self, fn):
        mode = self._mode
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(fn, mode)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return _in_mode(mode, fn, *args, **kwargs)

        return wrapper


def _in_mode(mode: bool, fn, /, *args, **kwargs):
    """``fn(*args, **kwargs)`` with recording set to ``mode``, then the caller's mode back."""
    prev = _state.enabled
    _state.enabled = mode
    try:
        return fn(*args, **kwargs)
    finally:
        _state.enabled = prev


def _wrap_generator(fn, mode: bool):
    """A generator function whose body runs in ``mode`` each time it is resumed.

    A plain wrapper would only cover creating the generator (the body has not started),
    so, as PyTorch does, each ``next``/``send``/``throw``/``close`` is run in ``mode`` and
    the caller's mode is back whenever the generator yields.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        gen = _in_mode(mode, fn, *args, **kwargs)
        step, arg = gen.send, None
        while True:
            try:
                value = _in_mode(mode, step, arg)
            except StopIteration as stop:
                return stop.value
            try:
                arg = yield value
            except GeneratorExit:
                _in_mode(mode, gen.close)
                raise
            except BaseException as exc:
                step, arg = gen.throw, exc
            else:
                step = gen.send

    return wrapper


class no_grad(_GradModeContext):
    """Do not record operations: results have ``requires_grad=False``."""

    _mode = False

    def __init__(self, orig_func=None) -> None:
        # ``@no_grad`` without parentheses, as PyTorch allows.
        self._orig = orig_func

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if callable(orig_func):
            return cls.__call__(self, orig_func)
        return self


class enable_grad(no_grad):
    """Record operations again inside a ``no_grad`` block."""

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Switch recording on or off: as a function call, a context manager or a decorator."""

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled() expects a bool, got {type(mode).__name__}")
        self._prev = _state.enabled
        self._mode = mode
        _state.enabled = mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        _state.enabled = self._prev

    def __call__(self, fn):
        # Used as a decorator: undo the switch made by __init__, apply it per call instead.
        _state.enabled = self._prev
        return super().__call__(fn)


class inference_mode(no_grad):
    """Alias of ``no_grad`` (symgrad has no separate inference tensors)."""

    def __init__(self, mode: bool = True) -> None:
        self._mode = bool(mode) is False

    def __new__(cls, mode=True):
        if callable(mode):
            return no_grad(mode)
        return object.__new__(cls)
