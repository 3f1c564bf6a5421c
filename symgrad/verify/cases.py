"""Built-in verification cases, the PyTorch autograd tutorial's cells first.

Each case runs real code on the engine and returns a ``CaseResult``: the verifier's
reports plus plain facts (e.g. "requires_grad after no_grad is False"), each with what
was expected and what was observed. ``symgrad verify`` runs them all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

import mpmath
import numpy as np
import sympy

import symgrad as sg
from symgrad.nn import functional as F
from symgrad.symbolic import derive
from symgrad.symbolic.mirror import info, mirror
from symgrad.verify.check import check
from symgrad.verify.compare import AGREE, HP_DIGITS, compare
from symgrad.verify.report import Report, Row

__all__ = ["Fact", "CaseResult", "Case", "CASES", "run", "run_all", "tutorial_tensors"]


@dataclass
class Fact:
    """One observed behaviour with the expected one."""

    label: str
    expected: Any
    observed: Any
    ok: bool

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "expected": str(self.expected),
                "observed": str(self.observed), "ok": self.ok}


@dataclass
class CaseResult:
    name: str
    title: str
    reports: list[Report] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    closed_forms: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    # the tensor whose recorded graph the case is about, and names for its tensors
    # (``symgrad verify --graph`` draws it; not part of the verdict or of ``to_dict``)
    graph: Any = field(default=None, repr=False, compare=False)
    graph_names: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.error is None and all(r.ok for r in self.reports) and all(
            f.ok for f in self.facts)

    @property
    def n_checks(self) -> int:
        return sum(len(r.rows) for r in self.reports) + len(self.facts)

    @property
    def n_passed(self) -> int:
        return sum(sum(1 for row in r.rows if row.ok) for r in self.reports) + sum(
            1 for f in self.facts if f.ok)

    @property
    def worst_ulps(self) -> float:
        vals = [row.comparison.max_ulps for r in self.reports for row in r.rows]
        return max(vals, default=0.0)

    def fact(self, label: str, expected: Any, observed: Any, ok: bool | None = None) -> None:
        if ok is None:
            ok = bool(np.all(expected == observed)) if isinstance(expected, np.ndarray) else \
                expected == observed
        self.facts.append(Fact(label, expected, observed, bool(ok)))

    def record_graph(self, t: Any, **names: Any) -> None:
        """Keep ``t`` (and names for its tensors) so the case's graph can be drawn."""
        self.graph, self.graph_names = t, names

    def details(self) -> str:
        lines = [f"== {self.name}: {self.title}  -> {'OK' if self.ok else 'DISAGREES'} "
                 f"({self.n_passed}/{self.n_checks} checks, {self.seconds:.2f}s)"]
        if self.error:
            lines.append(f"  error: {self.error}")
        for cf in self.closed_forms:
            lines.append(f"  closed form: {cf}")
        for f in self.facts:
            lines.append(f"  [{'ok' if f.ok else 'FAIL'}] {f.label}: expected {f.expected}, "
                         f"observed {f.observed}")
        for r in self.reports:
            lines.append("  " + r.table().replace("\n", "\n  "))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "ok": self.ok,
                "checks": self.n_checks, "passed": self.n_passed, "seconds": self.seconds,
                "error": self.error, "closed_forms": self.closed_forms,
                "facts": [f.to_dict() for f in self.facts],
                "reports": [r.to_dict(with_values=False) for r in self.reports]}


@dataclass
class Case:
    name: str
    title: str
    fn: Callable[[CaseResult], None]


CASES: dict[str, Case] = {}


def case(name: str, title: str):
    def register(fn: Callable[[CaseResult], None]) -> Callable[[CaseResult], None]:
        CASES[name] = Case(name, title, fn)
        return fn
    return register


def run(name: str) -> CaseResult:
    """Run one built-in case by name."""
    if name not in CASES:
        raise KeyError(name)
    c = CASES[name]
    res = CaseResult(c.name, c.title)
    t0 = time.perf_counter()
    try:
        with sg.enable_grad():
            c.fn(res)
    except Exception as e:  # noqa: BLE001 - a failing case is reported, not raised
        res.error = f"{type(e).__name__}: {e}"
    res.seconds = time.perf_counter() - t0
    return res


