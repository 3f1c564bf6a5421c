"""Sensitivity benchmark: how many planted gradient bugs each checker catches, and how
many false alarms it raises on correct rules at extreme inputs.

    python scripts/mutation_bench.py [--json] [--no-torch] [--case SUBSTRING] [--strict]

The corpus plants one bug at a time in symgrad's op table (restored afterwards):

* rules scaled by (1 + delta), delta = 1e-2, 1e-4, 1e-6, 1e-8, 1e-10, on seven ops;
* rules wrong in one region of the input only (saturation shortcuts, a wrong branch);
* sign flips;
* broken broadcast reductions (a mean for a sum, a last row for a sum, a missing unsqueeze,
  a softmax-style rule that forgets its sum over the reduced axis);
* forwards and SymPy mirrors that disagree with each other;

and adds correct ("control") programs at extreme inputs: logits of +-30 and +-700 through
sigmoid / softplus / BCE-with-logits / log_softmax / logsumexp, values of 1e-300 and 1e300
where the op is still finite. Each case is judged by three checkers:

* symgrad: ``not symgrad.verify.check(fn, *inputs).ok`` (exact derivatives, no tolerance);
* central differences written here with torch.autograd.gradcheck's defaults (eps=1e-6,
  atol=1e-5, rtol=1e-3): the analytical Jacobian from symgrad's backward (one VJP per
  output entry) against the numerical one, column by column, failing if any
  |a - n| > atol + rtol * |n|;
* torch.autograd.gradcheck itself (when PyTorch is installed), run on the same mutated
  symgrad function wrapped in a torch.autograd.Function whose backward is symgrad's.

A checker "catches" a mutant when it flags it and raises a "false alarm" when it flags a
control. An exception while checking counts as a flag. The exit status is 0; with
``--strict`` it is 1 when symgrad misses a mutant or raises a false alarm.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import symgrad as sg  # noqa: E402
from symgrad import verify  # noqa: E402
from symgrad.nn import functional as F  # noqa: E402
from symgrad.ops._record import OPS, Op  # noqa: E402

# torch.autograd.gradcheck's defaults
EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3
DELTAS = (1e-2, 1e-4, 1e-6, 1e-8, 1e-10)
SEED = 20240604

Program = Callable[..., sg.Tensor]
Mutation = Callable[[], contextlib.AbstractContextManager]


@dataclass
class Case:
    """One program at one point, with the bug planted while it is checked (None: a control)."""

    name: str
    family: str
    program: Program
    inputs: tuple[np.ndarray, ...]
    mutation: Mutation | None = None

    @property
    def is_mutant(self) -> bool:
        return self.mutation is not None


@dataclass
class Result:
    case: Case
    flags: dict[str, bool | None] = field(default_factory=dict)   # None: checker not run
    notes: dict[str, str] = field(default_factory=dict)
    errors: dict[str, bool] = field(default_factory=dict)         # the checker raised
    verdicts: list[str] = field(default_factory=list)             # symgrad's non-ok verdicts


# ================================================================ planting bugs
def _records(op: Op) -> list[Op]:
    """The record and its variants (MmBackward0, SumBackward1, ... are copies made by
    ``Op.variant``, so a planted bug must go into each of them)."""
    found = [op]
    for mod in list(sys.modules.values()):
        if not getattr(mod, "__name__", "").startswith("symgrad.ops"):
            continue
        for value in list(vars(mod).values()):
            for c in (value.values() if isinstance(value, dict) else (value,)):
                if isinstance(c, Op) and c.base is op and all(c is not f for f in found):
                    found.append(c)
    return found


@contextlib.contextmanager
def planted(name: str, **changes: Any) -> Iterator[None]:
    """Replace attributes (``vjp``, ``forward``, ``mirror``) of op ``name`` and its variants
    for the duration of the block; setting ``vjp`` re-derives what the node saves."""
    saved: list[tuple[Op, str, Any]] = []
    try:
        for rec in _records(OPS[name]):
            for key, value in changes.items():
                saved.append((rec, key, getattr(rec, key)))
                setattr(rec, key, value)
        yield
    finally:
        for rec, key, value in reversed(saved):
            setattr(rec, key, value)


class Scaled:
    """An op's own rule times a constant factor. It has no ``__code__``, so the record
    takes its reads from the signature, which is the original rule's."""

    def __init__(self, rule: Callable[..., Any], factor: float) -> None:
        self.rule = rule
        self.factor = factor
        self.__signature__ = inspect.signature(rule)

    def __call__(self, xp: Any, g: Any, ans: Any, *args: Any, **params: Any) -> Any:
        return self.rule(xp, g, ans, *args, **params) * self.factor


