"""The verifier: numeric derivatives against exact ones, with verdicts and the failing op.

``check`` verifies one function at one point; ``check_rules`` proves every op's rule
against ``sympy.diff`` of its mirror; ``cases`` holds the built-in cases that
``symgrad verify`` runs, the autograd tutorial's cells first.
"""

from __future__ import annotations

import importlib
from typing import Any

from symgrad.verify.check import check
from symgrad.verify.compare import AGREE, FORWARD_MISMATCH, INACCURATE, KINK, MISMATCH
from symgrad.verify.report import Report

__all__ = ["check", "check_rules", "check_op", "Report", "cases", "AGREE", "MISMATCH",
           "INACCURATE", "KINK", "FORWARD_MISMATCH"]


def __getattr__(name: str) -> Any:
    if name == "cases":
        return importlib.import_module("symgrad.verify.cases")
    if name in ("check_rules", "RuleResult"):
        return getattr(importlib.import_module("symgrad.verify.rules"), name)
    if name == "check_op":
        return getattr(importlib.import_module("symgrad.verify.custom"), name)
    raise AttributeError(f"module 'symgrad.verify' has no attribute {name!r}")
