"""Making tensors: ``tensor``, ``ones``, ``zeros``, ``eye``, ``full``, ``arange``, ``randn`` ...

Signatures follow PyTorch's (sizes as ``f(2, 3)`` or ``f((2, 3))``, keyword ``dtype`` and
``requires_grad``). Random tensors come from one numpy Generator that ``manual_seed``
resets, so a seeded script is reproducible (its numbers differ from PyTorch's).
"""

from __future__ import annotations

import math
import pickle
import warnings
from typing import Any

import numpy as np

from symgrad import _dtype
from symgrad._device import check_device, device as _device_type
from symgrad.autograd.grad_mode import _state as _grad_state
from symgrad.ops._util import size_args
from symgrad.tensor import InferenceVersion, Tensor, to_array

__all__ = ["tensor", "as_tensor", "from_numpy", "ones", "zeros", "empty", "eye", "full", "arange",
           "linspace", "randn", "rand", "randint", "ones_like", "zeros_like", "full_like",
           "empty_like", "randn_like", "rand_like", "manual_seed", "seed", "initial_seed",
           "Generator"]

_GEN: list = [np.random.default_rng(0), 0]


def _rng(generator: Any = None) -> np.random.Generator:
    """The numpy generator to draw from: a ``Generator``'s own, else symgrad's default one
    (what ``manual_seed`` resets)."""
    if generator is None:
        return _GEN[0]
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a symgrad.Generator, not {type(generator).__name__}")
    return generator._rng