def rule_mutation(name: str, make: Callable[[tuple], tuple]) -> Mutation:
    """A mutation replacing op ``name``'s rules by ``make(original_rules)``."""
    return lambda: planted(name, vjp=make(OPS[name].vjp))


def scaled(name: str, arg: int, delta: float) -> Mutation:
    def make(rules: tuple) -> tuple:
        new = list(rules)
        new[arg] = Scaled(rules[arg], 1.0 + delta)
        return tuple(new)
    return rule_mutation(name, make)


def replace_rule(name: str, arg: int, rule: Callable[..., Any]) -> Mutation:
    def make(rules: tuple) -> tuple:
        new = list(rules)
        new[arg] = rule
        return tuple(new)
    return rule_mutation(name, make)


# ================================================================ the corpus
def build_corpus() -> list[Case]:
    rng = np.random.default_rng(SEED)

    def normal(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape)

    def const(a: np.ndarray | list) -> sg.Tensor:
        return sg.tensor(np.asarray(a, dtype=np.float64))

    w4 = const(rng.uniform(0.5, 1.5, 4))
    w3 = const(rng.uniform(0.5, 1.5, 3))
    w34 = const(rng.uniform(0.5, 1.5, (3, 4)))
    onehot = const(np.eye(4)[[2, 0, 3]])                 # 3 rows, 4 classes
    cases: list[Case] = []

    # ---- (1 + delta)-scaled rules, one op at a time
    scaled_targets: list[tuple[str, int, str, Program, Callable[[], tuple]]] = [
        ("mul", 1, "mul  (x*y).sum(), rule for y", lambda x, y: (x * y).sum(),
         lambda: (normal(3, 4), normal(3, 4))),
        ("exp", 0, "exp  (exp(x)*w).sum()", lambda x: (sg.exp(x) * w34).sum(),
         lambda: (normal(3, 4),)),
        ("tanh", 0, "tanh  tanh(x@W).sum()", lambda x, W: sg.tanh(x @ W).sum(),
         lambda: (normal(3, 4), normal(4, 2))),
        ("sigmoid", 0, "sigmoid  (sigmoid(x)*w).sum()", lambda x: (sg.sigmoid(x) * w34).sum(),
         lambda: (2 * normal(3, 4),)),
        ("matmul", 0, "matmul  tanh(a@b).sum(), rule for a", lambda a, b: sg.tanh(a @ b).sum(),
         lambda: (normal(3, 4), normal(4, 2))),
        ("sum", 0, "sum(dim=1)  (x.sum(1)*w).mean()", lambda x: (x.sum(dim=1) * w3).mean(),
         lambda: (normal(3, 4),)),
        ("log_softmax", 0, "log_softmax  NLL of log_softmax(x)",
         lambda x: -(F.log_softmax(x, dim=1) * onehot).sum(), lambda: (3 * normal(3, 4),)),
    ]
    for op, arg, label, prog, make_inputs in scaled_targets:
        inputs = make_inputs()
        for d in DELTAS:
            cases.append(Case(f"{label}  x(1+{d:.0e})", "scaled", prog, inputs,
                              scaled(op, arg, d)))

    # ---- wrong in one region of the input only
    cases.append(Case(
        "tanh' := 0 where |x| > 8 (saturation shortcut)", "region",
        lambda x: (sg.tanh(x) * w4).sum(), (np.array([-9.5, -1.0, 0.3, 8.5]),),
        replace_rule("tanh", 0, lambda xp, g, ans, x: xp.where(
            xp.greater(xp.abs(x), 8.0), 0 * g, g * (1 - ans * ans)))))
    cases.append(Case(
        "sigmoid' := 0 where x > 15 (saturation shortcut)", "region",
        lambda x: (sg.sigmoid(x) * w4).sum(), (np.array([16.0, -2.0, 0.5, 18.0]),),
        replace_rule("sigmoid", 0, lambda xp, g, ans, x: xp.where(
            xp.greater(x, 15.0), 0 * g, g * ans * (1 - ans)))))
    cases.append(Case(
        "exp' off by 1% where x > 2", "region",
        lambda x: (sg.exp(x) * w4).sum(), (np.array([-1.0, 0.5, 2.5, 1.9]),),
        replace_rule("exp", 0, lambda xp, g, ans, x: xp.where(
            xp.greater(x, 2.0), g * ans * 1.01, g * ans))))
    cases.append(Case(
        "log' off by 1e-6 (relative) where x < 0.1", "region",
        lambda x: (sg.log(x) * w4).sum(), (np.array([0.05, 0.5, 2.0, 7.0]),),
        replace_rule("log", 0, lambda xp, g, ans, x: xp.where(
            xp.less(x, 0.1), g / x * (1 + 1e-6), g / x))))

    # ---- sign flips
    cases.append(Case(
        "sub: rule for y returns +g", "sign",
        lambda x, y: ((x - y) * (x - y) * w34).sum(), (normal(3, 4), normal(3, 4)),
        replace_rule("sub", 1, lambda xp, g, ans, x, y, alpha=1: g)))
    cases.append(Case(
        "sin' := -cos(x)", "sign",
        lambda x: (sg.sin(x) * w34).sum(), (normal(3, 4),),
        replace_rule("sin", 0, lambda xp, g, ans, x: -g * xp.cos(x))))
    cases.append(Case(
        "div: rule for y loses its minus sign", "sign",
        lambda x, y: (x / y).sum(), (normal(3, 4), rng.uniform(1.0, 2.0, (3, 4))),
        replace_rule("div", 1, lambda xp, g, ans, x, y: g * x / (y * y))))
    cases.append(Case(
        "abs' := +1 (sign lost where x < 0)", "sign",
        lambda x: (sg.abs(x) * w34).sum(), (normal(3, 4),),
        replace_rule("abs", 0, lambda xp, g, ans, x: g)))

    # ---- broadcast reductions
    def bias_mean(xp: Any, g: Any, ans: Any, x: Any, y: Any, alpha: Any = 1) -> Any:
        return xp.sum(g, axis=0) / g.shape[0] if g.ndim > np.ndim(y) else g

    def bias_last_row(xp: Any, g: Any, ans: Any, x: Any, y: Any, alpha: Any = 1) -> Any:
        return g[-1] if g.ndim > np.ndim(y) else g

    layer_inputs = (normal(4, 3), normal(3, 2), normal(2))
    cases.append(Case(
        "add: bias grad is the mean over the batch, not the sum", "broadcast",
        lambda x, W, b: sg.tanh(x @ W + b).sum(), layer_inputs,
        replace_rule("add", 1, bias_mean)))
    cases.append(Case(
        "add: bias grad from the last batch row (overwritten)", "broadcast",
        lambda x, W, b: sg.tanh(x @ W + b).sum(), layer_inputs,
        replace_rule("add", 1, bias_last_row)))
    cases.append(Case(
        "sum(dim=1): rule drops the unsqueeze (square x)", "broadcast",
        lambda x: (x.sum(dim=1) * w3).mean(), (normal(3, 3),),
        replace_rule("sum", 0, lambda xp, g, ans, x, dim=None, keepdim=False: g)))
    cases.append(Case(
        "log_softmax: rule forgets the sum over dim", "broadcast",
        lambda x: -(F.log_softmax(x, dim=1) * onehot).sum(), (normal(3, 4),),
        replace_rule("log_softmax", 0, lambda xp, g, ans, x, *, dim: g - xp.exp(ans) * g)))

    # ---- forward and mirror disagree
    cases.append(Case(
        "tanh mirror + 1e-12 (forward and rule right)", "mirror",
        lambda x: (sg.tanh(x) * w34).sum(), (normal(3, 4),),
        lambda: planted("tanh", mirror=lambda x: sp.tanh(x) + sp.Rational(1, 10**12))))
    cases.append(Case(
        "exp mirror x(1+1e-9)", "mirror",
        lambda x: (sg.exp(x) * w34).sum(), (normal(3, 4),),
        lambda: planted("exp", mirror=lambda x: sp.exp(x) * sp.Rational(10**9 + 1, 10**9))))
    cases.append(Case(
        "sigmoid forward x(1+1e-9)", "forward",
        lambda x: (sg.sigmoid(x) * w34).sum(), (normal(3, 4),),
        lambda: planted("sigmoid", forward=lambda xp, x: xp.sigmoid(x) * (1 + 1e-9))))
    cases.append(Case(
        "softplus forward linear from x > 10 (not 20)", "forward",
        lambda x: (F.softplus(x) * w4).sum(), (np.array([12.0, 15.0, -1.0, 3.0]),),
        lambda: planted("softplus", forward=lambda xp, x, beta=1.0, threshold=20.0: xp.where(
            xp.greater(x * beta, 10.0), x, xp.softplus(x * beta) / beta))))

    # ---- controls: correct rules at extreme inputs
    logits = np.array([30.0, -30.0, 700.0, -700.0, 0.5, -2.0])
    w6 = const(rng.uniform(0.5, 1.5, 6))
    y6 = const([0.0, 1.0, 1.0, 0.0, 0.5, 1.0])
    rows = np.array([[700.0, -700.0, 0.0, 1.0], [30.0, -30.0, 29.5, 0.0],
                     [-700.0, -699.0, -701.0, -700.5]])
    controls: list[tuple[str, Program, tuple[np.ndarray, ...]]] = [
        ("sigmoid at logits +-30, +-700", lambda z: (sg.sigmoid(z) * w6).sum(), (logits,)),
        ("softplus at logits +-30, +-700", lambda z: (F.softplus(z) * w6).sum(), (logits,)),
        ("BCE-with-logits at logits +-30, +-700",
         lambda z: F.binary_cross_entropy_with_logits(z, y6), (logits,)),
        ("log_softmax (NLL) at logits +-30, +-700",
         lambda x: -(F.log_softmax(x, dim=1) * onehot).sum(), (rows,)),
        ("softmax at logits +-30, +-700", lambda x: (F.softmax(x, dim=1) * onehot).sum(),
         (rows,)),
        ("logsumexp(dim=1) at logits +-30, +-700",
         lambda x: (sg.logsumexp(x, dim=1) * w3).sum(), (rows,)),
        ("tanh at +-20, +-400", lambda z: (sg.tanh(z) * w4).sum(),
         (np.array([20.0, -20.0, 400.0, -400.0]),)),
        ("exp at -700, 700, 709", lambda z: sg.exp(z).sum(), (np.array([-700.0, 700.0, 709.0]),)),
        ("log + sqrt at 1e-300, 1e-200", lambda x: (sg.log(x) + sg.sqrt(x)).sum(),
         (np.array([1e-300, 1e-200, 3e-250]),)),
        ("log + sqrt at 1e300", lambda x: (sg.log(x) + sg.sqrt(x)).sum(),
         (np.array([1e300, 4e299]),)),
        ("x*x at 1e100, -3e150", lambda x: (x * x).sum(), (np.array([1e100, -3e150]),)),
        ("x / y at 1e300 / 1e-5", lambda x, y: (x / y).sum() * 1e-20,
         (np.array([1e300, -2e299]), np.array([1e5, 3e5]))),
        ("BCE (probabilities) at 1e-12 and 1 - 1e-12",
         lambda p: F.binary_cross_entropy(p, const([0.0, 1.0, 1.0, 0.0])),
         (np.array([1e-12, 1 - 1e-12, 0.3, 0.9]),)),
        ("tutorial: BCE-with-logits(x@w + b) at ordinary inputs",
         lambda w, b: F.binary_cross_entropy_with_logits(sg.ones(5) @ w + b, sg.zeros(3)),
         (normal(5, 3), normal(3))),
    ]
    for name, prog, inputs in controls:
        cases.append(Case(name, "extreme" if "ordinary" not in name else "ordinary",
                          prog, inputs))
    return cases


