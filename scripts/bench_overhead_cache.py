"""Why the MLP step's overhead exceeds the tiny step's: the same interpreter work, timed
alone and right after numpy's large products.

    python scripts/bench_overhead_cache.py [--rounds N]

Runs (a) the numpy-by-hand MLP step of ``bench_engine.py``, (b) six symgrad tiny steps
(2x3 -> 4 -> 10, pure engine overhead), (c) the MLP step with those six tiny steps
interleaved after its products and (d) with them appended at its end. If the tiny steps
cost the same inside the MLP step as alone, the MLP step's gap to numpy is the engine's
overhead measured on the tiny step; if they cost more, the large products evict the
interpreter's working set from the caches and the same work runs slower there.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_engine  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    tiny = bench_engine.tiny()["symgrad"]
    rng = np.random.default_rng(0)
    batch, features, hidden, classes = 64, 784, 256, 10
    X = rng.standard_normal((batch, features))
    labels = rng.integers(0, classes, batch)
    W1 = rng.standard_normal((features, hidden)) * 0.05
    b1 = np.zeros(hidden)
    W2 = rng.standard_normal((hidden, classes)) * 0.05
    b2 = np.zeros(classes)
    onehot = np.eye(classes)[labels]

    def step(between=lambda: None, after=lambda: None):
        h = np.tanh(X @ W1 + b1)
        between()
        z = h @ W2 + b2
        between()
        m = z.max(axis=1, keepdims=True)
        e = np.exp(z - m)
        s = e.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(s[:, 0]) + m[:, 0] - z[np.arange(batch), labels])
        between()
        dz = (e / s - onehot) / batch
        gW2 = h.T @ dz
        between()
        dh = (dz @ W2.T) * (1 - h * h)
        between()
        gW1 = X.T @ dh
        between()
        after()
        return loss, gW1, dh.sum(0), gW2, dz.sum(0)

    def six():
        for _ in range(6):
            tiny()

    work = {"by hand": step, "6 tiny steps alone": six,
            "by hand + 6 tiny interleaved": lambda: step(between=tiny),
            "by hand + 6 tiny at the end": lambda: step(after=six)}
    times = {k: [] for k in work}
    for f in work.values():
        f()
    for _ in range(args.rounds):
        for k, f in work.items():
            t = time.perf_counter()
            for _ in range(50):
                f()
            times[k].append((time.perf_counter() - t) / 50 * 1e6)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"{k:<32} {v:9.1f} us")
    alone = med["6 tiny steps alone"]
    for k in ("by hand + 6 tiny interleaved", "by hand + 6 tiny at the end"):
        extra = med[k] - med["by hand"]
        print(f"{k}: the tiny steps cost {extra:.0f} us, {extra / alone:.2f}x their time alone")


if __name__ == "__main__":
    main()
