"""Fixtures shared by the test modules."""

import pytest


@pytest.fixture
def mutate():
    """Temporarily replace attributes of op records (restored after the test)."""
    saved = []

    def set_(op, **kw):
        for k, v in kw.items():
            saved.append((op, k, getattr(op, k)))
            setattr(op, k, v)

    yield set_
    for op, k, v in reversed(saved):
        setattr(op, k, v)