# ================================================================ the checkers
def _leaves(inputs: tuple[np.ndarray, ...]) -> list[sg.Tensor]:
    return [sg.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in inputs]


def _vjp(out: sg.Tensor, leaves: list[sg.Tensor], ct: np.ndarray) -> list[np.ndarray]:
    grads = sg.autograd.grad(out, leaves, grad_outputs=sg.tensor(ct), retain_graph=True,
                             allow_unused=True)
    return [np.zeros(leaf.shape) if gr is None else np.array(gr.numpy(), dtype=np.float64)
            for gr, leaf in zip(grads, leaves)]


def check_symgrad(case: Case, res: Result) -> tuple[bool, str]:
    out_size = int(np.size(case.program(*[sg.tensor(a) for a in case.inputs]).numpy()))
    mode = "gradient" if out_size == 1 else "jacobian"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = verify.check(case.program, *case.inputs, mode=mode)
    bad = sorted({r.verdict for r in report.rows if not r.ok})
    res.verdicts = bad + (["finding"] if report.findings else [])
    where = f" at {report.findings[0].node}" if report.findings else ""
    return (not report.ok), (", ".join(bad) + where if bad or where else "agree")


def check_central(case: Case) -> tuple[bool, str]:
    """gradcheck's slow mode by hand: analytical vs central-difference Jacobian."""
    leaves = _leaves(case.inputs)
    with sg.enable_grad():
        out = case.program(*leaves)
    oshape = tuple(out.shape)
    n_out = int(np.prod(oshape))

    def f(arrays: list[np.ndarray]) -> np.ndarray:
        with sg.no_grad():
            return np.array(case.program(*[sg.tensor(a) for a in arrays]).numpy(),
                            dtype=np.float64).reshape(-1)

    worst = 0.0
    failed = False
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analytical = []
        for k in range(n_out):
            ct = np.zeros(n_out)
            ct[k] = 1.0
            analytical.append(_vjp(out, leaves, ct.reshape(oshape)))
        for i, x in enumerate(case.inputs):
            for j in range(x.size):
                plus = [np.array(a, dtype=np.float64) for a in case.inputs]
                minus = [np.array(a, dtype=np.float64) for a in case.inputs]
                plus[i].reshape(-1)[j] += EPS
                minus[i].reshape(-1)[j] -= EPS
                numerical = (f(plus) - f(minus)) / (2 * EPS)          # column: d out / d x_j
                a = np.array([analytical[k][i].reshape(-1)[j] for k in range(n_out)])
                err = np.abs(a - numerical)
                bound = ATOL + RTOL * np.abs(numerical)
                if not np.all(err <= bound):
                    failed = True
                ratio = err / bound
                worst = max(worst, float(np.nanmax(ratio)) if np.isfinite(ratio).any()
                            else float("inf"))
                if np.isnan(ratio).any():
                    worst = float("inf")
    return failed, f"max |a-n|/(atol+rtol|n|) = {worst:.3g}"


