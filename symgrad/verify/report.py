"""What a verification found, as data (``to_dict``), a text table and an HTML table."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symgrad.verify.compare import AGREE, FORWARD_MISMATCH, KINK, MISMATCH, Comparison
from symgrad.verify.localize import NodeFinding

__all__ = ["Row", "KinkFinding", "Report"]

_OK_VERDICTS = (AGREE, KINK)


@dataclass
class Row:
    """One compared quantity: the forward value or the derivative for one input."""

    name: str
    shape: tuple
    verdict: str
    comparison: Comparison
    what: str = "gradient"               # "forward", "gradient", "jacobian", "vjp", ...
    method: str = "full"                 # "full" or "directional (k directions)"
    closed_form: str = ""                # or a function building it: see _closed_form
    numeric: np.ndarray | None = None
    exact: np.ndarray | None = None
    detail: str = ""
    # central differences (Richardson-extrapolated): normwise relative error against the
    # exact value. A witness for the reader; no verdict reads it.
    fd_rel_err: float | None = None
    directions: list | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.verdict in _OK_VERDICTS

    def to_dict(self, with_values: bool = True) -> dict[str, Any]:
        d = {"name": self.name, "what": self.what, "shape": list(self.shape),
             "verdict": self.verdict, "method": self.method, "closed_form": self.closed_form,
             **self.comparison.to_dict(),
             "central_difference_rel_error": _json_num(self.fd_rel_err)}
        if self.detail:
            d["detail"] = self.detail
        if _accuracy_notes(self):
            d["notes"] = _accuracy_notes(self)
        if with_values and self.numeric is not None and np.size(self.numeric) <= 10_000:
            d["numeric"] = np.asarray(self.numeric, dtype=float).tolist()
            d["exact"] = np.asarray(self.exact, dtype=float).tolist()
        return json_safe(d)


def _accuracy_notes(row: Row) -> list[str]:
    """What the float64 comparison noticed (an overflow, a nan, lost digits): about
    float64's accuracy, so not shown when the rule or forward itself is wrong."""
    if row.verdict in (MISMATCH, FORWARD_MISMATCH):
        return []
    return list(row.comparison.notes)


def _closed_form(row: Row) -> str:
    """The closed form shown for the row. ``check`` may leave a function that builds it:
    a closed form is for the reader, and deriving it (``sympy.diff`` of the mirror, entry
    by entry) can cost more than the verification, which does not read it. It is built on
    first read, once."""
    v = row.__dict__.get("_closed", "")
    if callable(v):
        v = row.__dict__["_closed"] = v()
    return v


def _set_closed_form(row: Row, value: Any) -> None:
    row.__dict__["_closed"] = value


def _row_state(row: Row) -> dict:
    _closed_form(row)   # a pickled or copied report is plain data, not the mirror behind it
    return dict(row.__dict__)


Row.closed_form = property(_closed_form, _set_closed_form)   # dataclass field, read lazily
Row.__getstate__ = _row_state


def has_closed_form(row: Row) -> bool:
    """Whether the row shows a closed form, without building a pending one."""
    v = row.__dict__.get("_closed", "")
    return callable(v) or bool(v)


@dataclass
class KinkFinding:
    """A node evaluated exactly on a non-differentiable point."""

    node: str
    op: str
    positions: list[tuple]
    convention: str
    left: float | None = None
    right: float | None = None
    used: float | None = None

    def describe(self) -> str:
        sides = ""
        if self.left is not None:
            sides = (f"; left derivative {self.left:g}, right derivative {self.right:g}, "
                     f"the engine uses {self.used:g}")
        pos = ", ".join(str(p) for p in self.positions[:4])
        more = f" and {len(self.positions) - 4} more" if len(self.positions) > 4 else ""
        return f"{self.node} (op {self.op}) at entry {pos}{more}: {self.convention}{sides}"

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "op": self.op, "positions": [list(p) for p in self.positions],
                "convention": self.convention, "left": self.left, "right": self.right,
                "used": self.used}


