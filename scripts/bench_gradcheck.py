"""gradcheck speed: symgrad's exact check against PyTorch's finite differences.

    python scripts/bench_gradcheck.py [--repeat N]

``symgrad.autograd.gradcheck`` compares every Jacobian entry with the exact derivative
(the verifier's full Jacobian mode); PyTorch's ``torch.autograd.gradcheck`` compares it
with central differences (when torch is installed, measured in the same run on the same
inputs, float64). Cases: the documentation's ``linear`` example (inputs 20x20 and 30x20),
a 20x20 matrix product and an elementwise ``tanh(a) * a`` on 20x20. Wall-clock seconds,
best of ``--repeat`` runs (default 3), each in this one process after an untimed warm-up
on 2x2 inputs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import symgrad as sg  # noqa: E402
from symgrad.nn import functional as F  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:  # PyTorch is optional: its column is left out
    torch = None


def cases(m, nn_f, n: int = 20) -> dict:
    """name -> (function, input arrays) for module ``m`` (symgrad or torch)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    w = rng.standard_normal((int(1.5 * n), n))
    return {
        f"F.linear, {n}x{n} and {int(1.5 * n)}x{n} (documentation)": (nn_f.linear, (a, w)),
        f"matmul {n}x{n} @ {n}x{n}": (lambda x, y: x @ y, (a, b)),
        f"tanh(a) * a, {n}x{n}": (lambda x: m.tanh(x) * x, (a,)),
    }


def best_time(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        ok = run()
        times.append(time.perf_counter() - t0)
        if ok is not True:
            raise SystemExit(f"gradcheck returned {ok!r}")
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    engines = {"symgrad": (sg, F, sg.autograd.gradcheck)}
    if torch is not None:
        engines["PyTorch"] = (torch, torch.nn.functional, torch.autograd.gradcheck)
    for m, nn_f, gradcheck in engines.values():   # warm-up: lazy imports, first-use caches
        for fn, arrays in cases(m, nn_f, 2).values():
            gradcheck(fn, tuple(m.tensor(x, dtype=m.float64, requires_grad=True)
                                for x in arrays))
    print(f"{'case':<44}" + "".join(f"{k:>12}" for k in engines) + "   symgrad / PyTorch")
    for name in cases(sg, F):
        row = {}
        for k, (m, nn_f, gradcheck) in engines.items():
            fn, arrays = cases(m, nn_f)[name]
            inputs = tuple(m.tensor(x, dtype=m.float64, requires_grad=True) for x in arrays)
            row[k] = best_time(lambda: gradcheck(fn, inputs, eps=1e-6, atol=1e-4),
                               args.repeat)
        ratio = f"{row['symgrad'] / row['PyTorch']:8.1f}x" if "PyTorch" in row else ""
        print(f"{name:<44}" + "".join(f"{v:11.3f}s" for v in row.values()) + "   " + ratio)


if __name__ == "__main__":
    main()