def _torch_function(torch: Any) -> Any:
    class SymgradFn(torch.autograd.Function):
        """A symgrad program as a torch op: symgrad forward, symgrad (mutated) backward."""

        @staticmethod
        def forward(ctx: Any, program: Program, *xs: Any) -> Any:
            leaves = [sg.tensor(x.detach().numpy().copy(), requires_grad=True) for x in xs]
            with sg.enable_grad():
                out = program(*leaves)
            ctx.symgrad = (out, leaves)
            return torch.from_numpy(np.array(out.detach().numpy(), dtype=np.float64))

        @staticmethod
        def backward(ctx: Any, gout: Any) -> Any:
            out, leaves = ctx.symgrad
            grads = _vjp(out, leaves, gout.detach().numpy().astype(np.float64).copy())
            return (None, *(torch.from_numpy(g) for g in grads))

    return SymgradFn


def check_torch(case: Case, torch: Any, fn_class: Any) -> tuple[bool, str]:
    """torch.autograd.gradcheck with its defaults on the symgrad program (torch op)."""
    from torch.autograd.gradcheck import GradcheckError, gradcheck

    xs = tuple(torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in case.inputs)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ok = gradcheck(lambda *t: fn_class.apply(case.program, *t), xs)
            return (not ok), "passed"
        except GradcheckError as e:
            return True, " ".join(str(e).split())[:90]