def run_all(names: list[str] | None = None) -> list[CaseResult]:
    return [run(n) for n in (names or list(CASES))]


# ================================================================ the tutorial's tensors
def tutorial_tensors(seed: int = 0) -> dict[str, sg.Tensor]:
    """x, y, w, b of the tutorial's first cell (w, b from ``manual_seed(seed)``)."""
    sg.manual_seed(seed)
    x = sg.ones(5)
    y = sg.zeros(3)
    w = sg.randn(5, 3, requires_grad=True)
    b = sg.randn(3, requires_grad=True)
    return {"x": x, "y": y, "w": w, "b": b}


def _textbook_bce_gradient(t: dict[str, sg.Tensor]) -> tuple[np.ndarray, np.ndarray, str]:
    """The tutorial's closed form, evaluated exactly: dloss/dw[i,j] = x[i](s(z[j]) - y[j])/3."""
    x, y, w, b = (t[k]._data for k in "xywb")
    n = y.shape[0]
    with mpmath.workdps(HP_DIGITS + 10):
        xs = [mpmath.mpf(v) for v in x]
        z = [mpmath.fsum(xs[i] * mpmath.mpf(w[i, j]) for i in range(len(xs))) + mpmath.mpf(b[j])
             for j in range(n)]
        resid = [1 / (1 + mpmath.exp(-z[j])) - mpmath.mpf(y[j]) for j in range(n)]
        gw = np.array([[xs[i] * resid[j] / n for j in range(n)] for i in range(len(xs))],
                      dtype=object)
        gb = np.array([resid[j] / n for j in range(n)], dtype=object)
    return gw, gb, f"dloss/dw[i,j] = x[i]*(sigmoid(z[j]) - y[j])/{n},  dloss/db[j] = " \
                   f"(sigmoid(z[j]) - y[j])/{n},  z = x@w + b"


def _closed_form_row(name: str, numeric: np.ndarray, exact: np.ndarray, form: str) -> Row:
    comp = compare(numeric, exact, budget=32.0)
    return Row(name=name, shape=numeric.shape, verdict=AGREE if comp.within else "disagrees",
               comparison=comp, what="closed form", method="textbook formula",
               detail="" if comp.within else f"expected {form}", numeric=numeric)


def _prove_entry(t: dict[str, sg.Tensor]) -> bool:
    """SymPy proves d(mirror)/dw[0,0] - x[0](s(z[0]) - y[0])/3 == 0 (x, y symbolic too)."""
    loss = F.binary_cross_entropy_with_logits(sg.matmul(t["x"], t["w"]) + t["b"], t["y"])
    m = mirror(loss, names={"w": t["w"], "b": t["b"], "x": t["x"], "y": t["y"]},
               constants="symbols")
    meta = info(m)
    w_syms = meta.symbols_of(t["w"])
    syms = {nm: s for nm, s in meta.constants}
    x, y = syms["x"], syms["y"]
    b = meta.symbols_of(t["b"])
    z0 = sum(x[i] * w_syms[i, 0] for i in range(x.shape[0])) + b[0]
    textbook = x[0] * (1 / (1 + sympy.exp(-z0)) - y[0]) / 3
    d = derive.gradient(m, sg.Tensor._wrap(w_syms))._data[0, 0]
    # exp(-z0) as a positive symbol E makes both sides rational functions of E, x and y:
    # ``cancel`` proves them equal in milliseconds (``simplify`` takes a quarter second)
    e = sympy.Dummy("E", positive=True)
    diff = (d - textbook).xreplace({sympy.exp(-z0): e})
    if not diff.has(sympy.exp):
        return sympy.cancel(diff) == 0
    return sympy.simplify(d - textbook) == 0


@case("tutorial_linear_bce", "tutorial cell 1-3: z = x@w + b, BCE-with-logits loss, w.grad and "
      "b.grad")
