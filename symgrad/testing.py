"""Assertions for test suites: ``assert_gradients_match`` fails with the verifier's table,
naming the op that is wrong; ``assert_close`` is PyTorch's numeric comparison.

>>> import symgrad as sg
>>> from symgrad.testing import assert_gradients_match
>>> _ = assert_gradients_match(lambda w: (w * w).sum(), sg.tensor([1.0, 2.0]))
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from symgrad._assert_close import assert_close
from symgrad.tensor import Tensor
from symgrad.verify.check import check
from symgrad.verify.report import Report

__all__ = ["assert_close", "assert_gradients_match", "assert_rules_hold"]


def assert_gradients_match(fn: Callable[..., Tensor], *inputs: Any, **kwargs: Any) -> Report:
    """Run ``verify.check(fn, *inputs, **kwargs)``; raise AssertionError unless it agrees.

    The message is the full report: each input's verdict and errors, and for a wrong rule
    the node, argument, shapes, expected closed form and both values.
    """
    __tracebackhide__ = True   # pytest: the failure points at the caller's line
    report = check(fn, *inputs, **kwargs)
    if not report.ok:
        raise AssertionError("symgrad: derivatives disagree with the exact ones\n" +
                             report.table())
    return report


def assert_rules_hold(*ops: str, points: int = 20) -> None:
    """Raise AssertionError unless every named op's rule is proved or agrees."""
    __tracebackhide__ = True
    from symgrad.verify.rules import check_rules

    bad = [r for r in check_rules(list(ops) or None, points=points) if not r.ok]
    if bad:
        raise AssertionError("symgrad: rules disagree with their mirrors:\n" + "\n".join(
            f"  {r.op}: {r.detail}" for r in bad))