def run_case(case: Case, torch: Any, fn_class: Any) -> Result:
    res = Result(case)
    checkers: list[tuple[str, Callable[[], tuple[bool, str]]]] = [
        ("symgrad", lambda: check_symgrad(case, res)),
        ("central", lambda: check_central(case)),
    ]
    if torch is not None:
        checkers.append(("gradcheck", lambda: check_torch(case, torch, fn_class)))
    for key, run in checkers:
        ctx = case.mutation() if case.mutation else contextlib.nullcontext()
        try:
            with ctx:
                flag, note = run()
        except Exception as e:  # a crash while checking is a flag too
            flag, note = True, f"error: {type(e).__name__}: {e}"[:90]
            res.errors[key] = True
        res.flags[key] = flag
        res.notes[key] = note
    if torch is None:
        res.flags["gradcheck"] = None
        res.notes["gradcheck"] = "PyTorch not installed"
    return res


# ================================================================ output
CHECKERS = (("symgrad", "symgrad"), ("central", "central diff"), ("gradcheck", "torch gradcheck"))


def _cell(res: Result, key: str) -> str:
    flag = res.flags.get(key)
    if flag is None:
        return "-"
    star = "*" if res.errors.get(key) else ""
    if res.case.is_mutant:
        return "caught" + star if flag else "MISSED"
    return "FALSE ALARM" + star if flag else "ok"


