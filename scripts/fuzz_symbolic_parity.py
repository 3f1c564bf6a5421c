"""Random programs on symbolic tensors against the same programs written in SymPy.

    PYTHONPATH=. python scripts/fuzz_symbolic_parity.py [--seeds A:B] [--steps N]
                                                        [--no-hessian] [--limit SECONDS]

Each program (tests/symbolic_programs.py) chains N random ops (elementwise with kinks,
reductions, matmul, shape ops, softmax kin) on ``symbolic.symbols`` inputs and ends in a
loss; ``symbolic.gradient`` (every input), ``jacobian`` (the vector output by the first
input) and ``hessian`` are compared with ``sympy.diff`` / ``Matrix.jacobian`` /
``sympy.hessian`` of the SymPy form at a random rational point. Programs that take longer
than ``--limit`` seconds are skipped (and counted). Exit status 1 when any program differs.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import symbolic_programs as programs  # noqa: E402


class _Slow(Exception):
    pass


def _alarm(*_) -> None:
    raise _Slow


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", default="0:200", help="a range A:B of program seeds")
    p.add_argument("--steps", type=int, default=3, help="ops per program")
    p.add_argument("--no-hessian", action="store_true", help="skip the Hessians")
    p.add_argument("--limit", type=float, default=20.0, help="seconds per program")
    args = p.parse_args(argv)
    a, b = (int(x) for x in args.seeds.split(":"))
    signal.signal(signal.SIGALRM, _alarm)
    compared = differ = slow = 0
    t0 = time.perf_counter()
    for seed in range(a, b):
        signal.setitimer(signal.ITIMER_REAL, args.limit)
        try:
            out = programs.compare(seed, args.steps, hessian=not args.no_hessian, points=1)
        except _Slow:
            slow += 1
            continue
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        compared += out.compared
        if out.problems:
            differ += 1
            print(f"seed {seed} {out.steps}: {out.problems[:3]}")
    print(f"{b - a} programs, {compared} derivative entries compared, {differ} differ, "
          f"{slow} skipped (over {args.limit:g}s), {time.perf_counter() - t0:.0f}s")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
