"""Failed factorizations as PyTorch reports them: ``linalg.LinAlgError`` (a RuntimeError)
with LAPACK's pivot or minor in the message, per batch element; the ``_ex`` forms return
that ``info`` (and LAPACK's partial Cholesky factor) instead of raising."""

import numpy as np
import pytest

import symgrad as sg

SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])
INDEFINITE = np.array([[1.0, 2.0], [2.0, 1.0]])
GOOD = INDEFINITE.T @ INDEFINITE + np.eye(2)
SINGULAR3 = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])

RAISING = {
    "inv": lambda m, a: m.linalg.inv(a),
    "inverse": lambda m, a: m.inverse(a),
    "solve": lambda m, a: m.linalg.solve(a, m.ones(a.shape[:-1], dtype=a.dtype)),
    "cholesky": lambda m, a: m.linalg.cholesky(a),
    "inv_ex": lambda m, a: m.linalg.inv_ex(a, check_errors=True),
    "cholesky_ex": lambda m, a: m.linalg.cholesky_ex(a, check_errors=True),
    "lu_factor": lambda m, a: m.linalg.lu_factor(a),
}
INPUTS = {"singular": SINGULAR, "indefinite": INDEFINITE, "singular3": SINGULAR3,
          "batch": np.stack([GOOD, SINGULAR]), "batch_indefinite": np.stack([GOOD, INDEFINITE])}


def _outcome(m, fn, a):
    try:
        fn(m, m.tensor(a))
    except RuntimeError as e:
        return (isinstance(e, m.linalg.LinAlgError), str(e).replace("torch.linalg", "linalg"))
    return "ok"


@pytest.mark.parametrize("name", sorted(RAISING))
@pytest.mark.parametrize("data", sorted(INPUTS))
def test_failures_raise_as_pytorch(torch, name, data):
    a = INPUTS[data]
    got, want = _outcome(sg, RAISING[name], a), _outcome(torch, RAISING[name], a)
    assert got == want


@pytest.mark.parametrize("data", sorted(INPUTS))
def test_ex_forms_report_info_as_pytorch(torch, data):
    a = INPUTS[data]
    res = []
    for m in (sg, torch):
        t = m.tensor(a)
        chol = m.linalg.cholesky_ex(t)
        res.append([chol.info.tolist(), chol.L.numpy(), m.linalg.inv_ex(t).info.tolist(),
                    m.linalg.solve_ex(t, m.ones(a.shape[:-1], dtype=t.dtype)).info.tolist(),
                    m.linalg.lu_factor_ex(t).info.tolist(), type(chol).__name__])
    for u, v in zip(*res):
        if isinstance(u, np.ndarray):
            np.testing.assert_allclose(u, v, rtol=1e-14)
        else:
            assert u == v


def test_linalg_error_is_a_runtime_error():
    assert issubclass(sg.linalg.LinAlgError, RuntimeError)
    with pytest.raises(sg.linalg.LinAlgError):
        sg.linalg.inv(sg.tensor(SINGULAR))
