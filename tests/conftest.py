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


@pytest.fixture
def torch64():
    """PyTorch with float64 as its default dtype during the test (skipped without torch);
    the previous default comes back after, so other modules' settings are kept."""
    torch = pytest.importorskip("torch")
    prev = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(prev)


@pytest.fixture(scope="module")
def torch():
    """PyTorch for the comparison tests of a module, float64 by default while the module
    runs (skipped without torch); the previous default comes back after the module."""
    torch = pytest.importorskip("torch")
    prev = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(prev)
