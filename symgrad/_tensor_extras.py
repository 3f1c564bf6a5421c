"""Tensor methods outside the op table: memory layout (``stride``, ``storage_offset``,
``data_ptr``, ``nbytes``, ``itemsize``), device queries, dtype conversions (``byte``,
``char``, ``short``), predicates (``is_signed``, ``is_nonzero``), other names of in-place
ops (``greater_``, ``absolute_``, ``fix_`` ...), ``fill_diagonal_``, the random in-place
fills (``random_``, ``exponential_``, ...) and ``apply_`` / ``map_``.

Attached to ``Tensor`` on import (by ``symgrad/__init__``). The random fills draw from
symgrad's one generator (``manual_seed``) and, like ``uniform_``, record nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from symgrad import _dtype
from symgrad._layout import strided
from symgrad._storage import storage_of
from symgrad.factories import _rng
from symgrad.ops._util import type_name
from symgrad.ops.inplace import inplace
from symgrad.tensor import Tensor, _axis, as_tensor

__all__: list[str] = []


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


# ================================================================ memory layout
def stride(self: Tensor, dim: int | None = None):
    """Steps between neighbouring entries of each dimension, counted in entries."""
    size = self._data.itemsize
    st = tuple(s // size for s in self._data.strides)
    if dim is None:
        return st
    return st[_axis(dim, max(self._data.ndim, 1))] if st else 1


def storage_offset(self: Tensor) -> int:
    """Where the tensor's first entry sits in its base's memory (0 for a tensor that is no
    view), in entries."""
    base = self._base
    if base is None:
        return 0
    return (_address(self._data) - _address(base._data)) // self._data.itemsize


def data_ptr(self: Tensor) -> int:
    """The address of the first entry (0 for an empty tensor, as PyTorch)."""
    return _address(self._data) if self._data.size else 0


def const_data_ptr(self: Tensor) -> int:
    return data_ptr(self)


def dim_order(self: Tensor) -> tuple[int, ...]:
    """The dimensions from the outermost to the innermost in memory (largest stride
    first; ties keep the dimension order)."""
    st = self._data.strides
    return tuple(sorted(range(len(st)), key=lambda d: -abs(st[d])))


def _constant(name: str, value: Any, doc: str) -> Callable:
    def method(self: Tensor) -> Any:
        return self if value is _SELF else value
    method.__name__ = method.__qualname__ = name
    method.__doc__ = doc
    return method


_SELF = object()
is_pinned = _constant("is_pinned", False, "False: no page-locked memory on the CPU only.")
is_shared = _constant("is_shared", False, "False: one process, no shared memory.")
share_memory_ = _constant("share_memory_", _SELF, "Nothing to do: there is one process.")
get_device = _constant("get_device", -1, "-1: the tensor is on the CPU.")


# ================================================================ dtypes
def byte(self: Tensor) -> Tensor:
    return self.to(_dtype.uint8)


def char(self: Tensor) -> Tensor:
    return self.to(_dtype.int8)


def short(self: Tensor) -> Tensor:
    return self.to(_dtype.int16)


def _complex(name: str):
    def convert(self: Tensor) -> Tensor:
        raise TypeError(f"symgrad has no complex dtypes ({name}() converts to one)")
    convert.__name__ = name
    return convert


def bfloat16(self: Tensor) -> Tensor:
    raise TypeError("Got unsupported ScalarType BFloat16 (symgrad has no bfloat16 dtype: "
                    "numpy has none)")


def is_signed(self: Tensor) -> bool:
    return self._data.dtype.kind in "fiO"


def is_nonzero(self: Tensor) -> bool:
    """The truth value of a one-entry tensor."""
    n = self._data.size
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(self._data.reshape(-1)[0] != 0)


# ================================================================ filling
def fill_diagonal_(self: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """Write ``fill_value`` on the main diagonal (all dimensions equal, or a matrix; a tall
    matrix with ``wrap`` restarts the diagonal after every ``cols + 1`` rows)."""
    shape = self._data.shape
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    if len(shape) == 2:
        rows, cols = shape
        end = rows * cols if wrap and rows > cols + 1 else min(rows, cols) * cols
        flat = np.arange(0, end, cols + 1)
        index = np.unravel_index(flat, shape)
    else:
        i = np.arange(shape[0])
        index = (i,) * len(shape)
    self[index] = fill_value
    return self


def resize_(self: Tensor, *sizes, memory_format=None) -> Tensor:
    """This tensor given the shape ``sizes``: its first entries kept (row-major), new ones
    zero (PyTorch leaves them uninitialised). Not for a tensor that requires grad, as in
    PyTorch; a tensor whose memory others share is refused (its views would go stale)."""
    from symgrad.tensor import shares_live_storage

    if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
        sizes = tuple(sizes[0])
    shape = tuple(int(s) for s in sizes)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: "
                           f"{list(shape)}")
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    if shares_live_storage(self):
        raise RuntimeError("symgrad cannot resize a tensor that shares its memory with "
                           "another live tensor (a view or base)")
    n = int(np.prod(shape))
    flat = np.zeros(n, dtype=self._data.dtype)
    k = min(n, self._data.size)
    flat[:k] = self._data.reshape(-1)[:k]
    self._data = flat.reshape(shape)
    self._vc[0] += 1
    return self


def resize_as_(self: Tensor, the_template: Tensor, memory_format=None) -> Tensor:
    return resize_(self, tuple(the_template.shape))


def _random_fill(self: Tensor, values: np.ndarray) -> Tensor:
    """Write ``values`` as an in-place op would (a leaf that requires grad is refused; a
    tensor with a history becomes a constant, its views are read again)."""
    const = Tensor._wrap(np.asarray(values).astype(self._data.dtype, copy=False))

    def fill(old: Tensor) -> Tensor:
        return const
    return inplace(self, fill)


def _float_target(self: Tensor, name: str) -> None:
    if self._data.dtype.kind != "f":
        raise NotImplementedError(f"\"{name}\" not implemented for '{type_name(self)}'")


def random_(self: Tensor, *args: int, generator=None, **kwargs: int) -> Tensor:
    """Integers uniform in [from, to): ``random_(to)`` means from 0; without bounds, up to
    2**(mantissa bits + 1) for floats or the dtype's maximum for integers."""
    if len(args) > 2 or set(kwargs) - {"from", "to"}:
        raise TypeError("random_() takes (from, to), (to) or no arguments")
    lo, to = (0, args[0]) if len(args) == 1 else (args + (0, None))[:2] if args else (0, None)
    lo, to = kwargs.get("from", lo), kwargs.get("to", to)
    dt = self._data.dtype
    if to is None:
        to = (2 ** (np.finfo(dt).nmant + 1) + 1 if dt.kind == "f" else
              2 if dt.kind == "b" else int(np.iinfo(dt).max) + 1)
    if lo >= to:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} "
                           f">= to={to}")
    return _random_fill(self, _rng(generator).integers(lo, to, self._data.shape))


