"""Whether operations are recorded for differentiation: thread-local, as in PyTorch.

Each thread starts with recording on; ``no_grad`` in one thread never affects another.
``inference_mode`` also turns recording off, and marks the tensors made inside it as
inference tensors (``Tensor.is_inference``), which autograd then refuses to save or
change in place outside the mode.
"""

from __future__ import annotations

import functools
import inspect
import threading

__all__ = ["is_grad_enabled", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_inference_mode_enabled"]


class _State(threading.local):
    enabled = True
    # The verifier sets this while it builds a graph of derivatives: then every op records a
    # node, constants included, so the graph can be replayed exactly (no baked-in roundings).
    record_all = False
    # Inside inference_mode: new tensors are inference tensors. Read only where nothing is
    # recorded (then the op's cost dwarfs it), never on the recording path.
    inference = False
    # The grad mode no_grad/enable_grad set; ``enabled`` (what ops read) is it outside
    # inference mode, and off inside it (enable_grad there records nothing, as PyTorch).
    grad = True
    # Forward-mode AD (symgrad.autograd.forward_ad): ``forward`` is the one flag ops read,
    # true while a dual level is open (and not suspended while a tangent is computed);
    # ``fw_level`` is that level.
    forward = False
    fw_level = None


_state = _State()


def is_grad_enabled() -> bool:
    """True when new operations are recorded in the graph (in this thread), or inside
    ``inference_mode`` under ``enable_grad`` (which records nothing there, as PyTorch)."""
    return _state.enabled or (_state.inference and _state.grad)


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` (in this thread)."""
    return _state.inference


class _GradModeContext:
    """A context manager that is also a decorator, like PyTorch's grad-mode guards."""

    _mode: bool = True

    def _switch(self):
        """Enter this mode; returns what ``_restore`` needs to leave it."""
        prev = (_state.enabled, _state.grad)
        _state.grad = self._mode
        _state.enabled = self._mode and not _state.inference
        return prev

    @staticmethod
    def _restore(prev) -> None:
        _state.enabled, _state.grad = prev

    def __enter__(self) -> None:
        self._prev = self._switch()

    def __exit__(self, *exc) -> None:
        self._restore(self._prev)

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(fn, self)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return _in_mode(self, fn, *args, **kwargs)

        return wrapper


def _in_mode(mode: _GradModeContext, fn, /, *args, **kwargs):
    """``fn(*args, **kwargs)`` in ``mode``, then the caller's mode back."""
    prev = mode._switch()
    try:
        return fn(*args, **kwargs)
    finally:
        mode._restore(prev)


def _wrap_generator(fn, mode: _GradModeContext):
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
        self._mode = mode
        self._prev = self._switch()

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        self._restore(self._prev)

    def __call__(self, fn):
        # Used as a decorator: undo the switch made by __init__, apply it per call instead.
        self._restore(self._prev)
        return super().__call__(fn)


class inference_mode(_GradModeContext):
    """``no_grad`` that also makes the tensors created inside inference tensors, as
    PyTorch's: autograd refuses to save them for backward, or to change them in place,
    outside the mode (``clone()`` one to get a normal tensor). ``inference_mode(False)``
    switches both off: recording is on inside it."""

    def __init__(self, mode: bool = True) -> None:
        self._mode = bool(mode)

    def __new__(cls, mode=True):
        self = object.__new__(cls)
        if callable(mode):   # ``@inference_mode`` without parentheses
            self._mode = True
            return self(mode)
        return self

    def _switch(self):
        prev = (_state.enabled, _state.inference, _state.grad)
        _state.enabled = _state.grad = not self._mode
        _state.inference = self._mode
        return prev

    @staticmethod
    def _restore(prev) -> None:
        _state.enabled, _state.inference, _state.grad = prev
