"""``symgrad.testing.assert_close``: PyTorch's numeric comparison for test suites.

The same pairing of inputs (tensors or numpy arrays, numbers, booleans, None, and sequences
and mappings of them), the same default tolerances per dtype, the same attribute checks
(shape, dtype, stride) and the same failure messages, so a suite written against
``torch.testing.assert_close`` reads the same here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from symgrad import _dtype
from symgrad.tensor import Tensor

__all__ = ["assert_close"]

# (rtol, atol) by numpy dtype; any other dtype (integers, bool) compares exactly
_PRECISION = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
              np.dtype(np.float64): (1e-7, 1e-7), np.dtype(np.complex64): (1.3e-6, 1e-5),
              np.dtype(np.complex128): (1e-7, 1e-7)}
_NUMBER_DTYPE = {int: np.dtype(np.int64), float: np.dtype(np.float64),
                 complex: np.dtype(np.complex128)}


class _Mismatch(Exception):
    """A failed comparison: the exception type to raise and its message."""

    def __init__(self, kind: type[Exception], msg: str, where: str = "") -> None:
        super().__init__(msg)
        self.kind, self.msg, self.where = kind, msg, where


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None,
                 equal_nan: bool = False, check_device: bool = True, check_dtype: bool = True,
                 check_layout: bool = True, check_stride: bool = False,
                 msg: str | Callable[[str], str] | None = None) -> None:
    """Raise AssertionError unless ``actual`` and ``expected`` are close: entry by entry
    ``|actual - expected| <= atol + rtol * |expected|``, tolerances by dtype by default."""
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    try:
        _compare(actual, expected, "", rtol, atol, equal_nan, check_dtype, check_stride)
    except _Mismatch as m:
        text = m.msg
        if m.kind is AssertionError and msg is not None:
            text = msg(text) if callable(msg) else msg
        elif m.where:
            text += f"\n\nThe failure occurred for item {m.where}"
        raise m.kind(text) from None


def _compare(a: Any, e: Any, where: str, rtol, atol, equal_nan, check_dtype, check_stride):
    if a is None and e is None:
        return
    if _is_array(a) and _is_array(e) and isinstance(a, Tensor) == isinstance(e, Tensor):
        return _where(where, _arrays, a, e, rtol, atol, equal_nan, check_dtype, check_stride)
    if _is_bool(a) and _is_bool(e):
        if bool(a) != bool(e):
            raise _Mismatch(AssertionError, f"Booleans mismatch: {a} is not {e}", where)
        return
    if _is_number(a) and _is_number(e):
        return _where(where, _numbers, a, e, rtol, atol, equal_nan, check_dtype)
    if isinstance(a, Mapping) and isinstance(e, Mapping):
        if set(a) != set(e):
            raise _Mismatch(AssertionError, "The keys of the mappings do not match:\n"
                            f"Missing keys in the actual mapping: {sorted(set(e) - set(a))}\n"
                            f"Additional keys in the actual mapping: {sorted(set(a) - set(e))}",
                            where)
        for k in e:
            _compare(a[k], e[k], f"{where}[{k!r}]", rtol, atol, equal_nan, check_dtype,
                     check_stride)
        return
    if _is_sequence(a) and _is_sequence(e):
        if len(a) != len(e):
            raise _Mismatch(AssertionError, f"The length of the sequences mismatch: {len(a)} != "
                            f"{len(e)}", where)
        for i, (x, y) in enumerate(zip(a, e)):
            _compare(x, y, f"{where}[{i}]", rtol, atol, equal_nan, check_dtype, check_stride)
        return
    raise _Mismatch(TypeError, f"No comparison pair was able to handle inputs of type "
                    f"{type(a)} and {type(e)}.")


def _where(where: str, compare: Callable, *args: Any) -> None:
    """Run ``compare``, tagging a mismatch with the item it happened at."""
    try:
        compare(*args)
    except _Mismatch as m:
        m.where = m.where or where
        raise


def _is_array(x: Any) -> bool:
    return isinstance(x, (Tensor, np.ndarray))


def _is_bool(x: Any) -> bool:
    return isinstance(x, (bool, np.bool_))


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, complex, np.number)) and not _is_bool(x)


def _is_sequence(x: Any) -> bool:
    return isinstance(x, Sequence) and not isinstance(x, str)


def _tolerances(da: np.dtype, de: np.dtype, rtol, atol) -> tuple[float, float]:
    if rtol is not None:
        return rtol, atol
    ra, aa = _PRECISION.get(da, (0.0, 0.0))
    re, ae = _PRECISION.get(de, (0.0, 0.0))
    return max(ra, re), max(aa, ae)


def _numbers(a, e, rtol, atol, equal_nan, check_dtype) -> None:
    ta, te = type(a), type(e)
    if check_dtype and ta is not te:
        raise _Mismatch(AssertionError, f"The (d)types do not match: {ta} != {te}.")
    da = _NUMBER_DTYPE.get(ta) or np.asarray(a).dtype
    de = _NUMBER_DTYPE.get(te) or np.asarray(e).dtype
    rtol, atol = _tolerances(da, de, rtol, atol)
    if _close(np.asarray(a), np.asarray(e), rtol, atol, equal_nan).all():
        return
    raise _Mismatch(AssertionError, _scalar_message(a, e, rtol, atol))


def _arrays(a, e, rtol, atol, equal_nan, check_dtype, check_stride) -> None:
    tensors = isinstance(a, Tensor)
    x = a.detach()._data if tensors else a
    y = e.detach()._data if tensors else e
    if x.shape != y.shape:
        sa, se = (a.shape, e.shape) if tensors else (x.shape, y.shape)
        raise _Mismatch(AssertionError, f"The values for attribute 'shape' do not match: "
                        f"{sa} != {se}.")
    if check_dtype and x.dtype != y.dtype:
        da, de = (a.dtype, e.dtype) if tensors else (x.dtype, y.dtype)
        raise _Mismatch(AssertionError, f"The values for attribute 'dtype' do not match: "
                        f"{da} != {de}.")
    if check_stride and x.strides != y.strides:
        sa, se = ((a.stride(), e.stride()) if tensors else (x.strides, y.strides))
        raise _Mismatch(AssertionError, f"The values for attribute 'stride()' do not match: "
                        f"{sa} != {se}.")
    rtol, atol = _tolerances(x.dtype, y.dtype, rtol, atol)
    if x.dtype != y.dtype:
        common = np.result_type(x, y)
        x, y = x.astype(common), y.astype(common)
    if x.dtype == np.bool_:
        x, y = x.astype(np.int64), y.astype(np.int64)
    matches = _close(x, y, rtol, atol, equal_nan)
    if matches.all():
        return
    if x.ndim == 0:
        raise _Mismatch(AssertionError, _scalar_message(x.item(), y.item(), rtol, atol))
    raise _Mismatch(AssertionError, _array_message(x, y, matches, rtol, atol))


def _close(x: np.ndarray, y: np.ndarray, rtol: float, atol: float, equal_nan: bool):
    """``isclose`` as PyTorch's: exact for integers, infinities equal only to themselves."""
    if x.dtype.kind in "biu" and y.dtype.kind in "biu":
        if rtol == 0 and atol == 0:
            return x == y
        x, y = x.astype(np.float64), y.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan) | (x == y)