def exponential_(self: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    """Samples of the exponential distribution with rate ``lambd``."""
    _float_target(self, "exponential_cpu")
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _random_fill(self, _rng(generator).exponential(1.0 / lambd, self._data.shape))


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *,
            generator=None) -> Tensor:
    _float_target(self, "cauchy_cpu")
    if sigma <= 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return _random_fill(self, median + sigma * _rng(generator).standard_cauchy(self._data.shape))


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *,
                generator=None) -> Tensor:
    _float_target(self, "log_normal_cpu")
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    return _random_fill(self, _rng(generator).lognormal(mean, std, self._data.shape))


def geometric_(self: Tensor, p: float, *, generator=None) -> Tensor:
    """The number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _random_fill(self, _rng(generator).geometric(p, self._data.shape))


def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    """1 with probability ``p`` (a number, or a tensor broadcasting to this one), else 0."""
    prob = as_tensor(p)._data if isinstance(p, Tensor) else np.asarray(p, dtype=np.float64)
    if np.any((prob < 0) | (prob > 1)):
        raise RuntimeError("bernoulli_ expects p to be in [0, 1]")
    prob = np.broadcast_to(prob, self._data.shape)
    return _random_fill(self, _rng(generator).random(self._data.shape) < prob)


# ================================================================ Python callables
def apply_(self: Tensor, callable: Callable[[Any], Any]) -> Tensor:
    """Each entry replaced by ``callable(entry)`` (slow; not recorded: a tensor that
    requires grad is refused, as in PyTorch)."""
    if self._requires_grad:
        raise RuntimeError("apply_ is only implemented on CPU tensors that do not require "
                           "grad")
    flat = self._data.reshape(-1)
    values = [callable(v.item() if hasattr(v, "item") else v) for v in flat]
    return _random_fill(self, np.asarray(values).reshape(self._data.shape))


def new(self: Tensor, *args: Any) -> Tensor:
    """The legacy constructor: ``t.new()`` an empty tensor, ``t.new(2, 3)`` one of that size
    (zeros here), ``t.new([1, 2])`` one of that data; in ``t``'s dtype."""
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        data = args[0]
        if isinstance(data, Tensor):
            if data.dtype != self.dtype:
                raise TypeError(f"new(): expected a tensor of dtype {self.dtype.name}, got "
                                f"{data.dtype.name}")
            return data.detach()
        return self.new_tensor(data)
    if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
        raise TypeError("new(): expected sizes (ints) or data")
    return self.new_zeros(*args) if args else self.new_zeros(0)