@dataclass
class Report:
    """The result of ``verify.check``: one row per compared quantity, plus findings."""

    title: str
    mode: str
    rows: list[Row] = field(default_factory=list)
    findings: list[NodeFinding] = field(default_factory=list)
    kinks: list[KinkFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every row agrees (or sits on a declared kink) and no node disagrees."""
        return all(r.ok for r in self.rows) and not self.findings

    def __bool__(self) -> bool:
        return self.ok

    @property
    def inputs(self) -> list[Row]:
        return [r for r in self.rows if r.what != "forward"]

    def row(self, name: str) -> Row:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"no row named {name!r}; rows are {[r.name for r in self.rows]}")

    def table(self) -> str:
        """A fixed-width text table, one line per row, findings underneath."""
        head = f"{self.title}  [{self.mode}]  -> {'OK' if self.ok else 'DISAGREES'}"
        lines = [head,
                 f"  {'quantity':<22} {'shape':<12} {'verdict':<25} {'max abs err':>11} "
                 f"{'max rel err':>11} {'ulps':>9} {'cd rel err':>10}  method"]
        for r in self.rows:
            c = r.comparison
            label = r.name if r.what in ("gradient",) else f"{r.what} {r.name}"
            lines.append(f"  {label:<22.22} {str(tuple(r.shape)):<12.12} {r.verdict:<25} "
                         f"{_e(c.max_abs):>11} {_e(c.max_rel):>11} {_u(c.max_ulps):>9} "
                         f"{_e(r.fd_rel_err) if r.fd_rel_err is not None else '-':>10}  "
                         f"{r.method}")
        for r in self.rows:
            if r.closed_form:
                lines.append(f"  closed form: {r.closed_form}")
            if r.detail:
                lines.append(f"  note ({r.name}): {r.detail}")
            for n in _accuracy_notes(r):
                lines.append(f"  note ({r.name}): {n}")
        for k in self.kinks:
            lines.append(f"  kink: {k.describe()}")
        for f in self.findings:
            lines.append(f"  FOUND: {f.describe()}")
        for n in self.notes:
            lines.append(f"  note: {n}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def to_dict(self, with_values: bool = True) -> dict[str, Any]:
        """Plain data for ``json.dumps`` (strict JSON: inf and nan are the strings "inf",
        "-inf", "nan", as in the error columns)."""
        return json_safe({"title": self.title, "mode": self.mode, "ok": self.ok,
                          "rows": [r.to_dict(with_values) for r in self.rows],
                          "findings": [f.to_dict() for f in self.findings],
                          "kinks": [k.to_dict() for k in self.kinks],
                          "notes": list(self.notes)})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><td>{html.escape(r.what)}</td><td>{html.escape(r.name)}</td>"
            f"<td>{html.escape(str(tuple(r.shape)))}</td>"
            f"<td style='color:{'green' if r.ok else 'red'}'>{html.escape(r.verdict)}</td>"
            f"<td>{_e(r.comparison.max_abs)}</td><td>{_e(r.comparison.max_rel)}</td>"
            f"<td>{_u(r.comparison.max_ulps)}</td><td>{html.escape(r.method)}</td></tr>"
            for r in self.rows)
        extra = "".join(f"<li>{html.escape(x)}</li>" for x in
                        [f.describe() for f in self.findings] + [k.describe() for k in self.kinks]
                        + [f"{r.name}: {r.closed_form}" for r in self.rows if r.closed_form]
                        + self.notes)
        status = "OK" if self.ok else "DISAGREES"
        return (f"<div class='symgrad-report'><b>{html.escape(self.title)}</b> "
                f"[{html.escape(self.mode)}] &rarr; <b>{status}</b>"
                "<table><thead><tr><th>what</th><th>name</th><th>shape</th><th>verdict</th>"
                "<th>max abs err</th><th>max rel err</th><th>ulps</th><th>method</th></tr></thead>"
                f"<tbody>{cells}</tbody></table><ul>{extra}</ul></div>")


def _e(x: float) -> str:
    return f"{x:.2e}" if x == x and x not in (float("inf"), float("-inf")) else str(x)


def _u(x: float) -> str:
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)
    return f"{x:.1f}" if x < 1e6 else f"{x:.1e}"


def json_safe(x: Any) -> Any:
    """``x`` with every non-finite float (also inside lists and dicts) as its string, numpy
    scalars as Python ones: what ``json.dumps(..., allow_nan=False)`` accepts."""
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return str(x)
    return x


def _json_num(x: float | None):
    if x is None or x == x and x not in (float("inf"), float("-inf")):
        return x
    return str(x)
