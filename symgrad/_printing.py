"""Lay tensors out the way PyTorch prints them: same widths, precision and line breaks.

PyTorch picks one format for the whole tensor (integer-valued, fixed or scientific), pads
every entry to one width, wraps rows at 80 columns and summarises beyond 1000 entries.
Matching it exactly lets a notebook written for PyTorch print the same text on symgrad.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

__all__ = ["set_printoptions", "get_printoptions", "tensor_repr", "PRINT_OPTS"]


@dataclasses.dataclass
class _Options:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _Options()
_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Change how tensors print; the same options as ``torch.set_printoptions``."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"profile must be one of {sorted(_PROFILES)}, got {profile!r}")
        for k, v in _PROFILES[profile].items():
            setattr(PRINT_OPTS, k, v)
    for k, v in dict(precision=precision, threshold=threshold, edgeitems=edgeitems,
                     linewidth=linewidth).items():
        if v is not None:
            setattr(PRINT_OPTS, k, v)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current print options, as a dict ``set_printoptions(**d)`` accepts."""
    return dataclasses.asdict(PRINT_OPTS)


class _Format:
    """One format for every entry of a tensor, chosen from its finite non-zero values."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        p = PRINT_OPTS.precision
        flat = values.reshape(-1)
        if not self.floating:
            for v in flat.tolist():
                self.width = max(self.width, len(_plain(v)))
            return
        finite = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if finite.size == 0:
            return
        mags = np.abs(finite)
        lo, hi = float(mags.min()), float(mags.max())
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        vals = finite.tolist()
        if self.sci_mode:
            self.width = max(len(f"{v:.{p}e}") for v in vals)
        elif self.int_mode:
            self.width = max(len(f"{v:.0f}") + 1 for v in vals)
        else:
            self.width = max(len(f"{v:.{p}f}") for v in vals)

    def __call__(self, v) -> str:
        if self.floating:
            p = PRINT_OPTS.precision
            if self.sci_mode:
                s = f"{v:{self.width}.{p}e}"
            elif self.int_mode:
                s = f"{v:.0f}"
                if math.isfinite(v):
                    s += "."
            else:
                s = f"{v:.{p}f}"
        else:
            s = _plain(v)
        return s.rjust(self.width)


def _plain(v) -> str:
    return str(v)


def _summary(a: np.ndarray) -> np.ndarray:
    """The entries that will be shown when a large tensor is summarised."""
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate([a[:e], a[-e:]]) if a.shape[0] > 2 * e else a
    rows = list(range(e)) + list(range(a.shape[0] - e, a.shape[0])) if a.shape[0] > 2 * e \
        else range(a.shape[0])
    return np.concatenate([_summary(a[i]).reshape(-1) for i in rows]) if len(rows) else a


def _vector(a: np.ndarray, indent: int, summarize: bool, fmt: _Format) -> str:
    per_line = max(1, (PRINT_OPTS.linewidth - indent) // (fmt.width + 2))
    e = PRINT_OPTS.edgeitems
    if summarize and not e:
        items = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        items = [fmt(v) for v in a[:e].tolist()] + [" ..."] + [fmt(v) for v in a[-e:].tolist()]
    else:
        items = [fmt(v) for v in a.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _layout(a: np.ndarray, indent: int, summarize: bool, fmt: _Format) -> str:
    """Nested brackets, one level per dimension (recursion is bounded by ``ndim``)."""
    if a.ndim == 0:
        return fmt(a.item())
    if a.ndim == 1:
        return _vector(a, indent, summarize, fmt)
    e = PRINT_OPTS.edgeitems
    n = a.shape[0]
    if summarize and n > 2 * e:
        parts = [_layout(a[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."] + \
            [_layout(a[i], indent + 1, summarize, fmt) for i in range(n - e, n)]
    else:
        parts = [_layout(a[i], indent + 1, summarize, fmt) for i in range(n)]
    sep = "," + "\n" * (a.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(parts) + "]"


def _body(a: np.ndarray, indent: int) -> str:
    if a.size == 0:
        return "[]"
    summarize = a.size > PRINT_OPTS.threshold
    fmt = _Format(_summary(a) if summarize else a)
    return _layout(a, indent, summarize, fmt)


def _with_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    out = [text]
    last = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > PRINT_OPTS.linewidth:
            out.append(",\n" + " " * indent + suffix)
            last = indent + len(suffix)
        else:
            out.append(", " + suffix)
            last += len(suffix) + 2
    out.append(")")
    return "".join(out)


def tensor_repr(t) -> str:
    """``repr`` of a Tensor, laid out as PyTorch's."""
    from symgrad._dtype import get_default_dtype, from_numpy_dtype

    a = t._data
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    dt = from_numpy_dtype(a.dtype)
    if dt.name == "symbolic":
        return _symbolic_repr(t)
    default = dt is get_default_dtype() or dt.name in ("int64", "bool")
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if dt is not get_default_dtype():
            suffixes.append(f"dtype={dt!r}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(a.shape)}")
        if not default:
            suffixes.append(f"dtype={dt!r}")
        body = _body(a, indent)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    if t._extra and "tangent" in t._extra:   # a dual tensor (forward_ad), printed as PyTorch
        suffixes.append(f"tangent={tensor_repr(t._extra['tangent'])}")
    return _with_suffixes(prefix + body, suffixes, indent)


def _symbolic_repr(t) -> str:
    """A tensor of SymPy expressions: entries as SymPy prints them, aligned in columns."""
    a = t._data
    if a.ndim == 0:
        return f"tensor({a.item()}, dtype=symbolic)"
    strs = np.vectorize(str, otypes=[object])(a)
    width = max((len(s) for s in strs.reshape(-1)), default=1)
    fmt_arr = np.vectorize(lambda s: s.rjust(width), otypes=[object])(strs) if a.size else strs

    class _Str(_Format):
        def __init__(self):
            self.floating, self.width = False, width

        def __call__(self, v):
            return v

    body = _layout(fmt_arr, len("tensor("), False, _Str()) if a.size else "[]"
    return _with_suffixes("tensor(" + body, ["dtype=symbolic"], len("tensor("))