#: symgrad's verdicts that blame the code (a rule or a forward), not float64
BLAME = ("rule mismatch", "forward mismatch", "finding")


def _rule_level(r: Result) -> bool:
    return bool(r.errors.get("symgrad")) or any(v in BLAME for v in r.verdicts)


def summary(results: list[Result]) -> dict[str, dict[str, int | None]]:
    """Per checker: mutants caught, false alarms, and how many of those flags were crashes.
    ``symgrad_rule`` counts only symgrad's verdicts that blame a rule or a forward."""
    out: dict[str, dict[str, int | None]] = {}
    mutants = [r for r in results if r.case.is_mutant]
    controls = [r for r in results if not r.case.is_mutant]
    views: list[tuple[str, Callable[[Result], bool | None]]] = [
        (key, lambda r, key=key: r.flags.get(key)) for key, _ in CHECKERS]
    views.append(("symgrad_rule", _rule_level))
    for key, flag in views:
        base = key.split("_")[0]
        if any(flag(r) is None for r in results):
            out[key] = {"caught": None, "mutants": len(mutants), "false_alarms": None,
                        "controls": len(controls), "errors": None}
            continue
        out[key] = {"caught": sum(bool(flag(r)) for r in mutants), "mutants": len(mutants),
                    "false_alarms": sum(bool(flag(r)) for r in controls),
                    "controls": len(controls),
                    "errors": sum(bool(r.errors.get(base)) for r in results)}
    return out


