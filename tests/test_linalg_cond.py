"""``linalg.cond`` against PyTorch's values for every norm; its gradient (PyTorch 2.13's
own backward fails here, on an in-place change of inv's output) against the exact one."""

import numpy as np
import pytest

import symgrad as sg

A = np.array([[2.0, 0.5, 0.1], [0.5, 3.0, 0.2], [0.1, 0.2, 1.5]])


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, np.inf, -np.inf])
def test_cond_as_pytorch(torch, p):
    batch = np.stack([A, A.T @ A + np.eye(3)])
    got = sg.linalg.cond(sg.tensor(batch), p).numpy()
    want = torch.linalg.cond(torch.tensor(batch), p).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-13)


@pytest.mark.parametrize("p", [1, np.inf, "fro"])
def test_cond_gradient_is_exact(p):
    report = sg.verify.check(lambda a: sg.linalg.cond(a, p), sg.tensor(A))
    assert report.ok, report.table()


def test_cond_refuses_a_gradient_through_singular_values():
    with pytest.raises(NotImplementedError, match="singular"):
        sg.linalg.cond(sg.tensor(A, requires_grad=True))
