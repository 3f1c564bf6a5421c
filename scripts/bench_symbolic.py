"""Verifier and closed-form speed against naive SymPy (issue 6, symbolic part).

    python scripts/bench_symbolic.py [--quick] [--limit SECONDS] [--json] [--only CASE]
                                     [--columns check,closed,naive]

Three workloads, each at three sizes:

* ``linear``: ``F.binary_cross_entropy_with_logits(sg.matmul(x, w) + b, y)`` with x of
  length n, w n x m, b m (5x3, 50x30, 200x100);
* ``jacobian``: the full Jacobian of ``(inp + 1) ** 2`` at ``inp = eye(k)`` (k = 5, 10, 20,
  i.e. up to a 400 x 400 Jacobian);
* ``mlp``: ``F.cross_entropy(tanh(x @ w1) @ w2, labels)`` for a batch x of b rows and d
  features, h hidden units and k classes ("b x d x h x k"): the gradient at 4x10x8x3 (104
  parameters) and 8x20x16x3 (368), and the full Hessian ("H", ``check(order=2)``,
  ``symbolic.hessian``, ``diff`` twice) at 4x6x4x3 (36 parameters).

Columns, all wall-clock seconds measured in this run:

* ``check``: ``symgrad.verify.check`` (mode "gradient" resp. "jacobian"), the whole
  verifier (exact derivative, high-precision rules, comparison, verdicts);
* ``+ text``: then ``str(report)``, which builds the closed forms the report shows (check
  leaves them to the first read: no verdict needs them);
* ``closed form``: symgrad's symbolic side alone: ``symbolic.mirror`` + ``symbolic.gradient``
  (``jacobian``) + exact evaluation at the point (``symbolic.evaluate``);
* ``naive``: the baseline of the issue: the loss built as one SymPy expression of symbols
  ``w_ij, b_j`` (resp. ``a_ij``), then per parameter ``sympy.diff`` + ``sympy.lambdify``
  (mpmath, 50 digits) evaluated at the point (resp. ``sympy.Matrix.jacobian`` + one
  ``lambdify``);
* ratios to ``naive``; ``same``: whether the closed-form values (rounded to float64) equal
  the naive ones bit for bit.

Each measurement runs in a forked subprocess and is cut after ``--limit`` seconds (default
120); it is then reported as "> limit". Before the timed call, the subprocess runs the same
column on the smallest workload (1x1, resp. k = 1) untimed, so first-use costs (lazy
imports, SymPy's caches) are not charged to one size: every column is measured warm.
The verdicts of ``check`` are shown too, so a speed-up that changes one is visible.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import mpmath  # noqa: E402
import sympy  # noqa: E402

import symgrad as sg  # noqa: E402
from symgrad import symbolic  # noqa: E402
from symgrad.nn import functional as F  # noqa: E402
from symgrad.verify import check  # noqa: E402

LINEAR_SIZES = [(5, 3), (50, 30), (200, 100)]
JACOBIAN_SIZES = [5, 10, 20]
DIGITS = 50


# ---------------------------------------------------------------- workloads

def linear_point(n: int, m: int):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n)
    w = rng.standard_normal((n, m)) / np.sqrt(n)
    b = rng.standard_normal(m) * 0.1
    y = (rng.random(m) > 0.5).astype(np.float64)
    return x, w, b, y


def linear_fn(x, y):
    xt, yt = sg.tensor(x), sg.tensor(y)

    def fn(w, b):
        return F.binary_cross_entropy_with_logits(sg.matmul(xt, w) + b, yt)

    return fn


def jac_fn(inp):
    return (inp + 1) ** 2


def linear_check(n: int, m: int) -> dict:
    x, w, b, y = linear_point(n, m)
    return _read(check(linear_fn(x, y), sg.tensor(w), sg.tensor(b)))


def linear_closed(n: int, m: int) -> dict:
    x, w, b, y = linear_point(n, m)
    wt = sg.tensor(w, requires_grad=True)
    bt = sg.tensor(b, requires_grad=True)
    out = linear_fn(x, y)(wt, bt)
    expr = symbolic.mirror(out, names={"w": wt, "b": bt})
    gw, gb = symbolic.gradient(expr, [wt, bt])
    vals = np.concatenate([symbolic.evaluate(gw, digits=DIGITS).reshape(-1),
                           symbolic.evaluate(gb, digits=DIGITS).reshape(-1)])
    return {"values": vals.tolist()}


def linear_naive(n: int, m: int) -> dict:
    x, w, b, y = linear_point(n, m)
    W = [[sympy.Symbol(f"w_{i}_{j}") for j in range(m)] for i in range(n)]
    B = [sympy.Symbol(f"b_{j}") for j in range(m)]
    X = [sympy.Rational(v) for v in x]
    Y = [sympy.Rational(v) for v in y]
    terms = []
    for j in range(m):
        z = sympy.Add(*[X[i] * W[i][j] for i in range(n)]) + B[j]
        s = 1 / (1 + sympy.exp(-z))
        terms.append(-(Y[j] * sympy.log(s) + (1 - Y[j]) * sympy.log(1 - s)))
    loss = sympy.Add(*terms) / m
    params = [W[i][j] for i in range(n) for j in range(m)] + B
    with mpmath.workdps(DIGITS + 10):
        point = [mpmath.mpf(v) for v in w.reshape(-1)] + [mpmath.mpf(v) for v in b]
        vals = []
        for p in params:
            f = sympy.lambdify(params, sympy.diff(loss, p), "mpmath")
            vals.append(float(f(*point)))
    return {"values": vals}


def _read(rep) -> dict:
    """The verdicts, and how long the report's text takes to build (not check's time)."""
    t0 = time.perf_counter()
    str(rep)
    return {"verdicts": [r.verdict for r in rep.rows], "text": time.perf_counter() - t0}


def jac_check(k: int) -> dict:
    return _read(check(jac_fn, sg.tensor(np.eye(k)), mode="jacobian"))


def jac_closed(k: int) -> dict:
    inp = sg.tensor(np.eye(k), requires_grad=True)
    expr = symbolic.mirror(jac_fn(inp), names={"inp": inp})
    j = symbolic.jacobian(expr, inp)
    return {"values": symbolic.evaluate(j, digits=DIGITS).reshape(-1).tolist()}


def jac_naive(k: int) -> dict:
    A = sympy.Matrix(k, k, lambda i, j: sympy.Symbol(f"a_{i}_{j}"))
    syms = list(A)
    out = sympy.Matrix([(a + 1) ** 2 for a in syms])
    J = out.jacobian(syms)
    f = sympy.lambdify(syms, J, "mpmath")
    with mpmath.workdps(DIGITS + 10):
        vals = f(*[mpmath.mpf(v) for v in np.eye(k).reshape(-1)])
        return {"values": [float(v) for v in vals]}


def mlp_point(b: int, d: int, h: int, k: int):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((b, d))
    labels = np.arange(b) % k
    w1 = rng.standard_normal((d, h)) / np.sqrt(d)
    w2 = rng.standard_normal((h, k)) / np.sqrt(h)
    return x, labels, w1, w2


def mlp_fn(x, labels):
    xt, lt = sg.tensor(x), sg.tensor(labels)

    def fn(w1, w2):
        return F.cross_entropy(sg.tanh(xt @ w1) @ w2, lt)

    return fn


def mlp_check(order: int, *size: int) -> dict:
    x, labels, w1, w2 = mlp_point(*size)
    return _read(check(mlp_fn(x, labels), sg.tensor(w1), sg.tensor(w2), order=order))


def mlp_closed(order: int, *size: int) -> dict:
    x, labels, w1, w2 = mlp_point(*size)
    t1, t2 = sg.tensor(w1, requires_grad=True), sg.tensor(w2, requires_grad=True)
    expr = symbolic.mirror(mlp_fn(x, labels)(t1, t2), names={"w1": t1, "w2": t2})
    meta = symbolic.info(expr)
    syms = np.concatenate([meta.symbols_of(t1).reshape(-1), meta.symbols_of(t2).reshape(-1)])
    d = (symbolic.gradient(expr, sg.Tensor._wrap(syms)) if order == 1 else
         symbolic.hessian(expr, sg.Tensor._wrap(syms)))
    return {"values": symbolic.evaluate(d, digits=DIGITS).reshape(-1).tolist()}


def mlp_naive(order: int, *size: int) -> dict:
    x, labels, w1, w2 = mlp_point(*size)
    b, d = x.shape
    h, k = w2.shape
    W1 = [[sympy.Symbol(f"u_{i}_{j}") for j in range(h)] for i in range(d)]
    W2 = [[sympy.Symbol(f"v_{i}_{j}") for j in range(k)] for i in range(h)]
    X = [[sympy.Rational(v) for v in row] for row in x]
    terms = []
    for r in range(b):
        hid = [sympy.tanh(sum(X[r][i] * W1[i][j] for i in range(d))) for j in range(h)]
        z = [sum(hid[j] * W2[j][c] for j in range(h)) for c in range(k)]
        terms.append(sympy.log(sum(sympy.exp(zc) for zc in z)) - z[labels[r]])
    loss = sympy.Add(*terms) / b
    params = [s for row in W1 for s in row] + [s for row in W2 for s in row]
    with mpmath.workdps(DIGITS + 10):
        point = [mpmath.mpf(v) for v in np.concatenate([w1.reshape(-1), w2.reshape(-1)])]
        vals = []
        firsts = [sympy.diff(loss, p) for p in params]
        exprs = firsts if order == 1 else [sympy.diff(f, q) for f in firsts for q in params]
        for e in exprs:
            vals.append(float(sympy.lambdify(params, e, "mpmath")(*point)))
    return {"values": vals}


CASES = {
    "linear": (linear_check, linear_closed, linear_naive),
    "jacobian": (jac_check, jac_closed, jac_naive),
    "mlp": (mlp_check, mlp_closed, mlp_naive),
}
MLP_SIZES = [(1, (4, 10, 8, 3)), (1, (8, 20, 16, 3)), (2, (4, 6, 4, 3))]


# ---------------------------------------------------------------- measurement

WARM_ARGS = {"linear": (1, 1), "jacobian": (1,), "mlp": (1, 1, 1, 1, 2)}


def _child(conn, fn, args, warm=None) -> None:
    try:
        if warm is not None:
            fn(*warm)
        t0 = time.perf_counter()
        res = fn(*args)
        res["time"] = time.perf_counter() - t0 - res.get("text", 0.0)
        conn.send(res)
    except Exception as e:  # noqa: BLE001 - reported in the table
        conn.send({"error": f"{type(e).__name__}: {e}"})
    finally:
        conn.close()


def measure(fn, args, limit: float, warm=None) -> dict:
    """``fn(*args)`` in a forked process (after an untimed ``fn(*warm)``); its result dict
    with "time", or {"timeout": True}."""
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(send, fn, args, warm))
    p.start()
    send.close()
    res = None
    if recv.poll(limit):
        try:
            res = recv.recv()
        except EOFError:
            res = None
    if res is None:
        p.terminate()
        p.join()
        return {"timeout": p.exitcode is not None and p.exitcode < 0, "error": None
                if p.exitcode is None or p.exitcode < 0 else f"exit {p.exitcode}"}
    p.join()
    return res


def _fmt_time(r: dict, limit: float) -> str:
    if r.get("timeout"):
        return f"> {limit:g}"
    if r.get("error") == "not measured":
        return "-"
    if r.get("error"):
        return "error"
    return f"{r['time']:.3f}"


def _ratio(a: dict, b: dict) -> str:
    if "time" not in a or "time" not in b:
        return "-"
    return f"{a['time'] / b['time']:.3g}"


def _same(a: dict, b: dict) -> str:
    if "values" not in a or "values" not in b:
        return "-"
    return "yes" if a["values"] == b["values"] else "NO"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="only the smallest size of each case")
    ap.add_argument("--limit", type=float, default=120.0,
                    help="seconds per measurement before it is cut (default 120)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--only", choices=sorted(CASES), help="run one workload only")
    ap.add_argument("--columns", default="check,closed,naive",
                    help="comma-separated columns to measure (default: all three)")
    args = ap.parse_args(argv)
    columns = set(args.columns.split(","))
    if not columns <= {"check", "closed", "naive"}:
        ap.error(f"--columns takes check, closed and naive, got {args.columns!r}")

    plan = []
    if args.only in (None, "linear"):
        plan += [("linear", f"{n}x{m}", (n, m)) for n, m in LINEAR_SIZES[:1 if args.quick else 3]]
    if args.only in (None, "jacobian"):
        plan += [("jacobian", f"k={k} ({k * k}x{k * k})", (k,))
                 for k in JACOBIAN_SIZES[:1 if args.quick else 3]]
    if args.only in (None, "mlp"):
        plan += [("mlp", f"{'x'.join(map(str, sz))}{' H' if order == 2 else ''}",
                  (order,) + sz) for order, sz in MLP_SIZES[:1 if args.quick else 3]]

    rows = []
    for case, label, cargs in plan:
        fc, fs, fn = CASES[case]
        r = {"case": case, "size": label}
        for key, f in (("check", fc), ("closed", fs), ("naive", fn)):
            if key not in columns:
                r[key] = {"error": "not measured"}
                continue
            r[key] = measure(f, cargs, args.limit, WARM_ARGS[case])
            if not args.json:
                print(f"  {case} {label} {key}: {_fmt_time(r[key], args.limit)}",
                      file=sys.stderr, flush=True)
        rows.append(r)

    if args.json:
        out = []
        for r in rows:
            d = {"case": r["case"], "size": r["size"]}
            for key in ("check", "closed", "naive"):
                m = r[key]
                d[key] = {"time": m.get("time"), "timeout": bool(m.get("timeout")),
                          "error": m.get("error")}
                if "verdicts" in m:
                    d[key]["verdicts"] = m["verdicts"]
                    d[key]["text_time"] = m.get("text")
            d["closed_equals_naive"] = _same(r["closed"], r["naive"])
            out.append(d)
        print(json.dumps({"limit": args.limit, "results": out}, indent=2))
        return 0

    head = (f"{'case':<9} {'size':<16} {'check s':>9} {'+ text s':>9} {'closed s':>9} "
            f"{'naive s':>9} {'check/naive':>11} {'closed/naive':>12} {'same':>5}  verdicts")
    print(head)
    print("-" * len(head))
    for r in rows:
        verdicts = ",".join(r["check"].get("verdicts", [])) or "-"
        text = f"{r['check']['text']:.3f}" if "text" in r["check"] else "-"
        print(f"{r['case']:<9} {r['size']:<16} {_fmt_time(r['check'], args.limit):>9} {text:>9} "
              f"{_fmt_time(r['closed'], args.limit):>9} {_fmt_time(r['naive'], args.limit):>9} "
              f"{_ratio(r['check'], r['naive']):>11} {_ratio(r['closed'], r['naive']):>12} "
              f"{_same(r['closed'], r['naive']):>5}  {verdicts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