def table(results: list[Result]) -> str:
    w = max(len(r.case.name) for r in results)
    head = (f"{'case':<{w}}  {'kind':<9}  {'symgrad':<11}  {'central diff':<12}  "
            f"{'torch gradcheck':<15}  symgrad says")
    lines = [head, "-" * len(head)]
    for r in results:
        kind = r.case.family
        lines.append(f"{r.case.name:<{w}}  {kind:<9}  {_cell(r, 'symgrad'):<11}  "
                     f"{_cell(r, 'central'):<12}  {_cell(r, 'gradcheck'):<15}  "
                     f"{r.notes.get('symgrad', '')}")
    return "\n".join(lines)


def family_table(results: list[Result]) -> str:
    """Flags per family of cases: mutants caught, or false alarms on the controls."""
    keys = [k for k, _ in CHECKERS if all(r.flags.get(k) is not None for r in results)]
    head = f"{'family':<10} {'cases':>5}  {'counts':<12}" + "".join(
        f"  {dict(CHECKERS)[k]:>15}" for k in keys)
    lines = [head, "-" * len(head)]
    for fam in dict.fromkeys(r.case.family for r in results):
        rs = [r for r in results if r.case.family == fam]
        what = "caught" if rs[0].case.is_mutant else "false alarms"
        cells = "".join(f"  {sum(bool(r.flags[k]) for r in rs):>15}" for k in keys)
        lines.append(f"{fam:<10} {len(rs):>5}  {what:<12}{cells}")
    return "\n".join(lines)


def summary_lines(s: dict[str, dict[str, int | None]]) -> list[str]:
    labels = dict(CHECKERS)
    labels["symgrad_rule"] = "symgrad, counting only 'rule/forward mismatch' as a flag"
    lines = []
    for key, label in labels.items():
        d = s[key]
        if d["caught"] is None:
            lines.append(f"{label}: not run (PyTorch not installed)")
            continue
        crashed = f" ({d['errors']} by raising an exception)" if d["errors"] else ""
        lines.append(f"{label}: caught {d['caught']}/{d['mutants']} mutants, "
                     f"{d['false_alarms']} false alarm{'' if d['false_alarms'] == 1 else 's'} "
                     f"on {d['controls']} correct cases{crashed}")
    lines.append("* the checker raised an exception on this case (counted as a flag)")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--no-torch", action="store_true", help="skip torch.autograd.gradcheck")
    p.add_argument("--case", default=None, help="only cases whose name contains this")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 if symgrad misses a mutant or raises a false alarm")
    args = p.parse_args(argv)

    torch = fn_class = None
    if not args.no_torch:
        try:
            import torch as _torch
            torch = _torch
            torch.set_num_threads(1)
            fn_class = _torch_function(torch)
        except ImportError:
            torch = None

    start = time.perf_counter()
    cases = [c for c in build_corpus() if args.case is None or args.case in c.name]
    results = [run_case(c, torch, fn_class) for c in cases]
    elapsed = time.perf_counter() - start
    s = summary(results)

    if args.json:
        print(json.dumps({
            "settings": {"eps": EPS, "atol": ATOL, "rtol": RTOL, "deltas": list(DELTAS),
                         "torch": None if torch is None else torch.__version__},
            "cases": [{"name": r.case.name, "family": r.case.family,
                       "mutant": r.case.is_mutant, "flags": r.flags, "notes": r.notes}
                      for r in results],
            "summary": s, "elapsed_s": round(elapsed, 2)}, indent=2))
    else:
        print(table(results))
        print()
        print(family_table(results))
        print()
        for line in summary_lines(s):
            print(line)
        print(f"central differences: eps={EPS:g}, atol={ATOL:g}, rtol={RTOL:g} "
              "(torch.autograd.gradcheck's defaults)")
        torch_note = f"torch {torch.__version__}" if torch is not None else "no torch"
        print(f"{len(results)} cases, {torch_note}, elapsed {elapsed:.1f} s")

    sym = s["symgrad"]
    symgrad_perfect = sym["caught"] == sym["mutants"] and sym["false_alarms"] == 0
    return 1 if args.strict and not symgrad_perfect else 0


if __name__ == "__main__":
    sys.exit(main())
