"""``Tensor.untyped_storage()`` and ``Tensor.storage()``: the memory a tensor and its views
share, as PyTorch shows it (its address, size, bytes or entries), so programs that compare
``data_ptr()`` of storages to tell views from copies run. The memory is the numpy array at
the root of the tensor's ``base`` chain."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from symgrad import _dtype

__all__ = ["UntypedStorage", "TypedStorage", "storage_of"]


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


class UntypedStorage:
    """The bytes of a tensor's memory."""

    def __init__(self, root: np.ndarray) -> None:
        self._root = root

    def _bytes(self) -> np.ndarray:
        return np.frombuffer(np.ascontiguousarray(self._root).tobytes(), dtype=np.uint8)

    def data_ptr(self) -> int:
        return self._root.__array_interface__["data"][0] if self._root.size else 0

    def nbytes(self) -> int:
        return self._root.nbytes

    def size(self) -> int:
        return self._root.nbytes

    def __len__(self) -> int:
        return self._root.nbytes

    def element_size(self) -> int:
        return 1

    @property
    def device(self):
        from symgrad._device import device

        return device("cpu")

    def tolist(self) -> list:
        return self._bytes().tolist()

    def __getitem__(self, i: Any) -> Any:
        return self._bytes()[i].tolist()

    def __repr__(self) -> str:
        lines = [f" {v}" for v in self.tolist()]
        lines.append(f"[symgrad.storage.UntypedStorage(device=cpu) of size {len(self)}]")
        return "\n".join(lines)


class TypedStorage(UntypedStorage):
    """A tensor's memory read as entries of its dtype (deprecated in PyTorch, as here)."""

    def __init__(self, root: np.ndarray, dtype: np.dtype) -> None:
        super().__init__(root)
        self._np_dtype = dtype

    @property
    def dtype(self):
        return _dtype.from_numpy_dtype(self._np_dtype)

    def _entries(self) -> np.ndarray:
        return self._bytes().view(self._np_dtype)

    def size(self) -> int:
        return self._root.nbytes // self._np_dtype.itemsize

    def __len__(self) -> int:
        return self.size()

    def element_size(self) -> int:
        return self._np_dtype.itemsize

    def tolist(self) -> list:
        return self._entries().tolist()

    def __getitem__(self, i: Any) -> Any:
        return self._entries()[i].tolist()

    def __repr__(self) -> str:
        lines = [f" {v}" for v in self.tolist()]
        lines.append(f"[symgrad.storage.TypedStorage(dtype={self.dtype!r}, device=cpu) of "
                     f"size {len(self)}]")
        return "\n".join(lines)


def storage_of(a: np.ndarray, typed: bool) -> UntypedStorage:
    if typed:
        warnings.warn("TypedStorage is deprecated. It will be removed in the future and "
                      "UntypedStorage will be the only storage class. This should only matter "
                      "to you if you are using storages directly.  To access UntypedStorage "
                      "directly, use tensor.untyped_storage() instead of tensor.storage()",
                      UserWarning, stacklevel=3)
        return TypedStorage(_root(a), a.dtype)
    return UntypedStorage(_root(a))
