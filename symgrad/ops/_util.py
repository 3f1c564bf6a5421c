"""Small helpers shared by the op tables: argument checks and shape arithmetic."""

from __future__ import annotations

import math
import sys
from typing import Any
from collections.abc import Sequence

import numpy as np

from symgrad.tensor import Tensor

__all__ = ["numel", "norm_dims", "broadcast_check", "broadcast_mismatch", "shape_of",
           "is_scalar", "size_args", "sp", "type_name", "check_kernel", "check_along_bounds",
           "lazy_head", "LAZY_SYMBOLS", "checked_scalar", "C_TYPES", "not_tensor",
           "tensor_input", "tensor_pair", "tensor_items"]


def shape_of(a: Any) -> tuple:
    """The shape of an array, tensor or Python number (numbers are 0-d)."""
    s = getattr(a, "shape", None)
    return tuple(s) if s is not None else ()


def numel(*arrays: Any) -> int:
    """Entries in the broadcast shape of ``arrays`` (a reduction's divisor)."""
    shape = None
    for a in arrays:
        if a is None:
            continue
        s = getattr(a, "shape", ())
        if not s:  # numbers and 0-d arrays broadcast to anything
            continue
        if shape is None or shape == s:
            shape = s
        else:  # shapes differ: let numpy broadcast them (rarer, and ~10x slower)
            return math.prod(np.broadcast_shapes(*(shape_of(a) for a in arrays
                                                   if a is not None)))
    return math.prod(shape) if shape else 1


def norm_dims(dim: Any, ndim: int) -> tuple[int, ...] | None:
    """``dim`` (None, an int or a sequence) as a sorted tuple of non-negative axes."""
    if dim is None:
        return None
    if isinstance(dim, Tensor) and dim.ndim == 0 and dim._data.dtype.kind in "biu":
        dim = int(dim._data)   # a 0-d integer tensor is an int to PyTorch
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    n = max(ndim, 1)
    out = []
    for d in dims:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            raise TypeError(f"dim must be an int or a sequence of ints, got {dim!r}")
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                             f"but got {d})")
        out.append(int(d) % n)
    if len(set(out)) != len(out):
        twice = next(d for i, d in enumerate(out) if d in out[:i])
        raise RuntimeError(f"dim {twice} appears multiple times in the list of dims "
                           f"(dim={dim!r})")
    if ndim == 0:
        return ()
    return tuple(sorted(out))


def is_scalar(x: Any) -> bool:
    return isinstance(x, (int, float, bool, np.number)) and not isinstance(x, Tensor)


def broadcast_mismatch(a: tuple, b: tuple) -> tuple[int, int, int] | None:
    """The first dimension, counted from the end (k = 1, 2, ...), where shapes ``a`` and
    ``b`` do not broadcast, as ``(k, a's size, b's size)``; None when they broadcast."""
    for k in range(1, max(len(a), len(b)) + 1):
        da = a[-k] if k <= len(a) else 1
        db = b[-k] if k <= len(b) else 1
        if da != db and da != 1 and db != 1:
            return k, da, db
    return None


def broadcast_check(*operands: Any) -> None:
    """Raise PyTorch's message when the operands' shapes do not broadcast."""
    shapes = [shape_of(o) for o in operands if isinstance(o, (Tensor, np.ndarray))]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        a, b = shapes[0], shapes[1] if len(shapes) > 1 else ()
        bad = broadcast_mismatch(a, b)
        if bad is not None:
            k, da, db = bad
            raise RuntimeError(
                f"The size of tensor a ({da}) must match the size of tensor b ({db}) at "
                f"non-singleton dimension {max(len(a), len(b)) - k} (shapes {a} and {b} "
                "do not broadcast)") from None
        raise RuntimeError(f"shapes {shapes} cannot be broadcast together") from None


def size_args(size: Sequence[Any]) -> tuple[int, ...]:
    """``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` all mean the shape (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list, np.ndarray)):
        size = tuple(size[0])
    elif len(size) == 1 and isinstance(size[0], Tensor):
        size = tuple(size[0].tolist()) if size[0].ndim else (int(size[0].item()),)
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = s.item()
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"sizes must be ints, got {s!r} of type {type(s).__name__}")
        out.append(int(s))
    return tuple(out)


class _LazySympy:
    """``sp.exp`` is ``sympy.exp``, but SymPy is imported on first use, not at start-up."""

    def __getattr__(self, name: str):
        import sympy

        return getattr(sympy, name)


#: SymPy, imported on first use (mirrors run only when the symbolic side is used).
sp: Any = _LazySympy()

#: Above this many free symbols in its argument, a mirror builds a function head (exp, log,
#: tanh, ...) without SymPy's automatic evaluation: its simplification attempts and
#: assumption queries on a large sum cost seconds (a small MLP's tanh layer: most of its
#: mirror) and rarely simplify anything; the function and its derivative are the same.
#: (Leaving the arithmetic unevaluated too halves check() at 200x100 but makes
#: ``sympy.diff`` of the result several times slower, so only the heads are lazy.)
LAZY_SYMBOLS = 8


def lazy_head(f: Any, a: Any) -> Any:
    """``f(a)``, unevaluated when ``a`` is large (see ``LAZY_SYMBOLS``)."""
    free = getattr(a, "free_symbols", None)
    if free is not None and len(free) > LAZY_SYMBOLS:
        return f(a, evaluate=False)
    return f(a)


_SCALAR_TYPE_NAMES = {"float64": "Double", "float32": "Float", "float16": "Half", "int64": "Long",
                      "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                      "bool": "Bool"}


def type_name(x: Any) -> str:
    """PyTorch's scalar-type name (``Double``, ``Long``) of a tensor or dtype, for messages
    that read as PyTorch's do."""
    data = getattr(x, "_data", None)
    name = data.dtype.name if data is not None else getattr(x, "name", str(x))
    return _SCALAR_TYPE_NAMES.get(name, name)


