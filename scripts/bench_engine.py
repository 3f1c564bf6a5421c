"""Engine speed and memory, side by side with numpy by hand and PyTorch eager (float64).

    python scripts/bench_engine.py [--quick] [--json]

Three workloads: the autograd tutorial's step (5x3 linear + BCE-with-logits, forward and
backward), an MLP step (64x784 -> 256 tanh -> 10, cross-entropy) and the same MLP at
2x3 -> 4 -> 10, where the engine's own overhead is all there is to measure. For each, every
engine runs in the same process, interleaved, and the median of several timing rounds
is reported with the ratio to the baseline. Peak memory is what tracemalloc sees numpy
allocate during one step (numpy reports its buffers to tracemalloc; PyTorch's do not
show, so it has no memory column).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from collections.abc import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import symgrad as sg  # noqa: E402
from symgrad.nn import functional as F  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:  # PyTorch is optional: its column is left out
    torch = None


def calibrate(fn: Callable[[], object], min_time: float) -> int:
    """How many calls of ``fn`` take about ``min_time`` seconds."""
    fn()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - t0
        if t >= min_time / 4:
            return max(1, int(n * min_time / t))
        n *= 2


def timeit(fns: dict[str, Callable[[], object]], rounds: int, min_time: float) -> dict:
    """Median over ``rounds`` of the mean time per call, rounds interleaved across ``fns``
    so that a slow spell of the machine hits every engine alike."""
    counts = {k: calibrate(f, min_time) for k, f in fns.items()}
    per: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            n = counts[k]
            gc.collect()
            t0 = time.perf_counter()
            for _ in range(n):
                f()
            per[k].append((time.perf_counter() - t0) / n)
    return {k: statistics.median(v) for k, v in per.items()}


def peak_bytes(fn: Callable[[], object]) -> int:
    fn()
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


# ------------------------------------------------------------------ tutorial step
def tutorial(seed: int = 0):
    rng = np.random.default_rng(seed)
    x, y = np.ones(5), np.zeros(3)
    w0, b0 = rng.standard_normal((5, 3)), rng.standard_normal(3)

    def by_hand():
        z = x @ w0 + b0
        # loss = mean(max(z,0) - z*y + log1p(exp(-|z|))), stable for any z
        loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
        dz = (1 / (1 + np.exp(-z)) - y) / z.size
        return loss, np.outer(x, dz), dz

    xs, ys = sg.tensor(x), sg.tensor(y)
    ws, bs = sg.tensor(w0, requires_grad=True), sg.tensor(b0, requires_grad=True)

    def fwd_sg():
        return F.binary_cross_entropy_with_logits(sg.matmul(xs, ws) + bs, ys)

    def step_sg():
        ws.grad = bs.grad = None
        fwd_sg().backward()

    out = {"by hand": by_hand, "symgrad": step_sg, "symgrad forward": fwd_sg}
    if torch is not None:
        xt, yt = torch.tensor(x), torch.tensor(y)
        wt, bt = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)

        def fwd_t():
            return torch.nn.functional.binary_cross_entropy_with_logits(
                torch.matmul(xt, wt) + bt, yt)

        def step_t():
            wt.grad = bt.grad = None
            fwd_t().backward()

        out["PyTorch"] = step_t
        out["PyTorch forward"] = fwd_t
    return out


# ------------------------------------------------------------------ MLP step
def mlp(seed: int = 0, batch: int = 64, features: int = 784, hidden: int = 256,
        classes: int = 10):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, features))
    labels = rng.integers(0, classes, batch)
    W1 = rng.standard_normal((features, hidden)) * 0.05
    b1 = np.zeros(hidden)
    W2 = rng.standard_normal((hidden, classes)) * 0.05
    b2 = np.zeros(classes)
    onehot = np.eye(classes)[labels]

    def by_hand():
        h = np.tanh(X @ W1 + b1)
        z = h @ W2 + b2
        m = z.max(axis=1, keepdims=True)
        e = np.exp(z - m)
        s = e.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(s[:, 0]) + m[:, 0] - z[np.arange(batch), labels])
        dz = (e / s - onehot) / batch
        gW2 = h.T @ dz
        gb2 = dz.sum(0)
        dh = (dz @ W2.T) * (1 - h * h)
        gW1 = X.T @ dh
        gb1 = dh.sum(0)
        return loss, gW1, gb1, gW2, gb2

    Xs, ls = sg.tensor(X), sg.tensor(labels)
    params = [sg.tensor(a, requires_grad=True) for a in (W1, b1, W2, b2)]

    def fwd_sg():
        w1, c1, w2, c2 = params
        h = sg.tanh(Xs @ w1 + c1)
        return F.cross_entropy(h @ w2 + c2, ls)

    def step_sg():
        for p in params:
            p.grad = None
        fwd_sg().backward()

    out = {"by hand": by_hand, "symgrad": step_sg, "symgrad forward": fwd_sg}
    if torch is not None:
        Xt, lt = torch.tensor(X), torch.tensor(labels)
        tparams = [torch.tensor(a, requires_grad=True) for a in (W1, b1, W2, b2)]

        def fwd_t():
            w1, c1, w2, c2 = tparams
            h = torch.tanh(Xt @ w1 + c1)
            return torch.nn.functional.cross_entropy(h @ w2 + c2, lt)

        def step_t():
            for p in tparams:
                p.grad = None
            fwd_t().backward()

        out["PyTorch"] = step_t
        out["PyTorch forward"] = fwd_t
    return out


def tiny(seed: int = 0):
    """The MLP step at 2x3 -> 4 tanh -> 10: the arithmetic is negligible, so this measures
    what the engine adds per op and per node (the MLP step pays it too, more slowly once
    its large products have evicted the interpreter's working set from the caches)."""
    return mlp(seed, batch=2, features=3, hidden=4)


def check_same(fns) -> None:
    """The engines must compute the same loss before their speed means anything."""
    ref = fns["by hand"]()[0]
    got = fns["symgrad forward"]().item()
    if not np.isclose(ref, got, rtol=1e-12):
        raise SystemExit(f"symgrad's loss {got} differs from numpy's {ref}")
    if "PyTorch forward" in fns:
        t = fns["PyTorch forward"]().item()
        if not np.isclose(ref, t, rtol=1e-12):
            raise SystemExit(f"PyTorch's loss {t} differs from numpy's {ref}")


def run(quick: bool) -> dict:
    rounds, min_time = (5, 0.1) if quick else (15, 0.2)
    results = {}
    for name, make in (("tutorial step", tutorial), ("MLP step", mlp), ("tiny MLP step", tiny)):
        fns = make()
        check_same(fns)
        times = timeit(fns, rounds, min_time)
        row = {"seconds": times}
        row["symgrad / by hand"] = times["symgrad"] / times["by hand"]
        if "PyTorch" in times:
            row["symgrad / PyTorch"] = times["symgrad"] / times["PyTorch"]
            row["PyTorch backward / forward"] = (
                (times["PyTorch"] - times["PyTorch forward"]) / times["PyTorch forward"])
        row["symgrad backward / forward"] = (
            (times["symgrad"] - times["symgrad forward"]) / times["symgrad forward"])
        peak_hand, peak_sg = peak_bytes(fns["by hand"]), peak_bytes(fns["symgrad"])
        row["peak bytes"] = {"by hand": peak_hand, "symgrad": peak_sg}
        row["peak symgrad / by hand"] = peak_sg / peak_hand
        results[name] = row
    return results


def show(results: dict) -> None:
    print(f"symgrad {sg.__version__}, numpy {np.__version__}"
          + (f", torch {torch.__version__} (1 thread)" if torch is not None else ", no torch")
          + f", python {sys.version.split()[0]}")
    for name, row in results.items():
        t = row["seconds"]
        cols = "  ".join(f"{k}: {v * 1e6:,.1f} us" for k, v in t.items())
        print(f"\n{name}\n  {cols}")
        for k, v in row.items():
            if k not in ("seconds", "peak bytes"):
                print(f"  {k:<28} {v:6.2f}")
        pb = row["peak bytes"]
        print(f"  peak memory: by hand {pb['by hand'] / 1024:,.0f} KiB, "
              f"symgrad {pb['symgrad'] / 1024:,.0f} KiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer, shorter timing rounds")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()
    results = run(args.quick)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        show(results)


if __name__ == "__main__":
    main()
