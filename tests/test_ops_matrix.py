"""symgrad.ops.matrix: det and inverse (records), matrix_power with negative powers:
values and gradients against PyTorch, the exact cofactor gradient at singular matrices
(where PyTorch returns 0), second derivatives, errors."""

import numpy as np
import pytest

import symgrad as sg
from symgrad import verify
from symgrad.ops import OPS
from torch_parity import compare

T = sg.tensor


def _r(*shape, seed=0):
    return np.random.default_rng(seed + len(shape)).standard_normal(shape)


CASES = {
    "det": (lambda m, a: m.det(a), _r(3, 3)),
    "det_batched": (lambda m, a: a.det(), _r(2, 4, 4)),
    "inverse": (lambda m, a: m.inverse(a), _r(3, 3)),
    "inverse_batched": (lambda m, a: a.inverse(), _r(2, 2, 2)),
    "matrix_power_-3": (lambda m, a: m.matrix_power(a, -3), _r(3, 3) + 3 * np.eye(3)),
}




@pytest.mark.parametrize("key", sorted(CASES))
def test_matches_pytorch(key, torch):
    f, data = CASES[key]
    compare(torch, f, [data], rtol=1e-12, atol=1e-13, names=key.startswith(("det", "inverse")))


def test_det_at_a_singular_matrix_has_the_exact_gradient(torch):
    # d det / dA is the cofactor matrix, [[4, -2], [-2, 1]] here; PyTorch returns 0
    a = T([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    sg.det(a).backward()
    np.testing.assert_allclose(a.grad.numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-14)
    t = torch.tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    torch.det(t).backward()
    assert not t.grad.abs().sum().item()
    rep = verify.check(lambda x: sg.det(x), a.detach())
    assert rep.ok, rep.table()


def test_det_gradient_of_rank_deficient_matrices():
    # rank n - 2: every minor of size n - 1 vanishes, so the gradient is 0
    a = T([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]], requires_grad=True)
    sg.det(a).backward()
    np.testing.assert_allclose(a.grad.numpy(), np.zeros((3, 3)), atol=1e-13)
    b = T([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]], requires_grad=True)
    sg.det(b).backward()
    np.testing.assert_allclose(b.grad.numpy(), [[4, 4, -4], [-2, -2, 2], [0, 0, 0]], atol=1e-13)


def test_second_derivatives_and_the_verifier():
    a = T(_r(3, 3))
    for f in (lambda x: sg.det(x) ** 2, lambda x: (sg.inverse(x) * x.T).sin().sum(),
              lambda x: sg.matrix_power(x, -2).sum()):
        rep = verify.check(f, a, order=2)
        assert rep.ok, rep.table()


def test_records_and_errors():
    assert OPS["det"].grad_fn == "LinalgDetBackward0" and OPS["inverse"].mirror is not None
    with pytest.raises(RuntimeError, match="singular"):
        sg.inverse(T([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(RuntimeError, match="square matrices"):
        sg.det(sg.ones(2, 3))
    with pytest.raises(RuntimeError, match="floating point"):
        sg.det(T([[1, 2], [3, 4]]))
    assert sg.det(sg.ones(0, 0)).item() == 1.0
    assert sg.inverse(sg.ones(0, 0)).shape == (0, 0)
