"""The built-in cases, the tutorial's cells first, all agree."""

import pytest

from symgrad.verify import cases


@pytest.mark.parametrize("name", list(cases.CASES))
def test_case_agrees(name):
    result = cases.run(name)
    assert result.ok, result.details()


def test_tutorial_cases_come_first():
    assert list(cases.CASES)[:5] == ["tutorial_linear_bce", "tutorial_requires_grad_later",
                                     "tutorial_no_grad_detach", "tutorial_jacobian",
                                     "tutorial_implicit_scalar"]
