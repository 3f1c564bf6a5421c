"""Process-wide settings and small helpers of the ``torch`` namespace: default device,
thread counts, the RNG state, anomaly and determinism switches, ``asarray``,
``scalar_tensor``, ``range``, ``empty_strided``, ``empty_permuted``, ``frombuffer``,
``typename``, ``is_storage``.

symgrad computes with numpy on one CPU and is deterministic, so most switches are accepted
and remembered (code that sets and reads them back runs unchanged) without changing how it
computes. A device other than the CPU is refused, as in every factory.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from symgrad import _dtype
from symgrad._device import device as _device_type
from symgrad.autograd import anomaly_mode as _anomaly
from symgrad.factories import _GEN, as_tensor, pack_state, tensor, unpack_state
from symgrad.tensor import Tensor

__all__ = ["get_default_device", "set_default_device", "get_num_threads", "set_num_threads",
           "get_num_interop_threads", "set_num_interop_threads", "get_rng_state",
           "set_rng_state", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
           "set_anomaly_enabled", "use_deterministic_algorithms",
           "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
           "get_deterministic_debug_mode", "set_deterministic_debug_mode",
           "get_float32_matmul_precision", "set_float32_matmul_precision", "asarray",
           "scalar_tensor", "range", "typename", "is_storage", "is_warn_always_enabled",
           "set_warn_always", "set_flush_denormal", "init_num_threads", "empty_strided",
           "empty_permuted", "frombuffer", "compile"]

_SETTINGS: dict[str, Any] = {"threads": 1, "interop_threads": 1, "deterministic": False,
                             "warn_only": False, "debug_mode": 0, "matmul_precision": "highest",
                             "warn_always": False}
_CPU = _device_type("cpu")


# ================================================================ compile
def compile(model: Any = None, **options: Any) -> Any:  # noqa: A001 - torch.compile
    """``torch.compile``: symgrad has no compiler, so the model or function is returned as
    it is (also as a decorator, with or without options); programs run unchanged."""
    if model is None:
        return lambda fn: fn
    return model


# ================================================================ device and threads
def get_default_device() -> _device_type:
    return _CPU


def set_default_device(device) -> None:
    """Only the CPU (or None, which means it) is accepted."""
    if device is not None and _device_type(device).type != "cpu":
        raise RuntimeError(f"symgrad runs on the CPU only (numpy); cannot make {device} the "
                           "default device")


def get_num_threads() -> int:
    return _SETTINGS["threads"]


def _set_count(key: str, n: int, name: str) -> None:
    if int(n) <= 0:
        raise RuntimeError(f"{name} expects a positive integer")
    _SETTINGS[key] = int(n)


def set_num_threads(n: int) -> None:
    """Remembered only: numpy decides its own threading."""
    _set_count("threads", n, "set_num_threads")


def get_num_interop_threads() -> int:
    return _SETTINGS["interop_threads"]


def set_num_interop_threads(n: int) -> None:
    _set_count("interop_threads", n, "set_num_interop_threads")


def init_num_threads() -> None:
    """Nothing to initialise: numpy manages its threads."""


def set_flush_denormal(mode: bool) -> bool:
    """False: numpy cannot flush denormal numbers to zero (PyTorch's answer where the CPU
    lacks the feature); nothing changes."""
    return False


def set_warn_always(b: bool) -> None:
    _SETTINGS["warn_always"] = bool(b)


def is_warn_always_enabled() -> bool:
    return _SETTINGS["warn_always"]


# ================================================================ random state
def get_rng_state() -> Tensor:
    """The generator's state as a uint8 tensor (its bytes; not PyTorch's layout), for
    ``set_rng_state``."""
    return pack_state(_GEN[0], _GEN[1])


def set_rng_state(new_state: Tensor) -> None:
    """Restore a state ``get_rng_state`` returned."""
    _GEN[0], _GEN[1] = unpack_state(new_state)


# ================================================================ anomaly and determinism
def is_anomaly_enabled() -> bool:
    return _anomaly.is_anomaly_enabled()


def is_anomaly_check_nan_enabled() -> bool:
    return _anomaly.is_anomaly_check_nan_enabled()


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    _anomaly._set(enabled, check_nan)


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Remembered only: every symgrad op is deterministic."""
    _SETTINGS["deterministic"] = bool(mode)
    _SETTINGS["warn_only"] = bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _SETTINGS["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _SETTINGS["warn_only"]


def set_deterministic_debug_mode(debug_mode: str | int) -> None:
    modes = {"default": 0, "warn": 1, "error": 2}
    if isinstance(debug_mode, str):
        if debug_mode not in modes:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        debug_mode = modes[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    _SETTINGS["debug_mode"] = int(debug_mode)
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    if not _SETTINGS["deterministic"]:
        return 0
    return 1 if _SETTINGS["warn_only"] else 2


def get_float32_matmul_precision() -> str:
    return _SETTINGS["matmul_precision"]


def set_float32_matmul_precision(precision: str) -> None:
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid precision: {precision}")
    _SETTINGS["matmul_precision"] = precision


# ================================================================ making tensors
def asarray(obj: Any, *, dtype=None, device=None, copy: bool | None = None,
            requires_grad: bool = False) -> Tensor:
    """``obj`` as a tensor: shared with a tensor or numpy array when no copy is needed
    (``copy=True`` always copies; ``copy=False`` refuses to)."""
    if copy:
        out = tensor(obj._data if isinstance(obj, Tensor) else obj, dtype=dtype, device=device)
    else:
        out = as_tensor(obj, dtype=dtype, device=device)
        if copy is False and isinstance(obj, (Tensor, np.ndarray)):
            src = obj._data if isinstance(obj, Tensor) else obj
            if not np.shares_memory(out._data, src):
                raise ValueError("asarray(): copy=False, but a copy is needed (the dtype "
                                 "differs)")
    if requires_grad:
        out = out.detach() if out is obj else out
        out.requires_grad_(True)
    return out


def scalar_tensor(s, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding the number ``s`` (of the default float dtype unless ``dtype``)."""
    dt = dtype if dtype is not None else _dtype.get_default_dtype()
    return tensor(s, dtype=dt, device=device, requires_grad=requires_grad)


def range(start=0, end=None, step=1, *, dtype=None, device=None,
          requires_grad: bool = False) -> Tensor:
    """``start, start + step, ...`` up to and including ``end`` (deprecated in PyTorch,
    which warns; of the default float dtype)."""
    if end is None:
        raise TypeError("range() missing required argument 'end'")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    n = math.floor((end - start) / step) + 1
    dt = dtype if dtype is not None else _dtype.get_default_dtype()
    values = start + np.arange(n) * step
    return tensor(values, dtype=dt, device=device, requires_grad=requires_grad)


def _float_or(dtype) -> np.dtype:
    return _dtype.to_np(dtype) if dtype is not None else _dtype.get_default_dtype().np


def empty_strided(size, stride, *, dtype=None, device=None,
                  requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` laid out with ``stride`` (in entries) over a memory block just
    large enough; zeros (PyTorch leaves the entries uninitialised)."""
    size, stride = tuple(int(v) for v in size), tuple(int(v) for v in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    set_default_device(device)
    dt = _float_or(dtype)
    span = 1 + sum((n - 1) * st for n, st in zip(size, stride)) if all(size) else 0
    block = np.zeros(span, dtype=dt)
    arr = np.lib.stride_tricks.as_strided(block, size, tuple(st * dt.itemsize for st in stride))
    out = Tensor._wrap(arr)
    return out.requires_grad_(True) if requires_grad else out


def empty_permuted(size, physical_layout, *, dtype=None, device=None,
                   requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` whose dimensions lie in memory in the order ``physical_layout``
    (outermost first); zeros."""
    size, order = tuple(int(v) for v in size), tuple(int(v) for v in physical_layout)
    if sorted(order) != list(builtins.range(len(size))):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the "
                           f"physical_layout; or physical_layout is not a permutation: "
                           f"{list(order)}")
    set_default_device(device)
    block = np.zeros(tuple(size[d] for d in order), dtype=_float_or(dtype))
    out = Tensor._wrap(np.transpose(block, np.argsort(order)))
    return out.requires_grad_(True) if requires_grad else out


def frombuffer(buffer, *, dtype, count: int = -1, offset: int = 0,
               requires_grad: bool = False) -> Tensor:
    """A 1-d tensor over the bytes of ``buffer`` (shared, not copied)."""
    nd = _dtype.to_np(dtype)
    arr = np.frombuffer(buffer, dtype=nd, count=count, offset=offset)
    if arr.size == 0:
        raise ValueError("both buffer length and count are zero (frombuffer needs data)")
    out = Tensor._wrap(arr)
    return out.requires_grad_(True) if requires_grad else out


# ================================================================ names
_TYPE_NAMES = {"float64": "DoubleTensor", "float32": "FloatTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
               "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def typename(obj: Any) -> str:
    """``"torch.DoubleTensor"`` for a float64 tensor (the legacy type names), else the
    qualified class name."""
    if isinstance(obj, Tensor):
        name = _TYPE_NAMES.get(obj.dtype.name)
        if name is not None:
            return f"torch.{name}"
        return f"torch.{obj.dtype.name}Tensor"
    module = getattr(type(obj), "__module__", "")
    qual = type(obj).__qualname__
    return qual if module in ("", "builtins") else f"{module}.{qual}"


def is_storage(obj: Any) -> bool:
    """False: symgrad has no storage objects."""
    return False
