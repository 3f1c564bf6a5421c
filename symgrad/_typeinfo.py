"""Questions about dtypes: finfo, iinfo, promote_types, result_type, can_cast,
is_floating_point, is_complex (PyTorch's functions of the same names)."""

from __future__ import annotations

from typing import Any

import numpy as np

from symgrad import _dtype
from symgrad.tensor import Tensor

__all__ = ["finfo", "iinfo", "promote_types", "result_type", "can_cast", "is_floating_point",
           "is_complex"]

_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}


def _as_dtype(d: Any, fn: str) -> _dtype.dtype:
    if isinstance(d, _dtype.dtype):
        return d
    try:
        return _dtype.from_numpy_dtype(np.dtype(_dtype.to_np(d)))
    except TypeError:
        raise TypeError(f"{fn}(): argument must be a symgrad dtype, not {d!r}") from None


class finfo:
    """Machine limits of a floating dtype: bits, eps, max, min, tiny (= smallest_normal),
    resolution, dtype (the dtype's name), as Python numbers."""

    def __init__(self, type: _dtype.dtype | None = None) -> None:
        d = _dtype.get_default_dtype() if type is None else _as_dtype(type, "finfo")
        if not d.is_floating_point:
            raise TypeError("symgrad.finfo() requires a floating point input type. Use "
                            "symgrad.iinfo to handle 'symgrad.finfo'")
        info = np.finfo(d.np)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)
        self.dtype = d.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype: bits, max, min, dtype (the dtype's name)."""

    def __init__(self, type: _dtype.dtype) -> None:
        d = _as_dtype(type, "iinfo")
        if d.np.kind not in "iu":
            raise TypeError("symgrad.iinfo() requires an integer input type. Use symgrad.finfo "
                            "to handle 'symgrad.iinfo'")
        info = np.iinfo(d.np)
        self.bits, self.max, self.min, self.dtype = int(info.bits), int(info.max), int(
            info.min), d.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def promote_types(type1: _dtype.dtype, type2: _dtype.dtype) -> _dtype.dtype:
    """The dtype both promote to (a higher kind wins: int32 with float16 is float16)."""
    a, b = _as_dtype(type1, "promote_types"), _as_dtype(type2, "promote_types")
    return _dtype.from_numpy_dtype(_dtype.result_type(np.empty(1, a.np), np.empty(1, b.np)))


def _operand(v: Any) -> tuple[int, np.dtype]:
    """(category, dtype): tensors with dimensions 2, 0-d tensors 1, Python numbers 0 (with
    their default dtypes)."""
    if isinstance(v, Tensor):
        if v._data.dtype == object:
            raise TypeError("result_type(): symbolic tensors have no numeric dtype")
        return (2 if v._data.ndim else 1), v._data.dtype
    if isinstance(v, (bool, np.bool_)):
        return 0, np.dtype(bool)
    if isinstance(v, (int, np.integer)):
        return 0, np.dtype(np.int64)
    if isinstance(v, (float, np.floating)):
        return 0, _dtype.get_default_dtype().np
    raise TypeError(f"result_type(): expected a Tensor or a number, got {type(v).__name__}")


def result_type(tensor1: Any, tensor2: Any) -> _dtype.dtype:
    """The dtype of an arithmetic op on the two operands: the highest kind decides; among
    the operands of that kind, tensors with dimensions outrank 0-d ones, which outrank
    Python numbers (so int8 tensor + 1000 stays int8)."""
    ops = [_operand(tensor1), _operand(tensor2)]
    kind = max(_RANK[d.kind] for _, d in ops)
    top = [(c, d) for c, d in ops if _RANK[d.kind] == kind]
    best = max(c for c, _ in top)
    dts = [d for c, d in top if c == best]
    res = dts[0]
    for d in dts[1:]:
        res = _dtype.result_type(np.empty(1, res), np.empty(1, d))
    return _dtype.from_numpy_dtype(res)


def can_cast(from_: _dtype.dtype, to: _dtype.dtype) -> bool:
    """Whether PyTorch's casting rules allow ``from_`` to ``to``: no cast to a lower kind
    (float to integer, integer to bool); within a kind any width."""
    a, b = _as_dtype(from_, "can_cast"), _as_dtype(to, "can_cast")
    return _RANK[a.np.kind] <= _RANK[b.np.kind]


def _need_tensor(fn: str, input: Any) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return input


def is_floating_point(input: Tensor) -> bool:
    """True for a tensor of a floating dtype."""
    return _need_tensor("is_floating_point", input)._data.dtype.kind == "f"


def is_complex(input: Tensor) -> bool:
    """False: symgrad has no complex dtypes (PyTorch's is_complex for its real tensors)."""
    _need_tensor("is_complex", input)
    return False
