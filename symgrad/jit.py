"""``symgrad.jit``: TorchScript's entry points for programs that use them to speed up or
export code. symgrad runs Python as it is (as ``symgrad.compile`` does), so ``script`` and
``trace`` return the function or module unchanged and its calls are recorded like any
other code; saving or loading a TorchScript archive is refused, since there is none."""

from __future__ import annotations

import warnings
from typing import Any
from collections.abc import Callable

__all__ = ["script", "trace", "trace_module", "ignore", "unused", "export", "is_scripting",
           "is_tracing", "annotate", "interface", "freeze", "optimize_for_inference", "save",
           "load", "fork", "wait"]


def script(obj: Any = None, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None,
           example_inputs: Any = None) -> Any:
    """The function, class or module itself."""
    _deprecated("script")
    return obj


def trace(func: Any, example_inputs: Any = None, *args: Any, **kwargs: Any) -> Any:
    """The function or module itself (nothing is traced: Python runs on every call)."""
    _deprecated("trace")
    return func


def _deprecated(name: str) -> None:
    warnings.warn(f"`torch.jit.{name}` is deprecated. Please switch to `torch.compile` or "
                  "`torch.export`.", DeprecationWarning, stacklevel=3)


def trace_module(mod: Any, inputs: Any = None, *args: Any, **kwargs: Any) -> Any:
    return mod


def _marker(fn: Callable | None = None, **kwargs: Any) -> Any:
    """A decorator that changes nothing (``@ignore``, ``@unused``, ``@export``), used with or
    without arguments."""
    if fn is None:
        return lambda f: f
    return fn


ignore = unused = export = interface = _marker


def is_scripting() -> bool:
    return False


def is_tracing() -> bool:
    return False


def annotate(the_type: Any, the_value: Any) -> Any:
    return the_value


def freeze(mod: Any, preserved_attrs: Any = None, optimize_numerics: bool = True) -> Any:
    return mod


def optimize_for_inference(mod: Any, other_methods: Any = None) -> Any:
    return mod


def fork(func: Callable, *args: Any, **kwargs: Any) -> Any:
    """Runs ``func`` now; ``wait`` returns its result."""
    return _Future(func(*args, **kwargs))


def wait(future: Any) -> Any:
    return future.value


class _Future:
    def __init__(self, value: Any) -> None:
        self.value = value


def save(m: Any, f: Any, _extra_files: Any = None) -> None:
    raise RuntimeError("symgrad has no TorchScript: jit.save cannot write an archive (use "
                       "symgrad.save(model.state_dict(), f) for the weights)")


def load(f: Any, map_location: Any = None, _extra_files: Any = None) -> Any:
    raise RuntimeError("symgrad has no TorchScript: jit.load cannot read an archive (use "
                       "symgrad.load for checkpoints written by symgrad.save)")
