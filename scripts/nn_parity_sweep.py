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


def main() -> int:
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    only = sys.argv[1:]
    bad = 0
    for c in sweep.CASES:
        if only and not any(o in c.name for o in only):
            continue
        for aspect, (s, t) in sweep.compare(c).items():
            bad += 1
            print(f"{c.name:45s} {aspect:8s} symgrad={_short(s)}\n{'':54s} torch={_short(t)}")
    for u in sweep.MISUSES:
        if only and not any(o in u.name for o in only):
            continue
        d = sweep.compare_misuse(u)
        if d:
            bad += 1
            print(f"{u.name:45s} misuse   symgrad={d[0]!r:.200}\n{'':54s} torch={d[1]!r:.200}")
    for mc in msweep.MODULES:
        if only and not any(o in mc.name for o in only):
            continue
        for aspect, (s, t) in msweep.compare_module(mc).items():
            bad += 1
            print(f"{mc.name:45s} {aspect:8s} symgrad={_short(s)}\n{'':54s} torch={_short(t)}")
    print(f"{len(sweep.CASES)} cases, {len(sweep.MISUSES)} misuses, "
          f"{len(msweep.MODULES)} modules, {bad} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
