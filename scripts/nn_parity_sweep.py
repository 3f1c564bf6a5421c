"""Run the nn.functional parity sweep (tests/nn_parity_sweep.py) and print every aspect
where symgrad differs from PyTorch: ``PYTHONPATH=. python scripts/nn_parity_sweep.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import torch  # noqa: E402

import nn_module_parity_sweep as msweep  # noqa: E402
import nn_parity_sweep as sweep  # noqa: E402


def _short(v) -> str:
    if isinstance(v, list):
        return "[" + ", ".join("None" if a is None else f"{np.asarray(a).shape}"
                               for a in v) + "]"
    return repr(v)[:300]


def _report(cases, compare, only) -> int:
    """Print each aspect where symgrad and PyTorch differ; return how many."""
    bad = 0
    for c in cases:
        if only and not any(o in c.name for o in only):
            continue
        for aspect, (s, t) in compare(c).items():
            bad += 1
            print(f"{c.name:45s} {aspect:8s} symgrad={_short(s)}\n{'':54s} torch={_short(t)}")
    return bad


def main() -> int:
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    only = sys.argv[1:]
    bad = _report(sweep.CASES, sweep.compare, only)
    bad += _report(sweep.MISUSES, lambda u: dict(
        misuse=d) if (d := sweep.compare_misuse(u)) else {}, only)
    bad += _report(msweep.MODULES, msweep.compare_module, only)
    print(f"{len(sweep.CASES)} cases, {len(sweep.MISUSES)} misuses, "
          f"{len(msweep.MODULES)} modules, {bad} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