def _scalar_message(a, e, rtol: float, atol: float) -> str:
    with np.errstate(invalid="ignore", over="ignore"):
        diff = abs(a - e)
        rel = float("inf") if e == 0 else diff / abs(e)
    return _message("Scalars", f"Expected {e} but got {a}.", diff, None, rel, None, rtol, atol)


def _array_message(x: np.ndarray, y: np.ndarray, matches: np.ndarray, rtol: float,
                   atol: float) -> str:
    n, total = int((~matches).sum()), matches.size
    xf, yf = x.ravel(), y.ravel()
    if xf.dtype.kind not in "fc":
        xf, yf = xf.astype(np.int64), yf.astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        diff = np.abs(xf - yf)
        diff[matches.ravel()] = 0
        rel = diff / np.abs(yf).astype(_real_default(diff.dtype))
    rel[matches.ravel()] = 0
    ia, ir = _argmax(diff), _argmax(rel)
    return _message("Tensor-likes", f"Mismatched elements: {n} / {total} ({n / total:.1%})",
                    diff[ia].item(), np.unravel_index(ia, x.shape), rel[ir].item(),
                    np.unravel_index(ir, x.shape), rtol, atol)


def _real_default(dt: np.dtype) -> np.dtype:
    """The dtype of a relative difference: the values' own float type, or the default."""
    if dt.kind == "f":
        return dt
    if dt.kind == "c":
        return np.finfo(dt).dtype
    return _dtype.get_default_dtype().np


def _argmax(v: np.ndarray) -> int:
    """The first greatest entry, a nan counting as greatest (as PyTorch's ``max``)."""
    nan = np.isnan(v) if v.dtype.kind in "fc" else None
    if nan is not None and nan.any():
        return int(np.argmax(nan))
    return int(np.argmax(v))


def _message(kind: str, extra: str, diff, diff_at, rel, rel_at, rtol: float,
             atol: float) -> str:
    equality = rtol == 0 and atol == 0
    lines = [f"{kind} are not {'equal' if equality else 'close'}!", "", extra]
    for what, value, at, tol in (("absolute", diff, diff_at, atol),
                                 ("relative", rel, rel_at, rtol)):
        at = None if at is None else tuple(int(i) for i in at)
        line = (f"{what.title()} difference: {value}" if at is None
                else f"Greatest {what} difference: {value} at index {at}")
        lines.append(line if equality else f"{line} (up to {tol} allowed)")
    return "\n".join(lines)
