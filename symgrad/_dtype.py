"""Tensor dtypes, named as PyTorch names them, each backed by a numpy dtype.

The default floating dtype is float64 (PyTorch's is float32): a cross-checker wants
every digit it can get. ``set_default_dtype`` changes it, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "dtype", "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
    "uint16", "uint32", "uint64", "bool_", "symbolic", "get_default_dtype", "set_default_dtype",
    "from_numpy_dtype", "result_type",
]


class dtype:
    """A tensor element type: ``symgrad.float64`` and friends."""

    __slots__ = ("name", "np", "is_floating_point", "itemsize", "is_signed")

    def __init__(self, name: str, np_dtype) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.itemsize = self.np.itemsize
        self.is_signed = self.np.kind in "fi"

    def __repr__(self) -> str:
        return f"symgrad.{self.name}"

    def __reduce__(self):
        return (from_numpy_dtype, (self.np,)) if self.name != "symbolic" else "symbolic"

    @property
    def is_complex(self) -> bool:
        return False


float16 = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
int8 = dtype("int8", np.int8)
int16 = dtype("int16", np.int16)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
uint8 = dtype("uint8", np.uint8)
# PyTorch 2.3+ keeps these (with few ops of its own); numpy computes with them fully.
uint16 = dtype("uint16", np.uint16)
uint32 = dtype("uint32", np.uint32)
uint64 = dtype("uint64", np.uint64)
bool_ = dtype("bool", np.bool_)
#: Entries are SymPy expressions (a tensor made by ``symgrad.symbolic.symbols``).
symbolic = dtype("symbolic", object)

_BY_NUMPY = {d.np: d for d in (float16, float32, float64, int8, int16, int32, int64, uint8,
                               uint16, uint32, uint64, bool_, symbolic)}
_default = [float64]


def from_numpy_dtype(np_dtype) -> dtype:
    """The symgrad dtype of a numpy dtype; unsupported kinds raise TypeError."""
    try:
        return _BY_NUMPY[np_dtype]
    except KeyError:
        pass
    nd = np.dtype(np_dtype)
    if nd in _BY_NUMPY:
        return _BY_NUMPY[nd]
    raise TypeError(f"symgrad has no dtype for numpy dtype {nd} (complex and other kinds are "
                    "not supported)")


def get_default_dtype() -> dtype:
    """The floating dtype given to tensors made from Python floats."""
    return _default[0]


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype (float32 or float64), as ``torch.set_default_dtype``."""
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d!r}")
    _default[0] = d


def to_np(d) -> np.dtype | None:
    """The numpy dtype for a ``dtype=`` argument (a symgrad dtype, numpy dtype or Python type)."""
    if d is None:
        return None
    if isinstance(d, dtype):
        return d.np
    if d is float:
        return _default[0].np
    if d is int:
        return int64.np
    if d is bool:
        return bool_.np
    try:
        return from_numpy_dtype(np.dtype(d)).np
    except TypeError:
        raise
    except Exception:
        raise TypeError(f"dtype must be a symgrad dtype such as symgrad.float64, "
                        f"got {d!r}") from None


_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "O": 3}


def result_type(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """PyTorch's type promotion of two array operands.

    A higher kind (bool < int < float) wins outright (int64 with float32 gives float32,
    where numpy gives float64), and a 0-d operand only decides the result when it is of a
    higher kind than an operand with dimensions.
    """
    da, db = a.dtype, b.dtype
    if da == db:
        return da
    ka, kb = _KIND_RANK[da.kind], _KIND_RANK[db.kind]
    za, zb = a.ndim == 0, b.ndim == 0
    if za != zb:
        if za:
            return db if ka <= kb else da
        return da if kb <= ka else db
    if ka != kb:
        return da if ka > kb else db
    if _WIDE_UNSIGNED.intersection((da, db)):
        # numpy would promote uint64 with int64 to float64, losing integers; PyTorch refuses
        names = " and ".join(from_numpy_dtype(d).name for d in (da, db))
        raise RuntimeError("Promotion for uint16, uint32, uint64 types is not supported, "
                           f"attempted to promote {names}")
    return np.promote_types(da, db)


_WIDE_UNSIGNED = {np.dtype(np.uint16), np.dtype(np.uint32), np.dtype(np.uint64)}