class Generator:
    """An independent random stream (PyTorch's ``torch.Generator``), passed as
    ``generator=`` to randn, rand, randint, randperm, normal, bernoulli, multinomial, the
    in-place fills and ``utils.data.random_split`` / ``DataLoader``: draws from it leave the
    default stream untouched."""

    _DEFAULT_SEED = 67280421310721   # PyTorch's default seed of a new generator

    def __init__(self, device: Any = "cpu") -> None:
        _device(device)
        self.device = _device_type(device if device is not None else "cpu")
        self.manual_seed(self._DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        self._seed = _checked_seed(seed)
        self._rng = _stream(self._seed)
        return self

    def seed(self) -> int:
        s = _fresh_seed()
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        """The stream's state as a uint8 tensor (``set_state`` takes it back)."""
        return pack_state(self._rng, self._seed)

    def set_state(self, state: Tensor) -> Generator:
        self._rng, self._seed = unpack_state(state)
        return self


def _checked_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed expected an int, got {type(seed).__name__}")
    return int(seed)


def _stream(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed & 0xFFFF_FFFF_FFFF_FFFF)


def _fresh_seed() -> int:
    return int(np.random.SeedSequence().entropy % (2 ** 63))


def pack_state(rng: np.random.Generator, seed: int) -> Tensor:
    """A stream's state and seed as a uint8 tensor (its bytes; not PyTorch's layout)."""
    blob = pickle.dumps((rng.bit_generator.state, seed))
    return Tensor._wrap(np.frombuffer(blob, dtype=np.uint8).copy())


def unpack_state(state: Tensor) -> tuple[np.random.Generator, int]:
    """The stream and seed ``pack_state`` wrote."""
    if not isinstance(state, Tensor) or state._data.dtype != np.uint8:
        raise TypeError("expected a torch.ByteTensor (a uint8 tensor from get_rng_state())")
    bit_state, seed = pickle.loads(state._data.tobytes())
    rng = np.random.default_rng()
    rng.bit_generator.state = bit_state
    return rng, seed


def manual_seed(seed: int) -> _GeneratorInfo:
    """Reset the random generator (``randn``, ``rand``, ...) to a known state."""
    seed = _checked_seed(seed)
    _GEN[0], _GEN[1] = _stream(seed), seed
    return _GeneratorInfo(seed)


class _GeneratorInfo:
    def __init__(self, seed: int) -> None:
        self._seed = seed

    def initial_seed(self) -> int:
        return self._seed

    def __repr__(self) -> str:
        return f"<symgrad.Generator seed={self._seed}>"


def seed() -> int:
    s = _fresh_seed()
    manual_seed(s)
    return s


def initial_seed() -> int:
    return _GEN[1]


def _finish(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = _new_tensor(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _new_tensor(arr: np.ndarray) -> Tensor:
    """A tensor made by a factory: an inference tensor inside ``inference_mode``."""
    t = Tensor._wrap(arr)
    if _grad_state.inference:
        t._vc = InferenceVersion((0, False))
    return t


def _float_dtype(dtype) -> np.dtype:
    return _dtype.to_np(dtype) if dtype is not None else _dtype.get_default_dtype().np


def tensor(data: Any, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays, SymPy values)."""
    _device(device)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.clone().detach() or "
                      "sourceTensor.clone().detach().requires_grad_(True), rather than "
                      "symgrad.tensor(sourceTensor).", UserWarning, stacklevel=2)
    arr = np.array(_to_array(data, dtype), copy=True)
    if dtype is not None:
        target = _dtype.to_np(dtype)
        if not isinstance(data, (np.ndarray, Tensor)):
            _check_integer_range(arr, target)
        arr = arr.astype(target, copy=False)
    elif arr.dtype.kind not in "fiubO":
        raise TypeError(f"cannot make a tensor of numpy dtype {arr.dtype}")
    return _finish(arr, requires_grad)


def _check_integer_range(arr: np.ndarray, target: np.dtype) -> None:
    """PyTorch's error for Python numbers that do not fit an integer ``dtype`` (numpy's
    cast would wrap 300 to 44 in int8); unsigned types wrap -max ... -1, as PyTorch."""
    if target.kind not in "iu" or arr.dtype.kind not in "iuf" or not arr.size:
        return
    bad = False
    if arr.dtype.kind == "f":
        bad = not np.isfinite(arr).all()
        arr = np.trunc(arr) if not bad else arr
    if not bad:
        info = np.iinfo(target)
        lo = -int(info.max) if target.kind == "u" else int(info.min)
        bad = arr.min() < lo or arr.max() > int(info.max)
    if bad:
        raise RuntimeError(f"value cannot be converted to type {target.name} without overflow")


def as_tensor(data: Any, dtype=None, device=None) -> Tensor:
    """``data`` as a tensor, sharing memory with a numpy array where possible."""
    _device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    arr = _to_array(data, dtype)
    if dtype is not None:
        arr = arr.astype(_dtype.to_np(dtype), copy=False)
    return _new_tensor(arr)


def _to_array(data: Any, dtype) -> np.ndarray:
    """``to_array(data)``, failing as PyTorch does on None (anywhere in the data): a
    RuntimeError, as no dtype can be inferred, or a TypeError when ``dtype`` was given."""
    try:
        return to_array(data)
    except TypeError:
        if not _has_none(data):
            raise
        if dtype is not None:
            raise TypeError("must be real number, not NoneType") from None
        raise RuntimeError("Could not infer dtype of NoneType (cannot make a tensor from "
                           "None)") from None


def _has_none(data: Any) -> bool:
    """Whether ``data`` is None or (nested lists of) ``data`` hold a None."""
    stack = [data]
    while stack:
        x = stack.pop()
        if x is None:
            return True
        if isinstance(x, (list, tuple)):
            stack.extend(x)
    return False


def from_numpy(a: np.ndarray) -> Tensor:
    """A tensor sharing memory with the numpy array ``a``."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(a).__name__})")
    _dtype.from_numpy_dtype(a.dtype)
    return _new_tensor(a)


def _device(device) -> None:
    if device is not None and device != "cpu":
        check_device(device)


def _shape(size) -> tuple[int, ...]:
    shape = size_args(size)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: "
                           f"{list(shape)}")
    return shape


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    _device(device)
    return _finish(np.ones(_shape(size), _float_dtype(dtype)), requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros."""
    _device(device)
    return _finish(np.zeros(_shape(size), _float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (zeros here: numpy's empty could leak garbage into checks)."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (its dtype follows the value)."""
    _device(device)
    if dtype is None:   # (a numpy scalar fill counts as the Python number it holds)
        dtype = to_array(fill_value.item() if isinstance(fill_value, np.number)
                         else fill_value).dtype
    else:
        dtype = _dtype.to_np(dtype)
        if isinstance(fill_value, (int, float, np.number)):
            from symgrad.ops._util import checked_scalar   # (ops import factories' module)

            fill_value = checked_scalar(fill_value, dtype)   # full(2, 300, dtype=uint8)
    return _finish(np.full(_shape((size,) if not isinstance(size, int) else (size,)),
                           fill_value, dtype=dtype), requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, device=None,
        requires_grad: bool = False) -> Tensor:
    """The identity matrix (``n`` x ``m``)."""
    _device(device)
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """``start, start + step, ...`` up to (not including) ``end``."""
    _device(device)
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if vals[2] == 0:
        raise RuntimeError("step must be nonzero")
    if not all(math.isfinite(v) for v in vals[:2]):
        raise RuntimeError(f"unsupported range: {vals[0]} -> {vals[1]}")
    if (vals[1] - vals[0]) * vals[2] < 0:   # numpy gives an empty range
        raise RuntimeError(f"upper bound and lower bound inconsistent with step sign "
                           f"(start={vals[0]}, end={vals[1]}, step={vals[2]})")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals)
        np_dtype = np.int64 if is_int else _dtype.get_default_dtype().np
    else:
        np_dtype = _dtype.to_np(dtype)
    n = max(0, math.ceil((vals[1] - vals[0]) / vals[2]))
    arr = (vals[0] + vals[2] * np.arange(n, dtype=np.float64 if np.dtype(np_dtype).kind == "f"
                                         else np.int64)).astype(np_dtype)
    return _finish(arr, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    _device(device)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError(f"number of steps must be non-negative, got {steps}")
    return _finish(np.linspace(start, end, steps, dtype=_float_dtype(dtype)), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    _device(device)
    arr = _rng(generator).standard_normal(_shape(size)).astype(_float_dtype(dtype), copy=False)
    return _finish(arr, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples from [0, 1)."""
    _device(device)
    arr = _rng(generator).random(_shape(size)).astype(_float_dtype(dtype), copy=False)
    return _finish(arr, requires_grad)


def randint(*args: Any, low: int | None = None, high: int | None = None,
            size: tuple[int, ...] | list[int] | None = None, generator=None, dtype=None,
            device=None, requires_grad: bool = False) -> Tensor:
    """Integers uniform in [low, high), int64 unless ``dtype`` says otherwise.

    PyTorch's two forms: ``randint(high, size)`` (low is 0) and ``randint(low, high, size)``,
    positionally or by keyword.
    """
    _device(device)
    low, high, size = _randint_args(args, low, high, size)
    np_dtype = np.dtype(_dtype.to_np(dtype) or np.int64)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    if np_dtype.kind in "biu":
        lo, hi = (0, 1) if np_dtype.kind == "b" else (np.iinfo(np_dtype).min,
                                                       np.iinfo(np_dtype).max)
        name = _dtype.from_numpy_dtype(np_dtype)
        if not lo <= low <= hi:
            raise RuntimeError(f"from is out of bounds for {name}")
        if not lo <= high - 1 <= hi:
            raise RuntimeError(f"to - 1 is out of bounds for {name}")
    arr = _rng(generator).integers(low, high, size=size, dtype=np.int64)
    return _finish(arr.astype(np_dtype), requires_grad)


def _randint_args(args: tuple, low: Any, high: Any, size: Any) -> tuple[int, int, tuple]:
    """``(low, high, size)`` from ``randint``'s arguments: the positional ones fill
    ``high, size`` or, when three arguments are given in all, ``low, high, size``."""
    given = {"low": low, "high": high, "size": size}
    n_given = len(args) + sum(v is not None for v in given.values())
    names = ("low", "high", "size") if n_given >= 3 else ("high", "size")
    if len(args) > len(names):
        raise TypeError(f"randint() takes at most {len(names)} positional arguments "
                        f"({len(args)} given)")
    for name, value in zip(names, args):
        if given[name] is not None:
            raise TypeError(f"randint() got multiple values for argument '{name}'")
        given[name] = value
    missing = [name for name in ("high", "size") if given[name] is None]
    if missing:
        raise TypeError(f"randint() missing required argument(s): {', '.join(missing)}")
    bounds = []
    for name in ("low", "high"):
        value = 0 if given[name] is None else given[name]
        if isinstance(value, (bool, float)) or not hasattr(value, "__index__"):
            raise TypeError(f"randint(): argument '{name}' must be int, not "
                            f"{type(value).__name__}")
        bounds.append(int(value.__index__()))
    size = given["size"]
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' must be tuple of ints, not "
                        f"{type(size).__name__}")
    return bounds[0], bounds[1], _shape((size,))


def _like(input: Tensor, dtype) -> tuple[tuple, np.dtype]:
    return tuple(input.shape), (_dtype.to_np(dtype) if dtype is not None else input._data.dtype)


def ones_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return _finish(np.ones(shape, dt), requires_grad)


def zeros_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return _finish(np.zeros(shape, dt), requires_grad)


def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return zeros_like(input, dtype=dtype, requires_grad=requires_grad)


def full_like(input: Tensor, fill_value, *, dtype=None, device=None,
              requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return _finish(np.full(shape, fill_value, dt), requires_grad)


def randn_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return _finish(_rng().standard_normal(shape).astype(dt), requires_grad)


def rand_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return _finish(_rng().random(shape).astype(dt), requires_grad)
