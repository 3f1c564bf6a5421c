"""pytest plugin (entry point ``pytest11``): the ``symgrad_check`` fixture.

    def test_my_loss(symgrad_check):
        symgrad_check(lambda w: my_loss(w), w0)

The fixture fails the test with the verifier's report when derivatives disagree, and
returns the report otherwise.
"""

from __future__ import annotations

import pytest

__all__ = ["symgrad_check"]


@pytest.fixture
def symgrad_check():
    """A callable ``(fn, *inputs, **kwargs) -> Report`` that fails the test on disagreement."""
    from symgrad.testing import assert_gradients_match

    def run(fn, *inputs, **kwargs):
        try:
            return assert_gradients_match(fn, *inputs, **kwargs)
        except AssertionError as e:
            pytest.fail(str(e), pytrace=False)

    return run
