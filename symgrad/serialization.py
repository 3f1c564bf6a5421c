"""``save`` and ``load``: state dicts, tensors and checkpoints to files, by pickle.

``load(f)`` reads, as PyTorch's default ``weights_only=True`` does, only tensors,
Parameters, numpy arrays and plain containers and numbers: a file cannot run code
when loaded. ``weights_only=False`` unpickles anything (trusted files only).
"""

from __future__ import annotations

import io
import os
import pickle
from typing import IO, Any

__all__ = ["save", "load"]

#: The globals a weights-only file may name: the tensor and Parameter rebuilders, numpy's
#: array reconstruction, the dtypes, and OrderedDict (state dicts).
_WEIGHTS_ONLY = {
    ("collections", "OrderedDict"), ("symgrad.tensor", "_rebuild"),
    ("symgrad.nn.parameter", "_rebuild_parameter"), ("symgrad._dtype", "from_numpy_dtype"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "scalar"),
}


class _WeightsUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _WEIGHTS_ONLY or (module == "numpy.dtypes" and
                                               name.endswith("DType")):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Weights only load failed: the file names {module}.{name}, which is not a "
            "tensor, array or plain container. Load it with weights_only=False only if you "
            "trust its source (unpickling can run arbitrary code).")


def save(obj: Any, f: str | os.PathLike | IO[bytes], pickle_module: Any = pickle,
         pickle_protocol: int = pickle.DEFAULT_PROTOCOL, **kwargs: Any) -> None:
    """Write ``obj`` (a state dict, a tensor, a dict of them ...) to a path or binary file."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            pickle_module.dump(obj, fh, protocol=pickle_protocol)
    else:
        pickle_module.dump(obj, f, protocol=pickle_protocol)


def load(f: str | os.PathLike | IO[bytes], map_location: Any = None, pickle_module: Any = None,
         *, weights_only: bool = True, mmap: Any = None, **kwargs: Any) -> Any:
    """Read what ``save`` wrote; ``map_location`` is accepted (everything is on the CPU)."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            data = fh.read()
    else:
        data = f.read()
    if weights_only:
        return _WeightsUnpickler(io.BytesIO(data)).load()
    return (pickle_module or pickle).loads(data)