def _tutorial_linear_bce(res: CaseResult) -> None:
    t = tutorial_tensors()
    x, y, w, b = t["x"], t["y"], t["w"], t["b"]
    z = sg.matmul(x, w) + b
    loss = F.binary_cross_entropy_with_logits(z, y)
    res.fact("z.grad_fn", "AddBackward0", z.grad_fn.name())
    res.fact("loss.grad_fn", "BinaryCrossEntropyWithLogitsBackward0", loss.grad_fn.name())
    res.record_graph(loss, x=x, y=y, w=w, b=b, z=z, loss=loss)
    loss.backward()
    gw, gb, form = _textbook_bce_gradient(t)
    report = Report(title="w.grad and b.grad from loss.backward() against the tutorial's "
                          "closed form", mode="closed form")
    report.rows.append(_closed_form_row("w.grad", w.grad._data, gw, form))
    report.rows.append(_closed_form_row("b.grad", b.grad._data, gb, form))
    res.reports.append(report)
    res.closed_forms.append(form)
    res.fact("SymPy proves d(loss)/dw[0,0] == x[0]*(sigmoid(z[0]) - y[0])/3 symbolically", True,
             _prove_entry(t))
    res.reports.append(check(lambda w, b: F.binary_cross_entropy_with_logits(
        sg.matmul(x, w) + b, y), w, b, title="verify.check: gradient of the loss in w and b"))


@case("tutorial_requires_grad_later", "tutorial note: requires_grad_(True) after creation "
      "behaves the same")
def _tutorial_requires_grad_later(res: CaseResult) -> None:
    t = tutorial_tensors()
    w_late = sg.tensor(t["w"].detach().numpy().copy())
    b_late = sg.tensor(t["b"].detach().numpy().copy())
    res.fact("a new tensor requires grad", False, w_late.requires_grad)
    w_late.requires_grad_(True)
    b_late.requires_grad = True
    res.fact("after requires_grad_(True)", True, w_late.requires_grad and b_late.requires_grad)
    for w, b in ((t["w"], t["b"]), (w_late, b_late)):
        loss = F.binary_cross_entropy_with_logits(sg.matmul(t["x"], w) + b, t["y"])
        loss.backward()
    res.record_graph(loss, w=w_late, b=b_late, loss=loss)
    res.fact("w.grad identical either way (bit for bit)", True,
             bool(np.array_equal(t["w"].grad._data, w_late.grad._data)))
    res.fact("b.grad identical either way (bit for bit)", True,
             bool(np.array_equal(t["b"].grad._data, b_late.grad._data)))
    res.reports.append(check(lambda w, b: F.binary_cross_entropy_with_logits(
        sg.matmul(t["x"], w) + b, t["y"]), w_late, b_late,
        title="verify.check with tensors made to require grad later"))


@case("tutorial_no_grad_detach", "tutorial cells 4-5: no_grad and detach stop tracking; the "
      "derivative through them is zero")
def _tutorial_no_grad_detach(res: CaseResult) -> None:
    t = tutorial_tensors()
    x, w, b = t["x"], t["w"], t["b"]
    z = sg.matmul(x, w) + b
    res.record_graph(z, x=x, w=w, b=b, z=z)
    res.fact("z.requires_grad", True, z.requires_grad)
    with sg.no_grad():
        z2 = sg.matmul(x, w) + b
    res.fact("z.requires_grad under no_grad", False, z2.requires_grad)
    res.fact("z.detach().requires_grad", False, z.detach().requires_grad)
    res.fact("z.detach() shares z's values", True, bool(np.array_equal(z.detach()._data,
                                                                       z._data)))

    def through_detach(w, b):
        return (sg.matmul(x, w) + b).detach().sum() * (w * 0).sum()

    rep = check(through_detach, w, b, title="verify.check: d/dw of (x@w+b).detach().sum() * "
                "(w*0).sum() is exactly 0")
    res.reports.append(rep)
    zero = all(np.all(r.exact == 0) for r in rep.inputs)
    res.fact("exact derivative through detach()", "0 everywhere", "0 everywhere" if zero else
             "non-zero")

    def under_no_grad(w):
        with sg.no_grad():
            return (sg.matmul(x, w) + b).sum()

    out = under_no_grad(w)
    res.fact("output computed under no_grad has no grad_fn", None, out.grad_fn)
    rep2 = check(lambda w: under_no_grad(w) * 1.0, w, title="verify.check: a function "
                 "computed under no_grad has a zero derivative")
    res.reports.append(rep2)