def map2_(self: Tensor, x: Tensor, y: Tensor, callable: Callable[..., Any]) -> Tensor:
    """Each entry replaced by ``callable(entry, x_entry, y_entry)`` (not recorded)."""
    if self._requires_grad or x.requires_grad or y.requires_grad:
        raise RuntimeError("map2_ is only implemented on CPU tensors that do not require grad")
    xs = np.broadcast_to(x._data, self._data.shape).reshape(-1)
    ys = np.broadcast_to(y._data, self._data.shape).reshape(-1)
    values = [callable(a.item(), b.item(), c.item())
              for a, b, c in zip(self._data.reshape(-1), xs, ys)]
    return _random_fill(self, np.asarray(values).reshape(self._data.shape))


def map_(self: Tensor, tensor: Tensor, callable: Callable[[Any, Any], Any]) -> Tensor:
    """Each entry replaced by ``callable(entry, other_entry)``, ``tensor`` broadcast to this
    one (not recorded)."""
    if self._requires_grad or tensor.requires_grad:
        raise RuntimeError("map_ is only implemented on CPU tensors that do not require grad")
    other = np.broadcast_to(tensor._data, self._data.shape).reshape(-1)
    flat = self._data.reshape(-1)
    values = [callable(a.item(), b.item()) for a, b in zip(flat, other)]
    return _random_fill(self, np.asarray(values).reshape(self._data.shape))


def _imag(self: Tensor) -> Tensor:
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def untyped_storage(self: Tensor):
    """The bytes of the memory this tensor shares with its views."""
    return storage_of(self._data, typed=False)


def storage(self: Tensor):
    """The memory this tensor shares with its views, as entries of its dtype (deprecated
    in PyTorch: a UserWarning, as there)."""
    return storage_of(self._data, typed=True)


def is_distributed(self: Tensor) -> bool:
    return False


def to_dense(self: Tensor, dtype=None, *, masked_grad=None) -> Tensor:
    """The tensor itself (it is dense), or a copy in ``dtype``."""
    return self if dtype is None else self.to(dtype)


def pin_memory(self: Tensor, device=None) -> Tensor:
    """Refused as by a CPU-only PyTorch: pinning needs an accelerator."""
    raise RuntimeError("Cannot access accelerator device when none is available.")


def _alias(name: str) -> Callable:
    def method(self, *args, **kwargs):
        return getattr(self, name)(*args, **kwargs)
    method.__name__ = name
    return method


def tile(self: Tensor, *dims, **kwargs) -> Tensor:
    """``t.tile(2, 1)`` or ``t.tile((2, 1))``: the method takes the repeats either way."""
    from symgrad.ops.compose import tile as _tile

    if "dims" in kwargs:
        dims = (kwargs.pop("dims"),)
    if kwargs:
        raise TypeError(f"tile() got an unexpected keyword argument '{next(iter(kwargs))}'")
    return _tile(self, dims[0] if len(dims) == 1 else dims)


def _install() -> None:
    for fn in (stride, storage_offset, data_ptr, get_device, byte, char, short, bfloat16,
               is_signed, is_nonzero, fill_diagonal_, random_, exponential_, cauchy_,
               log_normal_, geometric_, bernoulli_, apply_, map_, map2_, new, const_data_ptr,
               dim_order, is_pinned, is_shared, share_memory_, _complex("cdouble"),
               _complex("cfloat"), _complex("chalf"), resize_, resize_as_, is_distributed,
               to_dense, pin_memory, untyped_storage, storage):
        if fn.__name__ not in Tensor.__dict__:
            setattr(Tensor, fn.__name__, fn)
    Tensor.tile = tile   # (over the op table's one-argument form)
    Tensor.nbytes = property(lambda self: self._data.nbytes, doc="Bytes the entries take.")
    Tensor.itemsize = property(lambda self: self._data.itemsize, doc="Bytes of one entry.")
    Tensor.is_cpu = property(lambda self: True, doc="Always True: symgrad runs on the CPU.")
    Tensor.layout = property(lambda self: strided, doc="Always ``strided``: dense arrays.")
    for name in ("is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_mkldnn",
                 "is_nested", "is_xpu", "is_mps", "is_ipu", "is_xla", "is_vulkan", "is_maia",
                 "is_mtia"):
        setattr(Tensor, name, property(lambda self: False, doc="False: a dense CPU tensor."))
    Tensor.real = property(lambda self: self, doc="The real part: the tensor itself.")
    Tensor.imag = property(_imag, doc="Refused: real tensors have no imaginary part.")
    for alias, target in (("greater_", "gt_"), ("less_", "lt_"), ("greater_equal_", "ge_"),
                          ("less_equal_", "le_"), ("not_equal_", "ne_"),
                          ("absolute_", "abs_")):
        if alias not in Tensor.__dict__:
            setattr(Tensor, alias, _alias(target))


_install()