def c_type_name(x: Any) -> str:
    """The C++ name PyTorch prints for a tensor's (or numpy dtype's) element type in some
    messages (``float``, ``double``, ``long int``)."""
    data = getattr(x, "_data", None)
    name = np.dtype(data.dtype if data is not None else x).name
    return _C_TYPE_NAMES.get(name, name)


_C_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
                 "int64": "long int", "int32": "int", "int16": "short int",
                 "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}


def not_tensor(fn: str, value: Any, arg: str = "input", position: int = 1) -> TypeError:
    """PyTorch's TypeError for a Python number (or other non-tensor) where a Tensor is
    required, e.g. ``torch.exp(2.0)``: returned for the caller to raise."""
    return TypeError(f"{fn}(): argument '{arg}' (position {position}) must be Tensor, not "
                     f"{type(value).__name__}")


def tensor_input(x: Any) -> Any:
    """``x`` when it is a Tensor, else PyTorch's TypeError naming the calling function
    (``torch.eq(2, t)``: a Python number cannot be ``input``)."""
    if isinstance(x, Tensor):
        return x
    raise not_tensor(sys._getframe(1).f_code.co_name, x)


def tensor_pair(input: Any, other: Any) -> tuple[Any, Any]:
    """``(input, other)`` when both are Tensors, else PyTorch's TypeError naming the calling
    function and the argument (``torch.atan2(t, 2)``: ``other`` must be a Tensor)."""
    for pos, (arg, v) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(v, Tensor):
            raise not_tensor(sys._getframe(1).f_code.co_name, v, arg, pos)
    return input, other


def tensor_items(items: Any) -> list:
    """The tensors of a tuple/list argument, with PyTorch's TypeError for another item
    (``torch.broadcast_tensors(t, 2)``: "expected Tensor as element 1 in argument 0")."""
    out = list(items)
    for i, t in enumerate(out):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return out


def check_kernel(kernel: str, x: Any, refused: str = "biu") -> None:
    """Raise PyTorch's ``"abs_cpu" not implemented for 'Bool'`` when tensor (or dtype) ``x``
    has a numpy kind in ``refused`` ("b" bool, "i"/"u" integers): PyTorch has no kernel for
    it, while numpy would answer anyway, in some other dtype. Symbolic tensors pass."""
    data = getattr(x, "_data", None)
    dt = data.dtype if data is not None else x
    if isinstance(dt, np.dtype) and dt.kind in refused:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(dt)}'")


def check_along_bounds(index: np.ndarray, size: int, dim: int) -> None:
    """PyTorch's RuntimeError for a gather/scatter index outside ``[0, size)`` along
    ``dim`` (negative ones included: these ops do not count from the end), before numpy
    could wrap it or raise its own IndexError."""
    bad = (index < 0) | (index >= size)
    if bad.any():
        raise RuntimeError(f"index {index[bad].flat[0]} is out of bounds for dimension {dim} "
                           f"with size {size}")


#: The C++ type names PyTorch's conversion errors print.
C_TYPES = {"int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
           "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t", "uint64": "uint64_t",
           "float16": "c10::Half", "float32": "float", "float64": "double"}


def checked_scalar(value: Any, dtype: np.dtype) -> Any:
    """A Python number as an entry of ``dtype``, converted as PyTorch converts a scalar it
    writes (fill, setitem, masked_fill, a where or clamp operand): floats truncate into
    integers, unsigned types wrap -max ... -1 (uint8: -1 is 255), bools take the truth
    value, and a value out of range is PyTorch's RuntimeError where numpy would raise an
    OverflowError or quietly wrap (uint8 300 -> 44) or overflow to inf."""
    if isinstance(value, np.generic):
        value = value.item()
    if dtype.kind == "b":
        return bool(value)
    if dtype.kind in "iu" and not isinstance(value, bool) and isinstance(value, (int, float)):
        if isinstance(value, float):
            fits = math.isfinite(value)
            value = int(value) if fits else value
        else:
            fits = True
        if fits:
            info = np.iinfo(dtype)
            lo = -int(info.max) if dtype.kind == "u" else int(info.min)
            fits = lo <= value <= int(info.max)
        if not fits:
            raise RuntimeError(f"value cannot be converted to type {C_TYPES[dtype.name]} "
                               f"without overflow (value {value!r})")
        bits = dtype.itemsize * 8
        return value % (1 << bits) if dtype.kind == "u" else value
    if dtype.kind == "f" and isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isfinite(value) and abs(value) > float(np.finfo(dtype).max):
            raise RuntimeError(f"value cannot be converted to type {C_TYPES[dtype.name]} "
                               f"without overflow (value {value!r})")
    return value