_NOTEBOOK_FIRST_CALL = np.array([[4., 2, 2, 2, 2], [2, 4, 2, 2, 2], [2, 2, 4, 2, 2],
                                 [2, 2, 2, 4, 2], [2, 2, 2, 2, 4]])


@case("tutorial_jacobian", "tutorial cells 6-8: out = (inp+1).pow(2), its 25x25 Jacobian, v^T J "
      "with v = ones, accumulation and zero_()")
def _tutorial_jacobian(res: CaseResult) -> None:
    inp = sg.eye(5, requires_grad=True)
    out = (inp + 1).pow(2)
    res.record_graph(out, inp=inp, out=out)
    res.fact("out.grad_fn", "PowBackward0", out.grad_fn.name())
    rep = check(lambda inp: (inp + 1).pow(2), inp.detach(), mode="jacobian",
                title="verify.check: full Jacobian of (inp+1)**2 at inp = eye(5)")
    res.reports.append(rep)
    jac = rep.row("inp").exact.reshape(25, 25)
    vjp_exact = np.ones(25) @ jac
    out.backward(sg.ones_like(inp), retain_graph=True)
    first = inp.grad._data.copy()
    res.fact("first call == v^T J (exact, v = ones)", True,
             bool(np.array_equal(first.reshape(-1), vjp_exact)))
    res.fact("first call == the notebook's printed matrix", True,
             bool(np.array_equal(first, _NOTEBOOK_FIRST_CALL)))
    out.backward(sg.ones_like(inp), retain_graph=True)
    res.fact("second call accumulates (== 2 x first)", True,
             bool(np.array_equal(inp.grad._data, 2 * first)))
    inp.grad.zero_()
    out.backward(sg.ones_like(inp), retain_graph=True)
    res.fact("after inp.grad.zero_(), a call gives the first result again", True,
             bool(np.array_equal(inp.grad._data, first)))
    res.closed_forms.append("d out[i,j] / d inp[k,l] = 2*(inp[i,j] + 1) if (i,j) == (k,l) "
                            "else 0")


@case("tutorial_implicit_scalar", "tutorial cell 8 comment: backward() on a scalar equals "
      "backward(tensor(1.0))")
def _tutorial_implicit_scalar(res: CaseResult) -> None:
    grads = []
    for explicit in (False, True):
        t = tutorial_tensors()
        loss = F.binary_cross_entropy_with_logits(sg.matmul(t["x"], t["w"]) + t["b"], t["y"])
        if explicit:
            loss.backward(sg.tensor(1.0))
        else:
            loss.backward()
        grads.append((t["w"].grad._data.copy(), t["b"].grad._data.copy()))
    res.fact("w.grad: backward() == backward(tensor(1.0)) bit for bit", True,
             bool(np.array_equal(grads[0][0], grads[1][0])))
    res.fact("b.grad: backward() == backward(tensor(1.0)) bit for bit", True,
             bool(np.array_equal(grads[0][1], grads[1][1])))
    t = tutorial_tensors()
    loss = F.binary_cross_entropy_with_logits(sg.matmul(t["x"], t["w"]) + t["b"], t["y"])
    try:
        (sg.matmul(t["x"], t["w"]) + t["b"]).backward()
        raised = "no error"
    except RuntimeError as e:
        raised = "RuntimeError" if "scalar" in str(e) else f"RuntimeError: {e}"
    res.fact("backward() without gradient on a non-scalar", "RuntimeError", raised)
    loss.backward()
    try:
        loss.backward()
        raised = "no error"
    except RuntimeError as e:
        raised = "RuntimeError" if "retain_graph" in str(e) else f"RuntimeError: {e}"
    res.fact("a second backward() without retain_graph", "RuntimeError", raised)
    res.record_graph(loss, w=t["w"], b=t["b"], loss=loss)


