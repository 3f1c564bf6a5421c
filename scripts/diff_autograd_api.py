"""Run every program of tests/autograd_api_programs.py in PyTorch and in symgrad and list
the ones whose outcomes (values, hook logs, exception types) differ.

    PYTHONPATH=. python scripts/diff_autograd_api.py [-v] [NAME ...]
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import autograd_api_programs as progs  # noqa: E402


def main(argv: list[str]) -> int:
    import torch

    import symgrad

    verbose = "-v" in argv
    names = [a for a in argv if not a.startswith("-")] or list(progs.PROGRAMS)
    torch.set_default_dtype(torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        diffs = progs.compare_all(torch, symgrad, names)
    for name, (t, s) in diffs.items():
        print(f"DIFF {name}\n  torch:   {t}\n  symgrad: {s}")
    if verbose:
        for name in names:
            if name not in diffs:
                print(f"same {name}: {progs.outcome(symgrad, progs.PROGRAMS[name])}")
    print(f"{len(names) - len(diffs)} of {len(names)} programs agree")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