def _textbook_bce_hessian(t: dict[str, sg.Tensor]) -> tuple[np.ndarray, str]:
    """d2loss/dw[i,j]dw[k,l] = x[i] x[k] s(z[j]) (1 - s(z[j])) / 3 when j == l, else 0."""
    x, w, b = (t[k]._data for k in "xwb")
    n_in, n = w.shape
    h = np.empty((n_in, n, n_in, n), dtype=object)
    with mpmath.workdps(HP_DIGITS + 10):
        xs = [mpmath.mpf(v) for v in x]
        z = [mpmath.fsum(xs[i] * mpmath.mpf(w[i, j]) for i in range(n_in)) + mpmath.mpf(b[j])
             for j in range(n)]
        s = [1 / (1 + mpmath.exp(-zj)) for zj in z]
        for i, j, k, ll in np.ndindex(n_in, n, n_in, n):
            h[i, j, k, ll] = xs[i] * xs[k] * s[j] * (1 - s[j]) / n if j == ll else mpmath.mpf(0)
    return h, (f"d2loss/dw[i,j]dw[k,l] = x[i]*x[k]*sigmoid(z[j])*(1 - sigmoid(z[j]))/{n} if "
               "j == l else 0")


@case("tutorial_hessian", "the tutorial's loss twice differentiated: Hessian in w against "
      "x[i]*x[k]*s(z[j])*(1-s(z[j]))/3")
def _tutorial_hessian(res: CaseResult) -> None:
    t = tutorial_tensors()
    x, y = t["x"], t["y"]

    def loss(w, b):
        return F.binary_cross_entropy_with_logits(sg.matmul(x, w) + b, y)

    h = sg.autograd.functional.hessian(lambda w: loss(w, t["b"]), t["w"].detach())
    res.fact("autograd.functional.hessian shape", (5, 3, 5, 3), tuple(h.shape))
    exact, form = _textbook_bce_hessian(t)
    report = Report(title="autograd.functional.hessian against the closed form",
                    mode="closed form")
    report.rows.append(_closed_form_row("hessian w,w", h._data, exact, form))
    res.reports.append(report)
    res.closed_forms.append(form)
    res.reports.append(check(loss, t["w"], t["b"], order=2,
                             title="verify.check(order=2): every Hessian block in w and b"))
    out = loss(t["w"], t["b"])
    res.record_graph(out, x=x, y=y, w=t["w"], b=t["b"], loss=out)


def _control_flow(x: sg.Tensor) -> sg.Tensor:
    """A program whose graph depends on the data: a loop and a branch."""
    y = x * 2
    steps = 0
    while (y * y).sum() < 1000 and steps < 20:
        y = y * 2
        steps += 1
    if y.sum() > 0:
        out = (y * y).sum()
    else:
        out = (y.exp() * x).sum()
    return out


@case("control_flow", "a graph built by data-dependent Python control flow, verified run by run")
def _control_flow_case(res: CaseResult) -> None:
    points = [sg.tensor([0.5, -0.25, 1.0]), sg.tensor([-3.0, 0.5, -1.0]),
              sg.tensor([10.0, 20.0, 30.0])]
    for p in points:
        x = p.clone().requires_grad_(True)
        with sg.enable_grad():
            out = _control_flow(x)
            n_nodes = _count_nodes(out)
        if res.graph is None:
            res.record_graph(out, x=x, out=out)
        res.reports.append(check(_control_flow, p, title=f"run at x = {p.tolist()} "
                                 f"({n_nodes} recorded nodes)"))


def _count_nodes(t: sg.Tensor) -> int:
    from symgrad.autograd.engine import topological_order

    return len(topological_order([t.grad_fn])[0]) if t.grad_fn is not None else 0


@case("extreme_logits", "BCE-with-logits at logits of +-800: finite, exact, no false alarm")
def _extreme_logits(res: CaseResult) -> None:
    z = sg.tensor([800.0, -800.0, 1e-300, 35.0, -1000.0])
    y = sg.tensor([0.0, 1.0, 0.5, 1.0, 0.0])
    res.reports.append(check(lambda z: F.binary_cross_entropy_with_logits(z, y), z,
                             title="verify.check: BCE-with-logits at extreme logits"))
    res.reports.append(check(lambda z: sg.sigmoid(z).sum() + sg.tanh(z).sum(), z,
                             title="verify.check: sigmoid and tanh saturated"))
    with sg.enable_grad():
        zz = z.clone().requires_grad_(True)
        loss = F.binary_cross_entropy_with_logits(zz, y, reduction="sum")
        res.record_graph(loss, z=zz, y=y, loss=loss)
        loss.backward()
    res.fact("loss and gradient are finite", True,
             bool(np.isfinite(loss.item()) and np.all(np.isfinite(zz.grad._data))))
